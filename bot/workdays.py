"""Working-day arithmetic in a project's time zone. Pure: no clock, no I/O.

A due date is a number of working days after a moment, at the same local time of day: recorded on a
Friday at 16:00 with two working days to decide, a request is due on Tuesday at 16:00 (in the
project's zone, whatever the offset that day: a DST change between the two keeps the wall time).
Days that are not working days (the weekend by default) and the project's holidays are skipped, so
a due date never falls on one.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .domain import Timing

MAX_DAYS = 366 * 2  # a calendar with no working day ahead must not loop for ever


def zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def is_working_day(day: date, timing: Timing) -> bool:
    return day.weekday() in timing.working_days and day not in timing.holidays


def local_moment(day: date, at: time, tz: str) -> datetime:
    """The moment `day` at `at` in `tz`, in UTC. A wall time that does not exist (the hour a DST change
    skips) becomes the same time after the change, as clocks show it."""
    # fold=0 reads a skipped wall time with the offset before the change (PEP 495): 02:30 on the night
    # clocks go from 02:00 to 03:00 is 03:30 after it; a repeated hour is taken the first time.
    return datetime.combine(day, at.replace(tzinfo=None), tzinfo=zone(tz)).astimezone(UTC)


def add_working_days(start: datetime, days: int, timing: Timing, tz: str) -> datetime:
    """The moment `days` working days after `start`, at the same local time of day (in UTC). With 0 days,
    `start` itself when it falls on a working day, else the next working day at the same time."""
    local = start.astimezone(zone(tz))
    day = local.date()
    counted = 0
    if days <= 0 and is_working_day(day, timing):
        return start.astimezone(UTC)
    for _ in range(MAX_DAYS):
        day += timedelta(days=1)
        if is_working_day(day, timing):
            counted += 1
            if counted >= max(days, 1):
                return local_moment(day, local.time(), tz)
    raise ValueError("the calendar has no working day within two years")


def next_working_time(after: datetime, at: time, timing: Timing, tz: str) -> datetime:
    """The first working day's `at` (local time in `tz`) strictly after `after`, in UTC: when the next
    daily summary is due."""
    local = after.astimezone(zone(tz))
    day = local.date()
    for _ in range(MAX_DAYS):
        if is_working_day(day, timing):
            moment = local_moment(day, at, tz)
            if moment > after:
                return moment
        day += timedelta(days=1)
    raise ValueError("the calendar has no working day within two years")


def start_of_day(day: date, tz: str) -> datetime:
    """Midnight at the start of `day` in `tz`, in UTC."""
    return local_moment(day, time(0, 0), tz)


def parse_clock(text: str) -> time:
    """'09:00' → 09:00. Raises ValueError for anything else."""
    hours, _, minutes = text.strip().partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2 and 1 <= len(hours) <= 2):
        raise ValueError(text)
    h, m = int(hours), int(minutes)
    if not (0 <= h <= 23 and 0 <= m <= 59):
        raise ValueError(text)
    return time(h, m)


__all__ = [
    "add_working_days",
    "is_working_day",
    "local_moment",
    "next_working_time",
    "parse_clock",
    "start_of_day",
    "zone",
]
