"""Due dates in working days, in the project's time zone: over weekends, holidays and DST changes; and the
project file's time keys, each problem reported with its line."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from bot.domain import Timing
from bot.errors import ProjectFileError
from bot.projectfile import load_project_text
from bot.workdays import add_working_days, local_moment, next_working_time
from tests.conftest import PROJECT_YAML

BERLIN = "Europe/Berlin"
MON_FRI = Timing()


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def test_two_working_days_from_a_thursday_skip_the_weekend() -> None:
    assert add_working_days(at(2026, 12, 3, 15), 2, MON_FRI, BERLIN) == at(2026, 12, 7, 15)  # Thu → Mon
    assert add_working_days(at(2026, 12, 4, 15), 2, MON_FRI, BERLIN) == at(2026, 12, 8, 15)  # Fri → Tue
    assert add_working_days(at(2026, 12, 5, 10), 2, MON_FRI, BERLIN) == at(2026, 12, 8, 10)  # Sat → Tue


def test_a_request_recorded_late_in_the_evening_counts_its_local_day() -> None:
    # Friday 23:30 in Berlin is still Friday there, though it is 22:30 UTC.
    assert add_working_days(at(2026, 12, 4, 22, 30), 1, MON_FRI, BERLIN) == at(2026, 12, 7, 22, 30)
    # Sunday 00:30 in Berlin is Saturday 23:30 UTC: from Sunday, one working day is Monday.
    assert add_working_days(at(2026, 12, 5, 23, 30), 1, MON_FRI, BERLIN) == at(2026, 12, 6, 23, 30)


def test_holidays_are_skipped_and_a_due_date_on_one_moves_to_the_next_working_day() -> None:
    xmas = Timing(holidays=(date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 31), date(2027, 1, 1)))
    # Wednesday 23 Dec + 2 working days: 24 and 25 are holidays, 26–27 the weekend → Tue 29 Dec.
    assert add_working_days(at(2026, 12, 23, 9), 2, xmas, BERLIN) == at(2026, 12, 29, 9)
    # A due date that would fall on a holiday (Thu 31 Dec) moves on past New Year to Monday 4 Jan.
    assert add_working_days(at(2026, 12, 29, 9), 2, xmas, BERLIN) == at(2027, 1, 4, 9)
    assert add_working_days(at(2026, 12, 25, 9), 0, xmas, BERLIN) == at(2026, 12, 28, 9)


def test_a_dst_change_keeps_the_local_time_of_day() -> None:
    # Friday 23 Oct 2026, 10:00 CEST (08:00 UTC); clocks go back on Sunday 25 Oct; Tuesday 10:00 CET is 09:00 UTC.
    assert add_working_days(at(2026, 10, 23, 8), 2, MON_FRI, BERLIN) == at(2026, 10, 27, 9)
    # And forward in spring: Friday 27 Mar 10:00 CET (09:00 UTC) → Tuesday 31 Mar 10:00 CEST (08:00 UTC).
    assert add_working_days(at(2027, 3, 26, 9), 2, MON_FRI, BERLIN) == at(2027, 3, 30, 8)
    # A wall time the change skips is read after it (02:30 on 28 Mar 2027 is 03:30 CEST).
    assert local_moment(date(2027, 3, 28), time(2, 30), BERLIN) == at(2027, 3, 28, 1, 30)


def test_other_working_weeks_and_zones() -> None:
    sun_thu = Timing(working_days=(6, 0, 1, 2, 3))
    # Thursday in Dubai + 1 working day: Friday and Saturday are the weekend → Sunday.
    assert add_working_days(at(2026, 12, 3, 6), 1, sun_thu, "Asia/Dubai") == at(2026, 12, 6, 6)
    # Shanghai has no DST; a Friday 17:00 there is 09:00 UTC.
    assert add_working_days(at(2026, 12, 4, 9), 1, MON_FRI, "Asia/Shanghai") == at(2026, 12, 7, 9)


def test_the_next_daily_summary_is_on_the_next_working_day_at_the_local_time() -> None:
    nine = time(9, 0)
    # Friday 08:59 in Berlin → today 09:00; Friday 09:01 → Monday 09:00.
    assert next_working_time(at(2026, 12, 4, 7, 59), nine, MON_FRI, BERLIN) == at(2026, 12, 4, 8)
    assert next_working_time(at(2026, 12, 4, 8, 1), nine, MON_FRI, BERLIN) == at(2026, 12, 7, 8)
    # Across the spring DST change: Friday 27 Mar 2027 10:00 → Monday 09:00 CEST, 07:00 UTC.
    assert next_working_time(at(2027, 3, 26, 9), nine, MON_FRI, BERLIN) == at(2027, 3, 29, 7)


def test_the_project_file_reads_the_time_keys() -> None:
    text = PROJECT_YAML + (
        "response_days: 3\n"
        "working_days: sun-thu\n"
        "holidays: [2026-12-25, 2026-12-24]\n"
        "escalate_to: [boss@acme.example, U0BOSS]\n"
        "escalate_after_days: 1\n"
        "needs_info_expires_days: 4\n"
        "follow_up_days: 7\n"
        'daily_summary: "8:30"\n'
    )
    timing = load_project_text(text, "acme.yaml").timing
    assert timing == Timing(
        response_days=3,
        working_days=(0, 1, 2, 3, 6),
        holidays=(date(2026, 12, 24), date(2026, 12, 25)),
        escalate_to=("boss@acme.example", "U0BOSS"),
        escalate_after_days=1,
        needs_info_expires_days=4,
        follow_up_days=7,
        daily_summary="08:30",
    )
    assert load_project_text(PROJECT_YAML + "daily_summary: off\n").timing.daily_summary is None
    assert load_project_text(PROJECT_YAML + "working_days: [mon, Tuesday, wed]\n").timing.working_days == (0, 1, 2)


def test_without_time_keys_a_project_has_the_defaults_and_hashes_as_before() -> None:
    project = load_project_text(PROJECT_YAML)
    assert project.timing == Timing(2, (0, 1, 2, 3, 4), (), (), 2, 10, 5, "09:00")
    assert "timing" not in project.to_dict()


def test_bad_time_keys_are_each_reported_with_their_line_and_nothing_loads() -> None:
    start = PROJECT_YAML.count("\n") + 1
    text = PROJECT_YAML + (
        "response_days: 0\n"
        "working_days: [mon, funday, mon]\n"
        "holidays: [2026-12-25, 2026-13-01]\n"
        "escalate_to: [boss@]\n"
        "escalate_after_days: soon\n"
        "needs_info_expires_days: 400\n"
        "follow_up_days: -1\n"
        "daily_summary: '25:00'\n"
        "remind_every: 2\n"
    )
    with pytest.raises(ProjectFileError) as caught:
        load_project_text(text, "acme.yaml")
    problems = str(caught.value).splitlines()
    expected = [
        (0, "response_days: 0 is out of range: use 1 to 90 working days"),
        (1, "working_days: 'funday' is not a day of the week"),
        (1, "working_days: 'mon' is listed twice"),
        (2, "holidays: '2026-13-01' is not a date (use YYYY-MM-DD)"),
        (3, "escalate_to: 'boss@' is not a valid e-mail address"),
        (4, "escalate_after_days: must be a whole number of working days (1 to 90)"),
        (5, "needs_info_expires_days: 400 is out of range"),
        (6, "follow_up_days: must be a whole number of working days"),
        (7, "daily_summary: '25:00' is not a time of day (use e.g. 09:00, or off)"),
        (8, "remind_every: unknown key 'remind_every'"),
    ]
    for offset, message in expected:
        assert any(p.startswith(f"acme.yaml:{start + offset}: {message}") for p in problems), (message, problems)


def test_a_week_without_working_days_is_refused() -> None:
    with pytest.raises(ProjectFileError, match="working_days: needs at least one working day"):
        load_project_text(PROJECT_YAML + "working_days: []\n", "acme.yaml")
    with pytest.raises(ProjectFileError, match="'weekdays' is not a list of days"):
        load_project_text(PROJECT_YAML + "working_days: weekdays\n", "acme.yaml")
