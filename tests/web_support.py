"""Helpers shared by the web page's tests: a server on a real port, and signing in the way a person does."""

from __future__ import annotations

import re
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from adapters.runtime import Runtime
from adapters.settings import Settings
from adapters.web.app import create_app
from adapters.web.pm.links import new_signin_link
from bot.service import IntakeService

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no form token"
    return found.group(1)


async def web_client(service: IntakeService, db_url: str, **env: Any) -> TestClient:
    settings = Settings(DATABASE_URL=db_url, **env)  # type: ignore[call-arg]
    app = create_app(settings, runtime=Runtime(service.store, service), dispatch=False)  # type: ignore[arg-type]
    client = TestClient(TestServer(app))
    await client.start_server()
    return client


async def sign_in(client: TestClient, service: IntakeService, email: str) -> str:
    """Sign `email` in with a one-time link, as the page does; return the session's form token."""
    link = await new_signin_link(service.store, email, now=service.clock.now(), base_url=str(client.make_url("")))  # type: ignore[arg-type]
    page = await client.get(link.split(str(client.make_url("")).rstrip("/"), 1)[1])
    assert page.status == 200
    html = await page.text()
    token = re.search(r'name="token" value="([^"]+)"', html)
    assert token
    resp = await client.post(
        "/app/signin/link", data={"csrf": csrf_of(html), "token": token.group(1), "next": "/app/requests"}
    )
    assert resp.status == 200, await resp.text()
    return csrf_of(await resp.text())
