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

from bot.domain import Notice, Project
from bot.errors import PermanentDeliveryError, TemporaryDeliveryError
from bot.ports import NoticeSink, Outbox

from . import blocks as bk
from .context import SlackContext, log
from .messages import FALLBACK_LIMIT, cut, who
from .translate import PLATFORM, record_from_snapshot, retry_after_seconds

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
            "answer": self.to_person,
            "letter_draft": self.letter_draft,
            "letter_update": self.letter_update,
            "letter_email_status": self.letter_email_status,
            "slack_command": self.slack_command,
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
        rec = record_from_snapshot(notice.data["request"])
        resp = await self.ctx.client.chat_postMessage(
            channel=channel,
            text=cut(notice.text, FALLBACK_LIMIT),
            blocks=bk.review_card(rec, project_name=project.name),
            unfurl_links=False,
            unfurl_media=False,
        )
        return {"channel": resp["channel"], "ts": resp["ts"]}

    async def slack_command(self, notice: Notice, outbox: Outbox) -> dict[str, Any] | None:
        """A `/request` acknowledged by a process that died before recording it: record it now, once."""
        from bot.errors import StorageUnavailable

        from .handlers import record_command

        try:
            result, reply = await record_command(self.ctx, notice, in_process=False)
        except StorageUnavailable as exc:
            raise TemporaryDeliveryError(str(exc)) from exc
        if reply is not None:
            await self.ctx.respond(reply["url"], text=reply["text"], blocks=reply.get("blocks"))
        return result

    async def card_update(self, notice: Notice, outbox: Outbox) -> dict[str, Any]:
        assert notice.ref is not None
        posted = await outbox.delivery_result(notice.ref, "review_card", PLATFORM)
        if not posted or not posted.get("ts"):
            log.warning("slack: no review card for %s to update; nothing to do", notice.ref)
            return {"skipped": "no review card was posted"}
        project = await self._project(notice)
        rec = record_from_snapshot(notice.data["request"])
        await self.ctx.client.chat_update(
            channel=posted["channel"],
            ts=posted["ts"],
            text=cut(notice.text, FALLBACK_LIMIT),
            blocks=bk.review_card(rec, project_name=project.name),
        )
        return {"channel": posted["channel"], "ts": posted["ts"]}

    async def requester_notice(self, notice: Notice, outbox: Outbox) -> dict[str, Any]:
        channel, thread = await self._requester_place(notice)
        resp = await self.ctx.client.chat_postMessage(
            channel=channel,
            thread_ts=thread,
            text=cut(notice.text, FALLBACK_LIMIT),
            blocks=bk.requester_blocks(notice.text),
        )
        return {"channel": resp["channel"], "ts": resp["ts"]}

    async def question(self, notice: Notice, outbox: Outbox) -> dict[str, Any]:
        channel, thread = await self._requester_place(notice)
        rec = record_from_snapshot(notice.data["request"])
        asker = rec.last_decision.actor if rec.last_decision else None
        resp = await self.ctx.client.chat_postMessage(
            channel=channel,
            thread_ts=thread,
            text=cut(notice.text, FALLBACK_LIMIT),
            blocks=bk.question_blocks(rec, str(notice.data.get("question", "")), who(asker) if asker else "A PM"),
        )
        return {"channel": resp["channel"], "ts": resp["ts"]}

    async def to_person(self, notice: Notice, outbox: Outbox) -> dict[str, Any]:
        channel = await self._dm(notice)
        resp = await self.ctx.client.chat_postMessage(
            channel=channel, text=cut(notice.text, FALLBACK_LIMIT), blocks=bk.requester_blocks(notice.text)
        )
        return {"channel": resp["channel"], "ts": resp["ts"]}

    async def letter_draft(self, notice: Notice, outbox: Outbox) -> dict[str, Any]:
        """The letter goes to the deciding PM's DM, never to a shared channel."""
        channel = await self._dm(notice)
        rec = record_from_snapshot(notice.data["request"])
        resp = await self.ctx.client.chat_postMessage(
            channel=channel,
            text=f"Your letter for {rec.ref} is drafted: review it here.",
            blocks=bk.letter_message(
                rec,
                notice.data["letter"],
                can_send_email=self.ctx.can_send_email(),
                talking_points=str(notice.data.get("talking_points") or ""),
            ),
        )
        return {"channel": resp["channel"], "ts": resp["ts"]}

    async def letter_update(self, notice: Notice, outbox: Outbox) -> dict[str, Any]:
        channel, ts = notice.data["channel"], notice.data["ts"]
        if not str(channel).startswith("D"):
            raise PermanentDeliveryError("a letter is only ever shown in a direct message")
        rec = record_from_snapshot(notice.data["request"])
        await self.ctx.client.chat_update(
            channel=channel,
            ts=ts,
            text=f"The letter for {rec.ref}.",
            blocks=bk.letter_message(
                rec,
                notice.data["letter"],
                can_send_email=self.ctx.can_send_email(),
                sent_by=notice.recipient,
                talking_points=str(notice.data.get("talking_points") or ""),
            ),
        )
        return {"channel": channel, "ts": ts}

    async def letter_email_status(self, notice: Notice, outbox: Outbox) -> dict[str, Any]:
        """The mail server took the letter (or refused it): refresh the letter DM and say so there."""
        assert notice.ref is not None
        posted = await outbox.delivery_result(notice.ref, "letter_draft", PLATFORM)
        rec = record_from_snapshot(notice.data["request"])
        if posted and str(posted.get("channel", "")).startswith("D"):
            stored = (await self.ctx.service.get_request(notice.ref)).letter
            await self.ctx.client.chat_update(
                channel=posted["channel"],
                ts=posted["ts"],
                text=f"The letter for {rec.ref}.",
                blocks=bk.letter_message(
                    rec,
                    notice.data["letter"],
                    can_send_email=self.ctx.can_send_email(),
                    talking_points=stored.talking_points if stored else "",
                ),
            )
        return await self.to_person(notice, outbox)

    # --- helpers --------------------------------------------------------------------------------

    async def _project(self, notice: Notice) -> Project:
        if not notice.project:
            raise PermanentDeliveryError("the notice names no project")
        return await self.ctx.service.project(notice.project)

    async def _dm(self, notice: Notice) -> str:
        person = notice.recipient
        if person is None or person.platform != PLATFORM:
            raise PermanentDeliveryError(f"{notice.kind} for {notice.ref} has no Slack recipient")
        return await self.ctx.open_dm(person.user_id)

    async def _requester_place(self, notice: Notice) -> tuple[str, str | None]:
        """Where the requester hears back: the thread of their message in an intake channel, else a DM.

        Never a thread in any other channel: a message recorded from a shared channel may be the client's.
        """
        rec = record_from_snapshot(notice.data["request"])
        project = await self._project(notice)
        intake = set((project.platforms.get(PLATFORM) or {}).get("intake_channels") or ())
        src = rec.source
        if src and src.platform == PLATFORM and src.channel in intake and src.message_id:
            return str(src.channel), src.thread or src.message_id
        return await self._dm(notice), None


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
