"""The reports page: a period's figures and charts for the projects a person may see, each chart as
accessible SVG with its numbers as CSV (`bot.reports` builds them; this only renders)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from aiohttp import web
from markupsafe import Markup

from bot.charts import chart_csv, chart_svg
from bot.domain import Language, Project
from bot.errors import IntakeError
from bot.reports import Report, build_report
from bot.text import t

from .core import PREFIX, Visitor, page_language, render, require, runtime
from .pages import _day, refusal, visible

DEFAULT_WEEKS = 12


async def _report(request: web.Request) -> tuple[Visitor, Language, Report | web.Response, dict[str, str]]:
    """The report the address asks for (`project`, `from`, `to`), over the projects this person may see.
    A project they may not see is a 404, as everywhere on the page; a period that makes no sense a 400."""
    v = await require(request)
    projects = {p.slug: p for p in await visible(request, v)}
    only = request.query.get("project", "")
    project: Project | None = projects.get(only)
    lang = await page_language(request, v, project)
    if only and project is None:
        raise web.HTTPNotFound(text=t(lang, "web.err.no_project", slug=only[:64]))
    today = runtime(request).service.clock.now().date()
    end = _day(request.query.get("to", ""), "web.reports.to", lang) or today
    start = _day(request.query.get("from", ""), "web.reports.from", lang) or (
        end - timedelta(weeks=DEFAULT_WEEKS) + timedelta(days=1)
    )
    query = {"project": only, "from": start.isoformat(), "to": end.isoformat()}
    try:
        report: Report | web.Response = await build_report(
            runtime(request).store,
            [only] if only else list(projects),
            start,
            end,
            lang.value,
            now=runtime(request).service.clock.now(),
            covers=project.name if project else t(lang, "web.reports.all_yours"),
        )
    except IntakeError as exc:
        report = refusal(request, lang, v, exc)
    return v, lang, report, query


async def reports_page(request: web.Request) -> web.Response:
    v, lang, report, query = await _report(request)
    if isinstance(report, web.Response):
        return report

    def csv_link(key: str) -> str:
        return f"{PREFIX}/reports/{key}.csv?" + urlencode({k: val for k, val in query.items() if val})

    # chart_svg escapes every text it draws, so its SVG goes into the page as it is
    charts = [
        {"chart": c, "svg": Markup(chart_svg(c, id_prefix=f"c{i}-")), "csv": csv_link(c.key)}
        for i, c in enumerate(report.charts)
    ]
    return render(
        request,
        "reports.html",
        lang,
        v,
        nav="reports",
        report=report,
        charts=charts,
        projects=await visible(request, v),
        project=query["project"],
        start=query["from"],
        end=query["to"],
    )


async def report_csv(request: web.Request) -> web.Response:
    v, lang, report, query = await _report(request)
    if isinstance(report, web.Response):
        return report
    try:
        chart = report.chart(request.match_info["chart"])
    except IntakeError as exc:
        return refusal(request, lang, v, exc)
    name = f"{chart.key}-{query['from']}-{query['to']}.csv"
    return web.Response(
        body=("\ufeff" + chart_csv(chart)).encode(),  # a byte-order mark, so spreadsheets read Chinese right
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get(f"{PREFIX}/reports", reports_page)
    app.router.add_get(f"{PREFIX}/reports/{{chart}}.csv", report_csv)


__all__ = ["add_routes"]
