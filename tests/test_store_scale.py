"""Correctness at size: lists, exports and digests of more requests than a driver takes parameters, and
acknowledgements written while a long read is under way.

The big project is written straight into the database (COPY), as copies of rows the service itself
wrote for two requests; the service then reads them back through its ordinary paths.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from bot.domain import Actor, Notice, RequestStatus, ScopeChange
from bot.errors import StorageUnavailable
from bot.projectfile import load_project_text
from bot.service import IntakeService
from store.migrate import upgrade
from store.repo import SqlStore
from tests.conftest import PM, PROJECT_YAML
from tests.support.clock import FakeClock
from tests.support.databases import PostgresDatabases, postgres_available, skip_or_fail

ROOT = Path(__file__).resolve().parent.parent
COPIES = 33_000  # more than the 32,767 parameters PostgreSQL's driver takes in one statement
CLIENT = Actor("console", "client@acme.example", email="client@acme.example", name="Cleo Client")


@pytest.fixture
def own_postgres(postgres_dbs: PostgresDatabases) -> str:
    """A database of this test's own, migrated (the copies would slow every later test's TRUNCATE)."""
    reason = postgres_available()
    if reason:
        skip_or_fail(reason)
    url = postgres_dbs.create()
    asyncio.run(upgrade(url))
    return url


def intake(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "adapters.cli", *args], capture_output=True, text=True, env=env, timeout=300, cwd=ROOT
    )


async def copy_requests(url: str, refs: list[str], copies: int) -> None:
    """Write `copies` copies of each of the requests `refs` (as the service wrote them: the request, its
    decisions and its events), numbered on after the project's last number."""
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        async with conn.transaction():
            templates = [await conn.fetchrow("SELECT * FROM requests WHERE ref = $1", ref) for ref in refs]
            project = templates[0]["project"]
            prefix = templates[0]["ref"].rsplit("-", 1)[0]
            number = await conn.fetchval("SELECT max(number) FROM requests WHERE project = $1", project)
            next_id = await conn.fetchval("SELECT max(id) FROM requests") + 1
            req_cols = list(templates[0].keys())
            dec_cols = [r["attname"] for r in await conn.fetch(_COLUMNS, "decisions")]
            ev_cols = [r["attname"] for r in await conn.fetch(_COLUMNS, "events")]
            decisions = {
                t["id"]: await conn.fetch("SELECT * FROM decisions WHERE request_id = $1", t["id"]) for t in templates
            }
            events = {
                t["id"]: await conn.fetch("SELECT * FROM events WHERE request_id = $1", t["id"]) for t in templates
            }
            reqs: list[tuple[Any, ...]] = []
            decs: list[tuple[Any, ...]] = []
            evs: list[tuple[Any, ...]] = []
            for i in range(copies):
                t = templates[i % len(templates)]
                number += 1
                new = dict(t) | {"id": next_id, "ref": f"{prefix}-{number}", "number": number}
                reqs.append(tuple(new[c] for c in req_cols))
                for d in decisions[t["id"]]:
                    decs.append(tuple((next_id if c == "request_id" else d[c]) for c in dec_cols if c != "id"))
                for e in events[t["id"]]:
                    evs.append(tuple((next_id if c == "request_id" else e[c]) for c in ev_cols if c != "id"))
                next_id += 1
            await conn.copy_records_to_table("requests", records=reqs, columns=req_cols)
            await conn.copy_records_to_table("decisions", records=decs, columns=[c for c in dec_cols if c != "id"])
            await conn.copy_records_to_table("events", records=evs, columns=[c for c in ev_cols if c != "id"])
            await conn.execute("SELECT setval(pg_get_serial_sequence('requests', 'id'), $1)", next_id)
            await conn.execute("UPDATE projects SET next_number = $1 WHERE slug = $2", number, project)
    finally:
        await conn.close()


_COLUMNS = (
    "SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
)


@pytest.mark.postgres
async def test_more_requests_than_a_statement_takes_parameters_list_export_and_digest(own_postgres: str) -> None:
    store = SqlStore.from_url(own_postgres)
    clock = FakeClock()
    svc = IntakeService(store, clock=clock)
    try:
        await svc.load_project(load_project_text(PROJECT_YAML, "acme.yaml"))
        decided = await svc.submit_request(project="acme-portal", actor=CLIENT, text="A native iOS app, please")
        decided = await svc.approve(decided.ref, actor=PM, change=ScopeChange("5 person-days", "two weeks later"))
        waiting = await svc.submit_request(project="acme-portal", actor=CLIENT, text="Can login lock after 3 tries?")
        await copy_requests(own_postgres, [decided.ref, waiting.ref], COPIES)
        total = COPIES + 2

        everything = await svc.list_requests(project="acme-portal")
        assert len(everything) == total
        assert len({r.ref for r in everything}) == total
        copy_of_decided = everything[2]
        assert copy_of_decided.status is RequestStatus.APPROVED
        assert [d.kind for d in copy_of_decided.decisions] == [d.kind for d in decided.decisions]
        assert await svc.count_requests(project="acme-portal", open_only=True) == total // 2

        exported = [r async for page in svc.export_pages("acme-portal") for r in page]
        assert [r.ref for r in exported] == [r.ref for r in everything]
        originals = [await svc.get_request(decided.ref), await svc.get_request(waiting.ref)]
        for i in (2, 3, total - 2, total - 1):  # copies carry their original's decisions and record
            original = originals[i % 2]
            assert [e.kind for e in exported[i].events] == [e.kind for e in original.events]
            assert exported[i].decisions == original.decisions

        digest = await svc.build_digest("acme-portal", since=clock.now() - timedelta(days=1))
        assert len(digest.open) == total // 2
        assert len(digest.decided) == total // 2
    finally:
        await store.close()

    # The command line, a process of its own, lists and exports them all.
    listed = intake("request", "list", "--project", "acme-portal", "--all", url=own_postgres)
    assert listed.returncode == 0, listed.stderr
    assert len(listed.stdout.splitlines()) == total
    out = intake("export", "--project", "acme-portal", "--format", "jsonl", url=own_postgres)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(rows) == total and rows[-1]["ref"] == everything[-1].ref


@pytest.mark.postgres
async def test_a_query_the_driver_refuses_is_not_reported_as_the_database_being_down(own_postgres: str) -> None:
    store = SqlStore.from_url(own_postgres)
    try:
        too_many = sa.select(sa.literal(1)).where(sa.literal(0).in_(list(range(40_000))))
        with pytest.raises(sa_exc.DBAPIError) as caught:
            async with store.session() as s:
                await s.exec(too_many)  # type: ignore[call-overload]
        assert not isinstance(caught.value, StorageUnavailable)
        assert "32767" in str(caught.value)
        await store.ping()  # the database is fine
    finally:
        await store.close()


async def test_an_acknowledgement_is_written_while_a_long_export_reads(sqlite_url: str) -> None:
    """SQLite: an export reads in a transaction of its own that takes no write lock, so the
    acknowledgement path and a new request are written while it is still open."""
    store = SqlStore.from_url(sqlite_url)
    svc = IntakeService(store, clock=FakeClock())
    try:
        await svc.load_project(load_project_text(PROJECT_YAML, "acme.yaml"))
        for i in range(60):
            await svc.submit_request(project="acme-portal", actor=CLIENT, text=f"Change number {i} to the portal")
        pages = 0
        async for page in svc.export_pages("acme-portal", page_size=20):
            pages += 1
            if pages == 1:
                # The export's read transaction is open: an acknowledgement and the request it accepts.
                notice = Notice(kind="slack_command", platform="slack", audience="team", text="x", dedupe_key="ack-1")
                accepted = store.accept_work(notice, grace=timedelta(seconds=30), claim="sig:ack-1")
                assert await asyncio.wait_for(accepted, timeout=20) is True
                rec = await asyncio.wait_for(
                    svc.submit_request(project="acme-portal", actor=CLIENT, text="Written during the export"),
                    timeout=20,
                )
            assert all(r.ref != rec.ref for r in page)  # the export reads the snapshot it started with
        assert pages == 3
        assert (await svc.get_request(rec.ref)).text == "Written during the export"
        assert await svc.count_requests(project="acme-portal") == 61
    finally:
        await store.close()


async def test_the_counts_metrics_reads_follow_every_change(service: IntakeService, store: SqlStore) -> None:
    """/metrics reads counts the store keeps up to date; after submissions, decisions, a letter and a
    corrected verdict they are what counting the tables gives."""
    from bot.domain import VerdictKind
    from tests.test_lifecycle import FORM

    refs = [
        (await service.submit_request(project="acme-portal", actor=CLIENT, text=text)).ref
        for text in (
            "A native iOS app, please",
            "Filter the order history by date",
            "Pay by credit card in the portal",
            "Can login lock after 3 tries?",
        )
    ]
    await service.approve(refs[1], actor=PM)
    await service.decline(refs[0], actor=PM, form=FORM)  # drafts the letter
    await service.mark_letter_sent(refs[0], actor=PM)
    await service.correct_verdict(refs[2], actor=PM, verdict=VerdictKind.IN_SCOPE, item_id="orders")
    await service.ask_details(refs[3], actor=PM, question="Which customers asked for this?")

    snap = await store.metrics_snapshot()
    async with store.session() as s:

        async def grouped(sql: str) -> dict[Any, int]:
            rows = (await s.exec(sa.text(sql))).all()  # type: ignore[call-overload]
            return {(tuple(r[:-1]) if len(r) > 2 else r[0]): int(r[-1]) for r in rows}

        by_kind = await grouped("SELECT requester_platform, verdict_kind, count(*) FROM requests GROUP BY 1, 2")
        statuses = await grouped("SELECT status, count(*) FROM requests GROUP BY 1")
        decisions = await grouped("SELECT kind, count(*) FROM decisions GROUP BY 1")
        letters = await grouped("SELECT status, count(*) FROM letters GROUP BY 1")
    assert snap["requests"] == by_kind and sum(by_kind.values()) == 4
    assert snap["statuses"] == statuses and len(statuses) == 4
    assert snap["decisions"] == decisions and sum(decisions.values()) == 3
    assert snap["letters"] == letters == {"sent": 1}


async def test_overdue_in_metrics_is_the_waiting_requests_past_their_due_date(
    service: IntakeService, store: SqlStore, clock: FakeClock
) -> None:
    """/metrics counts the overdue requests as those waiting for a decision (the kept counts) less those
    not due yet or without a due date: the same number as counting the late ones, found by reading only
    the recent ones."""
    from store.repo import metrics_snapshot

    texts = ("A native iOS app, please", "Filter the order history by date", "Pay by credit card in the portal")
    late = [(await service.submit_request(project="acme-portal", actor=CLIENT, text=t)).ref for t in texts]
    await service.approve(late[1], actor=PM)  # decided: no longer waits
    await service.ask_details(late[2], actor=PM, question="Which customers asked for this?")  # waits for them
    undated = (
        await service.submit_request(project="acme-portal", actor=CLIENT, text="Can login lock after 3 tries?")
    ).ref
    clock.advance(days=30)
    fresh = (await service.submit_request(project="acme-portal", actor=CLIENT, text="Export the orders as CSV")).ref
    async with store.session() as s:
        await s.exec(sa.text("UPDATE requests SET due_at = NULL WHERE ref = :ref").bindparams(ref=undated))  # type: ignore[call-overload]

    snap = await metrics_snapshot(store, clock.now())
    async with store.session() as s:
        counted = (
            await s.exec(  # type: ignore[call-overload]
                sa.text(
                    "SELECT count(*) FROM requests WHERE status IN ('submitted', 'in_review') AND due_at <= :now"
                ).bindparams(now=clock.now())
            )
        ).scalar_one()
    assert snap["overdue"] == counted == 1  # late[0]: not the approved, the one asked about, the undated, the fresh
    assert (await service.get_request(fresh)).status in (RequestStatus.SUBMITTED, RequestStatus.IN_REVIEW)


async def test_the_outbox_is_never_read_whole_when_nearly_every_row_is_delivered(sqlite_url: str) -> None:
    """SQLite with statistics (ANALYZE) that say nearly every outbox row is delivered, as they do once it
    has run a while: the dispatcher's claim (in a write transaction, every poll) and /metrics find the
    undelivered rows through an index, never by reading the table."""
    import sqlite3

    from store.repo import metrics_snapshot

    path = sqlite_url.split("///", 1)[1]
    with sqlite3.connect(path) as db:
        db.executemany(
            "INSERT INTO outbox (created_at, platform, kind, audience, ref, text, status, attempts, available_at,"
            " sent_at) VALUES ('2026-11-01 09:00:00.000000', 'slack', 'review_card', 'team', ?, 'x', ?, 1,"
            " '2026-11-01 09:00:00.000000', '2026-11-01 09:00:01.000000')",
            [(f"ACME-{i}", "sent" if i else "pending") for i in range(400)],
        )
        db.execute("ANALYZE")
    store = SqlStore.from_url(sqlite_url)
    statements: list[tuple[str, Any]] = []

    def seen(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if "outbox" in statement and not statement.lstrip().upper().startswith(("BEGIN", "COMMIT")):
            statements.append((statement, parameters))

    sa.event.listen(store.engine.sync_engine, "before_cursor_execute", seen)
    try:
        claimed = await store.outbox.claim(["slack"], worker="w", limit=10, lease_seconds=60)
        snap = await metrics_snapshot(store)
    finally:
        await store.close()
    assert [r.notice.ref for r in claimed] == ["ACME-0"] and snap["outbox_pending"] == 1
    assert len(statements) == 2  # the claim, and /metrics reading every figure in one statement
    with sqlite3.connect(path) as db:
        for statement, parameters in statements:
            plan = [row[3] for row in db.execute("EXPLAIN QUERY PLAN " + statement, parameters)]
            scans = [st for st in plan if st.startswith("SCAN") and "INDEX" not in st and st != "SCAN CONSTANT ROW"]
            assert not scans, (statement, plan)


async def test_open_requests_of_every_project_are_counted_from_the_kept_counts(
    service: IntakeService, store: SqlStore
) -> None:
    """The open requests of every project (`/requests` with no project) are counted from the counts the
    store keeps by status, with a transaction's own changes: the same number as counting the rows."""
    texts = ("A native iOS app, please", "Filter the order history by date", "Pay by credit card in the portal")
    refs = [(await service.submit_request(project="acme-portal", actor=CLIENT, text=t)).ref for t in texts]
    await service.approve(refs[1], actor=PM)
    await service.ask_details(refs[2], actor=PM, question="Which customers asked for this?")
    open_statuses = [st for st in RequestStatus if st.is_open]
    async with store.session() as s:
        counted = (
            await s.exec(  # type: ignore[call-overload]
                sa.text("SELECT count(*) FROM requests WHERE status IN ('submitted', 'in_review', 'needs_info')")
            )
        ).scalar_one()
    assert await service.count_requests(open_only=True) == counted == 2
    async with store.transaction() as tx:
        await tx.set_status(refs[0], RequestStatus.WITHDRAWN, at=service.clock.now())
        assert await tx.count_requests(statuses=open_statuses) == 1
        assert await tx.count_requests(project="acme-portal", statuses=open_statuses) == 1
    assert await service.count_requests(open_only=True) == 1
