"""The outbox dispatcher: delivers queued notices through each platform's sink, with retries.

Several dispatchers (in several processes) may share one outbox: rows are leased, so each is handled
by one worker at a time, and a row whose worker died is picked up again when its lease runs out (as
`uncertain`: that worker may have reached the platform before it died).

Notices of different requests go out at once, up to `concurrency` per dispatcher, so one slow call
holds up only its own request; notices of one request go out one after another, in order (the outbox
never hands out a request's next notice while an earlier one is open). In a server, deliveries go side
by side only while it is not answering requests: acknowledgements come first (adapters/web/pace.py).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import random
import socket
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .errors import PermanentDeliveryError, TemporaryDeliveryError
from .ports import Attempt, Clock, NoticeSink, OutboxRow, Store, SystemClock

log = logging.getLogger("intake.outbox")

PRUNE_BATCH = 200  # delivered rows deleted per transaction: ~20 ms on SQLite, so no acknowledgement waits long
PRUNE_EVERY = 600.0  # seconds between two prunings in a server process


async def prune_outbox(store: Store, *, keep: timedelta, now: datetime, batch: int = PRUNE_BATCH) -> int:
    """Delete the notices delivered more than `keep` before `now`, `batch` rows per transaction; return
    how many went. Where their messages were posted outlives them (see `Outbox.delivery_result`). The
    scheduled steps finished as long ago (reminders sent, clocks stopped) go the same way."""
    total = await _in_batches(store.outbox.prune_delivered, before=now - keep, batch=batch)
    await _in_batches(store.schedule.prune_finished, before=now - keep, batch=batch)
    return total


async def _in_batches(prune: Callable[..., Awaitable[int]], *, before: datetime, batch: int) -> int:
    total = 0
    while True:
        n = await prune(before=before, limit=batch)
        total += n
        if n < batch:
            return total
        await asyncio.sleep(0.05)  # let the acknowledgements and deliveries waiting for the database through


@dataclass
class RetryPolicy:
    base: float = 2.0  # seconds before the first retry
    cap: float = 300.0  # longest wait between two attempts
    give_up_after: float = 24 * 3600.0  # seconds since the notice was queued
    max_unexpected: int = 8  # attempts that crash with an unexpected error before giving up

    def delay(self, attempts: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return max(0.0, float(retry_after))
        backoff = min(self.cap, self.base * (2 ** max(0, attempts - 1)))
        return backoff * (0.8 + 0.4 * random.random())


@dataclass
class DispatchStats:
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    lost_lease: int = 0
    by_platform: dict[str, int] = field(default_factory=dict)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{random.randrange(1 << 30):x}"


class Dispatcher:
    def __init__(
        self,
        store: Store,
        sinks: Iterable[NoticeSink],
        *,
        clock: Clock | None = None,
        policy: RetryPolicy | None = None,
        lease_seconds: float = 60.0,
        batch: int = 20,
        poll_interval: float = 0.5,
        worker: str | None = None,
        pace: Callable[[datetime], Awaitable[None]] | None = None,
        concurrency: int = 8,
        turn: Callable[[datetime], AbstractAsyncContextManager[None]] | None = None,
    ) -> None:
        self.store = store
        self.sinks = {s.platform: s for s in sinks}
        # Sinks written before `attempt` existed take no such argument: they are called without it.
        self._tell_attempt = {
            s.platform: "attempt" in inspect.signature(s.deliver).parameters for s in self.sinks.values()
        }
        self.clock = clock or SystemClock()
        self.policy = policy or RetryPolicy()
        self.lease_seconds = lease_seconds
        self.batch = batch
        self.poll_interval = poll_interval
        self.worker = worker or worker_name()
        # Called before each delivery with the row's creation time; returns when the delivery may go
        # (a server lets its acknowledgements go first: see adapters/web/pace.py).
        self.pace = pace
        # Or, held for each whole delivery: a turn that lets deliveries run side by side only while the
        # server is quiet (see adapters/web/pace.py).
        self.turn = turn
        self.concurrency = max(1, concurrency)
        self.stats = DispatchStats()
        self._wake = asyncio.Event()
        self._stopping = False
        self._running: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        """Ask the running loop to look at the outbox now (e.g. right after this process queued a notice)."""
        self._wake.set()

    async def _claim(self, limit: int) -> list[OutboxRow]:
        return await self.store.outbox.claim(
            list(self.sinks), worker=self.worker, limit=limit, lease_seconds=self.lease_seconds
        )

    async def run_once(self) -> int:
        """Claim one batch of due notices and deliver it, `concurrency` at a time. Return how many rows
        were handled."""
        rows = await self._claim(self.batch)
        gate = asyncio.Semaphore(self.concurrency)

        async def one(row: OutboxRow) -> None:
            async with gate:
                await self._paced_delivery(row)

        await asyncio.gather(*(one(row) for row in rows))
        return len(rows)

    async def drain(self, *, max_rounds: int = 100) -> int:
        """Deliver until nothing is due (used by the terminal bot and tests). Return rows handled."""
        total = 0
        for _ in range(max_rounds):
            n = await self.run_once()
            total += n
            if n == 0:
                break
        return total

    async def run_forever(self) -> None:
        """Deliver until `stop()` is called, keeping up to `concurrency` deliveries under way; those under
        way when it stops are finished first."""
        try:
            while not self._stopping:
                free = self.concurrency - len(self._running)
                if free > 0:
                    want = min(free, self.batch)
                    try:
                        rows = await self._claim(want)
                    except Exception:
                        log.exception("outbox: claiming failed; trying again shortly")
                        rows = []
                    for row in rows:
                        task = asyncio.create_task(self._paced_delivery(row), name=f"outbox-{row.id}")
                        self._running.add(task)
                        task.add_done_callback(self._delivery_done)
                    if len(rows) == want:
                        continue  # there may be more due: claim again once a slot is free
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll_interval)
                except TimeoutError:
                    pass
                self._wake.clear()
        finally:
            if self._running:
                await asyncio.gather(*list(self._running), return_exceptions=True)

    def _delivery_done(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("outbox: a delivery failed unexpectedly", exc_info=task.exception())
        self._wake.set()  # a slot is free: claim the next due row

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def _paced_delivery(self, row: OutboxRow) -> None:
        if self.turn is not None:
            async with self.turn(row.created_at):
                await self._deliver_unless_stopping(row)
            return
        if self.pace is not None:
            await self.pace(row.created_at)
        await self._deliver_unless_stopping(row)

    async def _deliver_unless_stopping(self, row: OutboxRow) -> None:
        if self._stopping:
            # Not started: hand it back, due now, for another worker (or our restart).
            await self.store.outbox.mark_retry(
                row.id, worker=self.worker, error="not started: the server was stopping", at=self.clock.now()
            )
            return
        await self._deliver(row)

    async def _deliver(self, row: OutboxRow) -> None:
        notice = row.notice
        sink = self.sinks[notice.platform]
        extra: dict[str, object] = {
            "ref": notice.ref,
            "kind": notice.kind,
            "platform": notice.platform,
            "outbox_id": row.id,
            "attempt": row.attempts,
        }
        attempt = Attempt(row.id, number=row.attempts, uncertain=row.uncertain, created_at=row.created_at)
        kwargs: dict[str, object] = {"attempt": attempt} if self._tell_attempt.get(notice.platform) else {}
        try:
            result = await asyncio.wait_for(
                sink.deliver(notice, outbox=self.store.outbox, **kwargs),  # type: ignore[arg-type]
                timeout=self.lease_seconds * 0.8,
            )
        except PermanentDeliveryError as exc:
            log.error("outbox: %s for %s failed for good: %s", notice.kind, notice.ref, exc, extra=extra)
            await self.store.outbox.mark_failed(row.id, worker=self.worker, error=str(exc))
            self.stats.failed += 1
            return
        except TemporaryDeliveryError as exc:
            await self._retry(row, str(exc) or "failed", exc.retry_after, extra, uncertain=exc.uncertain)
            return
        except TimeoutError:
            await self._retry(row, "timed out", None, extra, uncertain=True)
            return
        except Exception as exc:
            log.exception("outbox: unexpected error delivering %s for %s", notice.kind, notice.ref, extra=extra)
            if row.attempts >= self.policy.max_unexpected:
                await self.store.outbox.mark_failed(row.id, worker=self.worker, error=f"{type(exc).__name__}: {exc}")
                self.stats.failed += 1
            else:
                await self._retry(row, f"{type(exc).__name__}: {exc}", None, extra, uncertain=True)
            return
        if await self.store.outbox.mark_sent(row.id, worker=self.worker, result=result):
            self.stats.delivered += 1
            self.stats.by_platform[notice.platform] = self.stats.by_platform.get(notice.platform, 0) + 1
            log.info("outbox: delivered %s for %s", notice.kind, notice.ref, extra=extra)
        else:
            self.stats.lost_lease += 1
            log.warning("outbox: lease on row %s was lost before it was marked sent", row.id, extra=extra)

    async def _retry(
        self,
        row: OutboxRow,
        reason: str,
        retry_after: float | None,
        extra: dict[str, object],
        *,
        uncertain: bool = False,
    ) -> None:
        now = self.clock.now()
        age = (now - row.created_at).total_seconds()
        if age > self.policy.give_up_after:
            log.error(
                "outbox: giving up on %s for %s after %d attempts: %s",
                row.notice.kind,
                row.notice.ref,
                row.attempts,
                reason,
                extra=extra,
            )
            await self.store.outbox.mark_failed(
                row.id, worker=self.worker, error=f"gave up after {row.attempts} attempts: {reason}"
            )
            self.stats.failed += 1
            return
        delay = self.policy.delay(row.attempts, retry_after)
        log.warning(
            "outbox: %s for %s will be retried in %.1fs: %s",
            row.notice.kind,
            row.notice.ref,
            delay,
            reason,
            extra=extra,
        )
        await self.store.outbox.mark_retry(
            row.id, worker=self.worker, error=reason, at=now + timedelta(seconds=delay), uncertain=uncertain
        )
        self.stats.retried += 1
