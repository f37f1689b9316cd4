"""`intake report`: a period's headline numbers as a table, and any chart as CSV or SVG."""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import click

from adapters.cli.main import run, settings_from, with_runtime

if TYPE_CHECKING:  # the core is imported when the command runs, not for `intake --help`
    from adapters.runtime import Runtime
    from bot.reports import Report

# bot.reports.CHART_KEYS, written out so that the options need no import of the core (a test keeps them equal)
CHART_CHOICES = ("requests", "scope_creep", "decisions", "letters")


def width(text: str) -> int:
    """Columns `text` takes in a terminal (Chinese characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def pad(text: str, columns: int) -> str:
    return text + " " * max(0, columns - width(text))


def report_table(report: Report) -> str:
    """The headline figures as an aligned table, then the requests decided against the verdict."""
    label_w = max(width(f.label) for f in report.figures) + 2
    value_w = max(width(f.value) for f in report.figures) + 2
    lines = [report.title, ""]
    for f in report.figures:
        lines.append((pad(f.label, label_w) + pad(f.value, value_w) + f.note).rstrip())
    if report.against_verdict:
        lines += ["", report.figure("against").label + ":"]
        ref_w = max(width(a.ref) for a in report.against_verdict) + 2
        for a in report.against_verdict:
            lines.append(f"  {pad(a.ref, ref_w)}{a.summary} · “{a.text}”")
    return "\n".join(lines) + "\n"


@click.command("report")
@click.argument("slug", metavar="[PROJECT]", required=False)
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="First day (default: 12 weeks ago).")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="Last day, included (default: today).")
@click.option("--lang", type=click.Choice(["en", "zh"]), help="Language (default: the team's).")
@click.option("--csv", "csv_key", type=click.Choice(CHART_CHOICES), help="Print this chart's numbers as CSV instead.")
@click.option("--svg", "svg_key", type=click.Choice(CHART_CHOICES), help="Write this chart as SVG (with --out).")
@click.option("--out", "out", type=click.Path(dir_okay=False, writable=True), help="File to write the CSV or SVG to.")
@click.pass_context
def report(
    ctx: click.Context,
    slug: str | None,
    start: datetime | None,
    end: datetime | None,
    lang: str | None,
    csv_key: str | None,
    svg_key: str | None,
    out: str | None,
) -> None:
    """Report on PROJECT (or every project) over a period: requests per week by verdict, scope creep,
    decisions, time to decision, overdue decisions, decisions against the verdict and letters."""
    from bot.domain import Language
    from bot.reports import build_report, chart_csv, chart_svg
    from bot.text import language_for

    if csv_key and svg_key:
        raise click.UsageError("Give --csv or --svg, not both.")
    if svg_key and not out:
        raise click.UsageError("--svg needs --out FILE.")
    last: date = end.date() if end else datetime.now(UTC).date()
    first: date = start.date() if start else last - timedelta(weeks=12) + timedelta(days=1)

    async def go(rt: Runtime) -> Report:
        if slug:
            project = await rt.service.project(slug)  # an unknown project: a clear error naming the known ones
            language = Language(lang) if lang else language_for(project)
        else:
            language = Language(lang) if lang else await rt.service.house_language()
        return await build_report(
            rt.store, [slug] if slug else None, first, last, language.value, now=rt.service.clock.now()
        )

    result = run(with_runtime(settings_from(ctx), go))
    if csv_key or svg_key:
        chart = result.chart(csv_key or svg_key or "")
        text = chart_csv(chart) if csv_key else chart_svg(chart)
        if out:
            with open(out, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
            click.echo(f"Wrote {out}.", err=True)
        else:
            click.echo(text, nl=False)
        return
    click.echo(report_table(result), nl=False)
