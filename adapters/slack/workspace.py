"""The one Slack workspace this server serves, and refusing payloads from any other.

An app can be installed in several workspaces, all signing with the same secret, and a user id means
nothing outside its own workspace: `U0PM` in another workspace is someone else. So every payload names
its workspace (`team_id`, or `team.id` for clicks and forms) and only the configured one
(`SLACK_TEAM_ID`, else the one the bot token belongs to, as `auth.test` says at start) is served.
Payloads from any other are refused and recorded (see `refuse`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime
from typing import Any

from bot.errors import StorageUnavailable
from bot.ports import RefusalRecord, Refusals

log = logging.getLogger("intake.slack")

PLATFORM = "slack"
# Payloads that belong to no workspace: Slack's own checks of the request URL.
UNBOUND_TYPES = ("url_verification",)
LEARN_BACKOFF = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)  # seconds between auth.test attempts at start


def team_of(body: dict[str, Any]) -> str | None:
    """The workspace a payload comes from: `team_id` (commands, events), `team.id` (clicks, forms,
    shortcuts), else the acting user's `team_id`."""
    team = body.get("team_id")
    if isinstance(team, str) and team:
        return team
    team = body.get("team")
    if isinstance(team, dict) and isinstance(team.get("id"), str) and team["id"]:
        return str(team["id"])
    if isinstance(team, str) and team:
        return team
    user = body.get("user")
    if isinstance(user, dict) and isinstance(user.get("team_id"), str) and user["team_id"]:
        return str(user["team_id"])
    return None


def enterprise_of(body: dict[str, Any]) -> str | None:
    """The Enterprise Grid organisation a payload comes from, if any."""
    ent = body.get("enterprise_id")
    if isinstance(ent, str) and ent:
        return ent
    ent = body.get("enterprise")
    if isinstance(ent, dict) and isinstance(ent.get("id"), str) and ent["id"]:
        return str(ent["id"])
    return None


class Workspace:
    """The workspace served: configured, or learned from `auth.test` in the background at start."""

    def __init__(self, team_id: str | None) -> None:
        self.team_id = team_id.strip() if team_id and team_id.strip() else None
        self.configured = self.team_id is not None
        self._known: asyncio.Event | None = None
        self._learning: asyncio.Task[None] | None = None

    def start_learning(self, client: Any) -> None:
        """Ask `auth.test` in the background, until it answers (nothing to do when configured)."""
        if self.team_id is None and self._learning is None:
            self._learning = asyncio.create_task(self.learn(client), name="slack-auth.test")

    async def stop_learning(self) -> None:
        if self._learning is not None and not self._learning.done():
            self._learning.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._learning

    def _event(self) -> asyncio.Event:
        if self._known is None:
            self._known = asyncio.Event()
            if self.team_id is not None:
                self._known.set()
        return self._known

    def learned(self, team_id: str) -> None:
        self.team_id = team_id
        self._event().set()

    async def learn(self, client: Any) -> None:
        """Ask Slack which workspace the bot token belongs to, until it answers."""
        attempt = 0
        while self.team_id is None:
            try:
                resp = await client.auth_test()
                team = resp.get("team_id") or (resp.get("enterprise_id") if resp.get("is_enterprise_install") else None)
                if isinstance(team, str) and team:
                    self.learned(team)
                    log.info("slack: serving workspace %s (the bot token's, from auth.test)", team)
                    return
                log.warning("slack: auth.test named no workspace; asking again")
            except Exception as exc:  # Slack unreachable or refusing: keep asking, more slowly
                log.warning("slack: auth.test failed (%s); the workspace is not known yet", exc)
            await asyncio.sleep(LEARN_BACKOFF[min(attempt, len(LEARN_BACKOFF) - 1)])
            attempt += 1

    async def known(self, *, within: float) -> str | None:
        """The workspace served, waiting up to `within` seconds for `auth.test`; None if still unknown."""
        if self.team_id is None:
            try:
                await asyncio.wait_for(self._event().wait(), within)
            except TimeoutError:
                return None
        return self.team_id

    def allows(self, body: dict[str, Any]) -> bool | None:
        """True when the payload is from the workspace served (or belongs to none), False when from
        another, None while the workspace is not known yet."""
        if body.get("type") in UNBOUND_TYPES or body.get("ssl_check"):
            return True
        if self.team_id is None:
            return None
        # An organisation-wide install (Enterprise Grid) is pinned by its organisation's id.
        return self.team_id in (team_of(body), enterprise_of(body))


async def refuse(
    store: Refusals, body: dict[str, Any], *, at: datetime, user_id: str, what: str, served: str | None
) -> None:
    """Record a payload from another workspace (and log it once)."""
    origin = team_of(body) or ""
    log.warning(
        "slack: refused %s from workspace %s (user %s): this server serves %s", what, origin or "?", user_id, served
    )
    try:
        await store.record_refusal(
            RefusalRecord(
                at, PLATFORM, "other_workspace", origin, user_id, f"{what}; this server serves workspace {served}"
            )
        )
    except StorageUnavailable as exc:
        log.error("slack: could not record the refusal: %s", exc)
