"""`intake serve --socket-mode`: the same handlers over a Socket Mode connection (here to the fake's websocket)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest

from adapters.settings import ConfigError
from adapters.slack.platform import start_socket_mode
from tests.support.slack_harness import MEMBER_ID, SlackHarness, payload


async def wait_for(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(5):
        while not condition():  # noqa: ASYNC110 - polls state the fake server changes; no event to wait on
            await asyncio.sleep(0.01)


async def test_socket_mode_runs_the_same_request_flow(slack: SlackHarness) -> None:
    slack.ctx.settings = slack.ctx.settings.model_copy(update={"slack_app_token": "xapp-1-A0INTAKE-123-abc"})
    handler = await start_socket_mode(slack.app)
    try:
        await wait_for(lambda: slack.fake.socket_connected)
        command = payload("slash_command.json")
        command.update(
            text="Please build native iOS and Android apps",
            user_id=MEMBER_ID,
            response_url=slack.fake.response_url("socket"),
        )
        await slack.fake.send_envelope(
            {"envelope_id": "env-1", "type": "slash_commands", "accepts_response_payload": True, "payload": command}
        )
        await wait_for(lambda: any(a.get("envelope_id") == "env-1" for a in slack.fake.socket_acks))
        await wait_for(lambda: bool(slack.ctx.tasks) or bool(slack.fake.responses))
        await slack.settle()
    finally:
        await handler.close_async()
    assert slack.fake.calls_to("apps.connections.open")
    assert slack.fake.responses[-1]["text"].startswith("Recorded ACME-1")
    assert len(slack.posted("C0REVIEW")) == 1


async def test_socket_mode_events_are_deduplicated_too(slack: SlackHarness) -> None:
    slack.ctx.settings = slack.ctx.settings.model_copy(update={"slack_app_token": "xapp-1-A0INTAKE-123-abc"})
    handler = await start_socket_mode(slack.app)
    try:
        await wait_for(lambda: slack.fake.socket_connected)
        event = payload("app_home_opened.json")
        for n in (1, 2):
            await slack.fake.send_envelope(
                {
                    "envelope_id": f"env-{n}",
                    "type": "events_api",
                    "accepts_response_payload": False,
                    "retry_attempt": n - 1,
                    "retry_reason": "",
                    "payload": event,
                }
            )
        await wait_for(lambda: len(slack.fake.socket_acks) >= 2)
        await slack.settle()
    finally:
        await handler.close_async()
    assert len(slack.fake.calls_to("views.publish")) == 1
    assert json.dumps(slack.fake.socket_acks)


async def test_socket_mode_needs_an_app_token(slack: SlackHarness) -> None:
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN"):
        await start_socket_mode(slack.app)


def test_serve_socket_mode_without_slack_settings_stops_with_a_clear_message(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from adapters.cli.main import cli

    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(cli, ["--database-url", sqlite_url, "serve", "--port", "0", "--socket-mode"])
    assert result.exit_code == 2
    assert "--socket-mode needs Slack" in result.output
