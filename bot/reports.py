"""Reports over a period, per project or over several: what came in, how much of it was scope creep, what
the PMs decided and how fast, how often they went against the checker, and how far the letters got.

`build_report` asks the store for the numbers (`Reports.report_numbers`, grouped queries in the database)
and turns them into charts and headline figures in the reader's language. Any renderer (the web page, the
command line) shows a `Report`; `chart_csv` and `chart_svg` turn one chart into a download or a picture.

Weeks start on Monday and are counted in UTC. A request counts in the week it was recorded; a decision in
the week it was made.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from .charts import Chart, Series, chart_csv, chart_svg, number
from .domain import DecisionKind, Language, VerdictKind
from .errors import InvalidInput, NotFound
from .ports import AgainstVerdict, ReportNumbers, ReportQuery, Reports, WeekCount
from .text import Phrase, t

MAX_DAYS = 731  # two years: 105 weekly bars is as many as a chart can still show
LIST_LIMIT = 200
TEXT_CHARS = 140

VERDICTS = (VerdictKind.IN_SCOPE, VerdictKind.OUT_OF_SCOPE, VerdictKind.UNLISTED)
DECISIONS = ("approve", "approve_change", "decline", "needs_info")
CHART_KEYS = ("requests", "scope_creep", "decisions", "letters")
FIGURE_KEYS = (
    "requests",
    "scope_creep",
    "decisions",
    "median",
    "p90",
    "overdue",
    "against",
    "agreement",
    "letters_drafted",
    "letters_sent",
    "outcomes",
)


@dataclass(frozen=True)
class Figure:
    """A headline number: its label, the value as people read it, the number itself (None: nothing to
    measure), and a note saying what it was measured over."""

    key: str
    label: str
    value: str
    number: float | None
    note: str = ""


@dataclass(frozen=True)
class AgainstItem:
    """A request on which a PM went against the checker's verdict, as the page lists it."""

    ref: str
    project: str
    text: str  # the request, shortened
    summary: str  # what happened: "Declined, though the checker found it in scope"
    checker: str  # the checker's verdict (a `VerdictKind` value)
    decision: str | None  # "approve" | "decline" when the decision went against it
    corrected_to: str | None  # the verdict a PM corrected it to
    at: datetime


@dataclass(frozen=True)
class Report:
    """A period's report. `projects` is None for every project. `against_verdict` lists the requests behind
    the "decided against the verdict" figure (newest first; `against_total` counts them all)."""

    projects: tuple[str, ...] | None
    start: date
    end: date  # inclusive
    language: Language
    title: str
    charts: list[Chart]
    figures: list[Figure]
    against_verdict: list[AgainstItem]
    against_total: int

    def chart(self, key: str) -> Chart:
        """The chart `key`; `NotFound` names the charts there are."""
        for c in self.charts:
            if c.key == key:
                return c
        raise NotFound(Phrase("report.err.no_chart", key=key, keys=", ".join(c.key for c in self.charts)))

    def figure(self, key: str) -> Figure:
        """The headline figure `key` (see `FIGURE_KEYS`)."""
        for f in self.figures:
            if f.key == key:
                return f
        raise KeyError(key)


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The period as UTC times: from the start of `start` to the end of `end` (exclusive bound)."""
    if start > end:
        raise InvalidInput(Phrase("report.err.range", start=start.isoformat(), end=end.isoformat()), field="start")
    if (end - start).days + 1 > MAX_DAYS:
        raise InvalidInput(Phrase("report.err.too_long", days=MAX_DAYS), field="end")
    return datetime.combine(start, time(), UTC), datetime.combine(end + timedelta(days=1), time(), UTC)


def weeks_of(start: date, end: date) -> list[date]:
    """The Mondays of every week the period touches."""
    first = start - timedelta(days=start.weekday())
    return [first + timedelta(weeks=i) for i in range((end - first).days // 7 + 1)]


async def build_report(
    store: Reports,
    projects: Sequence[str] | None,
    start: date,
    end: date,
    lang: str,
    *,
    now: datetime | None = None,
    covers: str | None = None,
) -> Report:
    """Build the report of `projects` (None: every project; pass only those the reader may see) from
    `start` to `end` (both days included, UTC) in language `lang` ("en" or "zh").

    `now` is when "overdue" is judged (the service's clock; the current time by default). `covers` is what
    the title says the report is about (a project's name; default: the slugs, or "every project"). Raises
    `InvalidInput` for a period that ends before it starts or is longer than two years, or another language.
    """
    try:
        language = Language(lang)
    except ValueError:
        raise InvalidInput(Phrase("report.err.language", lang=lang), field="lang") from None
    lo, hi = period_bounds(start, end)
    chosen = None if projects is None else tuple(dict.fromkeys(projects))
    numbers = await store.report_numbers(ReportQuery(chosen, lo, hi, now or datetime.now(UTC), list_limit=LIST_LIMIT))
    return assemble(numbers, chosen, start, end, language, covers=covers)


def assemble(
    numbers: ReportNumbers,
    projects: tuple[str, ...] | None,
    start: date,
    end: date,
    language: Language,
    *,
    covers: str | None = None,
) -> Report:
    """The report from the store's numbers (pure: tested with plain data as well)."""
    words = _Words(language, start, end)
    weeks = weeks_of(start, end)
    labels = [words.week(w) for w in weeks]
    requests = _grid(numbers.requests_by_week, weeks, [v.value for v in VERDICTS])
    decisions = _grid(numbers.decisions_by_week, weeks, list(DECISIONS))
    charts = [
        _requests_chart(words, labels, requests, weeks),
        _scope_creep_chart(words, labels, requests),
        _decisions_chart(words, labels, decisions),
        _letters_chart(words, numbers),
    ]
    against = [_against_item(words, a) for a in numbers.against_list]
    names = covers or (", ".join(projects) if projects else t(language, "report.all_projects"))
    return Report(
        projects=projects,
        start=start,
        end=end,
        language=language,
        title=t(language, "report.title", projects=names, period=words.period),
        charts=charts,
        figures=_figures(words, numbers, requests, decisions),
        against_verdict=against,
        against_total=numbers.against,
    )


def _grid(counts: Sequence[WeekCount], weeks: list[date], kinds: list[str]) -> dict[str, list[int]]:
    """Counts by kind, one per week of the period (0 where the database had none)."""
    index = {w: i for i, w in enumerate(weeks)}
    grid = {k: [0] * len(weeks) for k in kinds}
    for c in counts:
        if c.kind in grid and c.week in index:
            grid[c.kind][index[c.week]] += c.count
    return grid


class _Words:
    """The report's words in one language."""

    def __init__(self, language: Language, start: date, end: date) -> None:
        self.language = language
        self.period = t(language, "report.period", start=self.day(start), end=self.day(end))

    def __call__(self, key: str, /, **args: object) -> str:
        return t(self.language, key, **args)

    def counted(self, key: str, n: float, **args: object) -> str:
        """`key` with `n`, in its singular form (`key.one`) when `n` is one."""
        return self(f"{key}.one" if n == 1 else key, n=number(n), **args)

    def day(self, d: date) -> str:
        return self("report.date", day=str(d.day), month=self(f"time.month.{d.month}"), year=str(d.year))

    def week(self, d: date) -> str:
        return self("report.week", day=str(d.day), month=self(f"time.month.{d.month}"))

    def listing(self, items: list[str]) -> str:
        """ "a, b and c" / "a，b，c"."""
        if len(items) <= 1:
            return "".join(items)
        text = items[0]
        for item in items[1:-1]:
            text = self("report.list", rest=text, item=item)
        return self("report.list_last", rest=text, last=items[-1])

    def duration(self, seconds: float | None) -> str:
        if seconds is None:
            return self("report.value.none")
        hours = seconds / 3600
        if hours < 48:
            return self.counted("report.value.hours", round(hours, 1))
        return self.counted("report.value.days", round(hours / 24, 1))


def _requests_chart(words: _Words, labels: list[str], grid: dict[str, list[int]], weeks: list[date]) -> Chart:
    totals = [sum(col) for col in zip(*grid.values(), strict=True)]
    total = sum(totals)
    if total:
        parts = [
            words("report.part.requests", n=sum(grid[v.value]), what=words(f"verdict.word.{v.value}"))
            for v in VERDICTS
            if sum(grid[v.value])
        ]
        busiest = max(range(len(totals)), key=lambda i: (totals[i], -i))
        description = words(
            "report.chart.requests.desc",
            period=words.period,
            total=total,
            parts=words.listing(parts),
            week=words.week(weeks[busiest]),
            most=words.counted("report.count.requests", totals[busiest]),
        )
    else:
        description = words("report.chart.requests.none", period=words.period)
    return Chart(
        key="requests",
        title=words("report.chart.requests.title"),
        description=description,
        labels=labels,
        series=[Series(words(f"verdict.{v.value}"), [float(x) for x in grid[v.value]], key=v.value) for v in VERDICTS],
        unit=words("report.unit.requests"),
        x_label=words("report.axis.week"),
        style="stacked",
        legend_title=words("report.legend"),
    )


def _pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def _scope_creep_chart(words: _Words, labels: list[str], grid: dict[str, list[int]]) -> Chart:
    creep = [a + b for a, b in zip(grid[VerdictKind.OUT_OF_SCOPE.value], grid[VerdictKind.UNLISTED.value], strict=True)]
    totals = [sum(col) for col in zip(*grid.values(), strict=True)]
    shares = [_pct(c, n) for c, n in zip(creep, totals, strict=True)]
    measured = [s for s, n in zip(shares, totals, strict=True) if n]
    if measured:
        description = words(
            "report.chart.scope_creep.desc",
            period=words.period,
            pct=number(_pct(sum(creep), sum(totals))),
            creep=sum(creep),
            total=sum(totals),
            low=number(min(measured)),
            high=number(max(measured)),
        )
    else:
        description = words("report.chart.scope_creep.none", period=words.period)
    return Chart(
        key="scope_creep",
        title=words("report.chart.scope_creep.title"),
        description=description,
        labels=labels,
        series=[Series(words("report.series.share"), shares, key="share")],
        unit=words("report.unit.percent"),
        x_label=words("report.axis.week"),
        style="lines",
        y_max=100.0,
        legend_title=words("report.legend"),
    )


def _decisions_chart(words: _Words, labels: list[str], grid: dict[str, list[int]]) -> Chart:
    total = sum(sum(v) for v in grid.values())
    if total:
        parts = [
            words("report.part.decisions", n=sum(grid[k]), what=words(f"report.decision_word.{k}"))
            for k in DECISIONS
            if sum(grid[k])
        ]
        description = words("report.chart.decisions.desc", period=words.period, total=total, parts=words.listing(parts))
    else:
        description = words("report.chart.decisions.none", period=words.period)
    return Chart(
        key="decisions",
        title=words("report.chart.decisions.title"),
        description=description,
        labels=labels,
        series=[Series(words(f"report.decision.{k}"), [float(x) for x in grid[k]], key=k) for k in DECISIONS],
        unit=words("report.unit.decisions"),
        x_label=words("report.axis.week"),
        style="stacked",
        legend_title=words("report.legend"),
    )


def _letters_chart(words: _Words, n: ReportNumbers) -> Chart:
    if n.letters_drafted or n.letters_sent or n.outcomes_recorded:
        description = words(
            "report.chart.letters.desc",
            period=words.period,
            drafted=n.letters_drafted,
            sent=n.letters_sent,
            outcome=n.outcomes_recorded,
        )
    else:
        description = words("report.chart.letters.none", period=words.period)
    return Chart(
        key="letters",
        title=words("report.chart.letters.title"),
        description=description,
        labels=[words("report.letters.drafted"), words("report.letters.sent"), words("report.letters.outcome")],
        series=[
            Series(
                words("report.series.letters"),
                [float(n.letters_drafted), float(n.letters_sent), float(n.outcomes_recorded)],
            )
        ],
        unit=words("report.unit.letters"),
        x_label=words("report.axis.stage"),
        style="bars",
        legend_title=words("report.legend"),
    )


def _figures(
    words: _Words, n: ReportNumbers, requests: dict[str, list[int]], decisions: dict[str, list[int]]
) -> list[Figure]:
    total = sum(sum(v) for v in requests.values())
    creep = sum(requests[VerdictKind.OUT_OF_SCOPE.value]) + sum(requests[VerdictKind.UNLISTED.value])
    decided = sum(sum(v) for v in decisions.values())
    none = words("report.value.none")

    def pct(part: int, whole: int) -> tuple[str, float | None]:
        if not whole:
            return none, None
        value = _pct(part, whole)
        return words("report.value.percent", pct=number(value)), value

    creep_text, creep_pct = pct(creep, total)
    agree_text, agree_pct = pct(n.judged - n.against, n.judged)
    answered = words("report.note.answered", n=n.answered)
    judged = words("report.note.agreement", n=n.judged)
    return [
        Figure("requests", words("report.figure.requests"), str(total), float(total)),
        Figure(
            "scope_creep",
            words("report.figure.scope_creep"),
            creep_text,
            creep_pct,
            words("report.value.of", n=creep, total=total),
        ),
        Figure("decisions", words("report.figure.decisions"), str(decided), float(decided)),
        Figure("median", words("report.figure.median"), words.duration(n.answer_median), n.answer_median, answered),
        Figure("p90", words("report.figure.p90"), words.duration(n.answer_p90), n.answer_p90, answered),
        Figure("overdue", words("report.figure.overdue"), str(n.overdue), float(n.overdue)),
        Figure(
            "against",
            words("report.figure.against"),
            words("report.value.of", n=n.against, total=n.judged) if n.judged else none,
            float(n.against),
            judged,
        ),
        Figure("agreement", words("report.figure.agreement"), agree_text, agree_pct, judged),
        Figure("letters_drafted", words("report.figure.letters_drafted"), str(n.letters_drafted), n.letters_drafted),
        Figure("letters_sent", words("report.figure.letters_sent"), str(n.letters_sent), n.letters_sent),
        Figure("outcomes", words("report.figure.outcomes"), str(n.outcomes_recorded), n.outcomes_recorded),
    ]


def _shorten(text: str, limit: int = TEXT_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _against_item(words: _Words, a: AgainstVerdict) -> AgainstItem:
    verdict = words(f"verdict.word.{a.checker}")
    parts = []
    if a.decision == DecisionKind.APPROVE.value:
        parts.append(words("report.against.approved", verdict=verdict))
    elif a.decision == DecisionKind.DECLINE.value:
        parts.append(words("report.against.declined", verdict=verdict))
    if a.corrected_to:
        parts.append(words("report.against.corrected", verdict=verdict, to=words(f"verdict.word.{a.corrected_to}")))
    separator = "; " if words.language is Language.EN else "；"
    return AgainstItem(
        ref=a.ref,
        project=a.project,
        text=_shorten(a.text),
        summary=separator.join(parts),
        checker=a.checker,
        decision=a.decision,
        corrected_to=a.corrected_to,
        at=a.at,
    )


__all__ = [
    "CHART_KEYS",
    "FIGURE_KEYS",
    "AgainstItem",
    "Chart",
    "Figure",
    "Report",
    "Series",
    "assemble",
    "build_report",
    "chart_csv",
    "chart_svg",
    "period_bounds",
    "weeks_of",
]
