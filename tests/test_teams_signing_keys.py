"""The Bot Framework's signing keys: fetched off the event loop with a timeout, kept for their lifetime,
the last good ones kept when a refresh fails, fetched again only after a pause when the endpoint fails,
and never fetched for a token that is malformed to begin with. Whatever the key endpoint does, Slack's
acknowledgements on the same server stay fast.

The server runs Slack and Teams (authentication on) together; the key endpoint is a local fake
(tests/support/openid.py) that can hang or fail.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from adapters.teams import signing_keys
from adapters.teams.platform import make_adapter
from adapters.teams.state import TEAMS
from adapters.web.app import SETTINGS
from tests.support.fake_slack import FakeSlack
from tests.support.openid import KID, OpenIdServer, auth_overrides
from tests.support.openid import token as signed
from tests.support.slack_harness import SECRET, TOKEN, fresh_trigger, payload, sign
from tests.support.teams import TENANT, Harness, load_payload, personal_conversation, running

APP_ID = "1b2c3d4e-0000-4000-8000-00000000abcd"
MEMBER = {"id": "29:member-sam", "name": "Sam Reed", "aadObjectId": "aad-sam"}


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def openid(key: rsa.RSAPrivateKey) -> Iterator[OpenIdServer]:
    server = OpenIdServer(key)
    yield server
    server.close()


@pytest.fixture
async def both(sqlite_url: str, openid: OpenIdServer) -> AsyncIterator[Harness]:
    """One server with Slack and Teams, Teams authenticating against the fake key endpoint."""
    slack = await FakeSlack().start()
    try:
        async with running(
            sqlite_url,
            teams_emulator=False,
            microsoft_app_id=APP_ID,
            microsoft_app_password="a-client-secret-from-entra",
            microsoft_app_tenant_id=TENANT,
            slack_bot_token=TOKEN,
            slack_signing_secret=SECRET,
            slack_api_url=slack.api_url,
            slack_team_id="T0ACME",
        ) as h:
            h.app[TEAMS].adapter = make_adapter(h.app[SETTINGS], **auth_overrides(openid))
            yield h
    finally:
        await slack.close()


def keys_of(h: Harness, openid: OpenIdServer) -> signing_keys.SigningKeys:
    return h.app[TEAMS].keyring.for_url(openid.metadata_url)


async def teams_message(h: Harness, authorization: str | None) -> Any:
    activity = load_payload("message_personal", h.connector.url, id=h.next_id(), text="help")
    activity["from"] = MEMBER
    activity["conversation"]["id"] = personal_conversation(MEMBER)
    headers = {"Authorization": authorization} if authorization is not None else {}
    return await h.client.post("/api/messages", json=activity, headers=headers)


def bearer(key: rsa.RSAPrivateKey, h: Harness, **claims: Any) -> str:
    return "Bearer " + signed(key, app_id=APP_ID, service_url=h.connector.url, **claims)


async def slack_ack(h: Harness) -> int:
    fields = fresh_trigger(payload("slash_command.json"))
    fields.update(text="Could reminders also go out by SMS?", response_url="http://127.0.0.1:9/none")
    body = urlencode(fields)
    resp = await h.client.post(
        "/slack/events", data=body.encode(), headers={"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
    )
    return resp.status


async def test_a_hanging_key_endpoint_does_not_hold_up_slacks_acknowledgements(
    both: Harness, openid: OpenIdServer, key: rsa.RSAPrivateKey
) -> None:
    openid.hang(8)
    teams = asyncio.create_task(teams_message(both, bearer(key, both)))
    assert await asyncio.to_thread(openid.asked.wait, 10), "the key endpoint was asked"
    # The keys are on their way (the endpoint says nothing yet): Slack is answered meanwhile.
    statuses = [await slack_ack(both) for _ in range(5)]
    assert statuses == [200] * 5
    assert not teams.done(), "the Teams request still waits for the keys"
    openid.answer()
    assert (await teams).status == 200, "and is served once they come"
    # The endpoint was told to answer while it hung: the server was not stuck waiting for it.
    assert openid.hangs == ["answered"]


async def test_without_keys_teams_gets_503_at_once_and_the_endpoint_is_asked_again_only_after_a_pause(
    both: Harness, openid: OpenIdServer, key: rsa.RSAPrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(signing_keys, "FETCH_TIMEOUT", 0.5)
    openid.hang(30)  # longer than the fetch waits
    first = await teams_message(both, bearer(key, both))
    assert first.status == 503 and first.headers["Retry-After"]
    assert "signing keys" in (await first.json())["error"]
    asked = len(openid.requests)
    for _ in range(5):  # within the pause: answered at once, the endpoint is left alone
        assert (await teams_message(both, bearer(key, both))).status == 503
        assert await slack_ack(both) == 200
    assert len(openid.requests) == asked
    # Once the pause is over and the endpoint answers, the keys come and the request is served.
    openid.answer()
    keys_of(both, openid).next_try = 0.0
    assert (await teams_message(both, bearer(key, both))).status == 200
    assert keys_of(both, openid).failures == 0


async def test_the_last_good_keys_serve_while_a_refresh_fails(
    both: Harness, openid: OpenIdServer, key: rsa.RSAPrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(signing_keys, "FETCH_TIMEOUT", 0.5)
    openid.max_age = 600
    assert (await teams_message(both, bearer(key, both))).status == 200
    keys = keys_of(both, openid)
    assert keys.lifetime == 600 and openid.key_set_fetches() == 1
    # Kept for their lifetime: no fetch per request.
    for _ in range(3):
        assert (await teams_message(both, bearer(key, both))).status == 200
    assert openid.key_set_fetches() == 1
    # Past their lifetime, with the endpoint hanging: the old keys serve at once, the refresh runs behind.
    keys.fetched_at -= 601
    openid.hang(30)
    assert (await teams_message(both, bearer(key, both))).status == 200
    assert keys.fetches == 2
    await asyncio.sleep(0.8)
    assert keys.failures == 1 and keys.keys, "the refresh failed; the keys are kept"
    assert (await teams_message(both, bearer(key, both))).status == 200


async def test_a_new_signing_key_is_fetched_once_and_unknown_ones_do_not_make_the_server_ask_again(
    both: Harness, openid: OpenIdServer, key: rsa.RSAPrivateKey
) -> None:
    assert (await teams_message(both, bearer(key, both))).status == 200
    keys = keys_of(both, openid)
    # The channel rotates its key; a token signed with the new one arrives a while later.
    rotated = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    openid.key, openid.kid = rotated, "test-key-2"
    keys.fetched_at -= signing_keys.UNKNOWN_KEY_REFRESH + 1
    assert (
        await teams_message(
            both, "Bearer " + signed(rotated, app_id=APP_ID, service_url=both.connector.url, kid="test-key-2")
        )
    ).status == 200
    assert openid.key_set_fetches() == 2
    # Tokens naming keys nobody has: refused, without asking the endpoint again and again.
    for n in range(5):
        forged = "Bearer " + signed(rotated, app_id=APP_ID, service_url=both.connector.url, kid=f"nobody-{n}")
        assert (await teams_message(both, forged)).status == 401
    assert openid.key_set_fetches() == 2


def _unsigned(claims: dict[str, Any], header: dict[str, Any]) -> str:
    return jwt.encode(claims, key="", algorithm="none", headers=header)


async def test_malformed_and_unsigned_tokens_are_refused_before_any_key_is_fetched(
    both: Harness, openid: OpenIdServer, key: rsa.RSAPrivateKey
) -> None:
    now = int(time.time())
    claims = {"iss": "https://api.botframework.com", "aud": APP_ID, "exp": now + 3600, "nbf": now - 10}
    hs256 = jwt.encode(claims, "a-shared-secret-long-enough-for-hs256-keys", algorithm="HS256", headers={"kid": KID})
    no_kid = jwt.encode(claims, key, algorithm="RS256")
    expired = signed(key, app_id=APP_ID, service_url=both.connector.url, exp=now - 3600, nbf=now - 7200)
    for header in (
        "",
        "Bearer",
        "Basic dXNlcjpwYXNz",
        "Bearer not-a-jwt",
        "Bearer " + _unsigned(claims, {"kid": KID}),
        "Bearer " + hs256,
        "Bearer " + no_kid,
        "Bearer " + expired,
        "Bearer " + "a" * 7_000 + ".b.c",
        "Bearer a.b.c",
    ):
        resp = await teams_message(both, header)
        assert resp.status == 401, header[:40]
    assert openid.requests == [], "nothing was fetched for them"
