"""The reports' numbers, computed by the database (SQLite or PostgreSQL) with grouped queries.

Each query reads back rows bounded by weeks × kinds (or a handful of figures), never one row per request,
so a report over 100,000 requests costs a few scans. The week of a time and the seconds between two times
are the only parts each database spells its own way (`week_start`, `epoch_seconds` below).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from bot.errors import StorageUnavailable
from bot.ports import AgainstVerdict, ReportNumbers, ReportQuery, Reports, WeekCount

from .models import DecisionRow, EventRow, ExampleRow, LetterRow, RequestRow, table

# The statuses of a request that waits for the PMs' decision (bot.review.AWAITING_DECISION).
AWAITING_DECISION = ("submitted", "in_review")


class week_start(FunctionElement[Any]):
    """The Monday (a date, UTC) of the week a stored time falls in."""

    inherit_cache = True


@compiles(week_start, "sqlite")
def _week_start_sqlite(element: week_start, compiler: SQLCompiler, **kw: Any) -> str:
    # 'weekday 0' moves forward to the next Sunday (or stays on one); six days back is its Monday.
    return f"date({compiler.process(element.clauses, **kw)}, 'weekday 0', '-6 days')"


@compiles(week_start, "postgresql")
def _week_start_pg(element: week_start, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(date_trunc('week', {compiler.process(element.clauses, **kw)} AT TIME ZONE 'UTC') AS DATE)"


class epoch_seconds(FunctionElement[Any]):
    """A stored time as seconds (a float); differences of two are durations."""

    inherit_cache = True


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    return f"(julianday({compiler.process(element.clauses, **kw)}) * 86400.0)"


@compiles(epoch_seconds, "postgresql")
def _epoch_pg(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)}) AS DOUBLE PRECISION)"


def _date(value: Any) -> date:
    """A week's Monday as the driver hands it back: a date (PostgreSQL) or 'YYYY-MM-DD' (SQLite)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _order(c: WeekCount) -> tuple[date, str]:
    return c.week, c.kind


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def quantile(values: dict[int, float], n: int, num: int, den: int) -> float | None:
    """The `num/den` quantile of `n` sorted values, interpolating between the two nearest ranks (as
    `statistics.quantiles(method="inclusive")`). `values` maps 0-based ranks to values; it needs the ranks
    floor(num·(n-1)/den) and the one after (integer arithmetic, as the query computes them)."""
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
                    yield conn
        except (sa_exc.DBAPIError, OSError) as exc:
            err = self._storage_error(exc)
            if err is None:
                raise
            raise err from exc

    async def report_numbers(self, query: ReportQuery) -> ReportNumbers:
        if query.projects is not None and not query.projects:
            return _empty()
        async with self._read() as conn:
            return ReportNumbers(
                requests_by_week=await _requests_by_week(conn, query),
                decisions_by_week=await _decisions_by_week(conn, query),
                **await _time_to_decision(conn, query),
                overdue=await _overdue(conn, query),
                **await _against_verdict(conn, query),
                **await _letters(conn, query),
            )


def _empty() -> ReportNumbers:
    return ReportNumbers((), (), 0, None, None, 0, 0, 0, (), 0, 0, 0)


R = table(RequestRow)
D = table(DecisionRow)
L = table(LetterRow)
E = table(EventRow)
X = table(ExampleRow)


def _in(col: sa.ColumnElement[Any], query: ReportQuery) -> list[sa.ColumnElement[bool]]:
    """`col` within the period."""
    return [col >= query.start, col < query.end]


def _of_projects(query: ReportQuery) -> list[sa.ColumnElement[bool]]:
    return [] if query.projects is None else [R.c.project.in_(list(query.projects))]


async def _rows(conn: AsyncConnection, stmt: sa.Select[Any]) -> Sequence[Any]:
    return (await conn.execute(stmt)).all()


async def _requests_by_week(conn: AsyncConnection, query: ReportQuery) -> tuple[WeekCount, ...]:
    week = week_start(R.c.created_at).label("week")
    stmt = (
        sa.select(week, R.c.verdict_kind, sa.func.count())
        .where(*_in(R.c.created_at, query), *_of_projects(query))
        .group_by(week, R.c.verdict_kind)
    )
    return tuple(sorted((WeekCount(_date(w), str(k), int(n)) for w, k, n in await _rows(conn, stmt)), key=_order))


def _decision_kind() -> sa.ColumnElement[Any]:
    """approve_change for approved work the (current) verdict says the scope does not cover."""
    return sa.case(
        (sa.and_(D.c.kind == "approve", R.c.verdict_kind != "in_scope"), sa.literal("approve_change")),
        else_=D.c.kind,
    )


async def _decisions_by_week(conn: AsyncConnection, query: ReportQuery) -> tuple[WeekCount, ...]:
    week = week_start(D.c.at).label("week")
    kind = _decision_kind().label("kind")
    stmt = (
        sa.select(week, kind, sa.func.count())
        .select_from(D.join(R, R.c.id == D.c.request_id))
        .where(*_in(D.c.at, query), *_of_projects(query))
        .group_by(week, kind)
    )
    return tuple(sorted((WeekCount(_date(w), str(k), int(n)) for w, k, n in await _rows(conn, stmt)), key=_order))


async def _time_to_decision(conn: AsyncConnection, query: ReportQuery) -> dict[str, Any]:
    """The first decisions of the period and the median and 90th percentile of the time to them: the
    database ranks the durations and hands back only the (at most four) ranks the two quantiles need."""
    earlier = sa.alias(D, "earlier")
    first = (
        sa.select((epoch_seconds(D.c.at) - epoch_seconds(R.c.created_at)).label("seconds"))
        .select_from(D.join(R, R.c.id == D.c.request_id))
        .where(
            *_in(D.c.at, query),
            *_of_projects(query),
            ~sa.exists().where(earlier.c.request_id == D.c.request_id, earlier.c.id < D.c.id),
        )
        .subquery("first")
    )
    ranked = sa.select(
        first.c.seconds,
        (sa.func.row_number().over(order_by=first.c.seconds) - 1).label("rank"),
        sa.func.count().over().label("n"),
    ).subquery("ranked")
    # The ranks of the median and the 90th percentile (see `quantile`), in integer arithmetic that
    # both databases share: floor(q·(n-1)) and the next one up.
    n = ranked.c.n
    wanted = sa.or_(
        ranked.c.rank == (n - 1) // 2,
        ranked.c.rank == (n - 1) // 2 + 1,
        ranked.c.rank == (9 * (n - 1)) // 10,
        ranked.c.rank == (9 * (n - 1)) // 10 + 1,
    )
    rows = await _rows(conn, sa.select(ranked.c.rank, ranked.c.seconds, n).where(wanted))
    if not rows:
        return {"answered": 0, "answer_median": None, "answer_p90": None}
    total = int(rows[0][2])
    values = {int(rank): max(0.0, float(seconds)) for rank, seconds, _ in rows}
    return {
        "answered": total,
        "answer_median": quantile(values, total, 1, 2),
        "answer_p90": quantile(values, total, 9, 10),
    }


async def _overdue(conn: AsyncConnection, query: ReportQuery) -> int:
    stmt = sa.select(sa.func.count()).where(
        *_in(R.c.created_at, query),
        *_of_projects(query),
        R.c.status.in_(AWAITING_DECISION),
        R.c.due_at.is_not(None),
        R.c.due_at <= query.now,
    )
    return int((await conn.execute(stmt)).scalar_one())


async def _against_verdict(conn: AsyncConnection, query: ReportQuery) -> dict[str, Any]:
    """Requests approved, declined or corrected in the period, and those of them where a PM went against the
    checker: approved work the scope excludes, declined work found in scope, or corrected the verdict (a
    correction is stored as the project's example, with the request's ref)."""
    decided = sa.select(
        D.c.request_id.label("request_id"),
        D.c.at.label("at"),
        sa.case(
            (sa.and_(D.c.kind == "approve", R.c.verdict_kind == "out_of_scope"), sa.literal(1)),
            (sa.and_(D.c.kind == "decline", R.c.verdict_kind == "in_scope"), sa.literal(1)),
            else_=sa.literal(0),
        ).label("against"),
        D.c.kind.label("decision"),
        sa.literal(None, sa.String).label("corrected_to"),
    ).select_from(D.join(R, R.c.id == D.c.request_id))
    decided = decided.where(*_in(D.c.at, query), *_of_projects(query), D.c.kind.in_(("approve", "decline")))
    corrected = (
        sa.select(
            R.c.id.label("request_id"),
            X.c.created_at.label("at"),
            sa.literal(1).label("against"),
            sa.literal(None, sa.String).label("decision"),
            X.c.verdict.label("corrected_to"),
        )
        .select_from(X.join(R, R.c.ref == X.c.ref))
        .where(*_in(X.c.created_at, query), *_of_projects(query))
    )
    acts = sa.union_all(decided, corrected).subquery("acts")
    per_request = (
        sa.select(acts.c.request_id, sa.func.max(acts.c.against).label("against"))
        .group_by(acts.c.request_id)
        .subquery("per_request")
    )
    judged, against = (
        await conn.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(per_request.c.against), 0)))
    ).one()
    listed = (
        sa.select(
            acts.c.request_id,
            sa.func.min(acts.c.at).label("at"),
            sa.func.max(sa.case((acts.c.against == 1, acts.c.decision))).label("decision"),
            sa.func.max(acts.c.corrected_to).label("corrected_to"),
        )
        .where(acts.c.against == 1)
        .group_by(acts.c.request_id)
        .order_by(sa.func.min(acts.c.at).desc(), acts.c.request_id.desc())
        .limit(query.list_limit)
        .subquery("listed")
    )
    rows = await _rows(
        conn,
        sa.select(
            R.c.id,
            R.c.ref,
            R.c.project,
            R.c.text,
            R.c.verdict_kind,
            listed.c.at,
            listed.c.decision,
            listed.c.corrected_to,
        )
        .select_from(listed.join(R, R.c.id == listed.c.request_id))
        .order_by(listed.c.at.desc(), R.c.id.desc()),
    )
    # A corrected request's verdict on record is the PM's: the checker's is in its first correction event.
    corrected_ids = [r.id for r in rows if r.corrected_to is not None]
    checker: dict[int, str] = {}
    if corrected_ids:
        ev = await _rows(
            conn,
            sa.select(E.c.request_id, E.c.data)
            .where(E.c.request_id.in_(corrected_ids), E.c.kind == "verdict_corrected")
            .order_by(E.c.id.desc()),
        )
        for request_id, data in ev:  # newest first, so the first correction's wins
            d = json.loads(data) if isinstance(data, str) else (data or {})
            said = (d.get("from") or {}).get("verdict")
            if said:
                checker[int(request_id)] = str(said)
    against_list = tuple(
        AgainstVerdict(
            ref=r.ref,
            project=r.project,
            text=r.text,
            checker=checker.get(r.id, r.verdict_kind),
            decision=r.decision,
            corrected_to=r.corrected_to,
            at=_utc(r.at),
        )
        for r in rows
    )
    return {"judged": int(judged), "against": int(against or 0), "against_list": against_list}


async def _letters(conn: AsyncConnection, query: ReportQuery) -> dict[str, Any]:
    """The declines of the period (each drafts a letter) and how far their letters got: sent (or answered
    in a meeting), and the client's outcome recorded."""
    outcome = sa.exists().where(E.c.request_id == D.c.request_id, E.c.kind == "outcome_recorded")
    stmt = (
        sa.select(
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(sa.case((L.c.status == "sent", 1), else_=0)), 0),
            sa.func.coalesce(sa.func.sum(sa.case((outcome, 1), else_=0)), 0),
        )
        .select_from(D.join(R, R.c.id == D.c.request_id).join(L, L.c.request_id == D.c.request_id))
        .where(*_in(D.c.at, query), *_of_projects(query), D.c.kind == "decline")
    )
    drafted, sent, outcomes = (await conn.execute(stmt)).one()
    return {"letters_drafted": int(drafted), "letters_sent": int(sent), "outcomes_recorded": int(outcomes)}
