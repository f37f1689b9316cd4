"""`/request`: from the acknowledgement to the recorded request, on one path for HTTP and Socket Mode.

`accept_request` is what both the `/slack/events` route and Socket Mode call. A request acknowledged to
Slack is never lost, and the acknowledgement stays fast: before it, the command itself is written to
the outbox together with the replay guard's claim on its signature, in one group commit (the
acknowledgement log's `accept_work`: one transaction for every acknowledgement waiting, on a connection
of its own; well under a millisecond on SQLite). The request is recorded after the acknowledgement, in
this process, by the `CommandRecorder`, in acknowledgement order, once the server has a quiet moment (at
most a few seconds later under a burst: see adapters/web/pace.py). If the process dies first, the
outbox hands the command to a dispatcher once `COMMAND_GRACE` has passed (`SlackSink.slack_command`),
and it is recorded then; the row's idempotency key makes sure it is recorded once.

Why not record the request itself before the acknowledgement? Recording needs `users.info` (the
requester's e-mail decides PM rights and the project), so the acknowledgement would wait for Slack
whenever its API is slow; and resolving and recording one request costs a dozen statements and the
scope check, ten times the one INSERT. `python -m bench.ack` measures the result against a bare bolt app.
"""

from __future__ import annotations

import asyncio
import enum
import uuid
from collections import deque
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.domain import Actor, Notice, Project
from bot.errors import Duplicate, IntakeError, StorageUnavailable, TemporaryDeliveryError
from bot.messages import receipt
from bot.service import Submission
from bot.text import language_for, t

from .blocks import receipt_blocks
from .context import SlackContext, log
from .replay import COMMAND_PREFIX, first_sight, signature_key
from .translate import PLATFORM, command_source, parse_project_prefix, user_id_of
from .workspace import refuse

RECORD_BATCH = 100  # accepted commands recorded in one transaction
WORKSPACE_WAIT = 2.0  # seconds a command's recording waits for auth.test to name the workspace served

COMMAND = "slack_command"
# How long an accepted command is left to the process that acked it. Long enough for that process to work
# through a burst (2,000 commands are recorded within seconds, their cards within half a minute), short enough
# for a restart.
COMMAND_GRACE = timedelta(seconds=30)


class Accepted(enum.Enum):
    RECORDING = "recording"  # written to the outbox: acknowledge; it is recorded shortly
    OPEN_FORM = "open_form"  # `/request` with no text: acknowledge, then open the intake form
    REPLAY = "replay"  # this signed request was seen before: refuse it (401), change nothing
    UNAVAILABLE = "unavailable"  # the database cannot be reached: acknowledge and say it was not recorded
    FAILED = "failed"  # something unexpected went wrong: acknowledge and say it was not recorded


async def accept_request(ctx: SlackContext, body: dict[str, Any], *, signature: str | None) -> Accepted:
    """Accept a `/request` command before its acknowledgement. `signature` is the request's Slack
    signature (None over Socket Mode, which has none): its replay check rides on the same write."""
    _, text = parse_project_prefix(str(body.get("text") or ""))
    if not text:
        if signature is not None and not await first_sight(ctx, signature, is_retry=False):
            return Accepted.REPLAY
        return Accepted.OPEN_FORM
    command = command_work(body)
    try:
        fresh = await ctx.acks.accept_work(
            command,
            grace=COMMAND_GRACE,
            claim=signature_key(signature) if signature is not None else None,
            at=ctx.service.clock.now(),
        )
    except StorageUnavailable as exc:
        log.error("slack: /request not recorded: %s", exc)
        return Accepted.UNAVAILABLE
    if not fresh:
        log.warning("slack: refused a replayed request (its signature was already used)")
        return Accepted.REPLAY
    # users.info runs while the command waits its turn, however slow Slack is
    ctx.recorder.put(command, ctx.prefetch_actor(user_id_of(body)))
    return Accepted.RECORDING


def command_work(body: dict[str, Any]) -> Notice:
    """The outbox row that carries a `/request` command from its ack to its recording."""
    fields = ("command", "text", "user_id", "user_name", "channel_id", "team_id", "response_url", "trigger_id")
    data = {k: body.get(k) for k in fields}
    # Slack never retries a slash command, so a fresh key per delivery is enough: it ties the row to its
    # one recording (the request's idempotency key), whichever process ends up recording it.
    key = f"{COMMAND_PREFIX}{uuid.uuid4().hex}"
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
    # Acknowledged before the workspace served was known (auth.test had not answered): check it now.
    if await ctx.workspace.known(within=WORKSPACE_WAIT if in_process else 0.0) is None:
        if in_process:
            log.warning("slack: %s waits until the workspace served is known; the outbox retries it", key)
            return None, None
        raise TemporaryDeliveryError("the Slack workspace this server serves is not known yet")
    if ctx.workspace.allows(body) is False:
        await refuse(
            ctx.store,
            body,
            at=ctx.service.clock.now(),
            user_id=user_id_of(body),
            what="the command /request",
            served=ctx.workspace.team_id,
        )
        result_refused: dict[str, Any] = {"refused": "another Slack workspace"}
        if in_process:
            await _finish(ctx, key)
        lang = (await ctx.language(actor)) if actor is not None else await ctx.service.house_language()
        return result_refused, ({"url": url, "text": t(lang, "slack.other_workspace")} if url else None)
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
        said = receipt(rec, language_for(project, actor))
        reply = {"url": url, "text": said, "blocks": receipt_blocks(said)}
    except Duplicate:
        log.info("slack: %s was already recorded", key)
        result, reply = {"duplicate": True}, None
    except StorageUnavailable as exc:
        if in_process:
            log.warning("slack: /request not recorded yet (%s); the outbox retries it", exc)
            return None, None
        raise
    except IntakeError as exc:
        lang = await ctx.language(actor)
        result, reply = {"refused": str(exc)}, {"url": url, "text": exc.say(lang)}
    except Exception:
        log.exception("slack: /request failed")
        lang = await ctx.language(actor)
        result, reply = {"error": True}, {"url": url, "text": t(lang, "slack.not_recorded_error")}
    if in_process:
        await _finish(ctx, key)
    if "ref" in result:
        ctx.wake()
    return result, (reply if reply and url else None)


async def _finish(ctx: SlackContext, key: str) -> None:
    try:
        await ctx.acks.finish_work(key)
    except StorageUnavailable as exc:  # the request is recorded; the outbox finds it a duplicate later
        log.warning("slack: could not mark %s done: %s", key, exc)


class CommandRecorder:
    """Records accepted `/request` commands in this process, in the order they were acknowledged (so
    requests are numbered in that order), once the server has a quiet moment (see adapters/web/pace.py):
    under a burst, the acknowledgements go first, and the review cards after the recording.
    The commands waiting are recorded together, up to `RECORD_BATCH` at a time: their projects are read
    once, their requests judged one by one with the acknowledgements that arrive meanwhile going first,
    and written in one transaction (which also drops their outbox rows), so a burst costs a commit and
    a handful of statements per batch rather than a dozen statements per request.

    The queue is only a shortcut: every command in it is already an outbox row, which any dispatcher
    records once its grace has passed if this process dies first."""

    def __init__(self, ctx: SlackContext) -> None:
        self.ctx = ctx
        self.queue: deque[tuple[datetime, Notice, asyncio.Future[Actor]]] = deque()
        self._task: asyncio.Task[Any] | None = None

    def put(self, command: Notice, sender: asyncio.Future[Actor]) -> None:
        self.queue.append((datetime.now(UTC), command, sender))
        if self._task is None or self._task.done():
            self._task = self.ctx.spawn(self._run(), name="request")

    async def _run(self) -> None:
        pacer = self.ctx.pacer()
        with pacer.ahead():  # the review cards and the rest wait for the recording
            while self.queue:
                accepted, _, _ = self.queue[0]
                await pacer.wait(accepted, ahead=True)
                batch = [self.queue.popleft() for _ in range(min(RECORD_BATCH, len(self.queue)))]
                try:
                    await self._record_batch(batch)
                except Exception:  # a batch's failure must not stop the ones behind it
                    log.exception("slack: recording %d commands failed; the outbox tries them again", len(batch))

    async def _record_batch(self, batch: list[tuple[datetime, Notice, asyncio.Future[Actor]]]) -> None:
        accepted = batch[0][0]
        commands = [(command, await sender) for _, command, sender in batch]
        ready: list[tuple[Notice, Actor, Project, Submission]] = []
        for (command, actor), prepared in zip(commands, await self._prepare(commands), strict=True):
            if prepared is None:  # the one-at-a-time path says why it is not recorded (or waits)
                await self._flush(ready, accepted)
                ready = []
                await self._record(command, actor)
            else:
                ready.append(prepared)
        await self._flush(ready, accepted)

    async def _prepare(
        self, commands: list[tuple[Notice, Actor]]
    ) -> list[tuple[Notice, Actor, Project, Submission] | None]:
        """What recording each command in a batch takes, or None where it needs the one-at-a-time path
        (the workspace is not known or not served, or the project cannot be resolved). The projects are
        read once for the whole batch."""
        asks: dict[int, tuple[Actor, str | None, str | None]] = {}
        for i, (command, actor) in enumerate(commands):
            body = command.data
            if (
                await self.ctx.workspace.known(within=WORKSPACE_WAIT) is None
                or self.ctx.workspace.allows(body) is False
            ):
                continue
            slug, _ = parse_project_prefix(str(body.get("text") or ""))
            asks[i] = (actor, slug, body.get("channel_id"))
        try:
            found = dict(zip(asks, await self.ctx.service.resolve_projects(list(asks.values())), strict=True))
        except Exception:  # the one-at-a-time path says what went wrong, or leaves it to the outbox
            found = {}
        out: list[tuple[Notice, Actor, Project, Submission] | None] = []
        for i, (command, actor) in enumerate(commands):
            project = found.get(i)
            if not isinstance(project, Project):
                out.append(None)
                continue
            key = command.dedupe_key or ""
            _, text = parse_project_prefix(str(command.data.get("text") or ""))
            source = command_source(command.data)
            out.append(
                (
                    command,
                    actor,
                    project,
                    Submission(project.slug, actor, text, source, idempotency_key=key, done_key=key),
                )
            )
        return out

    async def _flush(self, ready: list[tuple[Notice, Actor, Project, Submission]], accepted: datetime) -> None:
        if not ready:
            return

        async def between() -> None:
            """Between two requests being judged, the requests that arrived meanwhile are answered first
            (within the pacer's limit, counted from when the batch's first command was accepted)."""
            await asyncio.sleep(0)
            await self.ctx.pacer().wait(accepted, ahead=True)

        try:
            outcomes = await self.ctx.service.submit_requests([item for *_, item in ready], between=between)
        except StorageUnavailable as exc:
            log.warning("slack: %d requests not recorded yet (%s); the outbox retries them", len(ready), exc)
            return
        except Exception:
            log.exception("slack: recording %d requests together failed; recording them one by one", len(ready))
            for command, actor, _, _ in ready:
                await self._record(command, actor)
            return
        recorded = False
        for (command, actor, project, _), outcome in zip(ready, outcomes, strict=True):
            url = str(command.data.get("response_url") or "")
            if isinstance(outcome, Duplicate):
                log.info("slack: %s was already recorded", command.dedupe_key)
                continue
            if isinstance(outcome, IntakeError):
                text, blocks = outcome.say(await self.ctx.language(actor)), None
            else:
                recorded = True
                text = receipt(outcome, language_for(project, actor))
                blocks = receipt_blocks(text)
            if url:
                self._receipt(url, text, blocks)
        if recorded:
            self.ctx.wake()

    async def _record(self, command: Notice, actor: Actor) -> None:
        try:
            _, reply = await record_command(self.ctx, command, in_process=True, actor=actor)
        except Exception:  # one command's failure must not stop the ones behind it
            log.exception("slack: recording %s failed; the outbox tries it again", command.dedupe_key)
            return
        if reply is not None:
            self._receipt(reply["url"], reply["text"], reply.get("blocks"))

    def _receipt(self, url: str, text: str, blocks: Any) -> None:
        """Tell the requester what became of their command, right away: receipts held back for the
        recording would go out together afterwards, and delay the acknowledgements of that moment."""
        self.ctx.spawn(self.ctx.respond(url, text=text, blocks=blocks), name="receipt")
