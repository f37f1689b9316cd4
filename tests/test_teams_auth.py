"""Teams authentication with an app id set: only tokens the Bot Framework would sign get in.

Tokens are signed here with a local RSA key; the signing keys come from a fake OpenID metadata endpoint
(tests/support/openid.py).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from adapters.settings import ConfigError, Settings
from adapters.teams.platform import enabled, make_adapter
from adapters.teams.state import TEAMS
from adapters.web.app import RUNTIME, SETTINGS
from tests.support.openid import OpenIdServer, auth_overrides
from tests.support.openid import token as signed
from tests.support.teams import REVIEW_CHANNEL, TENANT, Harness, load_payload, running

APP_ID = "1b2c3d4e-0000-4000-8000-00000000abcd"


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def openid(signing_key: rsa.RSAPrivateKey) -> Iterator[OpenIdServer]:
    server = OpenIdServer(signing_key)
    yield server
    server.close()


@pytest.fixture
async def teams(sqlite_url: str, openid: OpenIdServer) -> AsyncIterator[Harness]:
    async with running(
        sqlite_url,
        teams_emulator=False,
        microsoft_app_id=APP_ID,
        microsoft_app_password="a-client-secret-from-entra",
        microsoft_app_tenant_id=TENANT,
    ) as h:
        h.app[TEAMS].adapter = make_adapter(h.app[SETTINGS], **auth_overrides(openid))
        yield h


def token(key: rsa.RSAPrivateKey, service_url: str, **claims: Any) -> str:
    return signed(key, app_id=APP_ID, service_url=service_url, **claims)


def bot_added(teams: Harness) -> dict[str, Any]:
    payload = load_payload("conversation_update_team", teams.connector.url)
    payload["conversation"]["id"] = REVIEW_CHANNEL
    return payload


async def test_a_correctly_signed_token_is_accepted(teams: Harness, signing_key: rsa.RSAPrivateKey) -> None:
    resp = await teams.send(bot_added(teams), Authorization=f"Bearer {token(signing_key, teams.connector.url)}")
    assert resp.status == 200
    assert await teams.app[RUNTIME].store.get_conversation_ref("teams", REVIEW_CHANNEL)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer not-a-jwt",
        "Basic dXNlcjpwYXNz",
        "Bearer eyJhbGciOiJIUzI1NiJ9.e30.ZRrHA1JJJW8opsbCGfG_HACGpVUMN_a9IV7pAx_Zmeo",
    ],
    ids=["missing", "empty", "bearer-only", "garbage", "basic", "hs256"],
)
async def test_missing_or_garbage_tokens_are_401(teams: Harness, header: str | None) -> None:
    headers = {"Authorization": header} if header is not None else {}
    resp = await teams.send(bot_added(teams), **headers)
    assert resp.status == 401
    assert not await teams.app[RUNTIME].store.get_conversation_ref("teams", REVIEW_CHANNEL)


async def test_a_token_for_another_bot_is_401(teams: Harness, signing_key: rsa.RSAPrivateKey) -> None:
    other = token(signing_key, teams.connector.url, aud="99999999-0000-4000-8000-000000000000")
    resp = await teams.send(bot_added(teams), Authorization=f"Bearer {other}")
    assert resp.status == 401


async def test_an_expired_or_foreign_signed_token_is_401(teams: Harness, signing_key: rsa.RSAPrivateKey) -> None:
    expired = token(signing_key, teams.connector.url, exp=int(time.time()) - 3600, nbf=int(time.time()) - 7200)
    assert (await teams.send(bot_added(teams), Authorization=f"Bearer {expired}")).status == 401
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = token(stranger, teams.connector.url)
    assert (await teams.send(bot_added(teams), Authorization=f"Bearer {forged}")).status == 401


async def test_a_token_for_another_service_url_is_401(teams: Harness, signing_key: rsa.RSAPrivateKey) -> None:
    elsewhere = token(signing_key, "https://smba.trafficmanager.net/emea/")
    assert (await teams.send(bot_added(teams), Authorization=f"Bearer {elsewhere}")).status == 401


def test_emulator_mode_is_refused_in_production() -> None:
    with pytest.raises(ConfigError, match="INTAKE_TEAMS_EMULATOR"):
        enabled(Settings(teams_emulator=True, env="production"))
    assert enabled(Settings(teams_emulator=True, env="development")) is True
    assert enabled(Settings()) is False


def test_a_partial_teams_configuration_stops_the_start() -> None:
    with pytest.raises(ConfigError, match="MICROSOFT_APP_PASSWORD"):
        enabled(Settings(microsoft_app_id=APP_ID))
    with pytest.raises(ConfigError, match="MICROSOFT_APP_TENANT_ID"):
        enabled(
            Settings(microsoft_app_id=APP_ID, microsoft_app_password="pw-from-entra", microsoft_app_type="SingleTenant")
        )
    with pytest.raises(ConfigError, match="placeholder"):
        enabled(Settings(microsoft_app_id=APP_ID, microsoft_app_password="changeme", microsoft_app_tenant_id=TENANT))
    with pytest.raises(ConfigError, match="MICROSOFT_APP_TENANT_ID"):
        enabled(Settings(microsoft_app_id=APP_ID, microsoft_app_password="pw-from-entra"))
    assert enabled(
        Settings(microsoft_app_id=APP_ID, microsoft_app_password="pw-from-entra", microsoft_app_tenant_id=TENANT)
    )
    assert enabled(
        Settings(microsoft_app_id=APP_ID, microsoft_app_password="pw-from-entra", microsoft_allowed_tenants=TENANT)
    )
