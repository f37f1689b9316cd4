"""Database engines: SQLite (the default, a file in WAL mode) or PostgreSQL via DATABASE_URL."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from .urls import default_database_path, default_database_url, is_sqlite, normalize_url, redact

# An execution option marking an engine's transactions as read-only (`SqlStore.reading`).
READ_ONLY = "intake_read_only"

__all__ = [
    "READ_ONLY",
    "default_database_path",
    "default_database_url",
    "is_sqlite",
    "make_engine",
    "normalize_url",
    "redact",
]


# JSON columns are written without the spaces after separators and with their characters as they are
# (not as \u escapes): about a tenth less on disk for the same values. Older rows read the same.
compact_json = partial(json.dumps, separators=(",", ":"), ensure_ascii=False)


def make_engine(url: str, **kw: Any) -> AsyncEngine:
    url = normalize_url(url)
    kw.setdefault("json_serializer", compact_json)
    if is_sqlite(url):
        return _sqlite_engine(url, **kw)
    kw.setdefault("pool_pre_ping", True)
    kw.setdefault("pool_size", 10)
    kw.setdefault("max_overflow", 10)
    return create_async_engine(url, **kw)


def _sqlite_engine(url: str, **kw: Any) -> AsyncEngine:
    db = make_url(url).database
    if db and db != ":memory:":
        Path(db).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args={"timeout": 30}, **kw)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, start transactions, so that `_on_begin` can take the write
        # lock up front: two writers then queue instead of failing with "database is locked".
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A read-only transaction (see `READ_ONLY`) starts deferred: in WAL mode it reads a snapshot
        # and never waits for, nor holds up, a writer.
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")

    return engine
