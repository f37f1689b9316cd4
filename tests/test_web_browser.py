"""The web page in a real browser (the system's Chromium, driven by Playwright): signing in with a link,
filtering and searching, declining a request end to end with the tone check updating as the PM types
and the letter sent to a real SMTP server, what a team member may not do, form tokens, and Chinese."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.domain import Actor
from bot.projectfile import load_project_file, load_project_text
from bot.service import IntakeService
from store.repo import SqlStore
from tests.browser_support import chromium, need_browser, running_server, signed_in_page
from tests.conftest import EXAMPLES, MEMBER, OTHER, PROJECT_YAML
from tests.email_support import smtp_server_fixture  # noqa: F401  (a fixture)
from tests.support.clock import FakeClock
from tests.support.smtp import SmtpServer

IPHONE = "Could the order history also be in an iPhone app?"


@pytest.fixture
async def service(sqlite_url: str, clock: FakeClock) -> AsyncIterator[IntakeService]:
    """These tests are about the browser: one database (SQLite) is enough; the HTTP tests run both."""
    store = SqlStore.from_url(sqlite_url)
    svc = IntakeService(store, clock=clock)
    await svc.load_project(load_project_text(PROJECT_YAML, "acme.yaml"))
    yield svc
    await store.close()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    need_browser()
    async with chromium() as b:
        yield b


async def test_sign_in_with_a_one_time_link(service: IntakeService, sqlite_url: str, browser: Any) -> None:
    rec = await service.submit_request(project="acme-portal", actor=MEMBER, text=IPHONE)
    async with running_server(service, sqlite_url) as base:
        page = await signed_in_page(browser, service, base, "pm@acme.example")
        assert await page.locator("header .who").inner_text() == "pm@acme.example"
        assert rec.ref in await page.locator("table.requests").inner_text()
        cookies = {c["name"]: c for c in await page.context.cookies()}
        assert cookies["intake_session"]["httpOnly"] and cookies["intake_session"]["sameSite"] == "Lax"
        await page.click("text=Sign out")
        await page.wait_for_url("**/app/signin?notice=signed_out")
        await page.goto(f"{base}/app/requests")
        assert "/app/signin" in page.url


async def test_filter_and_search(service: IntakeService, sqlite_url: str, browser: Any) -> None:
    iphone = await service.submit_request(project="acme-portal", actor=MEMBER, text=IPHONE)
    card = await service.submit_request(project="acme-portal", actor=OTHER, text="Can we pay by credit card?")
    login = await service.submit_request(project="acme-portal", actor=OTHER, text="Password reset by e-mail please")
    async with running_server(service, sqlite_url) as base:
        page = await signed_in_page(browser, service, base, "pm@acme.example")
        rows = page.locator("table.requests tbody tr")
        assert await rows.count() == 3
        await page.fill("#f-q", "credit card")
        await page.click("text=Show")
        await page.wait_for_url("**q=credit+card**")
        assert await rows.count() == 1 and card.ref in await rows.first.inner_text()
        await page.fill("#f-q", "")
        await page.fill("#f-requester", "lee")
        await page.click("text=Show")
        await page.wait_for_url("**requester=lee**")
        listed = await page.locator("table.requests").inner_text()
        assert card.ref in listed and login.ref in listed and iphone.ref not in listed
        await page.select_option("#f-verdict", login.verdict.verdict.value)
        await page.click("text=Show")
        await page.wait_for_load_state()
        assert login.ref in await page.locator("table.requests").inner_text()
        await page.click("text=Clear filters")
        await page.click("th >> text=No.")  # sort by number
        await page.wait_for_url("**sort=ref**")
        first = await rows.first.inner_text()
        assert first.startswith(login.ref) or first.startswith(iphone.ref)


async def tone_text(page: Any) -> str:
    return str(await page.locator("[data-tone-list]").inner_text())


async def wait_for_change(page: Any, before: str) -> str:
    await page.wait_for_function(
        "before => document.querySelector('[data-tone-list]').innerText !== before", arg=before, timeout=10_000
    )
    return await tone_text(page)


async def test_decline_edit_the_letter_and_send_it(
    service: IntakeService, sqlite_url: str, browser: Any, smtp_server: SmtpServer
) -> None:
    rec = await service.submit_request(project="acme-portal", actor=MEMBER, text=IPHONE)
    env = {"SMTP_URL": smtp_server.url, "INTAKE_MAIL_FROM": "Northbeam Projects <projects@northbeam.example>"}
    async with running_server(service, sqlite_url, **env) as base:
        page = await signed_in_page(browser, service, base, "pm@acme.example")
        await page.goto(f"{base}/app/r/{rec.ref}")
        await page.click("[data-action=decline]")
        await page.wait_for_url(f"**/app/r/{rec.ref}/act/decline")
        await page.wait_for_selector("[data-tone-list] li")  # the check of the default answer, as it loads
        before = await tone_text(page)
        await page.fill("#f-empathy", "")
        await page.fill("#f-reason_text", "No. I won't do that, it is impossible and unreasonable.")
        blunt = await wait_for_change(page, before)
        assert "✗" in blunt
        await page.fill("#f-reason_text", "Native apps are outside the agreed scope of the portal.")
        await page.fill("#f-empathy", "We understand why a native app appeals to your buyers.")
        await wait_for_change(page, blunt)
        await page.click("form.form button[type=submit]")
        await page.wait_for_url(f"**/app/r/{rec.ref}?notice=done")
        body = page.locator("#l-body")
        original = await body.input_value()
        assert "Jane" in original
        shown = await tone_text(page)
        await body.fill("No.")
        short = await wait_for_change(page, shown)
        assert "✗" in short
        await body.fill(original.replace("Kind regards", "We would be glad to talk it through.\n\nKind regards"))
        await wait_for_change(page, short)
        await page.click("text=Save the letter")
        await page.wait_for_url("**notice=letter_saved**")
        assert "We would be glad to talk it through." in await page.locator("#l-body").input_value()
        await page.click("text=Send by e-mail…")
        await page.wait_for_url(f"**/app/r/{rec.ref}/send")
        recipients = await page.locator("dl.recipients").inner_text()
        assert "jane.doe@acme.example" in recipients and "pm@acme.example" in recipients
        await page.click("text=Send it now")
        await page.wait_for_url("**notice=queued**")
        for _ in range(100):
            if smtp_server.received:
                break
            await asyncio.sleep(0.05)
        assert smtp_server.received, "the letter never reached the mail server"
        mail = smtp_server.received[0]
        assert "jane.doe@acme.example" in mail.rcpt_tos
        assert "We would be glad to talk it through." in mail.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        for _ in range(100):
            if (await service.get_request(rec.ref)).status.value == "letter_sent":
                break
            await asyncio.sleep(0.05)
        await page.reload()
        assert "sent" in (await page.locator("#letter").inner_text()).lower()


async def test_a_team_member_has_no_decide_buttons_and_forged_posts_are_refused(
    service: IntakeService, sqlite_url: str, browser: Any
) -> None:
    rec = await service.submit_request(project="acme-portal", actor=MEMBER, text=IPHONE)
    async with running_server(service, sqlite_url) as base:
        page = await signed_in_page(browser, service, base, "sam@acme-team.example")
        await page.goto(f"{base}/app/r/{rec.ref}")
        for action in ("approve", "decline", "ask"):
            assert await page.locator(f"[data-action={action}]").count() == 0
        assert await page.locator("[data-action=withdraw]").count() == 1
        forged = await page.evaluate(
            """async (ref) => {
                const csrf = document.querySelector('input[name=csrf]').value;
                const body = new URLSearchParams({csrf, reason_category: 'project_goals', reason_text: 'No', channel: 'email'});
                const r = await fetch(`/app/r/${ref}/act/decline`, {method: 'POST', body});
                return r.status;
            }""",
            rec.ref,
        )
        assert forged == 403
        no_token = await page.evaluate(
            """async (ref) => {
                const body = new URLSearchParams({reason: 'changed my mind'});
                const r = await fetch(`/app/r/${ref}/act/withdraw`, {method: 'POST', body});
                return [r.status, await r.text()];
            }""",
            rec.ref,
        )
        assert no_token[0] == 403 and "security token" in no_token[1]
        after = await service.get_request(rec.ref)
        assert after.status.is_open and [e.kind for e in after.events].count("denied") == 1


async def test_the_chinese_page_is_in_chinese(service: IntakeService, sqlite_url: str, browser: Any) -> None:
    await service.load_project(load_project_file(str(EXAMPLES / "lanting-crm.yaml")))
    wu = Actor("console", "wu@lanting.example", email="wu@lanting.example", name="吴敏")
    rec = await service.submit_request(project="lanting-crm", actor=wu, text="能不能做一个微信小程序，让会员在线下单？")
    async with running_server(service, sqlite_url) as base:
        page = await signed_in_page(browser, service, base, "dana.lee@northbeam.example", locale="zh-CN")
        await page.goto(f"{base}/app/r/{rec.ref}")
        main = await page.locator("main").inner_text()
        assert "经过" in main and "判断" in main and "婉拒" in main
        assert await page.get_attribute("html", "lang") == "zh-CN"
        await page.click("header >> text=English")
        await page.wait_for_load_state()
        assert "Timeline" in await page.locator("main").inner_text()
        await page.click("header >> text=中文")
        await page.wait_for_load_state()
        assert "经过" in await page.locator("main").inner_text()
