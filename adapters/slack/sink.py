"""The Slack side of delivery: turns the core's notices into Web API calls.

Rate limits (429 with Retry-After), Slack's own temporary errors and network failures become
`TemporaryDeliveryError`, so the outbox retries them (after Retry-After when Slack gave one); errors that
no retry can fix (an unknown channel, a missing scope) become `PermanentDeliveryError`. A 429 pauses its
method for every notice (webapi.py): a notice due during the pause is put back until it ends, unsent.

Each message is posted once. Every post carries the notice's key in its message metadata
(`event_type` "intake_notice"). When an earlier attempt may have reached Slack without our knowing (it
timed out, its connection broke, or its process died mid-call), the channel's (or thread's) recent
history is searched for that key first, and the message is posted only if it is not there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
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
from bot.ports import Attempt, NoticeSink, Outbox
from bot.review import Viewer, review_view
from bot.service import open_question
from bot.text import Phrase, language_for, t

from . import blocks as bk
from .blocks import notification_text
from .context import SlackContext, log
from .intake import record_command
from .translate import PLATFORM, retry_after_seconds
from .webapi import MethodPaused, is_rate_limited

TEMPORARY_ERRORS = {
    "ratelimited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
    "team_added_to_org",
}
NOTICE_EVENT = "intake_notice"  # the metadata event type of every message the outbox posts
HISTORY_PAGES = 10  # pages of 100 messages searched for an earlier attempt's post
HISTORY_MARGIN = timedelta(minutes=2)  # searched from this long before the notice was queued (clock skew)
# Errors of a history search that mean it cannot be done here (scopes of an older install, a channel the
# bot left): the message is posted, as it was before the search existed.
CANNOT_SEARCH = {"missing_scope", "not_in_channel", "channel_not_found", "not_allowed_token_type", "thread_not_found"}


class SlackSink(NoticeSink):
    platform = PLATFORM

    def __init__(self, ctx: SlackContext) -> None:
        self.ctx = ctx
        self.kinds: dict[str, Callable[[Notice, Outbox, Attempt | None], Awaitable[dict[str, Any] | None]]] = {
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

    async def deliver(self, notice: Notice, *, outbox: Outbox, attempt: Attempt | None = None) -> dict[str, Any] | None:
        handler = self.kinds.get(notice.kind, self.to_person if notice.recipient else None)
        if handler is None:
            raise PermanentDeliveryError(f"Slack does not know how to deliver a '{notice.kind}' notice")
        try:
            return await handler(notice, outbox, attempt)
        except MethodPaused as exc:  # no call left: Slack asked for a pause of this method
            raise TemporaryDeliveryError(str(exc), retry_after=exc.retry_after) from exc
        except SlackApiError as exc:
            raise _classify(exc) from exc
        except SlackClientError as exc:  # a malformed answer: Slack may have acted all the same
            raise TemporaryDeliveryError(f"Slack call failed: {exc}", uncertain=True) from exc
        except aiohttp.ClientConnectorError as exc:  # no connection was made: nothing reached Slack
            raise TemporaryDeliveryError(f"Slack could not be reached: {type(exc).__name__}: {exc}") from exc
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:  # the call may have reached Slack
            raise TemporaryDeliveryError(
                f"Slack did not answer: {type(exc).__name__}: {exc}".rstrip(": "), uncertain=True
            ) from exc

    # --- kinds ----------------------------------------------------------------------------------

    async def review_card(self, notice: Notice, outbox: Outbox, attempt: Attempt | None) -> dict[str, Any]:
        project = await self._project(notice)
        channel = (project.platforms.get(PLATFORM) or {}).get("review_channel")
        if not channel:
            raise PermanentDeliveryError(
                f"Project {project.slug} has no slack.review_channel: add it to the project file and load it again"
            )
        view = review_view(_record(notice), project, Viewer.review_channel(), now=self.ctx.service.clock.now())
        return await self._post(
            attempt,
            channel=channel,
            text=notification_text(notice.text),
            blocks=bk.request_blocks(view),
            unfurl_links=False,
            unfurl_media=False,
        )

    async def slack_command(self, notice: Notice, outbox: Outbox, attempt: Attempt | None) -> dict[str, Any] | None:
        """A `/request` acknowledged by a process that died before recording it: record it now, once."""
        try:
            result, reply = await record_command(self.ctx, notice, in_process=False)
        except StorageUnavailable as exc:
            raise TemporaryDeliveryError(str(exc)) from exc
        if reply is not None:
            await self.ctx.respond(reply["url"], text=reply["text"], blocks=reply.get("blocks"))
        return result

    async def card_update(self, notice: Notice, outbox: Outbox, attempt: Attempt | None) -> dict[str, Any]:
        assert notice.ref is not None
        posted = await outbox.delivery_result(notice.ref, "review_card", PLATFORM)
        if not posted or not posted.get("ts"):
            log.warning("slack: no review card for %s to update; nothing to do", notice.ref)
            return {"skipped": "no review card was posted"}
        project = await self._project(notice)
        view = review_view(_record(notice), project, Viewer.review_channel(), now=self.ctx.service.clock.now())
        await self.ctx.poster.chat_update(
            channel=posted["channel"],
            ts=posted["ts"],
            text=notification_text(notice.text),
            blocks=bk.request_blocks(view),
        )
        return {"channel": posted["channel"], "ts": posted["ts"]}

    async def requester_notice(self, notice: Notice, outbox: Outbox, attempt: Attempt | None) -> dict[str, Any]:
        channel, thread = await self._requester_place(notice)
        rec, project = _record(notice), await self._project(notice)
        text = decided_for_requester(rec, language_for(project, notice.recipient))
        return await self._post(
            attempt, channel=channel, thread_ts=thread, text=notification_text(text), blocks=bk.text_blocks(text)
        )

    async def question(self, notice: Notice, outbox: Outbox, attempt: Attempt | None) -> dict[str, Any]:
        """The PM's question, where the requester hears back, with the requester's Answer button."""
        channel, thread = await self._requester_place(notice)
        rec, project = _record(notice), await self._project(notice)
        asker = rec.last_decision.actor if rec.last_decision else None
        requester = notice.recipient or rec.requester
        view = review_view(rec, project, Viewer.of(requester, rec, project))
        question = str(notice.data.get("question", ""))
        text = question_for_requester(rec, question, asker.display if asker else "", view.language)
        return await self._post(
            attempt,
            channel=channel,
            thread_ts=thread,
            text=notification_text(text),
            blocks=bk.question_blocks(view, question, asker),
        )

    async def answer(self, notice: Notice, outbox: Outbox, attempt: Attempt | None) -> dict[str, Any]:
        rec, project = _record(notice), await self._project(notice)
        text = answer_notice(rec, str(notice.data.get("answer", "")), language_for(project, notice.recipient))
        return await self._post_to_person(notice, text, attempt)

    async def to_person(self, notice: Notice, outbox: Outbox, attempt: Attempt | None) -> dict[str, Any]:
        return await self._post_to_person(notice, notice.text, attempt)

    async def letter_draft(self, notice: Notice, outbox: Outbox, attempt: Attempt | None) -> dict[str, Any]:
        """The letter goes to the deciding PM's DM, never to a shared channel."""
        channel = await self._dm(notice)
        rec, project = _record(notice), await self._project(notice)
        lang = language_for(project, notice.recipient)
        return await self._post(
            attempt,
            channel=channel,
            text=notification_text(t(lang, "letter.drafted_note", ref=rec.ref)),
            blocks=bk.letter_message(
                rec.ref,
                notice.data["letter"],
                lang,
                tz=project.timezone,
                can_send_email=self.ctx.can_send_email(),
                talking_points=str(notice.data.get("talking_points") or ""),
            ),
        )

    async def letter_update(self, notice: Notice, outbox: Outbox, attempt: Attempt | None) -> dict[str, Any]:
        channel, ts = notice.data["channel"], notice.data["ts"]
        if not str(channel).startswith("D"):
            raise PermanentDeliveryError("a letter is only ever shown in a direct message")
        rec, project = _record(notice), await self._project(notice)
        lang = language_for(project, notice.recipient)
        await self.ctx.poster.chat_update(
            channel=channel,
            ts=ts,
            text=notification_text(t(lang, "letter.update_note", ref=rec.ref)),
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

    async def letter_email_status(self, notice: Notice, outbox: Outbox, attempt: Attempt | None) -> dict[str, Any]:
        """The mail server took the letter (or refused it): update the letter DM in place, and say so."""
        assert notice.ref is not None
        posted = await outbox.delivery_result(notice.ref, "letter_draft", PLATFORM)
        rec, project = _record(notice), await self._project(notice)
        lang = language_for(project, notice.recipient)
        if posted and str(posted.get("channel", "")).startswith("D"):
            stored = (await self.ctx.service.get_request(notice.ref)).letter
            await self.ctx.poster.chat_update(
                channel=posted["channel"],
                ts=posted["ts"],
                text=notification_text(t(lang, "letter.update_note", ref=rec.ref)),
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
        return await self._post_to_person(notice, text, attempt)

    # --- time -----------------------------------------------------------------------------------

    async def timely(self, notice: Notice, outbox: Outbox, attempt: Attempt | None) -> dict[str, Any]:
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
        return await self._post(
            attempt,
            channel=channel,
            text=notification_text(head),
            blocks=bk.timely_blocks(head, view),
            unfurl_links=False,
        )

    async def requester_reminder(self, notice: Notice, outbox: Outbox, attempt: Attempt | None) -> dict[str, Any]:
        """The question's reminder, or its expiry, where the requester hears back, with the Answer button."""
        channel, thread = await self._requester_place(notice)
        rec, project = _record(notice), await self._project(notice)
        requester = notice.recipient or rec.requester
        lang = language_for(project, requester)
        now = self.ctx.service.clock.now()
        view = review_view(rec, project, Viewer.of(requester, rec, project), language=lang, now=now)
        head = timely_headline(notice.kind, rec, project, lang, due=notice_due(notice.data))
        return await self._post(
            attempt,
            channel=channel,
            thread_ts=thread,
            text=notification_text(head),
            blocks=bk.requester_reminder_blocks(head, view, open_question(rec)),
        )

    async def daily_summary(self, notice: Notice, outbox: Outbox, attempt: Attempt | None) -> dict[str, Any]:
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
        return await self._post(
            attempt, channel=channel, text=notification_text(title), blocks=bk.summary_blocks(title, sections)
        )

    async def away(self, notice: Notice, outbox: Outbox, attempt: Attempt | None) -> dict[str, Any]:
        """A word about an absence (starting, ending) to the PM or their delegate."""
        channel = await self._dm(notice)
        project = await self.ctx.service.project(notice.project) if notice.project else None
        lang = await self.ctx.language(notice.recipient, project)
        text = Phrase.from_dict(notice.data["phrase"]).render(lang)
        return await self._post(attempt, channel=channel, text=notification_text(text), blocks=bk.text_blocks(text))

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

    async def _post_to_person(self, notice: Notice, text: str, attempt: Attempt | None) -> dict[str, Any]:
        channel = await self._dm(notice)
        return await self._post(attempt, channel=channel, text=notification_text(text), blocks=bk.text_blocks(text))

    async def _post(
        self, attempt: Attempt | None, *, channel: str, thread_ts: str | None = None, **message: Any
    ) -> dict[str, Any]:
        """Post a message once: tagged with the notice's key, and only if an earlier attempt that may
        have reached Slack did not post it already."""
        if attempt is not None:
            if attempt.uncertain:
                found = await self._find_posted(attempt, channel, thread_ts)
                if found is not None:
                    log.info("slack: notice %s was already posted (ts %s); not posting it again", attempt.key, found)
                    return {"channel": channel, "ts": found, "found_in_history": True}
            message["metadata"] = {"event_type": NOTICE_EVENT, "event_payload": {"notice": attempt.key}}
        resp = await self.ctx.poster.chat_postMessage(channel=channel, thread_ts=thread_ts, **message)
        return {"channel": resp["channel"], "ts": resp["ts"]}

    async def _find_posted(self, attempt: Attempt, channel: str, thread_ts: str | None) -> str | None:
        """The ts of the message an earlier attempt posted for this notice, or None. Searches the channel's
        history (a thread's replies) since shortly before the notice was queued."""
        oldest = f"{(attempt.created_at - HISTORY_MARGIN).timestamp():.6f}" if attempt.created_at else None
        cursor: str | None = None
        for _ in range(HISTORY_PAGES):
            args: dict[str, Any] = {"channel": channel, "include_all_metadata": True, "limit": 100}
            if oldest:
                args["oldest"] = oldest
            if cursor:
                args["cursor"] = cursor
            try:
                if thread_ts:
                    resp = await self.ctx.poster.conversations_replies(ts=thread_ts, **args)
                else:
                    resp = await self.ctx.poster.conversations_history(**args)
            except SlackApiError as exc:
                error = str(exc.response.get("error") or "") if not is_rate_limited(exc) else ""
                if error in CANNOT_SEARCH:
                    log.warning(
                        "slack: cannot search %s for notice %s (%s): posting it; add the history scopes "
                        "(see the README) to post each message once even when Slack answers late",
                        channel,
                        attempt.key,
                        error,
                    )
                    return None
                raise
            for message in resp.get("messages") or []:
                meta = message.get("metadata") or {}
                payload = meta.get("event_payload") or {}
                if meta.get("event_type") == NOTICE_EVENT and payload.get("notice") == attempt.key:
                    return str(message.get("ts"))
            cursor = str((resp.get("response_metadata") or {}).get("next_cursor") or "") or None
            if not resp.get("has_more") or not cursor:
                return None
        log.warning(
            "slack: notice %s not found in the last %d pages of %s; posting it", attempt.key, HISTORY_PAGES, channel
        )
        return None

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
        # Slack may have done it before failing: the next attempt looks before it posts.
        return TemporaryDeliveryError(f"Slack answered {status} {error}".strip(), uncertain=True)
    return PermanentDeliveryError(f"Slack refused the call: {error or status}")
