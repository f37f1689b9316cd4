"""What the Teams adapter keeps on the aiohttp app (never in module globals)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web


@dataclass
class TeamsState:
    adapter: Any  # botbuilder CloudAdapter
    bot: Any  # IntakeTeamsBot
    app_id: str
    keyring: Any = None  # signing_keys.Keyring: the Bot Framework's signing keys, fetched off the request path
    # How soon a notice that waits for a conversation (the bot not yet in the review channel) is tried again.
    waiting_retry: float = 15.0


TEAMS = web.AppKey("teams", TeamsState)
