"""The scheduled steps: what a look for due steps costs when nothing is due, and how fast reminders go out
when many fall due at once, with one and with two workers on one database.

    python -m bench.schedule [--requests 2000] [--databases sqlite,postgres]

Each run records `--requests` requests (through the service, as chat does) on a fresh database, so each
has a decision due and a daily summary is planned; then:

- idle poll: the median time of one `claim_steps` while every step lies in the future (what each server
  process pays every INTAKE_SCHEDULE_INTERVAL seconds);
- burst: the clock moves past every due date and 1, then 2, workers (each with its own connection pool,
  as two server processes would have) run the reminders: per reminder one event, a notice per PM and the
  review card's update, each step in one transaction. Every step must run once, and no reminder may be
  queued twice.

Results are printed and written to bench/results/schedule-*.json.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bench.ack.load import new_database, postgres_unreachable, prepare, workdir, write_results
from bot.domain import Actor, Source
from bot.service import IntakeService
from bot.timekeeping import Timekeeper
from store.repo import SqlStore
from tests.support.clock import FakeClock

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # a Tuesday
SAM = Actor("slack", "U0SAM", email="sam@acme-team.example", name="Sam Reed")


async def record(url: str, n: int, clock: FakeClock) -> None:
    store = SqlStore.from_url(url)
    try:
        service = IntakeService(store, clock=clock)
        for i in range(n):
            await service.submit_request(
                project="acme-portal",
                actor=SAM,
                text=f"Request {i:05d}: customers should be able to filter the order history by date",
                source=Source("slack", channel="C0INTAKE"),
            )
    finally:
        await store.close()


async def idle_poll(url: str, clock: FakeClock, rounds: int = 200) -> float:
    """Median milliseconds of one look for due steps when none is due."""
    store = SqlStore.from_url(url)
    try:
        times = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            claimed = await store.schedule.claim_steps(now=clock.now(), worker="idle", limit=20, lease_seconds=60)
            times.append((time.perf_counter() - t0) * 1000)
            assert not claimed
        return statistics.median(times)
    finally:
        await store.close()


async def burst(url: str, workers: int, clock: FakeClock, n: int) -> dict[str, Any]:
    """Run every due reminder with `workers` workers; check each ran once."""
    stores = [SqlStore.from_url(url) for _ in range(workers)]
    try:
        keepers = [Timekeeper(IntakeService(s, clock=clock), worker=f"w{i}") for i, s in enumerate(stores)]
        t0 = time.perf_counter()
        await asyncio.gather(*(k.run_due(max_rounds=10_000) for k in keepers))
        seconds = time.perf_counter() - t0
        async with stores[0].session() as s:
            reminded = (await s.exec(sa.text("SELECT count(*) FROM events WHERE kind = 'reminded'"))).scalar_one()  # type: ignore[call-overload]
            notices = (
                await s.exec(sa.text("SELECT count(*), count(DISTINCT dedupe_key) FROM outbox WHERE kind = 'reminder'"))
            ).one()  # type: ignore[call-overload]
        ran = [k.ran.get("decision_due:done", 0) for k in keepers]
        assert reminded == n and sum(ran) == n, (reminded, ran)
        assert notices[0] == notices[1] == 2 * n, notices
        return {
            "workers": workers,
            "steps": n,
            "seconds": round(seconds, 2),
            "per_second": round(n / seconds, 1),
            "by_worker": ran,
        }
    finally:
        for s in stores:
            await s.close()


def run(kind: str, n: int) -> dict[str, Any]:
    out: dict[str, Any] = {"database": kind, "requests": n}
    results = []
    for workers in (1, 2):
        db = new_database(kind, workdir())
        try:
            prepare(db.url)
            clock = FakeClock(START)
            asyncio.run(record(db.url, n, clock))
            if workers == 1:
                out["idle_poll_ms"] = round(asyncio.run(idle_poll(db.url, clock)), 2)
            clock.t = START + timedelta(days=7)
            results.append(asyncio.run(burst(db.url, workers, clock, n)))
        finally:
            db.close()
    out["burst"] = results
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.schedule", description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--databases", default="sqlite,postgres")
    args = parser.parse_args(argv)
    rows = []
    for kind in args.databases.split(","):
        if kind == "postgres" and (why := postgres_unreachable()):
            print(f"PostgreSQL skipped: not reachable ({why})")
            continue
        rows.append(run(kind, args.requests))
    print(f"{'database':<10} {'idle poll':>10} {'1 worker':>16} {'2 workers':>16}")
    for r in rows:
        one, two = r["burst"]
        print(
            f"{r['database']:<10} {r['idle_poll_ms']:>8} ms {one['per_second']:>10} steps/s {two['per_second']:>10} steps/s"
        )
    print(f"results: {write_results('schedule', {'config': vars(args), 'runs': rows})}")


if __name__ == "__main__":
    main()
