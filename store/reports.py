"""The reports' numbers, computed by the database (SQLite or PostgreSQL) from narrow indexes.

A report over 100,000 requests must take well under 100 ms, so no query reads the wide request rows (their
text and verdict JSON) or joins decisions to requests: each decision carries its project, the verdict it
was made on and, on a request's first decision, how long the request waited (migration 0007), and the
reports read only these indexes:

    ix_requests_report   requests (created_at, project, verdict_kind, status, due_at)
    ix_decisions_report  decisions (at, project, kind, verdict_kind, waited_seconds)
    ix_decisions_waited  decisions (waited_seconds, at, project), first decisions only
    ix_events_letters    events (at, project, kind), letters sent and outcomes recorded only

Weeks are counted with one aggregate per week over its range of the time index (the week bounds come from
Python, so both databases share the SQL, and nothing is sorted); the rows read back are one per week, not
one per request. The median and 90th percentile of the waits are exact: PostgreSQL's `percentile_cont`,
or on SQLite the value at a rank, read by walking the waits' index in order (no sort either).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from bot.errors import StorageUnavailable
from bot.ports import AgainstVerdict, ReportNumbers, ReportQuery, Reports, WeekCount

from .models import LETTER_EVENT_KINDS, DecisionRow, EventRow, ExampleRow, RequestRow, as_utc, table

# The statuses of a request that waits for the PMs' decision (bot.review.AWAITING_DECISION).
AWAITING_DECISION = ("submitted", "in_review")
DECISION_KINDS = ("approve", "approve_change", "decline", "needs_info")

R = table(RequestRow)
D = table(DecisionRow)
E = table(EventRow)
X = table(ExampleRow)


class unindexed(FunctionElement[Any]):
    """A column SQLite must not pick an index for (`+col`): the waits are read in their own index's order,
    filtered by time, rather than by time and then sorted."""

    inherit_cache = True


@compiles(unindexed)
def _unindexed(element: unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(unindexed, "sqlite")
def _unindexed_sqlite(element: unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return f"+{compiler.process(element.clauses, **kw)}"


def week_bounds(start: datetime, end: datetime) -> list[tuple[date, datetime, datetime]]:
    """The weeks (Monday to Monday, UTC) that `[start, end)` touches, each cut to the period: its Monday
    and the part of the period in it."""
    monday = datetime.combine(start.date() - timedelta(days=start.weekday()), datetime.min.time(), UTC)
    out = []
    while monday < end:
        nxt = monday + timedelta(days=7)
        out.append((monday.date(), max(monday, start), min(nxt, end)))
        monday = nxt
    return out


def quantile(values: dict[int, float], n: int, num: int, den: int) -> float | None:
    """The `num/den` quantile of `n` sorted values, interpolating between the two nearest ranks (as
    `statistics.quantiles(method="inclusive")` and PostgreSQL's `percentile_cont`). `values` maps 0-based
    ranks to values; it needs the ranks floor(num·(n-1)/den) and the one after."""
    if n == 0:
        return None
    lo = num * (n - 1) // den
    hi = min(lo + 1, n - 1)
    return values[lo] + (values[hi] - values[lo]) * (num * (n - 1) / den - lo)


class SqlReports(Reports):
    """`Reports` for `SqlStore` (a mixin: it uses the store's engine and error mapping)."""

    engine: AsyncEngine
    dialect: str
    _storage_error: Callable[[sa_exc.DBAPIError | OSError], StorageUnavailable | None]  # SqlStore's

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncConnection]:
        """One read-only snapshot: a deferred transaction on SQLite (no write lock: WAL readers never wait
        for writers), REPEATABLE READ READ ONLY on PostgreSQL."""
        try:
            async with self.engine.connect() as conn:
                if self.dialect == "sqlite":
                    conn = await conn.execution_options(intake_read_only=True)
                else:
                    conn = await conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
                async with conn.begin():
                    if self.dialect == "postgresql":
                        # Each query reads one narrow index range: starting parallel workers costs more.
                        await conn.execute(sa.text("SET LOCAL max_parallel_workers_per_gather = 0"))
                    yield conn
        except (sa_exc.DBAPIError, OSError) as exc:
            err = self._storage_error(exc)
            if err is None:
                raise
            raise err from exc

    async def report_numbers(self, query: ReportQuery) -> ReportNumbers:
        if query.projects is not None and not query.projects:
            return ReportNumbers((), (), 0, None, None, 0, 0, 0, (), 0, 0, 0)
        async with self._read() as conn:
            requests, overdue = await _requests_by_week(conn, query)
            decisions, sums = await _decisions_by_week(conn, query)
            median, p90 = await _waits(conn, query, sums["first"], self.dialect)
            judged, against, listed = await _against_verdict(conn, query, sums)
            sent, outcomes = await _letter_events(conn, query)
            return ReportNumbers(
                requests_by_week=requests,
                decisions_by_week=decisions,
                answered=sums["first"],
                answer_median=median,
                answer_p90=p90,
                overdue=overdue,
                judged=judged,
                against=against,
                against_list=listed,
                letters_drafted=sums["decline"],
                letters_sent=sent,
                outcomes_recorded=outcomes,
            )


def _in(col: Any, lo: datetime, hi: datetime) -> list[sa.ColumnElement[bool]]:
    return [col >= lo, col < hi]


def _of(col: sa.ColumnElement[Any], query: ReportQuery) -> list[sa.ColumnElement[bool]]:
    """The query's projects. Never a reason to use an index on the project alone (SQLite would, and then
    read every request of the project's whole history from the wide rows): the time index covers it."""
    return [] if query.projects is None else [unindexed(col).in_(list(query.projects))]


def _count(*where: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.count().filter(sa.and_(*where)) if where else sa.func.count()


def _contrary() -> sa.ColumnElement[bool]:
    """A decision against the verdict it was made on: approving work the scope excludes, or declining
    work the checker found in scope."""
    return sa.or_(
        sa.and_(D.c.kind == "approve", D.c.verdict_kind == "out_of_scope"),
        sa.and_(D.c.kind == "decline", D.c.verdict_kind == "in_scope"),
    )


async def _per_week(
    conn: AsyncConnection,
    query: ReportQuery,
    at: sa.ColumnElement[Any],
    project: sa.ColumnElement[Any],
    columns: dict[str, sa.ColumnElement[int]],
) -> list[tuple[date, dict[str, int]]]:
    """One aggregate per week over the time index's range for it, read back as one row per week."""
    weeks = week_bounds(query.start, query.end)
    parts = [
        sa.select(sa.literal(i).label("week"), *(c.label(k) for k, c in columns.items())).where(
            *_in(at, lo, hi), *_of(project, query)
        )
        for i, (_, lo, hi) in enumerate(weeks)
    ]
    rows = (await conn.execute(sa.union_all(*parts))).mappings().all()
    return [(weeks[int(r["week"])][0], {k: int(r[k] or 0) for k in columns}) for r in rows]


async def _requests_by_week(conn: AsyncConnection, query: ReportQuery) -> tuple[tuple[WeekCount, ...], int]:
    """Requests recorded per week by verdict kind (as it stands), and how many of them wait for a decision
    past its due time at `query.now`."""
    columns = {kind: _count(R.c.verdict_kind == kind) for kind in ("in_scope", "out_of_scope", "unlisted")}
    columns["overdue"] = _count(R.c.status.in_(AWAITING_DECISION), R.c.due_at <= query.now)
    counts = []
    overdue = 0
    for week, row in await _per_week(conn, query, R.c.created_at, R.c.project, columns):
        overdue += row.pop("overdue")
        counts += [WeekCount(week, kind, n) for kind, n in row.items() if n]
    return tuple(counts), overdue


async def _decisions_by_week(conn: AsyncConnection, query: ReportQuery) -> tuple[tuple[WeekCount, ...], dict[str, int]]:
    """Decisions made per week by kind (approving work outside the verdict's scope is a change), and the
    period's totals: each kind, first decisions, and approvals or declines (`decided`) and those of them
    against their verdict (`contrary`)."""
    columns = {
        "approve": _count(D.c.kind == "approve", D.c.verdict_kind == "in_scope"),
        "approve_change": _count(D.c.kind == "approve", D.c.verdict_kind != "in_scope"),
        "decline": _count(D.c.kind == "decline"),
        "needs_info": _count(D.c.kind == "needs_info"),
        "first": _count(D.c.waited_seconds.is_not(None)),
        "contrary": _count(_contrary()),
    }
    counts = []
    sums = dict.fromkeys(columns, 0)
    for week, row in await _per_week(conn, query, D.c.at, D.c.project, columns):
        for k, n in row.items():
            sums[k] += n
        counts += [WeekCount(week, k, row[k]) for k in DECISION_KINDS if row[k]]
    sums["decided"] = sums["approve"] + sums["approve_change"] + sums["decline"]
    return tuple(counts), sums


async def _waits(conn: AsyncConnection, query: ReportQuery, n: int, dialect: str) -> tuple[float | None, float | None]:
    """The median and 90th percentile of how long the period's first decisions' requests waited."""
    if n == 0:
        return None, None
    where = [D.c.waited_seconds.is_not(None), *_in(unindexed(D.c.at), query.start, query.end), *_of(D.c.project, query)]
    if dialect == "postgresql":
        row = (
            await conn.execute(
                sa.select(
                    sa.func.percentile_cont(0.5).within_group(D.c.waited_seconds),
                    sa.func.percentile_cont(0.9).within_group(D.c.waited_seconds),
                ).where(*where)
            )
        ).one()
        return max(0.0, float(row[0])), max(0.0, float(row[1]))
    values: dict[int, float] = {}
    for num, den in ((1, 2), (9, 10)):
        lo = num * (n - 1) // den
        stmt = sa.select(D.c.waited_seconds).where(*where).order_by(D.c.waited_seconds).limit(2).offset(lo)
        for i, (seconds,) in enumerate((await conn.execute(stmt)).all()):
            values[lo + i] = max(0.0, float(seconds))
    return quantile(values, n, 1, 2), quantile(values, n, 9, 10)


async def _against_verdict(
    conn: AsyncConnection, query: ReportQuery, sums: dict[str, int]
) -> tuple[int, int, tuple[AgainstVerdict, ...]]:
    """Requests approved, declined or corrected in the period (`judged`), those of them where a PM went
    against the checker (`against`), and the newest of those (at most the query's limit).

    A correction is stored as the project's example, with the request's ref and the verdict chosen; the
    corrections are few, so they are checked one by one against the decisions of the period."""
    # The request of a correction, looked up by its ref one by one (a join would read every request).
    request_id = sa.select(R.c.id).where(R.c.ref == X.c.ref).scalar_subquery()
    corrected = (
        sa.select(request_id.label("id"))
        .where(*_in(X.c.created_at, query.start, query.end), *_of(X.c.project, query))
        .distinct()
        .subquery("corrected")
    )
    decided_too = sa.exists().where(
        D.c.request_id == corrected.c.id,
        D.c.kind.in_(("approve", "decline")),
        *_in(D.c.at, query.start, query.end),
    )
    contrary_too = sa.exists().where(
        D.c.request_id == corrected.c.id, _contrary(), *_in(D.c.at, query.start, query.end)
    )
    only_corrected, not_contrary = (
        await conn.execute(sa.select(_count(~decided_too), _count(~contrary_too)).select_from(corrected))
    ).one()
    judged = sums["decided"] + int(only_corrected)
    against = sums["contrary"] + int(not_contrary)

    limit = query.list_limit
    acts: dict[int, dict[str, Any]] = {}
    contrary = (
        sa.select(D.c.request_id, D.c.at, D.c.kind, D.c.verdict_kind)
        .where(_contrary(), *_in(D.c.at, query.start, query.end), *_of(D.c.project, query))
        .order_by(D.c.at.desc())
        .limit(limit)
    )
    for request_id, at, kind, verdict in (await conn.execute(contrary)).all():
        acts[int(request_id)] = {"at": as_utc(at), "decision": kind, "checker": verdict, "corrected_to": None}
    newest_corrections = (
        sa.select(X.c.ref, X.c.created_at, X.c.verdict)
        .where(*_in(X.c.created_at, query.start, query.end), *_of(X.c.project, query))
        .order_by(X.c.created_at.desc())
        .limit(limit)
        .subquery("newest_corrections")
    )
    corrections = sa.select(
        sa.select(R.c.id).where(R.c.ref == newest_corrections.c.ref).scalar_subquery(),
        newest_corrections.c.created_at,
        newest_corrections.c.verdict,
    ).order_by(newest_corrections.c.created_at.desc())
    for corrected_id, at, verdict in (await conn.execute(corrections)).all():
        if corrected_id is None:
            continue
        act = acts.setdefault(int(corrected_id), {"at": as_utc(at), "decision": None, "checker": None})
        act["at"] = min(act["at"], as_utc(at))
        act.setdefault("corrected_to", None)
        act["corrected_to"] = act["corrected_to"] or verdict  # newest first: the verdict it has now
    newest = sorted(acts, key=lambda i: (acts[i]["at"], i), reverse=True)[:limit]
    if not newest:
        return judged, against, ()
    rows = {
        int(r.id): r
        for r in (
            await conn.execute(
                sa.select(R.c.id, R.c.ref, R.c.project, R.c.text, R.c.verdict_kind).where(R.c.id.in_(newest))
            )
        ).all()
    }
    # A corrected request's verdict on record is the PM's: the checker's is in its first correction.
    first_said: dict[int, str] = {}
    fixed = [i for i in newest if acts[i]["corrected_to"]]
    if fixed:
        ev = sa.select(E.c.request_id, E.c.data).where(E.c.request_id.in_(fixed), E.c.kind == "verdict_corrected")
        for request_id, data in (await conn.execute(ev.order_by(E.c.id.desc()))).all():
            d = json.loads(data) if isinstance(data, str) else (data or {})
            said = (d.get("from") or {}).get("verdict")
            if said:
                first_said[int(request_id)] = str(said)  # newest first, so the first correction's wins
    listed = tuple(
        AgainstVerdict(
            ref=rows[i].ref,
            project=rows[i].project,
            text=rows[i].text,
            checker=first_said.get(i) or acts[i]["checker"] or rows[i].verdict_kind,
            decision=acts[i]["decision"],
            corrected_to=acts[i]["corrected_to"],
            at=acts[i]["at"],
        )
        for i in newest
        if i in rows
    )
    return judged, against, listed


async def _letter_events(conn: AsyncConnection, query: ReportQuery) -> tuple[int, int]:
    """Letters sent (or answered in a meeting) and clients' outcomes recorded in the period."""
    sent, outcomes = (await conn.execute(letter_events_query(query))).one()
    return int(sent), int(outcomes)


def letter_events_query(query: ReportQuery) -> Any:
    return sa.select(
        _count(E.c.kind == "letter_sent"),
        _count(E.c.kind == "outcome_recorded"),
    ).where(
        sa.text(LETTER_EVENT_KINDS),  # as the partial index's own condition reads, so that it is used
        *_in(E.c.at, query.start, query.end),
        *_of(E.c.project, query),
    )


__all__ = ["SqlReports", "quantile", "week_bounds"]
