"""Only the Slack workspace and the Microsoft tenants this server serves are served. A payload from any
other is refused and recorded, however well signed (an app installed in two workspaces signs both). A PM
named by e-mail is that e-mail's first account: another account showing the same address is not a PM."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from click.testing import CliRunner

from adapters.cli.main import cli
from adapters.slack import workspace
from bot.domain import RequestStatus
from tests.support.clock import FakeClock
from tests.support.slack_harness import (
    MEMBER_ID,
    PM_ID,
    PM_MAIL_ID,
    SlackHarness,
    fresh_trigger,
    payload,
    running_slack,
)
from tests.support.teams import (
    MEMBER,
    PM,
    REVIEW_CHANNEL,
    TENANT,
    Call,
    Harness,
    card_call_id,
    load_payload,
    running,
)
from tests.test_teams_flow import all_text

IOS = "Please build native iOS and Android apps for the portal"
OTHER_TEAM = "T0ELSEWHERE"


def from_team(data: dict[str, Any], team: str) -> dict[str, Any]:
    """The payload as another workspace sends it (the same user ids mean other people there)."""
    data = json.loads(json.dumps(data))
    if "team_id" in data:
        data["team_id"] = team
    if isinstance(data.get("team"), dict):
        data["team"]["id"] = team
    if isinstance(data.get("user"), dict) and "team_id" in data["user"]:
        data["user"]["team_id"] = team
    return data


async def refusals(slack: SlackHarness) -> list[tuple[str, str, str]]:
    return [(r.reason, r.origin, r.user_id) for r in await slack.store.list_refusals()]


async def try_from_another_workspace(slack: SlackHarness, ref: str) -> list[int]:
    """A /request, a PM's approve click and an App Home event, all from another workspace."""
    command = from_team(payload("slash_command.json"), OTHER_TEAM)
    command.update(text=IOS, user_id=MEMBER_ID, response_url=slack.fake.response_url("elsewhere"))
    click = from_team(payload("block_actions.json"), OTHER_TEAM)
    click["user"]["id"] = PM_ID  # the same id as the PM's, in a workspace where it is someone else
    click["actions"][0].update(action_id="approve_request", value=ref)
    event = from_team(payload("app_home_opened.json"), OTHER_TEAM)
    event["event_id"] = "EvElsewhere1"
    statuses = [
        (await slack.post_form(fresh_trigger(command))).status,
        (await slack.post_payload(click)).status,
        (await slack.event(event)).status,
    ]
    await slack.settle()
    return statuses


async def test_payloads_from_another_slack_workspace_are_refused_and_recorded(slack: SlackHarness) -> None:
    await slack.command("/request", IOS, user=MEMBER_ID)
    await slack.settle()
    calls = len(slack.fake.calls)
    assert await try_from_another_workspace(slack, "ACME-1") == [403, 403, 403]
    rec = await slack.service.get_request("ACME-1")
    assert rec.status is RequestStatus.IN_REVIEW and rec.decisions == ()
    assert [r.ref for r in await slack.service.list_requests()] == ["ACME-1"]
    assert len(slack.fake.calls) == calls, "nothing was posted for them"
    assert sorted(await refusals(slack)) == sorted(
        [("other_workspace", OTHER_TEAM, MEMBER_ID), ("other_workspace", OTHER_TEAM, PM_ID)] * 1
        + [("other_workspace", OTHER_TEAM, PM_ID)]  # the App Home event, of the user U0PMSLACK there
    )


@pytest.fixture
async def learning(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[SlackHarness]:
    """Slack without SLACK_TEAM_ID: the server asks auth.test which workspace its token belongs to."""
    monkeypatch.setattr(workspace, "LEARN_BACKOFF", (0.05,))
    async with running_slack(sqlite_url, FakeClock(), slack_team_id=None) as harness:
        yield harness


async def test_without_slack_team_id_the_tokens_own_workspace_is_served(learning: SlackHarness) -> None:
    slack = learning
    await slack.command("/request", IOS, user=MEMBER_ID)
    await slack.settle()
    assert "auth.test" in slack.fake.methods() and slack.ctx.workspace.team_id == "T0ACME"
    assert await try_from_another_workspace(slack, "ACME-1") == [403, 403, 403]
    assert (await slack.service.get_request("ACME-1")).status is RequestStatus.IN_REVIEW


async def test_until_auth_test_answers_nothing_is_served_and_no_request_is_lost(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workspace, "LEARN_BACKOFF", (0.3,))
    async with running_slack(sqlite_url, FakeClock(), slack_team_id=None) as slack:
        slack.fake.fail("auth.test", error="internal_error", times=10_000)
        slack.ctx.workspace.team_id = None
        # Acknowledged (the command is safe in the outbox), but not recorded while the workspace is unknown.
        assert (await slack.command("/request", IOS, user=MEMBER_ID)).status == 200
        assert (await slack.click("approve_request", "ACME-1", user=PM_ID)).status == 503
        await slack.ctx.settle()
        await slack.dispatcher.drain()
        assert await slack.service.list_requests() == []
        # Slack answers again: the workspace is learned, and the command is recorded from the outbox.
        slack.fake.failures.clear()
        await slack.ctx.workspace.known(within=5)
        await slack.settle_until(lambda: _recorded(slack), within=60)


async def _recorded(slack: SlackHarness) -> bool:
    # The command waits in the outbox for its grace; make it due now, as time would.
    import sqlalchemy as sa

    from store.models import OutboxEntry

    o = OutboxEntry.__table__
    async with slack.store.session() as s:
        await s.exec(sa.update(o).where(o.c.kind == "slack_command").values(available_at=sa.func.now()))  # type: ignore[call-overload]
    return len(await slack.service.list_requests()) == 1


async def test_a_second_slack_account_showing_a_pms_email_is_not_a_pm(slack: SlackHarness) -> None:
    await slack.command("/request", IOS, user=MEMBER_ID)
    await slack.settle()
    # The PM named by e-mail acts first: the address is theirs from now on.
    await slack.click("ask_details", "ACME-1", user=PM_MAIL_ID)
    await slack.settle()
    assert slack.fake.calls_to("views.open"), "the PM by e-mail may ask"
    # Another account of the workspace shows the same address (a guest, a renamed account).
    slack.fake.add_user("U0IMPOSTER", name="Priya M.", email="pm@acme.example")
    await slack.click("approve_request", "ACME-1", user="U0IMPOSTER")
    await slack.settle()
    rec = await slack.service.get_request("ACME-1")
    assert rec.status is RequestStatus.IN_REVIEW
    assert [e.actor.user_id for e in rec.events if e.kind == "denied"] == ["U0IMPOSTER"]
    assert ("email_claimed", "", "U0IMPOSTER") in await refusals(slack)


# --- Teams --------------------------------------------------------------------------------------


def store_of(teams: Harness) -> Any:
    from adapters.web.app import RUNTIME

    return teams.app[RUNTIME].store


ELSEWHERE = "0d0d0d0d-0000-4000-8000-00000000beef"
IMPOSTER = {"id": "29:pm-imposter", "name": "Pat Morgan", "aadObjectId": "aad-imposter"}


@pytest.fixture
async def teams(sqlite_url: str) -> AsyncIterator[Harness]:
    async with running(sqlite_url, microsoft_app_tenant_id=TENANT) as h:
        h.connector.roster[IMPOSTER["id"]] = {**IMPOSTER, "email": "pm@acme.example"}
        await h.add_to_channel(REVIEW_CHANNEL)
        yield h


def from_tenant(teams: Harness, user: dict[str, Any], card: Call, data: dict[str, Any], tenant: str) -> dict[str, Any]:
    conv = f"{card.conversation_id};messageid={card_call_id(card)}"
    activity = load_payload(
        "invoke_adaptive_card_action", teams.connector.url, id=f"f:{teams.next_id()}", replyToId=card_call_id(card)
    )
    activity["from"] = user
    activity["conversation"].update(id=conv, tenantId=tenant)
    activity["channelData"]["tenant"] = {"id": tenant}
    activity["value"]["action"].update(verb=data["intake"], data=data)
    return activity


async def review_card(teams: Harness) -> Call:
    await teams.say_in_channel(MEMBER, f"request {IOS}")
    cards: list[Call] = await teams.connector.wait_for(
        lambda: [c for c in teams.connector.posts(REVIEW_CHANNEL) if c.card]
    )
    return cards[0]


async def test_activities_from_another_microsoft_tenant_are_refused_and_recorded(teams: Harness) -> None:
    card = await review_card(teams)
    # The PM's very e-mail and name, from another tenant: refused before anything is looked up.
    resp = await teams.send(from_tenant(teams, PM, card, {"intake": "approve", "ref": "ACME-1"}, ELSEWHERE))
    assert resp.status == 403 and "tenant" in (await resp.json())["error"]
    message = load_payload("message_personal", teams.connector.url, id=teams.next_id(), text=f"request {IOS}")
    message["conversation"]["tenantId"] = ELSEWHERE
    message["channelData"] = {"tenant": {"id": ELSEWHERE}}
    assert (await teams.send(message)).status == 403
    rec = await teams.service.get_request("ACME-1")
    assert rec.status is RequestStatus.IN_REVIEW and rec.decisions == ()
    assert len(await teams.service.list_requests()) == 1
    found = [(r.reason, r.origin) for r in await store_of(teams).list_refusals()]
    assert found == [("other_tenant", ELSEWHERE)] * 2
    # From the tenant served, the PM decides as ever.
    resp = await teams.send(
        from_tenant(
            teams,
            PM,
            card,
            {"intake": "approve_submit", "ref": "ACME-1", "estimate": "3 days", "schedule_impact": "none"},
            TENANT,
        )
    )
    assert resp.status == 200
    assert (await teams.service.get_request("ACME-1")).status is RequestStatus.APPROVED


async def test_a_second_teams_account_with_a_pms_email_is_not_a_pm(teams: Harness) -> None:
    card = await review_card(teams)
    resp = await teams.click(PM, card, {"intake": "ask", "ref": "ACME-1"})  # the PM's account, seen first
    assert "question" in json.dumps(await resp.json())
    resp = await teams.click(IMPOSTER, card, {"intake": "approve", "ref": "ACME-1"})
    assert "Only the PMs of Acme Customer Portal" in (await resp.json())["value"]
    rec = await teams.service.get_request("ACME-1")
    assert rec.status is RequestStatus.IN_REVIEW
    assert [e.actor.user_id for e in rec.events if e.kind == "denied"] == [IMPOSTER["id"]]
    found = [(r.reason, r.user_id) for r in await store_of(teams).list_refusals()]
    assert found == [("email_claimed", "aad-imposter")]
    # The address is freed (the PM moved to that account): the account seen next with it keeps it.
    db = store_of(teams).url
    result = await asyncio.to_thread(
        CliRunner().invoke, cli, ["--database-url", db, "access", "forget-email", "pm@acme.example"]
    )
    assert result.exit_code == 0 and "no longer tied" in result.output
    resp = await teams.click(IMPOSTER, card, {"intake": "ask", "ref": "ACME-1"})
    assert "Only the PMs" not in all_text(await resp.json())
    listed = await asyncio.to_thread(CliRunner().invoke, cli, ["--database-url", db, "access", "refusals"])
    assert "email_claimed" in listed.output and "aad-imposter" in listed.output
