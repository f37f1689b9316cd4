"""Sign in with Slack or Microsoft Entra ID: OpenID Connect's authorization-code flow.

The browser goes to the provider with a fresh `state` and `nonce` (kept in a short-lived HttpOnly cookie);
the provider sends it back with a code; the server trades the code for an ID token and trusts it only once
its signature checks against the provider's published keys (JWKS) and its issuer, audience, expiry and
nonce are right. The person it names is then the same person the chat adapters know: a Slack user id, or
an Entra object id (as Teams gives it), with their e-mail counted only for the account it was first seen with.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp
import jwt

from adapters.settings import Settings

log = logging.getLogger("intake.web.oidc")

TIMEOUT = aiohttp.ClientTimeout(total=10)


class SignInFailed(Exception):
    """The provider's answer cannot be trusted or used; the message says why (for the log and the page)."""


@dataclass(frozen=True)
class Provider:
    name: str  # "slack" | "entra": in the page's addresses
    platform: str  # the chat platform whose people it names
    issuer: str  # where `/.well-known/openid-configuration` is
    client_id: str
    client_secret: str
    tenants: frozenset[str] = frozenset()  # Entra: the tenants whose people may sign in (empty: any)
    team_id: str | None = None  # Slack: the one workspace served, when pinned

    @property
    def discovery_url(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"


def providers(settings: Settings) -> dict[str, Provider]:
    """The sign-in providers the settings switch on: Slack with SLACK_CLIENT_ID and SLACK_CLIENT_SECRET,
    Entra ID with MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD (the Teams bot's app registration)."""
    found: dict[str, Provider] = {}
    if settings.slack_client_id and settings.slack_client_secret:
        settings.check_secret("SLACK_CLIENT_SECRET", settings.slack_client_secret)
        found["slack"] = Provider(
            "slack",
            "slack",
            settings.slack_oidc_issuer,
            settings.slack_client_id,
            settings.slack_client_secret,
            team_id=settings.slack_team_id,
        )
    if settings.microsoft_app_id and settings.microsoft_app_password:
        tenant = settings.microsoft_app_tenant_id or "organizations"
        authority = settings.entra_authority or f"https://login.microsoftonline.com/{tenant}/v2.0"
        found["entra"] = Provider(
            "entra",
            "teams",
            authority,
            settings.microsoft_app_id,
            settings.microsoft_app_password,
            tenants=settings.teams_tenants,
        )
    return found


async def _get_json(http: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    try:
        async with http.get(url) as resp:
            if resp.status != 200:
                raise SignInFailed(f"{url} answered HTTP {resp.status}")
            body = await resp.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, json.JSONDecodeError) as exc:
        raise SignInFailed(f"could not read {url}: {exc or type(exc).__name__}") from None
    if not isinstance(body, dict):
        raise SignInFailed(f"{url} did not answer a JSON object")
    return body


async def discover(http: aiohttp.ClientSession, provider: Provider) -> dict[str, Any]:
    config = await _get_json(http, provider.discovery_url)
    for key in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(config.get(key), str):
            raise SignInFailed(f"the provider's configuration has no {key}")
    return config


async def exchange_code(
    http: aiohttp.ClientSession, provider: Provider, config: dict[str, Any], *, code: str, redirect_uri: str
) -> str:
    """Trade the code for the ID token (client_secret_post)."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": provider.client_id,
        "client_secret": provider.client_secret,
    }
    try:
        async with http.post(config["token_endpoint"], data=form) as resp:
            body = await resp.json(content_type=None)
            status = resp.status
    except (aiohttp.ClientError, TimeoutError, json.JSONDecodeError) as exc:
        raise SignInFailed(f"the token endpoint could not be used: {exc or type(exc).__name__}") from None
    if status != 200 or not isinstance(body, dict) or not isinstance(body.get("id_token"), str):
        error = body.get("error") if isinstance(body, dict) else None
        raise SignInFailed(f"the token endpoint refused the code (HTTP {status}, {error or 'no id_token'})")
    return str(body["id_token"])


async def verify_id_token(
    http: aiohttp.ClientSession, provider: Provider, config: dict[str, Any], id_token: str, *, nonce: str
) -> dict[str, Any]:
    """The token's claims, once its signature (against the provider's JWKS), issuer, audience, expiry and
    nonce check; else `SignInFailed`."""
    try:
        header = jwt.get_unverified_header(id_token)
        unverified = jwt.decode(id_token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise SignInFailed(f"the ID token is malformed: {exc}") from None
    alg = header.get("alg")
    if alg not in ("RS256", "RS384", "RS512", "ES256", "PS256"):
        raise SignInFailed(f"the ID token is signed with {alg!r}, which is not accepted")
    issuer = str(config["issuer"])
    if "{tenantid}" in issuer:  # Entra's multi-tenant authorities name the tenant in each token
        tid = str(unverified.get("tid") or "")
        if not tid:
            raise SignInFailed("the ID token names no tenant")
        issuer = issuer.replace("{tenantid}", tid)
    keys = await _get_json(http, config["jwks_uri"])
    jwk = next((k for k in keys.get("keys", ()) if isinstance(k, dict) and k.get("kid") == header.get("kid")), None)
    if jwk is None:
        raise SignInFailed(f"no key {header.get('kid')!r} among the provider's keys")
    try:
        key = jwt.PyJWK(jwk, algorithm=alg).key
        claims: dict[str, Any] = jwt.decode(
            id_token,
            key,
            algorithms=[alg],
            audience=provider.client_id,
            issuer=issuer,
            leeway=60,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
    except jwt.PyJWTError as exc:
        raise SignInFailed(f"the ID token does not check: {exc}") from None
    if claims.get("nonce") != nonce:
        raise SignInFailed("the ID token's nonce is not the one this sign-in sent")
    if provider.tenants and str(claims.get("tid", "")).lower() not in provider.tenants:
        raise SignInFailed(f"tenant {claims.get('tid')} is not one this bot serves")
    if provider.team_id and claims.get("https://slack.com/team_id") != provider.team_id:
        raise SignInFailed(f"workspace {claims.get('https://slack.com/team_id')} is not the one this bot serves")
    return claims


@dataclass(frozen=True)
class Identity:
    platform: str
    user_id: str
    email: str | None
    name: str | None


def identity(provider: Provider, claims: dict[str, Any]) -> Identity:
    """Who the claims name, as the chat adapter of the same platform names them."""
    if provider.name == "slack":
        user_id = claims.get("https://slack.com/user_id") or claims.get("sub")
        email = claims.get("email") if claims.get("email_verified", True) else None
    else:
        user_id = claims.get("oid") or claims.get("sub")
        email = claims.get("email") or claims.get("preferred_username")
    if not user_id:
        raise SignInFailed("the ID token names no user")
    return Identity(
        provider.platform,
        str(user_id),
        str(email).lower() if email and "@" in str(email) else None,
        str(claims.get("name") or "") or None,
    )
