"""Time on the command line and in the terminal: `intake pm away|back|list`, the due date in `request show`,
`request list` and the exports; `/away`, `/back` and a reminder printed in the terminal as it falls due."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain import Actor
from bot.service import IntakeService
from tests.conftest import MEMBER, PM, TestBot
from tests.support.clock import FakeClock
from tests.test_cli import db, intake  # noqa: F401 - the CLI's fixture: a database with the examples loaded

DANA = "dana.lee@northbeam.example"


def test_intake_pm_away_list_and_back(db: Path) -> None:  # noqa: F811
    res = intake(
        "chat", "--as", "Kim Park <kim.park@northbeam.example>", db=db, stdin="/request Could we add SMS reminders?\n"
    )
    assert res.returncode == 0, res.stderr
    until = (date.today() + timedelta(days=10)).isoformat()

    res = intake("pm", "away", DANA, "--until", until, "--delegate", "nobody@elsewhere.example", db=db)
    assert res.returncode == 1
    assert "nobody@elsewhere.example is not on the team of Brightpath Clinics online booking" in res.stderr
    res = intake("pm", "away", "kim.park@northbeam.example", "--until", until, "--delegate", DANA, db=db)
    assert res.returncode == 1 and "kim.park@northbeam.example is not a PM of any project" in res.stderr
    res = intake("pm", "away", DANA, "--until", "2020-01-01", "--delegate", "kim.park@northbeam.example", db=db)
    assert res.returncode == 1 and "2020-01-01 is not after today" in res.stderr
    res = intake("pm", "away", DANA, "--until", "soon", "--delegate", "kim.park@northbeam.example", db=db)
    assert res.returncode == 1 and "'soon' is not a date" in res.stderr
    res = intake("pm", "list", db=db)
    assert res.stdout.strip() == "No PM is away."

    # Kim recorded a request: on the team. The escalation contact is too.
    res = intake("pm", "away", DANA, "--until", until, "--delegate", "Kim Park <kim.park@northbeam.example>", db=db)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith(f"You are away until {until}. Kim Park stands in for you on Brightpath Clinics")
    res = intake("pm", "list", db=db)
    assert f"{DANA}" in res.stdout and f"away until {until}" in res.stdout and "stands in: Kim Park" in res.stdout
    res = intake("pm", "back", DANA, db=db)
    assert res.returncode == 0 and res.stdout.strip() == f"{DANA} is back; Kim Park no longer stands in for them."
    res = intake("pm", "back", DANA, db=db)
    assert res.returncode == 1 and "You are not away" in res.stderr


def test_request_show_list_and_exports_carry_the_due_date(db: Path) -> None:  # noqa: F811
    res = intake("chat", db=db, stdin="/request Could patients pay a deposit online?\n")
    assert res.returncode == 0, res.stderr
    show = intake("request", "show", "BRIGHTPATH-1", db=db).stdout
    assert "\nDecision due: " in show
    listing = intake("request", "list", db=db).stdout
    assert "· decision due " in listing
    exported = intake("export", "--project", "brightpath-booking", "--format", "csv", db=db).stdout
    [row] = list(csv.DictReader(io.StringIO(exported)))
    due = datetime.fromisoformat(row["due_at"])
    assert timedelta(days=1) < due - datetime.fromisoformat(row["created_at"]) < timedelta(days=5)
    [line] = intake("export", "--project", "brightpath-booking", "--format", "jsonl", db=db).stdout.splitlines()
    assert json.loads(line)["due_at"] == row["due_at"]
    md = intake("export", "--project", "brightpath-booking", "--format", "md", db=db).stdout
    assert "- Decision due: " in md


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 3, 9, 30, tzinfo=UTC))


async def test_the_terminal_prints_a_reminder_when_it_falls_due_and_hands_over_with_away(
    service: IntakeService, clock: FakeClock
) -> None:
    member = TestBot(service, MEMBER)
    out = await member.say("/request Customers should be able to filter the order history by date")
    assert "Recorded ACME-1" in out and "Decision due: Thu 5 Nov" in out
    out = await member.say("/requests")
    assert out.strip().endswith("· decision due Thu 5 Nov")

    pm = TestBot(service, PM)
    out = await pm.say("/away 2026-11-20 sam@acme-team.example")
    assert out.startswith("You are away until 2026-11-20. sam@acme-team.example stands in for you")
    assert "To end it early: /back" in out
    assert "to sam@acme-team.example" in out  # the delegate is told (printed for the terminal)
    out = await pm.say("/away 2026-11-20 lee@acme-team.example")
    assert "! Lee Chen is not on the team" not in out  # a console actor has no name: the address says who
    assert "! lee@acme-team.example is not on the team of Acme Customer Portal" in out

    clock.t = datetime(2026, 11, 5, 9, 30, tzinfo=UTC)
    out = await member.say("/help")
    assert "/away DATE EMAIL" in out
    reminder = out[out.index("┌─ to sam@acme-team.example") :]
    assert "⏰ ACME-1 is waiting for your decision: it was due Thu 5 Nov." in reminder
    assert "You are standing in for Pat Morgan, who is away." in reminder
    assert "Decision due: Thu 5 Nov, overdue" in reminder
    assert "/approve ACME-1, /decline ACME-1, /ask ACME-1" in reminder

    delegate = TestBot(service, Actor("console", MEMBER.user_id, email=MEMBER.email, name="Sam Reed"))
    out = await delegate.say("/approve ACME-1")
    assert "ACME-1 approved." in out and "(on behalf of Pat Morgan)" in out
    out = await pm.say("/back")
    assert out.startswith("Welcome back: reminders come to you again")
    out = await pm.say("/back")
    assert "! You are not away" in out
