"""Generated garbage at the chat routes: malformed form bodies, JSON and payloads of the wrong shape get a
4xx with a reason, never a 500 (property-based, with a bounded number of examples so it stays fast).

Each property runs against one real app (one event loop for all its examples): the routes, signatures,
bolt's dispatch and the Teams activity handling are the real ones.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.clock import FakeClock
from tests.support.slack_harness import SlackHarness, payload, running_slack, sign
from tests.support.teams import Harness, load_payload, running

EXAMPLES = settings(
    max_examples=int(os.environ.get("INTAKE_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

_nonce = itertools.count(1)

scalars = st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False) | st.text(max_size=30)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=20,
)

SLACK_TYPES = ["block_actions", "view_submission", "view_closed", "shortcut", "message_action", "event_callback"]
SLACK_KEYS = ["type", "user", "actions", "view", "team", "channel", "container", "trigger_id", "callback_id", "event"]


def _mutate(base: dict[str, Any], changes: dict[str, Any], drop: list[str]) -> dict[str, Any]:
    out = {**base, **changes}
    for key in drop:
        out.pop(key, None)
    return out


slack_shapes = st.one_of(
    json_values,
    st.builds(
        _mutate,
        st.sampled_from(["block_actions.json", "view_submission.json", "message_action.json"]).map(payload),
        st.dictionaries(st.sampled_from(SLACK_KEYS), json_values | st.sampled_from(SLACK_TYPES), max_size=3),
        st.lists(st.sampled_from(SLACK_KEYS), max_size=3),
    ),
)


class Loop:
    """One event loop for all of a property's examples, so the app is built once."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)


@pytest.fixture
def slack_app(sqlite_url: str) -> Iterator[tuple[Loop, SlackHarness]]:
    loop = Loop()
    cm = running_slack(sqlite_url, FakeClock())
    harness = loop.run(cm.__aenter__())
    try:
        yield loop, harness
    finally:
        loop.run(harness.ctx.settle())
        loop.run(cm.__aexit__(None, None, None))
        loop.loop.close()


@pytest.fixture
def teams_app(sqlite_url: str) -> Iterator[tuple[Loop, Harness]]:
    loop = Loop()
    cm = running(sqlite_url)
    harness = loop.run(cm.__aenter__())
    try:
        yield loop, harness
    finally:
        loop.run(cm.__aexit__(None, None, None))
        loop.loop.close()


async def _slack_post(slack: SlackHarness, body: str, content_type: str) -> tuple[int, str]:
    resp = await slack.post(body, content_type=content_type, headers=sign(body))
    return resp.status, await resp.text()


def _assert_nothing_crashed(caplog: pytest.LogCaptureFixture) -> None:
    """A payload is refused up front or handled: never acknowledged and then crashing in the background."""
    crashes = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    caplog.clear()
    assert crashes == []


def _assert_answered(status: int, text: str, *, allowed: set[int]) -> None:
    assert status < 500, (status, text)
    assert status in allowed, (status, text)
    if status >= 400:
        assert text.strip(), "a refusal must say why"


@EXAMPLES
@given(data=slack_shapes)
def test_slack_interactivity_payloads_of_any_shape_never_500(
    slack_app: tuple[Loop, SlackHarness], caplog: pytest.LogCaptureFixture, data: object
) -> None:
    loop, slack = slack_app
    body = urlencode({"payload": json.dumps(data), "n": next(_nonce)})
    status, text = loop.run(_slack_post(slack, body, "application/x-www-form-urlencoded"))
    # 200: bolt took it (e.g. a well-formed click on a request that does not exist is told to the clicker);
    # 404: no listener for it; 400: unreadable; 403: from another workspace (or naming none).
    _assert_answered(status, text, allowed={200, 400, 403, 404})
    loop.run(slack.ctx.settle())
    _assert_nothing_crashed(caplog)


@EXAMPLES
@given(fields=st.dictionaries(st.text(max_size=15), st.text(max_size=40), max_size=8), raw=st.binary(max_size=60))
def test_slack_form_bodies_of_any_shape_never_500(
    slack_app: tuple[Loop, SlackHarness], caplog: pytest.LogCaptureFixture, fields: dict[str, str], raw: bytes
) -> None:
    loop, slack = slack_app
    for body in (
        urlencode({**fields, "n": next(_nonce)}),
        raw.decode("latin-1") + f"&n={next(_nonce)}",
        urlencode({**payload("slash_command.json"), **fields, "n": next(_nonce)}),
    ):
        status, text = loop.run(_slack_post(slack, body, "application/x-www-form-urlencoded"))
        _assert_answered(status, text, allowed={200, 400, 403, 404})
    loop.run(slack.ctx.settle())
    _assert_nothing_crashed(caplog)


@EXAMPLES
@given(data=json_values, raw=st.binary(max_size=40))
def test_slack_json_bodies_of_any_shape_never_500(
    slack_app: tuple[Loop, SlackHarness], caplog: pytest.LogCaptureFixture, data: Any, raw: bytes
) -> None:
    loop, slack = slack_app
    event = {**payload("app_home_opened.json"), "event_id": f"Ev{next(_nonce)}"}
    if isinstance(data, dict):
        event["event"] = data
    for body in (json.dumps(data) + " " * (next(_nonce) % 3), raw.decode("latin-1"), json.dumps(event)):
        status, text = loop.run(_slack_post(slack, body, "application/json"))
        # 401 only for the rare generated body that repeats an earlier one within the same second; 403 for
        # an event from another workspace (or naming none).
        _assert_answered(status, text, allowed={200, 400, 401, 403, 404})
    loop.run(slack.ctx.settle())
    _assert_nothing_crashed(caplog)


TEAMS_TYPES = ["message", "invoke", "conversationUpdate", "installationUpdate", "messageReaction", "event", "typing"]
TEAMS_KEYS = ["type", "name", "value", "text", "from", "recipient", "channelData", "replyToId", "entities", "id"]


def _activity(service_url: str, base: str, changes: dict[str, Any], drop: list[str]) -> dict[str, Any]:
    out = _mutate(load_payload(base, service_url), changes, drop)
    if isinstance(out.get("id"), str):
        out["id"] += f"-{next(_nonce)}"  # each example is new to the bot, not a retry it would skip
    return out


@EXAMPLES
@given(
    base=st.sampled_from(["message_personal", "message_channel_mention", "invoke_adaptive_card_action"]),
    changes=st.dictionaries(st.sampled_from(TEAMS_KEYS), json_values | st.sampled_from(TEAMS_TYPES), max_size=3),
    drop=st.lists(st.sampled_from([*TEAMS_KEYS, "conversation", "serviceUrl"]), max_size=2),
    junk=json_values,
)
def test_teams_activities_of_any_shape_never_500(
    teams_app: tuple[Loop, Harness], base: str, changes: dict[str, Any], drop: list[str], junk: Any
) -> None:
    loop, teams = teams_app

    async def go() -> list[tuple[int, str]]:
        out = []
        for body in (_activity(teams.connector.url, base, changes, drop), junk):
            resp = await teams.client.post(
                "/api/messages", data=json.dumps(body), headers={"Content-Type": "application/json"}
            )
            out.append((resp.status, await resp.text()))
        return out

    for status, text in loop.run(go()):
        _assert_answered(status, text, allowed={200, 201, 202, 400, 404})


def test_teams_body_over_1_mib_is_413(teams_app: tuple[Loop, Harness]) -> None:
    loop, teams = teams_app

    async def go() -> int:
        body = load_payload("message_personal", teams.connector.url, text="x" * (1024 * 1024 + 1))
        resp = await teams.client.post(
            "/api/messages", data=json.dumps(body), headers={"Content-Type": "application/json"}
        )
        return resp.status

    assert loop.run(go()) == 413
    assert loop.run(teams.service.list_requests()) == []
    assert teams.connector.calls == []


def test_an_invoke_the_bot_does_not_handle_is_400_with_a_reason(teams_app: tuple[Loop, Harness]) -> None:
    """botbuilder answers unknown invokes with 501; the route turns that into the sender's 4xx."""
    loop, teams = teams_app

    async def go() -> tuple[int, str]:
        body = load_payload("invoke_adaptive_card_action", teams.connector.url, id="f:unknown")
        body["name"] = "composeExtension/query"
        resp = await teams.client.post(
            "/api/messages", data=json.dumps(body), headers={"Content-Type": "application/json"}
        )
        return resp.status, (await resp.json())["error"]

    status, error = loop.run(go())
    assert status == 400 and "composeExtension/query" in error
