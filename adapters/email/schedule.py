"""The scheduled client update: each project whose file has `digest: {every: monday 09:00}` gets its
update by e-mail at that time in its time zone, once per period even with several server processes.

Two locks make "once": the job-run row (`claim_job_run`, one per project and period: only the process
that claims it builds the update) and, in the same transaction as the queued e-mail, a processed key
per project and period. A period is sent only within `grace` of its time: a server that was down for
the whole window skips it rather than sending a stale update days late.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.errors import IntakeError
from bot.outbox import worker_name
from bot.projectfile import DIGEST_RE
from bot.service import IntakeService

log = logging.getLogger("intake.digest")

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class JobClaims(Protocol):
    async def claim_job_run(self, job: str, period: str, *, worker: str, at: datetime) -> bool: ...


def last_occurrence(every: str, tz: str, now: datetime) -> datetime:
    """Return the latest scheduled time at or before `now` for a schedule like `monday 09:00`, `daily 08:30`
    or `weekdays 17:00`, in the time zone `tz`."""
    m = DIGEST_RE.match(every.strip())
    if m is None:
        raise ValueError(f"not a schedule: {every!r}")
    day, hour, minute = m.group(1).lower(), int(m.group(2)), int(m.group(3))
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    for back in range(8):
        d = local.date() - timedelta(days=back)
        if day == "weekdays" and d.weekday() > 4:
            continue
        if day in DAYS and d.weekday() != DAYS.index(day):
            continue
        candidate = datetime.combine(d, time(hour, minute), tzinfo=zone)
        if candidate <= local:
            return candidate
    raise AssertionError("every schedule recurs within a week")


class DigestScheduler:
    def __init__(
        self,
        service: IntakeService,
        jobs: JobClaims,
        *,
        on_queued: Callable[[], None] | None = None,
        interval: float = 60.0,
        grace: timedelta = timedelta(hours=6),
        worker: str | None = None,
    ) -> None:
        self.service = service
        self.jobs = jobs
        self.on_queued = on_queued
        self.interval = interval
        self.grace = grace
        self.worker = worker or worker_name()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> list[tuple[str, str]]:
        """Queue every update that is due now and not yet sent for its period. Return (project, period) pairs."""
        now = self.service.clock.now()
        queued: list[tuple[str, str]] = []
        for project in await self.service.projects():
            every = (project.platforms.get("digest") or {}).get("every")
            if not every:
                continue
            tz = (project.platforms.get("digest") or {}).get("timezone") or project.timezone
            occurrence = last_occurrence(every, tz, now)
            if now - occurrence > self.grace:
                continue
            period = occurrence.isoformat(timespec="minutes")
            try:
                if not await self.jobs.claim_job_run(f"digest:{project.slug}", period, worker=self.worker, at=now):
                    continue
                digest = await self.service.send_digest(project.slug, period=period, skip_empty=True)
            except IntakeError as exc:
                log.error("digest: could not queue the update for %s (%s): %s", project.slug, period, exc)
                continue
            if digest is None:
                log.info("digest: nothing to report for %s (%s)", project.slug, period)
            else:
                log.info("digest: queued the update for %s (%s)", project.slug, period)
                queued.append((project.slug, period))
        if queued and self.on_queued:
            self.on_queued()
        return queued

    async def run_forever(self) -> None:
        while not self._stop.is_set():
            try:
                await self.run_once()
            except Exception:
                log.exception("digest: the schedule check failed; trying again at the next interval")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.interval)

    def start(self) -> None:
        self._task = asyncio.create_task(self.run_forever(), name="digest-scheduler")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
