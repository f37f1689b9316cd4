"""Time `build_report` on any database: the function the reports benchmark (and a page's bench) calls."""

from __future__ import annotations

import statistics
import time
from datetime import date, datetime
from typing import Any

from bot.reports import build_report
from store.repo import SqlStore


async def time_report(
    url: str,
    *,
    projects: list[str] | None,
    start: date,
    end: date,
    lang: str = "en",
    rounds: int = 20,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Time `build_report` on the database at `url`: one warm-up, then `rounds` runs. Milliseconds."""
    store = SqlStore.from_url(url)
    try:
        report = await build_report(store, projects, start, end, lang, now=now)
        times = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            await build_report(store, projects, start, end, lang, now=now)
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        return {
            "projects": projects or "all",
            "from": start.isoformat(),
            "to": end.isoformat(),
            "requests_counted": report.figure("requests").number,
            "median_ms": round(statistics.median(times), 1),
            "p90_ms": round(times[max(0, int(len(times) * 0.9) - 1)], 1),
            "max_ms": round(times[-1], 1),
        }
    finally:
        await store.close()
