"""What the bot does with each Slack payload. `HANDLERS` maps payload types to handlers in one table.

Every handler acknowledges first. Slash commands and clicks then continue in a background task (so the
ack goes out in milliseconds and modals open right after it, while the trigger id is fresh). Modal
submissions do their (fast, local) work before the ack, because that is the only way to show errors
beside the fields.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse

from bot import messages as core_messages
from bot.domain import Actor, DecisionKind, Notice, RequestRecord, RequestStatus, Source, VerdictKind
from bot.errors import Duplicate, IntakeError, InvalidInput, StorageUnavailable

from . import blocks as bk
from . import messages
from .context import SLACK_FAILURES, SlackContext, log
from .replay import deferred_claim, first_sight_deferred
from .translate import (
    PLATFORM,
    command_source,
    decline_form_from_view,
    errors_for,
    event_key,
    intake_from_view,
    load_metadata,
    message_source,
    parse_project_prefix,
    scope_change_from_view,
    user_id_of,
    view_values,
)

REQUEST_COMMAND = "/request"

Ack = Callable[..., Awaitable[Any]]
Handler = Callable[[SlackContext, dict[str, Any], Ack], Awaitable[None]]


# --- slash commands -----------------------------------------------------------------------------


async def on_request_command(ctx: SlackContext, body: dict[str, Any], ack: Ack) -> None:
    """`/request TEXT` records a request; `/request` alone opens the intake form.

    A request acknowledged to Slack is never lost, and the ack stays fast: before acking, the command
    itself is written to the outbox, together with the replay guard's claim on its signature, in one
    group commit (`SqlStore.accept_work`: one transaction for every ack waiting, on a connection of its
    own; well under a millisecond on SQLite). The request is recorded after the ack, in this process, by
    the `CommandRecorder`, in ack order, once the server has a quiet moment (at most a few seconds later
    under a burst: see adapters/web/pace.py). If the process dies first, the outbox hands the command to
    a dispatcher once `COMMAND_GRACE` has passed, and it is recorded then; the row's idempotency key
    makes sure it is recorded once.

    Why not record the request itself before the ack? Recording needs `users.info` (the requester's
    e-mail decides PM rights and the project), so the ack would wait for Slack whenever its API is slow;
    and resolving and recording one request costs a dozen statements and the scope check, ten times
    the one INSERT. `python -m bench.ack` measures the result against a bare bolt app.
    """
    claim = deferred_claim()  # this handler makes the replay check itself, in its first write
    slug, text = parse_project_prefix(body.get("text", ""))
    if not text:
        if not await first_sight_deferred(ctx, claim):
            await ack()  # the route answers 401
            return
        await ack()
        ctx.spawn(
            open_intake_modal(
                ctx, body["trigger_id"], user_id_of(body), channel=body.get("channel_id"), slug=slug, text=""
            ),
            name="intake-modal",
        )
        return
    command = command_work(body)
    try:
        fresh = await ctx.store.accept_work(
            command, grace=COMMAND_GRACE, claim=claim.key if claim else None, at=ctx.service.clock.now()
        )
    except StorageUnavailable as exc:
        await ack()
        log.error("slack: /request not recorded: %s", exc)
        ctx.spawn(ctx.respond(body["response_url"], text=messages.NOT_RECORDED), name="request")
        return
    if not fresh:
        assert claim is not None
        claim.replay = True
        log.warning("slack: refused a replayed request (its signature was already used)")
        await ack()  # the route answers 401
        return
    await ack()
    # users.info runs while the command waits its turn, however slow Slack is
    ctx.recorder.put(command, ctx.prefetch_actor(user_id_of(body)))


async def record_next(ctx: SlackContext, command: Notice, sender: asyncio.Future[Actor]) -> None:
    """Record one accepted command in this process (the `CommandRecorder` calls this in ack order)."""
    actor = await sender
    _, reply = await record_command(ctx, command, in_process=True, actor=actor)
    if reply is not None:
        ctx.spawn(ctx.respond(reply["url"], text=reply["text"], blocks=reply.get("blocks")), name="receipt")


COMMAND = "slack_command"
# How long an accepted command is left to the process that acked it. Long enough for that process to work
# through a burst (2,000 commands take SQLite about a minute to record), short enough for a restart.
COMMAND_GRACE = timedelta(seconds=30)


def command_work(body: dict[str, Any]) -> Notice:
    """The outbox row that carries a `/request` command from its ack to its recording."""
    fields = ("command", "text", "user_id", "user_name", "channel_id", "team_id", "response_url", "trigger_id")
    data = {k: body.get(k) for k in fields}
    # Slack never retries a slash command, so a fresh key per delivery is enough: it ties the row to its
    # one recording (the request's idempotency key), whichever process ends up recording it.
    key = f"slack:command:{uuid.uuid4().hex}"
    return Notice(
        kind=COMMAND,
        platform=PLATFORM,
        audience="person",
        text=str(body.get("text") or ""),
        recipient=Actor(PLATFORM, user_id_of(body), name=body.get("user_name") or None),
        data=data,
        dedupe_key=key,
    )


async def record_command(
    ctx: SlackContext,
    command: Notice,
    *,
    in_process: bool,
    actor: Actor | None = None,
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Record an accepted `/request` command once. Return the outcome kept with the outbox row and the
    reply for the user's response_url (None when there is nothing to say).

    Runs soon after the ack (`in_process`, through the `CommandRecorder`, one command at a time, so
    requests are numbered in the order their acks went out), or from the outbox when the acking
    process died first.
    Raises `StorageUnavailable` from the outbox, so the command stays queued until the database is back.
    """
    body = command.data
    key = command.dedupe_key or ""
    url = str(body.get("response_url") or "")
    slug, text = parse_project_prefix(str(body.get("text") or ""))
    if actor is None:
        actor = await ctx.actor(user_id_of(body))
    result: dict[str, Any] | None
    reply: dict[str, Any] | None
    try:
        project = await ctx.service.resolve_project(actor, slug=slug, channel=body.get("channel_id"))
        rec = await ctx.service.submit_request(
            project=project.slug, actor=actor, text=text, source=command_source(body), idempotency_key=key
        )
        result = {"ref": rec.ref}
        reply = {"url": url, "text": core_messages.receipt(rec), "blocks": bk.receipt_blocks(rec)}
    except Duplicate:
        log.info("slack: %s was already recorded", key)
        result, reply = {"duplicate": True}, None
    except StorageUnavailable as exc:
        if in_process:
            log.warning("slack: /request not recorded yet (%s); the outbox retries it", exc)
            return None, None
        raise
    except IntakeError as exc:
        result, reply = {"refused": str(exc)}, {"url": url, "text": str(exc)}
    except Exception:
        log.exception("slack: /request failed")
        result, reply = {"error": True}, {"url": url, "text": messages.NOT_RECORDED_ERROR}
    if in_process:
        try:
            await ctx.store.finish_work(key)
        except StorageUnavailable as exc:  # the request is recorded; the outbox finds it a duplicate later
            log.warning("slack: could not mark %s done: %s", key, exc)
    if "ref" in result:
        ctx.wake()
    return result, (reply if reply and url else None)


async def open_intake_modal(
    ctx: SlackContext,
    trigger_id: str,
    user_id: str,
    *,
    channel: str | None,
    slug: str | None,
    text: str,
    message_ts: str | None = None,
    thread_ts: str | None = None,
) -> None:
    actor = await ctx.actor(user_id)
    meta = {"channel": channel, "slug": slug, "ts": message_ts, "thread": thread_ts}
    try:
        projects = await ctx.service.projects()
        try:
            chosen: str | None = (await ctx.service.resolve_project(actor, slug=slug, channel=channel)).slug
        except InvalidInput:
            chosen = None
        view = bk.intake_modal(metadata=meta, text=text, projects=projects, project=chosen)
    except StorageUnavailable:
        view = bk.message_modal("Not available", messages.UNAVAILABLE)
    except IntakeError as exc:
        view = bk.message_modal("Cannot record", str(exc))
    await _open(ctx, trigger_id, view, user_id, channel)


async def on_scope_command(ctx: SlackContext, body: dict[str, Any], ack: Ack) -> None:
    """`/scope [@project]`: the project's scope, shown to the asker only."""
    await ack()

    async def work() -> None:
        actor = await ctx.actor(user_id_of(body))
        slug, _ = parse_project_prefix(body.get("text", ""))
        try:
            project = await ctx.service.resolve_project(actor, slug=slug, channel=body.get("channel_id"))
        except StorageUnavailable:
            await ctx.respond(body["response_url"], text=messages.UNAVAILABLE)
            return
        except IntakeError as exc:
            await ctx.respond(body["response_url"], text=str(exc))
            return
        await ctx.respond(
            body["response_url"],
            text=messages.cut(core_messages.scope_summary(project), messages.FALLBACK_LIMIT),
            blocks=bk.scope_blocks(project),
        )

    ctx.spawn(work(), name="scope")


async def on_requests_command(ctx: SlackContext, body: dict[str, Any], ack: Ack) -> None:
    """`/requests [@project]`: the open requests of the channel's project (or of every project)."""
    await ack()

    async def work() -> None:
        actor = await ctx.actor(user_id_of(body))
        slug, _ = parse_project_prefix(body.get("text", ""))
        try:
            try:
                project = await ctx.service.resolve_project(actor, slug=slug, channel=body.get("channel_id"))
                recs = await ctx.service.list_requests(project=project.slug, open_only=True)
                title = messages.open_requests_title(project.name)
            except InvalidInput as exc:
                if exc.field != "project":
                    raise
                recs = await ctx.service.list_requests(open_only=True)
                title = messages.open_requests_title(None)
        except StorageUnavailable:
            await ctx.respond(body["response_url"], text=messages.UNAVAILABLE)
            return
        except IntakeError as exc:
            await ctx.respond(body["response_url"], text=str(exc))
            return
        text = "\n".join(core_messages.request_line(r) for r in recs) or messages.NO_OPEN_REQUESTS
        await ctx.respond(
            body["response_url"],
            text=messages.cut(f"{title}\n{text}", messages.FALLBACK_LIMIT),
            blocks=bk.request_list_blocks(title, recs),
        )

    ctx.spawn(work(), name="requests")


# --- the message shortcut -----------------------------------------------------------------------


async def on_record_shortcut(ctx: SlackContext, body: dict[str, Any], ack: Ack) -> None:
    """ "Record as client request" on a message: the intake form, pre-filled with the message."""
    await ack()
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id")
    ctx.spawn(
        open_intake_modal(
            ctx,
            body["trigger_id"],
            user_id_of(body),
            channel=channel,
            slug=None,
            text=message.get("text", ""),
            message_ts=message.get("ts"),
            thread_ts=message.get("thread_ts"),
        ),
        name="shortcut",
    )


async def on_intake_submit(ctx: SlackContext, body: dict[str, Any], ack: Ack) -> None:
    view = body["view"]
    values = view_values(view)
    meta = load_metadata(view)
    given, errors = intake_from_view(values)
    if given is None:
        await ack(response_action="errors", errors=errors)
        return
    user_id = user_id_of(body)
    actor = await ctx.actor(user_id)
    channel = meta.get("channel")
    blocks_here = list(values)
    try:
        project = await ctx.service.resolve_project(actor, slug=given.project or meta.get("slug"), channel=channel)
        source: Source
        if meta.get("ts"):
            permalink = await _permalink(ctx, channel, meta["ts"])
            source = message_source(channel, meta["ts"], meta.get("thread"), permalink)
        else:
            source = Source(PLATFORM, channel=channel)
        rec = await ctx.service.submit_request(
            project=project.slug,
            actor=actor,
            text=given.text,
            source=source,
            client_words=given.client_words,
            urgency=given.urgency,
            requested_date=given.requested_date,
        )
    except StorageUnavailable as exc:
        log.error("slack: intake form not recorded: %s", exc)
        await ack(response_action="errors", errors={"what": messages.NOT_SAVED})
        return
    except InvalidInput as exc:
        await ack(response_action="errors", errors=errors_for(exc.field, str(exc), blocks=blocks_here, default="what"))
        return
    except IntakeError as exc:
        await ack(response_action="errors", errors=errors_for(None, str(exc), blocks=blocks_here, default="what"))
        return
    await ack()
    ctx.wake()
    ctx.spawn(
        ctx.tell(user_id, core_messages.receipt(rec), channel=channel, blocks=bk.receipt_blocks(rec)), name="receipt"
    )


async def _permalink(ctx: SlackContext, channel: str | None, ts: str) -> str | None:
    if not channel:
        return None
    try:
        resp = await ctx.client.chat_getPermalink(channel=channel, message_ts=ts)
        return str(resp.get("permalink")) if resp.get("permalink") else None
    except SLACK_FAILURES as exc:
        log.warning("slack: no permalink for %s/%s: %s", channel, ts, exc)
        return None


# --- the review card's buttons ------------------------------------------------------------------


def _action(body: dict[str, Any]) -> dict[str, Any]:
    actions = body.get("actions") or [{}]
    return dict(actions[0])


def _where(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """The channel and message a click came from (None for App Home)."""
    container = body.get("container") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
    return channel, container.get("message_ts") or (body.get("message") or {}).get("ts")


def _from_home(body: dict[str, Any]) -> bool:
    return (body.get("view") or {}).get("type") == "home"


def on_click(work: Callable[[SlackContext, dict[str, Any], Actor, str], Awaitable[None]], name: str) -> Handler:
    """Acknowledge a button at once, then run `work(ctx, body, actor, ref)`, telling the clicker about refusals."""

    async def handler(ctx: SlackContext, body: dict[str, Any], ack: Ack) -> None:
        await ack()

        async def run() -> None:
            user_id = user_id_of(body)
            channel, _ = _where(body)
            ref = str(_action(body).get("value", ""))
            try:
                actor = await ctx.actor(user_id)
                await work(ctx, body, actor, ref)
            except StorageUnavailable as exc:
                log.error("slack: %s on %s failed: %s", name, ref, exc)
                await ctx.tell(user_id, messages.NOT_SAVED, channel=channel)
            except IntakeError as exc:
                await ctx.tell(user_id, str(exc), channel=channel)
            except Exception:
                log.exception("slack: %s on %s failed", name, ref)
                await ctx.tell(user_id, messages.SOMETHING_FAILED, channel=channel)
            if _from_home(body):
                await publish_home(ctx, user_id)

        ctx.spawn(run(), name=name)

    return handler


async def approve_clicked(ctx: SlackContext, body: dict[str, Any], actor: Actor, ref: str) -> None:
    rec = await ctx.service.get_request(ref)
    if rec.verdict.verdict is VerdictKind.IN_SCOPE:
        await ctx.service.approve(ref, actor=actor)
        ctx.wake()
        return
    rec = await ctx.service.authorize_decision(ref, actor=actor, what="approve")
    await _open(
        ctx, body["trigger_id"], bk.scope_change_modal(rec, metadata={"ref": rec.ref}), actor.user_id, _where(body)[0]
    )


async def decline_clicked(ctx: SlackContext, body: dict[str, Any], actor: Actor, ref: str) -> None:
    rec = await ctx.service.authorize_decision(ref, actor=actor, what="decline")
    defaults = await ctx.service.decline_form_defaults(ref, actor=actor)
    project = await ctx.service.project(rec.project)
    view = bk.decline_modal(rec, defaults, metadata={"ref": rec.ref, "tz": project.timezone})
    await _open(ctx, body["trigger_id"], view, actor.user_id, _where(body)[0])


async def ask_clicked(ctx: SlackContext, body: dict[str, Any], actor: Actor, ref: str) -> None:
    rec = await ctx.service.authorize_decision(ref, actor=actor, what="ask for details")
    await _open(ctx, body["trigger_id"], bk.ask_modal(rec, metadata={"ref": rec.ref}), actor.user_id, _where(body)[0])


async def answer_clicked(ctx: SlackContext, body: dict[str, Any], actor: Actor, ref: str) -> None:
    rec = await ctx.service.get_request(ref, actor=actor)
    if rec.status is not RequestStatus.NEEDS_INFO:
        raise InvalidInput(messages.not_waiting_for_details(rec.ref, rec.status.label))
    question = next((d.note for d in reversed(rec.decisions) if d.kind is DecisionKind.NEEDS_INFO), "")
    await _open(
        ctx,
        body["trigger_id"],
        bk.answer_modal(rec, question, metadata={"ref": rec.ref}),
        actor.user_id,
        _where(body)[0],
    )


# --- modal submissions for decisions ------------------------------------------------------------


def on_submit(
    work: Callable[[SlackContext, dict[str, Any], Actor, str, dict[str, Any]], Awaitable[dict[str, str] | None]],
    *,
    default_block: str,
) -> Handler:
    """Run a decision's modal submission before the ack, so its errors show beside the fields."""

    async def handler(ctx: SlackContext, body: dict[str, Any], ack: Ack) -> None:
        view = body["view"]
        values = view_values(view)
        meta = load_metadata(view)
        ref = str(meta.get("ref", ""))
        blocks_here = list(values)
        try:
            actor = await ctx.actor(user_id_of(body))
            errors = await work(ctx, body, actor, ref, values)
        except StorageUnavailable as exc:
            log.error("slack: %s for %s not saved: %s", view.get("callback_id"), ref, exc)
            await ack(response_action="errors", errors={default_block: messages.NOT_SAVED})
            return
        except InvalidInput as exc:
            errors = errors_for(exc.field, str(exc), blocks=blocks_here, default=default_block)
        except IntakeError as exc:
            errors = errors_for(None, str(exc), blocks=blocks_here, default=default_block)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        ctx.wake()

    return handler


async def scope_change_submitted(
    ctx: SlackContext, body: dict[str, Any], actor: Actor, ref: str, values: dict[str, Any]
) -> dict[str, str] | None:
    change = scope_change_from_view(values)
    missing = {
        block: message
        for block, value, message in (
            ("estimate", change.estimate, messages.NEED_ESTIMATE),
            ("schedule_impact", change.schedule_impact, messages.NEED_SCHEDULE_IMPACT),
        )
        if not value
    }
    if missing:
        return missing
    await ctx.service.approve(ref, actor=actor, change=change)
    return None


async def ask_submitted(
    ctx: SlackContext, body: dict[str, Any], actor: Actor, ref: str, values: dict[str, Any]
) -> dict[str, str] | None:
    await ctx.service.ask_details(ref, actor=actor, question=values.get("question") or "")
    return None


async def answer_submitted(
    ctx: SlackContext, body: dict[str, Any], actor: Actor, ref: str, values: dict[str, Any]
) -> dict[str, str] | None:
    await ctx.service.answer(ref, actor=actor, text=values.get("answer") or "")
    return None


async def decline_submitted(
    ctx: SlackContext, body: dict[str, Any], actor: Actor, ref: str, values: dict[str, Any]
) -> dict[str, str] | None:
    meta = load_metadata(body["view"])
    given = decline_form_from_view(values, timezone=str(meta.get("tz") or "UTC"))
    if given.form is None:
        return given.errors
    await ctx.service.decline(ref, actor=actor, form=given.form)
    return None


async def letter_edit_submitted(
    ctx: SlackContext, body: dict[str, Any], actor: Actor, ref: str, values: dict[str, Any]
) -> dict[str, str] | None:
    meta = load_metadata(body["view"])
    rec = await ctx.service.edit_letter(
        ref, actor=actor, body_text=values.get("body") or "", subject=(values.get("subject") or "").strip() or None
    )
    await refresh_letter(ctx, rec, actor, channel=meta.get("channel"), ts=meta.get("ts"))
    return None


# --- the letter DM's buttons --------------------------------------------------------------------


async def _letter_for(ctx: SlackContext, actor: Actor, ref: str) -> RequestRecord:
    rec = await ctx.service.get_request(ref, actor=actor)
    if rec.letter is None:
        project = await ctx.service.project(rec.project)
        if not project.is_pm(actor):
            raise InvalidInput(messages.letter_for_pms_only(project.name, rec.ref))
        raise InvalidInput(messages.NO_LETTER)
    return rec


async def letter_edit_clicked(ctx: SlackContext, body: dict[str, Any], actor: Actor, ref: str) -> None:
    rec = await _letter_for(ctx, actor, ref)
    assert rec.letter is not None
    if rec.status is not RequestStatus.LETTER_DRAFTED:
        raise InvalidInput(messages.letter_already_sent(rec.ref))
    if len(rec.letter.body_text) > bk.INPUT_MAX:
        raise InvalidInput(messages.LETTER_TOO_LONG_TO_EDIT)
    channel, ts = _where(body)
    view = bk.letter_edit_modal(rec, rec.letter.to_dict(), metadata={"ref": rec.ref, "channel": channel, "ts": ts})
    await _open(ctx, body["trigger_id"], view, actor.user_id, channel)


async def letter_eml_clicked(ctx: SlackContext, body: dict[str, Any], actor: Actor, ref: str) -> None:
    """Upload the letter as an .eml file, only ever into the PM's own DM."""
    from adapters.email.actions import letter_eml
    from adapters.email.config import eml_sender

    await _letter_for(ctx, actor, ref)
    filename, data = await letter_eml(ctx.service, ref, actor=actor, sender=eml_sender(ctx.settings))
    channel, ts = _where(body)
    if not channel or not channel.startswith("D"):
        channel = await ctx.open_dm(actor.user_id)
        ts = None
    try:
        await ctx.client.files_upload_v2(
            channel=channel,
            thread_ts=ts,
            content=data,
            filename=filename,
            title=filename,
            initial_comment=messages.eml_comment(ref.upper()),
        )
    except SLACK_FAILURES as exc:
        log.error("slack: .eml upload for %s failed: %s", ref, exc)
        await ctx.tell(actor.user_id, messages.EML_UPLOAD_FAILED, channel=channel)


async def letter_sent_clicked(ctx: SlackContext, body: dict[str, Any], actor: Actor, ref: str) -> None:
    rec = await ctx.service.mark_letter_sent(ref, actor=actor, via="manual")
    channel, ts = _where(body)
    await refresh_letter(ctx, rec, actor, channel=channel, ts=ts)


async def letter_send_email_clicked(ctx: SlackContext, body: dict[str, Any], actor: Actor, ref: str) -> None:
    """Show who the letter would go to; it is sent only when the PM confirms in the modal."""
    if not ctx.can_send_email():
        raise InvalidInput(messages.EMAIL_NOT_SET_UP)
    rec = await _letter_for(ctx, actor, ref)
    recipients = await ctx.service.letter_email_recipients(rec.ref, actor=actor)
    channel, ts = _where(body)
    meta = {"ref": rec.ref, "rcpt": recipients_digest(recipients.summary()), "channel": channel, "ts": ts}
    await _open(
        ctx, body["trigger_id"], bk.send_email_modal(rec, recipients.summary(), metadata=meta), actor.user_id, channel
    )


def recipients_digest(summary: str) -> str:
    """A short fingerprint of the recipients the PM saw, to notice if they changed before the PM confirmed."""
    return hashlib.sha256(summary.encode()).hexdigest()[:16]


async def on_send_email_submit(ctx: SlackContext, body: dict[str, Any], ack: Ack) -> None:
    view = body["view"]
    meta = load_metadata(view)
    ref = str(meta.get("ref", ""))
    try:
        actor = await ctx.actor(user_id_of(body))
        recipients = await ctx.service.letter_email_recipients(ref, actor=actor)
        if recipients_digest(recipients.summary()) != meta.get("rcpt"):
            problem = messages.recipients_changed(ref, recipients.summary())
        else:
            rec = await ctx.service.send_letter_email(ref, actor=actor, confirmed=recipients)
            problem = None
    except StorageUnavailable:
        problem = messages.NOT_SAVED
    except IntakeError as exc:
        problem = str(exc)
    if problem is not None:
        await ack(response_action="update", view=bk.message_modal("Not sent", problem))
        return
    await ack()
    await refresh_letter(ctx, rec, actor, channel=meta.get("channel"), ts=meta.get("ts"))


async def refresh_letter(
    ctx: SlackContext, rec: RequestRecord, actor: Actor, *, channel: str | None, ts: str | None
) -> None:
    """Re-render the letter DM (after an edit or once sent) through the outbox."""
    if rec.letter is None or not channel or not ts:
        ctx.wake()
        return
    snapshot = rec.to_dict(include_letter=False)
    snapshot.pop("events", None)
    snapshot.pop("letter", None)
    await ctx.queue(
        Notice(
            kind="letter_update",
            platform=PLATFORM,
            audience="person",
            text=core_messages.letter_text(rec, rec.letter),
            ref=rec.ref,
            project=rec.project,
            recipient=actor,
            data={
                "request": snapshot,
                "letter": rec.letter.to_dict(),
                "talking_points": rec.letter.talking_points,
                "channel": channel,
                "ts": ts,
            },
        )
    )


# --- App Home -----------------------------------------------------------------------------------


async def on_home_opened(ctx: SlackContext, body: dict[str, Any], ack: Ack) -> None:
    await ack()
    event = body.get("event") or {}
    if event.get("tab", "home") != "home":
        return
    ctx.spawn(publish_home(ctx, str(event.get("user", ""))), name="home")


async def publish_home(ctx: SlackContext, user_id: str) -> None:
    actor = await ctx.actor(user_id)
    try:
        projects = await ctx.service.projects()
        mine_projects = [p.slug for p in projects if p.is_pm(actor)]
        queue: list[RequestRecord] = []
        for slug in mine_projects:
            queue += await ctx.service.list_requests(project=slug, open_only=True)
        mine = await ctx.service.list_requests(requester=actor)
    except StorageUnavailable as exc:
        log.error("slack: App Home not refreshed: %s", exc)
        return
    mine = sorted(mine, key=lambda r: r.created_at, reverse=True)[:40]
    view = bk.home_view(queue=queue, mine=mine, is_pm=bool(mine_projects))
    try:
        await ctx.client.views_publish(user_id=user_id, view=view)
    except SLACK_FAILURES as exc:
        log.error("slack: views.publish for %s failed: %s", user_id, exc)


# --- plumbing -----------------------------------------------------------------------------------


async def _open(ctx: SlackContext, trigger_id: str, view: Any, user_id: str, channel: str | None) -> None:
    """Open a modal; if the trigger expired or Slack refused, say so instead of failing silently."""
    try:
        await ctx.client.views_open(trigger_id=trigger_id, view=view)
    except SLACK_FAILURES as exc:
        log.warning("slack: views.open failed: %s", exc)
        await ctx.tell(user_id, messages.FORM_NOT_OPENED, channel=channel)


# One table: (payload type, id) → handler. A new payload type is one line here.
HANDLERS: list[tuple[str, str, Handler]] = [
    ("command", REQUEST_COMMAND, on_request_command),
    ("command", "/scope", on_scope_command),
    ("command", "/requests", on_requests_command),
    ("shortcut", bk.RECORD_SHORTCUT, on_record_shortcut),
    ("action", bk.APPROVE, on_click(approve_clicked, "approve")),
    ("action", bk.DECLINE, on_click(decline_clicked, "decline")),
    ("action", bk.ASK, on_click(ask_clicked, "ask")),
    ("action", bk.ANSWER, on_click(answer_clicked, "answer")),
    ("action", bk.LETTER_EDIT, on_click(letter_edit_clicked, "letter-edit")),
    ("action", bk.LETTER_EML, on_click(letter_eml_clicked, "letter-eml")),
    ("action", bk.LETTER_SENT, on_click(letter_sent_clicked, "letter-sent")),
    ("action", bk.LETTER_SEND_EMAIL, on_click(letter_send_email_clicked, "letter-send")),
    ("view", bk.INTAKE_VIEW, on_intake_submit),
    ("view", bk.SCOPE_CHANGE_VIEW, on_submit(scope_change_submitted, default_block="note")),
    ("view", bk.ASK_VIEW, on_submit(ask_submitted, default_block="question")),
    ("view", bk.ANSWER_VIEW, on_submit(answer_submitted, default_block="answer")),
    ("view", bk.DECLINE_VIEW, on_submit(decline_submitted, default_block="reason_text")),
    ("view", bk.LETTER_EDIT_VIEW, on_submit(letter_edit_submitted, default_block="body")),
    ("view", bk.SEND_EMAIL_VIEW, on_send_email_submit),
    ("event", "app_home_opened", on_home_opened),
]


def register(ctx: SlackContext, bolt: AsyncApp) -> None:
    """Attach every handler of `HANDLERS` to the bolt app, plus the event de-duplication middleware."""

    async def dedupe_events(body: dict[str, Any], next: Callable[[], Awaitable[None]]) -> BoltResponse | None:
        key = event_key(body)
        if key:
            try:
                fresh = await ctx.store.claim_key_soon(key, at=ctx.service.clock.now())
            except StorageUnavailable as exc:
                log.warning("slack: cannot check %s for a retry (%s); handling it", key, exc)
                fresh = True
            if not fresh:
                log.info("slack: %s was already handled; ignoring the retry", key)
                return BoltResponse(status=200, body="")
        await next()
        return None

    bolt.middleware(dedupe_events)
    for kind, ident, handler in HANDLERS:
        listener = _guard(ctx, handler)
        if kind == "command":
            bolt.command(ident)(listener)
        elif kind == "shortcut":
            bolt.shortcut(ident)(listener)
        elif kind == "action":
            bolt.action(ident)(listener)
        elif kind == "view":
            bolt.view(ident)(listener)
        elif kind == "event":
            bolt.event(ident)(listener)
        else:  # pragma: no cover - a typo in the table
            raise ValueError(f"unknown payload type {kind!r}")


def request_listener(ctx: SlackContext) -> Callable[..., Awaitable[None]]:
    """`/request`'s handler, guarded, for the route that calls it without bolt."""
    return _guard(ctx, on_request_command)


def _guard(ctx: SlackContext, handler: Handler) -> Callable[..., Awaitable[None]]:
    """Wrap a handler so an unexpected error is logged and still acknowledged: Slack never sees a 500."""

    async def listener(ack: Ack, body: dict[str, Any]) -> None:
        acked = False

        async def once(*args: Any, **kwargs: Any) -> Any:
            nonlocal acked
            acked = True
            return await ack(*args, **kwargs)

        try:
            await handler(ctx, body, once)
        except Exception:
            logging.getLogger("intake.slack").exception("slack: handler %s failed", handler.__name__)
            if not acked:
                if body.get("type") == "view_submission":
                    await ack(response_action="errors", errors=_first_block_error(body))
                else:
                    await ack()
                    user = user_id_of(body)
                    if user:
                        ctx.spawn(ctx.tell(user, messages.SOMETHING_FAILED, channel=_where(body)[0]))

    return listener


def _first_block_error(body: dict[str, Any]) -> dict[str, str]:
    values = ((body.get("view") or {}).get("state") or {}).get("values") or {}
    first = next(iter(values), None)
    return {first: messages.SOMETHING_FAILED} if first else {}


__all__ = ["HANDLERS", "publish_home", "register"]
