"""Slack on the shared aiohttp app: `POST /slack/events` (commands, clicks, modals and events on one URL),
the Slack notice sink, and Socket Mode for teams that cannot expose a public URL.

Slack is on when SLACK_BOT_TOKEN or SLACK_SIGNING_SECRET is set; a partial set stops the start with a
message naming what is missing.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from adapters.settings import ConfigError, Settings
from adapters.web.app import SINK_FACTORIES, Platform

from .context import SlackContext
from .handlers import REQUEST_COMMAND, record_next, register
from .replay import defer_claim, end_deferral, first_sight
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
        request_verification_enabled=bool(settings.slack_signing_secret),
        process_before_response=True,
        logger=BOLT_LOG,
    )


def mount(app: web.Application, settings: Settings) -> None:
    bolt = build_bolt(settings)
    ctx = SlackContext(app=app, settings=settings, bolt=bolt, client=bolt.client)
    register(ctx, bolt)
    ctx.recorder.record = record_next
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
    """Convert the request for bolt, dispatch it, convert the answer back."""
    if request.content_type not in FORM_TYPES:
        return web.json_response({"error": f"unsupported content type {request.content_type}"}, status=415)
    ctx = request.app[SLACK]
    bolt = ctx.bolt
    # Check the signature before reading the body, so an unsigned request learns nothing but 401.
    verifier = SignatureVerifier(ctx.settings.slack_signing_secret or "")
    if not verifier.is_valid_request(await request.read(), dict(request.headers)):
        return web.json_response({"error": "invalid or missing Slack signature"}, status=401)
    signature = request.headers["X-Slack-Signature"]
    try:
        bolt_request = await to_bolt_request(request)
        if not isinstance(bolt_request.body, dict):
            raise ValueError("the payload is not a JSON object")
        problem = shape_problem(bolt_request.body)
        if problem:
            raise ValueError(problem)
    except (ValueError, TypeError, AttributeError, KeyError) as exc:  # an unreadable body: say so, don't fail
        return web.json_response({"error": f"unreadable request body: {exc}"}, status=400)
    claim, token = None, None
    if bolt_request.body.get("command") == REQUEST_COMMAND:
        # `/request` claims its signature in the write it makes before acking (see replay.py).
        claim, token = defer_claim(signature)
    else:
        # Only Events API deliveries (JSON) are retried by Slack; commands and clicks (forms) never are.
        is_retry = "X-Slack-Retry-Num" in request.headers and request.content_type == "application/json"
        if not await first_sight(ctx, signature, is_retry=is_retry):
            return _replayed()
    try:
        response = await bolt.async_dispatch(bolt_request)
    except Exception:  # the edge of the app: whatever went wrong, Slack gets an answer, not a 500
        log.exception("slack: dispatching a request failed")
        return web.json_response({"error": "the request could not be handled"}, status=400)
    finally:
        if token is not None:
            end_deferral(token)
    if claim is not None and claim.replay:
        return _replayed()
    if response.status >= 500:
        # Our listeners never raise; if bolt's own middleware did, Slack must still not see a 500.
        log.error("slack: bolt answered %s: %s", response.status, response.body)
        return web.json_response({"error": "the request could not be handled"}, status=400)
    return await to_aiohttp_response(response)


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
