"""Build the running parts (store, service) from settings; shared by the CLI, the terminal bot and the server.

This is the composition root: the one place (with the command line's wiring) that knows the storage is
SQL. Database URLs are read here too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

# The core is imported when a runtime is opened, not with this module: the settings import it for the
# database URL, and a command that only shows its help should not pay for the whole core.
if TYPE_CHECKING:
    from bot.ports import Clock, ServerStore
    from bot.scope import ScopeChecker
    from bot.service import IntakeService


@dataclass
class Runtime:
    """The running parts every adapter shares. Adapters use the store through its ports (`ServerStore`);
    this module is where the SQL implementation is chosen."""

    store: ServerStore
    service: IntakeService

    async def close(self) -> None:
        if self.service.model is not None:
            await self.service.model.aclose()
        await self.store.close()


async def open_runtime(
    database_url: str, *, migrate: bool = False, checker: ScopeChecker | None = None, clock: Clock | None = None
) -> Runtime:
    """Open the database (applying migrations first when `migrate`) and the service on it."""
    from bot.service import IntakeService
    from store.repo import SqlStore

    if migrate:
        from store.migrate import upgrade  # Alembic is slow to import; most commands never migrate

        await upgrade(database_url)
    store = SqlStore.from_url(database_url)
    return Runtime(store, IntakeService(store, checker=checker, clock=clock))


def default_database_url() -> str:
    from store.urls import default_database_url as default

    return default()


def normalize_db_url(url: str) -> str:
    from store.urls import normalize_url

    return normalize_url(url)
