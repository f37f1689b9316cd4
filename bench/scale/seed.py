"""Seed a year of requests in bulk: what the product writes for each request, copied in large batches.

The rows are not made up here. Each kind of planned request (what happens to it, its text, the weekday
and hour it arrives, how fast it moves, winter or summer time) is first played once through the real
Slack route (`history.Recorder`) on a scratch SQLite database, and every row that play wrote is kept as a
template. A planned request gets its template's rows with what differs put in: its ids, reference and
number, project, requester, Slack message stamps and unique keys, and its times and dates moved by whole
weeks (so weekdays, hours and the time zone's offset stay those of the recorded play). Projects are loaded
through the service itself. `tests/test_bench_scale_seed.py` plays a sample both ways and compares the
rows column by column.

What the copies cannot reproduce: a due date that a public holiday would have moved in the target week
(the template weeks have none), and requests of one weekday and hour sharing a timestamp to the second.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from store.models import (
    DecisionRow,
    EventRow,
    IdentityBinding,
    LetterRow,
    LetterVersionRow,
    OutboxEntry,
    PostedMessage,
    ProcessedKey,
    ProjectRow,
    RequestRow,
    ScheduledStep,
    table,
)

from .history import (
    PROJECTS_LOADED_AT,
    REQUESTER_NAMES,
    TEMPLATE_PROJECT,
    Planned,
    Recorder,
    load_project,
    project_slug,
    requester_email,
    requester_id,
)

# The tables a request's play writes to, in the order they are filled (foreign keys first).
TABLES: dict[str, sa.Table] = {
    "requests": table(RequestRow),
    "events": table(EventRow),
    "decisions": table(DecisionRow),
    "letters": table(LetterRow),
    "letter_versions": table(LetterVersionRow),
    "outbox": table(OutboxEntry),
    "schedule": table(ScheduledStep),
    "processed_keys": table(ProcessedKey),
    "posted_messages": table(PostedMessage),
}
# /metrics' counts (the `counts` table), counted again once the copies are in, as migration 0009 counts them.
RECOUNT = (
    ("requests", "requester_platform || ':' || verdict_kind", "requests"),
    ("statuses", "status", "requests"),
    ("decisions", "kind", "decisions"),
    ("letters", "status", "letters"),
)
# Keys the server forgets after a few minutes (a Slack signature is accepted for five): not part of a
# year-old history.
FORGOTTEN = "slack:sig:"
SERIAL = ("requests", "events", "decisions", "outbox", "schedule")  # tables with an integer `id`

ZONE = ZoneInfo("Europe/Berlin")  # the projects' time zone (history.project_yaml)
# Template weeks, one per offset of the projects' time zone, with no public holiday near them.
TEMPLATE_WEEKS = {3600: 9, 7200: 28}  # 2026-02-02 and 2026-06-15, counted from history.YEAR_START
# What a project's number follows in its names (history.project_yaml)
PROJECT_WORDS = ("client", "Client", "CLIENT", "Portal ", "0PM", "0IN", "0RV")
DATE_FORMATS = ("%-d %B %Y", "%A %-d %B %Y", "%a %-d %b %Y", "%A %-d %B", "%a %-d %b", "%-d %B", "%-d %b", "%Y-%m-%d")


def season(at: datetime) -> int:
    offset = at.astimezone(ZONE).utcoffset()
    assert offset is not None
    return int(offset.total_seconds())


def template_key(pl: Planned) -> tuple[Any, ...]:
    return (*pl.key, season(pl.at))


# --- templates ----------------------------------------------------------------------------------------

Part = str | tuple[str, Any]


@dataclass
class Text:
    """A string from a recorded row, cut into literal parts and the tokens that differ per request."""

    parts: list[Part]

    def render(self, ctx: Target) -> str:
        return "".join(p if isinstance(p, str) else ctx.token(p) for p in self.parts)


@dataclass
class Json:
    text: Text

    def render(self, ctx: Target) -> Any:
        return json.loads(self.text.render(ctx))


@dataclass
class When:
    delta: timedelta  # from the template's start

    def render(self, ctx: Target) -> datetime:
        return ctx.start + self.delta


class NewId:
    def render(self, ctx: Target) -> int:  # replaced per row in `Target.rows`
        raise AssertionError


class RequestId:
    def render(self, ctx: Target) -> int:
        return ctx.request_id


class Number:
    def render(self, ctx: Target) -> int:
        return ctx.number


Cell = Any  # a constant, or one of the classes above


@dataclass
class Template:
    key: tuple[Any, ...]
    start: datetime
    rows: dict[str, list[dict[str, Cell]]]


@dataclass
class Target:
    """One planned request, to render a template for."""

    plan: Planned
    ref: str
    number: int
    request_id: int
    start: datetime
    shift_days: int
    memo: dict[Any, str] = field(default_factory=dict)

    def token(self, part: tuple[str, Any]) -> str:
        got = self.memo.get(part)
        if got is None:
            got = self.memo[part] = self._token(*part)
        return got

    def _token(self, kind: str, arg: Any) -> str:
        p, j = self.plan.project, self.plan.requester
        if kind == "ref":
            return self.ref
        if kind == "number":
            return f'"number": {self.number}'
        if kind == "p":
            return f"{p:03d}"
        if kind == "rq_email":
            return requester_email(p, j)
        if kind == "rq_id":
            return requester_id(p, j)[1:]
        if kind == "rq_name":
            return REQUESTER_NAMES[j]
        if kind == "ts":  # a Slack message stamp: seconds since the epoch, then a unique counter
            return f"{int(self.start.timestamp()) + arg}.{self.plan.index % 1_000_000:06d}"
        if kind == "hex":
            digest = hashlib.sha256(f"{arg}:{self.plan.index}".encode()).hexdigest()
            return digest[: len(arg)]
        if kind == "date":
            day, fmt = arg
            return (day + timedelta(days=self.shift_days)).strftime(fmt)
        raise AssertionError(kind)


def _date_renderings(first: date, days: int) -> dict[str, tuple[date, str]]:
    out: dict[str, tuple[date, str]] = {}
    for k in range(days):
        day = first + timedelta(days=k)
        for fmt in DATE_FORMATS:
            out.setdefault(day.strftime(fmt), (day, fmt))
    return out


class Cutter:
    """Cuts a template's strings into parts: what is the template request's and must be replaced."""

    def __init__(self, ref: str, number: int, start: datetime) -> None:
        self.dates = _date_renderings(start.date() - timedelta(days=3), 90)
        alternatives = [
            ("ref", re.escape(ref) + r"(?!\d)"),
            ("number", rf'"number": {number}(?!\d)'),
            ("rq_email", re.escape(requester_email(TEMPLATE_PROJECT, 0))),
            ("rq_id", re.escape(requester_id(TEMPLATE_PROJECT, 0)[1:]) + r"(?!\d)"),
            ("rq_name", re.escape(REQUESTER_NAMES[0])),
            ("p", "(?:" + "|".join(f"(?<={w})" for w in PROJECT_WORDS) + rf"){TEMPLATE_PROJECT}(?!\d)"),
            ("ts", r"(?<![\d.])\d{10}\.\d{6}(?![\d.])"),
            ("hex", r"(?<![0-9a-f])(?:[0-9a-f]{64}|[0-9a-f]{32})(?![0-9a-f])"),
            (
                "date",
                r"(?<![\w])(?:"
                + "|".join(re.escape(s) for s in sorted(self.dates, key=len, reverse=True))
                + r")(?![A-SU-Za-z0-9])",  # a date may be followed by the T of an ISO time
            ),
        ]
        self.regex = re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in alternatives))
        self.stamps: dict[str, int] = {}

    def cut(self, text: str, *, self_id: int | None = None) -> Text | str:
        parts: list[Part] = []
        pos = 0
        for m in self.regex.finditer(text):
            kind = m.lastgroup
            assert kind is not None
            parts.append(text[pos : m.start()])
            value = m.group()
            if kind == "ts":
                parts.append(("ts", self.stamps.setdefault(value, len(self.stamps))))
            elif kind == "hex":
                parts.append(("hex", value))
            elif kind == "date":
                parts.append(("date", self.dates[value]))
            else:
                parts.append((kind, None))
            pos = m.end()
        if self_id is not None and text.endswith(f":{self_id}"):
            # a finished step's key ends with its own row id (bot/timekeeping.py), which the copy changes
            parts.append(text[pos : len(text) - len(str(self_id))])
            parts.append(("self_id", None))
            pos = len(text)
        parts.append(text[pos:])
        parts = [p for p in parts if p != ""]
        if all(isinstance(p, str) for p in parts):
            return text
        return Text(parts)


def _wall_to_fake(marks: list[tuple[datetime, datetime]]) -> Callable[[datetime], datetime]:
    """Map a wall-clock stamp (some rows are stamped by the database's clock) to the play's step."""
    first_wall = marks[0][0] - timedelta(seconds=5)

    def convert(v: datetime) -> datetime:
        if v.tzinfo is None:
            v = v.replace(tzinfo=UTC)
        if v < first_wall or v > datetime.now(UTC) + timedelta(seconds=5):
            return v  # the play's own (fake) clock
        step = marks[0][1]
        for wall, fake in marks:
            if wall <= v + timedelta(milliseconds=1):
                step = fake
        return step

    return convert


def make_template(
    key: tuple[Any, ...],
    start: datetime,
    ref: str,
    number: int,
    request_id: int,
    rows: dict[str, list[dict[str, Any]]],
    marks: list[tuple[datetime, datetime]],
) -> Template:
    cutter = Cutter(ref, number, start)
    to_fake = _wall_to_fake(marks)
    out: dict[str, list[dict[str, Cell]]] = {}
    for name, recorded in rows.items():
        tbl = TABLES[name]
        out[name] = []
        for row in recorded:
            if name == "processed_keys" and str(row["key"]).startswith(FORGOTTEN):
                continue
            cells: dict[str, Cell] = {}
            own_id = row.get("id") if name in SERIAL else None
            for col in tbl.columns:
                v = row[col.name]
                if col.name == "id" and name in SERIAL:
                    cells[col.name] = NewId()
                elif col.name == "request_id" and v is not None:
                    assert v == request_id, (name, row)
                    cells[col.name] = RequestId()
                elif name == "requests" and col.name == "number":
                    cells[col.name] = Number()
                elif isinstance(v, datetime):
                    cells[col.name] = When(to_fake(v) - start)
                elif isinstance(col.type, sa.JSON) and v is not None:
                    cut = cutter.cut(json.dumps(v, ensure_ascii=False))
                    cells[col.name] = Json(cut) if isinstance(cut, Text) else v
                elif isinstance(v, str):
                    cells[col.name] = cutter.cut(v, self_id=own_id if col.name == "dedupe_key" else None)
                else:
                    cells[col.name] = v
            out[name].append(cells)
    return Template(key, start, out)


def template_plan(key: tuple[Any, ...]) -> Planned:
    shape, text, start, pace, offset = key
    return Planned(-1, TEMPLATE_PROJECT, 0, shape, text, TEMPLATE_WEEKS[offset], start, pace)


async def capture(keys: Iterable[tuple[Any, ...]], workdir: Path) -> dict[tuple[Any, ...], Template]:
    """Play one request of each kind through the real Slack route and keep what each wrote."""
    from store.migrate import upgrade
    from tests.support.clock import FakeClock
    from tests.support.slack_harness import running_slack

    url = f"sqlite+aiosqlite:///{workdir / 'templates.db'}"
    await upgrade(url)
    clock = FakeClock(PROJECTS_LOADED_AT)
    out: dict[tuple[Any, ...], Template] = {}
    async with running_slack(url, clock) as harness:
        recorder = Recorder(harness, clock)
        await recorder.ensure_project(TEMPLATE_PROJECT)
        engine = harness.store.engine
        marks = await _rowids(engine)
        for key in sorted(keys):
            pl = template_plan(key)
            recorder.marks = []
            ref = await recorder.play(pl)
            rows, marks = await _new_rows(engine, marks)
            req = rows["requests"]
            assert len(req) == 1 and req[0]["ref"] == ref, (key, rows["requests"])
            out[key] = make_template(key, pl.at, ref, req[0]["number"], req[0]["id"], rows, recorder.marks)
    return out


async def _rowids(engine: Any) -> dict[str, int]:
    async with engine.connect() as conn:
        return {
            name: int((await conn.execute(sa.text(f"SELECT coalesce(max(rowid), 0) FROM {name}"))).scalar_one())
            for name in TABLES
        }


async def _new_rows(engine: Any, marks: dict[str, int]) -> tuple[dict[str, list[dict[str, Any]]], dict[str, int]]:
    rowid = sa.literal_column("rowid")
    rows: dict[str, list[dict[str, Any]]] = {}
    after = dict(marks)
    async with engine.connect() as conn:
        for name, tbl in TABLES.items():
            q = sa.select(rowid.label("_rowid"), *tbl.columns).where(rowid > marks[name]).order_by(rowid)
            got = [dict(r._mapping) for r in (await conn.execute(q)).all()]
            if got:
                after[name] = max(r["_rowid"] for r in got)
            rows[name] = [{k: v for k, v in r.items() if k != "_rowid"} for r in got]
    return rows, after


# --- bulk copy ----------------------------------------------------------------------------------------


@dataclass
class SeedReport:
    requests: int
    rows: dict[str, int]
    templates: int
    capture_s: float
    load_s: float


def render(template: Template, target: Target, ids: dict[str, int]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for name, rows in template.rows.items():
        rendered = []
        for cells in rows:
            row: dict[str, Any] = {}
            if name in SERIAL:
                ids[name] += 1
                row["id"] = ids[name]
                target.memo[("self_id", None)] = str(ids[name])  # for a key that ends with the row's id
            for col, cell in cells.items():
                if isinstance(cell, NewId):
                    continue
                if isinstance(cell, (Text, Json, When, RequestId, Number)):
                    row[col] = cell.render(target)
                else:
                    row[col] = cell
            rendered.append(row)
        out[name] = rendered
    return out


async def load_projects(url: str, projects: Iterable[int]) -> None:
    """Load the projects through the service, as `intake project load` does."""
    from bot.service import IntakeService
    from store.repo import SqlStore
    from tests.support.clock import FakeClock

    store = SqlStore.from_url(url)
    try:
        service = IntakeService(store, clock=FakeClock(PROJECTS_LOADED_AT))
        for p in projects:
            await service.load_project(load_project(p))
    finally:
        await store.close()


async def seed(
    url: str,
    plans: list[Planned],
    *,
    templates: dict[tuple[Any, ...], Template] | None = None,
    workdir: Path | None = None,
    batch: int = 2000,
    say: Callable[[str], None] = lambda s: None,
) -> SeedReport:
    """Write `plans` into the migrated, empty database at `url`; the projects are loaded first."""
    from store.db import make_engine, normalize_url

    t0 = time.perf_counter()
    if templates is None:
        wd = workdir or Path(tempfile.mkdtemp(prefix="intake-scale-"))
        templates = await capture({template_key(pl) for pl in plans}, wd)
    capture_s = time.perf_counter() - t0
    say(f"  {len(templates)} kinds of request recorded through the Slack route in {capture_s:.0f} s")
    t1 = time.perf_counter()
    projects = sorted({pl.project for pl in plans})
    await load_projects(url, projects)
    engine = make_engine(normalize_url(url))
    counts = {name: 0 for name in TABLES}
    counts["identity_bindings"] = 0
    try:
        async with engine.connect() as conn:
            ids = {name: await _max_id(conn, name) for name in SERIAL}
        numbers: dict[int, int] = {}
        seen: set[tuple[int, int]] = set()
        for lo in range(0, len(plans), batch):
            chunk: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
            bindings = []
            for pl in plans[lo : lo + batch]:
                tpl = templates[template_key(pl)]
                number = numbers[pl.project] = numbers.get(pl.project, 0) + 1
                weeks = pl.week - TEMPLATE_WEEKS[season(pl.at)]
                target = Target(
                    pl,
                    ref=f"CLIENT{pl.project:03d}-{number}",
                    number=number,
                    request_id=ids["requests"] + 1,
                    start=pl.at,
                    shift_days=7 * weeks,
                )
                for name, rows in render(tpl, target, ids).items():
                    chunk[name].extend(rows)
                if (pl.project, pl.requester) not in seen:
                    seen.add((pl.project, pl.requester))
                    bindings.append(
                        {
                            "platform": "slack",
                            "email": requester_email(pl.project, pl.requester),
                            "user_id": requester_id(pl.project, pl.requester),
                            "at": pl.at,
                        }
                    )
            async with engine.begin() as conn:
                for name, tbl in TABLES.items():
                    if chunk[name]:
                        await conn.execute(tbl.insert(), chunk[name])
                        counts[name] += len(chunk[name])
                if bindings:
                    await conn.execute(table(IdentityBinding).insert(), bindings)
                    counts["identity_bindings"] += len(bindings)
            if lo and lo % (batch * 10) == 0:
                say(f"  {lo:,} requests written")
        async with engine.begin() as conn:
            projects_t = table(ProjectRow)
            for p, n in numbers.items():
                await conn.execute(
                    projects_t.update().where(projects_t.c.slug == project_slug(p)).values(next_number=n)
                )
            await conn.execute(sa.text("DELETE FROM counts"))
            for metric, key, source in RECOUNT:
                await conn.execute(
                    sa.text(
                        f"INSERT INTO counts (metric, key, n) SELECT '{metric}', {key}, count(*) FROM {source} GROUP BY {key}"
                    )
                )
            if conn.dialect.name == "postgresql":
                for name in SERIAL:
                    await conn.execute(
                        sa.text(
                            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT coalesce(max(id), 1) FROM {name}))"
                        )
                    )
                await conn.execute(sa.text("ANALYZE"))
            else:
                await conn.execute(sa.text("ANALYZE"))
    finally:
        await engine.dispose()
    return SeedReport(len(plans), counts, len(templates), round(capture_s, 1), round(time.perf_counter() - t1, 1))


async def _max_id(conn: AsyncConnection, name: str) -> int:
    return int((await conn.execute(sa.text(f"SELECT coalesce(max(id), 0) FROM {name}"))).scalar_one())


def run_seed(url: str, plans: list[Planned], **kw: Any) -> SeedReport:
    return asyncio.run(seed(url, plans, **kw))
