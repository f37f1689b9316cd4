"""A year of requests: how each surface behaves as history grows, on SQLite and PostgreSQL.

    python -m bench scale [--sizes 10000,100000] [--database sqlite|postgres|both]

For each size and database: a fresh database (PostgreSQL: a throwaway database on 127.0.0.1:5432, dropped
afterwards; skipped with a message when unreachable) is seeded with that many requests over 200 projects
through the bulk path (bench/scale/seed.py: what the Slack route writes, recorded once per kind of request
and copied), then `intake serve` runs on it with the fake Slack Web API and each surface is measured
(bench/scale/measure.py). Prints a markdown table with growth exponents between the smallest and the
largest size (time ~ size^k) and writes everything to build/bench-scale.json.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import math
import pickle
import shutil
import sqlite3
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.ack.load import (
    ROOT,
    FakeSlackProcess,
    new_database,
    postgres_unreachable,
    prepare,
    start_intake,
    workdir,
)

from . import measure
from .history import by_project, plan, project_slug
from .seed import capture, seed, template_key

OUTPUT = ROOT / "build" / "bench-scale.json"


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def database_size(url: str) -> int:
    """Bytes the database takes on disk (SQLite: the file and its write-ahead log, checkpointed first)."""
    import sqlalchemy as sa

    from store.db import make_engine, normalize_url

    url = normalize_url(url)
    if url.startswith("sqlite"):
        path = Path(url.split("///", 1)[1])
        with sqlite3.connect(path) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(sa.text("SELECT pg_database_size(current_database())"))).scalar_one())
    finally:
        await engine.dispose()


async def skip_past_steps(url: str) -> int:
    """Mark the scheduled steps that fell due before now as skipped, finished when they fell due; return
    how many.

    The seed copies what recording and deciding wrote, but does not replay a year of the timekeeper
    (reminders, expiries, follow-ups, daily summaries as each fell due). Left pending, the server would
    spend the whole benchmark catching up on a year of them at once, which no running server does. A
    running server finishes a step when it falls due, so that is when these are finished: those older
    than the retention period are then pruned as the server would have pruned them."""
    import sqlalchemy as sa

    from store.db import make_engine, normalize_url

    engine = make_engine(normalize_url(url))
    try:
        async with engine.begin() as conn:
            now = datetime.now(UTC)
            res = await conn.execute(
                sa.text(
                    "UPDATE schedule SET status = 'skipped', finished_at = due_at WHERE status = 'pending' AND due_at < :now"
                ),
                {"now": now},
            )
            return int(res.rowcount or 0)
    finally:
        await engine.dispose()


async def prune_as_served(url: str, keep_days: float = 30.0) -> int:
    """Delete the delivered notices older than the outbox's retention (INTAKE_OUTBOX_KEEP_DAYS, 30 days by
    default), with the scheduled steps finished as long ago and the keys of `/request` commands recorded
    more than a week ago, as a server running through that year would have, and compact the database as
    its reuse of the freed space would; return how many notices went.

    The seed copies every notice a request's play delivered, dated across the year. Left in place, the
    server would start by pruning a year's backlog (a one-off after an upgrade, minutes of small deletes)
    while the benchmark measures it, and the size would be that of a database never pruned."""
    import sqlalchemy as sa

    from store.db import make_engine, normalize_url

    url = normalize_url(url)
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            res = await conn.execute(
                sa.text("DELETE FROM outbox WHERE status = 'sent' AND sent_at < :before"),
                {"before": datetime.now(UTC) - timedelta(days=keep_days)},
            )
            gone = int(res.rowcount or 0)
            await conn.execute(
                sa.text(
                    "DELETE FROM schedule WHERE status IN ('done', 'skipped', 'cancelled') AND finished_at < :before"
                ),
                {"before": datetime.now(UTC) - timedelta(days=keep_days)},
            )
            await conn.execute(
                sa.text("DELETE FROM processed_keys WHERE key LIKE 'slack:command:%' AND at < :before"),
                {"before": datetime.now(UTC) - timedelta(days=7)},
            )
        if not url.startswith("sqlite"):
            async with engine.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                for name in ("outbox", "schedule", "processed_keys"):  # compacted, as SQLite's VACUUM does
                    await conn.execute(sa.text(f"VACUUM FULL ANALYZE {name}"))
                # The rest: the past steps just skipped changed the schedule's statistics too, which
                # autovacuum would have caught up with in a server running through that year.
                await conn.execute(sa.text("VACUUM ANALYZE"))
    finally:
        await engine.dispose()
    if url.startswith("sqlite"):
        with sqlite3.connect(Path(url.split("///", 1)[1])) as db:
            db.execute("VACUUM")
    return gone


def templates_for(keys: set[Any], wd: Path) -> tuple[dict[Any, Any], float]:
    """Record each kind of request through the Slack route, or reuse what was recorded by the same code."""
    digest = hashlib.sha256()
    # what a play runs through, and how it is played and kept (not how it is measured)
    for folder in ("bot", "adapters", "store", "tests/support", "bench/scale/history.py", "bench/scale/seed.py"):
        for path in sorted((ROOT / folder).rglob("*")) if (ROOT / folder).is_dir() else [ROOT / folder]:
            if path.is_file() and path.suffix in (".py", ".j2", ".yaml", ".txt", ".json"):
                digest.update(path.relative_to(ROOT).as_posix().encode())
                digest.update(path.read_bytes())
    cache = ROOT / "build" / f"bench-scale-templates-{digest.hexdigest()[:16]}.pickle"
    if cache.exists():
        kept: dict[Any, Any] = pickle.loads(cache.read_bytes())
        if keys <= set(kept):
            say(f"reusing {len(keys)} kinds of request recorded by this code ({cache.name})")
            return kept, 0.0
    say(f"recording {len(keys)} kinds of request through the Slack route (once for every run)")
    t0 = time.perf_counter()
    templates = asyncio.run(capture(keys, wd))
    took = round(time.perf_counter() - t0, 1)
    say(f"  recorded in {took:.0f} s")
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(pickle.dumps(templates))
    return templates, took


# The surfaces, in the order they run (the burst last: it adds a thousand requests).
SURFACES = {
    "metrics": measure.metrics,
    "app_home": measure.app_home,
    "requests_all": measure.requests_all,
    "export": measure.export,
    "digest": measure.digest,
    "cli_help": measure.cli_help,
    "cli_show": measure.cli_show,
    "ack_while_reading": measure.ack_while_reading,
    "burst": measure.burst,
}


def run_one(kind: str, size: int, templates: dict[Any, Any], fake: FakeSlackProcess, wd: Path) -> dict[str, Any]:
    plans = plan(size)
    counts = by_project(plans)
    largest = max(counts, key=lambda p: counts[p])
    db = new_database(kind, wd)
    out: dict[str, Any] = {"database": kind, "requests": size, "largest_project": project_slug(largest)}
    out["largest_project_requests"] = counts[largest]
    try:
        prepare(db.url)
        # What a migrated database takes before any request (PostgreSQL's own catalogs, ~9 MB): the size
        # per request is what the database grows by for each one.
        empty_bytes = asyncio.run(database_size(db.url))
        say(f"{kind}, {size:,} requests: seeding")
        report = asyncio.run(seed(db.url, plans, templates=templates, say=say))
        out["seed"] = {"seconds": report.load_s, "rows": report.rows}
        say(f"  seeded in {report.load_s:.0f} s: {report.rows}")
        out["past_steps_skipped"] = asyncio.run(skip_past_steps(db.url))
        out["notices_pruned"] = asyncio.run(prune_as_served(db.url))
        size_bytes = asyncio.run(database_size(db.url))
        out["database_bytes"] = size_bytes
        out["empty_database_bytes"] = empty_bytes
        out["bytes_per_request"] = round((size_bytes - empty_bytes) / size)
        fake.clear()
        proc, url = start_intake(fake, db.url, wd, f"scale-{kind}-{size}")
        server = measure.Server(proc, url, fake, db.url, largest, f"CLIENT{largest:03d}-{counts[largest] // 2}", wd)
        try:
            for name, fn in SURFACES.items():
                say(f"  measuring {name}")
                t0 = time.perf_counter()
                try:
                    out[name] = fn(server)
                except Exception as exc:  # a surface that fails is reported as failed, and the run goes on
                    out[name] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
                say(f"    {json.dumps(out[name])[:300]} ({time.perf_counter() - t0:.0f} s)")
            out["serve_rss_mb"] = round(proc.rss_mb(), 1)
        finally:
            proc.stop()
    finally:
        db.close()
    return out


# --- the table ----------------------------------------------------------------------------------------


def _get(run: dict[str, Any], path: str) -> float | None:
    cur: Any = run
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return float(cur) if isinstance(cur, (int, float)) else None


def _failed(run: dict[str, Any], path: str) -> str | None:
    cur: Any = run
    for part in path.split(".")[:-1]:
        if not isinstance(cur, dict):
            return None
        if "error" in cur:
            return str(cur["error"])
        cur = cur.get(part)
    if isinstance(cur, dict) and "error" in cur:
        return str(cur["error"])
    return None


ROWS: list[tuple[str, str, str]] = [
    ("ack p99 during export (ms)", "ack_while_reading.export.p99_ms", "{:.0f}"),
    ("ack max during export (ms)", "ack_while_reading.export.max_ms", "{:.0f}"),
    ("ack p99 during digest (ms)", "ack_while_reading.digest.p99_ms", "{:.0f}"),
    ("ack max during digest (ms)", "ack_while_reading.digest.max_ms", "{:.0f}"),
    ("ack p99 during request list (ms)", "ack_while_reading.request_list.p99_ms", "{:.0f}"),
    ("ack max during request list (ms)", "ack_while_reading.request_list.max_ms", "{:.0f}"),
    ("ack p99 during App Home (ms)", "ack_while_reading.app_home.p99_ms", "{:.0f}"),
    ("ack max during App Home (ms)", "ack_while_reading.app_home.max_ms", "{:.0f}"),
    ("App Home, PM of the largest project (ms)", "app_home.median_ms", "{:.0f}"),
    ("`/requests` with no project (ms)", "requests_all.median_ms", "{:.0f}"),
    ("export of the largest project (s)", "export.s", "{:.1f}"),
    ("export peak RSS (MB)", "export.rss_mb", "{:.0f}"),
    ("digest of the largest project (s)", "digest.s", "{:.1f}"),
    ("digest peak RSS (MB)", "digest.rss_mb", "{:.0f}"),
    ("`/metrics` (ms)", "metrics.median_ms", "{:.0f}"),
    ("database size (MB)", "database_mb", "{:.0f}"),
    ("bytes per request (growth over the empty database)", "bytes_per_request", "{:,.0f}"),
    ("`intake --help` (s)", "cli_help.median_s", "{:.2f}"),
    ("`intake request show` (s)", "cli_show.median_s", "{:.2f}"),
    ("burst of 1,000: all recorded after (s)", "burst.all_recorded_s", "{:.1f}"),
    ("burst of 1,000: recorded after 3 s", "burst.recorded_after_3s", "{:.0f}"),
    ("burst of 1,000: ack p99 (ms)", "burst.ack_p99_ms", "{:.0f}"),
]


def growth(small: dict[str, Any], large: dict[str, Any], path: str) -> float | None:
    a, b = _get(small, path), _get(large, path)
    if a is None or b is None or a <= 0 or b <= 0 or large["requests"] == small["requests"]:
        return None
    return math.log(b / a) / math.log(large["requests"] / small["requests"])


def table(runs: list[dict[str, Any]]) -> str:
    for r in runs:
        if "database_bytes" in r:
            r["database_mb"] = round(r["database_bytes"] / 1e6, 1)
    heads = [f"{r['database']} {r['requests']:,}" for r in runs]
    kinds = sorted({r["database"] for r in runs})
    growth_cols = []
    for kind in kinds:
        mine = sorted((r for r in runs if r["database"] == kind), key=lambda r: r["requests"])
        if len(mine) >= 2:
            growth_cols.append((kind, mine[0], mine[-1]))
    header = "| surface | " + " | ".join(heads)
    header += "".join(f" | growth {k} {a['requests'] // 1000}k→{b['requests'] // 1000}k" for k, a, b in growth_cols)
    lines = [header + " |", "|---" * (1 + len(heads) + len(growth_cols)) + "|"]
    for label, path, fmt in ROWS:
        cells = []
        for r in runs:
            v = _get(r, path)
            if v is None:
                why = _failed(r, path)
                cells.append(f"failed ({why[:60]})" if why else "–")
            else:
                cells.append(fmt.format(v))
        for _, a, b in growth_cols:
            g = growth(a, b, path)
            cells.append(f"{g:.2f}" if g is not None else "–")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench scale", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated numbers of requests")
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--output", default=str(OUTPUT), help="where the JSON goes")
    args = parser.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",")]
    kinds = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    runs: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    if "postgres" in kinds and (why := postgres_unreachable()):
        say(f"PostgreSQL skipped: not reachable ({why})")
        skipped["postgres"] = why
        kinds.remove("postgres")
    wd = workdir()
    fake = FakeSlackProcess(wd)
    started = time.perf_counter()
    try:
        keys = {template_key(pl) for size in sizes for pl in plan(size)}
        templates, capture_s = templates_for(keys, wd)
        for size in sizes:
            for kind in kinds:
                runs.append(run_one(kind, size, templates, fake, wd))
                _write(args.output, args, runs, skipped, capture_s)
    finally:
        fake.stop()
    print(table(runs))
    print(f"\n(total {time.perf_counter() - started:.0f} s; results: {args.output})")
    shutil.rmtree(wd, ignore_errors=True)


def _write(
    path: str, args: argparse.Namespace, runs: list[dict[str, Any]], skipped: dict[str, str], capture_s: float
) -> None:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    data = {"config": vars(args), "capture_s": capture_s, "skipped": skipped, "runs": runs}
    out.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


if __name__ == "__main__":
    main()
