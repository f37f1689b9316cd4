"""Reports: how long `build_report` takes with many requests in the database (the target: 100 ms or less
with 100,000 requests).

    python -m bench.reports [--requests 100000] [--databases sqlite,postgres] [--rounds 20]
    python -m bench.reports --url DATABASE_URL [--project SLUG] --from 2026-01-01 --to 2026-12-31

Without `--url`, each database gets a fresh copy holding a few requests recorded through the service (so
the rows have the service's shapes) and `--requests` more written in bulk with the same shapes, over a
year and two projects: a verdict mix of 60 % in scope, 25 % out of scope and 15 % new work; most decided
within days (some asked for details first), declines with letters, most sent, some with the client's
outcome, a few verdicts corrected; about six events per request. Then it times, after one warm-up:

- one project over a quarter (what a PM looks at before a steering meeting);
- every project over the whole year (every request in the database: the worst case).

`bench.reports.timing.time_report(url, ...)` is the function to call from elsewhere (e.g. to time a page's report on a copy of
a real database). Results are printed and written to bench/results/reports-*.json.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bench.ack.load import new_database, postgres_unreachable, prepare, workdir, write_results
from bench.reports.timing import time_report
from bot.domain import Actor, DeclineForm, ReasonCategory, ScopeChange
from bot.projectfile import load_project_text
from bot.service import IntakeService
from store.models import DecisionRow, EventRow, ExampleRow, LetterRow, ProjectRow, RequestRow, table
from store.repo import SqlStore
from tests.support.clock import FakeClock
from tests.support.slack_harness import SLACK_PROJECT_YAML

YEAR_START = datetime(2025, 12, 1, 8, 0, tzinfo=UTC)  # a Monday
PM = Actor("slack", "U0PMSLACK", email="pm@acme.example", name="Pat Morgan")
SAM = Actor("slack", "U0SAM", email="sam@acme-team.example", name="Sam Reed")
PROJECTS = ("acme-portal", "globex")
TEXTS = {
    "in_scope": "Customers should be able to filter the order history by date",
    "out_of_scope": "Please build a native iOS app for our customers",
    "unlisted": "Please add a live chat with our service team",
}
CHUNK = 5000


async def seed(url: str, n: int, *, seed: int = 16) -> None:
    """A few requests through the service, then `n` in bulk with the same shapes."""
    store = SqlStore.from_url(url)
    clock = FakeClock(YEAR_START - timedelta(days=7))
    service = IntakeService(store, clock=clock)
    try:
        other = SLACK_PROJECT_YAML.replace("project: acme-portal", "project: globex").replace("Acme", "Globex")
        await service.load_project(load_project_text(other, "globex.yaml"))
        shapes: dict[str, dict[str, Any]] = {}
        for kind, text in TEXTS.items():
            rec = await service.submit_request(project="acme-portal", actor=SAM, text=text)
            shapes[kind] = rec.verdict.to_dict()
            clock.advance(hours=1)
            if kind == "in_scope":
                await service.approve(rec.ref, actor=PM)
            else:
                await service.decline(rec.ref, actor=PM, form=DeclineForm(ReasonCategory.TIMELINE, "Not now."))
                await service.mark_letter_sent(rec.ref, actor=PM)
        rec = await service.submit_request(project="globex", actor=SAM, text=TEXTS["unlisted"])
        await service.approve(rec.ref, actor=PM, change=ScopeChange(estimate="2 days", schedule_impact="none"))
        await bulk(store, n, shapes, random.Random(seed))
    finally:
        await store.close()


async def bulk(store: SqlStore, n: int, shapes: dict[str, dict[str, Any]], rng: random.Random) -> None:
    r_t, d_t, l_t, e_t, x_t, p_t = (
        table(RequestRow),
        table(DecisionRow),
        table(LetterRow),
        table(EventRow),
        table(ExampleRow),
        table(ProjectRow),
    )
    pm, sam = PM.to_dict(), SAM.to_dict()
    async with store.engine.begin() as conn:
        first_id = int((await conn.execute(sa.select(sa.func.coalesce(sa.func.max(r_t.c.id), 0)))).scalar_one()) + 1
        numbers = {p: 1000 for p in PROJECTS}
        reqs: list[dict[str, Any]] = []
        decs: list[dict[str, Any]] = []
        lets: list[dict[str, Any]] = []
        evs: list[dict[str, Any]] = []
        exs: list[dict[str, Any]] = []

        async def flush(final: bool = False) -> None:
            if len(reqs) >= CHUNK or final:
                for t, rows in ((r_t, reqs), (d_t, decs), (l_t, lets), (e_t, evs), (x_t, exs)):
                    if rows:
                        await conn.execute(sa.insert(t), rows)
                        rows.clear()

        span = 364 * 24 * 3600
        for i in range(n):
            rid = first_id + i
            project = PROJECTS[0] if rng.random() < 0.7 else PROJECTS[1]
            numbers[project] += 1
            ref = f"{'ACME' if project == 'acme-portal' else 'GLOBEX'}-{numbers[project]}"
            created = YEAR_START + timedelta(seconds=rng.randrange(span))
            kind = rng.choices(("in_scope", "out_of_scope", "unlisted"), (60, 25, 15))[0]
            verdict = shapes[kind]
            if rng.random() < 0.03:  # a PM corrected the verdict
                to = "unlisted" if kind != "unlisted" else "out_of_scope"
                at = created + timedelta(minutes=20)
                evs.append(_event(project, rid, "verdict_corrected", at, pm, "", {"from": verdict, "to": shapes[to]}))
                exs.append(
                    {
                        "project": project,
                        "text": TEXTS[kind],
                        "verdict": to,
                        "item_id": None,
                        "ref": ref,
                        "created_at": at,
                    }
                )
                kind, verdict = to, shapes[to]
            fate = rng.random()
            status, due = "in_review", created + timedelta(days=2)
            evs.append(_event(project, rid, "submitted", created, sam, TEXTS[kind]))
            evs.append(_event(project, rid, "judged", created, {"platform": "system", "user_id": "intake-bot"}, ""))
            t = created
            if fate < 0.88:
                if rng.random() < 0.1:  # asked for details first
                    t += timedelta(hours=rng.uniform(0.5, 30))
                    decs.append(
                        _decision(
                            rid, "needs_info", t, pm, {"question": "Which customers?"}, project, kind, created, decs
                        )
                    )
                    evs.append(_event(project, rid, "asked", t, pm, "Which customers?"))
                    t += timedelta(hours=rng.uniform(1, 48))
                    evs.append(_event(project, rid, "answered", t, sam, "All of them."))
                t += timedelta(hours=rng.expovariate(1 / 20))
                approve = rng.random() < (0.85 if kind == "in_scope" else 0.3)
                if approve:
                    status, due = "approved", None
                    decs.append(
                        _decision(
                            rid, "approve", t, pm, {"scope_change": kind != "in_scope"}, project, kind, created, decs
                        )
                    )
                    evs.append(_event(project, rid, "approved", t, pm, "approved"))
                else:
                    status, due = "letter_drafted", None
                    decs.append(
                        _decision(rid, "decline", t, pm, {"reason_category": "timeline"}, project, kind, created, decs)
                    )
                    evs.append(_event(project, rid, "declined", t, pm, "Not now."))
                    evs.append(_event(project, rid, "letter_drafted", t, pm, "Dear Jane, …"))
                    sent = rng.random() < 0.7
                    if sent:
                        status = "letter_sent"
                        evs.append(_event(project, rid, "letter_sent", t + timedelta(hours=3), pm, ""))
                        if rng.random() < 0.5:
                            evs.append(_event(project, rid, "outcome_recorded", t + timedelta(days=4), pm, "Agreed."))
                    lets.append(_letter(rid, t, sent))
            elif fate < 0.93:
                status, due = "withdrawn", None
                evs.append(_event(project, rid, "withdrawn", t + timedelta(hours=5), sam, ""))
            reqs.append(
                {
                    "id": rid, "ref": ref, "project": project, "number": numbers[project], "text": TEXTS[kind],
                    "client_words": "", "urgency": "", "requested_date": None, "requester_platform": "slack",
                    "requester_id": SAM.user_id, "requester_email": SAM.email, "requester_name": SAM.name,
                    "source": None, "status": status, "verdict": verdict, "verdict_kind": kind, "scope_version": 1,
                    "decline_form": None, "created_at": created, "updated_at": t, "due_at": due,
                }
            )  # fmt: skip
            await flush()
        await flush(final=True)
        for p, last in numbers.items():
            await conn.execute(sa.update(p_t).where(p_t.c.slug == p).values(next_number=last))
        if store.dialect == "postgresql":
            for name in ("requests", "decisions", "events", "scope_examples"):
                await conn.execute(
                    sa.text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))")
                )
    if store.dialect == "postgresql":  # as autovacuum leaves a table at rest: statistics and visibility map
        async with store.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(sa.text("VACUUM ANALYZE"))
    if store.dialect == "sqlite":
        async with store.engine.connect() as conn:
            await conn.execute(sa.text("ANALYZE"))


def _event(project: str, rid: int, kind: str, at: datetime, actor: dict[str, Any], text: str, data: Any = None) -> dict:
    return {"project": project, "request_id": rid, "kind": kind, "at": at, "actor": actor,
            "platform": actor["platform"], "text": text, "data": data or {}}  # fmt: skip


def _decision(
    rid: int,
    kind: str,
    at: datetime,
    actor: dict[str, Any],
    form: dict[str, Any],
    project: str,
    verdict: str,
    created: datetime,
    pending: list[dict[str, Any]],
) -> dict[str, Any]:
    """A decision row as the store writes it (the wait only on the request's first decision)."""
    first = not pending or pending[-1]["request_id"] != rid
    return {
        "request_id": rid, "kind": kind, "actor": actor, "at": at, "note": "", "form": form, "on_behalf_of": None,
        "project": project, "verdict_kind": verdict, "waited_seconds": (at - created).total_seconds() if first else None,
    }  # fmt: skip


def _letter(rid: int, at: datetime, sent: bool) -> dict[str, Any]:
    return {
        "request_id": rid, "subject": "Your request", "body_text": "Dear Jane, …", "body_html": "<p>Dear Jane, …</p>",
        "language": "en", "kind": "decline", "tone": [], "edited": False, "status": "sent" if sent else "draft",
        "sent_at": at + timedelta(hours=3) if sent else None, "sent_via": "manual" if sent else None,
        "message_id": None, "send_error": None, "talking_points": "", "updated_at": at,
    }  # fmt: skip


def run(kind: str, n: int, rounds: int) -> dict[str, Any]:
    db = new_database(kind, workdir())
    try:
        prepare(db.url)
        t0 = time.perf_counter()
        asyncio.run(seed(db.url, n))
        out: dict[str, Any] = {"database": kind, "requests": n, "seed_seconds": round(time.perf_counter() - t0, 1)}
        now = YEAR_START + timedelta(days=365)
        out["quarter_one_project"] = asyncio.run(
            time_report(db.url, projects=["acme-portal"], start=date(2026, 6, 1), end=date(2026, 8, 31),
                        rounds=rounds, now=now)
        )  # fmt: skip
        out["year_every_project"] = asyncio.run(
            time_report(db.url, projects=None, start=date(2025, 12, 1), end=date(2026, 11, 30), rounds=rounds, now=now)
        )
        return out
    finally:
        db.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.reports", description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--url", help="Time the report on this database instead of a generated one.")
    parser.add_argument("--project", action="append", help="A project to report on (again for more; default all).")
    parser.add_argument("--from", dest="start", type=date.fromisoformat, help="First day (with --url).")
    parser.add_argument("--to", dest="end", type=date.fromisoformat, help="Last day (with --url).")
    args = parser.parse_args(argv)
    if args.url:
        end = args.end or date.today()
        start = args.start or end - timedelta(days=90)
        result = asyncio.run(time_report(args.url, projects=args.project, start=start, end=end, rounds=args.rounds))
        print(result)
        return
    rows = []
    for kind in args.databases.split(","):
        if kind == "postgres" and (why := postgres_unreachable()):
            print(f"PostgreSQL skipped: not reachable ({why})")
            continue
        rows.append(run(kind, args.requests, args.rounds))
    print(f"{'database':<10} {'requests':>9} {'report':<28} {'counted':>8} {'median':>9} {'p90':>9} {'max':>9}")
    for r in rows:
        for name in ("quarter_one_project", "year_every_project"):
            x = r[name]
            print(
                f"{r['database']:<10} {r['requests']:>9} {name:<28} {x['requests_counted']:>8.0f} "
                f"{x['median_ms']:>6} ms {x['p90_ms']:>6} ms {x['max_ms']:>6} ms"
            )
    print(f"results: {write_results('reports', {'config': vars(args) | {'start': None, 'end': None}, 'runs': rows})}")


if __name__ == "__main__":
    main()
