"""The parts every Slack benchmark shares: processes (fake Slack, `intake serve`, the bare bolt floor),
databases, signed `/request` bodies, the load itself, and the checks that nothing was lost or doubled."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from slack_sdk.signature import SignatureVerifier

from tests.support.processes import free_port
from tests.support.slack_harness import SECRET, SLACK_PROJECT_YAML, TOKEN

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"
POSTGRES_ADMIN = os.environ.get("INTAKE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
USERS = 20  # distinct requesters: users.info is looked up once per user, then cached, as in a real workspace


# --- processes --------------------------------------------------------------------------------------


class Proc:
    """A child process with its output in a log file (a pipe nobody reads would stall it)."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self.log = log_path.open("w")
        self.proc = subprocess.Popen(
            args if args[0] != "-m" else [sys.executable, *args],
            env={**os.environ, **env},
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_http(self, url: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.log_path.name} exited early:\n{self.log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(url, timeout=1) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise TimeoutError(f"{url} did not answer within {timeout:.0f}s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            # py-spy writes its profile on SIGINT and passes it on to the server
            self.proc.send_signal(signal.SIGINT if "py-spy" in self.proc.args[0] else signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")


class FakeSlackProcess:
    def __init__(self, workdir: Path) -> None:
        self.control = f"http://127.0.0.1:{free_port()}"
        port = self.control.rsplit(":", 1)[1]
        self.proc = Proc(["-m", "bench.ack.fake", "--port", port], {}, workdir / "fake-slack.log")
        self.proc.wait_http(f"{self.control}/_stats")
        self.api_base = self.proc.log_path.read_text().splitlines()[0].strip()

    @property
    def api_url(self) -> str:
        return f"{self.api_base}/api/"

    def response_url(self, key: str) -> str:
        return f"{self.api_base}/response/{key}"

    def _call(self, path: str, method: str = "GET") -> dict[str, Any]:
        req = urllib.request.Request(f"{self.control}{path}", method=method, data=b"" if method == "POST" else None)
        with urllib.request.urlopen(req, timeout=30) as resp:
            return dict(json.loads(resp.read()))

    def stats(self) -> dict[str, Any]:
        return self._call("/_stats")

    def set_delay(self, seconds: float) -> None:
        self._call(f"/_delay?seconds={seconds}", "POST")

    def clear(self) -> None:
        self._call("/_clear", "POST")

    def stop(self) -> None:
        self.proc.stop()


def slack_env(fake: FakeSlackProcess, database_url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.api_url,
        "INTAKE_ENV": "production",
        "INTAKE_LOG_FORMAT": "json",
    }


def start_intake(
    fake: FakeSlackProcess, database_url: str, workdir: Path, name: str, env: dict[str, str] | None = None
) -> tuple[Proc, str]:
    """Start `intake serve` (with `env` added to its environment); with INTAKE_BENCH_PROFILE=DIR, under py-spy,
    writing DIR/<name>.txt."""
    port = free_port()
    args = ["-m", "adapters.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    profile = os.environ.get("INTAKE_BENCH_PROFILE")
    if profile:
        Path(profile).mkdir(parents=True, exist_ok=True)
        spy = str(Path(sys.executable).parent / "py-spy")
        args = [spy, "record", "-r", "200", "-f", "raw", "-o", f"{profile}/{name}.txt", "--", sys.executable, *args]
    proc = Proc(
        args,
        {**slack_env(fake, database_url), **(env or {})},
        workdir / f"{name}.log",
    )
    url = f"http://127.0.0.1:{port}"
    proc.wait_http(f"{url}/readyz")
    return proc, url


def start_fake_model(workdir: Path, delay: float) -> tuple[Proc, dict[str, str]]:
    """A fake language model answering after `delay` seconds; return it and the settings pointing at it."""
    port = free_port()
    proc = Proc(["-m", "bench.ack.fake_model", "--port", str(port), "--delay", str(delay)], {}, workdir / "model.log")
    proc.wait_http(f"http://127.0.0.1:{port}/v1/models")
    return proc, {
        "INTAKE_LLM_URL": f"http://127.0.0.1:{port}/v1",
        "INTAKE_LLM_MODEL": "fake-judge",
        "INTAKE_LLM_TIMEOUT": str(max(8.0, delay * 2)),
    }


def start_bare_bolt(fake: FakeSlackProcess, workdir: Path) -> tuple[Proc, str]:
    port = free_port()
    proc = Proc(
        ["-m", "bench.ack.bare_bolt", "--port", str(port), "--api-url", fake.api_url],
        {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET},
        workdir / "bare-bolt.log",
    )
    url = f"http://127.0.0.1:{port}"
    proc.wait_http(f"{url}/healthz")
    return proc, url


# --- databases --------------------------------------------------------------------------------------


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(POSTGRES_ADMIN, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def postgres_unreachable() -> str | None:
    try:
        asyncio.run(_pg_admin("SELECT 1"))
    except Exception as exc:  # any failure to connect: skip PostgreSQL with the reason
        return f"{type(exc).__name__}: {exc}"
    return None


@dataclass
class Database:
    kind: str
    url: str
    drop: str | None = None

    def close(self) -> None:
        if self.drop:
            asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{self.drop}" WITH (FORCE)'))


def new_database(kind: str, workdir: Path) -> Database:
    if kind == "sqlite":
        return Database(kind, f"sqlite+aiosqlite:///{workdir / f'bench-{uuid.uuid4().hex[:8]}.db'}")
    name = f"intake_bench_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    base = POSTGRES_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return Database(kind, f"{base}/{name}", drop=name)


def prepare(database_url: str) -> None:
    """Migrate and load the benchmark's project (the one the Slack tests use)."""
    from adapters.runtime import open_runtime
    from bot.projectfile import load_project_text

    async def go() -> None:
        rt = await open_runtime(database_url, migrate=True)
        try:
            await rt.service.load_project(load_project_text(SLACK_PROJECT_YAML, "acme.yaml"))
        finally:
            await rt.close()

    asyncio.run(go())


async def database_counts(database_url: str, marker: str) -> dict[str, Any]:
    """This run's requests (their text carries `marker`) and the outbox rows still open."""
    import sqlalchemy as sa

    from store.repo import SqlStore

    store = SqlStore.from_url(database_url)
    try:
        async with store.session() as s:
            q = sa.text("SELECT ref, text FROM requests WHERE text LIKE :m").bindparams(m=f"%({marker}-%")
            rows = (await s.exec(q)).all()  # type: ignore[call-overload]
            q2 = sa.text("SELECT status, count(*) FROM outbox GROUP BY status")
            outbox = dict((await s.exec(q2)).all())  # type: ignore[call-overload]
    finally:
        await store.close()
    return {
        "refs": [r[0] for r in rows],
        "texts": len({r[1] for r in rows}),
        "outbox_open": int(outbox.get("pending", 0)) + int(outbox.get("sending", 0)),
        "outbox_failed": int(outbox.get("failed", 0)),
    }


# --- load -------------------------------------------------------------------------------------------

REQUEST_TEXTS = (
    "Please build native iOS and Android apps for the portal",
    "Could the order history also export to Excel",
    "Add a dark mode to the customer portal",
    "Send low-stock alerts by SMS as well as push",
    "Let customers pay by credit card online",
    "Show live order status on the dashboard",
)


def signed_bodies(
    fake: FakeSlackProcess, n: int, marker: str, *, users: str = "U0BENCH"
) -> list[tuple[bytes, dict[str, str]]]:
    """`n` distinct `/request` commands from `USERS` users, signed now (Slack's 5-minute window is far
    longer than a run)."""
    verifier = SignatureVerifier(SECRET)
    out = []
    ts = str(int(time.time()))
    for i in range(n):
        fields = {
            "token": "verification-token-unused",
            "team_id": "T0ACME",
            "team_domain": "acme",
            "channel_id": "C0INTAKE",
            "channel_name": "client-requests",
            "user_id": f"{users}{i % USERS:02d}",
            "user_name": f"bench.user{i % USERS}",
            "command": "/request",
            "text": f"{REQUEST_TEXTS[i % len(REQUEST_TEXTS)]} ({marker}-{i})",
            "api_app_id": "A0INTAKE",
            "is_enterprise_install": "false",
            "response_url": fake.response_url(f"{marker}-{i}"),
            "trigger_id": f"{i}.{uuid.uuid4().hex[:12]}",
        }
        body = urlencode(fields).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": verifier.generate_signature(timestamp=ts, body=body),
        }
        out.append((body, headers))
    return out


@dataclass
class LoadResult:
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    concurrency: int = 1

    @property
    def ok(self) -> int:
        return len(self.latencies_ms)

    def pct(self, q: float) -> float:
        xs = sorted(self.latencies_ms)
        if not xs:
            return float("nan")
        return xs[min(len(xs) - 1, max(0, round(q / 100 * len(xs)) - 1))]

    def summary(self) -> dict[str, Any]:
        return {
            "concurrency": self.concurrency,
            "requests": self.ok + len(self.errors),
            "ok": self.ok,
            "errors": len(self.errors),
            "error_samples": self.errors[:5],
            "p50_ms": round(statistics.median(self.latencies_ms), 2) if self.latencies_ms else None,
            "p95_ms": round(self.pct(95), 2),
            "p99_ms": round(self.pct(99), 2),
            "max_ms": round(max(self.latencies_ms), 2) if self.latencies_ms else None,
            "throughput_rps": round(self.ok / self.elapsed_s, 1) if self.elapsed_s else None,
        }


async def send_load(url: str, bodies: list[tuple[bytes, dict[str, str]]], concurrency: int) -> LoadResult:
    """Send every body with `concurrency` clients on keep-alive connections; time each ack."""
    result = LoadResult(concurrency=concurrency)
    queue = iter(bodies)
    target = f"{url}/slack/events"
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as session:

        async def client() -> None:
            for body, headers in queue:
                t0 = time.perf_counter()
                try:
                    async with session.post(target, data=body, headers=headers) as resp:
                        await resp.read()
                        status = resp.status
                except (aiohttp.ClientError, TimeoutError) as exc:
                    result.errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                took = (time.perf_counter() - t0) * 1000
                if status == 200:
                    result.latencies_ms.append(took)
                else:
                    result.errors.append(f"HTTP {status}")

        t0 = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        result.elapsed_s = time.perf_counter() - t0
    return result


def run_load(url: str, bodies: list[tuple[bytes, dict[str, str]]], concurrency: int) -> LoadResult:
    return asyncio.run(send_load(url, bodies, concurrency))


def wait_drained(
    database_url: str, fake: FakeSlackProcess, marker: str, expected: int, *, timeout: float, cards: bool = True
) -> dict[str, Any]:
    """Wait until every acknowledged request of the run is recorded (and, with `cards`, the outbox is empty
    and every review card posted); then count what was lost and what was doubled."""
    deadline = time.monotonic() + timeout
    t0 = time.monotonic()
    while True:
        counts = asyncio.run(database_counts(database_url, marker))
        posted = fake.stats()["review_cards"]
        run_posts = [posted.get(ref, 0) for ref in counts["refs"]]
        done = len(counts["refs"]) >= expected and (
            not cards or (counts["outbox_open"] == 0 and sum(1 for n in run_posts if n) >= expected)
        )
        if done or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    out: dict[str, Any] = {
        "acknowledged": expected,
        "recorded": len(counts["refs"]),
        "lost": max(0, expected - counts["texts"]),
        "duplicated": len(counts["refs"]) - counts["texts"],
        "outbox_open": counts["outbox_open"],
        "outbox_failed": counts["outbox_failed"],
        "drain_s": round(time.monotonic() - t0, 1),
        "complete": done,
    }
    if cards:
        out["review_cards_missing"] = sum(1 for n in run_posts if n == 0)
        out["review_cards_doubled"] = sum(n - 1 for n in run_posts if n > 1)
    return out


def workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="intake-bench-"))


def write_results(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}-{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return path
