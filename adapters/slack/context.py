"""The Slack side's resources, held on the aiohttp app (never in module globals): the bolt app, the Web API
client, the background tasks started after an ack, a short-lived cache of who users are, and the
language each person reads.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.identity import email_for
from adapters.settings import Settings
from adapters.web.keys import PACER, RUNTIME, wake_dispatcher
from adapters.web.pace import Pacer
from bot.domain import Actor, Language, Notice, Project
from bot.ports import AckLog, ServerStore
from bot.service import IntakeService
from bot.text import from_locale

from .blocks import FALLBACK_LIMIT, cut, notification_text
from .translate import actor_from_user
from .workspace import Workspace

if TYPE_CHECKING:
    from .intake import CommandRecorder

log = logging.getLogger("intake.slack")

USER_CACHE_SECONDS = 300.0
# What a Web API call can raise when Slack refuses, fails or cannot be reached.
SLACK_FAILURES = (SlackClientError, aiohttp.ClientError, OSError, TimeoutError)


@dataclass
class SlackContext:
    app: web.Application
    settings: Settings
    bolt: AsyncApp
    client: AsyncWebClient  # for work done while someone waits (answers, forms, look-ups)
    poster: AsyncWebClient  # for the outbox: never repeats a call by itself (see webapi.py)
    workspace: Workspace
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    users: dict[str, tuple[float, Actor]] = field(default_factory=dict)
    replay_pruned_at: datetime | None = None  # when old replay-guard keys were last cleared (see replay.py)
    lookups: dict[str, asyncio.Task[Actor]] = field(default_factory=dict)  # users.info calls under way
    recorder: CommandRecorder = field(init=False)  # accepted `/request`s, recorded in ack order (intake.py)
    by_email: dict[str, tuple[float, str]] = field(default_factory=dict)  # e-mail → (when, Slack user id)

    def __post_init__(self) -> None:
        from .intake import CommandRecorder  # intake.py builds on this module

        self.recorder = CommandRecorder(self)

    @property
    def service(self) -> IntakeService:
        return self.app[RUNTIME].service

    @property
    def store(self) -> ServerStore:
        return self.app[RUNTIME].store

    @property
    def acks(self) -> AckLog:
        return self.app[RUNTIME].store

    # --- background work after the ack ---------------------------------------------------------

    def pacer(self) -> Pacer:
        return self.app[PACER]

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str = "slack") -> asyncio.Task[Any]:
        """Run slow work after Slack has its acknowledgement; errors are logged, never lost silently."""
        task = asyncio.create_task(coro, name=name)
        self.tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("slack: background work %s failed", task.get_name(), exc_info=task.exception())

    async def settle(self) -> None:
        """Wait until every background task (and any task they started) has finished."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    async def shutdown(self, app: web.Application) -> None:
        try:
            await asyncio.wait_for(self.settle(), timeout=10)
        except TimeoutError:
            for task in list(self.tasks):
                task.cancel()

    def wake(self) -> None:
        wake_dispatcher(self.app)

    # --- people ---------------------------------------------------------------------------------

    async def actor(self, user_id: str) -> Actor:
        """Who a Slack user is, with their profile e-mail (so e-mail PMs in the project file match).
        One users.info call per user at a time: callers asking while it is under way share its answer."""
        return await asyncio.shield(self.prefetch_actor(user_id))

    def prefetch_actor(self, user_id: str) -> asyncio.Future[Actor]:
        """Who `user_id` is, as a future: already there when cached, else the one lookup under way for
        them (started now if there is none). Costs no task of its own, however many requests wait."""
        hit = self.users.get(user_id)
        if hit and time.monotonic() - hit[0] < USER_CACHE_SECONDS:
            done: asyncio.Future[Actor] = asyncio.get_running_loop().create_future()
            done.set_result(hit[1])
            return done
        task = self.lookups.get(user_id)
        if task is None:
            task = self.lookups[user_id] = asyncio.create_task(self._look_up(user_id), name="users.info")
            self.tasks.add(task)  # waited for at shutdown like the rest of the background work
            task.add_done_callback(self._lookup_done(user_id))
        return task

    def _lookup_done(self, user_id: str) -> Callable[[asyncio.Task[Actor]], None]:
        def done(task: asyncio.Task[Actor]) -> None:
            self.lookups.pop(user_id, None)
            self._done(task)

        return done

    async def _look_up(self, user_id: str) -> Actor:
        now = time.monotonic()
        try:
            resp = await self.client.users_info(user=user_id, include_locale=True)
            actor = actor_from_user(user_id, resp.get("user"))
        except SLACK_FAILURES as exc:
            log.warning("slack: users.info for %s failed (%s); deciding on the user id alone", user_id, exc)
            return actor_from_user(user_id)
        if actor.email:
            # The address counts only for the account it was first seen with.
            own = await email_for(
                self.store,
                self.store,
                platform="slack",
                email=actor.email,
                account=user_id,
                at=self.service.clock.now(),
            )
            if own != actor.email:
                actor = replace(actor, email=own)
        self.users[user_id] = (now, actor)
        return actor

    async def language(
        self, actor: Actor | None, project: Project | None = None, *, house: Language | None = None
    ) -> Language:
        """The language to write to `actor` in: their own Slack language, else the project's team
        language, else the language the teams of every loaded project share (`house`, when the caller has
        read it already)."""
        own = from_locale(actor.locale) if actor is not None else None
        if own is not None:
            return own
        if project is not None:
            return project.chat_language
        return house if house is not None else await self.service.house_language()

    # --- talking back ---------------------------------------------------------------------------

    async def respond(self, response_url: str, *, text: str, blocks: Any = None, mrkdwn: bool = False) -> None:
        """Answer a slash command privately through its response_url. `text` is plain text: it is escaped
        here, so nothing in it can mention anyone or make a link; with `mrkdwn`, it is mrkdwn already made by
        `blocks` (people's words escaped there, our own mentions kept) and is only cut to Slack's limit."""
        text = cut(text, FALLBACK_LIMIT) if mrkdwn else notification_text(text)
        try:
            # The app's keep-alive session: a new connection per receipt cost more than the receipt itself.
            resp = await AsyncWebhookClient(response_url, timeout=10, session=self.client.session).send(
                text=text, blocks=blocks, response_type="ephemeral"
            )
            if resp.status_code >= 300:
                log.warning("slack: response_url answered %s: %s", resp.status_code, resp.body)
        except (OSError, TimeoutError) as exc:
            log.warning("slack: could not answer through response_url: %s", exc)

    async def tell(self, user_id: str, text: str, *, channel: str | None = None, blocks: Any = None) -> None:
        """Tell one person something only they see: an ephemeral message in `channel`, else a DM. `text` is
        plain text: it is escaped here, so nothing in it can mention anyone or make a link."""
        text = notification_text(text)
        try:
            if channel and not channel.startswith("D"):
                await self.client.chat_postEphemeral(channel=channel, user=user_id, text=text, blocks=blocks)
                return
        except SlackApiError as exc:
            log.info(
                "slack: ephemeral message in %s failed (%s); sending a DM instead", channel, exc.response.get("error")
            )
        try:
            dm = await self.open_dm(user_id)
            await self.client.chat_postMessage(channel=dm, text=text, blocks=blocks)
        except SLACK_FAILURES as exc:
            log.error("slack: could not tell %s: %s", user_id, exc)

    async def user_by_email(self, email: str) -> str:
        """The Slack user id of the person with this e-mail (`users.lookupByEmail`; remembered a while).
        Raises the Web API's error, `users_not_found` when nobody has it."""
        key = email.lower()
        hit = self.by_email.get(key)
        if hit and time.monotonic() - hit[0] < USER_CACHE_SECONDS:
            return hit[1]
        resp = await self.client.users_lookupByEmail(email=key)
        user_id = str(resp["user"]["id"])
        self.by_email[key] = (time.monotonic(), user_id)
        return user_id

    async def open_dm(self, user_id: str) -> str:
        resp = await self.client.conversations_open(users=user_id)
        return str(resp["channel"]["id"])

    async def queue(self, notice: Notice) -> None:
        """Queue a notice of the Slack adapter's own (e.g. refreshing the letter DM) through the outbox."""
        async with self.store.transaction() as tx:
            await tx.add_notice(notice, available_at=self.service.clock.now())
        self.wake()

    def can_send_email(self) -> bool:
        """Whether the letter DM offers "Send email": this server sends mail (SMTP_URL is set)."""
        from adapters.email.platform import email_for

        return email_for(self.app) is not None
