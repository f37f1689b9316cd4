"""Time in Teams, through the real /api/messages route and the fake Bot Framework connector: the review
card shows the decision's due date; at the due time each PM gets a reminder card in their personal chat
with the decide buttons (the PM named by e-mail reached by it); `away DATE someone@…` hands a PM's
reminders and decisions to a delegate."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.domain import RequestStatus
from tests.support.clock import FakeClock
from tests.support.teams import MEMBER, OTHER, PM, PM2, REVIEW_CHANNEL, Call, Harness, personal_conversation, running
from tests.support.views import card_facts
from tests.test_teams_flow import all_text, invoke_card

IN_SCOPE = "Customers should be able to filter the order history by date"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 12, 3, 9, 30, tzinfo=UTC))  # a Thursday


@pytest.fixture
async def teams(db_url: str, clock: FakeClock) -> AsyncIterator[Harness]:
    async with running(db_url, clock=clock) as h:
        await h.install_personal(PM)
        await h.install_personal(PM2)
        await h.add_to_channel(REVIEW_CHANNEL)
        yield h


def facts(card: dict[str, Any]) -> dict[str, str]:
    return card_facts(card)


def cards_in(teams: Harness, conversation: str, starting: str) -> list[Call]:
    return [c for c in teams.connector.posts(conversation) if c.card and all_text(c.card).startswith(starting)]


async def record(teams: Harness, text: str, user: dict[str, Any] = MEMBER) -> str:
    await teams.say_in_channel(user, f"request {text}")
    await teams.settle()
    return str((await teams.service.list_requests())[-1].ref)


async def test_the_card_shows_the_due_date_and_each_pm_gets_a_reminder_card_in_their_chat(
    teams: Harness, clock: FakeClock
) -> None:
    ref = await record(teams, IN_SCOPE)
    review = next(c for c in teams.connector.posts(REVIEW_CHANNEL) if c.card)
    assert review.card is not None and facts(review.card)["Decision due"] == "Mon 7 Dec"

    clock.advance(days=4)
    await teams.tick()
    for user in (PM, PM2):  # Pat by e-mail (pms), Robin by AAD id (teams.pms)
        [reminder] = cards_in(teams, personal_conversation(user), f"⏰ {ref} is waiting for your decision")
        assert reminder.card is not None
        assert facts(reminder.card)["Decision due"] == "Mon 7 Dec, overdue"
        assert [a["title"] for a in reminder.card["actions"] if a.get("mode") != "secondary"] == [
            "Approve",
            "Decline",
            "Ask for details",
        ]
    update = teams.connector.updates()[-1]
    assert update.card is not None and facts(update.card)["Decision due"] == "Mon 7 Dec, overdue"

    # Pat approves right on the reminder; the review card follows; no second reminder ever comes.
    [reminder] = cards_in(teams, personal_conversation(PM), "⏰")
    resp = await teams.click(PM, reminder, {"intake": "approve", "ref": ref})
    assert "Approved by Pat Morgan" in all_text(invoke_card(await resp.json()))
    await teams.settle()
    assert (await teams.service.get_request(ref)).status is RequestStatus.APPROVED
    clock.advance(days=30)
    await teams.tick()
    assert len(cards_in(teams, personal_conversation(PM), "⏰")) == 1


async def test_away_with_a_delegate_in_teams(teams: Harness, clock: FakeClock) -> None:
    await teams.install_personal(OTHER)
    await record(teams, "Could we get a dark mode?", user=OTHER)  # Lee is on the team
    ref = await record(teams, IN_SCOPE)

    await teams.say_personal(PM, "away 2026-12-08 nobody@elsewhere.example")
    assert "nobody@elsewhere.example is not on the team of Acme Customer Portal" in teams.connector.calls[-1].text
    await teams.say_personal(PM, "away tomorrow lee@acme-team.example")
    assert "'tomorrow' is not a date" in teams.connector.calls[-1].text
    await teams.say_personal(PM, "away 2026-12-08 lee@acme-team.example")
    said = teams.connector.calls[-1].text
    assert said.startswith("You are away until 2026-12-08. lee@acme-team.example stands in for you")
    assert said.endswith("To end it early: back")
    await teams.settle()
    told = cards_in(teams, personal_conversation(OTHER), "")
    assert any(
        "Pat Morgan is away until 2026-12-08" in c.text for c in teams.connector.posts(personal_conversation(OTHER))
    )
    assert not told  # a plain message, not a card

    clock.advance(days=4)
    await teams.tick()
    [to_lee] = cards_in(teams, personal_conversation(OTHER), f"⏰ {ref}")
    assert to_lee.card is not None and "You are standing in for Pat Morgan" in all_text(to_lee.card)
    assert not cards_in(teams, personal_conversation(PM), "⏰")
    resp = await teams.click(OTHER, to_lee, {"intake": "approve", "ref": ref})
    assert "(on behalf of Pat Morgan)" in all_text(invoke_card(await resp.json()))
    d = (await teams.service.get_request(ref)).last_decision
    assert d is not None and d.actor.user_id == OTHER["id"] and d.on_behalf_of is not None

    # Pat comes back early: Lee is told, and decides nothing more for Pat.
    await teams.say_personal(PM, "back")
    assert teams.connector.calls[-1].text.startswith("Welcome back")
    await teams.settle()
    assert any("Pat Morgan is back" in c.text for c in teams.connector.posts(personal_conversation(OTHER)))
    ref2 = await record(teams, "Filter the order history by status too")
    review2 = [c for c in teams.connector.posts(REVIEW_CHANNEL) if c.card][-1]
    resp = await teams.click(OTHER, review2, {"intake": "approve", "ref": ref2})
    assert "Only the PMs of Acme Customer Portal" in (await resp.json())["value"]
