"""The Teams side of delivery: notices from the outbox become proactive posts and card updates.

Every post goes through `continue_conversation` on a stored conversation reference. What a post
needs later (the review card's conversation and activity id, for updating it in place) is returned
and kept as the outbox row's result. Connector failures worth retrying (429, 5xx, the network)
raise `TemporaryDeliveryError`; the dispatcher retries with backoff.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias

import aiohttp
from aiohttp import web
from botbuilder.core import MessageFactory, TurnContext
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationParameters,
    ConversationReference,
)
from msrest.exceptions import ClientRequestError, HttpOperationError

from adapters.web.keys import RUNTIME
from bot.domain import Actor, Letter, Notice, Project, RequestRecord
from bot.errors import PermanentDeliveryError, TemporaryDeliveryError
from bot.forms import answer_form
from bot.messages import (
    answer_notice,
    decided_for_requester,
    email_outcome_for_sender,
    notice_due,
    notice_on_behalf,
    summary_title,
    summary_views,
    timely_headline,
)
from bot.ports import Attempt, NoticeSink, Outbox, ServerStore
from bot.review import Viewer, review_view
from bot.service import IntakeService, open_question
from bot.text import Phrase, language_for, t

from . import cards
from .bot import PLATFORM, _attachment, letter_card_for, letter_card_key, plain_text, user_key
from .state import TEAMS

log = logging.getLogger("intake.teams.sink")

Post: TypeAlias = Activity | str


class TeamsSink(NoticeSink):
    platform = PLATFORM

    def __init__(self, app: web.Application) -> None:
        self.app = app

    @property
    def store(self) -> ServerStore:
        return self.app[RUNTIME].store

    @property
    def service(self) -> IntakeService:
        return self.app[RUNTIME].service

    async def deliver(self, notice: Notice, *, outbox: Outbox, attempt: Attempt | None = None) -> dict[str, Any] | None:
        handlers: dict[str, Callable[[Notice, Outbox], Awaitable[dict[str, Any] | None]]] = {
            "review_card": self.review_card,
            "card_update": self.card_update,
            "question": self.question,
            "requester_notice": self.requester_notice,
            "answer": self.answer,
            "letter_draft": self.letter_draft,
            "letter_email_status": self.letter_email_status,
            **{kind: self.timely for kind in ("reminder", "escalation", "follow_up", "expired_pm")},
            "info_reminder": self.requester_reminder,
            "expired": self.requester_reminder,
            "daily_summary": self.daily_summary,
            "away": self.away,
        }
        handler = handlers.get(notice.kind, self.plain)
        try:
            return await handler(notice, outbox)
        except HttpOperationError as exc:  # the connector answered with an error status
            raise _delivery_error(exc) from None
        except (ClientRequestError, aiohttp.ClientError, ConnectionError) as exc:
            raise TemporaryDeliveryError(f"Teams connector unreachable: {exc}") from None

    # --- kinds -----------------------------------------------------------------------------------

    async def _review_card(self, notice: Notice) -> cards.Card:
        rec, project = _record(notice), await self._project(notice)
        return cards.request_card(review_view(rec, project, Viewer.review_channel(), now=self.service.clock.now()))

    async def review_card(self, notice: Notice, outbox: Outbox) -> dict[str, Any]:
        channel = await self._review_channel(notice)
        ref = await self.store.get_conversation_ref(PLATFORM, channel)
        if ref is None:
            await self._tell_requester_once(notice)
            raise TemporaryDeliveryError(
                f"no conversation reference for review channel {channel} yet (the bot must be added to it)",
                retry_after=self.app[TEAMS].waiting_retry,
            )
        card = await self._review_card(notice)
        return await self._post(ref, MessageFactory.attachment(_attachment(card)))

    async def card_update(self, notice: Notice, outbox: Outbox) -> dict[str, Any] | None:
        posted = await outbox.delivery_result(notice.ref or "", "review_card", PLATFORM)
        if not posted:
            # The review card never went out (it failed for good): post the current state instead.
            return await self.review_card(notice, outbox)
        card = await self._review_card(notice)
        ref = await self.store.get_conversation_ref(PLATFORM, posted["conversation_id"])
        if ref is None:
            raise PermanentDeliveryError(f"conversation {posted['conversation_id']} is no longer known")
        update = Activity(type=ActivityTypes.message, id=posted["activity_id"], attachments=[_attachment(card)])
        await self._update(ref, update)
        return posted

    async def question(self, notice: Notice, outbox: Outbox) -> dict[str, Any]:
        rec, project = _record(notice), await self._project(notice)
        requester = notice.recipient or rec.requester
        view = review_view(rec, project, Viewer.of(requester, rec, project))
        asker = rec.last_decision.actor.display if rec.last_decision else ""
        question = str(notice.data.get("question", ""))
        card = cards.question_card(view, question, asker, form=answer_form(rec, question, view.language))
        post = MessageFactory.attachment(_attachment(card))
        ref = await self._personal_ref(notice.recipient, notice)
        if ref is None:
            ref = await self._source_ref(notice)
        if ref is None:
            raise PermanentDeliveryError("no conversation to ask the requester in")
        return await self._post(ref, post)

    async def requester_notice(self, notice: Notice, outbox: Outbox) -> dict[str, Any] | None:
        rec, project = _record(notice), await self._project(notice)
        text = decided_for_requester(rec, language_for(project, notice.recipient))
        return await self.plain(notice, outbox, text=text)

    async def answer(self, notice: Notice, outbox: Outbox) -> dict[str, Any] | None:
        rec, project = _record(notice), await self._project(notice)
        text = answer_notice(rec, str(notice.data.get("answer", "")), language_for(project, notice.recipient))
        return await self.plain(notice, outbox, text=text)

    async def letter_draft(self, notice: Notice, outbox: Outbox) -> dict[str, Any]:
        """The letter goes only to the PM's personal chat, never to a channel."""
        ref = await self._personal_ref(notice.recipient, notice)
        if ref is None:
            raise TemporaryDeliveryError(
                "the PM has no personal chat with the bot yet; the letter waits until they open one",
                retry_after=max(60.0, self.app[TEAMS].waiting_retry),
            )
        assert notice.recipient is not None  # _personal_ref found a chat for them
        project = await self._project(notice)
        card = letter_card_for(
            self.app,
            notice.ref or "",
            notice.data["letter"],
            notice.data.get("talking_points") or "",
            pm=notice.recipient,
            lang=language_for(project, notice.recipient),
            tz=project.timezone,
        )
        return await self._post(ref, MessageFactory.attachment(_attachment(card)))

    async def letter_email_status(self, notice: Notice, outbox: Outbox) -> dict[str, Any] | None:
        """How the e-mail went, to the PM who pressed Send: the letter card again, with its new status on top."""
        letter = notice.data.get("letter")
        if notice.recipient is None or not isinstance(letter, dict) or not notice.ref:
            return await self.plain(notice, outbox)
        ref = await self._personal_ref(notice.recipient, notice)
        if ref is None:  # it is about the PM's letter: it waits for their private chat, like the letter did
            raise TemporaryDeliveryError(
                "the PM has no personal chat with the bot yet; the send status waits until they open one",
                retry_after=max(60.0, self.app[TEAMS].waiting_retry),
            )
        rec, project = _record(notice), await self._project(notice)
        lang = language_for(project, notice.recipient)
        stored = await self.service.get_request(notice.ref)
        talking_points = stored.letter.talking_points if stored.letter is not None else ""
        note = email_outcome_for_sender(rec, Letter.from_dict(letter), lang, project.timezone)
        card = letter_card_for(
            self.app, notice.ref, letter, talking_points, pm=notice.recipient, lang=lang, tz=project.timezone, note=note
        )
        # The card the PM pressed Send on says "queued": replace it, rather than leave it beside a new one.
        shown = await self.store.get_conversation_ref(PLATFORM, letter_card_key(notice.ref, notice.recipient.user_id))
        if shown and shown.get("activityId"):
            update = Activity(type=ActivityTypes.message, id=shown["activityId"], attachments=[_attachment(card)])
            try:
                await self._update(shown, update)
            except HttpOperationError as exc:
                if not isinstance(_delivery_error(exc), PermanentDeliveryError):
                    raise
                log.info("teams: the letter card of %s is gone (%s); posting a new one", notice.ref, exc)
            else:
                return {"conversation_id": shown["conversation"]["id"], "activity_id": shown["activityId"]}
        return await self._post(ref, MessageFactory.attachment(_attachment(card)))

    # --- time -----------------------------------------------------------------------------------

    async def timely(self, notice: Notice, outbox: Outbox) -> dict[str, Any] | None:
        """A reminder, an escalation, a follow-up or an expiry notice, in the person's chat with the bot:
        the request as a card with the buttons that person may use (an away PM's delegate: the PM's)."""
        ref = await self._personal_once(notice)
        if ref is None:
            return {"skipped": "the same person is reminded under their Teams id"}
        person = notice.recipient
        assert person is not None
        rec, project = _record(notice), await self._project(notice)
        for_pm = notice_on_behalf(notice.data)
        lang = language_for(project, person)
        now = self.service.clock.now()
        view = review_view(rec, project, Viewer.of(person, rec, project, on_behalf_of=for_pm), language=lang, now=now)
        head = timely_headline(notice.kind, rec, project, lang, on_behalf_of=for_pm, due=notice_due(notice.data))
        return await self._post(ref, MessageFactory.attachment(_attachment(cards.timely_card(head, view))))

    async def requester_reminder(self, notice: Notice, outbox: Outbox) -> dict[str, Any]:
        """The question's reminder, or its expiry, where the requester was asked, answerable on the card."""
        rec, project = _record(notice), await self._project(notice)
        requester = notice.recipient or rec.requester
        lang = language_for(project, requester)
        view = review_view(
            rec, project, Viewer.of(requester, rec, project), language=lang, now=self.service.clock.now()
        )
        head = timely_headline(notice.kind, rec, project, lang, due=notice_due(notice.data))
        question = open_question(rec)
        card = cards.question_card(view, question, "", form=answer_form(rec, question, lang))
        card["body"][0] = cards.text(head, weight="bolder")
        ref = await self._personal_ref(notice.recipient, notice) or await self._source_ref(notice)
        if ref is None:
            raise PermanentDeliveryError("no conversation to remind the requester in")
        return await self._post(ref, MessageFactory.attachment(_attachment(card)))

    async def daily_summary(self, notice: Notice, outbox: Outbox) -> dict[str, Any] | None:
        """A PM's daily summary in their chat with the bot: each request with its due date and buttons."""
        ref = await self._personal_once(notice)
        if ref is None:
            return {"skipped": "the same person gets the summary under their Teams id"}
        person = notice.recipient
        assert person is not None
        project = await self._project(notice)
        lang = language_for(project, person)
        sections = summary_views(notice.data, project, person, lang, self.service.clock.now())
        card = cards.summary_card(summary_title(project, lang), sections)
        return await self._post(ref, MessageFactory.attachment(_attachment(card)))

    async def away(self, notice: Notice, outbox: Outbox) -> dict[str, Any] | None:
        """A word about an absence (starting, ending) to the PM or their delegate."""
        ref = await self._personal_ref(notice.recipient, notice)
        if ref is None:
            raise TemporaryDeliveryError(
                "no personal chat with the bot yet; the message waits until they open one",
                retry_after=max(60.0, self.app[TEAMS].waiting_retry),
            )
        project = await self.service.project(notice.project) if notice.project else None
        text = Phrase.from_dict(notice.data["phrase"]).render(language_for(project, notice.recipient))
        return await self._post(ref, plain_text(text))

    async def _personal_once(self, notice: Notice) -> dict[str, Any] | None:
        """The recipient's chat with the bot, None when they are someone the same notice also reaches by
        their Teams id (a PM named both by e-mail and in `teams.pms`). Waits for a chat they have not
        opened yet, as the letter does."""
        ref = await self._personal_ref(notice.recipient, notice)
        if ref is None:
            raise TemporaryDeliveryError(
                "the person has no personal chat with the bot yet; the notice waits until they open one",
                retry_after=max(60.0, self.app[TEAMS].waiting_retry),
            )
        user = ref.get("user") or {}
        also = set(notice.data.get("also_to") or ())
        person = notice.recipient
        if person is not None and "@" in person.user_id and also & {user.get("id"), user.get("aadObjectId")}:
            return None
        return ref

    async def plain(self, notice: Notice, outbox: Outbox, *, text: str | None = None) -> dict[str, Any] | None:
        """Any other notice: its text, to the person, the requester's conversation, or the review channel."""
        ref = None
        if notice.audience == "person":
            ref = await self._personal_ref(notice.recipient, notice)
            if ref is None:
                ref = await self._review_thread_ref(notice, outbox)
        elif notice.audience == "requester":
            ref = await self._source_ref(notice) or await self._personal_ref(notice.recipient, notice)
        else:
            channel = await self._review_channel(notice)
            ref = await self.store.get_conversation_ref(PLATFORM, channel)
        if ref is None:
            raise PermanentDeliveryError(f"no Teams conversation to deliver {notice.kind} of {notice.ref} into")
        return await self._post(ref, plain_text(text or notice.text))

    # --- where to post ---------------------------------------------------------------------------

    async def _project(self, notice: Notice) -> Project:
        return await self.service.project(notice.project or notice.data["request"]["project"])

    async def _review_channel(self, notice: Notice) -> str:
        project = await self._project(notice)
        channel = (project.platforms.get(PLATFORM) or {}).get("review_channel")
        if not channel:
            raise PermanentDeliveryError(f"project {project.slug} has no teams.review_channel in its project file")
        return str(channel)

    async def _source_ref(self, notice: Notice) -> dict[str, Any] | None:
        """The thread the request was made in (or the chat, when there is no thread)."""
        source = notice.data.get("request", {}).get("source") or {}
        if source.get("platform") != PLATFORM or not source.get("channel"):
            return None
        ref = await self.store.get_conversation_ref(PLATFORM, source["channel"])
        return in_thread(ref, source["channel"], source.get("thread"))

    async def _review_thread_ref(self, notice: Notice, outbox: Outbox) -> dict[str, Any] | None:
        posted = await outbox.delivery_result(notice.ref or "", "review_card", PLATFORM)
        if not posted:
            return None
        ref = await self.store.get_conversation_ref(PLATFORM, posted["conversation_id"])
        return in_thread(ref, posted["conversation_id"], posted["activity_id"])

    async def _personal_ref(self, who: Actor | None, notice: Notice) -> dict[str, Any] | None:
        """The person's chat with the bot; opened (created) when we know their tenant but have no chat yet."""
        if who is None or who.platform != PLATFORM:
            return None
        ref = await self.store.get_conversation_ref(PLATFORM, user_key(who.user_id))
        if ref is not None or not who.user_id.startswith("29:"):
            return ref
        return await self._open_personal_chat(who, notice)

    async def _open_personal_chat(self, who: Actor, notice: Notice) -> dict[str, Any] | None:
        """Create a 1:1 chat (POST /v3/conversations), using the service URL and tenant of the review channel."""
        try:
            channel = await self._review_channel(notice)
        except PermanentDeliveryError:
            return None
        base = await self.store.get_conversation_ref(PLATFORM, channel)
        if base is None:
            return None
        state = self.app[TEAMS]
        tenant = (base.get("conversation") or {}).get("tenantId")
        params = ConversationParameters(
            is_group=False,
            bot=ChannelAccount().deserialize(base.get("bot") or {}),
            members=[ChannelAccount(id=who.user_id)],
            tenant_id=tenant,
            channel_data={"tenant": {"id": tenant}} if tenant else None,
        )
        created: dict[str, Any] = {}

        async def remember(turn_context: TurnContext) -> None:
            ref = TurnContext.get_conversation_reference(turn_context.activity).serialize()
            ref.pop("activityId", None)
            ref["conversation"] = {**(ref.get("conversation") or {}), "conversationType": "personal"}
            created.update(ref)

        await state.adapter.create_conversation(
            state.app_id,
            remember,
            params,
            channel_id=base.get("channelId") or "msteams",
            service_url=base["serviceUrl"],
        )
        if not created:
            return None
        now = self.service.clock.now()
        await self.store.save_conversation_ref(PLATFORM, created["conversation"]["id"], created, at=now)
        await self.store.save_conversation_ref(PLATFORM, user_key(who.user_id), created, at=now)
        return created

    async def _tell_requester_once(self, notice: Notice) -> None:
        async with self.store.transaction() as tx:
            first = await tx.claim_key(f"teams:review-channel-missing:{notice.ref}", at=self.service.clock.now())
        if not first:
            return
        ref = await self._source_ref(notice)
        if ref is None:
            return
        project = await self._project(notice)
        text = t(
            language_for(project, notice.recipient),
            "teams.review_channel_missing",
            ref=notice.ref,
            project=project.name,
        )
        try:
            await self._post(ref, plain_text(text))
        except Exception as exc:  # telling them is a courtesy; the card itself is what must not be lost
            log.warning("teams: could not tell the requester of %s about the missing channel: %s", notice.ref, exc)

    # --- the connector ---------------------------------------------------------------------------

    async def _post(self, ref: dict[str, Any], post: Post) -> dict[str, Any]:
        state = self.app[TEAMS]
        reference = ConversationReference().deserialize(ref)
        result: dict[str, Any] = {}

        async def send(turn_context: TurnContext) -> None:
            # A proactive post starts a new message (or thread), not a reply to the made-up continuation activity.
            turn_context.activity.id = None
            response = await turn_context.send_activity(post)
            result["activity_id"] = response.id if response else None

        await state.adapter.continue_conversation(reference, send, state.app_id)
        return {"conversation_id": reference.conversation.id, **result}

    async def _update(self, ref: dict[str, Any], activity: Activity) -> None:
        state = self.app[TEAMS]
        reference = ConversationReference().deserialize(ref)

        async def update(turn_context: TurnContext) -> None:
            activity.conversation = reference.conversation
            await turn_context.update_activity(activity)

        await state.adapter.continue_conversation(reference, update, state.app_id)


def _record(notice: Notice) -> RequestRecord:
    return RequestRecord.from_snapshot(notice.data["request"])


def in_thread(ref: dict[str, Any] | None, channel: str, message_id: str | None) -> dict[str, Any] | None:
    """A channel's reference pointed at one thread (Teams: `channel;messageid=ROOT`), for replies in it."""
    if ref is None or not message_id:
        return ref
    return {**ref, "conversation": {**ref["conversation"], "id": f"{channel};messageid={message_id}"}}


def _delivery_error(exc: HttpOperationError) -> Exception:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None) or 0
    headers = getattr(response, "headers", None) or {}
    retry_after: float | None = None
    try:
        retry_after = float(str(headers.get("Retry-After"))) if headers.get("Retry-After") else None
    except ValueError:
        retry_after = None
    if status == 429 or status >= 500 or status in (408,):
        return TemporaryDeliveryError(f"Teams connector answered {status}", retry_after=retry_after)
    return PermanentDeliveryError(f"Teams connector refused the post ({status}): {exc}")
