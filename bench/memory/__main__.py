"""Resident memory of `intake serve`: idle, and after 10,000 `/request` commands have been recorded and
their review cards posted.

    python -m bench.memory [--requests 10000] [--concurrency 50] [--database sqlite|postgres]

The server runs with Slack on (fake Web API on loopback) on a fresh database; RSS is read from
/proc/PID/status. Results go to bench/results/memory-*.json. Target: at most 200 MB after 10,000 requests.
"""

from __future__ import annotations

import argparse
import shutil
import time
import uuid
from typing import Any

from bench.ack.load import (
    FakeSlackProcess,
    new_database,
    postgres_unreachable,
    prepare,
    run_load,
    signed_bodies,
    start_intake,
    wait_drained,
    workdir,
    write_results,
)

TARGET_MB = 200.0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--drain-timeout", type=float, default=900.0)
    args = parser.parse_args(argv)
    if args.database == "postgres" and (why := postgres_unreachable()):
        print(f"PostgreSQL skipped: not reachable ({why})")
        return
    wd = workdir()
    fake = FakeSlackProcess(wd)
    db = new_database(args.database, wd)
    out: dict[str, Any] = {"config": vars(args)}
    try:
        prepare(db.url)
        proc, url = start_intake(fake, db.url, wd, f"memory-{args.database}")
        try:
            time.sleep(2.0)
            out["rss_idle_mb"] = round(proc.rss_mb(), 1)
            marker = uuid.uuid4().hex[:6]
            acked = 0
            errors = 0
            chunk = 2000  # signed in chunks, so no signature is older than Slack's 5 minutes when sent
            for start in range(0, args.requests, chunk):
                n = min(chunk, args.requests - start)
                res = run_load(url, signed_bodies(fake, n, f"{marker}{start // chunk}x"), args.concurrency)
                acked += res.ok
                errors += len(res.errors)
                out.setdefault("rss_during_mb", []).append(round(proc.rss_mb(), 1))
            checks = [
                wait_drained(
                    db.url, fake, f"{marker}{i}x", min(chunk, args.requests - i * chunk), timeout=args.drain_timeout
                )
                for i in range((args.requests + chunk - 1) // chunk)
            ]
            time.sleep(1.0)
            out["rss_after_mb"] = round(proc.rss_mb(), 1)
            out["acknowledged"] = acked
            out["errors"] = errors
            out["recorded"] = sum(c["recorded"] for c in checks)
            out["lost"] = sum(c["lost"] for c in checks)
            out["duplicated"] = sum(c["duplicated"] for c in checks)
            out["review_cards_missing"] = sum(c.get("review_cards_missing", 0) for c in checks)
        finally:
            proc.stop()
    finally:
        db.close()
        fake.stop()
    ok = out["rss_after_mb"] <= TARGET_MB
    print(
        f"intake serve on {args.database}: RSS idle {out['rss_idle_mb']} MB; during the load {out['rss_during_mb']} MB;"
    )
    print(
        f"after {out['acknowledged']:,} requests ({out['recorded']:,} recorded, {out['lost']} lost, "
        f"{out['duplicated']} duplicated, {out['errors']} errors): {out['rss_after_mb']} MB "
        f"(target <= {TARGET_MB:.0f} MB: {'ok' if ok else 'MISSED'})"
    )
    print(f"results: {write_results('memory', out)}")
    shutil.rmtree(wd, ignore_errors=True)


if __name__ == "__main__":
    main()
