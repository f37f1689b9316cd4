"""The Slack app manifest, with the server's own URL filled in."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from adapters.settings import ConfigError

from .platform import EVENTS_PATH

MANIFEST = Path(__file__).with_name("manifest.yml")


def load_manifest() -> dict[str, Any]:
    return dict(yaml.safe_load(MANIFEST.read_text(encoding="utf-8")))


def render_manifest(base_url: str | None = None, *, socket_mode: bool = False) -> dict[str, Any]:
    """The manifest pointing at `base_url` (e.g. https://intake.example.com), or set up for Socket Mode."""
    manifest = copy.deepcopy(load_manifest())
    url: str | None = None
    if not socket_mode:
        if not base_url:
            raise ConfigError("Give the server's public URL, e.g. --url https://intake.example.com")
        parts = urlsplit(base_url)
        if parts.scheme != "https" or not parts.netloc:
            raise ConfigError(f"'{base_url}' is not an https:// URL; Slack only calls public https addresses.")
        url = base_url.rstrip("/") + EVENTS_PATH
    features, settings = manifest["features"], manifest["settings"]
    for command in features["slash_commands"]:
        _set_url(command, "url", url)
    _set_url(settings["event_subscriptions"], "request_url", url)
    _set_url(settings["interactivity"], "request_url", url)
    settings["socket_mode_enabled"] = socket_mode
    return manifest


def _set_url(d: dict[str, Any], key: str, url: str | None) -> None:
    if url is None:
        d.pop(key, None)
    else:
        d[key] = url


def manifest_yaml(base_url: str | None = None, *, socket_mode: bool = False) -> str:
    return yaml.safe_dump(render_manifest(base_url, socket_mode=socket_mode), sort_keys=False, allow_unicode=True)
