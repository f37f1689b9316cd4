"""The acknowledgement path's group commit: claims and outbox rows together, on both databases, through
the fast connection and around it (a lock held by another process, a connection that died, no tables)."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.domain import Notice
from bot.errors import StorageUnavailable
from store.repo import SqlStore

GRACE = timedelta(seconds=30)


def work(key: str) -> Notice:
    return Notice(kind="slack_command", platform="slack", audience="person", text=key, data={"k": key}, dedupe_key=key)


async def outbox_keys(store: SqlStore) -> list[str]:
    async with store.session() as s:
        res = await s.exec(sa.text("SELECT dedupe_key FROM outbox ORDER BY id"))  # type: ignore[call-overload]
        return [r[0] for r in res.all()]


async def test_concurrent_acks_share_commits_and_each_claim_is_new_once(store: SqlStore) -> None:
    now = datetime.now(UTC)
    results = await asyncio.gather(
        *(store.accept_work(work(f"w{i}"), grace=GRACE, claim=f"sig:{i % 10}", at=now) for i in range(30)),
        *(store.claim_key_soon(f"other:{i}", at=now) for i in range(5)),
    )
    # Ten distinct signatures among thirty acks: ten are new, twenty are replays and write nothing.
    assert sum(results[:30]) == 10 and all(results[30:])
    kept = await outbox_keys(store)
    assert sorted(kept) == sorted(f"w{i}" for i in range(10))
    # Claimed keys stay claimed, however they were claimed.
    assert not await store.claim_key_soon("sig:3", at=now)
    async with store.transaction() as tx:
        assert not await tx.claim_key("other:4", at=now)
    assert await store.accept_work(work("plain"), grace=GRACE)  # no claim: always written
    assert (await outbox_keys(store))[-1] == "plain"


async def test_an_ack_waits_for_another_process_holding_the_sqlite_write_lock(sqlite_url: str) -> None:
    store = SqlStore.from_url(sqlite_url)
    other = sqlite3.connect(sqlite_url.split(":///", 1)[1], isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process (a CLI import, say) is writing
        ack = asyncio.create_task(store.accept_work(work("waits"), grace=GRACE, claim="sig:w"))
        await asyncio.sleep(0.3)
        assert not ack.done()  # it waits (in SQLite's busy handler, off the event loop)...
        other.execute("COMMIT")
        assert await asyncio.wait_for(ack, timeout=10) is True  # ...and is written once the lock is free
        assert await outbox_keys(store) == ["waits"]
    finally:
        other.close()
        await store.close()


async def test_the_loop_keeps_running_while_an_ack_waits_for_the_lock(sqlite_url: str) -> None:
    store = SqlStore.from_url(sqlite_url)
    other = sqlite3.connect(sqlite_url.split(":///", 1)[1], isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        ack = asyncio.create_task(store.accept_work(work("w"), grace=GRACE))
        ticks = 0
        for _ in range(20):
            await asyncio.sleep(0.01)
            ticks += 1
        assert ticks == 20 and not ack.done()
        other.execute("ROLLBACK")
        await asyncio.wait_for(ack, timeout=10)
    finally:
        other.close()
        await store.close()


async def test_an_in_memory_database_takes_the_general_path() -> None:
    from sqlmodel import SQLModel

    # A memory database exists only on its one connection: a second, fast connection would not see it.
    store = SqlStore.from_url("sqlite+aiosqlite:///:memory:", poolclass=sa.pool.StaticPool)
    async with store.engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)
    try:
        assert await store.accept_work(work("m"), grace=GRACE, claim="sig:m")
        assert not await store.claim_key_soon("sig:m", at=datetime.now(UTC))
        assert await outbox_keys(store) == ["m"]
    finally:
        await store.close()


async def test_a_database_without_tables_is_storage_unavailable_on_the_ack_path(tmp_path: Path) -> None:
    store = SqlStore.from_url(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        with pytest.raises(StorageUnavailable, match="intake db upgrade"):
            await store.accept_work(work("x"), grace=GRACE, claim="sig:x")
    finally:
        await store.close()


@pytest.mark.postgres
async def test_a_dead_postgres_connection_is_replaced_before_the_commit(postgres_url: str) -> None:
    import asyncpg

    store = SqlStore.from_url(postgres_url)
    admin = await asyncpg.connect(postgres_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await admin.execute("TRUNCATE outbox, processed_keys")
        assert await store.accept_work(work("before"), grace=GRACE, claim="sig:before")
        pid = await admin.fetchval(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND state = 'idle' ORDER BY backend_start DESC LIMIT 1"
        )
        assert pid is not None
        await admin.execute("SELECT pg_terminate_backend($1)", pid)  # the server (or a proxy) dropped it
        await asyncio.sleep(0.1)
        assert await store.accept_work(work("after"), grace=GRACE, claim="sig:after") is True
        assert await outbox_keys(store) == ["before", "after"]
    finally:
        await admin.execute("TRUNCATE outbox, processed_keys")
        await admin.close()
        await store.close()
