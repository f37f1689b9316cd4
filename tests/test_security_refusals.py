"""Requests refused before they have any effect: replays dressed up as Slack's own retries, button values
no Slack button can carry, a non-PM's decision form whatever is typed in it, and project files nested
deeper than any project needs."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from click.testing import CliRunner

from adapters.cli.main import cli
from bot.domain import RequestStatus
from tests.support.slack_harness import MEMBER_ID, PM_ID, SlackHarness, fresh_trigger, payload, sign
from tests.support.teams import MEMBER, OTHER, PM, REVIEW_CHANNEL, Harness, running
from tests.test_teams_flow import all_text

FORM = "application/x-www-form-urlencoded"
IOS = "Please build native iOS and Android apps for the portal"


async def recorded(slack: SlackHarness) -> str:
    await slack.command("/request", IOS, user=MEMBER_ID)
    await slack.settle()
    return await slack.ref_of_last_request()


def decline_click(ref: str) -> dict[str, object]:
    data = fresh_trigger(payload("block_actions.json"))
    data["user"]["id"] = PM_ID  # type: ignore[index]
    data["actions"][0].update(action_id="decline_request", value=ref)  # type: ignore[index]
    return data


RETRY = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}


async def test_retry_headers_never_let_a_click_through_twice(slack: SlackHarness) -> None:
    ref = await recorded(slack)
    # A captured click, played back with Slack's retry headers added: refused.
    body = urlencode({"payload": json.dumps(decline_click(ref))})
    headers = sign(body)
    assert (await slack.post(body, content_type=FORM, headers=headers)).status == 200
    for n in ("1", "2", "3"):
        again = await slack.post(body, content_type=FORM, headers={**headers, **RETRY, "X-Slack-Retry-Num": n})
        assert again.status == 401
    # The same click sent as JSON (Slack never sends a click that way), three times with retry headers.
    body = json.dumps(decline_click(ref))
    headers = sign(body)
    statuses = [
        (await slack.post(body, content_type="application/json", headers={**headers, **RETRY})).status for _ in range(3)
    ]
    await slack.settle()
    assert all(400 <= s < 500 for s in statuses), statuses
    assert len(slack.fake.calls_to("views.open")) == 1, "one decline form, from the one real click"


async def test_only_an_events_api_retry_with_slacks_numbers_passes_the_replay_guard(slack: SlackHarness) -> None:
    event = payload("app_home_opened.json")
    body = json.dumps(event)
    headers = sign(body)
    assert (await slack.post(body, content_type="application/json", headers=headers)).status == 200
    # Slack's own retry (numbers 1 to 3) passes, and is answered once by its event id.
    assert (await slack.post(body, content_type="application/json", headers={**headers, **RETRY})).status == 200
    # A number Slack never sends is a replay.
    odd = {**headers, "X-Slack-Retry-Num": "17", "X-Slack-Retry-Reason": "http_timeout"}
    assert (await slack.post(body, content_type="application/json", headers=odd)).status == 401
    await slack.settle()
    assert len(slack.fake.calls_to("views.publish")) == 1


async def test_a_button_value_no_slack_button_can_carry_is_refused_and_never_echoed(slack: SlackHarness) -> None:
    await recorded(slack)
    slack.fake.clear()
    resp = await slack.click("approve_request", "ACME-1 " + "x" * 900_000, user=PM_ID)
    assert resp.status == 400 and "2000 characters" in (await resp.json())["error"]
    more = decline_click("ACME-1")
    more["actions"] = [{"action_id": "more_actions", "type": "overflow", "selected_option": {"value": "y" * 5000}}]
    assert (await slack.post_payload(more)).status == 400
    await slack.settle()
    assert slack.fake.calls == [] and slack.fake.responses == []
    assert (await slack.service.get_request("ACME-1")).status is RequestStatus.IN_REVIEW
    # A value within Slack's limit that names no request is answered, privately and briefly.
    await slack.click("approve_request", "z" * 1999, user=PM_ID)
    await slack.settle()
    [told] = slack.fake.calls_to("chat.postEphemeral")
    assert len(told["text"]) < 2500


# --- Teams: a non-PM's decision form is refused (and recorded) whatever is in it ------------------


@pytest.fixture
async def teams(sqlite_url: str) -> AsyncIterator[Harness]:
    async with running(sqlite_url) as h:
        await h.add_to_channel(REVIEW_CHANNEL)
        yield h


async def test_a_non_pms_decline_form_is_refused_and_recorded_before_its_fields_are_read(teams: Harness) -> None:
    await teams.say_in_channel(MEMBER, f"request {IOS}")
    card = (await teams.connector.wait_for(lambda: [c for c in teams.connector.posts(REVIEW_CHANNEL) if c.card]))[0]
    bad = {"intake": "decline_submit", "ref": "ACME-1", "reason_category": "nonsense", "reason_text": ""}
    resp = await teams.click(OTHER, card, bad)
    answer = await resp.json()
    assert answer["type"] == "application/vnd.microsoft.activity.message", "a refusal, not the form back"
    assert "Only the PMs of Acme Customer Portal" in answer["value"]
    await teams.submit(OTHER, card, bad)  # the Action.Submit path: the same
    refusals = [c for c in teams.connector.calls if "Only the PMs" in c.text]
    assert refusals and not any(c.card and "Pick a reason" in all_text(c.card) for c in teams.connector.calls)
    rec = await teams.service.get_request("ACME-1")
    denied = [e for e in rec.events if e.kind == "denied"]
    assert len(denied) == 2 and {e.actor.user_id for e in denied} == {OTHER["id"]}
    assert rec.status is RequestStatus.IN_REVIEW
    # The PM's own invalid form still comes back with the error beside the field, and nothing is recorded.
    resp = await teams.click(PM, card, bad)
    assert "Pick a reason from the list." in all_text((await resp.json())["value"])
    assert len([e for e in (await teams.service.get_request("ACME-1")).events if e.kind == "denied"]) == 2


# --- project files ------------------------------------------------------------------------------


def test_a_project_file_nested_too_deeply_is_an_error_with_its_line(tmp_path: Path) -> None:
    runner = CliRunner()
    db = f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}"
    flow = tmp_path / "flow.yaml"
    flow.write_text("project: deep\nname: Deep\ngoals: " + "[" * 100_000 + "\n")
    block = tmp_path / "block.yaml"
    block.write_text("project: deep\nname: Deep\ngoals:\n" + "".join("  " * i + "- \n" for i in range(3000)))
    for path, line in ((flow, 3), (block, 35)):
        result = runner.invoke(cli, ["--database-url", db, "project", "load", str(path)])
        assert result.exit_code == 1, result.output
        assert f"{path}:{line}: lists and mappings are nested more than 32 levels deep" in result.output
        assert "Traceback" not in result.output and "RecursionError" not in result.output
