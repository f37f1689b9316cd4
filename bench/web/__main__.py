"""The web app's pages: the server's time for each page with many requests in the database.

    python -m bench.web [--requests 10000] [--databases sqlite,postgres] [--repeat 20]

Each run makes a fresh database with the benchmark's project, records a few requests through the service
(one declined with its letter drafted, for the request page), then writes `--requests` more straight into
the tables in batches, as a deployment that has run for years would have them: the latest 2,000 open
(most of those overdue), the rest decided (one approval in twenty a scope change); varied verdicts,
requesters and words. The server runs in this process; a PM signs in with
a one-time link and every page is asked `--repeat` times (`bench.web.pages.time_pages`, reusable by other
benches). The target: every page within 100 ms of server time at 100,000 requests.

Results are printed and written to bench/results/web-*.json.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from aiohttp import web

from adapters.runtime import Runtime, open_runtime
from adapters.settings import Settings
from adapters.web.app import create_app
from bench.ack.load import new_database, postgres_unreachable, prepare, workdir, write_results
from bot.domain import Actor, RequestStatus
from store.models import DecisionRow, RequestRow, table
from store.repo import SqlStore
from tests.support.clock import FakeClock

from .pages import signed_in_session, standard_pages, time_pages

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
PM = "pm@acme.example"
PEOPLE = [
    ("U0SAM", "sam@acme-team.example", "Sam Reed"),
    ("U0LEE", "lee@acme-team.example", "Lee Chen"),
    ("U0KIM", "kim@acme-team.example", "Kim Ito"),
    ("U0ANA", "ana@acme-team.example", "Ana Ruiz"),
]
WORDS = [
    "order history",
    "invoice export",
    "push alerts",
    "iPhone app",
    "credit card",
    "password reset",
    "CSV download",
    "dark mode",
    "delivery tracking",
    "SAP sync",
    "warehouse stock",
    "PayPal",
]
OPEN = [RequestStatus.IN_REVIEW] * 3 + [RequestStatus.NEEDS_INFO]
DECIDED = [RequestStatus.APPROVED] * 3 + [RequestStatus.DECLINED, RequestStatus.LETTER_SENT, RequestStatus.WITHDRAWN]
RECENT = 2000  # how many of the latest requests are still open
VERDICTS = ["in_scope", "out_of_scope", "unlisted"]


async def seed(url: str, n: int, clock: FakeClock) -> tuple[str, str]:
    """Record a few requests through the service, then `n` more straight into the tables."""
    rt = await open_runtime(url, clock=clock)
    try:
        member = Actor("slack", "U0SAM", email="sam@acme-team.example", name="Sam Reed")
        pm = Actor("console", PM, email=PM, name="Pat Morgan")
        declined = await rt.service.submit_request(
            project="acme-portal", actor=member, text="Could the order history also be in an iPhone app?"
        )
        await rt.service.decline(declined.ref, actor=pm, form=await rt.service.decline_form_defaults(declined.ref))
        waiting = await rt.service.submit_request(
            project="acme-portal", actor=member, text="Can we pay by credit card?"
        )
        store = rt.store
        assert isinstance(store, SqlStore)
        rnd = random.Random(16)
        r, d = table(RequestRow), table(DecisionRow)
        batch = 5000
        for start in range(0, n, batch):
            rows = []
            for i in range(start, min(n, start + batch)):
                number = i + 1000
                # As in a deployment that has run for years: the latest requests are open (some overdue),
                # the older ones long decided.
                status = rnd.choice(OPEN if i >= n - RECENT else DECIDED)
                verdict = rnd.choice(VERDICTS)
                uid, email, name = rnd.choice(PEOPLE)
                created = START + timedelta(minutes=7 * i)
                due = (
                    created + timedelta(days=3)
                    if status in (RequestStatus.IN_REVIEW, RequestStatus.NEEDS_INFO)
                    else None
                )
                text = f"Request {number}: could we add {rnd.choice(WORDS)} for {rnd.choice(WORDS)} on the portal?"
                rows.append(
                    {
                        "ref": f"ACME-{number}",
                        "project": "acme-portal",
                        "number": number,
                        "text": text,
                        "client_words": "",
                        "urgency": "",
                        "requester_platform": "slack",
                        "requester_id": uid,
                        "requester_email": email,
                        "requester_name": name,
                        "status": status.value,
                        "verdict": {
                            "verdict": verdict,
                            "item_id": "mobile" if verdict == "out_of_scope" else None,
                            "score": 0.5,
                            "clause": "",
                        },
                        "verdict_kind": verdict,
                        "scope_version": 1,
                        "created_at": created,
                        "updated_at": created,
                        "due_at": due,
                    }
                )
            async with store.session() as s:
                await (await s.connection()).execute(sa.insert(r), rows)
                ids = (
                    await s.exec(
                        sa.select(r.c.id, r.c.status, r.c.created_at).where(
                            r.c.number >= start + 1000, r.c.number < start + 1000 + batch
                        )
                    )
                ).all()  # type: ignore[call-overload]
                approvals = [
                    {
                        "request_id": rid,
                        "kind": "approve",
                        "actor": {"platform": "console", "user_id": PM, "email": PM, "name": "Pat Morgan"},
                        "at": at + timedelta(days=1),
                        "note": "",
                        "form": {
                            "scope_change": True,
                            "estimate": f"{rid % 9 + 1} person-days",
                            "schedule_impact": "none",
                            "note": "",
                        },
                    }
                    for rid, st, at in ids
                    if st == "approved" and rid % 20 == 0
                ]
                if approvals:
                    await (await s.connection()).execute(sa.insert(d), approvals)
        async with store.session() as s:
            # PostgreSQL's autovacuum keeps the planner's statistics of a running database; rows bulk-written
            # a moment ago have none yet, and would be measured with plans no running deployment uses.
            await s.exec(sa.text("ANALYZE"))  # type: ignore[call-overload]
        clock.t = START + timedelta(minutes=7 * n) + timedelta(days=1)
        return declined.ref, waiting.ref
    finally:
        await rt.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def measure(url: str, n: int, repeat: int) -> list[dict[str, Any]]:
    clock = FakeClock(START)
    ref, open_ref = await seed(url, n, clock)
    rt = await open_runtime(url, clock=clock)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = create_app(
        Settings(DATABASE_URL=url, INTAKE_PUBLIC_URL=base), runtime=Runtime(rt.store, rt.service), dispatch=False
    )  # type: ignore[call-arg]
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        session = await signed_in_session(base, rt.store, PM, now=clock.now())
        async with session:
            pages = standard_pages(
                project="acme-portal",
                ref=ref,
                open_ref=open_ref,
                word="paypal",
                pages=(n + 2) // 50 + 1,
                today=clock.now().date(),
            )
            return [t.to_dict() for t in await time_pages(base, session, pages, repeat=repeat)]
    finally:
        await runner.cleanup()
        await rt.close()


def run(kind: str, n: int, repeat: int) -> dict[str, Any]:
    db = new_database(kind, workdir())
    try:
        prepare(db.url)
        return {"database": kind, "requests": n, "pages": asyncio.run(measure(db.url, n, repeat))}
    finally:
        db.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.web", description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)
    runs = []
    for kind in args.databases.split(","):
        if kind == "postgres" and (why := postgres_unreachable()):
            print(f"PostgreSQL skipped: not reachable ({why})")
            continue
        runs.append(run(kind, args.requests, args.repeat))
    for r in runs:
        print(f"{r['database']}, {r['requests']:,} requests: server time per page (median / p90 / max, ms)")
        for p in r["pages"]:
            flag = "" if p["server_timed"] else "  (client time: streamed)"
            print(f"  {p['name']:<32} {p['status']}  {p['median_ms']:>7} {p['p90_ms']:>7} {p['max_ms']:>7}{flag}")
    print(f"results: {write_results('web', {'config': vars(args), 'runs': runs})}")


if __name__ == "__main__":
    main()
