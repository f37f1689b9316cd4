"""The Teams bot: activities in, core commands out.

Text commands (`request …`, `scope`, `requests`, `answer …`, `help`) arrive as messages (in channels
only when the bot is @mentioned: the mention is stripped). Card buttons arrive either as an
`adaptiveCard/action` invoke (Action.Execute) or, on clients without Universal Actions, as a message
whose `value` holds the data (Action.Submit); both go through `card_action`, which returns a `Reply`
that each path renders its own way. Everything that must reach someone else (the review card, card
updates, the letter) goes through the outbox; only the answer to the person who acted is sent here.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from aiohttp import web
from botbuilder.core import InvokeResponse, MessageFactory, TurnContext
from botbuilder.core.teams import TeamsActivityHandler, TeamsInfo
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    Attachment,
    ChannelAccount,
)

from adapters.email.platform import email_for as email_sender
from adapters.identity import email_for
from adapters.web.keys import RUNTIME, SETTINGS
from bot.domain import Absence, Actor, Language, Project, RequestRecord, Source
from bot.errors import FormInvalid, IntakeError, InvalidInput, PermissionDenied, StorageUnavailable
from bot.forms import intake_form, letter_edit_form, parse_intake, text_of, with_values
from bot.mailing import LetterRecipients
from bot.messages import receipt, request_line, scope_summary
from bot.ports import ServerStore
from bot.projectfile import is_email
from bot.review import Action, Viewer, review_view
from bot.service import IntakeService, open_question
from bot.text import Phrase, from_locale, language_for, t
from bot.timekeeping import away_phrase

from . import cards
from .download import download_url

log = logging.getLogger("intake.teams")

PLATFORM = "teams"
MEMBER_LOOKUP_TIMEOUT = 2.0
LIST_SHOWN = 100  # open requests one `requests` answer lists (the rest are counted)
MESSAGE_CONTENT_TYPE = "application/vnd.microsoft.activity.message"
# Verbs that open a form; on the Action.Submit path the form is a new message (results replace the card).
FORM_OPENERS = {*(a.value for a in Action), "letter_edit", "letter_send"}


def base_conversation_id(conversation_id: str) -> str:
    """A channel thread's id is `19:…@thread.tacv2;messageid=123`; the channel's is the part before `;`."""
    return conversation_id.split(";", 1)[0]


def thread_id(conversation_id: str) -> str | None:
    m = re.search(r";messageid=([^;]+)", conversation_id)
    return m.group(1) if m else None


def user_key(user_id: str) -> str:
    """The key under which a user's personal chat with the bot is stored."""
    return f"user:{user_id}"


def letter_card_key(ref: str, user_id: str) -> str:
    """The key under which the letter card a PM pressed Send on is stored (its conversation and activity
    id), so that how the sending ended replaces that card instead of adding another."""
    return f"letter-card:{ref}:{user_id}"


@dataclass
class Reply:
    """What the person who acted sees: a card (a form or the updated card) or a short message."""

    card: cards.Card | None = None
    text: str | None = None


ACTIVITY_PREFIX = "teams:activity:"
ACTIVITY_KEEP = timedelta(days=1)
ACTIVITY_PRUNE_EVERY = timedelta(hours=1)


class IntakeTeamsBot(TeamsActivityHandler):
    def __init__(self, app: web.Application, *, wake: Callable[[], None]) -> None:
        self.app = app
        self.wake = wake
        self.keys_pruned_at: datetime | None = None  # when old activity ids were last forgotten

    # --- resources on the app ------------------------------------------------------------------

    @property
    def service(self) -> IntakeService:
        return self.app[RUNTIME].service

    @property
    def store(self) -> ServerStore:
        return self.app[RUNTIME].store

    # --- every turn ----------------------------------------------------------------------------

    async def on_turn(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if activity.conversation is not None and activity.conversation.id:
            await self.remember_conversation(turn_context)
        if activity.type in (ActivityTypes.message, ActivityTypes.invoke) and activity.id:
            key = f"{ACTIVITY_PREFIX}{base_conversation_id(activity.conversation.id)}:{activity.id}"
            now = self.service.clock.now()
            first = await self.store.claim_key_soon(key, at=now)
            await self._forget_old_activities(now)
            if not first:
                log.info("teams: activity %s was already processed; ignoring the retry", activity.id)
                if activity.type == ActivityTypes.invoke:
                    await turn_context.send_activity(
                        Activity(type=ActivityTypes.invoke_response, value=InvokeResponse(status=200))
                    )
                return
        await super().on_turn(turn_context)

    async def _forget_old_activities(self, now: datetime) -> None:
        """Forget activity ids older than `ACTIVITY_KEEP`, at most once per `ACTIVITY_PRUNE_EVERY`: the
        connector retries an activity within minutes, so an id a day old will never come back."""
        if self.keys_pruned_at is not None and now - self.keys_pruned_at < ACTIVITY_PRUNE_EVERY:
            return
        self.keys_pruned_at = now
        try:
            await self.store.forget_keys(ACTIVITY_PREFIX, before=now - ACTIVITY_KEEP)
        except StorageUnavailable as exc:
            log.warning("teams: could not forget old activity ids (%s); trying again later", exc)

    async def safe_turn(self, turn_context: TurnContext) -> None:
        """Run a turn; an unexpected failure is logged and the person gets an apology instead of silence."""
        try:
            await self.on_turn(turn_context)
        except Exception:
            log.exception("teams: failed to handle a %s activity", turn_context.activity.type)
            sorry = t(await self.language(turn_context), "teams.sorry")
            if turn_context.activity.type == ActivityTypes.invoke:
                value = InvokeResponse(status=200, body=invoke_body(Reply(text=sorry)))
                await turn_context.send_activity(Activity(type=ActivityTypes.invoke_response, value=value))
            elif turn_context.activity.type == ActivityTypes.message:
                try:
                    await turn_context.send_activity(plain_text(sorry))
                except Exception:
                    log.exception("teams: could not send the apology either")

    async def remember_conversation(self, turn_context: TurnContext) -> None:
        """Store where this conversation is, so notices can be posted into it later (proactively)."""
        activity = turn_context.activity
        ref = TurnContext.get_conversation_reference(activity).serialize()
        conv_id = base_conversation_id(activity.conversation.id)
        ref["conversation"]["id"] = conv_id
        ref.pop("activityId", None)
        now = self.service.clock.now()
        await self.store.save_conversation_ref(PLATFORM, conv_id, ref, at=now)
        if activity.conversation.conversation_type == "personal" and activity.from_property is not None:
            user = activity.from_property
            for uid in {user.id, getattr(user, "aad_object_id", None)} - {None, ""}:
                await self.store.save_conversation_ref(PLATFORM, user_key(str(uid)), ref, at=now)
            # Project files name PMs (and `escalate_to`, and delegates) by e-mail: reach them by it too.
            email = (await self.actor(turn_context)).email
            if email:
                await self.store.save_conversation_ref(PLATFORM, user_key(email), ref, at=now)
        self.wake()  # a notice may have been waiting for this conversation

    # --- who is acting -------------------------------------------------------------------------

    async def actor(self, turn_context: TurnContext, project: Project | None = None) -> Actor:
        """The person acting. Teams does not send e-mail addresses, so ask the connector (briefly).

        With a project, an AAD object id listed in its `teams.pms` is used as the id, so that either
        kind of id names a PM.
        """
        user = turn_context.activity.from_property or ChannelAccount(id="unknown")
        aad = getattr(user, "aad_object_id", None)
        cached = turn_context.turn_state.get("intake.email", ...)
        if cached is ...:
            # The address counts only for the account it was first seen with (the Entra object id).
            cached = await email_for(
                self.store,
                self.store,
                platform=PLATFORM,
                email=await self._lookup_email(turn_context, user.id),
                account=aad or user.id,
                at=self.service.clock.now(),
            )
            turn_context.turn_state["intake.email"] = cached
        email: str | None = cached
        user_id = user.id
        if project is not None and aad:
            listed = {str(p).lower() for p in (project.platforms.get(PLATFORM) or {}).get("pms", ())}
            if aad.lower() in listed and user.id.lower() not in listed:
                user_id = aad
        return Actor(PLATFORM, user_id, email=email, name=user.name or None, locale=turn_context.activity.locale)

    async def language(self, turn_context: TurnContext, project: Project | None = None) -> Language:
        """The language to answer in: the person's Teams language, else the project's team language, else
        the language the teams of every loaded project share."""
        own = from_locale(turn_context.activity.locale)
        if own is not None:
            return own
        if project is not None:
            return project.chat_language
        return await self.service.house_language()

    async def _lookup_email(self, turn_context: TurnContext, user_id: str) -> str | None:
        try:
            member = await asyncio.wait_for(TeamsInfo.get_member(turn_context, user_id), MEMBER_LOOKUP_TIMEOUT)
        except Exception as exc:  # the lookup is a nicety: without it, ids still identify people
            log.info("teams: could not look up the e-mail of %s: %s", user_id, exc)
            return None
        email = getattr(member, "email", None) or getattr(member, "user_principal_name", None)
        return str(email).lower() if email and "@" in str(email) else None

    # --- installation and membership -----------------------------------------------------------

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        await self.welcome(turn_context)

    async def on_teams_members_added(  # type: ignore[override]
        self, teams_members_added: list[Any], team_info: Any, turn_context: TurnContext
    ) -> None:
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        if any(m.id == bot_id for m in teams_members_added):
            await self.welcome(turn_context)
            await self.remember_team_channels(turn_context)

    async def on_teams_channel_created(  # type: ignore[override]
        self, channel_info: Any, team_info: Any, turn_context: TurnContext
    ) -> None:
        await self._remember_channels(turn_context, [channel_info.id])

    async def remember_team_channels(self, turn_context: TurnContext) -> None:
        """When the bot joins a team, store a reference for each of its channels.

        Teams tells the bot only about the team (its General channel); without this, the review channel
        would be reachable only after someone @mentioned the bot there.
        """
        team_id = TeamsInfo.get_team_id(turn_context)
        if not team_id:
            return
        try:
            client = await TeamsInfo.get_teams_connector_client(turn_context)
            # The SDK's Teams operations are synchronous (requests): keep them off the event loop.
            result = await asyncio.wait_for(asyncio.to_thread(client.teams.get_teams_channels, team_id), 10)
        except Exception as exc:  # best effort: a mention in the channel stores it too
            log.warning("teams: could not list the channels of team %s: %s", team_id, exc)
            return
        await self._remember_channels(turn_context, [c.id for c in result.conversations or [] if c.id])

    async def _remember_channels(self, turn_context: TurnContext, channel_ids: list[str]) -> None:
        ref = TurnContext.get_conversation_reference(turn_context.activity).serialize()
        ref.pop("activityId", None)
        now = self.service.clock.now()
        for channel in channel_ids:
            conversation = {**ref["conversation"], "id": channel, "isGroup": True, "conversationType": "channel"}
            await self.store.save_conversation_ref(PLATFORM, channel, {**ref, "conversation": conversation}, at=now)
        self.wake()

    async def welcome(self, turn_context: TurnContext) -> None:
        """Greet once in a personal chat (Teams sends both an installation and a membership update)."""
        conv = turn_context.activity.conversation
        if conv.conversation_type != "personal":
            return
        async with self.store.transaction() as tx:
            first = await tx.claim_key(f"teams:welcome:{conv.id}", at=self.service.clock.now())
        if first:
            lang = await self.language(turn_context)
            await turn_context.send_activity(t(lang, "teams.welcome") + "\n\n" + t(lang, "teams.help"))

    # --- text commands -------------------------------------------------------------------------

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if isinstance(activity.value, dict) and activity.value.get("intake"):
            reply = await self.card_action(turn_context, dict(activity.value))
            await self.render_submit_reply(turn_context, str(activity.value.get("intake")), reply)
            return
        text = TurnContext.remove_recipient_mention(activity) if activity.entities else (activity.text or "")
        text = re.sub(r"<[^>]+>", "", text or "").strip()
        name, _, rest = text.partition(" ")
        handler = self.commands.get(name.lower())
        if handler is None:
            await turn_context.send_activity(plain_text(t(await self.language(turn_context), "teams.unknown_command")))
            return
        try:
            await handler(turn_context, rest.strip())
        except IntakeError as exc:
            await turn_context.send_activity(plain_text(exc.say(await self.language(turn_context))))

    @property
    def commands(self) -> dict[str, Callable[[TurnContext, str], Awaitable[None]]]:
        return {
            "request": self.cmd_request,
            "scope": self.cmd_scope,
            "requests": self.cmd_requests,
            "answer": self.cmd_answer,
            "help": self.cmd_help,
            "away": self.cmd_away,
            "back": self.cmd_back,
            "需求": self.cmd_request,
            "范围": self.cmd_scope,
            "需求列表": self.cmd_requests,
            "回答": self.cmd_answer,
            "帮助": self.cmd_help,
            "外出": self.cmd_away,
            "回来": self.cmd_back,
        }

    async def cmd_help(self, turn_context: TurnContext, _: str) -> None:
        lang = await self.language(turn_context)
        await turn_context.send_activity(t(lang, "teams.help") + "\n\n" + t(lang, "teams.help_time"))

    async def cmd_away(self, turn_context: TurnContext, rest: str) -> None:
        """`away YYYY-MM-DD someone@company.example`: a PM is away until that day, and someone stands in."""
        lang = await self.language(turn_context)
        words = rest.split()
        if len(words) != 2:
            raise InvalidInput(t(lang, "away.usage.teams"))
        day, who = words
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
                raise ValueError(day)
            until = date.fromisoformat(day)
        except ValueError:
            raise InvalidInput(Phrase("err.away_bad_date", text=day)) from None
        email = who.strip("<>").removeprefix("mailto:").lower()
        if not is_email(email):
            raise InvalidInput(Phrase("err.away_unknown_delegate", who=who))
        delegate = Actor(PLATFORM, email, email=email)
        absence = await self.service.set_away(await self.actor(turn_context), until=until, delegate=delegate)
        self.wake()
        text = await self._away_text(lang, "away.set", absence)
        await turn_context.send_activity(plain_text(text + "\n" + t(lang, "away.back_hint", command="back")))

    async def cmd_back(self, turn_context: TurnContext, rest: str) -> None:
        lang = await self.language(turn_context)
        absence = await self.service.end_away(await self.actor(turn_context))
        self.wake()
        await turn_context.send_activity(plain_text(await self._away_text(lang, "away.back", absence)))

    async def _away_text(self, lang: Language, key: str, absence: Absence) -> str:
        projects = [p for p in await self.service.projects() if p.is_pm(absence.person)]
        return away_phrase(key, absence, projects).render(lang)

    async def _project(self, turn_context: TurnContext, slug: str | None) -> Project:
        channel = base_conversation_id(turn_context.activity.conversation.id)
        return await self.service.resolve_project(await self.actor(turn_context), slug=slug, channel=channel)

    async def cmd_request(self, turn_context: TurnContext, rest: str) -> None:
        slug = None
        m = re.match(r"^@([a-z0-9][a-z0-9-]*)\s*(.*)$", rest, re.S)
        if m:
            slug, rest = m.group(1), m.group(2)
        if not rest:
            projects = await self.service.projects()
            lang = await self.language(turn_context)
            spec = intake_form(lang, projects=projects, chosen=slug, words="")
            await turn_context.send_activity(MessageFactory.attachment(_attachment(cards.form_card(spec))))
            return
        rec, project = await self.submit(turn_context, rest, slug)
        await turn_context.send_activity(plain_text(receipt(rec, await self.language(turn_context, project))))

    async def submit(
        self, turn_context: TurnContext, text: str, slug: str | None, **more: Any
    ) -> tuple[RequestRecord, Project]:
        activity = turn_context.activity
        project = await self._project(turn_context, slug)
        conv_id = activity.conversation.id
        source = Source(
            PLATFORM,
            channel=base_conversation_id(conv_id),
            thread=thread_id(conv_id),
            message_id=activity.id,
        )
        rec = await self.service.submit_request(
            project=project.slug, actor=await self.actor(turn_context, project), text=text, source=source, **more
        )
        self.wake()
        return rec, project

    async def cmd_scope(self, turn_context: TurnContext, rest: str) -> None:
        project = await self._project(turn_context, rest.lstrip("@").strip() or None)
        await turn_context.send_activity(plain_text(scope_summary(project, await self.language(turn_context, project))))

    async def cmd_requests(self, turn_context: TurnContext, rest: str) -> None:
        project = await self._project(turn_context, rest.lstrip("@").strip() or None)
        lang = await self.language(turn_context, project)
        recs = await self.service.list_requests(project=project.slug, open_only=True, limit=LIST_SHOWN)
        lines = [request_line(r, lang) for r in recs] or [t(lang, "list.none_open_in", project=project.name)]
        if len(recs) == LIST_SHOWN:
            more = await self.service.count_requests(project=project.slug, open_only=True) - len(recs)
            if more > 0:
                lines.append(t(lang, "list.more", n=more))
        await turn_context.send_activity(plain_text("\n".join(lines)))

    async def cmd_answer(self, turn_context: TurnContext, rest: str) -> None:
        ref, _, text = rest.partition(" ")
        if not ref:
            raise InvalidInput(t(await self.language(turn_context), "teams.answer_usage"))
        rec = await self.service.answer(ref, actor=await self.actor(turn_context), text=text)
        self.wake()
        project = await self.service.project(rec.project)
        lang = await self.language(turn_context, project)
        await turn_context.send_activity(plain_text(t(lang, "notice.answer_thanks", ref=rec.ref)))

    # --- card buttons --------------------------------------------------------------------------

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        """Answer `adaptiveCard/action` (Action.Execute) here; other invokes go to the SDK's handler.

        The response body is plain JSON: the SDK's AdaptiveCardInvokeResponse model cannot carry the
        string value of a message response.
        """
        activity = turn_context.activity
        if activity.name != "adaptiveCard/action":
            return await super().on_invoke_activity(turn_context)
        action = activity.value.get("action") if isinstance(activity.value, dict) else None
        if not isinstance(action, dict) or action.get("type") != "Action.Execute":
            body = {
                "statusCode": 400,
                "type": "application/vnd.microsoft.error",
                "value": {"code": "BadRequest", "message": "The invoke carries no Action.Execute."},
            }
            return InvokeResponse(status=200, body=body)
        data = dict(action.get("data") or {})
        data.setdefault("intake", action.get("verb"))
        return InvokeResponse(status=200, body=invoke_body(await self.card_action(turn_context, data)))

    async def render_submit_reply(self, turn_context: TurnContext, verb: str, reply: Reply) -> None:
        """Action.Submit path: forms opened from a card are new messages; results replace the clicked card."""
        activity = turn_context.activity
        if reply.card is not None:
            if verb in FORM_OPENERS or not activity.reply_to_id:
                await turn_context.send_activity(MessageFactory.attachment(_attachment(reply.card)))
            else:
                update = Activity(
                    type=ActivityTypes.message,
                    id=activity.reply_to_id,
                    conversation=activity.conversation,
                    attachments=[_attachment(reply.card)],
                )
                await turn_context.update_activity(update)
        if reply.text:
            await turn_context.send_activity(plain_text(reply.text))

    async def card_action(self, turn_context: TurnContext, data: dict[str, Any]) -> Reply:
        verb = str(data.get("intake") or "")
        handler = self.card_actions.get(verb)
        if handler is None:
            return Reply(text=t(await self.language(turn_context), "teams.unknown_button"))
        try:
            return await handler(turn_context, data)
        except IntakeError as exc:
            return Reply(text=exc.say(await self._language_for(turn_context, data)))

    @property
    def card_actions(self) -> dict[str, Callable[[TurnContext, dict[str, Any]], Awaitable[Reply]]]:
        table: dict[str, Callable[[TurnContext, dict[str, Any]], Awaitable[Reply]]] = {
            "show": self.act_show,
            "request_submit": self.act_request_submit,
            "intake_submit": self.act_request_submit,
            "letter_show": self.act_letter_show,
            "letter_edit": self.act_letter_edit,
            "letter_edit_submit": self.act_letter_edit_submit,
            "letter_sent": self.act_letter_sent,
            "letter_send": self.act_letter_send,
            "letter_send_check": self.act_letter_send,  # on the confirmation card: show it again, updated
            "letter_send_confirm": self.act_letter_send_confirm,
            "letter_send_cancel": self.act_letter_send_cancel,
        }
        for a in Action:
            table[a.value] = self._opener(a)
            table[a.value + cards.SUBMIT] = self._submitter(a)
        return table

    async def _language_for(self, turn_context: TurnContext, data: dict[str, Any]) -> Language:
        """The clicker's language for a card about `data["ref"]` (its project's, unless their own is known)."""
        ref = str(data.get("ref") or "")
        if ref:
            try:
                rec = await self.service.get_request(ref)
                return await self.language(turn_context, await self.service.project(rec.project))
            except (IntakeError, StorageUnavailable):
                pass
        return await self.language(turn_context)

    async def _request(self, turn_context: TurnContext, data: dict[str, Any]) -> tuple[RequestRecord, Project, Actor]:
        ref = str(data.get("ref") or "")
        if not ref:
            raise InvalidInput(t(await self.language(turn_context), "teams.no_ref"))
        rec = await self.service.get_request(ref)
        project = await self.service.project(rec.project)
        return rec, project, await self.actor(turn_context, project)

    async def _view(self, rec: RequestRecord, project: Project, actor: Actor, *, shared: bool) -> Reply:
        """The request card after a click: the shared review card (Action.Execute replaces it for
        everyone's view of it only through the outbox's update; this is the clicker's copy)."""
        if shared:
            viewer = Viewer.review_channel()
        else:
            viewer = Viewer.of(actor, rec, project, on_behalf_of=await self.service.acting_for(actor, project))
        lang = language_for(project, None if shared else actor)
        now = self.service.clock.now()
        return Reply(card=cards.request_card(review_view(rec, project, viewer, language=lang, now=now)))

    async def act_show(self, turn_context: TurnContext, data: dict[str, Any]) -> Reply:
        rec, project, actor = await self._request(turn_context, data)
        return await self._view(rec, project, actor, shared=_in_channel(turn_context))

    def _opener(self, action: Action) -> Callable[[TurnContext, dict[str, Any]], Awaitable[Reply]]:
        async def open_form(turn_context: TurnContext, data: dict[str, Any]) -> Reply:
            """A request's button: its form, once the core has checked the clicker may (a refused PM
            action is recorded), or the action itself when it needs no form."""
            _, project, actor = await self._request(turn_context, data)
            rec, spec = await self.service.open_form(str(data.get("ref")), action, actor=actor)
            if spec is None:
                rec = await self.service.act(rec.ref, action, actor=actor)
                self.wake()
                return await self._view(rec, project, actor, shared=_in_channel(turn_context))
            return Reply(card=cards.form_card(spec))

        return open_form

    def _submitter(self, action: Action) -> Callable[[TurnContext, dict[str, Any]], Awaitable[Reply]]:
        async def submit(turn_context: TurnContext, data: dict[str, Any]) -> Reply:
            """A request's form, submitted: the core reads and checks it; errors come back on the form
            with what was typed kept."""
            _, project, actor = await self._request(turn_context, data)
            ref = str(data.get("ref"))
            values = cards.values_from(data)
            try:
                rec = await self.service.act(ref, action, actor=actor, values=values)
            except FormInvalid as exc:
                _, spec = await self.service.open_form(ref, action, actor=actor)
                assert spec is not None
                return Reply(card=cards.form_card(with_values(spec, values), errors=exc.errors_in(spec.language)))
            self.wake()
            if action is Action.ANSWER:
                lang = language_for(project, actor)
                view = review_view(rec, project, Viewer.of(actor, rec, project), language=lang)
                question = open_question(rec)
                asker = rec.last_decision.actor.display if rec.last_decision else ""
                done = cards.question_card(view, question, asker, answered=True)
                done["body"].append(cards.text(t(lang, "notice.answer_thanks", ref=rec.ref)))
                return Reply(card=done)
            return await self._view(rec, project, actor, shared=_in_channel(turn_context))

        return submit

    async def act_request_submit(self, turn_context: TurnContext, data: dict[str, Any]) -> Reply:
        values = cards.values_from(data)
        slug = text_of(values, "project") or None
        lang = await self.language(turn_context)
        try:
            given = parse_intake(values)
            rec, project = await self.submit(
                turn_context,
                given.text,
                given.project,
                client_words=given.client_words,
                urgency=given.urgency,
                requested_date=given.requested_date,
            )
        except FormInvalid as exc:
            projects = await self.service.projects()
            spec = intake_form(lang, projects=projects, chosen=slug, words="")
            return Reply(card=cards.form_card(with_values(spec, values), errors=exc.errors_in(lang)))
        except InvalidInput as exc:
            projects = await self.service.projects()
            spec = intake_form(lang, projects=projects, chosen=slug, words="")
            return Reply(card=cards.form_card(with_values(spec, values), error=exc.say(lang)))
        return Reply(card=cards.message_card(receipt(rec, await self.language(turn_context, project))))

    # --- the letter ----------------------------------------------------------------------------

    async def _letter(self, turn_context: TurnContext, data: dict[str, Any]) -> tuple[RequestRecord, Actor, Language]:
        rec, project, actor = await self._request(turn_context, data)
        lang = await self.language(turn_context, project)
        if not await self.service.may_decide(actor, project):
            raise PermissionDenied(t(lang, "letter.pms_only", project=project.name, ref=rec.ref))
        rec = await self.service.get_request(rec.ref, actor=actor)
        if rec.letter is None:
            raise InvalidInput(t(lang, "letter.none_for", ref=rec.ref))
        return rec, actor, lang

    async def letter_reply(self, rec: RequestRecord, pm: Actor, lang: Language, *, note: str | None = None) -> Reply:
        assert rec.letter is not None
        project = await self.service.project(rec.project)
        return Reply(
            card=letter_card_for(
                self.app,
                rec.ref,
                rec.letter.to_dict(),
                rec.letter.talking_points,
                pm=pm,
                lang=lang,
                tz=project.timezone,
                note=note,
            )
        )

    async def act_letter_show(self, turn_context: TurnContext, data: dict[str, Any]) -> Reply:
        rec, actor, lang = await self._letter(turn_context, data)
        return await self.letter_reply(rec, actor, lang)

    async def act_letter_edit(self, turn_context: TurnContext, data: dict[str, Any]) -> Reply:
        rec, _, lang = await self._letter(turn_context, data)
        assert rec.letter is not None
        return Reply(card=cards.form_card(letter_edit_form(rec.ref, rec.letter.subject, rec.letter.body_text, lang)))

    async def act_letter_edit_submit(self, turn_context: TurnContext, data: dict[str, Any]) -> Reply:
        rec, actor, lang = await self._letter(turn_context, data)
        body = str(data.get("body") or "")
        subject = str(data.get("subject") or "")
        try:
            rec = await self.service.edit_letter(rec.ref, actor=actor, body_text=body, subject=subject)
        except FormInvalid as exc:
            spec = letter_edit_form(rec.ref, subject, body, lang)
            return Reply(card=cards.form_card(spec, errors=exc.errors_in(lang)))
        return await self.letter_reply(rec, actor, lang, note=t(lang, "letter.saved"))

    async def act_letter_sent(self, turn_context: TurnContext, data: dict[str, Any]) -> Reply:
        rec, actor, lang = await self._letter(turn_context, data)
        rec = await self.service.mark_letter_sent(rec.ref, actor=actor, via="manual")
        self.wake()
        return await self.letter_reply(rec, actor, lang, note=t(lang, "letter.marked_sent"))

    # --- sending the letter by e-mail: ask, show the recipients, confirm, queue ------------------

    async def act_letter_send(self, turn_context: TurnContext, data: dict[str, Any]) -> Reply:
        """Send email / Send again / Check these addresses: show who would get it, and ask to confirm."""
        rec, project, actor = await self._request(turn_context, data)
        lang = await self.language(turn_context, project)
        if not email_sending_available(self.app):
            return Reply(text=t(lang, "letter.email_not_set_up"))
        again = _flag(data.get("again"))
        typed = typed_recipients(data.get("other_recipients"))
        try:
            # Refuses (not a PM, no letter, already sent without "again", already queued) before asking.
            rcpt = await self.service.letter_email_recipients(rec.ref, actor=actor, recipients=typed, again=again)
        except InvalidInput as exc:  # an address the PM typed does not read: show it on the card
            rcpt = await self.service.letter_email_recipients(rec.ref, actor=actor, again=again)
            error = exc.say(lang)
            return Reply(card=await self._confirm_card(rec.ref, actor, rcpt, lang, again=again, error=error))
        return Reply(card=await self._confirm_card(rec.ref, actor, rcpt, lang, typed=typed, again=again))

    async def act_letter_send_confirm(self, turn_context: TurnContext, data: dict[str, Any]) -> Reply:
        """Send, on the confirmation card: queue the e-mail to exactly the recipients the PM saw."""
        rec, project, actor = await self._request(turn_context, data)
        lang = await self.language(turn_context, project)
        if not email_sending_available(self.app):
            return Reply(text=t(lang, "letter.email_not_set_up"))
        again = _flag(data.get("again"))
        typed = typed_recipients(data.get("typed"))
        try:
            confirmed = LetterRecipients.from_dict(data["confirmed"])
        except (KeyError, TypeError, ValueError, AttributeError):
            return Reply(text=t(lang, "send.bad_confirmation"))
        newly_typed = typed_recipients(data.get("other_recipients"))
        if newly_typed and newly_typed != typed:
            # Addresses typed into the box were never shown for confirmation: show them first.
            try:
                rcpt = await self.service.letter_email_recipients(
                    rec.ref, actor=actor, recipients=newly_typed, again=again
                )
            except InvalidInput as exc:
                card = await self._confirm_card(
                    rec.ref, actor, confirmed, lang, typed=typed, again=again, error=exc.say(lang)
                )
                return Reply(card=card)
            card = await self._confirm_card(
                rec.ref, actor, rcpt, lang, typed=newly_typed, again=again, error=t(lang, "send.check_typed")
            )
            return Reply(card=card)
        await self.remember_letter_card(turn_context, rec.ref, actor)
        rec = await self.service.send_letter_email(
            rec.ref, actor=actor, recipients=typed, again=again, confirmed=confirmed
        )
        self.wake()
        to = ", ".join(str(m) for m in confirmed.to)
        return await self.letter_reply(rec, actor, lang, note=t(lang, "send.queued_to", to=to))

    async def remember_letter_card(self, turn_context: TurnContext, ref: str, actor: Actor) -> None:
        """Keep where the card the PM pressed Send on is: it shows "queued" now, and "sent" (or "failed")
        replaces it there when the mail server answers."""
        activity = turn_context.activity
        if not activity.reply_to_id:
            return
        at = TurnContext.get_conversation_reference(activity).serialize()
        at["conversation"]["id"] = base_conversation_id(activity.conversation.id)
        at["activityId"] = activity.reply_to_id
        await self.store.save_conversation_ref(
            PLATFORM, letter_card_key(ref, actor.user_id), at, at=self.service.clock.now()
        )

    async def act_letter_send_cancel(self, turn_context: TurnContext, data: dict[str, Any]) -> Reply:
        rec, actor, lang = await self._letter(turn_context, data)
        return await self.letter_reply(rec, actor, lang, note=t(lang, "send.nothing_sent"))

    async def _confirm_card(
        self,
        ref: str,
        actor: Actor,
        rcpt: LetterRecipients,
        lang: Language,
        *,
        typed: list[str] | None = None,
        again: bool = False,
        error: str | None = None,
    ) -> cards.Card:
        rec = await self.service.get_request(ref, actor=actor)
        assert rec.letter is not None  # letter_email_recipients refused otherwise
        return cards.send_confirm_card(rec.ref, rec.letter.to_dict(), rcpt, lang, typed=typed, again=again, error=error)


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1", "yes")


def typed_recipients(value: Any) -> list[str] | None:
    """Addresses the PM typed (a comma- or semicolon-separated text, or a list): None when there are none."""
    if isinstance(value, list):
        items = [str(v).strip() for v in value]
    elif isinstance(value, str):
        items = [v.strip() for v in re.split(r"[,;]", value)]
    else:
        return None
    return [v for v in items if v] or None


def invoke_body(reply: Reply) -> dict[str, Any]:
    """The body of an adaptiveCard/action response: a card that replaces the clicked one, or a message."""
    if reply.card is not None:
        return {"statusCode": 200, "type": cards.CARD_CONTENT_TYPE, "value": reply.card}
    return {"statusCode": 200, "type": MESSAGE_CONTENT_TYPE, "value": reply.text or ""}


def email_sending_available(app: web.Application) -> bool:
    """E-mail is on in this app (SMTP_URL and INTAKE_MAIL_FROM set): the letter card offers "Send email"."""
    return email_sender(app) is not None


def letter_card_for(
    app: web.Application,
    ref: str,
    letter: dict[str, Any],
    talking_points: str = "",
    *,
    pm: Actor,
    lang: Language,
    tz: str = "UTC",
    note: str | None = None,
) -> cards.Card:
    """The letter card for one PM: its download link is signed for them."""
    settings = app[SETTINGS]
    url = None
    if settings.public_url and settings.secret_key:
        now = app[RUNTIME].service.clock.now()
        url = download_url(settings.public_url, settings.secret_key, ref, pm=pm, now=now)
    return cards.letter_card(
        ref,
        letter,
        lang,
        tz=tz,
        by=pm,
        download_url=url,
        can_send_email=email_sending_available(app),
        talking_points=talking_points,
        note=note,
    )


def _in_channel(turn_context: TurnContext) -> bool:
    """Whether a card was clicked in a shared conversation (a channel), not in a personal chat."""
    conv = turn_context.activity.conversation
    return bool(conv is not None and conv.conversation_type not in (None, "personal"))


def plain_text(text: str) -> Activity:
    """A message shown exactly as written: Teams reads plain text, not markdown, so a request quoted in it
    cannot turn into a link or a list."""
    return Activity(type=ActivityTypes.message, text=text, text_format="plain")


def _attachment(card: cards.Card) -> Attachment:
    return Attachment(content_type=cards.CARD_CONTENT_TYPE, content=card)
