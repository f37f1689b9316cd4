"""The Slack side of delivery: turns the core's notices into Web API calls.

Rate limits (429 with Retry-After), Slack's own temporary errors and network failures become
`TemporaryDeliveryError`, so the outbox retries them (after Retry-After when Slack gave one); errors that
no retry can fix (an unknown channel, a missing scope) become `PermanentDeliveryError`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.domain import Actor, Notice, Project, RequestRecord
from bot.errors import PermanentDeliveryError, StorageUnavailable, TemporaryDeliveryError
from bot.messages import (
    answer_notice,
    decided_for_requester,
    email_outcome_for_sender,
    notice_due,
    notice_on_behalf,
    question_for_requester,
    summary_title,
    summary_views,
    timely_headline,
)
from bot.ports import NoticeSink, Outbox
from bot.review import Viewer, review_view
from bot.service import open_question
from bot.text import Phrase, language_for, t

from . import blocks as bk
from .blocks import FALLBACK_LIMIT, cut, escape
from .context import SlackContext, log
from .intake import record_command
from .translate import PLATFORM, retry_after_seconds

TEMPORARY_ERRORS = {
    "ratelimited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
    "team_added_to_org",
}


class SlackSink(NoticeSink):
    platform = PLATFORM

    def __init__(self, ctx: SlackContext) -> None:
        self.ctx = ctx
        self.kinds: dict[str, Callable[[Notice, Outbox], Awaitable[dict[str, Any] | None]]] = {
            "review_card": self.review_card,
            "card_update": self.card_update,
            "requester_notice": self.requester_notice,
            "question": self.question,
            "answer": self.answer,
            "letter_draft": self.letter_draft,
            "letter_update": self.letter_update,
            "letter_email_status": self.letter_email_status,
            "slack_command": self.slack_command,
            **{kind: self.timely for kind in ("reminder", "escalation", "follow_up", "expired_pm")},
            "info_reminder": self.requester_reminder,
            "expired": self.requester_reminder,
            "daily_summary": self.daily_summary,
            "away": self.away,
        }

    async def deliver(self, notice: Notice, *, outbox: Outbox) -> dict[str, Any] | None:
        handler = self.kinds.get(notice.kind, self.to_person if notice.recipient else None)
        if handler is None:
            raise PermanentDeliveryError(f"Slack does not know how to deliver a '{notice.kind}' notice")
        try:
            return await handler(notice, outbox)
        except SlackApiError as exc:
            raise _classify(exc) from exc
        except SlackClientError as exc:  # a malformed answer or a failed request: worth another try
            raise TemporaryDeliveryError(f"Slack call failed: {exc}") from exc
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise TemporaryDeliveryError(f"Slack could not be reached: {type(exc).__name__}: {exc}") from exc

    # --- kinds ----------------------------------------------------------------------------------

    async def review_card(self, notice: Notice, outbox: Outbox) -> dict[str, Any]:
        project = await self._project(notice)
        channel = (project.platforms.get(PLATFORM) or {}).get("review_channel")
        if not channel:
            raise PermanentDeliveryError(
                f"Project {project.slug} has no slack.review_channel: add it to the project file and load it again"
            )
        view = review_view(_record(notice), project, Viewer.review_channel(), now=self.ctx.service.clock.now())
        resp = await self.ctx.client.chat_postMessage(
            channel=channel,
            text=_fallback(notice.text),
            blocks=bk.request_blocks(view),
            unfurl_links=False,
            unfurl_media=False,
        )
        return {"channel": resp["channel"], "ts": resp["ts"]}

    async def slack_command(self, notice: Notice, outbox: Outbox) -> dict[str, Any] | None:
        """A `/request` acknowledged by a process that died before recording it: record it now, once."""
        try:
            result, reply = await record_command(self.ctx, notice, in_process=False)
        except StorageUnavailable as exc:
            raise TemporaryDeliveryError(str(exc)) from exc
        if reply is not None:
            await self.ctx.respond(reply["url"], text=escape(reply["text"]), blocks=reply.get("blocks"))
        return result

    async def card_update(self, notice: Notice, outbox: Outbox) -> dict[str, Any]:
        assert notice.ref is not None
        posted = await outbox.delivery_result(notice.ref, "review_card", PLATFORM)
        if not posted or not posted.get("ts"):
            log.warning("slack: no review card for %s to update; nothing to do", notice.ref)
            return {"skipped": "no review card was posted"}
        project = await self._project(notice)
        view = review_view(_record(notice), project, Viewer.review_channel(), now=self.ctx.service.clock.now())
        await self.ctx.client.chat_update(
            channel=posted["channel"], ts=posted["ts"], text=_fallback(notice.text), blocks=bk.request_blocks(view)
        )
        return {"channel": posted["channel"], "ts": posted["ts"]}

    async def requester_notice(self, notice: Notice, outbox: Outbox) -> dict[str, Any]:
        channel, thread = await self._requester_place(notice)
        rec, project = _record(notice), await self._project(notice)
        text = decided_for_requester(rec, language_for(project, notice.recipient))
        resp = await self.ctx.client.chat_postMessage(
            channel=channel, thread_ts=thread, text=_fallback(text), blocks=bk.text_blocks(text)
        )
        return {"channel": resp["channel"], "ts": resp["ts"]}

    async def question(self, notice: Notice, outbox: Outbox) -> dict[str, Any]:
        """The PM's question, where the requester hears back, with the requester's Answer button."""
        channel, thread = await self._requester_place(notice)
        rec, project = _record(notice), await self._project(notice)
        asker = rec.last_decision.actor if rec.last_decision else None
        requester = notice.recipient or rec.requester
        view = review_view(rec, project, Viewer.of(requester, rec, project))
        question = str(notice.data.get("question", ""))
        text = question_for_requester(rec, question, asker.display if asker else "", view.language)
        resp = await self.ctx.client.chat_postMessage(
            channel=channel,
            thread_ts=thread,
            text=_fallback(text),
            blocks=bk.question_blocks(view, question, asker),
        )
        return {"channel": resp["channel"], "ts": resp["ts"]}

    async def answer(self, notice: Notice, outbox: Outbox) -> dict[str, Any]:
        rec, project = _record(notice), await self._project(notice)
        text = answer_notice(rec, str(notice.data.get("answer", "")), language_for(project, notice.recipient))
        return await self._post_to_person(notice, text)

    async def to_person(self, notice: Notice, outbox: Outbox) -> dict[str, Any]:
        return await self._post_to_person(notice, notice.text)

    async def letter_draft(self, notice: Notice, outbox: Outbox) -> dict[str, Any]:
        """The letter goes to the deciding PM's DM, never to a shared channel."""
        channel = await self._dm(notice)
        rec, project = _record(notice), await self._project(notice)
        lang = language_for(project, notice.recipient)
        resp = await self.ctx.client.chat_postMessage(
            channel=channel,
            text=t(lang, "letter.drafted_note", ref=rec.ref),
            blocks=bk.letter_message(
                rec.ref,
                notice.data["letter"],
                lang,
                tz=project.timezone,
                can_send_email=self.ctx.can_send_email(),
                talking_points=str(notice.data.get("talking_points") or ""),
            ),
        )
        return {"channel": resp["channel"], "ts": resp["ts"]}

    async def letter_update(self, notice: Notice, outbox: Outbox) -> dict[str, Any]:
        channel, ts = notice.data["channel"], notice.data["ts"]
        if not str(channel).startswith("D"):
            raise PermanentDeliveryError("a letter is only ever shown in a direct message")
        rec, project = _record(notice), await self._project(notice)
        lang = language_for(project, notice.recipient)
        await self.ctx.client.chat_update(
            channel=channel,
            ts=ts,
            text=t(lang, "letter.update_note", ref=rec.ref),
            blocks=bk.letter_message(
                rec.ref,
                notice.data["letter"],
                lang,
                tz=project.timezone,
                by=notice.recipient,
                can_send_email=self.ctx.can_send_email(),
                talking_points=str(notice.data.get("talking_points") or ""),
            ),
        )
        return {"channel": channel, "ts": ts}

    async def letter_email_status(self, notice: Notice, outbox: Outbox) -> dict[str, Any]:
        """The mail server took the letter (or refused it): update the letter DM in place, and say so."""
        assert notice.ref is not None
        posted = await outbox.delivery_result(notice.ref, "letter_draft", PLATFORM)
        rec, project = _record(notice), await self._project(notice)
        lang = language_for(project, notice.recipient)
        if posted and str(posted.get("channel", "")).startswith("D"):
            stored = (await self.ctx.service.get_request(notice.ref)).letter
            await self.ctx.client.chat_update(
                channel=posted["channel"],
                ts=posted["ts"],
                text=t(lang, "letter.update_note", ref=rec.ref),
                blocks=bk.letter_message(
                    rec.ref,
                    notice.data["letter"],
                    lang,
                    tz=project.timezone,
                    can_send_email=self.ctx.can_send_email(),
                    talking_points=stored.talking_points if stored else "",
                ),
            )
        from bot.domain import Letter

        text = email_outcome_for_sender(rec, Letter.from_dict(notice.data["letter"]), lang, project.timezone)
        return await self._post_to_person(notice, text)

    # --- time -----------------------------------------------------------------------------------

    async def timely(self, notice: Notice, outbox: Outbox) -> dict[str, Any]:
        """A reminder, an escalation, a follow-up or an expiry notice, to one person's DM: the request as a
        card with the decide buttons that person may use (an away PM's delegate: the PM's)."""
        person = notice.recipient
        channel = await self._dm_once(notice)
        if channel is None:
            return {"skipped": "the same person is reminded under their Slack id"}
        rec, project = _record(notice), await self._project(notice)
        assert person is not None
        for_pm = notice_on_behalf(notice.data)
        lang = language_for(project, person)
        now = self.ctx.service.clock.now()
        view = review_view(rec, project, Viewer.of(person, rec, project, on_behalf_of=for_pm), language=lang, now=now)
        due = notice_due(notice.data)
        head = timely_headline(notice.kind, rec, project, lang, on_behalf_of=for_pm, due=due)
        resp = await self.ctx.client.chat_postMessage(
            channel=channel, text=_fallback(head), blocks=bk.timely_blocks(head, view), unfurl_links=False
        )
        return {"channel": resp["channel"], "ts": resp["ts"]}

    async def requester_reminder(self, notice: Notice, outbox: Outbox) -> dict[str, Any]:
        """The question's reminder, or its expiry, where the requester hears back, with the Answer button."""
        channel, thread = await self._requester_place(notice)
        rec, project = _record(notice), await self._project(notice)
        requester = notice.recipient or rec.requester
        lang = language_for(project, requester)
        now = self.ctx.service.clock.now()
        view = review_view(rec, project, Viewer.of(requester, rec, project), language=lang, now=now)
        head = timely_headline(notice.kind, rec, project, lang, due=notice_due(notice.data))
        resp = await self.ctx.client.chat_postMessage(
            channel=channel,
            thread_ts=thread,
            text=_fallback(head),
            blocks=bk.requester_reminder_blocks(head, view, open_question(rec)),
        )
        return {"channel": resp["channel"], "ts": resp["ts"]}

    async def daily_summary(self, notice: Notice, outbox: Outbox) -> dict[str, Any]:
        """A PM's daily summary in their DM: each request with its due date and their buttons."""
        person = notice.recipient
        channel = await self._dm_once(notice)
        if channel is None:
            return {"skipped": "the same person gets the summary under their Slack id"}
        assert person is not None
        project = await self._project(notice)
        lang = language_for(project, person)
        sections = summary_views(notice.data, project, person, lang, self.ctx.service.clock.now())
        title = summary_title(project, lang)
        resp = await self.ctx.client.chat_postMessage(
            channel=channel, text=_fallback(title), blocks=bk.summary_blocks(title, sections)
        )
        return {"channel": resp["channel"], "ts": resp["ts"]}

    async def away(self, notice: Notice, outbox: Outbox) -> dict[str, Any]:
        """A word about an absence (starting, ending) to the PM or their delegate."""
        channel = await self._dm(notice)
        project = await self.ctx.service.project(notice.project) if notice.project else None
        lang = await self.ctx.language(notice.recipient, project)
        text = Phrase.from_dict(notice.data["phrase"]).render(lang)
        resp = await self.ctx.client.chat_postMessage(
            channel=channel, text=_fallback(text), blocks=bk.text_blocks(text)
        )
        return {"channel": resp["channel"], "ts": resp["ts"]}

    # --- helpers --------------------------------------------------------------------------------

    async def _project(self, notice: Notice) -> Project:
        if not notice.project:
            raise PermanentDeliveryError("the notice names no project")
        return await self.ctx.service.project(notice.project)

    async def _dm(self, notice: Notice) -> str:
        """The recipient's DM (a recipient named by e-mail is looked up first)."""
        person = notice.recipient
        if person is None or person.platform != PLATFORM:
            raise PermanentDeliveryError(f"{notice.kind} for {notice.ref} has no Slack recipient")
        return await self.ctx.open_dm(await self._user_id(person))

    async def _dm_once(self, notice: Notice) -> str | None:
        """Like `_dm`, but None when an e-mail finds someone the same notice also reaches by Slack id
        (`also_to`: a PM listed both ways), so they hear it once."""
        person = notice.recipient
        if person is None or person.platform != PLATFORM:
            raise PermanentDeliveryError(f"{notice.kind} for {notice.ref} has no Slack recipient")
        user_id = await self._user_id(person)
        if user_id != person.user_id and user_id in (notice.data.get("also_to") or ()):
            return None
        return await self.ctx.open_dm(user_id)

    async def _user_id(self, person: Actor) -> str:
        """A Slack user id: as given, or found by the e-mail a project file names someone by."""
        if "@" not in person.user_id:
            return person.user_id
        try:
            return await self.ctx.user_by_email(person.email or person.user_id)
        except SlackApiError as exc:
            if (exc.response.get("error") or "") == "users_not_found":
                raise PermanentDeliveryError(f"no Slack user has the e-mail address {person.user_id}") from exc
            raise

    async def _post_to_person(self, notice: Notice, text: str) -> dict[str, Any]:
        channel = await self._dm(notice)
        resp = await self.ctx.client.chat_postMessage(
            channel=channel, text=_fallback(text), blocks=bk.text_blocks(text)
        )
        return {"channel": resp["channel"], "ts": resp["ts"]}

    async def _requester_place(self, notice: Notice) -> tuple[str, str | None]:
        """Where the requester hears back: the thread of their message in an intake channel, else a DM.

        Never a thread in any other channel: a message recorded from a shared channel may be the client's.
        """
        rec = _record(notice)
        project = await self._project(notice)
        intake = set((project.platforms.get(PLATFORM) or {}).get("intake_channels") or ())
        src = rec.source
        if src and src.platform == PLATFORM and src.channel in intake and src.message_id:
            return str(src.channel), src.thread or src.message_id
        return await self._dm(notice), None


def _record(notice: Notice) -> RequestRecord:
    return RequestRecord.from_snapshot(notice.data["request"])


def _fallback(text: str) -> str:
    """A message's notification text: plain, with user text escaped so it can mention nobody."""
    return cut(escape(text), FALLBACK_LIMIT)


def _classify(exc: SlackApiError) -> TemporaryDeliveryError | PermanentDeliveryError:
    resp = exc.response
    status = getattr(resp, "status_code", 0) or 0
    error = ""
    try:
        error = str(resp.get("error") or "")
    except (AttributeError, TypeError, ValueError):
        error = ""
    if status == 429 or error == "ratelimited":
        retry_after = retry_after_seconds(getattr(resp, "headers", None))
        return TemporaryDeliveryError(f"Slack rate limit (retry after {retry_after}s)", retry_after=retry_after)
    if status >= 500 or error in TEMPORARY_ERRORS:
        return TemporaryDeliveryError(f"Slack answered {status} {error}".strip())
    return PermanentDeliveryError(f"Slack refused the call: {error or status}")
