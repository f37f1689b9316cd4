"""Timing the web app's pages: reusable by any bench that has a running server and a database full of
requests (`bench.web` seeds its own; a bench at another scale can call `time_pages` on its server).

The time is the server's own, from the `Server-Timing: app;dur=…` header each page sends (no network,
no browser); a streamed download has no such header, so its time is the client's, to the last byte.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

import aiohttp

from adapters.web.pm.links import new_signin_link
from bot.ports import WebAccess


@dataclass(frozen=True)
class PageTiming:
    name: str
    path: str
    status: int
    median_ms: float
    p90_ms: float
    max_ms: float
    server_timed: bool  # from Server-Timing (else the client's time to the last byte)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def standard_pages(*, project: str, ref: str, open_ref: str, word: str, pages: int, today: date) -> dict[str, str]:
    """Every page of the app, with the list asked the ways a PM asks it (`pages`: the list's last page;
    `today`: the server's day, where the reports end)."""
    return {
        "projects": "/app/projects",
        "project": f"/app/projects/{project}",
        "requests": "/app/requests",
        "requests, last page": f"/app/requests?page={max(1, pages)}",
        "requests, search": f"/app/requests?q={word}",
        "requests, status+verdict": "/app/requests?status=in_review&verdict=out_of_scope",
        "requests, overdue": "/app/requests?due=overdue",
        "requests, by due date": "/app/requests?sort=due&dir=asc",
        "requests, by requester": "/app/requests?requester=sam",
        "request": f"/app/r/{ref}",
        "decline form": f"/app/r/{open_ref}/act/decline",
        "change register": "/app/changes",
        "change register CSV": "/app/changes.csv",
        "reports, a project's quarter": f"/app/reports?project={project}",
        "reports, every project, a year": f"/app/reports?from={(today - timedelta(days=364)).isoformat()}",
    }


async def signed_in_session(base_url: str, store: WebAccess, email: str, *, now: datetime) -> aiohttp.ClientSession:
    """A client session signed in as `email` through a one-time link, as a browser would be."""
    session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    link = await new_signin_link(store, email, now=now, base_url=base_url)
    async with session.get(link) as page:
        html = await page.text()
    csrf = html.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    token = link.split("token=", 1)[1]
    async with session.post(f"{base_url}/app/signin/link", data={"csrf": csrf, "token": token}) as done:
        if done.status != 200 or "/app/signin" in str(done.url):
            raise RuntimeError(f"could not sign in as {email}: HTTP {done.status} at {done.url}")
    return session


async def time_pages(
    base_url: str, session: aiohttp.ClientSession, pages: dict[str, str], *, repeat: int = 20, warmup: int = 2
) -> list[PageTiming]:
    """Ask each page `warmup` + `repeat` times, one at a time; return each page's server time."""
    out = []
    for name, path in pages.items():
        times: list[float] = []
        timed = True
        status = 0
        for i in range(warmup + repeat):
            started = time.perf_counter()
            async with session.get(base_url + path, allow_redirects=False) as resp:
                await resp.read()
                wall = (time.perf_counter() - started) * 1000
                status = resp.status
                header = resp.headers.get("Server-Timing", "")
            if i < warmup:
                continue
            if "dur=" in header:
                times.append(float(header.split("dur=", 1)[1].split(",", 1)[0]))
            else:
                timed = False
                times.append(wall)
        ordered = sorted(times)
        out.append(
            PageTiming(
                name,
                path,
                status,
                round(statistics.median(ordered), 1),
                round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))], 1),
                round(ordered[-1], 1),
                timed,
            )
        )
    return out
