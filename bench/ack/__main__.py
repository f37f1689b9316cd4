"""How fast `/request` is acknowledged, and that nothing acknowledged is lost or doubled.

    python -m bench.ack [--concurrency 50] [--total 2000] [--single 300] [--slow 2.0] [--databases sqlite,postgres]
                        [--llm SECONDS]

Against a real `intake serve` process (SQLite, then a fresh PostgreSQL database on 127.0.0.1:5432, skipped
with a message when unreachable), with the fake Slack Web API in a process of its own on loopback:

1. one client, requests one after another: the median acknowledgement;
2. `--concurrency` clients sending `--total` signed slash commands: p50/p95/p99, throughput, errors; then,
   once the outbox has drained, every acknowledged request must be in the database once and its review
   card posted once;
3. the same load while every Web API call takes `--slow` seconds (new users, so `users.info` really is
   slow): the acknowledgement must not notice.

The same loads run against a bare bolt app that only acknowledges (bolt's default mode): the floor.
With `--llm SECONDS`, `intake serve` also asks a fake language model about every request, which answers
after SECONDS: the acknowledgement must not notice that either.
Results go to bench/results/ack-*.json.
"""

from __future__ import annotations

import argparse
import shutil
import uuid
from typing import Any

from .load import (
    FakeSlackProcess,
    new_database,
    postgres_unreachable,
    prepare,
    run_load,
    signed_bodies,
    start_bare_bolt,
    start_fake_model,
    start_intake,
    wait_drained,
    workdir,
    write_results,
)


def measure_floor(fake: FakeSlackProcess, wd: Any, args: argparse.Namespace) -> dict[str, Any]:
    proc, url = start_bare_bolt(fake, wd)
    try:
        run_load(url, signed_bodies(fake, 100, "warm-floor"), 10)
        single = run_load(url, signed_bodies(fake, args.single, "floor-single"), 1)
        many = run_load(url, signed_bodies(fake, args.total, "floor-many"), args.concurrency)
    finally:
        proc.stop()
    return {"single": single.summary(), "concurrent": many.summary()}


def measure_intake(kind: str, fake: FakeSlackProcess, wd: Any, args: argparse.Namespace) -> dict[str, Any]:
    db = new_database(kind, wd)
    run = uuid.uuid4().hex[:6]
    fake.set_delay(0)
    fake.clear()  # review cards are counted by ref, and every database numbers from ACME-1
    try:
        prepare(db.url)
        proc, url = start_intake(fake, db.url, wd, f"intake-{kind}", env=args.model_env)
        try:
            fake.set_delay(0)
            run_load(url, signed_bodies(fake, 100, f"{run}w"), 10)
            wait_drained(db.url, fake, f"{run}w", 100, timeout=120)
            single = run_load(url, signed_bodies(fake, args.single, f"{run}s"), 1)
            wait_drained(db.url, fake, f"{run}s", single.ok, timeout=120)
            many = run_load(url, signed_bodies(fake, args.total, f"{run}c"), args.concurrency)
            check = wait_drained(db.url, fake, f"{run}c", many.ok, timeout=args.drain_timeout)
            check["errors"] = len(many.errors)
            fake.set_delay(args.slow)
            slow = run_load(url, signed_bodies(fake, args.total, f"{run}d", users="U0SLOW"), args.concurrency)
            # Review cards now take `--slow` s each to post; only the recording is waited for.
            slow_check = wait_drained(db.url, fake, f"{run}d", slow.ok, timeout=args.drain_timeout, cards=False)
            fake.set_delay(0)
            rss = proc.rss_mb()
        finally:
            proc.stop()
    finally:
        db.close()
    return {
        "single": single.summary(),
        "concurrent": many.summary(),
        "concurrent_check": check,
        "slow_api": slow.summary(),
        "slow_api_check": slow_check,
        "rss_mb_after": round(rss, 1),
    }


def verdicts(res: dict[str, Any], floor: dict[str, Any]) -> dict[str, Any]:
    c, s, f = res["concurrent"], res["slow_api"], floor["concurrent"]
    ratio = c["throughput_rps"] / f["throughput_rps"]
    slow_ratio = s["p99_ms"] / c["p99_ms"]
    chk = res["concurrent_check"]
    lost = chk["lost"] + res["slow_api_check"]["lost"] + chk.get("review_cards_missing", 0)
    dup = chk["duplicated"] + res["slow_api_check"]["duplicated"] + chk.get("review_cards_doubled", 0)
    return {
        "single_median_ms": (res["single"]["p50_ms"], res["single"]["p50_ms"] <= 5.0),
        "p99_ms": (c["p99_ms"], c["p99_ms"] <= 60.0),
        "throughput_vs_floor": (round(ratio, 2), ratio >= 0.5),
        "slow_api_p99_ratio": (round(slow_ratio, 2), slow_ratio <= 1.2),
        "lost": (lost, lost == 0),
        "duplicated": (dup, dup == 0),
        "errors": (c["errors"] + s["errors"], c["errors"] + s["errors"] == 0),
    }


def print_table(results: dict[str, Any]) -> None:
    floor = results["floor"]
    rows = [("bare bolt (floor)", floor["single"], floor["concurrent"])]
    for kind in ("sqlite", "postgres"):
        if isinstance(results.get(kind), dict) and "single" in results[kind]:
            r = results[kind]
            rows.append((f"intake {kind}", r["single"], r["concurrent"]))
            rows.append((f"intake {kind}, Slack API {results['config']['slow']:g}s", None, r["slow_api"]))
    print()
    print(f"{'':36} {'1 client p50':>12} {'p50':>8} {'p95':>8} {'p99':>8} {'req/s':>8} {'errors':>7}")
    for name, single, many in rows:
        one = f"{single['p50_ms']:.2f}" if single else "-"
        print(
            f"{name:36} {one:>12} {many['p50_ms']:>8.2f} {many['p95_ms']:>8.2f} {many['p99_ms']:>8.2f} "
            f"{many['throughput_rps']:>8.1f} {many['errors']:>7}"
        )
    print(
        f"(latencies in ms; {results['config']['concurrency']} concurrent clients, {results['config']['total']} requests)"
    )
    for kind in ("sqlite", "postgres"):
        r = results.get(kind)
        if isinstance(r, str):
            print(f"\n{kind}: skipped: {r}")
            continue
        if not r:
            continue
        print(f"\n{kind}: targets")
        targets = {
            "single_median_ms": "one client median <= 5 ms",
            "p99_ms": "50 concurrent p99 <= 60 ms",
            "throughput_vs_floor": "throughput >= 0.5x bare bolt",
            "slow_api_p99_ratio": "p99 slow API / normal <= 1.2",
            "lost": "lost (requests + review cards) = 0",
            "duplicated": "duplicated (requests + review cards) = 0",
            "errors": "errors = 0",
        }
        for key, label in targets.items():
            value, ok = r["verdicts"][key]
            print(f"  {label:44} {value!s:>10}  {'ok' if ok else 'MISSED'}")
        chk, slow = r["concurrent_check"], r["slow_api_check"]
        print(
            f"  drained in {chk['drain_s']} s after the load ({chk['recorded']} recorded, "
            f"{chk['review_cards_missing']} cards missing); slow-API run: {slow['recorded']}/{slow['acknowledged']} "
            f"recorded {slow['drain_s']} s after the load"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ack", description=__doc__.split("\n")[0])
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--total", type=int, default=2000)
    parser.add_argument("--single", type=int, default=300, help="requests sent one after another")
    parser.add_argument("--slow", type=float, default=2.0, help="seconds each Web API call takes in the slow run")
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--drain-timeout", type=float, default=300.0)
    parser.add_argument(
        "--llm",
        type=float,
        default=None,
        metavar="SECONDS",
        help="also ask a fake language model answering this slowly",
    )
    args = parser.parse_args(argv)
    wd = workdir()
    fake = FakeSlackProcess(wd)
    results: dict[str, Any] = {"config": vars(args)}
    model = None
    args.model_env = None
    if args.llm is not None:
        model, args.model_env = start_fake_model(wd, args.llm)
    try:
        results["floor"] = measure_floor(fake, wd, args)
        for kind in args.databases.split(","):
            if kind == "postgres" and (why := postgres_unreachable()):
                print(f"PostgreSQL skipped: not reachable ({why})", flush=True)
                results[kind] = f"not reachable ({why})"
                continue
            print(f"measuring intake serve on {kind}…", flush=True)
            res = measure_intake(kind, fake, wd, args)
            res["verdicts"] = verdicts(res, results["floor"])
            results[kind] = res
    finally:
        fake.stop()
        if model is not None:
            model.stop()
    results["config"].pop("model_env", None)
    print_table(results)
    path = write_results("ack", results)
    print(f"\nresults: {path}")
    shutil.rmtree(wd, ignore_errors=True)


if __name__ == "__main__":
    main()
