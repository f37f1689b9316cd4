"""Every message the outbox posts to Slack arrives once, however slow Slack is, and Slack's rate limits are
kept by method: a 429 pauses that method for every notice while the others go on, and one slow call
holds up only its own request.

A post Slack took but answered too late (after our timeout) is found again by the notice key in its
message metadata, in the channel's history (or the thread's replies), and is not posted a second time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa

from bot.domain import RequestStatus
from store.models import OutboxEntry
from tests.support.clock import FakeClock
from tests.support.slack_harness import MEMBER_ID, PM_ID, SlackHarness, running_slack

IN_SCOPE = "Customers should be able to filter the order history by date"
IOS = "Please build native iOS and Android apps for the portal"
TIMEOUT = 0.3  # seconds our Web API calls wait; the fake's late answers come after it


@pytest.fixture
async def slow(sqlite_url: str) -> AsyncIterator[SlackHarness]:
    async with running_slack(sqlite_url, FakeClock(), slack_api_timeout=TIMEOUT) as harness:
        yield harness


def cards(slack: SlackHarness, channel: str = "C0REVIEW") -> list[dict[str, Any]]:
    return [m.__dict__ for m in slack.fake.posted_in(channel) if m.thread_ts is None]


async def outbox_results(slack: SlackHarness, kind: str) -> list[dict[str, Any]]:
    o = OutboxEntry.__table__
    async with slack.store.session() as s:
        rows = (await s.exec(sa.select(o.c.result, o.c.status).where(o.c.kind == kind))).all()  # type: ignore[call-overload]
    assert all(r[1] == "sent" for r in rows), rows
    return [dict(r[0] or {}) for r in rows]


async def _true(value: object) -> bool:
    return bool(value)


async def delivered(slack: SlackHarness, kind: str, n: int = 1) -> bool:
    o = OutboxEntry.__table__
    async with slack.store.session() as s:
        sent = (
            await s.exec(sa.select(sa.func.count()).where(o.c.kind == kind, o.c.status == "sent"))  # type: ignore[call-overload]
        ).one()[0]
    return int(sent) >= n


async def test_a_review_card_slack_answers_too_late_for_is_posted_once(slow: SlackHarness) -> None:
    slow.fake.late("chat.postMessage", seconds=1.0)
    await slow.command("/request", IN_SCOPE, user=MEMBER_ID)
    await slow.settle_until(lambda: delivered(slow, "review_card"))
    assert len(cards(slow)) == 1, "Slack shows the card once"
    card = cards(slow)[0]
    assert card["metadata"]["event_type"] == "intake_notice" and card["metadata"]["event_payload"]["notice"]
    assert slow.fake.calls_to("conversations.history"), "the second attempt looked before posting"
    [result] = await outbox_results(slow, "review_card")
    assert result == {"channel": "C0REVIEW", "ts": card["ts"], "found_in_history": True}
    # The card found is the one later notices update.
    await slow.click("approve_request", "ACME-1", user=PM_ID)
    await slow.settle()
    assert slow.fake.calls_to("chat.update")[-1]["ts"] == card["ts"]


async def test_a_threaded_notice_and_a_direct_message_answered_too_late_are_posted_once(slow: SlackHarness) -> None:
    # Recorded from a message in the intake channel: the requester hears back in its thread.
    await slow.shortcut(user=MEMBER_ID, text=IOS, channel="C0INTAKE")
    await slow.settle()
    await slow.submit(slow.opened_view(), user=MEMBER_ID)
    await slow.settle()
    # The PM declines: the letter goes to the PM's DM and the requester's notice into the thread; both late.
    await slow.click("decline_request", "ACME-1", user=PM_ID)
    await slow.settle()
    slow.fake.late("chat.postMessage", seconds=1.0, times=2)
    await slow.submit(slow.opened_view(), user=PM_ID)
    await slow.settle_until(lambda: delivered(slow, "requester_notice"), within=10)
    await slow.settle_until(lambda: delivered(slow, "letter_draft"), within=10)
    thread = [m for m in slow.fake.posted_in("C0INTAKE") if m.thread_ts]
    assert len(thread) == 1 and slow.fake.calls_to("conversations.replies")
    assert len(slow.fake.posted_in("D0PMSLACK")) == 1
    assert (await slow.service.get_request("ACME-1")).status is RequestStatus.LETTER_DRAFTED


async def test_a_rate_limit_pauses_its_method_for_every_notice_and_other_methods_go_on(slack: SlackHarness) -> None:
    await slack.command("/request", IN_SCOPE, user=MEMBER_ID)
    await slack.settle()
    # A pause long enough to outlast the checks below on a busy machine (they take well under a second).
    slack.fake.rate_limit("chat.postMessage", retry_after=6)
    # The next review card meets the 429.
    await slack.command("/request", "Export the order history as CSV", user=MEMBER_ID)
    await slack.settle_until(lambda: _true(slack.fake.refused("chat.postMessage")), within=10)
    [limited] = slack.fake.refused("chat.postMessage")
    assert limited.answered is not None
    # Two more review cards come due, and the PM approves the first request (a card update, which is
    # chat.update, and a note to the requester, which is chat.postMessage again).
    for text in (IOS, "Reset passwords by e-mail"):
        await slack.command("/request", text, user=MEMBER_ID)
    await slack.click("approve_request", "ACME-1", user=PM_ID)
    await slack.ctx.settle()
    for _ in range(5):  # the dispatcher keeps trying during the pause
        await slack.dispatcher.drain()
        await asyncio.sleep(0.05)
    during = slack.fake.arrived_between("chat.postMessage", limited.answered, limited.answered + 6)
    assert during == [], "no post was tried while the pause ran"
    assert len(slack.fake.delivered("chat.update")) == 1, "the card update went ahead meanwhile"
    # After the pause, everything goes out once.
    await slack.settle_until(lambda: delivered(slack, "review_card", 4), within=20)
    await slack.settle_until(lambda: delivered(slack, "requester_notice"), within=20)
    assert len(cards(slack)) == 4 and len(slack.fake.posted_in("D0SAM")) == 1


async def test_one_slow_call_holds_up_only_its_own_request(sqlite_url: str) -> None:
    async with running_slack(sqlite_url, FakeClock(), slack_api_timeout=5) as slack:
        for i in range(5):
            await slack.command("/request", f"{IN_SCOPE} ({i})", user=MEMBER_ID)
        await slack.ctx.settle()  # recorded; five review cards are due
        slack.fake.hang("chat.postMessage", seconds=30)  # the first post gets no answer for a while
        batch = asyncio.create_task(slack.dispatcher.run_once())
        async with asyncio.timeout(3):  # well before the slow call gives up (5 s)
            while True:
                if len(cards(slack)) >= 4:
                    break
                await asyncio.sleep(0.02)
        assert not batch.done(), "the slow call is still waiting"
        await batch
        await slack.settle_until(lambda: delivered(slack, "review_card", 5), within=10)
        assert len(cards(slack)) == 5
