"""`make screenshots-web`: draw each page of the web app (/app) in English and in Chinese, with example data.

A throwaway SQLite database gets the two example projects (a second version of one, so its page shows what
changed), requests from their clients' teams, and the PM's answers: a decline with its letter drafted, an
approved scope change, a question. The server runs on a free port and the system's Chromium (driven by
Playwright, never a downloaded browser) signs in with a one-time link and draws every page into
`build/screenshots-web/` (ignored by git). `--docs` also copies a few into `docs/screenshots/`.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from adapters.runtime import Runtime, open_runtime
from adapters.settings import Settings
from adapters.web.app import create_app
from adapters.web.pm.links import new_signin_link
from bot.domain import Actor, ScopeChange
from bot.ports import Clock
from bot.projectfile import load_project_file, load_project_text
from bot.service import IntakeService
from tools.cardrender import LAUNCH_ARGS, chromium_path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "screenshots-web"
DOCS = ROOT / "docs" / "screenshots"
EXAMPLES = ROOT / "examples"
BRIGHTPATH = EXAMPLES / "brightpath-booking.yaml"
PM = Actor("console", "dana.lee@northbeam.example", email="dana.lee@northbeam.example", name="Dana Lee")
DOC_PICTURES = ("en-requests.png", "en-request-letter.png", "zh-request-letter.png")


class Fixed(Clock):
    """A clock the example moves by hand: the same pictures on every run."""

    def __init__(self) -> None:
        self.t = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.t


EN_REQUESTS = [
    ("tom.baker@brightpath.example", "Tom Baker", "Could patients also pay a deposit online when they book?"),
    ("tom.baker@brightpath.example", "Tom Baker", "Can the booking page show each practitioner's photo and short bio?"),
    ("amira.khan@brightpath.example", "Amira Khan", "We would like an iPhone app so patients get push reminders."),
    (
        "amira.khan@brightpath.example",
        "Amira Khan",
        "Please add SMS reminders as well as e-mail, many patients never read e-mail.",
    ),
    ("tom.baker@brightpath.example", "Tom Baker", "Can reception block a slot for a staff meeting every Tuesday?"),
    ("li.wei@brightpath.example", "Li Wei", "Could the monthly report also list no-shows per practitioner?"),
    ("li.wei@brightpath.example", "Li Wei", "Patients ask to see their treatment notes after each visit."),
]
ZH_REQUESTS = [
    ("wu.min@lanting.example", "吴敏", "能不能做一个微信小程序，让会员在线下单？"),
    ("wu.min@lanting.example", "吴敏", "会员生日那天能不能自动发一张生日券？"),
    ("zhou.jie@lanting.example", "周杰", "积分能不能在隔壁的便利店也用？"),
    ("zhou.jie@lanting.example", "周杰", "报表里能不能加上每家门店的会员复购率？"),
    ("chen.lu@lanting.example", "陈露", "希望把会员数据同步到我们的金蝶财务系统。"),
]


async def example_data(service: IntakeService, clock: Fixed) -> dict[str, str]:
    """Load the projects, record the requests and answer some; return the refs the pictures use."""
    await service.load_project(load_project_file(str(EXAMPLES / "brightpath-booking.yaml")), loaded_by="dana.lee")
    await service.load_project(load_project_file(str(EXAMPLES / "lanting-crm.yaml")), loaded_by="dana.lee")
    clock.t += timedelta(days=3)
    text = BRIGHTPATH.read_text(encoding="utf-8")
    text = text.replace(
        "out_of_scope:\n",
        '  - {id: sms, title: "Appointment reminders by SMS", notes: "Agreed 2026-11-05: a text message 24 hours before."}\n'
        "out_of_scope:\n",
        1,
    )
    await service.load_project(load_project_text(text, "brightpath-booking.yaml"), loaded_by="dana.lee")
    refs: dict[str, list[str]] = {"en": [], "zh": []}
    for lang, slug, items in (("en", "brightpath-booking", EN_REQUESTS), ("zh", "lanting-crm", ZH_REQUESTS)):
        for email, name, words in items:
            clock.t += timedelta(hours=7)
            rec = await service.submit_request(
                project=slug, actor=Actor("console", email, email=email, name=name), text=words
            )
            refs[lang].append(rec.ref)
    clock.t += timedelta(hours=2)
    en, zh = refs["en"], refs["zh"]
    await service.decline(en[2], actor=PM, form=await service.decline_form_defaults(en[2]))
    await service.approve(en[1], actor=PM, change=ScopeChange("2 person-days", "none: fits in the design sprint"))
    await service.approve(en[0], actor=PM, change=ScopeChange("8 person-days", "launch +1 week"))
    await service.ask_details(en[3], actor=PM, question="Which clinics would use SMS, and who pays for the messages?")
    await service.decline(zh[0], actor=PM, form=await service.decline_form_defaults(zh[0]))
    await service.approve(zh[3], actor=PM, change=ScopeChange("3人天", "不影响上线日期"))
    clock.t += timedelta(days=6)  # a few decisions are overdue by now
    return {"en": en[2], "zh": zh[0], "en_form": en[6], "zh_form": zh[4]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def draw(out: Path) -> list[Path]:
    from playwright.async_api import async_playwright

    clock = Fixed()
    drawn: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/intake.db"
        rt = await open_runtime(url, migrate=True, clock=clock)
        refs = await example_data(rt.service, clock)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        settings = Settings(
            DATABASE_URL=url,
            INTAKE_PUBLIC_URL=base,
            SMTP_URL="smtp://127.0.0.1:9",
            INTAKE_MAIL_FROM="Northbeam Projects <projects@northbeam.example>",
        )  # type: ignore[call-arg]
        app = create_app(settings, runtime=Runtime(rt.store, rt.service), dispatch=False)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=chromium_path(), args=LAUNCH_ARGS)
                context = await browser.new_context(viewport={"width": 1280, "height": 860}, device_scale_factor=1)
                page = await context.new_page()

                async def shot(name: str, path: str, *, wait: str | None = None) -> None:
                    await page.goto(base + path)
                    if wait:
                        await page.wait_for_selector(wait)
                    target = out / f"{name}.png"
                    await page.screenshot(path=str(target), full_page=True)
                    drawn.append(target)

                await shot("en-signin", "/app/signin")
                link = await new_signin_link(rt.store, PM.email or "", now=clock.now(), base_url=base)
                await page.goto(link)
                await page.click("button[type=submit]")
                await page.wait_for_url("**/app/requests")
                for lang in ("en", "zh"):
                    await set_language(page, base, lang)
                    await shot(f"{lang}-projects", "/app/projects")
                    slug = "brightpath-booking" if lang == "en" else "lanting-crm"
                    await shot(f"{lang}-project", f"/app/projects/{slug}")
                    await shot(f"{lang}-requests", "/app/requests")
                    await shot(f"{lang}-requests-overdue", f"/app/requests?project={slug}&due=overdue")
                    await shot(f"{lang}-request-letter", f"/app/r/{refs[lang]}", wait="[data-tone-list] li")
                    await shot(
                        f"{lang}-decline-form", f"/app/r/{refs[lang + '_form']}/act/decline", wait="[data-tone-list] li"
                    )
                    await shot(f"{lang}-send-confirm", f"/app/r/{refs[lang]}/send")
                    await shot(f"{lang}-changes", "/app/changes")
                    await shot(f"{lang}-reports", f"/app/reports?project={slug}")
                await set_language(page, base, "zh")
                await page.click("text=退出登录")
                await shot("zh-signin", "/app/signin?lang=zh")
                await browser.close()
        finally:
            await runner.cleanup()
            await rt.close()
    return drawn


async def set_language(page: Any, base: str, lang: str) -> None:
    """Press the page's own language switch until the page is in `lang`."""
    await page.goto(base + "/app/requests")
    if await page.get_attribute("html", "lang") != ("zh-CN" if lang == "zh" else "en"):
        await page.click("header form[action$='/language'] button")
        await page.wait_for_load_state()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.web_screenshots", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"where the PNGs go (default {OUT.relative_to(ROOT)})")
    parser.add_argument("--docs", action="store_true", help="also copy the README's pictures into docs/screenshots")
    args = parser.parse_args(argv)
    if chromium_path() is None:
        print("Chromium is not installed (apt-get install -y chromium)", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    drawn = asyncio.run(draw(args.out))
    for p in drawn:
        print(p.relative_to(ROOT) if p.is_relative_to(ROOT) else p)
    if args.docs:
        DOCS.mkdir(parents=True, exist_ok=True)
        for name in DOC_PICTURES:
            shutil.copyfile(args.out / name, DOCS / f"web-{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
