"""The `intake` command as a user runs it: real processes, a real database file, piped stdin."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, PROJECT_YAML

PM = "Dana Lee <dana.lee@northbeam.example>"


def intake(
    *args: str, db: Path, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{db}", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "adapters.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
        cwd=Path(__file__).resolve().parent.parent,
    )


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "intake.db"
    res = intake("db", "upgrade", db=path)
    assert res.returncode == 0, res.stderr
    res = intake("project", "load", *map(str, sorted(EXAMPLES.glob("*.yaml"))), db=path)
    assert res.returncode == 0, res.stderr
    return path


SESSION = """\
/request Could patients also get their reminders by SMS? Many older patients don't read e-mail.
/requests
/approve BRIGHTPATH-1
/as Dana Lee <dana.lee@northbeam.example>
/decline BRIGHTPATH-1
2
Reminders are e-mail only in the agreed scope.
1,2
SMS reminders after launch, in a second phase
about 6 person-days

email
en
/letter BRIGHTPATH-1
/letter BRIGHTPATH-1 sent
/show BRIGHTPATH-1
"""


def test_a_scripted_terminal_session_goes_from_request_to_letter(db: Path) -> None:
    res = intake("chat", "--project", "brightpath-booking", "--as", "sam@northbeam.example", db=db, stdin=SESSION)
    out = res.stdout
    assert res.returncode == 0, res.stderr
    assert "Recorded BRIGHTPATH-1:" in out
    assert "┌─ review channel\n│ Client request BRIGHTPATH-1\n│ From: sam@northbeam.example" in out
    assert "! Only the PMs of Brightpath Clinics online booking can decide on BRIGHTPATH-1." in out
    assert "You are now Dana Lee (a PM of this project)." in out
    assert "┌─ to Dana Lee (privately)" in out and "Dear Sam Okafor," in out
    assert "- Delivering it in stages: SMS reminders after launch, in a second phase." in out
    assert "we will send you an estimate (about 6 person-days)" in out
    assert "✓ Gives a reason" in out and "✗" not in out
    assert "┌─ to sam@northbeam.example\n│ Dana Lee declined BRIGHTPATH-1 and will answer the client by email." in out
    assert "Recorded: the letter for BRIGHTPATH-1 has been sent to the client." in out
    assert "letter_sent" in out
    # The requester's channel heard only that the client is answered by email, never the letter.
    review_cards = [block.split("└─")[0] for block in out.split("┌─ ")[1:] if block.startswith("review channel")]
    assert review_cards and all("Dear Sam" not in card for card in review_cards)

    shown = intake("request", "show", "BRIGHTPATH-1", "--json", db=db)
    data = json.loads(shown.stdout)
    assert list(data)[:9] == [
        "ref",
        "project",
        "status",
        "text",
        "requester",
        "verdict",
        "decisions",
        "letter",
        "events",
    ]
    assert data["status"] == "letter_sent" and data["letter"]["language"] == "en"
    assert set(data["verdict"]) >= {"verdict", "item", "score", "clause"}
    assert [e["kind"] for e in data["events"]] == [
        "submitted",
        "scope_checked",
        "denied",
        "declined",
        "letter_drafted",
        "letter_sent",
    ]
    assert {t["rule"] for t in data["letter"]["tone"]} >= {"gives_reason", "says_we", "no_blunt_phrases"}


def test_the_chinese_project_gets_a_chinese_letter(db: Path) -> None:
    script = "/request 门店想在小程序上直接卖茶叶\n/as Dana Lee <dana.lee@northbeam.example>\n/decline LANTING-1\n\n\n\n\n\n\n"
    res = intake("chat", "--project", "lanting-crm", db=db, stdin=script)
    assert res.returncode == 0, res.stderr
    assert "尊敬的周文静：" in res.stdout and "“兰亭茶业会员管理系统”项目组" in res.stdout


def test_export_in_every_format(db: Path, tmp_path: Path) -> None:
    intake("chat", "--project", "brightpath-booking", db=db, stdin=SESSION)
    intake(
        "chat",
        "--project",
        "brightpath-booking",
        db=db,
        stdin="/request Reception can't see today's bookings for Leeds\n",
    )
    jsonl = intake("export", "--project", "brightpath-booking", "--format", "jsonl", db=db).stdout.splitlines()
    records = [json.loads(line) for line in jsonl]
    assert [r["ref"] for r in records] == ["BRIGHTPATH-1", "BRIGHTPATH-2"]
    shown = json.loads(intake("request", "show", "BRIGHTPATH-1", "--json", db=db).stdout)
    assert records[0] == shown  # one request a line, the same keys as `request show --json`

    rows = list(
        csv.DictReader(
            io.StringIO(intake("export", "--project", "brightpath-booking", "--format", "csv", db=db).stdout)
        )
    )
    assert [r["ref"] for r in rows] == ["BRIGHTPATH-1", "BRIGHTPATH-2"]
    assert rows[0]["status"] == "letter_sent" and rows[0]["decided_by"] == "Dana Lee" and rows[1]["decision"] == ""

    out = tmp_path / "record.md"
    res = intake("export", "--project", "brightpath-booking", "--format", "md", "-o", str(out), db=db)
    assert res.returncode == 0
    md = out.read_text(encoding="utf-8")
    assert (
        md.startswith("# Request record: Brightpath Clinics online booking")
        and "## BRIGHTPATH-1: declined, client answered" in md
    )
    assert "| letter_sent | Dana Lee (console) |" in md


def test_project_load_reports_problems_with_lines_and_loads_nothing(tmp_path: Path) -> None:
    db = tmp_path / "intake.db"
    intake("db", "upgrade", db=db)
    bad = tmp_path / "bad.yaml"
    bad.write_text(PROJECT_YAML.replace("language: en", "language: klingon"), encoding="utf-8")
    res = intake("project", "load", str(bad), db=db)
    assert res.returncode == 1
    assert f"{bad}:4: language: unknown language 'klingon' (use en or zh)" in res.stderr
    assert "No project is loaded yet" in intake("project", "list", db=db).stdout


def test_project_show_and_reload(db: Path, tmp_path: Path) -> None:
    shown = intake("project", "show", "brightpath-booking", db=db).stdout
    assert "In scope:\n  • [booking] Online booking of physiotherapy appointments" in shown and "Not in scope:" in shown
    again = intake("project", "load", str(EXAMPLES / "brightpath-booking.yaml"), db=db)
    assert "brightpath-booking is unchanged (version 1)." in again.stdout
    changed = tmp_path / "bp.yaml"
    changed.write_text(
        (EXAMPLES / "brightpath-booking.yaml")
        .read_text(encoding="utf-8")
        .replace("14 physiotherapy", "15 physiotherapy"),
        encoding="utf-8",
    )
    assert "now version 2" in intake("project", "load", str(changed), db=db).stdout


def test_unknown_things_get_clear_messages(db: Path) -> None:
    res = intake("request", "show", "NOPE-1", db=db)
    assert res.returncode == 1 and "There is no request NOPE-1." in res.stderr
    res = intake("project", "show", "nope", db=db)
    assert "There is no project called 'nope'. Known projects: brightpath-booking, lanting-crm." in res.stderr
    chat = intake("chat", db=db, stdin="/frobnicate\nhello\n/show\n/request   \n").stdout
    assert "Unknown command '/frobnicate'. Try /help." in chat
    assert "Commands start with '/'." in chat and "Usage: /show REF" in chat and "The request is empty." in chat


def test_an_unreachable_database_names_database_url(tmp_path: Path) -> None:
    res = intake(
        "project", "list", db=tmp_path / "x.db", env={"DATABASE_URL": "postgresql://intake:pw@127.0.0.1:1/intake"}
    )
    assert res.returncode == 1
    assert "Check that it is running and that DATABASE_URL is right" in res.stderr and "Traceback" not in res.stderr
    assert "pw@" not in res.stderr


def test_help_lists_the_commands(db: Path) -> None:
    out = intake("--help", db=db).stdout
    for cmd in ("chat", "db", "export", "project", "request", "serve"):
        assert cmd in out
    assert "/decline REF" in intake("chat", db=db, stdin="/help\n").stdout
