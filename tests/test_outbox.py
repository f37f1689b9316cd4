"""The outbox dispatcher: delivery, retries with backoff, permanent failures, leases, and per-request order."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bot.domain import Notice, ScopeChange
from bot.errors import PermanentDeliveryError, TemporaryDeliveryError
from bot.outbox import Dispatcher, RetryPolicy
from bot.ports import Attempt, NoticeSink, Outbox
from bot.service import IntakeService
from store.models import OutboxEntry, table
from store.repo import SqlStore
from tests.conftest import MEMBER, PM


class RecordingSink(NoticeSink):
    """A sink that records what it delivered and fails on demand."""

    def __init__(self, platform: str = "console", *, takes: float = 0.0) -> None:
        self.platform = platform
        self.delivered: list[tuple[str, str | None]] = []
        self.fail_next: list[Exception] = []
        self.takes = takes  # seconds each delivery takes, as a call to a platform does

    async def deliver(self, notice: Notice, *, outbox: Outbox, attempt: Attempt | None = None) -> dict[str, Any] | None:
        if self.takes:
            await asyncio.sleep(self.takes)
        if self.fail_next:
            raise self.fail_next.pop(0)
        self.delivered.append((notice.kind, notice.ref))
        return {"message_id": f"m{len(self.delivered)}"}


async def rows(store: SqlStore) -> list[dict[str, Any]]:
    t = table(OutboxEntry)
    async with store.session() as s:
        res = await s.exec(
            sa.select(t.c.id, t.c.kind, t.c.status, t.c.attempts, t.c.last_error, t.c.available_at).order_by(t.c.id)
        )  # type: ignore[call-overload]
        return [dict(r._mapping) for r in res.all()]


async def make_due(store: SqlStore) -> None:
    async with store.session() as s:
        await s.exec(sa.text("UPDATE outbox SET available_at = :t"), params={"t": datetime(2000, 1, 1, tzinfo=UTC)})  # type: ignore[call-overload]


async def test_delivers_each_notice_once_and_records_the_result(service: IntakeService, store: SqlStore) -> None:
    rec = await service.submit_request(project="acme-portal", actor=MEMBER, text="Customers get locked out")
    await service.approve(rec.ref, actor=PM, change=ScopeChange("1 day", "none"))
    sink = RecordingSink()
    d = Dispatcher(store, [sink])
    assert await d.drain() == 3
    assert sink.delivered == [("review_card", rec.ref), ("card_update", rec.ref), ("requester_notice", rec.ref)]
    assert await d.drain() == 0
    assert await store.outbox.delivery_result(rec.ref, "review_card", "console") == {"message_id": "m1"}
    assert [r["status"] for r in await rows(store)] == ["sent"] * 3


async def test_temporary_failures_are_retried_with_backoff_and_retry_after(
    service: IntakeService, store: SqlStore
) -> None:
    rec = await service.submit_request(project="acme-portal", actor=MEMBER, text="Customers get locked out")
    sink = RecordingSink()
    sink.fail_next = [TemporaryDeliveryError("HTTP 503"), TemporaryDeliveryError("rate limited", retry_after=30)]
    d = Dispatcher(store, [sink], policy=RetryPolicy(base=10))
    before = datetime.now(UTC)
    await d.run_once()
    [row] = await rows(store)
    assert row["status"] == "pending" and row["last_error"] == "HTTP 503" and row["attempts"] == 1
    assert _aware(row["available_at"]) >= before + timedelta(seconds=7)  # 10 s ± 20 % jitter
    assert await d.run_once() == 0  # not due yet
    await make_due(store)
    await d.run_once()
    [row] = await rows(store)
    assert row["last_error"] == "rate limited" and _aware(row["available_at"]) >= before + timedelta(seconds=29)
    await make_due(store)
    await d.run_once()
    assert sink.delivered == [("review_card", rec.ref)] and (await rows(store))[0]["status"] == "sent"
    assert d.stats.retried == 2 and d.stats.delivered == 1


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


async def test_permanent_failures_stop_with_the_reason(service: IntakeService, store: SqlStore) -> None:
    await service.submit_request(project="acme-portal", actor=MEMBER, text="Customers get locked out")
    sink = RecordingSink()
    sink.fail_next = [PermanentDeliveryError("channel_not_found")]
    d = Dispatcher(store, [sink])
    await d.drain()
    [row] = await rows(store)
    assert (row["status"], row["last_error"]) == ("failed", "channel_not_found")
    stats = await store.outbox.stats(datetime.now(UTC))
    assert (stats.pending, stats.failed) == (0, 1)


async def test_a_row_leased_by_a_dead_worker_is_delivered_after_its_lease(
    service: IntakeService, store: SqlStore
) -> None:
    rec = await service.submit_request(project="acme-portal", actor=MEMBER, text="Customers get locked out")
    dead = await store.outbox.claim(["console"], worker="dead-worker", limit=10, lease_seconds=0.5)
    assert len(dead) == 1
    sink = RecordingSink()
    alive = Dispatcher(store, [sink], worker="alive")
    assert await alive.run_once() == 0  # still leased
    import asyncio

    await asyncio.sleep(0.6)
    assert await alive.run_once() == 1
    assert sink.delivered == [("review_card", rec.ref)]
    # The dead worker coming back cannot mark it sent a second time.
    assert await store.outbox.mark_sent(dead[0].id, worker="dead-worker", result=None) is False


async def test_notices_about_one_request_wait_for_the_older_one(service: IntakeService, store: SqlStore) -> None:
    first = await service.submit_request(project="acme-portal", actor=MEMBER, text="Customers get locked out")
    await service.approve(first.ref, actor=PM, change=ScopeChange("1 day", "none"))
    other = await service.submit_request(project="acme-portal", actor=MEMBER, text="Order status is wrong")
    sink = RecordingSink()
    sink.fail_next = [TemporaryDeliveryError("HTTP 500")]  # the first review card fails once
    d = Dispatcher(store, [sink])
    await d.drain()
    # The card update and notice of the first request wait behind its failed card; the other request goes on.
    assert sink.delivered == [("review_card", other.ref)]
    await make_due(store)
    await d.drain()
    assert sink.delivered[1:] == [
        ("review_card", first.ref),
        ("card_update", first.ref),
        ("requester_notice", first.ref),
    ]


async def test_only_platforms_with_a_sink_are_claimed(service: IntakeService, store: SqlStore) -> None:
    await service.submit_request(project="acme-portal", actor=MEMBER, text="Customers get locked out")
    d = Dispatcher(store, [RecordingSink("slack")])
    assert await d.drain() == 0
    assert (await rows(store))[0]["status"] == "pending"
    stats = await store.outbox.stats(datetime.now(UTC) + timedelta(seconds=60))
    assert stats.pending == 1 and stats.oldest_pending_age >= 59


async def test_two_dispatchers_on_one_database_deliver_each_notice_once(service: IntakeService, db_url: str) -> None:
    import asyncio

    for i in range(40):
        await service.submit_request(project="acme-portal", actor=MEMBER, text=f"request number {i}")
    # Two separate stores (two connection pools), as two server processes would have.
    stores = [SqlStore.from_url(db_url), SqlStore.from_url(db_url)]
    # Deliveries that take a moment, as real ones do: otherwise the first dispatcher can empty the
    # outbox before the second has opened its first transaction, and nothing is shared at all.
    sinks = [RecordingSink(takes=0.005), RecordingSink(takes=0.005)]
    try:
        dispatchers = [
            Dispatcher(s, [k], batch=3, worker=f"w{i}") for i, (s, k) in enumerate(zip(stores, sinks, strict=True))
        ]
        await asyncio.gather(*(d.drain(max_rounds=100) for d in dispatchers))
    finally:
        for s in stores:
            await s.close()
    delivered = sinks[0].delivered + sinks[1].delivered
    assert len(delivered) == 40 and len(set(delivered)) == 40
    assert sinks[0].delivered and sinks[1].delivered  # both took a share
