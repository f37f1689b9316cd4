"""Packaging: the Slack app manifest is complete, minimal, and valid against Slack's official schema."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

from adapters.cli.main import cli
from adapters.settings import ConfigError
from adapters.slack import blocks as bk
from adapters.slack.handlers import HANDLERS
from adapters.slack.manifest import load_manifest, render_manifest
from tests.conftest import SHARED

SCHEMA = SHARED / "schemas" / "slack-app-manifest-1.0.0.json"


def validate(manifest: dict) -> None:
    if not SCHEMA.exists():
        pytest.skip(f"the official Slack manifest schema is not available at {SCHEMA}")
    import jsonschema

    jsonschema.Draft7Validator(json.loads(SCHEMA.read_text())).validate(manifest)


@pytest.mark.parametrize("socket_mode", [False, True], ids=["http", "socket-mode"])
def test_manifest_validates_against_the_official_schema(socket_mode: bool) -> None:
    validate(load_manifest())
    validate(render_manifest("https://intake.acme.example", socket_mode=socket_mode))


def test_manifest_declares_what_the_handlers_serve_and_no_more_scopes() -> None:
    m = load_manifest()
    commands = {c["command"] for c in m["features"]["slash_commands"]}
    assert commands == {ident for kind, ident, _ in HANDLERS if kind == "command"}
    (shortcut,) = m["features"]["shortcuts"]
    assert shortcut == {
        "name": "Record as client request",
        "type": "message",
        "callback_id": bk.RECORD_SHORTCUT,
        "description": shortcut["description"],
    }
    assert m["settings"]["event_subscriptions"]["bot_events"] == [
        ident for kind, ident, _ in HANDLERS if kind == "event"
    ]
    assert m["settings"]["interactivity"]["is_enabled"] is True
    assert m["features"]["app_home"]["home_tab_enabled"] is True
    assert set(m["oauth_config"]["scopes"]["bot"]) == {
        "commands",
        "chat:write",
        "im:write",
        "users:read",
        "users:read.email",
        "files:write",
        "channels:history",
        "groups:history",
        "im:history",
    }


def test_cli_prints_the_manifest_with_the_servers_url() -> None:
    result = CliRunner().invoke(cli, ["slack", "manifest", "--url", "https://intake.acme.example/"])
    assert result.exit_code == 0, result.output
    m = yaml.safe_load(result.output)
    urls = [c["url"] for c in m["features"]["slash_commands"]]
    urls += [m["settings"]["event_subscriptions"]["request_url"], m["settings"]["interactivity"]["request_url"]]
    assert set(urls) == {"https://intake.acme.example/slack/events"}
    validate(m)


def test_socket_mode_manifest_has_no_urls() -> None:
    m = render_manifest(socket_mode=True)
    assert m["settings"]["socket_mode_enabled"] is True
    assert "url" not in json.dumps(m["features"]["slash_commands"])
    assert "request_url" not in m["settings"]["interactivity"]


def test_manifest_refuses_a_non_https_url() -> None:
    with pytest.raises(ConfigError, match="https"):
        render_manifest("http://localhost:3000")
    result = CliRunner().invoke(cli, ["slack", "manifest"])
    assert result.exit_code == 2 and "--url" in result.output
