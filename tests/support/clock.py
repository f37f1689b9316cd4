"""A clock the tests move by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.ports import Clock


class FakeClock(Clock):
    def __init__(self, start: datetime | None = None) -> None:
        self.t = start or datetime(2026, 11, 3, 9, 30, tzinfo=UTC)

    def now(self) -> datetime:
        return self.t

    def advance(self, **kw: float) -> datetime:
        self.t += timedelta(**kw)
        return self.t
