"""What the browser tests of the web page share: the system's Chromium driven by Playwright (never a
downloaded browser), and the server on a real port with the outbox dispatcher running."""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web

from adapters.runtime import Runtime
from adapters.settings import Settings
from adapters.web.app import create_app
from adapters.web.pm.links import new_signin_link
from bot.service import IntakeService
from tools.cardrender import LAUNCH_ARGS, chromium_path

# CI sets INTAKE_REQUIRE_BROWSER=1: there a missing Chromium or Playwright fails these tests instead of skipping.
REQUIRED = os.environ.get("INTAKE_REQUIRE_BROWSER") == "1"


def missing_browser() -> str | None:
    if chromium_path() is None:
        return "Chromium is not installed (apt-get install -y chromium)"
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (make test installs it with the dev tools)"
    return None


def need_browser() -> None:
    reason = missing_browser()
    if reason:
        if REQUIRED:
            pytest.fail(f"INTAKE_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(f"the web page's browser tests need a browser: {reason}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def running_server(service: IntakeService, db_url: str, **env: Any) -> AsyncIterator[str]:
    """The whole server (pages, outbox, schedule) on a free port; yields its base URL."""
    port = free_port()
    settings = Settings(DATABASE_URL=db_url, INTAKE_PUBLIC_URL=f"http://127.0.0.1:{port}", **env)  # type: ignore[call-arg]
    app = create_app(settings, runtime=Runtime(service.store, service), poll_interval=0.05)  # type: ignore[arg-type]
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path(), args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def signed_in_page(browser: Any, service: IntakeService, base: str, email: str, *, locale: str = "en-US") -> Any:
    """A fresh browser context signed in as `email` by following a one-time link and pressing its button."""
    context = await browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    link = await new_signin_link(service.store, email, now=service.clock.now(), base_url=base)  # type: ignore[arg-type]
    await page.goto(link)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/app/requests")
    return page
