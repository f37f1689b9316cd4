"""The acknowledgement path's writes: a batch of key claims and outbox rows, committed as fast as the
database allows (see `SqlStore.accept_work`).

The general path (an ORM session from the pool) costs 2-4 ms per transaction here: on SQLite most of it
is aiosqlite handing each statement to its thread and back, on PostgreSQL the pool's liveness ping and
the ORM. A batch of a few INSERTs needs neither:

- SQLite: a connection of its own, used directly on the event loop. A commit in WAL mode with
  `synchronous=NORMAL` does not wait for the disk, so the write takes a fraction of a millisecond. It
  never waits for a lock on the loop either (`busy_timeout=0`): if another process holds the write lock,
  the batch goes the general way, which waits in SQLite's busy handler on aiosqlite's thread. It never
  checkpoints the WAL (that is left to the general connections), so no checkpoint lands on the loop.
- PostgreSQL: one pooled connection of its own, kept open and used through SQLAlchemy Core. If it turns
  out dead before the commit is sent, the batch is retried once on a new connection; a failure during the
  commit is reported, never retried (the commit may have happened).

Either way the rows are committed before any caller is answered.

`GroupCommit` queues what the acknowledgements ask for while a batch is being written, so that the next
batch carries all of it: 50 concurrent acknowledgements cost a few commits, not 50 transactions.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from .models import OutboxEntry, ProcessedKey, table

log = logging.getLogger(__name__)

Claim = dict[str, Any]
Row = dict[str, Any]


# Most entries one group commit writes; more wait for the next (SQLite caps the variables in one statement).
GROUP_COMMIT_MAX = 500
Entry = tuple[Claim | None, Row | None]


class GroupCommit:
    """Claims and outbox rows waiting for the next commit, written by one task in batches.

    `write` writes one batch in one transaction and returns, per entry, whether its claim was new.
    A caller that is cancelled while waiting does not cancel the others' commit."""

    def __init__(self, write: Callable[[list[Entry]], Awaitable[list[bool]]]) -> None:
        self._write = write
        self._waiting: list[tuple[Claim | None, Row | None, asyncio.Future[bool]]] = []
        self._task: asyncio.Task[None] | None = None

    async def submit(self, claim: Claim | None, row: Row | None) -> bool:
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((claim, row, done))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="accept-work")
        return await asyncio.shield(done)

    async def _run(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:GROUP_COMMIT_MAX], self._waiting[GROUP_COMMIT_MAX:]
            try:
                fresh = await self._write([(claim, row) for claim, row, _ in batch])
            except Exception as exc:
                for _, _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for (_, _, done), ok in zip(batch, fresh, strict=True):
                if not done.done():
                    done.set_result(ok)


class Busy(Exception):
    """The fast path cannot take the write lock right now: use the general path."""


def plan(batch: list[tuple[Claim | None, Row | None]], claimed: set[str]) -> tuple[list[bool], list[Row]]:
    """Given the keys newly claimed, which entries' claims were new (the same key twice: the first) and
    the outbox rows to write (those whose claim, if any, was new)."""
    left = set(claimed)
    fresh: list[bool] = []
    rows: list[Row] = []
    for claim, row in batch:
        ok = claim is None or claim["key"] in left
        if claim is not None:
            left.discard(claim["key"])
        fresh.append(ok)
        if ok and row is not None:
            rows.append(row)
    return fresh, rows


def unique_claims(batch: list[tuple[Claim | None, Row | None]]) -> list[Claim]:
    return list({c["key"]: c for c, _ in batch if c is not None}.values())


def claim_statement(dialect: str, claims: list[Claim]) -> Any:
    t = table(ProcessedKey)
    ins = postgresql.insert(t) if dialect == "postgresql" else sqlite.insert(t)
    return ins.values(claims).on_conflict_do_nothing(index_elements=["key"]).returning(t.c.key)


async def write_on(conn: AsyncConnection, dialect: str, batch: list[tuple[Claim | None, Row | None]]) -> list[bool]:
    """Write a batch in the transaction open on `conn`: its claims, then the outbox rows of the entries
    whose claim (if any) was new. Return, per entry, whether its claim was new."""
    claimed: set[str] = set()
    claims = unique_claims(batch)
    if claims:
        claimed = {str(k) for (k,) in (await conn.execute(claim_statement(dialect, claims))).all()}
    fresh, rows = plan(batch, claimed)
    if rows:
        await conn.execute(sa.insert(table(OutboxEntry)), rows)
    return fresh


class SqliteAckWriter:
    """A plain sqlite3 connection, through SQLAlchemy Core, used on the event loop for tiny writes."""

    def __init__(self, database: str) -> None:
        self.engine = sa.create_engine(f"sqlite:///{database}", poolclass=sa.pool.StaticPool)

        @sa.event.listens_for(self.engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # SQLAlchemy's BEGIN IMMEDIATE below starts transactions
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=0"):
                dbapi_conn.execute(f"PRAGMA {pragma}")
            dbapi_conn.execute("PRAGMA wal_autocheckpoint=0")

        @sa.event.listens_for(self.engine, "begin")
        def _on_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    def write(self, batch: list[tuple[Claim | None, Row | None]]) -> list[bool]:
        try:
            with self.engine.begin() as conn:
                claimed: set[str] = set()
                claims = unique_claims(batch)
                if claims:
                    claimed = {str(k) for (k,) in conn.execute(claim_statement("sqlite", claims)).all()}
                fresh, rows = plan(batch, claimed)
                if rows:
                    conn.execute(sa.insert(table(OutboxEntry)), rows)
            return fresh
        except sa_exc.OperationalError as exc:
            if isinstance(exc.orig, sqlite3.OperationalError) and "locked" in str(exc.orig):
                raise Busy from exc
            raise

    def close(self) -> None:
        self.engine.dispose()


class PostgresAckWriter:
    """One connection kept for the acknowledgement path, reopened when it dies."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.conn: AsyncConnection | None = None

    async def write(self, batch: list[tuple[Claim | None, Row | None]]) -> list[bool]:
        for attempt in (1, 2):
            committing = False
            try:
                if self.conn is None:
                    self.conn = await self.engine.connect()
                trans = await self.conn.begin()
                fresh = await write_on(self.conn, "postgresql", batch)
                committing = True
                await trans.commit()
                return fresh
            except (sa_exc.DBAPIError, OSError) as exc:
                dead = isinstance(exc, OSError) or exc.connection_invalidated or isinstance(exc, sa_exc.InterfaceError)
                await self._discard()
                if attempt == 1 and dead and not committing:
                    log.info("store: the acknowledgement connection was closed (%s); reconnecting", exc)
                    continue
                raise
            except BaseException:
                await self._discard()
                raise
        raise AssertionError("unreachable")

    async def _discard(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            try:
                await conn.invalidate()
            except Exception:  # it is being thrown away
                log.debug("store: closing a dead acknowledgement connection failed", exc_info=True)

    async def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            await conn.close()


def sqlite_file(url: str) -> str | None:
    """The file behind a SQLite URL, or None for an in-memory database (which only its own connection sees)."""
    db = make_url(url).database
    return db if db and db != ":memory:" and not db.startswith("file:") else None
