"""Replay protection for `POST /slack/events`.

Slack's signature covers the timestamp and the body, and requests older than five minutes are refused;
within those five minutes a captured request could still be sent again. Each accepted signature is
remembered as a processed key, so a second sight of it is refused. Slack's own Events API retries carry
`X-Slack-Retry-Num`: a retry sent within the same second as the original has the same signature, and is
let through to the event de-duplication (by `event_id`), which answers it without a second effect.
Commands and clicks are never retried by Slack, and each carries its own `trigger_id`, so a repeated
signature there is always a replay.

A `/request` command is acknowledged only once its outbox row is written; its signature is claimed in
that same write (`adapters/slack/intake.py`), so the replay guard costs that acknowledgement nothing extra.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.errors import StorageUnavailable

from .context import SlackContext

log = logging.getLogger("intake.slack")

PREFIX = "slack:sig:"
KEEP = timedelta(minutes=10)  # twice the window in which Slack's signatures are accepted at all
PRUNE_EVERY = timedelta(minutes=1)
# A `/request` command's key ties its outbox row to its one recording (adapters/slack/intake.py). The row
# is gone once recorded, or given up after a day; a week on, nothing can record it again.
COMMAND_PREFIX = "slack:command:"
COMMAND_KEEP = timedelta(days=7)


def signature_key(signature: str) -> str:
    """The processed key under which a request's signature is remembered."""
    return PREFIX + signature[:200]


async def first_sight(ctx: SlackContext, signature: str, *, is_retry: bool) -> bool:
    """Remember `signature`; return False if it was seen before (a replay) and this is not a Slack retry.

    The claim rides on the acknowledgement path's group commit (`AckLog.claim_key_soon`), so it costs
    a share of one commit rather than a transaction of its own queueing behind background work."""
    try:
        fresh = await ctx.acks.claim_key_soon(signature_key(signature), at=ctx.service.clock.now())
    except StorageUnavailable as exc:
        # Without the database nothing can be recorded anyway; the handlers say so to the user.
        log.warning("slack: cannot check the signature for a replay (%s); handling the request", exc)
        return True
    if not fresh and not is_retry:
        log.warning("slack: refused a replayed request (its signature was already used)")
    return fresh or is_retry


def forget_old_signatures(ctx: SlackContext) -> None:
    """At most once per `PRUNE_EVERY`, clear signatures past their window (they can never be accepted
    again), and the keys of commands recorded long ago, in the background: not on any acknowledgement's
    time."""
    now = ctx.service.clock.now()
    if ctx.replay_pruned_at is None or now - ctx.replay_pruned_at >= PRUNE_EVERY:
        ctx.replay_pruned_at = now
        ctx.spawn(_forget_old(ctx, now=now), name="replay-prune")


async def _forget_old(ctx: SlackContext, *, now: datetime) -> None:
    try:
        await ctx.acks.forget_keys(PREFIX, before=now - KEEP)
        await ctx.acks.forget_keys(COMMAND_PREFIX, before=now - COMMAND_KEEP)
    except StorageUnavailable as exc:
        log.warning("slack: could not clear old replay-guard keys (%s); trying again later", exc)
