"""Two real `intake serve` processes on one PostgreSQL, both running the scheduled steps: every reminder
that falls due goes out exactly once, to each PM, through the fake Slack Web API."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.domain import Actor, Source
from bot.service import IntakeService
from store.repo import SqlStore
from tests.support.clock import FakeClock
from tests.support.databases import PostgresDatabases
from tests.support.fake_slack import FakeSlack
from tests.support.slack_harness import MEMBER_ID, PM_ID, PM_MAIL_ID
from tests.test_faults_processes import fresh_database, server_env, start, stop, wait_until

N = 150  # requests, each reminded to two PMs


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    fake.add_user(PM_ID, name="Pat Morgan")
    fake.add_user(PM_MAIL_ID, name="Priya Mehta", email="pm@acme.example")
    fake.add_user(MEMBER_ID, name="Sam Reed", email="sam@acme-team.example")
    yield fake
    await fake.close()


async def record_past_requests(db_url: str, n: int) -> list[str]:
    """`n` requests recorded ten days ago: their decisions are long due."""
    store = SqlStore.from_url(db_url)
    try:
        clock = FakeClock(datetime.now(UTC) - timedelta(days=10))
        service = IntakeService(store, clock=clock)
        sam = Actor("slack", MEMBER_ID, email="sam@acme-team.example", name="Sam Reed")
        refs = []
        for i in range(n):
            rec = await service.submit_request(
                project="acme-portal",
                actor=sam,
                text=f"Request {i:04d}: customers should be able to filter the order history by date",
                source=Source("slack", channel="C0INTAKE"),
            )
            refs.append(rec.ref)
        return refs
    finally:
        await store.close()


def reminders(fake: FakeSlack) -> Counter[tuple[str, str]]:
    """(DM channel, ref) of every reminder Slack took."""
    out: Counter[tuple[str, str]] = Counter()
    for call in fake.delivered("chat.postMessage"):
        m = re.match(r"⏰ (ACME-\d+) is waiting for your decision", str(call.get("text", "")))
        if m:
            out[(str(call["channel"]), m.group(1))] += 1
    return out


async def schedule_state(db_url: str) -> Counter[tuple[str, str]]:
    store = SqlStore.from_url(db_url)
    try:
        async with store.session() as s:
            rows = (await s.exec(sa.text("SELECT kind, status FROM schedule"))).all()  # type: ignore[call-overload]
    finally:
        await store.close()
    return Counter((r[0], r[1]) for r in rows)


@pytest.mark.postgres
async def test_two_servers_on_one_postgres_send_each_reminder_exactly_once(
    tmp_path: Path, sqlite_template: Path, postgres_dbs: PostgresDatabases, fake: FakeSlack
) -> None:
    db_url = await fresh_database("postgres", tmp_path, sqlite_template, postgres_dbs)
    refs = await record_past_requests(db_url, N)
    env = {**server_env(db_url, fake), "INTAKE_SCHEDULE_INTERVAL": "0.2"}
    servers = await asyncio.gather(start(env), start(env))
    try:

        async def all_reminded() -> bool:
            return len(reminders(fake)) >= 2 * N

        await wait_until(all_reminded, within=60, what=f"{2 * N} reminders were sent")
        await asyncio.sleep(1.0)  # time for a second copy to show, were there one
    finally:
        await asyncio.gather(*(stop(s) for s in servers))

    sent = reminders(fake)
    assert set(sent) == {(dm, ref) for dm in ("D0PMSLACK", "D0PRIYA") for ref in refs}
    assert max(sent.values()) == 1, f"sent twice: {[k for k, n in sent.items() if n > 1]}"
    state = await schedule_state(db_url)
    assert state[("decision_due", "done")] == N and not state[("decision_due", "pending")]
    assert not state[("decision_due", "running")]
    store = SqlStore.from_url(db_url)
    try:
        async with store.session() as s:
            reminded = (await s.exec(sa.text("SELECT count(*) FROM events WHERE kind = 'reminded'"))).scalar_one()  # type: ignore[call-overload]
            leased = (await s.exec(sa.text("SELECT count(*) FROM outbox WHERE lease_owner IS NOT NULL"))).scalar_one()  # type: ignore[call-overload]
    finally:
        await store.close()
    assert reminded == N
    assert leased == 0  # every notice was finished, none left leased
    for s in servers:
        assert "Traceback" not in s.output(), s.output()
