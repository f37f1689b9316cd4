"""Build the running parts (store, service) from settings; shared by the CLI, the terminal bot and the server."""

from __future__ import annotations

from dataclasses import dataclass

from bot.ports import Clock
from bot.scope import ScopeChecker
from bot.service import IntakeService
from store.repo import SqlStore


@dataclass
class Runtime:
    store: SqlStore
    service: IntakeService

    async def close(self) -> None:
        await self.store.close()


async def open_runtime(
    database_url: str, *, migrate: bool = False, checker: ScopeChecker | None = None, clock: Clock | None = None
) -> Runtime:
    """Open the database (applying migrations first when `migrate`) and the service on it."""
    if migrate:
        from store.migrate import upgrade  # Alembic is slow to import; most commands never migrate

        await upgrade(database_url)
    store = SqlStore.from_url(database_url)
    return Runtime(store, IntakeService(store, checker=checker, clock=clock))
