"""A burst of requests is recorded in batches: one transaction and a handful of statements for the whole
batch, the scope checks done before it, and the record exactly what recording them one by one writes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bot.domain import Actor, Source
from bot.errors import Duplicate, InvalidInput, ProjectNotFound
from bot.ports import Transaction
from bot.projectfile import load_project_text
from bot.service import IntakeService, Submission
from store.repo import SqlStore, SqlTransaction
from tests.conftest import MEMBER, PM, PROJECT_YAML, TABLES
from tests.support.clock import FakeClock
from tests.support.databases import copy_sqlite

DARK_MODE = "Add a dark mode to the customer portal"
# The same project with dark mode in its scope: a new version of its file.
WITH_DARK_MODE = PROJECT_YAML.replace(
    "in_scope:\n", 'in_scope:\n  - {id: dark, title: "A dark mode for the customer portal"}\n'
)


class OneByOneTransaction(SqlTransaction):
    """Writes a batch as the port's defaults do: one request, event, notice, claim and step at a time."""

    next_request_numbers = Transaction.next_request_numbers
    add_requests = Transaction.add_requests
    add_events = Transaction.add_events
    add_notices = Transaction.add_notices
    drop_pending_notices = Transaction.drop_pending_notices
    claim_keys = Transaction.claim_keys
    add_steps = Transaction.add_steps


class OneByOneStore(SqlStore):
    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with self.session() as session:
            tx = OneByOneTransaction(session, self.dialect)
            yield tx
            await tx.write_counts()


def burst(n: int, *, keys: str = "k") -> list[Submission]:
    texts = [DARK_MODE, "Please build native iOS and Android apps", "Could the order history export to Excel"]
    return [
        Submission(
            "acme-portal",
            Actor("slack", f"U{i % 4}", email=f"user{i % 4}@acme-team.example", name=f"User {i % 4}"),
            f"{texts[i % 3]} ({i})",
            Source("slack", channel="C0INTAKE", message_id=f"17000.{i}") if i % 2 else None,
            client_words="we need it soon" if i % 3 == 0 else "",
            urgency=" high " if i % 4 == 0 else "",
            requested_date=date(2027, 1, 10) if i % 5 == 0 else None,
            idempotency_key=f"{keys}{i}" if i % 7 else None,
        )
        for i in range(n)
    ]


# Columns set from the wall clock (the outbox runs on it), not from the service's clock.
WALL_CLOCK = {"outbox": ("created_at", "available_at"), "schedule": ("created_at",)}


async def dump(store: SqlStore) -> dict[str, list[tuple[Any, ...]]]:
    """Every row written, and the record's events as they read back. (A batch stores each new request's
    `submitted` and `scope_checked` in one row, where one event at a time writes two: the same events.)"""
    out: dict[str, list[tuple[Any, ...]]] = {}
    async with store.session() as s:
        for name in ("requests", "outbox", "schedule", "counts", "processed_keys", "projects"):
            res = await s.exec(sa.text(f"SELECT * FROM {name} ORDER BY 1, 2"))  # type: ignore[call-overload]
            rows = res.mappings().all()
            out[name] = [tuple(v for k, v in r.items() if k not in WALL_CLOCK.get(name, ())) for r in rows]
    async with store.reading() as tx:
        out["events"] = [
            (rec.ref, json.dumps(rec.to_dict()["events"])) for rec in await tx.list_requests(with_events=True)
        ]
        out["project_events"] = [(e.kind, e.at, e.text) for e in await tx.project_events("acme-portal")]
    return out


async def event_rows(store: SqlStore) -> int:
    async with store.session() as s:
        return int((await s.exec(sa.text("SELECT count(*) FROM events WHERE request_id IS NOT NULL"))).scalar_one())  # type: ignore[call-overload]


async def record(store: SqlStore, batches: list[list[Submission]]) -> list[list[Any]]:
    service = IntakeService(store, clock=FakeClock())
    await service.load_project(load_project_text(PROJECT_YAML, "acme.yaml"))
    return [await service.submit_requests(batch) for batch in batches]


async def _empty_postgres(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")
    finally:
        await conn.close()


async def test_a_batch_writes_exactly_what_recording_one_by_one_writes(
    db_url: str, tmp_path: Path, sqlite_template: Path
) -> None:
    batches = [burst(9), [*burst(4, keys="k"), *burst(3, keys="other")]]  # the second repeats four keys
    batches[1].append(Submission("acme-portal", MEMBER, "   "))  # nothing to record: refused
    batches[1].append(Submission("nope", MEMBER, "For a project that does not exist"))
    together = SqlStore.from_url(db_url)
    try:
        outcomes = await record(together, batches)
        expected = await dump(together)
        rows_together = await event_rows(together)
    finally:
        await together.close()
    assert [type(o).__name__ for o in outcomes[1]] == [
        *["Duplicate" if i % 7 else "RequestRecord" for i in range(4)],
        *["RequestRecord"] * 3,
        "InvalidInput",
        "ProjectNotFound",
    ]
    if db_url.startswith("sqlite"):
        url = copy_sqlite(sqlite_template, tmp_path / "one-by-one.db")
    else:
        await _empty_postgres(db_url)
        url = db_url
    one_by_one = OneByOneStore.from_url(url)
    try:
        again = await record(one_by_one, batches)
        assert await dump(one_by_one) == expected
        recorded = len(expected["requests"])
        assert recorded == 13 and await event_rows(one_by_one) == 2 * recorded == 2 * rows_together
    finally:
        await one_by_one.close()
    assert [[type(o) for o in b] for b in again] == [[type(o) for o in b] for b in outcomes]


class Statements:
    """Counts the statements a store sends to its database."""

    def __init__(self, store: SqlStore) -> None:
        self.n = 0
        sa.event.listen(store.engine.sync_engine, "before_cursor_execute", self._count)

    def _count(self, *args: Any) -> None:
        self.n += 1

    @contextmanager
    def counting(self) -> Iterator[list[int]]:
        start, out = self.n, list[int]()
        yield out
        out.append(self.n - start)


async def test_a_batch_costs_the_same_statements_whatever_its_size(service: IntakeService, store: SqlStore) -> None:
    statements = Statements(store)
    await service.submit_requests(burst(2, keys="warm"))  # the project's scope is parsed once per process
    with statements.counting() as few:
        await service.submit_requests(burst(3, keys="few"))
    with statements.counting() as many:
        await service.submit_requests(burst(40, keys="many"))
    assert few == many
    asks = [(MEMBER, None, "C0INTAKE")]
    with statements.counting() as one:
        await service.resolve_projects(asks)
    with statements.counting() as forty:
        found = await service.resolve_projects(asks * 40)
    assert one == forty and all(p.slug == "acme-portal" for p in found)  # type: ignore[union-attr]


async def test_a_scope_loaded_while_a_batch_is_judged_is_the_one_its_requests_are_recorded_under(
    service: IntakeService,
) -> None:
    loaded: list[Any] = []

    async def load_new_scope() -> None:
        if not loaded:
            loaded.append(await service.load_project(load_project_text(WITH_DARK_MODE, "acme.yaml")))

    recs = await service.submit_requests(burst(3), between=load_new_scope)
    assert loaded[0].version == 2
    for rec in recs:
        assert not isinstance(rec, BaseException)
        stored = await service.get_request(rec.ref)
        assert stored.scope_version == rec.scope_version == 2
        assert stored.verdict == rec.verdict
    judged = recs[0].verdict  # type: ignore[union-attr]
    assert judged.to_dict() == (await service.check_scope("acme-portal", recs[0].text)).to_dict()  # type: ignore[union-attr]
    assert "dark" in (judged.item_id, *judged.candidates)  # the item only the new scope has


async def test_a_number_taken_while_a_batch_is_judged_goes_once_and_each_card_names_its_own_request(
    service: IntakeService, store: SqlStore
) -> None:
    first: list[str] = []

    async def someone_else_records() -> None:
        if not first:
            rec = await service.submit_request(project="acme-portal", actor=PM, text="Show the order status live")
            first.append(rec.ref)

    recs = await service.submit_requests(burst(4), between=someone_else_records)
    assert first == ["ACME-1"]
    assert [r.ref for r in recs] == ["ACME-2", "ACME-3", "ACME-4", "ACME-5"]  # type: ignore[union-attr]
    async with store.session() as s:
        res = await s.exec(  # type: ignore[call-overload]
            sa.text("SELECT ref, dedupe_key, text, data FROM outbox WHERE kind = 'review_card' ORDER BY id")
        )
        cards = res.mappings().all()
    assert [c["ref"] for c in cards] == [f"ACME-{i}" for i in range(1, 6)]
    for card in cards:
        data = card["data"] if isinstance(card["data"], dict) else json.loads(card["data"])
        assert card["dedupe_key"] == f"{card['ref']}:review_card"
        assert data["request"]["ref"] == card["ref"] and data["request"]["number"] == int(card["ref"][5:])
        assert f"Client request {card['ref']}\n" in card["text"]


async def test_a_key_seen_before_or_twice_in_one_batch_records_its_request_once(service: IntakeService) -> None:
    once = Submission("acme-portal", MEMBER, DARK_MODE, idempotency_key="key-1")
    await service.submit_requests([once])
    twice = Submission("acme-portal", MEMBER, "Could the order history export to Excel", idempotency_key="key-2")
    out = await service.submit_requests([once, twice, twice, burst(1)[0]])
    assert isinstance(out[0], Duplicate) and isinstance(out[2], Duplicate)
    assert [o.ref for o in out if not isinstance(o, BaseException)] == ["ACME-2", "ACME-3"]  # type: ignore[union-attr]
    assert [r.ref for r in await service.list_requests()] == ["ACME-1", "ACME-2", "ACME-3"]


async def test_refusals_in_a_batch_write_nothing_of_themselves(service: IntakeService) -> None:
    out = await service.submit_requests(
        [Submission("nope", MEMBER, DARK_MODE), Submission("acme-portal", MEMBER, " "), burst(1)[0]]
    )
    assert isinstance(out[0], ProjectNotFound) and isinstance(out[1], InvalidInput)
    assert [r.ref for r in await service.list_requests()] == ["ACME-1"]
