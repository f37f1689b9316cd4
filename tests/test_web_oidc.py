"""Sign in with Slack and with Microsoft Entra ID: OpenID Connect's code flow against a local provider
that speaks the real wire format, with the ID token checked (signature against the JWKS, issuer,
audience, expiry, nonce) and the person mapped to the one the chat adapters know."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from bot.service import IntakeService
from tests.conftest import MEMBER
from tests.support.fake_oidc import FakeOidc
from tests.web_support import web_client

TENANT = "7f3c1d2e-0000-4000-8000-00000000abcd"


@pytest.fixture
async def slack_oidc() -> AsyncIterator[FakeOidc]:
    provider = FakeOidc(
        client_id="1234.5678",
        client_secret="slack-client-secret",
        claims={
            "sub": "U0PMSLACK",
            "https://slack.com/user_id": "U0PMSLACK",
            "https://slack.com/team_id": "T0ACME",
            "email": "pat@acme.example",
            "email_verified": True,
            "name": "Pat Morgan",
        },
    )
    await provider.start()
    yield provider
    await provider.close()


@pytest.fixture
async def entra_oidc() -> AsyncIterator[FakeOidc]:
    provider = FakeOidc(
        client_id="00000000-1111-2222-3333-444444444444",
        client_secret="entra-client-secret",
        issuer_template="{base}/{tenantid}/v2.0",
        claims={
            "sub": "pairwise-sub",
            "oid": "aad-object-id-of-sam",
            "tid": TENANT,
            "preferred_username": "Sam@Acme-Team.example",
            "name": "Sam Reed",
        },
    )
    await provider.start()
    yield provider
    await provider.close()


async def sign_in_through(client: TestClient, provider: FakeOidc, name: str, next_path: str = "/app/requests") -> Any:
    """Press "Sign in with …", let the provider answer, and follow its redirect back."""
    start = await client.get(f"/app/signin/{name}?next={next_path}", allow_redirects=False)
    assert start.status == 303, await start.text()
    location = start.headers["Location"]
    assert location.startswith(provider.base + "/authorize?") and "nonce=" in location and "state=" in location
    async with aiohttp.ClientSession() as browser:
        at_provider = await browser.get(location, allow_redirects=False)
        assert at_provider.status == 302
        back = at_provider.headers["Location"]
    return await client.get(back.split(str(client.make_url("")).rstrip("/"), 1)[1])


def slack_env(p: FakeOidc) -> dict[str, str]:
    return {"SLACK_CLIENT_ID": p.client_id, "SLACK_CLIENT_SECRET": p.client_secret, "SLACK_OIDC_ISSUER": p.base}


def entra_env(p: FakeOidc) -> dict[str, str]:
    return {
        "MICROSOFT_APP_ID": p.client_id,
        "MICROSOFT_APP_PASSWORD": p.client_secret,
        "MICROSOFT_APP_TENANT_ID": TENANT,
        "INTAKE_ENTRA_AUTHORITY": p.base,
        "INTAKE_SECRET_KEY": "a-real-secret-key-for-the-tests",
    }


async def test_sign_in_with_slack_names_the_slack_user_a_pm(
    service: IntakeService, db_url: str, slack_oidc: FakeOidc
) -> None:
    rec = await service.submit_request(project="acme-portal", actor=MEMBER, text="Can we pay by credit card?")
    client = await web_client(service, db_url, **slack_env(slack_oidc))
    try:
        page = await (await client.get("/app/signin")).text()
        assert "Sign in with Slack" in page and "Sign in with Microsoft" not in page
        done = await sign_in_through(client, slack_oidc, "slack", f"/app/r/{rec.ref}")
        html = await done.text()
        # U0PMSLACK is a PM of the project by its Slack id: the decide buttons are there.
        assert done.status == 200 and "Pat Morgan" in html and 'data-action="decline"' in html
        assert done.history[-1].cookies["intake_session"]["httponly"]
    finally:
        await client.close()


@pytest.mark.parametrize("tamper", ["audience", "expired", "signature", "nonce", "issuer"])
async def test_an_id_token_that_does_not_check_is_refused(
    service: IntakeService, sqlite_url: str, slack_oidc: FakeOidc, tamper: str
) -> None:
    slack_oidc.tamper = tamper
    client = await web_client(service, sqlite_url, **slack_env(slack_oidc))
    try:
        resp = await sign_in_through(client, slack_oidc, "slack")
        assert resp.status == 403 and "could not be accepted" in await resp.text()
        assert "intake_session" not in client.session.cookie_jar.filter_cookies(client.make_url("/app/"))
    finally:
        await client.close()


async def test_a_callback_without_its_state_is_refused(
    service: IntakeService, sqlite_url: str, slack_oidc: FakeOidc
) -> None:
    client = await web_client(service, sqlite_url, **slack_env(slack_oidc))
    try:
        start = await client.get("/app/signin/slack", allow_redirects=False)
        assert start.status == 303
        forged = await client.get("/app/signin/slack/callback?code=abc&state=not-the-one")
        assert forged.status == 400 and "state" in await forged.text()
        client.session.cookie_jar.clear()
        assert (await client.get("/app/signin/slack/callback?code=abc&state=x")).status == 400
        assert (await client.get("/app/signin/entra")).status == 404  # not set up here
    finally:
        await client.close()


async def test_sign_in_with_microsoft_maps_to_the_teams_person(
    service: IntakeService, db_url: str, entra_oidc: FakeOidc
) -> None:
    rec = await service.submit_request(project="acme-portal", actor=MEMBER, text="Can we pay by credit card?")
    client = await web_client(service, db_url, **entra_env(entra_oidc))
    try:
        page = await (await client.get("/app/signin")).text()
        assert "Sign in with Microsoft" in page
        done = await sign_in_through(client, entra_oidc, "entra", f"/app/r/{rec.ref}")
        html = await done.text()
        # Sam recorded the request (by e-mail): on the team, not a PM, and it is their own request.
        assert done.status == 200 and "Sam Reed" in html
        assert 'data-action="withdraw"' in html and 'data-action="decline"' not in html
        # The address is now tied to that Entra object id, as the Teams adapter ties it.
        assert await service.store.bind_email("teams", "sam@acme-team.example", "another", at=service.clock.now()) == (  # type: ignore[attr-defined]
            "aad-object-id-of-sam"
        )
    finally:
        await client.close()


async def test_another_tenant_cannot_sign_in(service: IntakeService, sqlite_url: str, entra_oidc: FakeOidc) -> None:
    entra_oidc.claims["tid"] = "11111111-2222-3333-4444-555555555555"
    client = await web_client(service, sqlite_url, **entra_env(entra_oidc))
    try:
        resp = await sign_in_through(client, entra_oidc, "entra")
        assert resp.status == 403 and "tenant" in await resp.text()
    finally:
        await client.close()
