"""Shared fixtures: real databases (SQLite and PostgreSQL), the service, and a transcript-style test bot."""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.domain import Actor
from bot.projectfile import load_project_text
from bot.service import IntakeService
from store.repo import SqlStore
from tests.support.clock import FakeClock
from tests.support.databases import (
    PostgresDatabases,
    copy_sqlite,
    migrated_sqlite_template,
    postgres_available,
    skip_or_fail,
)

pytest_plugins = ["tests.support.slack_harness", "tests.support.fake_llm"]

# The words-and-rules checker, the one every install has, is what the tests pin down; the request embedding
# of the optional [semantic] extra has its own tests (test_scope_semantic.py), which switch it on. Servers and
# commands the tests start inherit this.
os.environ.setdefault("INTAKE_SCOPE_SEMANTIC", "off")

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SHARED = Path(__file__).resolve().parent.parent.parent / "shared"

PROJECT_YAML = """
project: acme-portal
name: Acme Customer Portal
language: en
timezone: Europe/Berlin
client: {name: Acme Corp, contact: Jane Doe, email: jane.doe@acme.example}
pms: ["pm@acme.example", "U0PMSLACK"]
goals:
  - "Launch a self-service order portal for Acme's B2B customers by 2027-03-31"
in_scope:
  - {id: login, title: "Customer login with email and password", notes: "Password reset by e-mail, lockout after 5 failed attempts."}
  - {id: orders, title: "Order history and live order status tracking", notes: "Status from SAP, filter by date, CSV export."}
  - {id: alerts, title: "Low-stock alerts by push notification", notes: "Push only."}
out_of_scope:
  - {id: mobile, title: "Native iOS and Android apps"}
  - {id: payments, title: "Online payment by credit card or PayPal", notes: "All orders are paid on account."}
milestones:
  - {name: Beta, due: 2027-01-15}
  - {name: Go-live, due: 2027-03-31}
capacity: "Team of 4, fully allocated until launch"
"""

PM = Actor("console", "pm@acme.example", email="pm@acme.example", name="Pat Morgan")
MEMBER = Actor("console", "sam@acme-team.example", email="sam@acme-team.example", name="Sam Reed")
OTHER = Actor("console", "lee@acme-team.example", email="lee@acme-team.example", name="Lee Chen")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return migrated_sqlite_template(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(scope="session")
def postgres_dbs() -> Iterator[PostgresDatabases]:
    dbs = PostgresDatabases()
    yield dbs
    dbs.drop_all()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database with no tables yet, of each kind (for migration tests)."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}"
    reason = postgres_available()
    if reason:
        skip_or_fail(reason)
    dbs: PostgresDatabases = request.getfixturevalue("postgres_dbs")
    return dbs.create()


@pytest.fixture(scope="session")
def postgres_url(postgres_dbs: PostgresDatabases) -> str:
    """One fresh, migrated PostgreSQL database for the run (tables are emptied between tests)."""
    reason = postgres_available()
    if reason:
        skip_or_fail(reason)
    from store.migrate import upgrade

    url = postgres_dbs.create()
    asyncio.run(upgrade(url))
    return url


TABLES = "outbox, posted_messages, counts, events, letter_versions, letters, decisions, scope_examples, requests, project_versions, projects, processed_keys, conversation_refs, job_runs, scope_model_answers, schedule, absences, refusals, identity_bindings, web_sessions, web_signin_links"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        yield copy_sqlite(sqlite_template, tmp_path / "intake.db")
        return
    url = request.getfixturevalue("postgres_url")
    yield url
    from tests.support.databases import ADMIN_URL, _admin  # noqa: F401

    async def truncate() -> None:
        import asyncpg

        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            await conn.execute(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")
        finally:
            await conn.close()

    asyncio.run(truncate())


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    return copy_sqlite(sqlite_template, tmp_path / "intake.db")


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[SqlStore]:
    s = SqlStore.from_url(db_url)
    yield s
    await s.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def service(store: SqlStore, clock: FakeClock) -> IntakeService:
    svc = IntakeService(store, clock=clock)
    await svc.load_project(load_project_text(PROJECT_YAML, "acme.yaml"))
    return svc


class TestBot:
    """The terminal bot driven by a script: `await bot.say("/request …")` returns what it printed."""

    __test__ = False  # a helper, not a test class

    def __init__(self, service: IntakeService, actor: Actor, *, project: str = "acme-portal") -> None:
        from adapters.console.chat import ConsoleBot

        self.out = io.StringIO()
        self.bot = ConsoleBot(
            service, actor=actor, project=project, stdin=io.StringIO(""), stdout=self.out, interactive=False
        )

    async def say(self, *lines: str) -> str:
        """Send the first line as a command and the rest as answers to its questions."""
        self.bot.stdin = io.StringIO("".join(line + "\n" for line in lines[1:]))
        start = self.out.tell()
        await self.bot.handle(lines[0])
        return self.out.getvalue()[start:]

    def become(self, actor: Actor) -> None:
        self.bot.actor = actor


@pytest.fixture
async def testbot(service: IntakeService) -> TestBot:
    return TestBot(service, MEMBER)
