"""One function per surface measured on a seeded database (so more can be added beside them).

Server surfaces go through the real `intake serve` over HTTP with the fake Slack Web API in a process of
its own (bench/ack); command-line surfaces run `intake` in a subprocess of their own, so its time and
peak resident memory are its own.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from slack_sdk.signature import SignatureVerifier

from bench.ack.load import ROOT, FakeSlackProcess, Proc, database_counts, run_load, signed_bodies
from tests.support.slack_harness import SECRET

from .history import pm_id, project_slug


@dataclass
class Server:
    """A running `intake serve` on a seeded database, and what the measurements need to know."""

    proc: Proc
    url: str
    fake: FakeSlackProcess
    database_url: str
    largest: int  # the project with the most requests
    sample_ref: str  # a request of the largest project
    workdir: Path


def _sign(body: bytes) -> dict[str, str]:
    ts = str(int(time.time()))
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body),
    }


def _post(url: str, body: bytes, content_type: str) -> int:
    req = urllib.request.Request(
        f"{url}/slack/events", data=body, headers={"Content-Type": content_type, **_sign(body)}, method="POST"
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return int(resp.status)


def home_opened_body(user: str) -> bytes:
    event = {
        "token": "unused",
        "team_id": "T0ACME",
        "api_app_id": "A0INTAKE",
        "event": {"type": "app_home_opened", "user": user, "channel": "D" + user[1:], "tab": "home"},
        "type": "event_callback",
        "event_id": f"Ev{uuid.uuid4().hex[:12].upper()}",
        "event_time": int(time.time()),
    }
    return json.dumps(event).encode()


def _arrival(
    s: Server, post: Callable[[], object], count: Callable[[dict[str, Any]], int], at: Callable[[dict[str, Any]], float]
) -> float | None:
    """Post, wait until the fake Slack has one more of what `count` counts, and return the milliseconds from
    the post to its arrival there, by the wall-clock stamp the fake put on it (`at`): the server's time,
    not this loop's polling. None if it never came."""
    before = count(s.fake.stats())
    t0 = time.time()
    post()
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        stats = s.fake.stats()
        if count(stats) > before:
            return (at(stats) - t0) * 1000
        time.sleep(0.005)
    return None


def _times(xs: list[float]) -> dict[str, Any]:
    """The first time (users.info, caches) apart, and the median of the rest."""
    return {
        "median_ms": round(statistics.median(xs[1:] or xs), 1),
        "first_ms": round(xs[0], 1),
        "all_ms": [round(x, 1) for x in xs],
    }


def app_home(s: Server, rounds: int = 7, *, pause: float = 0.2) -> dict[str, Any]:
    """App Home for a PM of the largest project: from posting `app_home_opened` until `views.publish`
    reaches the fake Slack."""
    times = []
    for _ in range(rounds):
        took = _arrival(
            s,
            lambda: _post(s.url, home_opened_body(pm_id(s.largest)), "application/json"),
            lambda st: int(st["methods"].get("views.publish", 0)),
            lambda st: float(st["last_at"]["views.publish"]),
        )
        if took is None:
            return {"error": "views.publish never came"}
        times.append(took)
        time.sleep(pause)  # one person opening the tab, not a flood
    return _times(times)


def requests_command_body(fake: FakeSlackProcess, key: str) -> bytes:
    fields = {
        "token": "unused",
        "team_id": "T0ACME",
        "channel_id": "C0NOPROJECT",
        "user_id": "U0ANYONE",
        "command": "/requests",
        "text": "",
        "api_app_id": "A0INTAKE",
        "response_url": fake.response_url(key),
        "trigger_id": f"1.{uuid.uuid4().hex[:12]}",
    }
    return urlencode(fields).encode()


def requests_all(s: Server, rounds: int = 7) -> dict[str, Any]:
    """`/requests` in a channel of no project: every open request; until its answer reaches `response_url`."""
    times = []
    for i in range(rounds):
        key = f"list-{uuid.uuid4().hex[:6]}-{i}"
        took = _arrival(
            s,
            lambda k=key: _post(s.url, requests_command_body(s.fake, k), "application/x-www-form-urlencoded"),
            lambda st: int(st["responses"]),
            lambda st: float(st["last_response_at"]),
        )
        if took is None:
            return {"error": "no answer within 300 s"}
        times.append(took)
        answer = str(s.fake.stats()["last_response"] or "")
        if not answer.startswith(("Open requests", "No open requests")):
            return {"error": f"answered: {answer[:120]}", "ms": round(times[-1], 1)}
        time.sleep(0.2)
    return _times(times)


def metrics(s: Server, rounds: int = 7) -> dict[str, Any]:
    """`GET /metrics`."""
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        with urllib.request.urlopen(f"{s.url}/metrics", timeout=60) as resp:
            resp.read()
        times.append((time.perf_counter() - t0) * 1000)
    return {"median_ms": round(statistics.median(times), 1)}


# --- the command line ---------------------------------------------------------------------------------


def intake_command() -> list[str]:
    script = Path(sys.executable).parent / "intake"
    return [str(script)] if script.exists() else [sys.executable, "-m", "adapters.cli"]


def run_cli(args: list[str], database_url: str, *, output: Path | None = None) -> dict[str, Any]:
    """Run `intake ARGS`; its wall time, peak resident memory and exit code.

    Under GNU time, whose own small process forks the command: a child forked straight from this one
    would report this process's (larger) peak as its own."""
    out: Any = output.open("wb") if output else subprocess.DEVNULL
    err = tempfile.TemporaryFile()
    # As an installed command runs: with its compiled bytecode kept (an environment that forbids writing
    # it would time Python compiling the project's modules on every run).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    proc = subprocess.run(
        ["/usr/bin/time", "-f", "@@time %e %M", *intake_command(), *args],
        env={**env, "DATABASE_URL": database_url, "INTAKE_ENV": "production"},
        cwd=ROOT,
        stdout=out,
        stderr=err,
        check=False,
    )
    if output:
        out.close()
    err.seek(0)
    lines = err.read().decode(errors="replace").strip().splitlines()
    err.close()
    timing = [line for line in lines if line.startswith("@@time ")]
    seconds, peak_kb = timing[-1].split()[1:3] if timing else ("nan", "0")
    code = proc.returncode
    res: dict[str, Any] = {"s": round(float(seconds), 2), "rss_mb": round(int(peak_kb) / 1024, 1), "exit": code}
    if code != 0:
        rest = [line for line in lines if not line.startswith("@@time ") and not line.startswith("Command exited")]
        res["error"] = rest[-1][:300] if rest else f"exit {code}"
    return res


def export(s: Server) -> dict[str, Any]:
    """`intake export` of the largest project (jsonl, to a file)."""
    target = s.workdir / "export.jsonl"
    res = run_cli(["export", "--project", project_slug(s.largest), "-o", str(target)], s.database_url)
    res["mb_written"] = round(target.stat().st_size / 1e6, 1) if target.exists() else 0
    return res


def digest(s: Server) -> dict[str, Any]:
    """`intake digest` of the largest project (printed, not sent)."""
    return run_cli(["digest", "--project", project_slug(s.largest)], s.database_url)


def request_list(s: Server) -> dict[str, Any]:
    """`intake request list`: every open request."""
    return run_cli(["request", "list"], s.database_url)


def cli_help(s: Server, rounds: int = 5) -> dict[str, Any]:
    """`intake --help`: start-up alone."""
    run_cli(["--help"], s.database_url)  # the first run writes the bytecode, as installing does
    runs = [run_cli(["--help"], s.database_url) for _ in range(rounds)]
    return {"median_s": round(statistics.median(r["s"] for r in runs), 2)}


def cli_show(s: Server, rounds: int = 5) -> dict[str, Any]:
    """`intake request show REF` for a request of the largest project."""
    run_cli(["request", "show", s.sample_ref], s.database_url)  # bytecode written, as installing does
    runs = [run_cli(["request", "show", s.sample_ref], s.database_url) for _ in range(rounds)]
    out: dict[str, Any] = {"median_s": round(statistics.median(r["s"] for r in runs), 2)}
    if any(r["exit"] for r in runs):
        out["error"] = next(r.get("error") for r in runs if r["exit"])
    return out


# --- the acknowledgement while reads run ---------------------------------------------------------------


async def _ack_stream(
    url: str, bodies: list[tuple[bytes, dict[str, str]]], stop: asyncio.Event, clients: int
) -> list[float]:
    latencies: list[float] = []
    queue = iter(bodies)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:

        async def client() -> None:
            for body, headers in queue:
                if stop.is_set():
                    return
                t0 = time.perf_counter()
                async with session.post(f"{url}/slack/events", data=body, headers=headers) as resp:
                    await resp.read()
                if resp.status == 200:
                    latencies.append((time.perf_counter() - t0) * 1000)
                await asyncio.sleep(0.02)  # a busy channel, not a flood: about 40 commands a second

        await asyncio.gather(*(client() for _ in range(clients)))
    return latencies


def ack_during(s: Server, work: Callable[[Server], Any], name: str, clients: int = 2) -> dict[str, Any]:
    """`/request` acknowledgements while `work` runs: their p99 and the longest wait."""

    async def go() -> tuple[list[float], Any]:
        stop = asyncio.Event()
        bodies = signed_bodies(s.fake, 20_000, f"during-{name}-{uuid.uuid4().hex[:4]}")
        stream = asyncio.create_task(_ack_stream(s.url, bodies, stop, clients))
        await asyncio.sleep(0.5)
        result = await asyncio.to_thread(work, s)
        stop.set()
        return await stream, result

    latencies, result = asyncio.run(go())
    xs = sorted(latencies)
    p99 = xs[min(len(xs) - 1, round(0.99 * len(xs)) - 1)] if xs else float("nan")
    return {
        "acks": len(xs),
        "p50_ms": round(statistics.median(xs), 1) if xs else None,
        "p99_ms": round(p99, 1),
        "max_ms": round(max(xs), 1) if xs else None,
        "work": result,
    }


def home_repeatedly(s: Server, seconds: float = 3.0) -> dict[str, Any]:
    """App Home opened again as soon as it was published, for `seconds`."""
    times: list[float] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        one = app_home(s, 1, pause=0)
        if "error" in one:
            return one
        times += one["all_ms"]
    return _times(times)


def ack_while_reading(s: Server) -> dict[str, Any]:
    """The acknowledgement while each read runs: export, digest, request list, App Home."""
    return {
        "export": ack_during(s, export, "export"),
        "digest": ack_during(s, digest, "digest"),
        "request_list": ack_during(s, request_list, "list"),
        "app_home": ack_during(s, home_repeatedly, "home"),
    }


def burst(s: Server, n: int = 1000, concurrency: int = 50) -> dict[str, Any]:
    """`n` `/request`s acknowledged at once: how long until all are recorded, and how many after 3 s."""
    marker = f"burst{uuid.uuid4().hex[:5]}"
    load = run_load(s.url, signed_bodies(s.fake, n, marker), concurrency)
    t_end = time.monotonic()
    at3: int | None = None
    recorded = 0
    while time.monotonic() - t_end < 600:
        recorded = len(asyncio.run(database_counts(s.database_url, marker))["refs"])
        if at3 is None and time.monotonic() - t_end >= 3.0:
            at3 = recorded
        if recorded >= load.ok:
            break
        time.sleep(0.1)
    took = time.monotonic() - t_end
    return {
        "acknowledged": load.ok,
        "errors": len(load.errors),
        "ack_p99_ms": load.summary()["p99_ms"],
        "recorded_after_3s": at3 if at3 is not None else recorded,
        "all_recorded_s": round(took, 1),
        "complete": recorded >= load.ok,
    }
