"""Apply Alembic migrations from code (`intake db upgrade`, and the server and `make run` on start)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from bot.errors import StorageUnavailable

from .db import make_engine, normalize_url, redact

MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant works: it keeps two processes that start together from migrating at the same time.
_PG_LOCK_KEY = 7_221_905_118


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


async def upgrade(url: str, revision: str = "head") -> tuple[str | None, str | None]:
    """Bring the database at `url` to `revision`. Return (revision before, revision after)."""
    url = normalize_url(url)
    engine = make_engine(url)
    cfg = alembic_config()
    try:
        async with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
            before = await conn.run_sync(_current)
            await conn.run_sync(_upgrade, cfg, revision)
            after = await conn.run_sync(_current)
    except (sa_exc.OperationalError, sa_exc.InterfaceError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise StorageUnavailable(
            f"Cannot use the database at {redact(url)} ({reason}). Check that it is running and that DATABASE_URL is right."
        ) from exc
    finally:
        await engine.dispose()
    return before, after


async def current_revision(url: str) -> str | None:
    engine = make_engine(normalize_url(url))
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_current)
    finally:
        await engine.dispose()


def _current(connection: Any) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _upgrade(connection: Any, cfg: Config, revision: str) -> None:
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)
