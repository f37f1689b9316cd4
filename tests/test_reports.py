"""Reports, on SQLite and PostgreSQL: requests recorded and decided through the service with a clock the
test moves, so every number is known in advance: requests per week by verdict, the scope-creep share,
decisions and their mix, time to decision (median and 90th percentile), overdue decisions, decisions
against the checker's verdict (with the requests behind the number) and how far the letters got. Then the
charts as CSV (which reads back to the same numbers) and as SVG (which parses, and says what it shows)."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.domain import DeclineForm, Language, ReasonCategory, ScopeChange, VerdictKind
from bot.errors import InvalidInput, NotFound
from bot.projectfile import load_project_text
from bot.reports import FIGURE_KEYS, Report, build_report, chart_csv, chart_svg
from bot.service import IntakeService
from bot.text import CATALOGS
from store.repo import SqlStore
from tests.conftest import MEMBER, PM, PROJECT_YAML
from tests.support.clock import FakeClock

IN_SCOPE = "Customers should be able to filter the order history by date"
EXCLUDED = "Please build a native iOS app for our customers"
NEW_WORK = "Please add a live chat with our service team"
SVG = "{http://www.w3.org/2000/svg}"

HOUR = 3600.0


async def at(clock: FakeClock, when: datetime) -> None:
    clock.t = when


async def five_requests(service: IntakeService, clock: FakeClock) -> None:
    """Five requests over two weeks (Mon 2 Nov to Sun 15 Nov 2026), decided as a PM would, and one more in
    each of: another project, and the week after the period.

    ACME-1 Tue 3 Nov  in scope      approved 2 h later
    ACME-2 Wed 4 Nov  out of scope  declined 5 h later; letter sent, outcome recorded
    ACME-3 Thu 5 Nov  new work      asked for details 1 h later, approved as a change the next day
    ACME-4 Tue 10 Nov in scope      declined 48 h later (against the verdict); letter left a draft
    ACME-5 Wed 11 Nov new work      verdict corrected to out of scope (against it); still waiting, overdue
    """
    await at(clock, datetime(2026, 11, 3, 9, 0, tzinfo=UTC))
    r1 = await service.submit_request(project="acme-portal", actor=MEMBER, text=IN_SCOPE)
    clock.advance(hours=2)
    await service.approve(r1.ref, actor=PM)

    await at(clock, datetime(2026, 11, 4, 10, 0, tzinfo=UTC))
    r2 = await service.submit_request(project="acme-portal", actor=MEMBER, text=EXCLUDED)
    clock.advance(hours=5)
    await service.decline(r2.ref, actor=PM, form=DeclineForm(ReasonCategory.PROJECT_GOALS, "Not in this phase."))
    clock.advance(hours=1)
    await service.mark_letter_sent(r2.ref, actor=PM)
    clock.advance(hours=20)
    await service.record_outcome(r2.ref, actor=PM, text="The client agreed to wait for phase two.")

    await at(clock, datetime(2026, 11, 5, 12, 0, tzinfo=UTC))
    r3 = await service.submit_request(project="acme-portal", actor=MEMBER, text=NEW_WORK)
    clock.advance(hours=1)
    await service.ask_details(r3.ref, actor=PM, question="Which hours should the chat be staffed?")
    clock.advance(hours=2)
    await service.answer(r3.ref, actor=MEMBER, text="Office hours only.")
    clock.advance(hours=21)
    await service.approve(r3.ref, actor=PM, change=ScopeChange(estimate="5 days", schedule_impact="none"))

    await at(clock, datetime(2026, 11, 10, 9, 0, tzinfo=UTC))
    r4 = await service.submit_request(project="acme-portal", actor=MEMBER, text=IN_SCOPE + " and by status")
    clock.advance(hours=48)
    await service.decline(r4.ref, actor=PM, form=DeclineForm(ReasonCategory.TIMELINE, "Not before go-live."))

    await at(clock, datetime(2026, 11, 11, 9, 0, tzinfo=UTC))
    r5 = await service.submit_request(project="acme-portal", actor=MEMBER, text=NEW_WORK + " on weekends")
    clock.advance(hours=3)
    await service.correct_verdict(r5.ref, actor=PM, verdict=VerdictKind.OUT_OF_SCOPE, item_id="mobile")

    other = PROJECT_YAML.replace("project: acme-portal", "project: globex").replace("Acme Customer", "Globex")
    await service.load_project(load_project_text(other, "globex.yaml"))
    await at(clock, datetime(2026, 11, 4, 9, 0, tzinfo=UTC))
    g = await service.submit_request(project="globex", actor=MEMBER, text=EXCLUDED)
    clock.advance(hours=1)
    await service.approve(g.ref, actor=PM, change=ScopeChange(estimate="3 weeks", schedule_impact="one sprint"))

    await at(clock, datetime(2026, 11, 16, 9, 0, tzinfo=UTC))  # the week after the period
    later = await service.submit_request(project="acme-portal", actor=MEMBER, text=IN_SCOPE + " please")
    await service.decline(later.ref, actor=PM, form=DeclineForm(ReasonCategory.BUDGET, "No budget left."))
    await at(clock, datetime(2026, 11, 16, 12, 0, tzinfo=UTC))


async def acme_report(store: SqlStore, clock: FakeClock, lang: str = "en") -> Report:
    return await build_report(store, ["acme-portal"], date(2026, 11, 2), date(2026, 11, 15), lang, now=clock.now())


def values(report: Report, chart: str) -> dict[str, list[float]]:
    return {s.key or s.name: s.values for s in report.chart(chart).series}


async def test_a_report_counts_what_came_in_and_what_was_decided(
    service: IntakeService, store: SqlStore, clock: FakeClock
) -> None:
    await five_requests(service, clock)
    recs = {r.ref: r for r in await service.list_requests(project="acme-portal")}
    assert [recs[f"ACME-{i}"].verdict.verdict.value for i in range(1, 6)] == [
        "in_scope",
        "out_of_scope",
        "unlisted",
        "in_scope",
        "out_of_scope",  # as corrected
    ]
    report = await acme_report(store, clock)

    assert report.chart("requests").labels == ["2 Nov", "9 Nov"]
    assert values(report, "requests") == {
        "in_scope": [1, 1],
        "out_of_scope": [1, 1],
        "unlisted": [1, 0],
    }
    assert values(report, "scope_creep") == {"share": [66.7, 50.0]}
    assert values(report, "decisions") == {
        "approve": [1, 0],
        "approve_change": [1, 0],
        "decline": [1, 1],
        "needs_info": [1, 0],
    }
    assert values(report, "letters") == {"Letters": [2, 1, 1]}

    fig = {f.key: f for f in report.figures}
    assert tuple(fig) == FIGURE_KEYS
    assert fig["requests"].number == 5
    assert fig["scope_creep"].value == "60%"
    assert fig["decisions"].number == 5
    # First answers: 2 h, 5 h, 1 h (the question), 48 h. Median 3.5 h; 90th percentile 5 + 0.7 × 43 h.
    assert fig["median"].number == pytest.approx(3.5 * HOUR, abs=1)
    assert fig["median"].value == "3.5 hours"
    assert fig["p90"].number == pytest.approx(35.1 * HOUR, abs=1)
    assert fig["p90"].value == "35.1 hours"
    assert fig["overdue"].number == 1  # ACME-5: due Fri 13 Nov, still waiting on Mon 16 Nov
    assert fig["against"].value == "2 of 5"
    assert fig["agreement"].value == "60%"
    assert (fig["letters_drafted"].number, fig["letters_sent"].number, fig["outcomes"].number) == (2, 1, 1)

    assert report.against_total == 2
    [declined, corrected] = report.against_verdict  # newest first: declined Thu 12 Nov, corrected Wed 11 Nov
    assert (corrected.ref, corrected.checker, corrected.decision, corrected.corrected_to) == (
        "ACME-5",
        "unlisted",
        None,
        "out_of_scope",
    )
    assert corrected.summary == "Verdict corrected from not in the scope (new work) to out of scope"
    assert (declined.ref, declined.checker, declined.decision) == ("ACME-4", "in_scope", "decline")
    assert declined.summary == "Declined, though the checker found it in scope"
    assert declined.text.startswith(IN_SCOPE)


async def test_a_report_over_every_project_counts_theirs_too_and_one_project_only_its_own(
    service: IntakeService, store: SqlStore, clock: FakeClock
) -> None:
    await five_requests(service, clock)
    every = await build_report(store, None, date(2026, 11, 2), date(2026, 11, 15), "en", now=clock.now())
    assert every.figure("requests").number == 6
    assert values(every, "decisions")["approve_change"] == [2, 0]  # Globex's excluded work, approved as a change
    assert every.figure("against").value == "3 of 6"  # approving what the scope excludes goes against it
    assert {a.ref for a in every.against_verdict} == {"ACME-4", "ACME-5", "GLOBEX-1"}

    nothing = await build_report(store, [], date(2026, 11, 2), date(2026, 11, 15), "en", now=clock.now())
    assert nothing.figure("requests").number == 0
    assert nothing.figure("median").value == "–"
    assert nothing.against_verdict == []

    week_after = await build_report(store, ["acme-portal"], date(2026, 11, 16), date(2026, 11, 22), "en")
    assert week_after.figure("requests").number == 1
    assert week_after.figure("letters_drafted").number == 1
    assert week_after.figure("median").value == "0 hours"


async def test_a_report_is_written_in_the_teams_language(
    service: IntakeService, store: SqlStore, clock: FakeClock
) -> None:
    await five_requests(service, clock)
    report = await acme_report(store, clock, "zh")
    assert report.chart("requests").labels == ["11月2日", "11月9日"]
    assert report.chart("requests").description == (
        "2026年11月2日至2026年11月15日共记录需求 5 条（在范围内 2 条，超出范围 2 条，范围未列出（新增工作） 1 条）。"
        "需求最多的是11月2日开始的那一周，共 3 条。"
    )
    assert report.figure("p90").value == "35.1 小时"
    assert report.figure("against").value == "5 条中 2 条"
    assert report.against_verdict[0].summary == "判定为在范围内，但项目经理婉拒了"
    assert report.title == "报表：acme-portal，2026年11月2日至2026年11月15日"


def test_every_report_text_is_in_both_languages_and_the_chinese_is_chinese() -> None:
    en = {k for k in CATALOGS[Language.EN] if k.startswith("report.")}
    zh = {k for k in CATALOGS[Language.ZH] if k.startswith("report.")}
    assert en == zh and len(en) > 60
    for key in en - {"report.value.percent", "report.value.none", "report.list", "report.list_last"}:
        text = CATALOGS[Language.ZH][key]
        assert any("\u4e00" <= ch <= "\u9fff" for ch in text), (key, text)


async def test_a_period_that_ends_before_it_starts_or_runs_too_long_is_refused(store: SqlStore) -> None:
    with pytest.raises(InvalidInput) as bad:
        await build_report(store, None, date(2026, 11, 15), date(2026, 11, 2), "en")
    assert str(bad.value) == "The report's start (2026-11-15) must not be after its end (2026-11-02)."
    with pytest.raises(InvalidInput):
        await build_report(store, None, date(2024, 1, 1), date(2026, 11, 2), "en")
    with pytest.raises(InvalidInput) as bad:
        await build_report(store, None, date(2026, 11, 2), date(2026, 11, 15), "fr")
    assert bad.value.say(Language.ZH) == "没有“fr”语言的报表，请选择 en（英文）或 zh（中文）。"


async def test_a_charts_csv_reads_back_to_its_numbers(
    service: IntakeService, store: SqlStore, clock: FakeClock
) -> None:
    await five_requests(service, clock)
    report = await acme_report(store, clock)
    for chart in report.charts:
        rows = list(csv.reader(io.StringIO(chart_csv(chart))))
        assert rows[0] == [chart.x_label, *(s.name for s in chart.series)]
        assert [r[0] for r in rows[1:]] == chart.labels
        for i, s in enumerate(chart.series, start=1):
            assert [float(r[i]) for r in rows[1:]] == s.values
    with pytest.raises(NotFound):
        report.chart("nope")


async def test_a_charts_svg_parses_and_says_what_it_shows(
    service: IntakeService, store: SqlStore, clock: FakeClock
) -> None:
    await five_requests(service, clock)
    for lang in ("en", "zh"):
        report = await acme_report(store, clock, lang)
        for chart in report.charts:
            root = ET.fromstring(chart_svg(chart))
            assert root.get("role") == "img"
            title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
            assert title is not None and desc is not None
            assert (title.text, desc.text) == (chart.title, chart.description)
            assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
            texts = {"".join(t.itertext()) for t in root.iter(f"{SVG}text")}
            assert chart.unit in texts and chart.x_label in texts
            assert {s.name for s in chart.series} <= texts  # the legend
            assert not list(root.iter(f"{SVG}script")) and "href" not in chart_svg(chart)


def test_an_svg_escapes_what_it_is_given() -> None:
    from bot.charts import Chart, Series

    evil = '</title><script>alert("x")</script>&'
    chart = Chart(evil, evil, evil, [evil], [Series(evil, [1.0])], evil, x_label=evil)
    root = ET.fromstring(chart_svg(chart))  # parses: nothing broke out
    assert not list(root.iter(f"{SVG}script"))
    assert root.find(f"{SVG}title").text == evil  # type: ignore[union-attr]
    assert chart_csv(chart).splitlines()[0].startswith('"</title>')


async def test_reading_a_report_takes_no_write_lock(service: IntakeService, store: SqlStore, clock: FakeClock) -> None:
    """A report on SQLite reads in a deferred transaction: a writer holding the lock does not block it."""
    await five_requests(service, clock)
    if store.dialect != "sqlite":
        pytest.skip("SQLite's write lock")
    async with store.transaction() as tx:  # holds BEGIN IMMEDIATE until the block ends
        await tx.claim_key("held-open", at=clock.now())
        report = await acme_report(store, clock)
    assert report.figure("requests").number == 5


async def test_overdue_counts_only_what_waits_past_its_due_time(
    service: IntakeService, store: SqlStore, clock: FakeClock
) -> None:
    await five_requests(service, clock)
    before = await build_report(
        store,
        ["acme-portal"],
        date(2026, 11, 2),
        date(2026, 11, 15),
        "en",
        now=datetime(2026, 11, 13, 8, 0, tzinfo=UTC),
    )
    assert before.figure("overdue").number == 0
    after = await build_report(
        store,
        ["acme-portal"],
        date(2026, 11, 2),
        date(2026, 11, 15),
        "en",
        now=datetime(2026, 11, 13, 8, 0, tzinfo=UTC) + timedelta(days=3),
    )
    assert after.figure("overdue").number == 1


async def test_the_command_prints_the_figures_and_writes_a_chart(sqlite_url: str, tmp_path: Path) -> None:
    store = SqlStore.from_url(sqlite_url)
    clock = FakeClock()
    service = IntakeService(store, clock=clock)
    await service.load_project(load_project_text(PROJECT_YAML, "acme.yaml"))
    await five_requests(service, clock)
    await store.close()

    def intake(*args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "DATABASE_URL": sqlite_url}
        return subprocess.run(
            [sys.executable, "-m", "adapters.cli", "report", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            cwd=Path(__file__).resolve().parent.parent,
        )

    res = intake("acme-portal", "--from", "2026-11-02", "--to", "2026-11-15")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == "Reports: acme-portal, 2 Nov 2026 to 15 Nov 2026"
    assert any(re.fullmatch(r"Requests recorded +5", line) for line in lines)
    assert any(re.match(r"Scope creep \(out of scope or new work\) +60% +3 of 5", line) for line in lines)
    assert any(re.match(r"Time to decision, median +3\.5 hours +Over the requests", line) for line in lines)
    assert any(
        re.match(r"  ACME-4 +Declined, though the checker found it in scope · “Customers", line) for line in lines
    )

    res = intake("acme-portal", "--from", "2026-11-02", "--to", "2026-11-15", "--lang", "zh")
    assert "记录的需求" in res.stdout and "与判定结果相反的决定" in res.stdout

    res = intake("--from", "2026-11-02", "--to", "2026-11-15", "--csv", "decisions")
    assert res.stdout.splitlines()[:3] == [
        "Week starting,Approved,Approved as a scope change,Declined,Asked for details",
        "2 Nov,1,2,1,1",
        "9 Nov,0,0,1,0",
    ]

    out = tmp_path / "requests.svg"
    res = intake("--from", "2026-11-02", "--to", "2026-11-15", "--svg", "requests", "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert ET.parse(out).getroot().find(f"{SVG}title") is not None

    res = intake("--from", "2026-11-15", "--to", "2026-11-02")
    assert res.returncode == 1
    assert "must not be after its end" in res.stderr
    res = intake("--svg", "requests")
    assert res.returncode == 2 and "--svg needs --out FILE" in res.stderr


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def own_db_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    """A database of its own (the test moves its schema back and forth)."""
    if request.param == "sqlite":
        return sqlite_url
    from tests.support.databases import postgres_available, skip_or_fail

    reason = postgres_available()
    if reason:
        skip_or_fail(reason)
    url: str = request.getfixturevalue("postgres_dbs").create()
    return url


async def test_decisions_recorded_before_the_reports_migration_are_filled_in_by_it(own_db_url: str) -> None:
    """Downgrading below 0007 and upgrading again fills each old decision's project, verdict and wait
    from its request: the report reads the same."""
    from store.migrate import upgrade

    await upgrade(own_db_url)
    store = SqlStore.from_url(own_db_url)
    clock = FakeClock()
    service = IntakeService(store, clock=clock)
    await service.load_project(load_project_text(PROJECT_YAML, "acme.yaml"))
    await five_requests(service, clock)
    before = await acme_report(store, clock)
    await store.close()

    await _downgrade(own_db_url, "0006")
    await upgrade(own_db_url)
    store = SqlStore.from_url(own_db_url)
    try:
        after = await acme_report(store, clock)
    finally:
        await store.close()
    assert (after.charts, after.against_verdict) == (before.charts, before.against_verdict)
    assert [(f.key, f.value) for f in after.figures] == [(f.key, f.value) for f in before.figures]
    # SQLite's julianday() computes the old waits to about a millisecond.
    assert [f.number for f in after.figures] == pytest.approx([f.number for f in before.figures], abs=0.01)
    assert after.figure("p90").value == "35.1 hours"


async def _downgrade(url: str, revision: str) -> None:
    from alembic import command

    from store.db import make_engine
    from store.migrate import alembic_config

    def go(connection: object) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)

    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(go)
    finally:
        await engine.dispose()


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 10, 11, 99, 100])
def test_the_median_and_90th_percentile_match_the_standard_library(n: int) -> None:
    import random
    import statistics

    from store.reports import quantile

    values = sorted(random.Random(n).uniform(0, 1e6) for _ in range(n))
    ranks = dict(enumerate(values))
    if n == 1:
        assert quantile(ranks, 1, 1, 2) == quantile(ranks, 1, 9, 10) == values[0]
        return
    deciles = statistics.quantiles(values, n=10, method="inclusive")
    assert quantile(ranks, n, 1, 2) == pytest.approx(statistics.median(values))
    assert quantile(ranks, n, 9, 10) == pytest.approx(deciles[8])


def test_weeks_run_monday_to_monday_cut_to_the_period() -> None:
    from store.reports import week_bounds

    start, end = datetime(2026, 11, 4, tzinfo=UTC), datetime(2026, 11, 17, tzinfo=UTC)  # Wed 4 to Mon 16 incl.
    assert week_bounds(start, end) == [
        (date(2026, 11, 2), start, datetime(2026, 11, 9, tzinfo=UTC)),
        (date(2026, 11, 9), datetime(2026, 11, 9, tzinfo=UTC), datetime(2026, 11, 16, tzinfo=UTC)),
        (date(2026, 11, 16), datetime(2026, 11, 16, tzinfo=UTC), end),
    ]


def test_the_commands_chart_choices_are_the_reports_charts() -> None:
    from adapters.cli.report import CHART_CHOICES
    from bot.reports import CHART_KEYS

    assert tuple(CHART_CHOICES) == tuple(CHART_KEYS)


async def test_letters_and_outcomes_are_counted_from_their_own_small_index(store: SqlStore) -> None:
    """Only the two kinds of event the reports count have an entry in ix_events_letters, and the count
    reads that index. (On PostgreSQL with sequential scans off, as a table this small is read whole anyway,
    and over every project: for one project, on a handful of rows, it may as well take (project, at).)"""
    from bot.ports import ReportQuery
    from store.reports import letter_events_query

    start = datetime(2026, 11, 1, tzinfo=UTC)
    for projects in (None, ("acme-portal",)) if store.dialect == "sqlite" else (None,):
        stmt = letter_events_query(ReportQuery(projects, start, start + timedelta(days=30), start))
        compiled = stmt.compile(store.engine, compile_kwargs={"literal_binds": True})
        async with store.session() as s:
            if store.dialect == "postgresql":
                await s.exec(sa.text("SET LOCAL enable_seqscan = off"))  # type: ignore[call-overload]
                plan = " ".join(r[0] for r in (await s.exec(sa.text(f"EXPLAIN {compiled}"))).all())  # type: ignore[call-overload]
            else:
                plan = " ".join(r[3] for r in (await s.exec(sa.text(f"EXPLAIN QUERY PLAN {compiled}"))).all())  # type: ignore[call-overload]
        assert "ix_events_letters" in plan, plan
