"""The `intake` command loads only what the command it runs needs: its help loads no platform SDK and no
database layer, and showing a request loads no chat platform. (How fast that makes it is measured by
`python -m bench scale`, not here.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Runs the real `intake` entry point with the given arguments, then prints the modules it loaded.
PROBE = """
import json, sys
sys.argv = ["intake", *sys.argv[1:]]
from adapters.cli.main import main
try:
    main()
except SystemExit:
    pass
print("\\n@@modules@@" + json.dumps(sorted(sys.modules)))
"""

PLATFORM_SDKS = ("slack_bolt", "slack_sdk", "botbuilder", "botframework", "msrest", "aiohttp", "openai")


def loaded_by(*args: str, db: Path, whole: bool = False) -> tuple[str, set[str]]:
    """What `intake ARGS` printed, and the packages it loaded (with `whole`, every module by its name)."""
    res = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{db}"},
        cwd=ROOT,
        timeout=120,
    )
    out, _, modules = res.stdout.rpartition("\n@@modules@@")
    assert modules, res.stderr
    names = json.loads(modules)
    return out + res.stderr, set(names) if whole else {m.split(".")[0] for m in names}


def test_help_loads_no_platform_sdk_and_no_database_layer(tmp_path: Path) -> None:
    out, loaded = loaded_by("--help", db=tmp_path / "intake.db")
    # the help is whole: every area's commands are listed
    for command in (
        "db",
        "project",
        "request",
        "export",
        "letter",
        "digest",
        "scope",
        "pm",
        "access",
        "slack",
        "teams",
    ):
        assert f"  {command} " in out, command
    assert loaded.isdisjoint(PLATFORM_SDKS), sorted(loaded & set(PLATFORM_SDKS))
    assert loaded.isdisjoint({"sqlalchemy", "sqlmodel", "aiosqlite", "asyncpg", "pydantic", "jinja2"})
    assert "bot" not in loaded and "store" not in loaded


def upgraded_database(tmp_path: Path) -> Path:
    """A SQLite database with every migration applied, by the command a user runs."""
    db = tmp_path / "intake.db"
    res = subprocess.run(
        [sys.executable, "-m", "adapters.cli", "db", "upgrade"],
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{db}"},
        cwd=ROOT,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    return db


def test_showing_a_request_loads_no_chat_platform(tmp_path: Path) -> None:
    db = upgraded_database(tmp_path)
    out, loaded = loaded_by("request", "show", "ACME-1", db=db)
    assert "There is no request ACME-1" in out  # it really opened the database and looked
    assert "sqlalchemy" in loaded
    assert loaded.isdisjoint(PLATFORM_SDKS), sorted(loaded & set(PLATFORM_SDKS))


def test_showing_a_request_loads_no_scope_checker_mail_or_settings_validation(tmp_path: Path) -> None:
    """It reads the record: the scope checker, the language model's client, e-mail, the digest, the
    project-file parser and the settings' validation are for commands that use them."""
    db = upgraded_database(tmp_path)
    out, loaded = loaded_by("request", "show", "ACME-1", db=db, whole=True)
    assert "There is no request ACME-1" in out
    unused = {"bot.scope.judge", "bot.scope.llm", "bot.mailing", "bot.digest", "bot.projectfile", "yaml", "jinja2"}
    assert loaded.isdisjoint(unused | {"pydantic_settings", "adapters.settings"}), sorted(loaded & unused)
