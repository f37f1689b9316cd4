"""Delivery through the outbox: 429 Retry-After is honoured, Slack failures are retried and logged, and
texts are cut to Slack's limits instead of failing."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from bot.domain import RequestStatus
from tests.support.slack_harness import MEMBER_ID, PM_ID, SlackHarness

IOS = "Please build native iOS and Android apps for the portal"


async def outbox_rows(slack: SlackHarness) -> list[tuple]:
    async with slack.store.session() as s:
        return list(
            (
                await s.exec(sa.text("SELECT kind, status, attempts, last_error, available_at FROM outbox ORDER BY id"))
            ).all()  # type: ignore[call-overload]
        )


async def all_sent(slack: SlackHarness) -> bool:
    rows = await outbox_rows(slack)
    return bool(rows) and all(r[1] == "sent" for r in rows)


async def test_rate_limit_waits_for_retry_after_then_delivers(slack: SlackHarness) -> None:
    slack.fake.rate_limit("chat.postMessage", retry_after=1)
    await slack.command("/request", IOS)
    await slack.ctx.settle()
    assert await slack.dispatcher.drain() == 1
    (row,) = await outbox_rows(slack)
    assert row[1] == "pending" and "rate limit" in row[3]
    wait = (datetime.fromisoformat(str(row[4])).replace(tzinfo=UTC) - datetime.now(UTC)).total_seconds()
    assert 0 < wait <= 1.0 and "retry after 1.0s" in row[3]
    if wait > 0.2:  # (a very slow machine may already be past it)
        assert await slack.dispatcher.drain() == 0  # not before Retry-After
    await asyncio.sleep(wait)
    await slack.settle_until(lambda: all_sent(slack))
    (row,) = await outbox_rows(slack)
    assert row[1] == "sent" and row[2] == 2
    assert len(slack.posted("C0REVIEW")) == 2  # the rate-limited call and the delivered one


async def test_slack_server_errors_are_retried_and_logged(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture
) -> None:
    slack.fake.fail("chat.postMessage", status=503, error="service_unavailable", times=2)
    caplog.set_level(logging.WARNING, logger="intake.outbox")
    await slack.command("/request", IOS)
    await slack.settle_until(lambda: all_sent(slack))
    (row,) = await outbox_rows(slack)
    assert row[1] == "sent" and row[2] == 3
    assert sum("will be retried" in r.message for r in caplog.records) == 2


async def test_a_permanent_slack_error_fails_the_notice_without_retrying(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture
) -> None:
    slack.fake.fail("chat.postMessage", error="channel_not_found")
    await slack.command("/request", IOS)
    await slack.settle()
    (row,) = await outbox_rows(slack)
    assert row[1] == "failed" and "channel_not_found" in row[3]
    assert any("failed for good" in r.message for r in caplog.records)
    # the request itself stands; a later decision still works and the update is skipped, not crashed
    await slack.click("approve_request", "ACME-1", user=PM_ID)
    await slack.settle()
    assert slack.opened_view()["callback_id"] == "form:approve"


async def test_failed_card_update_is_retried_in_order(slack: SlackHarness) -> None:
    await slack.command("/request", "Customers should be able to filter the order history by date")
    await slack.settle()
    slack.fake.fail("chat.update", error="internal_error")
    await slack.click("approve_request", "ACME-1", user=PM_ID)
    await slack.settle_until(lambda: all_sent(slack))
    assert len(slack.fake.calls_to("chat.update")) == 2
    rows = await outbox_rows(slack)
    assert [r[1] for r in rows] == ["sent", "sent", "sent"]


async def test_views_open_failure_is_told_to_the_user_not_a_500(slack: SlackHarness) -> None:
    await slack.command("/request", IOS)
    await slack.settle()
    slack.fake.fail("views.open", error="expired_trigger_id")
    resp = await slack.click("decline_request", "ACME-1", user=PM_ID)
    assert resp.status == 200
    await slack.settle()
    told = slack.fake.calls_to("chat.postEphemeral")[-1]
    assert told["user"] == PM_ID and "could not be opened" in told["text"]
    assert (await slack.service.get_request("ACME-1")).status is RequestStatus.IN_REVIEW


async def test_users_info_failure_still_records_the_request(slack: SlackHarness) -> None:
    slack.fake.fail("users.info", error="user_not_found")
    await slack.command("/request", IOS, user=MEMBER_ID)
    await slack.settle()
    rec = await slack.service.get_request("ACME-1")
    assert rec.requester.user_id == MEMBER_ID and rec.requester.email is None


async def test_long_texts_are_cut_to_slack_limits(slack: SlackHarness) -> None:
    long = ("Please build native iOS and Android apps " + "with every feature of the portal " * 200)[:3990]
    await slack.command("/request", long)
    await slack.settle()
    card = slack.posted("C0REVIEW")[-1]
    for block in card["blocks"]:
        if block["type"] in ("section", "header"):
            assert len(block["text"]["text"]) <= (150 if block["type"] == "header" else 3000)
    quoted = next(
        b["text"]["text"] for b in card["blocks"] if b["type"] == "section" and b["text"]["text"].startswith(">")
    )
    assert quoted.endswith("…")
    assert len(card["text"]) <= 3000
    assert json.dumps(card)  # a well-formed call, accepted by the fake
