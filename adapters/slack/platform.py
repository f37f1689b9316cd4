"""Slack on the shared aiohttp app: `POST /slack/events` (commands, clicks, modals and events on one URL),
the Slack notice sink, and Socket Mode for teams that cannot expose a public URL.

Slack is on when SLACK_BOT_TOKEN or SLACK_SIGNING_SECRET is set; a partial set stops the start with a
message naming what is missing.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from adapters.settings import ConfigError, Settings
from adapters.web.bodies import loads
from adapters.web.keys import SINK_FACTORIES, Platform

from .context import SlackContext
from .handlers import REQUEST_COMMAND, after_request_accepted, register
from .intake import Accepted, accept_request
from .replay import first_sight, forget_old_signatures
from .shape import shape_problem
from .sink import SlackSink
from .translate import user_id_of
from .webapi import PacedWebClient, RateLimits
from .workspace import Workspace, refuse

log = logging.getLogger("intake.slack")

SLACK = web.AppKey("slack", SlackContext)
EVENTS_PATH = "/slack/events"
FORM_TYPES = ("application/x-www-form-urlencoded", "application/json")
LONGEST_API_TIMEOUT = 20  # seconds: SLACK_API_TIMEOUT's upper bound (a third of the outbox lease)
SIGNATURE_WINDOW = 5 * 60  # seconds a signed request stays acceptable
# What Slack sends as JSON: the Events API's envelopes (never commands or interactive payloads).
EVENTS_API_TYPES = ("event_callback", "url_verification", "app_rate_limited")
WORKSPACE_WAIT = 2.0  # seconds a payload waits for auth.test to name the workspace served


def enabled(settings: Settings) -> bool:
    """Slack is on when its settings are present; a partial set raises `ConfigError` naming what is missing."""
    token, secret, app_token = settings.slack_bot_token, settings.slack_signing_secret, settings.slack_app_token
    if not (token or secret or app_token):
        return False
    settings.check_secret("SLACK_BOT_TOKEN", token)
    settings.check_secret("SLACK_SIGNING_SECRET", secret)
    settings.check_secret("SLACK_APP_TOKEN", app_token)
    if not token:
        given = "SLACK_SIGNING_SECRET" if secret else "SLACK_APP_TOKEN"
        raise ConfigError(f"{given} is set but SLACK_BOT_TOKEN is missing: set the bot token (xoxb-…).")
    if not token.startswith("xoxb-"):
        raise ConfigError("SLACK_BOT_TOKEN must be the bot token, which starts with xoxb-.")
    if not secret and not app_token:
        raise ConfigError(
            "SLACK_BOT_TOKEN is set but SLACK_SIGNING_SECRET is missing: set the signing secret "
            "(or SLACK_APP_TOKEN to run with --socket-mode)."
        )
    if app_token and not app_token.startswith("xapp-"):
        raise ConfigError("SLACK_APP_TOKEN must be an app-level token, which starts with xapp-.")
    return True


class _TokenFromEnvironmentNote(logging.Filter):
    """Drop bolt's start-up note that `token` is unused: bolt reads SLACK_BOT_TOKEN from the environment
    even when given a client (ours carries that same token and the SLACK_API_URL), and says so on every start."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("As you gave `client` as well")


BOLT_LOG = logging.getLogger("intake.slack.bolt")
BOLT_LOG.addFilter(_TokenFromEnvironmentNote())


def build_clients(settings: Settings) -> tuple[PacedWebClient, PacedWebClient]:
    """The Web API clients: one for work someone waits on (the SDK repeats a call once when its
    connection breaks), one for the outbox (never repeats a call: see webapi.py). They share the
    rate-limit pauses Slack asks for."""
    limits = RateLimits()
    common: dict[str, Any] = {
        "token": settings.slack_bot_token,
        "base_url": settings.slack_api_url or AsyncWebClient.BASE_URL,
        "timeout": settings.slack_api_timeout,
        "limits": limits,
    }
    return PacedWebClient(**common), PacedWebClient(**common, retry_handlers=[])


def build_bolt(settings: Settings, client: AsyncWebClient) -> AsyncApp:
    """The bolt app. Listeners run inline (`process_before_response`): each acks first and hands slow
    work to a task, so the HTTP answer leaves as soon as the ack is made."""
    return AsyncApp(
        client=client,
        signing_secret=settings.slack_signing_secret or "",
        # `slack_events` checks every HTTP request's signature before bolt sees it; Socket Mode has none.
        request_verification_enabled=False,
        process_before_response=True,
        logger=BOLT_LOG,
    )


def mount(app: web.Application, settings: Settings) -> None:
    client, poster = build_clients(settings)
    bolt = build_bolt(settings, client)
    ctx = SlackContext(
        app=app, settings=settings, bolt=bolt, client=client, poster=poster, workspace=Workspace(settings.slack_team_id)
    )
    register(ctx, bolt)
    app[SLACK] = ctx
    if settings.slack_signing_secret:
        app.router.add_post(EVENTS_PATH, slack_events)
    app[SINK_FACTORIES].append(lambda a: SlackSink(a[SLACK]))
    app.on_startup.append(_open_http_session)
    app.on_startup.append(_learn_workspace)
    app.on_shutdown.append(_stop_learning)
    app.on_shutdown.append(ctx.shutdown)
    app.on_cleanup.append(_close_http_session)  # after the dispatcher (a cleanup context) has stopped


async def _open_http_session(app: web.Application) -> None:
    """One keep-alive HTTP session for every Web API call, instead of a new connection per call."""
    ctx = app[SLACK]
    timeout = aiohttp.ClientTimeout(total=ctx.settings.slack_api_timeout)
    ctx.client.session = aiohttp.ClientSession(timeout=timeout)
    ctx.poster.session = ctx.client.session


async def _learn_workspace(app: web.Application) -> None:
    """Without SLACK_TEAM_ID, ask Slack which workspace the bot token belongs to (in the background: the
    server answers meanwhile, and payloads wait for the answer before they are served)."""
    app[SLACK].workspace.start_learning(app[SLACK].client)


async def _stop_learning(app: web.Application) -> None:
    await app[SLACK].workspace.stop_learning()


async def _close_http_session(app: web.Application) -> None:
    session = app[SLACK].client.session
    if session is not None:
        await session.close()


async def slack_events(request: web.Request) -> web.StreamResponse:
    """Check the signature, read the body once, check where it comes from, and hand it to bolt (or, for
    `/request`, straight to its handler: see `request_command`). Whatever is wrong with a request, the
    answer is a 4xx with the reason, and one line in the log."""
    if request.content_type not in FORM_TYPES:
        return refused(415, f"unsupported content type {request.content_type}")
    ctx = request.app[SLACK]
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return refused(413, "the body is over 1 MiB")
    # Check the signature before reading the body, so an unsigned request learns nothing but 401. Bolt's
    # own check is off (see build_bolt): this one, with its five-minute window, is the only one.
    problem = signature_problem(ctx.settings.slack_signing_secret or "", raw, request.headers, now=time.time())
    if problem:
        return refused(401, "invalid or missing Slack signature", detail=problem)
    signature = request.headers["X-Slack-Signature"]
    forget_old_signatures(ctx)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return refused(400, "unreadable request body: it is not UTF-8")
    try:
        body = read_body(text, request.content_type)
        problem = shape_problem(body)
    except (ValueError, TypeError, AttributeError, KeyError) as exc:  # an unreadable body: say so, don't fail
        return refused(400, f"unreadable request body: {exc}")
    if problem:
        return refused(400, f"unreadable request body: {problem}")
    if request.content_type == "application/json" and body.get("type") not in EVENTS_API_TYPES:
        # Slack sends commands and interactive payloads as forms, never as JSON.
        return refused(400, "Slack sends only Events API payloads as JSON")
    allowed = await _from_served_workspace(ctx, body)
    if allowed is False:
        # Recorded once: a replay of it is only a replay.
        if not await first_sight(ctx, signature, is_retry=is_slack_retry(request.headers, body)):
            return _replayed()
        await refuse(
            ctx.store,
            body,
            at=ctx.service.clock.now(),
            user_id=user_id_of(body),
            what=_what(body),
            served=ctx.workspace.team_id,
        )
        return refused(403, "this server does not serve that Slack workspace")
    if body.get("command") == REQUEST_COMMAND:
        return await request_command(ctx, body, signature)
    if allowed is None:
        return refused(503, "the Slack workspace this server serves is not known yet; try again shortly")
    if not await first_sight(ctx, signature, is_retry=is_slack_retry(request.headers, body)):
        return _replayed()
    bolt_request = AsyncBoltRequest(body=text, query=request.query_string, headers=request.headers)  # type: ignore[arg-type]
    if bolt_request.body != body:
        # Bolt reads any form with the word "payload" in it as a JSON envelope (and finds none); give it
        # the fields as they were sent.
        bolt_request.body = body
        bolt_request.context = build_async_context(AsyncBoltContext({}), body)
    try:
        response = await ctx.bolt.async_dispatch(bolt_request)
    except Exception:  # the edge of the app: whatever went wrong, Slack gets an answer, not a 500
        log.exception("slack: dispatching a request failed")
        return web.json_response({"error": "the request could not be handled"}, status=400)
    if response.status >= 500:
        # Our listeners never raise; if bolt's own middleware did, Slack must still not see a 500.
        log.error("slack: bolt answered %s: %s", response.status, response.body)
        return web.json_response({"error": "the request could not be handled"}, status=400)
    return await to_aiohttp_response(response)


def refused(status: int, reason: str, *, detail: str | None = None) -> web.Response:
    """A refusal: the status and the reason, and one line in the log."""
    log.info("slack: refused a request (%d): %s", status, detail or reason)
    return web.json_response({"error": reason}, status=status)


def signature_problem(secret: str, raw: bytes, headers: Mapping[str, str], *, now: float) -> str | None:
    """What is wrong with a request's Slack signature (`v0=` + HMAC-SHA256 of `v0:{timestamp}:{body}`,
    the timestamp within five minutes of now), or None when it is Slack's. Reads the body as bytes:
    a body that is not UTF-8 is judged by its signature like any other."""
    timestamp = headers.get("X-Slack-Request-Timestamp")
    signature = headers.get("X-Slack-Signature")
    if not timestamp or not signature:
        return "no X-Slack-Request-Timestamp or X-Slack-Signature"
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return "the timestamp is not a number of seconds"
    if abs(now - int(timestamp)) > SIGNATURE_WINDOW:
        return "the timestamp is more than five minutes off"
    if not secret:
        return "no signing secret is configured"
    mac = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + raw, hashlib.sha256)
    if not hmac.compare_digest("v0=" + mac.hexdigest(), signature):
        return "the signature does not match"
    return None


def is_slack_retry(headers: Mapping[str, str], body: dict[str, Any]) -> bool:
    """Whether a request is one Slack itself sends again: an Events API delivery (only those are ever
    retried) with a retry number Slack uses (1 to 3). Any other request with the headers is a replay."""
    num = headers.get("X-Slack-Retry-Num", "")
    return body.get("type") == "event_callback" and num in ("1", "2", "3")


async def _from_served_workspace(ctx: SlackContext, body: dict[str, Any]) -> bool | None:
    """Whether `body` comes from the workspace served: False when from another; None while that
    workspace is not known yet (`auth.test` has not answered)."""
    allowed = ctx.workspace.allows(body)
    if allowed is None and body.get("command") != REQUEST_COMMAND:
        # Anything but `/request` needs Slack's API anyway: wait briefly for it to say who we are.
        await ctx.workspace.known(within=WORKSPACE_WAIT)
        allowed = ctx.workspace.allows(body)
    return allowed


def _what(body: dict[str, Any]) -> str:
    if body.get("command"):
        return f"the command {body['command']}"
    kind = str(body.get("type") or "payload")
    if kind == "event_callback":
        return f"the event {(body.get('event') or {}).get('type')}"
    return f"a {kind} payload"


def read_body(text: str, content_type: str) -> dict[str, Any]:
    """The fields of a Slack request: a JSON object (events), a form whose `payload` field holds a JSON
    object (clicks, form submissions, shortcuts), or a plain form (slash commands)."""
    if content_type == "application/json":
        body = loads(text) if text else {}
    else:
        fields = dict(parse_qsl(text, keep_blank_values=True))
        body = loads(fields["payload"]) if "payload" in fields and "command" not in fields else fields
    if not isinstance(body, dict):
        raise ValueError("the payload is not a JSON object")
    return body


async def request_command(ctx: SlackContext, body: dict[str, Any], signature: str) -> web.StreamResponse:
    """`/request`, the one payload that comes in bursts, goes straight to its handler.

    Bolt would add nothing here that has not been done: the signature and its age are checked above,
    the body is read and its shape checked, and the handler needs neither bolt's per-request context
    (a new Web API client for every request) nor its argument injection, which together cost more than
    the acknowledgement's own database write. Socket Mode reaches the same `accept_request` through bolt.
    """
    try:
        accepted = await accept_request(ctx, body, signature=signature)
    except Exception:  # the edge of the app: Slack gets an answer, not a 500, and the user is told
        log.exception("slack: accepting /request failed")
        accepted = Accepted.FAILED
    if accepted is Accepted.REPLAY:
        return _replayed()
    after_request_accepted(ctx, body, accepted)
    return web.Response(status=200, body=b"")  # what bolt answers to an empty ack


def _replayed() -> web.Response:
    return web.json_response({"error": "this signed request was already received (a replay)"}, status=401)


async def start_socket_mode(app: web.Application) -> Any:
    """Connect the same handlers over Socket Mode. Returns the handler; `await handler.close_async()` stops it."""
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    settings = app[SLACK].settings
    if not settings.slack_app_token:
        raise ConfigError("--socket-mode needs SLACK_APP_TOKEN (an app-level token with connections:write).")
    handler = AsyncSocketModeHandler(app[SLACK].bolt, settings.slack_app_token)
    await handler.connect_async()
    return handler


PLATFORM = Platform(name="slack", enabled=enabled, mount=mount)
