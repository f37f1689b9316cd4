"""Real databases for tests: a migrated SQLite file per test, and a fresh PostgreSQL database per run.

PostgreSQL tests skip with a reason when no server answers, unless INTAKE_REQUIRE_POSTGRES=1 (CI),
which turns the skip into a failure. They never touch the server's default `postgres` database.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from pathlib import Path

import pytest

ADMIN_URL = os.environ.get("INTAKE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def require_postgres() -> bool:
    return os.environ.get("INTAKE_REQUIRE_POSTGRES") == "1"


async def _admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(ADMIN_URL, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def postgres_available() -> str | None:
    """Return None when PostgreSQL answers, else the reason it does not."""
    try:
        asyncio.run(_admin("SELECT 1"))
    except Exception as exc:  # any failure to connect means: no usable server
        return f"PostgreSQL at {ADMIN_URL} is not reachable ({type(exc).__name__}: {exc})"
    return None


def skip_or_fail(reason: str) -> None:
    if require_postgres():
        pytest.fail(f"INTAKE_REQUIRE_POSTGRES=1 but {reason}")
    pytest.skip(reason)


def async_url(admin_url: str, dbname: str) -> str:
    base = admin_url.rsplit("/", 1)[0]
    return base.replace("postgresql://", "postgresql+asyncpg://", 1) + "/" + dbname


class PostgresDatabases:
    """Creates databases named intake_test_<random> and drops them at the end of the run."""

    def __init__(self) -> None:
        self.created: list[str] = []

    def create(self) -> str:
        name = f"intake_test_{uuid.uuid4().hex[:12]}"
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return async_url(ADMIN_URL, name)

    def drop_all(self) -> None:
        for name in self.created:
            try:
                asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            except Exception as exc:  # leave a note rather than hide a failed cleanup
                print(f"could not drop test database {name}: {exc}")


def migrated_sqlite_template(directory: Path) -> Path:
    from store.migrate import upgrade

    path = directory / "template.db"
    asyncio.run(upgrade(f"sqlite+aiosqlite:///{path}"))
    return path


def copy_sqlite(template: Path, target: Path) -> str:
    shutil.copy(template, target)
    return f"sqlite+aiosqlite:///{target}"
