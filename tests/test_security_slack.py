"""Slack requests that must be refused and change nothing: forged, expired, replayed, unsigned, too large."""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from bot.domain import RequestStatus
from tests.support.clock import FakeClock
from tests.support.slack_harness import PM_ID, SlackHarness, fresh_trigger, payload, sign

FORM = "application/x-www-form-urlencoded"
IN_SCOPE = "Customers should be able to filter the order history by date"


def command_body(slack: SlackHarness, text: str = "Please build native iOS and Android apps") -> str:
    fields = fresh_trigger(payload("slash_command.json"))
    fields.update(text=text, response_url=slack.fake.response_url())
    return urlencode(fields)


async def nothing_recorded(slack: SlackHarness) -> None:
    await slack.settle()
    assert await slack.service.list_requests() == []
    assert slack.fake.calls == [] and slack.fake.responses == []
    async with slack.store.session() as s:
        outbox = (await s.exec(sa.text("SELECT count(*) FROM outbox"))).one()[0]  # type: ignore[call-overload]
    assert outbox == 0


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(lambda body: sign(body, secret="not-the-secret"), id="forged"),
        pytest.param(lambda body: sign(body, timestamp=int(time.time()) - 5 * 60 - 10), id="expired-5-minutes"),
        pytest.param(lambda body: sign(body, timestamp=int(time.time()) + 5 * 60 + 10), id="from-the-future"),
        pytest.param(lambda body: {}, id="unsigned"),
        pytest.param(lambda body: {"X-Slack-Request-Timestamp": str(int(time.time()))}, id="timestamp-only"),
        pytest.param(lambda body: {**sign(body), "X-Slack-Signature": "v0=" + "0" * 64}, id="zero-signature"),
    ],
)
async def test_a_request_that_is_not_slacks_is_401_and_changes_nothing(slack: SlackHarness, headers: object) -> None:
    body = command_body(slack)
    resp = await slack.post(body, content_type=FORM, headers=headers(body))  # type: ignore[operator]
    assert resp.status == 401 and "signature" in (await resp.json())["error"]
    await nothing_recorded(slack)


async def test_a_replayed_command_is_401_and_records_nothing_more(slack: SlackHarness) -> None:
    body = command_body(slack, IN_SCOPE)
    headers = sign(body)
    assert (await slack.post(body, content_type=FORM, headers=headers)).status == 200
    await slack.settle()
    replay = await slack.post(body, content_type=FORM, headers=headers)
    assert replay.status == 401 and "replay" in (await replay.json())["error"]
    # Claiming to be a Slack retry does not help: commands are never retried by Slack.
    retry = await slack.post(body, content_type=FORM, headers={**headers, "X-Slack-Retry-Num": "1"})
    assert retry.status == 401
    await slack.settle()
    assert [r.ref for r in await slack.service.list_requests()] == ["ACME-1"]
    assert len(slack.posted("C0REVIEW")) == 1


async def test_the_same_command_sent_twice_at_once_is_recorded_once(slack: SlackHarness) -> None:
    """Both copies reach the same group commit: the one claim that is new wins, the other is a replay."""
    body = command_body(slack, IN_SCOPE)
    headers = sign(body)
    first, second = await asyncio.gather(
        slack.post(body, content_type=FORM, headers=headers), slack.post(body, content_type=FORM, headers=headers)
    )
    assert sorted([first.status, second.status]) == [200, 401]
    await slack.settle()
    assert [r.ref for r in await slack.service.list_requests()] == ["ACME-1"]
    assert len(slack.posted("C0REVIEW")) == 1


async def test_a_replayed_bare_command_opens_no_second_form(slack: SlackHarness) -> None:
    body = command_body(slack, "")
    headers = sign(body)
    assert (await slack.post(body, content_type=FORM, headers=headers)).status == 200
    await slack.settle()
    assert len(slack.fake.calls_to("views.open")) == 1
    assert (await slack.post(body, content_type=FORM, headers=headers)).status == 401
    await slack.settle()
    assert len(slack.fake.calls_to("views.open")) == 1


async def test_a_replayed_decision_click_is_401_and_decides_nothing(slack: SlackHarness) -> None:
    await slack.command("/request", IN_SCOPE)
    await slack.settle()
    data = fresh_trigger(payload("block_actions.json"))
    data["user"]["id"] = PM_ID
    data["actions"][0].update(action_id="approve_request", value="ACME-1")
    body = urlencode({"payload": json.dumps(data)})
    headers = sign(body)
    # Captured before the PM's real click reached us, and played back after it: refused.
    assert (await slack.post(body, content_type=FORM, headers=headers)).status == 200
    await slack.settle()
    updates = len(slack.fake.calls_to("chat.update"))
    assert (await slack.post(body, content_type=FORM, headers=headers)).status == 401
    await slack.settle()
    rec = await slack.service.get_request("ACME-1")
    assert rec.status is RequestStatus.APPROVED and len(rec.decisions) == 1
    assert len(slack.fake.calls_to("chat.update")) == updates


async def test_slacks_own_event_retry_in_the_same_second_is_answered_once(slack: SlackHarness) -> None:
    """An Events API retry may carry the very same signature: it is let through and de-duplicated by event id."""
    body = json.dumps(payload("app_home_opened.json"))
    headers = sign(body)
    assert (await slack.post(body, content_type="application/json", headers=headers)).status == 200
    retry = {**headers, "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert (await slack.post(body, content_type="application/json", headers=retry)).status == 200
    await slack.settle()
    assert len(slack.fake.calls_to("views.publish")) == 1
    # Without the retry header the same bytes are a replay.
    assert (await slack.post(body, content_type="application/json", headers=headers)).status == 401


async def test_a_body_over_1_mib_is_413_and_changes_nothing(slack: SlackHarness) -> None:
    fields = fresh_trigger(payload("slash_command.json"))
    fields.update(text="x" * (1024 * 1024), response_url=slack.fake.response_url())
    body = urlencode(fields)
    resp = await slack.post(body, content_type=FORM, headers=sign(body))
    assert resp.status == 413
    await nothing_recorded(slack)
    event = json.dumps({**payload("app_home_opened.json"), "padding": "y" * (1024 * 1024)})
    resp = await slack.post(event, content_type="application/json", headers=sign(event))
    assert resp.status == 413
    await nothing_recorded(slack)


async def test_remembered_signatures_are_forgotten_once_they_could_never_be_accepted_again(
    slack: SlackHarness, clock: FakeClock
) -> None:
    async def remembered() -> int:
        async with slack.store.session() as s:
            q = sa.text("SELECT count(*) FROM processed_keys WHERE key LIKE 'slack:sig:%'")
            return int((await s.exec(q)).one()[0])  # type: ignore[call-overload]

    await slack.command("/request", IN_SCOPE)
    await slack.command("/request", "Please build native iOS and Android apps")
    assert await remembered() == 2
    clock.advance(minutes=11)  # both signatures are long past Slack's five minutes
    await slack.command("/requests", "")
    assert await remembered() == 1
    await slack.settle()


def _click(**changes: object) -> dict:
    data = fresh_trigger(payload("block_actions.json"))
    data["actions"][0].update(action_id="approve_request", value="ACME-1")
    data.update(changes)
    return data


WRONG_SHAPES = {
    "user as a string": _click(user="U0PMSLACK"),
    "container as a string": _click(container="C0REVIEW"),
    "actions as an object": _click(actions={"action_id": "approve_request"}),
    "an action without its id": _click(actions=[{"value": "ACME-1"}]),
    "a value that is a number": _click(actions=[{"action_id": "approve_request", "value": 7}]),
    "a view without state values": {
        **payload("view_submission.json"),
        "view": {"callback_id": "decline_modal", "state": []},
    },
    "a selected option that is text": {
        **payload("view_submission.json"),
        "view": {"callback_id": "decline_modal", "state": {"values": {"b": {"a": {"selected_option": "x"}}}}},
    },
    "a shortcut without its trigger": {k: v for k, v in payload("message_action.json").items() if k != "trigger_id"},
    "no type at all": {"user": {"id": "U0PMSLACK"}},
}


@pytest.mark.parametrize("data", list(WRONG_SHAPES.values()), ids=list(WRONG_SHAPES))
async def test_a_signed_payload_of_the_wrong_shape_is_400_with_a_reason_and_changes_nothing(
    slack: SlackHarness, data: dict
) -> None:
    await slack.command("/request", IN_SCOPE)
    await slack.settle()
    calls = len(slack.fake.calls)
    body = urlencode({"payload": json.dumps(data)})
    resp = await slack.post(body, content_type=FORM, headers=sign(body))
    assert resp.status == 400
    assert "unreadable request body: " in (await resp.json())["error"]
    await slack.settle()
    assert len(slack.fake.calls) == calls, "nothing was acknowledged and attempted in the background"
    assert (await slack.service.get_request("ACME-1")).status is RequestStatus.IN_REVIEW


@pytest.mark.parametrize(
    "missing", ["command", "user_id", "trigger_id", "response_url"], ids=lambda m: f"a command without {m}"
)
async def test_a_signed_command_missing_a_field_is_400(slack: SlackHarness, missing: str) -> None:
    fields = fresh_trigger(payload("slash_command.json"))
    fields.update(text=IN_SCOPE, response_url=slack.fake.response_url())
    del fields[missing]
    body = urlencode(fields)
    resp = await slack.post(body, content_type=FORM, headers=sign(body))
    named = "type" if missing == "command" else missing  # without `command` it is no command at all
    assert resp.status == 400 and named in (await resp.json())["error"]
    await nothing_recorded(slack)


async def test_signatures_past_their_window_are_forgotten_whatever_the_payload(slack: SlackHarness) -> None:
    """Only /request comes in bursts, and it claims its signature in its own write: clearing old
    signatures must not depend on other payloads arriving."""
    from datetime import timedelta

    now = slack.service.clock.now()
    async with slack.store.transaction() as tx:
        assert await tx.claim_key("slack:sig:v0=long-ago", at=now - timedelta(hours=1))
        assert await tx.claim_key("slack:sig:v0=a-minute-ago", at=now - timedelta(minutes=1))
    assert (await slack.command("/request", IN_SCOPE)).status == 200
    await slack.settle()
    async with slack.store.session() as s:
        res = await s.exec(sa.text("SELECT key FROM processed_keys WHERE key LIKE 'slack:sig:%'"))  # type: ignore[call-overload]
        keys = {r[0] for r in res.all()}
    assert "slack:sig:v0=long-ago" not in keys
    assert "slack:sig:v0=a-minute-ago" in keys and len(keys) == 2  # and the command's own
