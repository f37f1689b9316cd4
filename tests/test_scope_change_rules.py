"""Approving work the scope does not cover records a scope change, and a scope change needs both an effort
estimate and the schedule impact: in the core, and so on every platform."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.domain import RequestStatus, ScopeChange
from bot.errors import FormInvalid
from bot.service import IntakeService
from tests.conftest import MEMBER, PM, TestBot
from tests.support.slack_harness import MEMBER_ID, PM_ID, SlackHarness, text_value
from tests.support.teams import MEMBER as TEAMS_MEMBER
from tests.support.teams import PM as TEAMS_PM
from tests.support.teams import REVIEW_CHANNEL, Harness, running

NEW_WORK = "Please add a live chat with our service team"


async def test_the_service_refuses_a_scope_change_without_estimate_or_schedule_impact(service: IntakeService) -> None:
    rec = await service.submit_request(project="acme-portal", actor=MEMBER, text=NEW_WORK)
    for change, missing in (
        (None, {"estimate", "schedule_impact"}),
        (ScopeChange("3 days", ""), {"schedule_impact"}),
        (ScopeChange("", "none"), {"estimate"}),
    ):
        with pytest.raises(FormInvalid) as refused:
            await service.approve(rec.ref, actor=PM, change=change)
        assert set(refused.value.errors) == missing
    assert (await service.get_request(rec.ref)).status is RequestStatus.IN_REVIEW
    rec = await service.approve(rec.ref, actor=PM, change=ScopeChange("3 days", "none"))
    assert rec.status is RequestStatus.APPROVED


async def test_the_terminal_asks_for_both_and_refuses_without_the_schedule_impact(testbot: TestBot) -> None:
    await testbot.say(f"/request {NEW_WORK}")
    testbot.become(PM)
    out = await testbot.say("/approve ACME-1", "4 person-days", "", "")
    assert "Effort estimate" in out and "Schedule impact" in out
    assert "! Say what this does to the schedule, even if nothing." in out and "ACME-1 approved." not in out


async def test_slack_shows_the_missing_schedule_impact_beside_its_field(slack: SlackHarness) -> None:
    await slack.command("/request", NEW_WORK, user=MEMBER_ID)
    await slack.settle()
    await slack.click("approve_request", "ACME-1", user=PM_ID)
    await slack.settle()
    view = slack.opened_view()
    assert {b.get("block_id") for b in view["blocks"]} >= {"estimate", "schedule_impact", "note"}
    resp = await slack.submit(view, user=PM_ID, values={"estimate": text_value("4 days")})
    body = await resp.json()
    assert body == {
        "response_action": "errors",
        "errors": {"schedule_impact": "Say what this does to the schedule, even if nothing."},
    }
    assert (await slack.service.get_request("ACME-1")).status is RequestStatus.IN_REVIEW


@pytest.fixture
async def teams(db_url: str) -> AsyncIterator[Harness]:
    async with running(db_url) as h:
        await h.add_to_channel(REVIEW_CHANNEL)
        yield h


async def test_teams_refuses_without_the_schedule_impact_and_keeps_what_was_typed(teams: Harness) -> None:
    await teams.say_in_channel(TEAMS_MEMBER, f"request {NEW_WORK}")
    card = (await teams.connector.wait_for(lambda: [c for c in teams.connector.posts(REVIEW_CHANNEL) if c.card]))[0]
    resp = await teams.click(
        TEAMS_PM, card, {"intake": "approve_submit", "ref": "ACME-1", "estimate": "4 days", "schedule_impact": ""}
    )
    form = (await resp.json())["value"]
    inputs = {b["id"]: b for b in form["body"] if b.get("type", "").startswith("Input.")}
    assert inputs["estimate"]["value"] == "4 days" and inputs["schedule_impact"]["isRequired"] is True
    assert any(
        r.get("text") == "⚠ Say what this does to the schedule, even if nothing."
        for b in form["body"]
        for r in b.get("inlines", [])
    )
    assert (await teams.service.get_request("ACME-1")).status is RequestStatus.IN_REVIEW
