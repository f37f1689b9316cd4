"""Plug Teams into the shared server: `POST /api/messages`, the letter download route, and the sink.

The route is our own rather than `CloudAdapter.process`: in botbuilder-integration-aiohttp 4.17.1 that
method answers every invoke with a body (`adaptiveCard/action`) with 500, and a malformed
`Authorization` header with 500 instead of 401. Here authentication runs first and any failure of it
is a 401; the Activity is processed with `process_activity`; an invoke's body is serialized whether
it is an msrest model or plain data.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from aiohttp import web
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity
from botframework.connector.auth import ConnectorFactory
from msrest.exceptions import DeserializationError
from msrest.serialization import Model

from adapters.settings import ConfigError, Settings
from adapters.web.bodies import Unreadable, loads
from adapters.web.keys import RUNTIME, SETTINGS, SINK_FACTORIES, Platform, wake_dispatcher
from bot.errors import StorageUnavailable
from bot.ports import RefusalRecord

from .bot import IntakeTeamsBot
from .download import ROUTE, serve_letter
from .signing_keys import CURRENT, Keyring, KeysUnavailable, token_problem
from .signing_keys import install as install_signing_keys
from .sink import TeamsSink
from .state import TEAMS, TeamsState

log = logging.getLogger("intake.teams")

JSON_TYPES = ("application/json",)
# Seconds per connector call. The SDK's default is 100 s, longer than the outbox lease (60 s): a hung
# post would outlive its lease (another worker could post it too) and hold one of the few executor
# threads the SDK's blocking HTTP client runs in. Shorter, a hang becomes a retry.
CONNECTOR_TIMEOUT = 15.0


def enabled(settings: Settings) -> bool:
    """Teams is on with MICROSOFT_APP_ID, or in local-emulator mode (INTAKE_TEAMS_EMULATOR=1, no app id)."""
    if settings.microsoft_app_id:
        settings.check_secret("INTAKE_SECRET_KEY", settings.secret_key)
        settings.check_secret("MICROSOFT_APP_ID", settings.microsoft_app_id)
        if settings.microsoft_app_type != "UserAssignedMSI" and not settings.microsoft_app_password:
            raise ConfigError(
                "MICROSOFT_APP_ID is set but MICROSOFT_APP_PASSWORD is not: set the bot's client secret "
                "(or MICROSOFT_APP_TYPE=UserAssignedMSI for a managed identity)."
            )
        settings.check_secret("MICROSOFT_APP_PASSWORD", settings.microsoft_app_password)
        if settings.microsoft_app_type != "MultiTenant" and not settings.microsoft_app_tenant_id:
            raise ConfigError(f"MICROSOFT_APP_TYPE={settings.microsoft_app_type} needs MICROSOFT_APP_TENANT_ID.")
        if not settings.teams_tenants:
            raise ConfigError(
                "MICROSOFT_APP_ID is set but no tenant is: set MICROSOFT_APP_TENANT_ID to your Microsoft 365 "
                "tenant (and MICROSOFT_ALLOWED_TENANTS to any other whose people may use the bot), so people of "
                "other tenants are refused."
            )
        return True
    if settings.teams_emulator:
        if settings.is_production:
            raise ConfigError(
                "INTAKE_TEAMS_EMULATOR=1 turns authentication off and is refused with INTAKE_ENV=production: "
                "set MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD instead."
            )
        settings.check_secret("INTAKE_SECRET_KEY", settings.secret_key)
        return True
    return False


class AuthConfig:
    """The configuration object ConfigurationBotFrameworkAuthentication reads its keys from."""

    def __init__(self, settings: Settings, **overrides: Any) -> None:
        self.APP_ID = settings.microsoft_app_id or ""
        self.APP_PASSWORD = settings.microsoft_app_password or ""
        self.APP_TYPE = settings.microsoft_app_type
        self.APP_TENANTID = settings.microsoft_app_tenant_id or ""
        for key, value in overrides.items():
            setattr(self, key, value)


class _TimedConnectorFactory(ConnectorFactory):
    """Give every connector client a timeout of `CONNECTOR_TIMEOUT` seconds instead of the SDK's 100."""

    def __init__(self, inner: ConnectorFactory) -> None:
        self.inner = inner

    async def create(self, service_url: str, audience: str | None = None) -> Any:
        client = await self.inner.create(service_url, audience)  # type: ignore[arg-type]
        client.config.connection.timeout = CONNECTOR_TIMEOUT
        return client


class _Authentication(ConfigurationBotFrameworkAuthentication):
    def create_connector_factory(self, claims_identity: Any) -> ConnectorFactory:
        return _TimedConnectorFactory(super().create_connector_factory(claims_identity))


def make_adapter(settings: Settings, **overrides: Any) -> CloudAdapter:
    """A CloudAdapter for these settings. `overrides` are further configuration keys (e.g. a sovereign
    cloud's TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL)."""
    return CloudAdapter(_Authentication(AuthConfig(settings, **overrides)))


def mount(app: web.Application, settings: Settings) -> None:
    if not settings.microsoft_app_id:
        log.warning(
            "Teams runs in LOCAL-EMULATOR MODE: requests to /api/messages are NOT authenticated. "
            "Use it only with the Agents Playground or tests, never where others can reach the server."
        )
    install_signing_keys()
    bot = IntakeTeamsBot(app, wake=lambda: wake_dispatcher(app))
    app[TEAMS] = TeamsState(
        adapter=make_adapter(settings), bot=bot, app_id=settings.microsoft_app_id or "", keyring=Keyring()
    )
    app.router.add_post("/api/messages", messages_route)
    app.router.add_get(ROUTE, serve_letter)
    if not (settings.public_url and settings.secret_key):
        log.warning("Teams: set INTAKE_PUBLIC_URL and INTAKE_SECRET_KEY to offer letters as .eml downloads.")
    app[SINK_FACTORIES].append(TeamsSink)


def _problem(status: int, reason: str, *, detail: str | None = None) -> web.Response:
    """A refusal: the status and the reason, and one line in the log."""
    log.info("teams: refused a request (%d): %s", status, detail or reason)
    return web.json_response({"error": reason}, status=status)


def tenant_of(activity: Activity) -> str | None:
    """The Microsoft tenant an activity comes from (Teams names it in the conversation and the channel data)."""
    tenant = getattr(activity.conversation, "tenant_id", None) if activity.conversation else None
    if isinstance(tenant, str) and tenant:
        return tenant
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    named = (data.get("tenant") or {}).get("id") if isinstance(data.get("tenant"), dict) else None
    return str(named) if isinstance(named, str) and named else None


async def refuse_tenant(app: web.Application, activity: Activity, tenant: str | None) -> None:
    """Record an authenticated activity from a tenant the bot does not serve."""
    user = activity.from_property
    user_id = str(getattr(user, "aad_object_id", None) or getattr(user, "id", None) or "")
    log.warning("teams: refused a %s activity from tenant %s (user %s)", activity.type, tenant or "?", user_id)
    try:
        await app[RUNTIME].store.record_refusal(
            RefusalRecord(
                datetime.now(UTC),
                "teams",
                "other_tenant",
                tenant or "",
                user_id,
                f"a {activity.type} activity; this bot serves {', '.join(sorted(app[SETTINGS].teams_tenants))}",
            )
        )
    except StorageUnavailable as exc:
        log.error("teams: could not record the refusal: %s", exc)


async def messages_route(request: web.Request) -> web.Response:
    """POST /api/messages: one Bot Framework activity in, 200 (with the invoke's body) out. Whatever is
    wrong with a request, the answer is a 4xx with the reason (503 while no signing keys can be had),
    and one line in the log."""
    if request.content_type not in JSON_TYPES:
        return _problem(415, "Send the activity as application/json.")
    try:
        body = loads(await request.read())
    except web.HTTPRequestEntityTooLarge:
        return _problem(413, "The body is over 1 MiB.")
    except Unreadable as exc:
        return _problem(400, f"The body is not readable: {exc}.")
    if not isinstance(body, dict) or not isinstance(body.get("type"), str) or not body["type"]:
        return _problem(400, "The body is not an activity: it has no 'type'.")
    try:
        activity = Activity().deserialize(body)
    except (DeserializationError, TypeError, ValueError, AttributeError, RecursionError) as exc:
        return _problem(400, f"The activity could not be read: {exc}")
    if activity.conversation is None or not activity.service_url:
        return _problem(400, "The activity has no conversation or serviceUrl.")

    state = request.app[TEAMS]
    auth_header = request.headers.get("Authorization")  # None when absent: the SDK treats "" differently
    problem = token_problem(auth_header)
    if problem:  # refused before any signing key is fetched
        return _problem(401, "The request is not authenticated.", detail=problem)
    keyring = CURRENT.set(state.keyring)
    try:
        auth = await state.adapter.bot_framework_authentication.authenticate_request(activity, auth_header)
    except KeysUnavailable as exc:
        response = _problem(503, "The Bot Framework's signing keys cannot be fetched right now.", detail=str(exc))
        response.headers["Retry-After"] = "5"
        return response
    except Exception as exc:  # PermissionError, jwt errors, unknown signing keys: all mean "not authenticated"
        return _problem(401, "The request is not authenticated.", detail=f"{type(exc).__name__}: {exc}")
    finally:
        CURRENT.reset(keyring)
    tenant = tenant_of(activity)
    allowed = request.app[SETTINGS].teams_tenants
    if allowed and (tenant or "").lower() not in allowed:
        await refuse_tenant(request.app, activity, tenant)
        return _problem(403, "This bot does not serve that Microsoft tenant.")

    response = await state.adapter.process_activity(auth, activity, state.bot.safe_turn)
    if response is None:
        return web.Response(status=200)
    if response.status == HTTPStatus.NOT_IMPLEMENTED:
        # The SDK's answer to an invoke the bot does not handle: the sender's mistake, not the server's.
        return _problem(400, f"This bot does not handle the invoke '{activity.name or ''}'.")
    payload = response.body
    if isinstance(payload, Model):
        payload = payload.serialize()
    if payload is None:
        return web.Response(status=response.status or 200)
    return web.json_response(payload, status=response.status or 200)


PLATFORM = Platform("teams", enabled, mount)
