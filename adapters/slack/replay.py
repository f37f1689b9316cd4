"""Replay protection for `POST /slack/events`.

Slack's signature covers the timestamp and the body, and bolt refuses timestamps older than five minutes;
within those five minutes a captured request could still be sent again. Each accepted signature is
remembered in `processed_keys`, so a second sight of it is refused. Slack's own Events API retries carry
`X-Slack-Retry-Num`: a retry sent within the same second as the original has the same signature, and is
let through to the event de-duplication (by `event_id`), which answers it without a second effect.
Commands and clicks are never retried by Slack, and each carries its own `trigger_id`, so a repeated
signature there is always a replay.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.errors import StorageUnavailable

from .context import SlackContext

log = logging.getLogger("intake.slack")

PREFIX = "slack:sig:"
KEEP = timedelta(minutes=10)  # twice the window in which Slack's signatures are accepted at all
PRUNE_EVERY = timedelta(minutes=1)


async def first_sight(ctx: SlackContext, signature: str, *, is_retry: bool) -> bool:
    """Remember `signature`; return False if it was seen before (a replay) and this is not a Slack retry."""
    now = ctx.service.clock.now()
    try:
        async with ctx.store.transaction() as tx:
            fresh = await tx.claim_key(PREFIX + signature[:200], at=now)
        if ctx.replay_pruned_at is None or now - ctx.replay_pruned_at >= PRUNE_EVERY:
            # Signatures past their window can never be accepted again: no need to remember them.
            ctx.replay_pruned_at = now
            await ctx.store.forget_keys(PREFIX, before=now - KEEP)
    except StorageUnavailable as exc:
        # Without the database nothing can be recorded anyway; the handlers say so to the user.
        log.warning("slack: cannot check the signature for a replay (%s); handling the request", exc)
        return True
    if not fresh and not is_retry:
        log.warning("slack: refused a replayed request (its signature was already used)")
    return fresh or is_retry
