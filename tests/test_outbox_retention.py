"""Delivered outbox rows are pruned after INTAKE_OUTBOX_KEEP_DAYS; where their messages were posted is
kept apart, so a card is still updated in place after its outbox row is gone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from bot.domain import Notice
from bot.outbox import prune_outbox
from store.db import make_engine
from store.migrate import alembic_config, upgrade
from store.repo import SqlStore
from tests.support.slack_harness import MEMBER_ID, PM_ID, SlackHarness
from tests.test_slack_decisions import IN_SCOPE, buttons


async def outbox_count(store: SqlStore, where: str = "true") -> int:
    async with store.session() as s:
        return int((await s.exec(sa.text(f"SELECT count(*) FROM outbox WHERE {where}"))).scalar_one())  # type: ignore[call-overload]


async def test_a_card_is_updated_in_place_after_its_outbox_row_was_pruned(slack: SlackHarness) -> None:
    await slack.command("/request", IN_SCOPE, user=MEMBER_ID)
    await slack.settle()
    ref = await slack.ref_of_last_request()
    assert len(slack.posted("C0REVIEW")) == 1
    assert await outbox_count(slack.store, "status = 'sent' AND kind = 'review_card'") == 1

    # A month and more later, everything delivered is pruned.
    later = datetime.now(UTC) + timedelta(days=31)
    assert await prune_outbox(slack.store, keep=timedelta(days=30), now=later, batch=2) >= 1
    assert await outbox_count(slack.store, "status = 'sent'") == 0

    await slack.click("approve_request", ref, user=PM_ID, message_ts=slack.fake.ts(1))
    await slack.settle()
    update = slack.fake.calls_to("chat.update")[-1]
    assert update["channel"] == "C0REVIEW" and update["ts"] == slack.fake.ts(1)
    assert buttons(update["blocks"]) == []
    assert len(slack.posted("C0REVIEW")) == 1  # updated, not posted again


async def sent(
    store: SqlStore, key: str, ref: str, result: dict[str, str] | None, *, kind: str = "review_card"
) -> None:
    """Queue a notice and deliver it, with `result` as what the platform answered."""
    notice = Notice(kind=kind, platform="slack", audience="team", text="x", ref=ref, dedupe_key=key)
    async with store.transaction() as tx:
        await tx.add_notice(notice)
    [row] = await store.outbox.claim(["slack"], worker="w", limit=1, lease_seconds=60)
    assert await store.outbox.mark_sent(row.id, worker="w", result=result)


async def test_pruning_keeps_recent_and_undelivered_rows_and_the_latest_location(db_url: str) -> None:
    store = SqlStore.from_url(db_url)
    try:
        await sent(store, "a1", "ACME-1", {"channel": "C1", "ts": "1.0"})
        await sent(store, "a2", "ACME-1", {"channel": "C1", "ts": "2.0"})  # posted again: the latest counts
        await sent(store, "b1", "ACME-2", None)  # nothing to update later
        async with store.transaction() as tx:
            await tx.add_notice(Notice(kind="dm", platform="slack", audience="x", text="y", dedupe_key="pending"))
        now = datetime.now(UTC)
        assert await prune_outbox(store, keep=timedelta(days=30), now=now) == 0  # all too recent
        assert await prune_outbox(store, keep=timedelta(days=30), now=now + timedelta(days=31), batch=2) == 3
        assert await outbox_count(store) == 1 and await outbox_count(store, "status = 'pending'") == 1
        assert await store.outbox.delivery_result("ACME-1", "review_card", "slack") == {"channel": "C1", "ts": "2.0"}
        assert await store.outbox.delivery_result("ACME-2", "review_card", "slack") is None
        assert await store.outbox.delivery_result("ACME-1", "letter_draft", "slack") is None
    finally:
        await store.close()


async def test_the_migration_keeps_where_delivered_messages_were_posted(fresh_url: str) -> None:
    await upgrade(fresh_url, "0008")
    engine = make_engine(fresh_url)
    rows = [
        # id, ref, kind, status, result
        (1, "ACME-1", "review_card", "sent", '{"channel": "C1", "ts": "1.0"}'),
        (2, "ACME-1", "review_card", "sent", '{"channel": "C1", "ts": "2.0"}'),
        (3, "ACME-1", "letter_draft", "sent", '{"channel": "C1", "ts": "3.0"}'),
        (4, "ACME-2", "review_card", "pending", None),
        (5, "ACME-3", "review_card", "sent", "null"),
    ]
    async with engine.begin() as conn:
        for id_, ref, kind, status, result in rows:
            await conn.execute(
                sa.text(
                    "INSERT INTO outbox (id, created_at, platform, kind, audience, ref, text, status, attempts,"
                    " available_at, sent_at, result, uncertain) VALUES (:id, :at, 'slack', :kind, 'team', :ref,"
                    " '', :status, 1, :at, :at, :result, false)"
                ),
                {"id": id_, "at": datetime.now(UTC), "kind": kind, "ref": ref, "status": status, "result": result},
            )
    await engine.dispose()
    await upgrade(fresh_url)
    store = SqlStore.from_url(fresh_url)
    try:
        assert await store.outbox.delivery_result("ACME-1", "review_card", "slack") == {"channel": "C1", "ts": "2.0"}
        assert await store.outbox.delivery_result("ACME-1", "letter_draft", "slack") == {"channel": "C1", "ts": "3.0"}
        assert await store.outbox.delivery_result("ACME-2", "review_card", "slack") is None
        assert await store.outbox.delivery_result("ACME-3", "review_card", "slack") is None
        async with store.session() as s:
            n = (await s.exec(sa.text("SELECT count(*) FROM posted_messages"))).scalar_one()  # type: ignore[call-overload]
        assert n == 2
    finally:
        await store.close()
    await downgrade_to(fresh_url, "0008")


async def downgrade_to(url: str, revision: str) -> None:
    """The migration can be undone: its table and indexes go, the outbox stays."""
    from alembic import command

    engine = make_engine(url)
    cfg = alembic_config()

    def run(conn: sa.Connection) -> None:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)

    async with engine.begin() as conn:
        await conn.run_sync(run)
        names = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
    await engine.dispose()
    assert "posted_messages" not in names and "outbox" in names


async def test_pruning_deletes_steps_finished_long_ago_but_not_failed_or_waiting_ones(db_url: str) -> None:
    from bot.ports import NewStep

    store = SqlStore.from_url(db_url)
    long_ago = datetime.now(UTC) - timedelta(days=40)
    try:
        async with store.transaction() as tx:
            for key in ("done", "skipped", "cancelled", "failed", "pending", "recent"):
                await tx.add_step(NewStep("decision_due", long_ago, f"decision_due:ACME-1:{key}", ref="ACME-1"))
        async with store.session() as s:
            await s.exec(  # type: ignore[call-overload]
                sa.text(
                    "UPDATE schedule SET status = substr(dedupe_key, 21), finished_at = :at"
                    " WHERE dedupe_key NOT LIKE '%pending' AND dedupe_key NOT LIKE '%recent'"
                ),
                params={"at": long_ago},
            )
            await s.exec(  # type: ignore[call-overload]
                sa.text("UPDATE schedule SET status = 'done', finished_at = :at WHERE dedupe_key LIKE '%recent'"),
                params={"at": datetime.now(UTC)},
            )
        await prune_outbox(store, keep=timedelta(days=30), now=datetime.now(UTC), batch=1)
        async with store.session() as s:
            left = (await s.exec(sa.text("SELECT dedupe_key FROM schedule ORDER BY id"))).all()  # type: ignore[call-overload]
        assert [k.rsplit(":", 1)[1] for (k,) in left] == ["failed", "pending", "recent"]
    finally:
        await store.close()
