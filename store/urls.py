"""Database URLs as people write them, without importing a driver (the command line reads these at start)."""

from __future__ import annotations

import os
import re
from pathlib import Path


def default_database_path() -> Path:
    """The per-user SQLite file: $XDG_DATA_HOME/intake-bot/intake.db (~/.local/share by default)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "intake-bot" / "intake.db"


def default_database_url() -> str:
    return f"sqlite+aiosqlite:///{default_database_path()}"


def normalize_url(url: str) -> str:
    """Accept the URLs people paste (`postgres://`, `postgresql://`, `sqlite:///`) and pick the async driver."""
    url = url.strip()
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+asyncpg://" + url[len("postgresql://") :]
    if url.startswith("sqlite://"):
        url = "sqlite+aiosqlite://" + url[len("sqlite://") :]
    return url


def redact(url: str) -> str:
    """Hide the password in a database URL before it is shown or logged."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")
