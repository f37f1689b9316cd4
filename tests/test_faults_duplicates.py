"""The same thing arriving twice has one effect: an Events API retry with the same event id, a button
clicked twice (one after the other and at the same moment), the same decline submitted twice. On SQLite
and PostgreSQL, through the real routes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa

from bot.domain import RequestStatus
from tests.support.clock import FakeClock
from tests.support.slack_harness import MEMBER_ID, PM_ID, PM_MAIL_ID, SlackHarness, payload, running_slack
from tests.support.teams import INTAKE_CHANNEL, MEMBER, PM, PM2, REVIEW_CHANNEL, Call, Harness, running

IOS = "Please build native iOS and Android apps for the portal"
IN_SCOPE = "Customers should be able to filter the order history by date"


async def outbox_kinds(store: Any, ref: str) -> list[str]:
    async with store.session() as s:
        rows = await s.exec(  # type: ignore[call-overload]
            sa.text("SELECT kind FROM outbox WHERE ref = :r ORDER BY id").bindparams(r=ref)
        )
        return [r[0] for r in rows.all()]


# --- Slack --------------------------------------------------------------------------------------


@pytest.fixture
async def slack(db_url: str) -> AsyncIterator[SlackHarness]:
    async with running_slack(db_url, FakeClock()) as harness:
        yield harness


async def test_an_event_retried_with_the_same_event_id_is_handled_once(slack: SlackHarness) -> None:
    event = payload("app_home_opened.json")
    for retry in (None, 1, 2, 3):  # Slack's original delivery and its three retries, each signed anew
        assert (await slack.event(event, retry=retry)).status == 200
    await slack.settle()
    assert len(slack.fake.calls_to("views.publish")) == 1
    other = {**event, "event_id": "Ev0HOME0002"}
    assert (await slack.event(other)).status == 200
    await slack.settle()
    assert len(slack.fake.calls_to("views.publish")) == 2


@pytest.mark.parametrize("together", [False, True], ids=["one-after-the-other", "at-the-same-moment"])
async def test_approve_clicked_twice_approves_once(slack: SlackHarness, together: bool) -> None:
    await slack.command("/request", IN_SCOPE, user=MEMBER_ID)
    await slack.settle()
    clicks = [
        slack.click("approve_request", "ACME-1", user=PM_ID),
        slack.click("approve_request", "ACME-1", user=PM_MAIL_ID),
    ]
    if together:
        await asyncio.gather(*clicks)
    else:
        for click in clicks:
            await click
            await slack.settle()
    await slack.settle()
    rec = await slack.service.get_request("ACME-1")
    assert rec.status is RequestStatus.APPROVED and len(rec.decisions) == 1
    assert [e.kind for e in rec.events].count("approved") == 1
    assert await outbox_kinds(slack.store, "ACME-1") == ["review_card", "card_update", "requester_notice"]
    assert len(slack.fake.calls_to("chat.update")) == 1
    told = slack.fake.calls_to("chat.postEphemeral")
    assert len(told) == 1 and "already approved" in told[0]["text"]


@pytest.mark.parametrize("together", [False, True], ids=["one-after-the-other", "at-the-same-moment"])
async def test_the_same_decline_submitted_twice_declines_once_with_one_letter(
    slack: SlackHarness, together: bool
) -> None:
    await slack.command("/request", IOS, user=MEMBER_ID)
    await slack.settle()
    await slack.click("decline_request", "ACME-1", user=PM_ID)
    await slack.settle()
    view = slack.opened_view()
    submits = [slack.submit(view, user=PM_ID), slack.submit(view, user=PM_ID)]
    if together:
        answers = await asyncio.gather(*submits)
    else:
        answers = [await submits[0], await submits[1]]
    bodies = sorted([await a.text() for a in answers], key=len)
    assert bodies[0] == "", "one submission is accepted"
    assert "already declined" in json.dumps(json.loads(bodies[1])["errors"]), "the other is told why not"
    await slack.settle()
    rec = await slack.service.get_request("ACME-1")
    assert rec.status is RequestStatus.LETTER_DRAFTED and len(rec.decisions) == 1
    assert [e.kind for e in rec.events].count("declined") == 1
    assert (await outbox_kinds(slack.store, "ACME-1")).count("letter_draft") == 1
    assert len([c for c in slack.posted() if c["channel"] == "D0PMSLACK"]) == 1


# --- Teams --------------------------------------------------------------------------------------


@pytest.fixture
async def teams(db_url: str) -> AsyncIterator[Harness]:
    async with running(db_url) as h:
        await h.add_to_channel(REVIEW_CHANNEL)
        await h.install_personal(PM)
        yield h


async def teams_card(teams: Harness, text: str) -> Call:
    await teams.say_in_channel(MEMBER, f"request {text}")
    cards: list[Call] = await teams.connector.wait_for(
        lambda: [c for c in teams.connector.posts(REVIEW_CHANNEL) if c.card]
    )
    return cards[-1]


async def test_teams_approve_clicked_twice_at_the_same_moment_approves_once(teams: Harness) -> None:
    card = await teams_card(teams, "Can the order history export to PDF?")
    answers = await asyncio.gather(
        teams.click(PM, card, {"intake": "approve", "ref": "ACME-1"}),
        teams.click(PM2, card, {"intake": "approve", "ref": "ACME-1"}),
    )
    assert [a.status for a in answers] == [200, 200]
    rec = await teams.service.get_request("ACME-1")
    assert rec.status is RequestStatus.APPROVED and len(rec.decisions) == 1
    await teams.connector.wait_for(teams.connector.updates)
    await teams.connector.wait_for(lambda: [c for c in teams.connector.posts(INTAKE_CHANNEL) if "approved" in c.text])
    await teams.settle()  # everything due has gone: a second update or notice would be here now
    assert len(teams.connector.updates()) == 1
    assert len([c for c in teams.connector.posts(INTAKE_CHANNEL) if "approved ACME-1" in c.text]) == 1


async def test_teams_the_same_decline_submitted_twice_declines_once_with_one_letter(teams: Harness) -> None:
    card = await teams_card(teams, "We need a native iOS app for the portal")
    form = {
        "intake": "decline_submit",
        "ref": "ACME-1",
        "reason_category": "project_goals",
        "reason_text": "Apps are outside the scope.",
    }
    answers = await asyncio.gather(teams.click(PM, card, form), teams.click(PM, card, form))
    assert [a.status for a in answers] == [200, 200]
    rec = await teams.service.get_request("ACME-1")
    assert rec.status is RequestStatus.LETTER_DRAFTED and len(rec.decisions) == 1
    letters = await teams.connector.wait_for(
        lambda: [c for c in teams.connector.posts("a:personal-pm-pat") if c.card and "ACME-1" in json.dumps(c.card)]
    )
    await teams.settle()
    letters = [c for c in teams.connector.posts("a:personal-pm-pat") if c.card and "ACME-1" in json.dumps(c.card)]
    assert len(letters) == 1
    assert (await outbox_kinds(teams.service.store, "ACME-1")).count("letter_draft") == 1


async def test_teams_forgets_activity_ids_a_day_old_and_keeps_the_rest(teams: Harness) -> None:
    """Retries come within minutes: ids older than a day are dropped (at most hourly), others are kept."""
    from datetime import UTC, datetime, timedelta

    from adapters.web.app import RUNTIME

    store = teams.app[RUNTIME].store
    now = datetime.now(UTC)
    async with store.transaction() as tx:
        assert await tx.claim_key("teams:activity:19:old@thread.tacv2:1", at=now - timedelta(days=2))
        assert await tx.claim_key("teams:activity:19:recent@thread.tacv2:2", at=now - timedelta(hours=3))
        assert await tx.claim_key("slack:sig:v0=keep-other-kinds", at=now - timedelta(days=2))
    await teams.say_in_channel(MEMBER, "request Can the order history export to PDF?")
    async with store.session() as s:
        res = await s.exec(sa.text("SELECT key FROM processed_keys ORDER BY key"))  # type: ignore[call-overload]
        keys = [r[0] for r in res.all()]
    assert "teams:activity:19:old@thread.tacv2:1" not in keys
    assert "teams:activity:19:recent@thread.tacv2:2" in keys and "slack:sig:v0=keep-other-kinds" in keys
    assert sum(k.startswith("teams:activity:") for k in keys) == 2  # the recent one and the message just sent


async def test_slack_forgets_the_keys_of_commands_recorded_a_week_ago(slack: SlackHarness) -> None:
    """A `/request`'s key only ties its outbox row to its one recording; a week on it goes, the rest stays."""
    from datetime import timedelta

    now = slack.service.clock.now()
    async with slack.store.transaction() as tx:
        assert await tx.claim_key("slack:command:old", at=now - timedelta(days=8))
        assert await tx.claim_key("slack:command:recent", at=now - timedelta(days=2))
        assert await tx.claim_key("teams:activity:keep-other-kinds", at=now - timedelta(days=8))
    await slack.command("/request", "Can the order history export to PDF?", user=MEMBER_ID)
    await slack.settle()
    async with slack.store.session() as s:
        keys = [r[0] for r in (await s.exec(sa.text("SELECT key FROM processed_keys"))).all()]  # type: ignore[call-overload]
    assert "slack:command:old" not in keys
    assert "slack:command:recent" in keys and "teams:activity:keep-other-kinds" in keys
    assert sum(k.startswith("slack:command:") for k in keys) == 2  # the recent one and the command just sent
