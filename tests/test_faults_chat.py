"""Slack and Teams failing while the bot posts: server errors, rate limits, hangs past the client's timeout
and dropped connections. Every notice is delivered after recovery, and none twice.

The fakes give a failed call no effect (as a real platform that failed would), so what they record as
delivered is what people would see.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import sqlalchemy as sa

import adapters.slack.platform as slack_platform
import adapters.teams.platform as teams_platform
from adapters.settings import Settings
from bot.domain import RequestStatus
from bot.outbox import Dispatcher
from tests.support.clock import FakeClock
from tests.support.fake_slack import FakeSlack
from tests.support.slack_harness import MEMBER_ID, OTHER_ID, PM_ID, SlackHarness, running_slack
from tests.support.teams import INTAKE_CHANNEL, MEMBER, OTHER, PM, REVIEW_CHANNEL, FakeConnector, Harness, running

IOS = "Please build native iOS and Android apps for the portal"
IN_SCOPE = "Customers should be able to filter the order history by date"
EXPORT = "Can the order history export to PDF?"
CLIENT_TIMEOUT = 0.3  # seconds; the fakes hang for longer than this
HANG = 60.0  # longer than any test waits: only the client timeout ends it

SLACK_FAULTS: dict[str, Callable[[FakeSlack, str, int], None]] = {
    "server-error": lambda fake, method, n: fake.fail(method, status=503, error="service_unavailable", times=n),
    "rate-limited": lambda fake, method, n: fake.rate_limit(method, retry_after=1, times=n),
    "hang": lambda fake, method, n: fake.hang(method, seconds=HANG, times=n),
    "dropped": lambda fake, method, n: fake.drop(method, times=n),
}

TEAMS_FAULTS: dict[str, Callable[[FakeConnector, int], None]] = {
    "server-error": lambda c, n: c.fail_next(502, n, conversation=REVIEW_CHANNEL),
    "rate-limited": lambda c, n: c.fail_next(429, n, conversation=REVIEW_CHANNEL, **{"Retry-After": "0.2"}),
    "hang": lambda c, n: c.hang_next(HANG, n, conversation=REVIEW_CHANNEL),
    "dropped": lambda c, n: c.drop_next(n, conversation=REVIEW_CHANNEL),
}


async def outbox(store: Any, platform: str) -> list[tuple[str, str, int]]:
    async with store.session() as s:
        rows = await s.exec(  # type: ignore[call-overload]
            sa.text("SELECT kind, status, attempts FROM outbox WHERE platform = :p ORDER BY id").bindparams(p=platform)
        )
        return [tuple(r) for r in rows.all()]


def test_chat_clients_give_up_well_inside_the_outbox_lease() -> None:
    """A hung call must become a retry while the row is still leased, never outlive the lease."""
    lease = Dispatcher(store=None, sinks=[]).lease_seconds  # type: ignore[arg-type]
    assert slack_platform.LONGEST_API_TIMEOUT <= lease / 3
    bounds = [m.le for m in Settings.model_fields["slack_api_timeout"].metadata if hasattr(m, "le")]
    assert bounds == [slack_platform.LONGEST_API_TIMEOUT]
    assert teams_platform.CONNECTOR_TIMEOUT <= lease / 3


# --- Slack --------------------------------------------------------------------------------------


@pytest.fixture
async def slack(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[SlackHarness]:
    async with running_slack(sqlite_url, FakeClock(), slack_api_timeout=CLIENT_TIMEOUT) as harness:
        yield harness


async def slack_all_sent(slack: SlackHarness) -> bool:
    rows = await outbox(slack.store, "slack")
    return bool(rows) and all(status == "sent" for _, status, _ in rows)


@pytest.mark.parametrize("fault", list(SLACK_FAULTS))
async def test_slack_notices_arrive_once_after_slack_recovers(slack: SlackHarness, fault: str) -> None:
    inject = SLACK_FAULTS[fault]
    inject(slack.fake, "chat.postMessage", 3)
    for text, user in ((IOS, MEMBER_ID), (IN_SCOPE, OTHER_ID), (EXPORT, MEMBER_ID)):
        assert (await slack.command("/request", text, user=user)).status == 200
        await slack.ctx.settle()
    await slack.settle_until(lambda: slack_all_sent(slack), within=15)

    inject(slack.fake, "chat.update", 2)
    inject(slack.fake, "chat.postMessage", 2)
    await slack.click("approve_request", "ACME-2", user=PM_ID)
    await slack.click("decline_request", "ACME-1", user=PM_ID)
    await slack.ctx.settle()
    resp = await slack.submit(slack.opened_view(), user=PM_ID)
    assert resp.status == 200 and await resp.text() == ""
    await slack.settle_until(lambda: slack_all_sent(slack), within=15)

    assert all(not queued for queued in slack.fake.failures.values()), "every fault was met"
    rows = await outbox(slack.store, "slack")
    assert sum(attempts for _, _, attempts in rows) >= len(rows) + 3, "the faults caused retries"
    kinds = Counter(kind for kind, _, _ in rows)
    posted = slack.fake.delivered("chat.postMessage")
    updated = slack.fake.delivered("chat.update")
    # Once each: no two identical posts or updates, and as many as the outbox queued.
    assert max(Counter(json.dumps(p, sort_keys=True) for p in posted).values()) == 1
    assert max(Counter(json.dumps(u, sort_keys=True) for u in updated).values()) == 1
    assert len(posted) == kinds["review_card"] + kinds["requester_notice"] + kinds["letter_draft"]
    assert len(updated) == kinds["card_update"] == 2
    cards = [p for p in posted if p["channel"] == "C0REVIEW"]
    assert sorted(ref for p in cards for ref in ("ACME-1", "ACME-2", "ACME-3") if ref in p["text"]) == [
        "ACME-1",
        "ACME-2",
        "ACME-3",
    ]
    assert len([p for p in posted if p["channel"] == "D0PMSLACK"]) == 1  # the letter, once
    assert (await slack.service.get_request("ACME-1")).status is RequestStatus.LETTER_DRAFTED
    assert (await slack.service.get_request("ACME-2")).status is RequestStatus.APPROVED


# --- Teams --------------------------------------------------------------------------------------


@pytest.fixture
async def teams(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Harness]:
    monkeypatch.setattr(teams_platform, "CONNECTOR_TIMEOUT", CLIENT_TIMEOUT)
    async with running(sqlite_url) as h:
        await h.add_to_channel(REVIEW_CHANNEL)
        yield h


async def teams_settled(teams: Harness, expected_rows: int) -> None:
    async def done() -> bool:
        rows = await outbox(teams.service.store, "teams")
        return len(rows) >= expected_rows and all(status == "sent" for _, status, _ in rows)

    for _ in range(300):  # the app's own dispatcher delivers in the background
        if await done():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the Teams outbox did not drain: {await outbox(teams.service.store, 'teams')}")


@pytest.mark.parametrize("fault", list(TEAMS_FAULTS))
async def test_teams_notices_arrive_once_after_the_connector_recovers(teams: Harness, fault: str) -> None:
    inject = TEAMS_FAULTS[fault]
    inject(teams.connector, 3)
    for text, user in ((IOS, MEMBER), (IN_SCOPE, OTHER), (EXPORT, MEMBER)):
        assert (await teams.say_in_channel(user, f"request {text}")).status == 200
    await teams_settled(teams, 3)
    cards = [c for c in teams.connector.posts(REVIEW_CHANNEL) if c.card]
    assert len(cards) == 3

    inject(teams.connector, 2)
    card = next(c for c in cards if "ACME-2" in json.dumps(c.card))
    resp = await teams.click(PM, card, {"intake": "approve", "ref": "ACME-2"})
    assert resp.status == 200
    await teams_settled(teams, 5)

    assert teams.connector.failures == [], "every fault was met"
    rows = await outbox(teams.service.store, "teams")
    assert sum(attempts for _, _, attempts in rows) >= len(rows) + 3, "the faults caused retries"
    kinds = Counter(kind for kind, _, _ in rows)
    review_posts = [c for c in teams.connector.posts(REVIEW_CHANNEL) if c.card]
    titles = sorted(c.card["body"][0]["text"] for c in review_posts if c.card)
    assert titles == ["Client request ACME-1", "Client request ACME-2", "Client request ACME-3"]
    updates = teams.connector.updates()
    assert len(updates) == kinds["card_update"] == 1 and updates[0].activity_id == card.posted_id
    told = [c for c in teams.connector.posts(INTAKE_CHANNEL) if "approved ACME-2" in c.text]
    assert len(told) == 1
    every = Counter((c.method, c.path, json.dumps(c.body, sort_keys=True)) for c in teams.connector.calls)
    assert max(every.values()) == 1, "nothing was posted twice"
    assert (await teams.service.get_request("ACME-2")).status is RequestStatus.APPROVED
