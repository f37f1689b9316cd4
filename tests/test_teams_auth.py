"""Teams authentication with an app id set: only tokens the Bot Framework would sign get in.

Tokens are signed here with a local RSA key; the SDK fetches the signing keys from a fake OpenID
metadata endpoint (served from a thread, because the SDK fetches them with a blocking HTTP client).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from adapters.settings import ConfigError, Settings
from adapters.teams.platform import enabled, make_adapter
from adapters.teams.state import TEAMS
from adapters.web.app import RUNTIME, SETTINGS
from tests.support.teams import REVIEW_CHANNEL, Harness, load_payload, running

APP_ID = "1b2c3d4e-0000-4000-8000-00000000abcd"
ISSUER = "https://api.botframework.com"
KID = "test-key-1"


class OpenIdServer:
    """Serves /.well-known/openidconfiguration and the JWKS with one endorsed key."""

    def __init__(self, public_jwk: dict[str, Any]) -> None:
        keys = {"keys": [{**public_jwk, "kid": KID, "use": "sig", "endorsements": ["msteams"]}]}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/.well-known/openidconfiguration":
                    body = {
                        "issuer": ISSUER,
                        "jwks_uri": f"{outer.url}/keys",
                        "id_token_signing_alg_values_supported": ["RS256"],
                    }
                elif self.path == "/keys":
                    body = keys
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def openid(signing_key: rsa.RSAPrivateKey) -> Iterator[OpenIdServer]:
    server = OpenIdServer(json.loads(RSAAlgorithm.to_jwk(signing_key.public_key())))
    yield server
    server.close()


@pytest.fixture
async def teams(sqlite_url: str, openid: OpenIdServer) -> AsyncIterator[Harness]:
    async with running(
        sqlite_url, teams_emulator=False, microsoft_app_id=APP_ID, microsoft_app_password="a-client-secret-from-entra"
    ) as h:
        h.app[TEAMS].adapter = make_adapter(
            h.app[SETTINGS],
            TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=f"{openid.url}/.well-known/openidconfiguration",
            TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL=f"{openid.url}/.well-known/openidconfiguration",
            TO_BOT_FROM_CHANNEL_TOKEN_ISSUER=ISSUER,
            TO_CHANNEL_FROM_BOT_LOGIN_URL="https://login.microsoftonline.com/botframework.com",
            TO_CHANNEL_FROM_BOT_OAUTH_SCOPE="https://api.botframework.com",
            OAUTH_URL="https://api.botframework.com",
        )
        yield h


def token(key: rsa.RSAPrivateKey, service_url: str, **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": APP_ID, "nbf": now - 10, "exp": now + 3600, "serviceurl": service_url, **claims}
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": KID})


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
        enabled(Settings(microsoft_app_id=APP_ID, microsoft_app_password="changeme"))
    assert enabled(Settings(microsoft_app_id=APP_ID, microsoft_app_password="pw-from-entra")) is True
