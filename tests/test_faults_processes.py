"""Real `intake serve` processes under faults: killed with SIGKILL in the middle of a busy flow, and two
processes sharing one PostgreSQL. Slack is the fake Web API on loopback; requests are really signed.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
import sqlalchemy as sa

from bot.projectfile import load_project_text
from bot.service import IntakeService
from store.repo import SqlStore
from tests.support.databases import PostgresDatabases, copy_sqlite, postgres_available, skip_or_fail
from tests.support.fake_slack import FakeSlack
from tests.support.processes import ServerProcess
from tests.support.slack_harness import (
    MEMBER_ID,
    OTHER_ID,
    PM_ID,
    SECRET,
    SLACK_PROJECT_YAML,
    TOKEN,
    fresh_trigger,
    payload,
    sign,
)

REQUESTERS = [MEMBER_ID, OTHER_ID, "U0ANA", "U0BEN"]


async def fresh_database(kind: str, tmp_path: Path, sqlite_template: Path, postgres_dbs: PostgresDatabases) -> str:
    """A migrated database of `kind` of its own, with the Slack project loaded."""
    if kind == "sqlite":
        url = copy_sqlite(sqlite_template, tmp_path / "intake.db")
    else:
        reason = await asyncio.to_thread(postgres_available)
        if reason:
            skip_or_fail(reason)
        from store.migrate import upgrade

        url = await asyncio.to_thread(postgres_dbs.create)
        await upgrade(url)
    store = SqlStore.from_url(url)
    try:
        await IntakeService(store).load_project(load_project_text(SLACK_PROJECT_YAML, "acme.yaml"))
    finally:
        await store.close()
    return url


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    fake.add_user(PM_ID, name="Pat Morgan")
    for uid in REQUESTERS:
        fake.add_user(uid, name=f"Person {uid}")
    yield fake
    await fake.close()


def server_env(db_url: str, fake: FakeSlack) -> dict[str, str]:
    return {
        "DATABASE_URL": db_url,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.api_url,
        "INTAKE_ENV": "test",
        "INTAKE_LOG_LEVEL": "WARNING",
    }


async def start(env: dict[str, str]) -> ServerProcess:
    return await asyncio.to_thread(ServerProcess(env).start)


def request_text(i: int) -> str:
    return f"Request {i:04d}: customers should be able to filter the order history by date"


async def send_request(session: aiohttp.ClientSession, server: ServerProcess, fake: FakeSlack, i: int) -> int:
    fields = fresh_trigger(payload("slash_command.json"))
    fields.update(
        command="/request",
        text=request_text(i),
        user_id=REQUESTERS[i % len(REQUESTERS)],
        channel_id="C0INTAKE",
        response_url=fake.response_url(f"r{i}"),
    )
    body = urlencode(fields)
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
    async with session.post(f"{server.url}/slack/events", data=body.encode(), headers=headers) as resp:
        await resp.read()
        return resp.status


async def fire(
    n: int, send: Callable[[int], Awaitable[int]], *, concurrency: int, on_ack: Callable[[int], None] | None = None
) -> set[int]:
    """Send requests 0..n-1, `concurrency` at a time; return those acknowledged with a 200."""
    acked: set[int] = set()
    sem = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with sem:
            try:
                status = await send(i)
            except (aiohttp.ClientError, OSError):
                return  # the server died under it: not acknowledged
            if status == 200:
                acked.add(i)
                if on_ack:
                    on_ack(len(acked))

    await asyncio.gather(*(one(i) for i in range(n)))
    return acked


async def outbox_state(db_url: str) -> Counter[str]:
    store = SqlStore.from_url(db_url)
    try:
        async with store.session() as s:
            rows = (await s.exec(sa.text("SELECT status FROM outbox"))).all()  # type: ignore[call-overload]
    finally:
        await store.close()
    return Counter(r[0] for r in rows)


async def outbox_rows(db_url: str) -> list[Any]:
    store = SqlStore.from_url(db_url)
    try:
        async with store.session() as s:
            q = "SELECT id, kind, status, attempts, available_at, lease_until, last_error FROM outbox ORDER BY id"
            return list((await s.exec(sa.text(q))).all())  # type: ignore[call-overload]
    finally:
        await store.close()


async def recorded_texts(db_url: str) -> dict[str, str]:
    store = SqlStore.from_url(db_url)
    try:
        return {r.text: r.ref for r in await IntakeService(store).list_requests()}
    finally:
        await store.close()


async def wait_until(condition: Callable[[], Awaitable[bool]], *, within: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        await asyncio.sleep(0.1)


def cards_by_ref(fake: FakeSlack) -> Counter[str]:
    refs: Counter[str] = Counter()
    for card in fake.delivered("chat.postMessage"):
        if card.get("channel") == "C0REVIEW":
            blocks = json.dumps(card.get("blocks"))
            refs.update(ref for ref in _refs(card.get("text", "") + blocks))
    return refs


def _refs(text: str) -> set[str]:
    return set(re.findall(r"\bACME-\d+\b", text))


async def stop(server: ServerProcess, sig: int = signal.SIGTERM) -> None:
    if server.proc is not None and server.proc.poll() is None:
        await asyncio.to_thread(server.stop, sig)


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_a_server_killed_mid_flow_loses_no_acknowledged_request_and_sends_every_card_once(
    kind: str, tmp_path: Path, sqlite_template: Path, postgres_dbs: PostgresDatabases, fake: FakeSlack
) -> None:
    db_url = await fresh_database(kind, tmp_path, sqlite_template, postgres_dbs)
    env = server_env(db_url, fake)
    # Slack is slow to answer while the process dies: the cards in flight at the kill had no effect. (A card
    # Slack took in the very instant before the kill, not yet marked sent, would go out again: that one
    # window is what at-least-once delivery means.)
    fake.hang("chat.postMessage", seconds=120, times=10_000)
    server = await start(env)
    try:

        def kill_midway(acks: int) -> None:
            if acks == 25 and server.proc is not None:
                server.proc.send_signal(signal.SIGKILL)

        async with aiohttp.ClientSession() as session:
            acked = await fire(60, lambda i: send_request(session, server, fake, i), concurrency=12, on_ack=kill_midway)
        assert await asyncio.to_thread(server.proc.wait, 10) == -signal.SIGKILL  # type: ignore[union-attr]
        assert 25 <= len(acked) < 60
    finally:
        await stop(server, signal.SIGKILL)

    # Time passes: the leases the dead process held on outbox rows run out.
    await expire_leases(db_url)
    fake.failures.clear()  # Slack answers again

    restarted = await start(env)
    try:
        try:
            await wait_until(
                lambda: _all_sent(db_url), within=30, what="the restarted server has delivered every pending notice"
            )
        except AssertionError as exc:
            raise AssertionError(f"{exc}: outbox {await outbox_rows(db_url)}") from None
    finally:
        await stop(restarted)

    texts = await recorded_texts(db_url)
    cards = cards_by_ref(fake)
    assert set(cards) == set(texts.values()), "every recorded request has its review card"
    assert max(cards.values()) == 1, f"posted twice: {[r for r, n in cards.items() if n > 1]}"
    lost = sorted(i for i in acked if request_text(i) not in texts)
    assert lost == [], f"acknowledged but not in the database: {lost}"


async def expire_leases(db_url: str) -> None:
    store = SqlStore.from_url(db_url)
    try:
        async with store.session() as s:
            await s.exec(  # type: ignore[call-overload]
                sa.text("UPDATE outbox SET lease_until = :past WHERE status = 'sending'").bindparams(
                    past=datetime(2000, 1, 1, tzinfo=UTC)
                )
            )
    finally:
        await store.close()


async def _all_sent(db_url: str) -> bool:
    return set(await outbox_state(db_url)) <= {"sent"}


@pytest.mark.postgres
async def test_two_servers_on_one_postgres_post_500_review_cards_each_once(
    tmp_path: Path, sqlite_template: Path, postgres_dbs: PostgresDatabases, fake: FakeSlack
) -> None:
    db_url = await fresh_database("postgres", tmp_path, sqlite_template, postgres_dbs)
    env = server_env(db_url, fake)
    servers = await asyncio.gather(start(env), start(env))
    n = 500
    try:
        async with aiohttp.ClientSession() as session:
            acked = await fire(n, lambda i: send_request(session, servers[i % 2], fake, i), concurrency=16)
            assert len(acked) == n
            await wait_until(lambda: _cards_posted(fake, n), within=40, what=f"{n} review cards were posted")
            await wait_until(lambda: _all_sent(db_url), within=10, what="every outbox row is marked sent")
    finally:
        await asyncio.gather(*(stop(s) for s in servers))

    texts = await recorded_texts(db_url)
    assert len(texts) == n and {request_text(i) for i in range(n)} == set(texts)
    cards = cards_by_ref(fake)
    assert set(cards) == set(texts.values())
    assert max(cards.values()) == 1, f"posted twice: {[r for r, k in cards.items() if k > 1]}"
    assert len([c for c in fake.delivered("chat.postMessage") if c.get("channel") == "C0REVIEW"]) == n
    for s in servers:
        assert "Traceback" not in s.output(), s.output()


async def _cards_posted(fake: FakeSlack, n: int) -> bool:
    return len([c for c in fake.delivered("chat.postMessage") if c.get("channel") == "C0REVIEW"]) >= n


async def make_due(db_url: str) -> None:
    """Time passes: the leases a dead process held run out, and work waiting for its moment is due."""
    past = datetime(2000, 1, 1, tzinfo=UTC)
    store = SqlStore.from_url(db_url)
    try:
        async with store.session() as s:
            await s.exec(  # type: ignore[call-overload]
                sa.text("UPDATE outbox SET lease_until = :past WHERE status = 'sending'").bindparams(past=past)
            )
            await s.exec(  # type: ignore[call-overload]
                sa.text("UPDATE outbox SET available_at = :past WHERE status = 'pending'").bindparams(past=past)
            )
    finally:
        await store.close()


def review_cards_in_slack(fake: FakeSlack) -> Counter[str]:
    """What Slack really shows in the review channel, by request."""
    refs: Counter[str] = Counter()
    for m in fake.posted_in("C0REVIEW"):
        refs.update(_refs(m.text + json.dumps(m.blocks)))
    return refs


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_a_slow_slack_and_a_server_killed_mid_posting_still_show_each_of_300_cards_once(
    kind: str, tmp_path: Path, sqlite_template: Path, postgres_dbs: PostgresDatabases, fake: FakeSlack
) -> None:
    """Every 7th post Slack takes at once but answers after our timeout (1 s); the server is killed while
    it posts 300 review cards, and started again. Each card is in the channel once: an attempt that may
    have reached Slack is followed by a look at the channel's history before any second post."""
    n = 300
    db_url = await fresh_database(kind, tmp_path, sqlite_template, postgres_dbs)
    env = {**server_env(db_url, fake), "SLACK_API_TIMEOUT": "1"}
    fake.late_every["chat.postMessage"] = (7, 2.5)
    server = await start(env)
    try:
        async with aiohttp.ClientSession() as session:
            acked = await fire(n, lambda i: send_request(session, server, fake, i), concurrency=16)
        assert len(acked) == n
        # Killed in the middle of posting the cards, with late answers still on their way.
        await wait_until(lambda: _cards_in_slack(fake, 90), within=60, what="90 review cards are in Slack")
        server.kill()
    finally:
        await stop(server, signal.SIGKILL)
    shown_at_kill = sum(review_cards_in_slack(fake).values())
    assert shown_at_kill < n, "the server died before it had posted them all"

    await make_due(db_url)
    restarted = await start(env)
    try:
        await wait_until(
            lambda: _all_recorded_and_sent(db_url, n), within=120, what="every request recorded and every notice sent"
        )
        await asyncio.sleep(3)  # any late answer still due lands; nothing more may be posted
    finally:
        await stop(restarted)

    texts = await recorded_texts(db_url)
    assert {request_text(i) for i in range(n)} == set(texts), "every acknowledged request is recorded"
    shown = review_cards_in_slack(fake)
    assert set(shown) == set(texts.values()), "every request has its card"
    assert [ref for ref, k in shown.items() if k > 1] == [], "no card is in the channel twice"
    assert fake.calls_to("conversations.history"), "attempts that may have reached Slack were looked up"
    assert "Traceback" not in restarted.output(), restarted.output()


async def _cards_in_slack(fake: FakeSlack, n: int) -> bool:
    return len(fake.posted_in("C0REVIEW")) >= n


async def _all_recorded_and_sent(db_url: str, n: int) -> bool:
    return set(await outbox_state(db_url)) <= {"sent"} and len(await recorded_texts(db_url)) == n
