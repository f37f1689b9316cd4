"""The `/slack/events` route: signatures, malformed bodies, configuration, and a fast acknowledgement."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import pytest

from adapters.settings import ConfigError, Settings
from adapters.slack.platform import enabled
from tests.support.slack_harness import SECRET, SlackHarness, payload, sign


def command_body(slack: SlackHarness, text: str = "Please build native iOS and Android apps") -> str:
    fields = payload("slash_command.json")
    fields.update(text=text, response_url=slack.fake.response_url())
    return urlencode(fields)


FORM = "application/x-www-form-urlencoded"


async def test_a_signed_request_is_accepted(slack: SlackHarness) -> None:
    body = command_body(slack)
    resp = await slack.post(body, content_type=FORM, headers=sign(body))
    assert resp.status == 200


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(lambda body: sign(body, secret="not-the-secret"), id="forged"),
        pytest.param(lambda body: sign(body, timestamp=int(time.time()) - 600), id="expired"),
        pytest.param(lambda body: {}, id="unsigned"),
        pytest.param(lambda body: sign(body + "&text=changed"), id="tampered"),
    ],
)
async def test_bad_signatures_get_401_and_change_nothing(slack: SlackHarness, headers: object) -> None:
    body = command_body(slack)
    resp = await slack.post(body, content_type=FORM, headers=headers(body))  # type: ignore[operator]
    assert resp.status == 401
    await slack.settle()
    assert await slack.service.list_requests() == []
    assert slack.fake.calls == []


async def test_malformed_bodies_get_a_4xx_with_a_reason(slack: SlackHarness) -> None:
    body = "payload=%7Bnot+json"
    resp = await slack.post(body, content_type=FORM, headers=sign(body))
    assert 400 <= resp.status < 500
    resp = await slack.post("hello", content_type="text/plain", headers=sign("hello"))
    assert resp.status == 415 and "content type" in (await resp.json())["error"]
    for bad in ("payload=%5B1%2C2%5D", "payload=%22just+a+string%22"):
        resp = await slack.post(bad, content_type=FORM, headers=sign(bad))
        assert resp.status == 400 and "unreadable" in (await resp.json())["error"]
    resp = await slack.post("payload=%7Bnot+json", content_type=FORM, headers={})
    assert resp.status == 401
    unknown = json.dumps(
        {
            "type": "block_actions",
            "team": {"id": "T0ACME"},
            "user": {"id": "U1"},
            "actions": [{"action_id": "nope", "value": "x"}],
        }
    )
    body = "payload=" + unknown
    resp = await slack.post(body, content_type=FORM, headers=sign(body))
    assert resp.status == 404


async def test_health_endpoints_stay_up(slack: SlackHarness) -> None:
    assert (await slack.client.get("/healthz")).status == 200
    ready = await slack.client.get("/readyz")
    assert ready.status == 200 and "slack" in (await ready.json())["platforms"]


async def test_ack_is_fast_even_when_slack_is_slow(slack: SlackHarness) -> None:
    """The HTTP answer does not wait for users.info, the database or the response_url post."""
    await slack.command("/request", "warm up")  # the first request also runs auth.test
    await slack.settle()
    slack.fake.delay = 0.5  # every Web API call now takes half a second
    started = time.perf_counter()
    for _ in range(20):
        resp = await slack.command("/request", "Please build native iOS and Android apps")
        assert resp.status == 200
    per_request = (time.perf_counter() - started) / 20
    await slack.ctx.settle()  # the slow users.info calls run after the acks, all at once
    slack.fake.delay = 0
    await slack.settle()
    assert per_request < 0.1, per_request
    assert len(await slack.service.list_requests()) == 21


def test_slack_is_off_without_settings() -> None:
    assert enabled(Settings(_env_file=None)) is False  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("given", "missing"),
    [
        ({"slack_bot_token": "xoxb-1-2-abc"}, "SLACK_SIGNING_SECRET"),
        ({"slack_signing_secret": SECRET}, "SLACK_BOT_TOKEN"),
        ({"slack_app_token": "xapp-1-abc"}, "SLACK_BOT_TOKEN"),
        ({"slack_bot_token": "xapp-1-2-abc", "slack_signing_secret": SECRET}, "xoxb-"),
        ({"slack_bot_token": "changeme", "slack_signing_secret": SECRET}, "placeholder"),
        ({"slack_bot_token": "xoxb-1-2-abc", "slack_app_token": "xoxb-wrong"}, "xapp-"),
    ],
)
def test_a_partial_configuration_stops_the_start_naming_what_is_missing(given: dict[str, str], missing: str) -> None:
    with pytest.raises(ConfigError, match=missing):
        enabled(Settings(_env_file=None, **given))  # type: ignore[call-arg]


def test_socket_mode_needs_no_signing_secret() -> None:
    settings = Settings(_env_file=None, slack_bot_token="xoxb-1-2-abc", slack_app_token="xapp-1-abc")  # type: ignore[call-arg]
    assert enabled(settings) is True
