"""Slack on the shared aiohttp app: `POST /slack/events` (commands, clicks, modals and events on one URL),
the Slack notice sink, and Socket Mode for teams that cannot expose a public URL.

Slack is on when SLACK_BOT_TOKEN or SLACK_SIGNING_SECRET is set; a partial set stops the start with a
message naming what is missing.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from adapters.settings import ConfigError, Settings
from adapters.web.keys import SINK_FACTORIES, Platform

from .context import SlackContext
from .handlers import REQUEST_COMMAND, after_request_accepted, register
from .intake import Accepted, accept_request
from .replay import first_sight, forget_old_signatures
from .shape import shape_problem
from .sink import SlackSink

log = logging.getLogger("intake.slack")

SLACK = web.AppKey("slack", SlackContext)
EVENTS_PATH = "/slack/events"
API_TIMEOUT = 10  # seconds per Web API call; the outbox retries what times out
FORM_TYPES = ("application/x-www-form-urlencoded", "application/json")


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


def build_bolt(settings: Settings) -> AsyncApp:
    """The bolt app. Listeners run inline (`process_before_response`): each acks first and hands slow
    work to a task, so the HTTP answer leaves as soon as the ack is made."""
    client = AsyncWebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url or AsyncWebClient.BASE_URL,
        timeout=API_TIMEOUT,
    )
    return AsyncApp(
        client=client,
        signing_secret=settings.slack_signing_secret or "",
        # `slack_events` checks every HTTP request's signature before bolt sees it; Socket Mode has none.
        request_verification_enabled=False,
        process_before_response=True,
        logger=BOLT_LOG,
    )


def mount(app: web.Application, settings: Settings) -> None:
    bolt = build_bolt(settings)
    ctx = SlackContext(app=app, settings=settings, bolt=bolt, client=bolt.client)
    register(ctx, bolt)
    app[SLACK] = ctx
    if settings.slack_signing_secret:
        app.router.add_post(EVENTS_PATH, slack_events)
    app[SINK_FACTORIES].append(lambda a: SlackSink(a[SLACK]))
    app.on_startup.append(_open_http_session)
    app.on_shutdown.append(ctx.shutdown)
    app.on_cleanup.append(_close_http_session)  # after the dispatcher (a cleanup context) has stopped


async def _open_http_session(app: web.Application) -> None:
    """One keep-alive HTTP session for every Web API call, instead of a new connection per call."""
    app[SLACK].client.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=API_TIMEOUT))


async def _close_http_session(app: web.Application) -> None:
    session = app[SLACK].client.session
    if session is not None:
        await session.close()


async def slack_events(request: web.Request) -> web.StreamResponse:
    """Check the signature, read the body once, and hand it to bolt (or, for `/request`, straight to its
    handler: see `request_command`)."""
    if request.content_type not in FORM_TYPES:
        return web.json_response({"error": f"unsupported content type {request.content_type}"}, status=415)
    ctx = request.app[SLACK]
    raw = await request.read()
    # Check the signature before reading the body, so an unsigned request learns nothing but 401. Bolt's
    # own check is off (see build_bolt): this one, with its five-minute window, is the only one.
    verifier = SignatureVerifier(ctx.settings.slack_signing_secret or "")
    if not verifier.is_valid_request(raw, dict(request.headers)):
        return web.json_response({"error": "invalid or missing Slack signature"}, status=401)
    signature = request.headers["X-Slack-Signature"]
    forget_old_signatures(ctx)
    try:
        text = raw.decode("utf-8")
        body = read_body(text, request.content_type)
        problem = shape_problem(body)
        if problem:
            raise ValueError(problem)
    except (ValueError, TypeError, AttributeError, KeyError) as exc:  # an unreadable body: say so, don't fail
        return web.json_response({"error": f"unreadable request body: {exc}"}, status=400)
    if body.get("command") == REQUEST_COMMAND:
        return await request_command(ctx, body, signature)
    # Only Events API deliveries (JSON) are retried by Slack; commands and clicks (forms) never are.
    is_retry = "X-Slack-Retry-Num" in request.headers and request.content_type == "application/json"
    if not await first_sight(ctx, signature, is_retry=is_retry):
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


def read_body(text: str, content_type: str) -> dict[str, Any]:
    """The fields of a Slack request: a JSON object (events), a form whose `payload` field holds a JSON
    object (clicks, form submissions, shortcuts), or a plain form (slash commands)."""
    if content_type == "application/json":
        body = json.loads(text) if text else {}
    else:
        fields = dict(parse_qsl(text, keep_blank_values=True))
        body = json.loads(fields["payload"]) if "payload" in fields and "command" not in fields else fields
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
