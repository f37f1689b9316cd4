"""`intake serve` as a real process: it migrates on start, answers health checks, and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import signal
import time
import urllib.request
from pathlib import Path

from tests.support.processes import ServerProcess


def test_serve_starts_migrated_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    db = tmp_path / "serve.db"
    server = ServerProcess({"DATABASE_URL": f"sqlite+aiosqlite:///{db}", "INTAKE_LOG_FORMAT": "json"}).start()
    try:
        with urllib.request.urlopen(f"{server.url}/readyz", timeout=5) as resp:
            assert json.load(resp)["status"] == "ready"  # the tables exist: migrations ran on start
        started = time.monotonic()
        code = server.stop(signal.SIGTERM)
        assert code == 0 and time.monotonic() - started < 10
        out = server.output()
        assert "platforms: none" in out
    finally:
        if server.proc and server.proc.poll() is None:
            server.kill()


def test_serve_refuses_to_start_with_a_bad_database_url(tmp_path: Path) -> None:
    import subprocess
    import sys

    res = subprocess.run(
        [sys.executable, "-m", "adapters.cli", "serve", "--port", "1"],
        env={
            "PATH": "/usr/bin:/bin",
            "DATABASE_URL": "postgresql+asyncpg://x:y@127.0.0.1:1/none",
            "HOME": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert res.returncode == 1 and "DATABASE_URL" in res.stderr and "Traceback" not in res.stderr
