"""The outbox dispatcher: delivers queued notices through each platform's sink, with retries.

Several dispatchers (in several processes) may share one outbox: rows are leased, so each is handled
by one worker at a time, and a row whose worker died is picked up again when its lease runs out.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .errors import PermanentDeliveryError, TemporaryDeliveryError
from .ports import Clock, NoticeSink, OutboxRow, Store, SystemClock

log = logging.getLogger("intake.outbox")


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
        concurrency: int = 1,
    ) -> None:
        self.store = store
        self.sinks = {s.platform: s for s in sinks}
        self.clock = clock or SystemClock()
        self.policy = policy or RetryPolicy()
        self.lease_seconds = lease_seconds
        self.batch = batch
        self.poll_interval = poll_interval
        self.worker = worker or worker_name()
        # Called before each delivery with the row's creation time; returns when the delivery may go
        # (a server lets its acknowledgements go first: see adapters/web/pace.py).
        self.pace = pace
        # Rows of one batch delivered at the same time (for slow deliveries, such as asking a language
        # model); 1 delivers them one after another, in order.
        self.concurrency = concurrency
        self.stats = DispatchStats()
        self._wake = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        """Ask the running loop to look at the outbox now (e.g. right after this process queued a notice)."""
        self._wake.set()

    async def run_once(self) -> int:
        """Claim and deliver one batch of due notices. Return how many rows were handled."""
        rows = await self.store.outbox.claim(
            list(self.sinks), worker=self.worker, limit=self.batch, lease_seconds=self.lease_seconds
        )
        if self.concurrency > 1 and len(rows) > 1:
            slots = asyncio.Semaphore(self.concurrency)

            async def one(row: OutboxRow) -> None:
                async with slots:
                    if self._stopping:
                        return  # its lease runs out and another worker (or our restart) takes it
                    if self.pace is not None:
                        await self.pace(row.created_at)
                    await self._deliver(row)

            await asyncio.gather(*(one(row) for row in rows))
            return len(rows)
        for row in rows:
            if self._stopping:
                # Leave the rest of the batch: their leases run out and another worker (or our restart) takes them.
                break
            if self.pace is not None:
                await self.pace(row.created_at)
            await self._deliver(row)
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
        """Deliver until `stop()` is called; the row being delivered is always finished first."""
        while not self._stopping:
            try:
                n = await self.run_once()
            except Exception:
                log.exception("outbox: claiming failed; trying again shortly")
                n = 0
            if n:
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_interval)
            except TimeoutError:
                pass
            self._wake.clear()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

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
        try:
            result = await asyncio.wait_for(
                sink.deliver(notice, outbox=self.store.outbox), timeout=self.lease_seconds * 0.8
            )
        except PermanentDeliveryError as exc:
            log.error("outbox: %s for %s failed for good: %s", notice.kind, notice.ref, exc, extra=extra)
            await self.store.outbox.mark_failed(row.id, worker=self.worker, error=str(exc))
            self.stats.failed += 1
            return
        except (TemporaryDeliveryError, TimeoutError) as exc:
            retry_after = getattr(exc, "retry_after", None)
            reason = str(exc) or "timed out"
            await self._retry(row, reason, retry_after, extra)
            return
        except Exception as exc:
            log.exception("outbox: unexpected error delivering %s for %s", notice.kind, notice.ref, extra=extra)
            if row.attempts >= self.policy.max_unexpected:
                await self.store.outbox.mark_failed(row.id, worker=self.worker, error=f"{type(exc).__name__}: {exc}")
                self.stats.failed += 1
            else:
                await self._retry(row, f"{type(exc).__name__}: {exc}", None, extra)
            return
        if await self.store.outbox.mark_sent(row.id, worker=self.worker, result=result):
            self.stats.delivered += 1
            self.stats.by_platform[notice.platform] = self.stats.by_platform.get(notice.platform, 0) + 1
            log.info("outbox: delivered %s for %s", notice.kind, notice.ref, extra=extra)
        else:
            self.stats.lost_lease += 1
            log.warning("outbox: lease on row %s was lost before it was marked sent", row.id, extra=extra)

    async def _retry(self, row: OutboxRow, reason: str, retry_after: float | None, extra: dict[str, object]) -> None:
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
        await self.store.outbox.mark_retry(row.id, worker=self.worker, error=reason, at=now + timedelta(seconds=delay))
        self.stats.retried += 1
