"""Every malformed request is a 4xx with a reason and one line in the log: never a 500, never a traceback,
whether it is refused before authentication or after."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import ClientResponse

from tests.support.slack_harness import SECRET, SlackHarness, payload, sign
from tests.support.teams import Harness, load_payload, running

FORM = "application/x-www-form-urlencoded"
DEEP = "[" * 100_000 + "]" * 100_000


def signed_bytes(body: bytes, *, timestamp: str | None = None) -> dict[str, str]:
    """Slack's signature over raw bytes (which need not be UTF-8)."""
    ts = str(int(time.time())) if timestamp is None else timestamp
    mac = hmac.new(SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": "v0=" + mac}


def nested(levels: int) -> Any:
    value: Any = "deep"
    for _ in range(levels):
        value = {"a": [value]}
    return value


async def refused_once(
    caplog: pytest.LogCaptureFixture, send: Callable[[], Awaitable[ClientResponse]], status: int
) -> dict[str, Any]:
    """Send one request: it gets `status` with a reason, and leaves exactly one log line (no traceback)."""
    caplog.clear()
    with caplog.at_level(logging.INFO):
        resp = await send()
        answer = await resp.json()
    assert resp.status == status, answer
    assert isinstance(answer.get("error"), str) and answer["error"]
    ours = [r for r in caplog.records if r.name.startswith("intake")]
    assert len(ours) == 1, [r.getMessage() for r in ours]
    assert all(r.exc_info is None and r.levelno < logging.ERROR for r in caplog.records), [
        r.getMessage() for r in caplog.records
    ]
    return dict(answer)


# --- Slack --------------------------------------------------------------------------------------


async def test_slack_bodies_that_cannot_be_read_are_4xx_before_and_after_the_signature(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture
) -> None:
    client = slack.client
    latin = "text=caf\xe9&command=/request".encode("latin-1")

    def post(body: bytes, headers: dict[str, str], content_type: str = FORM) -> Callable[[], Awaitable[Any]]:
        return lambda: client.post("/slack/events", data=body, headers={"Content-Type": content_type, **headers})

    # Not UTF-8: unsigned, it is refused for its signature; signed, for its encoding.
    await refused_once(caplog, post(latin, {}), 401)
    assert "UTF-8" in (await refused_once(caplog, post(latin, signed_bytes(latin)), 400))["error"]
    # A timestamp that is not a number of seconds.
    for ts in ("soon", "1.5e9", "", "٣٣٣", "9" * 40):
        await refused_once(caplog, post(b"command=/scope", signed_bytes(b"command=/scope", timestamp=ts)), 401)
    # JSON nested 100,000 levels deep, unsigned and signed, as an event and as an interactive payload.
    deep = DEEP.encode()
    await refused_once(caplog, post(deep, {}, "application/json"), 401)
    assert "nested" in (await refused_once(caplog, post(deep, signed_bytes(deep), "application/json"), 400))["error"]
    form = b"payload=" + deep
    assert "nested" in (await refused_once(caplog, post(form, signed_bytes(form)), 400))["error"]
    # Deep enough to parse, too deep for anything to walk safely.
    event = {**payload("app_home_opened.json"), "event": {"type": "app_home_opened", "user": "U0SAM", **nested(200)}}
    body = json.dumps(event)
    await refused_once(caplog, lambda: slack.post(body, content_type="application/json", headers=sign(body)), 400)
    await slack.settle()
    assert slack.fake.calls == [] and await slack.service.list_requests() == []


# --- Teams --------------------------------------------------------------------------------------


@pytest.fixture
async def teams(sqlite_url: str) -> AsyncIterator[Harness]:
    async with running(sqlite_url) as h:
        yield h


async def test_teams_bodies_that_cannot_be_read_are_4xx(teams: Harness, caplog: pytest.LogCaptureFixture) -> None:
    def post(body: bytes) -> Callable[[], Awaitable[Any]]:
        return lambda: teams.client.post("/api/messages", data=body, headers={"Content-Type": "application/json"})

    assert "nested" in (await refused_once(caplog, post(DEEP.encode()), 400))["error"]
    activity = load_payload("message_personal", teams.connector.url, id="deep-1")
    activity["value"] = nested(300)
    assert "nested" in (await refused_once(caplog, post(json.dumps(activity).encode()), 400))["error"]
    activity["channelData"] = nested(400)
    await refused_once(caplog, post(json.dumps(activity).encode()), 400)
    await refused_once(caplog, post('{"type": "message", "text": "caf\xe9"}'.encode("latin-1")), 400)
    await refused_once(caplog, post(b"\xff\xfe{}"), 400)
    assert teams.connector.calls == []


async def test_a_request_aiohttp_cannot_parse_is_400_in_one_line(
    teams: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.clear()
    with caplog.at_level(logging.INFO):
        resp = await teams.client.post("/api/messages", data=b"{}", headers={"Authorization": "Bearer " + "a" * 9000})
    assert resp.status == 400
    logged = [r for r in caplog.records if r.name != "aiohttp.access"]  # the test server's access log
    assert [r.getMessage()[:40] for r in logged] == ["refused a malformed HTTP request (400): "]
    assert all(r.exc_info is None and r.levelno < logging.ERROR for r in caplog.records)
