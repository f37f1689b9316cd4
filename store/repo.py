"""The SQL implementation of the core's storage ports (SQLite or PostgreSQL, one code path)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import (
    Absence,
    Actor,
    Decision,
    DecisionKind,
    DeclineForm,
    Event,
    Example,
    Language,
    Letter,
    Notice,
    Project,
    RequestRecord,
    RequestStatus,
    Source,
    ToneResult,
    Verdict,
    VerdictKind,
    canonical_ref,
)
from bot.errors import StorageUnavailable
from bot.ports import (
    UPDATED_IN_PLACE,
    NewRequest,
    NewStep,
    Outbox,
    OutboxRow,
    OutboxStats,
    ProjectVersionInfo,
    RefusalRecord,
    Schedule,
    ScheduleStats,
    ServerStore,
    Step,
    Transaction,
)

from .ackwrite import (
    Busy,
    Entry,
    GroupCommit,
    PostgresAckWriter,
    SqliteAckWriter,
    sqlite_file,
    write_on,
)
from .compact import (
    DECISION,
    SUBMISSION,
    actor_in,
    decision_in,
    event_actor_in,
    event_actor_out,
    refers_to_verdict,
    source_in,
    submission_in,
    submission_out,
    tone_in,
    tone_out,
    verdict_in,
)
from .db import READ_ONLY, is_sqlite, make_engine, normalize_url, redact
from .models import (
    AbsenceRow,
    ConversationRef,
    CountRow,
    DecisionRow,
    EventRow,
    ExampleRow,
    IdentityBinding,
    JobRun,
    LetterRow,
    LetterVersionRow,
    ModelAnswerRow,
    OutboxEntry,
    PostedMessage,
    ProcessedKey,
    ProjectRow,
    ProjectVersionRow,
    Refusal,
    RequestRow,
    ScheduledStep,
    as_utc,
    table,
    utc,
)
from .reports import AWAITING_DECISION, SqlReports
from .webstore import WebTables

log = logging.getLogger(__name__)


class SqlStore(SqlReports, WebTables, ServerStore):
    def __init__(self, engine: AsyncEngine, *, url: str) -> None:
        self.engine = engine
        self.url = url
        self.dialect = engine.dialect.name
        self._sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
        # Read-only transactions: on SQLite a deferred BEGIN, outside the writer queue (see `reading`).
        self._read_sessions = async_sessionmaker(
            engine.execution_options(**{READ_ONLY: True}), class_=AsyncSession, expire_on_commit=False
        )
        self._outbox = SqlOutbox(self)
        self._schedule = SqlSchedule(self)
        # Parsed project versions by (slug, version, content hash): a stored version never changes, and
        # the hash tells a version apart from one a rolled-back load had written under the same number.
        self._projects: dict[tuple[str, int, str], Project] = {}
        # Group commit of accepted work (see ackwrite.py).
        self._group = GroupCommit(self._write_batch)
        # SQLite has one writer at a time and every transaction here takes the write lock up front
        # (BEGIN IMMEDIATE). Queueing in-process, rather than in SQLite's busy handler (which sleeps
        # 1, 2, 5 … 100 ms between tries), keeps the waits as short as the transactions ahead; the
        # acknowledgement path's batches go first.
        self._writer = WriterQueue() if self.dialect == "sqlite" else None
        # The acknowledgement path's own connection (see ackwrite.py).
        self._fast: SqliteAckWriter | PostgresAckWriter | None = None
        if self.dialect == "sqlite" and (path := sqlite_file(url)):
            self._fast = SqliteAckWriter(path)
        elif self.dialect == "postgresql":
            self._fast = PostgresAckWriter(engine)

    @classmethod
    def from_url(cls, url: str, **engine_kw: Any) -> SqlStore:
        url = normalize_url(url)
        return cls(make_engine(url, **engine_kw), url=url)

    @property
    def outbox(self) -> Outbox:
        return self._outbox

    @property
    def schedule(self) -> Schedule:
        return self._schedule

    @asynccontextmanager
    async def session(self, *, urgent: bool = False) -> AsyncIterator[AsyncSession]:
        """Open a session in one transaction, turning connection failures into `StorageUnavailable`.
        On SQLite, wait for this process's other transactions first (`urgent` ones go ahead)."""
        if self._writer is None:
            async with self._session() as session:
                yield session
            return
        async with self._writer.turn(urgent=urgent), self._session() as session:
            yield session

    @asynccontextmanager
    async def _session(self, *, read_only: bool = False) -> AsyncIterator[AsyncSession]:
        try:
            async with (self._read_sessions if read_only else self._sessions)() as session, session.begin():
                yield session
        except (sa_exc.DBAPIError, OSError) as exc:
            err = self._storage_error(exc)
            if err is None:
                raise
            raise err from exc

    def _storage_error(self, exc: sa_exc.DBAPIError | OSError) -> StorageUnavailable | None:
        """The database cannot be used (down, unreachable, not set up): `StorageUnavailable`; else None, and
        the error goes on as what it is (a query the database or its driver refused is a fault to fix, not
        a database to start)."""
        if isinstance(exc, OSError):
            return self._unavailable(exc)
        if exc.connection_invalidated or _is_connect_error(exc):
            return self._unavailable(exc)
        text = str(getattr(exc, "orig", None) or exc).lower()
        if isinstance(exc, sa_exc.ProgrammingError):
            return self._unavailable(exc) if "does not exist" in text or "no such table" in text else None
        if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
            return self._unavailable(exc) if any(m in text for m in _UNAVAILABLE) else None
        return None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with self.session() as session:
            tx = SqlTransaction(session, self.dialect, projects=self._projects)
            yield tx
            await tx.write_counts()

    def read_session(self) -> AbstractAsyncContextManager[AsyncSession]:
        """A session in a read-only transaction (see `reading`)."""
        return self._session(read_only=True)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Transaction]:
        """A transaction that only reads. On SQLite it starts deferred (plain `BEGIN`) and does not queue
        for this process's writer turn: in WAL mode it reads a snapshot, so however long it runs (an
        export, a digest) no acknowledgement or decision waits for it."""
        async with self._session(read_only=True) as session:
            yield SqlTransaction(session, self.dialect, projects=self._projects)

    def _unavailable(self, exc: BaseException) -> StorageUnavailable:
        text = (
            str(getattr(exc, "orig", None) or exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        )
        where = redact(self.url)
        if "no such table" in text or ("relation" in text and "does not exist" in text):
            return StorageUnavailable(f"The database at {where} is not set up yet: run `intake db upgrade`.")
        return StorageUnavailable(
            f"Cannot use the database at {where} ({text}). Check that it is running and that DATABASE_URL is right."
        )

    async def ping(self) -> None:
        async with self.session() as s:
            await s.exec(sa.text("SELECT 1"))  # type: ignore[call-overload]

    async def close(self) -> None:
        if isinstance(self._fast, SqliteAckWriter):
            self._fast.close()
        elif isinstance(self._fast, PostgresAckWriter):
            await self._fast.close()
        await self.engine.dispose()

    # Adapter-facing storage that the core itself does not need --------------------------------

    async def forget_keys(self, prefix: str, *, before: datetime) -> int:
        """Delete processed keys starting with `prefix` recorded before `before`; return how many.

        For keys that only matter for a while (a signature is only accepted for five minutes)."""
        keys = table(ProcessedKey)
        async with self.session() as s:
            res = await s.exec(  # type: ignore[call-overload]
                sa.delete(keys).where(keys.c.key.startswith(prefix, autoescape=True), keys.c.at < before)
            )
            return int(res.rowcount or 0)

    async def save_conversation_ref(
        self, platform: str, conversation_id: str, reference: dict[str, Any], *, at: datetime
    ) -> None:
        async with self.session() as s:
            ins = _insert(self.dialect, ConversationRef).values(
                platform=platform, conversation_id=conversation_id, reference=reference, updated_at=at
            )
            ins = ins.on_conflict_do_update(
                index_elements=["platform", "conversation_id"], set_={"reference": reference, "updated_at": at}
            )
            await s.exec(ins)  # type: ignore[call-overload]

    async def get_conversation_ref(self, platform: str, conversation_id: str) -> dict[str, Any] | None:
        async with self.session() as s:
            row = await s.get(ConversationRef, (platform, conversation_id))
            return dict(row.reference) if row else None

    async def record_refusal(self, refusal: RefusalRecord) -> None:
        async with self.session() as s:
            await s.exec(  # type: ignore[call-overload]
                sa.insert(table(Refusal)).values(
                    at=refusal.at,
                    platform=refusal.platform[:32],
                    reason=refusal.reason[:64],
                    origin=refusal.origin[:255],
                    user_id=refusal.user_id[:255],
                    detail=refusal.detail[:2000],
                )
            )

    async def list_refusals(self, *, limit: int = 100) -> list[RefusalRecord]:
        r = table(Refusal)
        async with self.session() as s:
            rows = (await s.exec(sa.select(r).order_by(r.c.id.desc()).limit(limit))).mappings().all()  # type: ignore[call-overload]
        return [
            RefusalRecord(as_utc(x["at"]), x["platform"], x["reason"], x["origin"], x["user_id"], x["detail"])
            for x in rows
        ]

    async def bind_email(self, platform: str, email: str, user_id: str, *, at: datetime) -> str:
        b = table(IdentityBinding)
        email = email.strip().lower()[:320]
        owner = sa.select(b.c.user_id).where(b.c.platform == platform, b.c.email == email)
        async with self.session() as s:
            row = (await s.exec(owner)).first()  # type: ignore[call-overload]
            if row is None:  # the first time: tie it (whichever process asks first wins)
                ins = _insert(self.dialect, IdentityBinding).values(
                    platform=platform, email=email, user_id=user_id[:255], at=at
                )
                await s.exec(ins.on_conflict_do_nothing(index_elements=["platform", "email"]))  # type: ignore[call-overload]
                row = (await s.exec(owner)).first()  # type: ignore[call-overload]
        return str(row[0]) if row else user_id

    async def unbind_email(self, platform: str | None, email: str) -> int:
        b = table(IdentityBinding)
        stmt = sa.delete(b).where(b.c.email == email.strip().lower())
        if platform is not None:
            stmt = stmt.where(b.c.platform == platform)
        async with self.session() as s:
            res = await s.exec(stmt)  # type: ignore[call-overload]
            return int(res.rowcount or 0)

    async def claim_job_run(self, job: str, period: str, *, worker: str, at: datetime) -> bool:
        """Record that `job` runs for `period`. Return False if some process already ran it."""
        async with self.session() as s:
            ins = _insert(self.dialect, JobRun).values(job=job, period=period, started_at=at, worker=worker)
            res = await s.exec(ins.on_conflict_do_nothing().returning(table(JobRun).c.job))  # type: ignore[call-overload]
            return res.first() is not None

    # Work accepted before an acknowledgement (the AckLog port; see adapters/slack/intake.py) ----

    async def accept_work(
        self, notice: Notice, *, grace: timedelta, claim: str | None = None, at: datetime | None = None
    ) -> bool:
        """Durably queue `notice`: return once its outbox row is committed. The fast path before an ack.

        Rows accepted while a batch is being written go together into the next one: one INSERT and one
        commit for every acknowledgement waiting (group commit), so 50 concurrent acks cost a few
        commits, not 50 transactions queueing for SQLite's single writer lock or for pool connections.
        The row waits in the outbox for `grace` (by the outbox's own clock), so the process that accepted
        it can do the work itself right away; if that process dies first, any dispatcher picks it up then.

        With `claim`, the key is claimed (as `claim_key`, at `at`) in the same transaction, and the row is
        written only if the claim is new; returns whether it was (always True without a claim).
        """
        key = {"key": claim, "at": at or datetime.now(UTC)} if claim is not None else None
        return await self._group.submit(key, outbox_values(notice, available_in=grace))

    async def claim_key_soon(self, key: str, *, at: datetime) -> bool:
        """`claim_key` through the same group commit as `accept_work`: return False if `key` was claimed
        before. For checks on the acknowledgement path (replay and retry guards), which must not queue
        behind slower transactions."""
        return await self._group.submit({"key": key, "at": at}, None)

    async def _write_batch(self, entries: list[Entry]) -> list[bool]:
        """One transaction: the batch's key claims, then its outbox rows (those whose claim, if any, is
        new). Return, per entry, whether its claim was new. Takes the fast path where there is one."""
        try:
            if isinstance(self._fast, SqliteAckWriter):
                assert self._writer is not None
                try:
                    async with self._writer.turn(urgent=True):
                        return self._fast.write(entries)
                except Busy:
                    pass  # another process is writing: wait for it the general way
            elif isinstance(self._fast, PostgresAckWriter):
                return await self._fast.write(entries)
        except (sa_exc.DBAPIError, OSError) as exc:
            err = self._storage_error(exc)
            if err is None:
                raise
            raise err from exc
        async with self.session(urgent=True) as s:
            return await write_on(await s.connection(), self.dialect, entries)

    async def metrics_snapshot(self) -> dict[str, Any]:
        return await metrics_snapshot(self)

    async def finish_work(self, dedupe_key: str) -> bool:
        """Drop accepted work that the accepting process has done (its outcome is in the record now).
        Return False if a dispatcher has already leased the row: it then finishes the row itself."""
        o = table(OutboxEntry)
        stmt = sa.delete(o).where(o.c.dedupe_key == dedupe_key, o.c.status == "pending")
        async with self.session() as s:
            res = await s.exec(stmt)  # type: ignore[call-overload]
            return bool(res.rowcount)


class WriterQueue:
    """One transaction at a time, first come first served, except that urgent ones go ahead."""

    def __init__(self) -> None:
        self._busy = False
        self._urgent: list[asyncio.Future[None]] = []
        self._normal: list[asyncio.Future[None]] = []

    @asynccontextmanager
    async def turn(self, *, urgent: bool = False) -> AsyncIterator[None]:
        if self._busy:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            (self._urgent if urgent else self._normal).append(waiter)
            try:
                await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled():
                    self._release()  # we were handed the turn just as we were cancelled: pass it on
                else:
                    (self._urgent if urgent else self._normal).remove(waiter)
                raise
        else:
            self._busy = True
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        for queue in (self._urgent, self._normal):
            while queue:
                waiter = queue.pop(0)
                if not waiter.done():
                    waiter.set_result(None)  # the turn passes straight to the next waiter
                    return
        self._busy = False


UNSENT = ("pending", "sending")  # the outbox rows not delivered yet (nor failed for good)


def outbox_values(
    notice: Notice, *, available_at: datetime | None = None, available_in: timedelta | None = None
) -> dict[str, Any]:
    """The column values of a new outbox row. The outbox runs on wall-clock time."""
    now = datetime.now(UTC)
    return {
        "created_at": now,
        "platform": notice.platform,
        "kind": notice.kind,
        "audience": notice.audience,
        "ref": notice.ref,
        "project": notice.project,
        "recipient": notice.recipient.to_dict() if notice.recipient else None,
        "text": notice.text,
        "data": notice.data,
        "dedupe_key": notice.dedupe_key,
        "status": "pending",
        "attempts": 0,
        "available_at": available_at or (now + available_in if available_in else now),
    }


# What a driver says when the database itself cannot be used (as opposed to a query it refused).
_UNAVAILABLE = (
    "connect",
    "connection",
    "closed",
    "unable to open",
    "locked",
    "disk",
    "readonly",
    "read-only",
    "no such table",
    "does not exist",
    "timeout",
    "timed out",
    "terminat",
    "shutdown",
    "shutting down",
    "starting up",
    "recovery",
    "too many clients",
    "out of memory",
)


def _is_connect_error(exc: sa_exc.DBAPIError) -> bool:
    name = type(getattr(exc, "orig", None)).__name__
    return any(k in name for k in ("Connect", "InvalidCatalogName", "InvalidAuthorization", "CannotConnectNow"))


def _request_filter(
    *,
    project: str | None = None,
    statuses: Iterable[RequestStatus] | None = None,
    requester: Actor | None = None,
    since: datetime | None = None,
) -> list[Any]:
    r = table(RequestRow)
    where: list[Any] = []
    if project:
        where.append(r.c.project == project)
    if statuses:
        where.append(r.c.status.in_([st.value for st in statuses]))
    if requester:
        where += [r.c.requester_platform == requester.platform, r.c.requester_id == requester.user_id]
    if since:
        where.append(r.c.updated_at >= since)
    return where


def _insert(dialect: str, model: Any) -> Any:
    t = table(model)
    return postgresql.insert(t) if dialect == "postgresql" else sqlite.insert(t)


class SqlTransaction(Transaction):
    def __init__(
        self, session: AsyncSession, dialect: str, *, projects: dict[tuple[str, int, str], Project] | None = None
    ) -> None:
        self.s = session
        self.dialect = dialect
        self._request_ids: dict[str, int] = {}
        # The text and source (as stored) of the requests written in this transaction, which their first
        # event refers to instead of copying (see `store.compact.submission_in`).
        self._new_requests: dict[str, tuple[str, dict[str, Any] | None, dict[str, Any]]] = {}
        # The last decision written in this transaction on each request, which its event may refer to:
        # (its place among the request's decisions, counted from 1; the row).
        self._decided: dict[int, tuple[int, DecisionRow]] = {}
        self._projects = projects if projects is not None else {}
        self._counts: dict[tuple[str, str], int] = {}  # /metrics' counts changed, written at the end
        # The letter version each request saved in this transaction: (its number, its text), for its event
        self._letter_versions: dict[int, tuple[int, dict[str, Any]]] = {}

    # projects ----------------------------------------------------------------------------------

    async def get_project(self, slug: str, *, lock: bool = False) -> Project | None:
        if not lock:
            found = await self._current_projects(ProjectRow.slug == slug)
            return found[0] if found else None
        stmt = select(ProjectRow).where(ProjectRow.slug == slug).with_for_update()
        row = (await self.s.exec(stmt)).first()
        if row is None:
            return None
        return await self.get_project_version(slug, row.current_version)

    async def list_projects(self) -> list[Project]:
        return await self._current_projects(sa.true())

    async def _current_projects(self, where: Any) -> list[Project]:
        """The current version of each project matching `where`, parsed once per version (see `_projects`)."""
        v = table(ProjectVersionRow)
        p = table(ProjectRow)
        stmt = (
            sa.select(v.c.slug, v.c.version, v.c.content_hash)
            .join(p, sa.and_(p.c.slug == v.c.slug, p.c.current_version == v.c.version))
            .where(where)
            .order_by(v.c.slug)
        )
        keys = [(r[0], r[1], r[2]) for r in (await self.s.exec(stmt)).all()]  # type: ignore[call-overload]
        missing = [k for k in keys if k not in self._projects]
        for slug, version, content_hash in missing:
            q = sa.select(v.c.content).where(v.c.slug == slug, v.c.version == version)
            content = (await self.s.exec(q)).scalar_one()  # type: ignore[call-overload]
            self._projects[(slug, version, content_hash)] = Project.from_dict(content)
        return [self._projects[k] for k in keys]

    async def project_for_prefix(self, prefix: str) -> str | None:
        row = (await self.s.exec(select(ProjectRow).where(ProjectRow.ref_prefix == prefix))).first()
        return row.slug if row else None

    async def save_project(
        self, project: Project, *, content_hash: str, loaded_by: str, at: datetime
    ) -> tuple[int, bool]:
        row = (await self.s.exec(select(ProjectRow).where(ProjectRow.slug == project.slug).with_for_update())).first()
        if row is not None:
            current = (
                await self.s.exec(
                    select(ProjectVersionRow).where(
                        ProjectVersionRow.slug == project.slug, ProjectVersionRow.version == row.current_version
                    )
                )
            ).first()
            if current is not None and current.content_hash == content_hash:
                return row.current_version, False
            version = row.current_version + 1
            row.current_version = version
            row.updated_at = at
            self.s.add(row)
        else:
            version = 1
            self.s.add(
                ProjectRow(
                    slug=project.slug,
                    ref_prefix=project.ref_prefix,
                    current_version=1,
                    next_number=0,
                    created_at=at,
                    updated_at=at,
                )
            )
            await self.s.flush()
        content = project.to_dict()
        content["version"] = version
        self.s.add(
            ProjectVersionRow(
                slug=project.slug,
                version=version,
                content=content,
                content_hash=content_hash,
                loaded_at=at,
                loaded_by=loaded_by,
            )
        )
        await self.s.flush()
        return version, True

    async def get_project_version(self, slug: str, version: int) -> Project | None:
        row = (
            await self.s.exec(
                select(ProjectVersionRow).where(ProjectVersionRow.slug == slug, ProjectVersionRow.version == version)
            )
        ).first()
        return Project.from_dict(row.content) if row else None

    async def project_versions(self, slug: str) -> list[ProjectVersionInfo]:
        rows = (
            await self.s.exec(
                select(ProjectVersionRow).where(ProjectVersionRow.slug == slug).order_by(col(ProjectVersionRow.version))
            )
        ).all()
        return [ProjectVersionInfo(r.slug, r.version, as_utc(r.loaded_at), r.loaded_by) for r in rows]

    async def next_request_number(self, slug: str) -> int:
        t = table(ProjectRow)
        stmt = sa.update(t).where(t.c.slug == slug).values(next_number=t.c.next_number + 1).returning(t.c.next_number)
        return int((await self.s.exec(stmt)).scalar_one())  # type: ignore[call-overload]

    async def upcoming_request_number(self, slug: str) -> int:
        t = table(ProjectRow)
        last = (await self.s.exec(sa.select(t.c.next_number).where(t.c.slug == slug))).scalar_one_or_none()  # type: ignore[call-overload]
        return int(last or 0) + 1

    async def next_request_numbers(self, slug: str, count: int) -> list[int]:
        if count <= 0:
            return []
        t = table(ProjectRow)
        stmt = (
            sa.update(t).where(t.c.slug == slug).values(next_number=t.c.next_number + count).returning(t.c.next_number)
        )
        last = int((await self.s.exec(stmt)).scalar_one())  # type: ignore[call-overload]
        return list(range(last - count + 1, last + 1))

    # requests ----------------------------------------------------------------------------------

    async def add_request(self, req: NewRequest) -> None:
        row = RequestRow(**_request_values(req))
        self.s.add(row)
        await self.s.flush()
        assert row.id is not None
        self._request_ids[req.ref] = row.id
        self._new_requests[req.ref] = (row.text, row.source, row.verdict)
        await self._count("requests", f"{row.requester_platform}:{row.verdict_kind}", 1)
        await self._count("statuses", row.status, 1)

    async def add_requests(self, reqs: Sequence[NewRequest]) -> None:
        """One multi-row INSERT for all of them, with the same column values the ORM writes for one."""
        if not reqs:
            return
        t = table(RequestRow)
        values = [_request_values(req) for req in reqs]
        conn = await self.s.connection()
        for rid, ref in (await conn.execute(sa.insert(t).returning(t.c.id, t.c.ref), values)).all():
            self._request_ids[str(ref)] = int(rid)
        for v in values:
            self._new_requests[v["ref"]] = (v["text"], v["source"], v["verdict"])
            await self._count("requests", f"{v['requester_platform']}:{v['verdict_kind']}", 1)
            await self._count("statuses", v["status"], 1)

    async def _count(self, metric: str, key: str, delta: int) -> None:
        """Keep /metrics' count of `key` up to date (see `CountRow`): added up here, and written by
        `write_counts` at the end of the transaction (one statement for every count changed, however many
        requests a batch records; on PostgreSQL the counts' rows are locked only for the commit)."""
        k = (metric, key[:64])
        self._counts[k] = self._counts.get(k, 0) + delta

    async def write_counts(self) -> None:
        """Write the counts changed in this transaction; `SqlStore.transaction` calls it before commit."""
        c = table(CountRow)
        changed = sorted((k, n) for k, n in self._counts.items() if n)  # in order: no deadlock between two
        self._counts = {}
        if not changed:
            return
        ins = _insert(self.dialect, CountRow)
        upsert = ins.on_conflict_do_update(index_elements=["metric", "key"], set_={"n": c.c.n + ins.excluded.n})
        rows = [{"metric": metric, "key": key, "n": delta} for (metric, key), delta in changed]
        await (await self.s.connection()).execute(upsert, rows)

    async def _row(self, ref: str, *, lock: bool = False) -> RequestRow:
        stmt = select(RequestRow).where(RequestRow.ref == canonical_ref(ref))
        if lock:
            stmt = stmt.with_for_update()
        row = (await self.s.exec(stmt)).one()
        return row

    async def get_request(self, ref: str, *, lock: bool = False) -> RequestRecord | None:
        stmt = select(RequestRow).where(RequestRow.ref == canonical_ref(ref))
        if lock:
            stmt = stmt.with_for_update()
        row = (await self.s.exec(stmt)).first()
        if row is None:
            return None
        assert row.id is not None
        decisions = await self._decisions([row.id])
        letters = await self._letters([row.id])
        events = await self._events([row.id], {row.id: row}, decisions)
        return _record(row, decisions.get(row.id, []), letters.get(row.id), events.get(row.id, []))

    async def list_requests(
        self,
        *,
        project: str | None = None,
        statuses: list[RequestStatus] | None = None,
        requester: Actor | None = None,
        since: datetime | None = None,
        with_events: bool = False,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[RequestRecord]:
        where = _request_filter(project=project, statuses=statuses, requester=requester, since=since)
        return await self._load(where, with_events=with_events, limit=limit, newest_first=newest_first)

    async def count_requests(
        self,
        *,
        project: str | None = None,
        statuses: list[RequestStatus] | None = None,
        requester: Actor | None = None,
    ) -> int:
        if project is None and requester is None and statuses:
            # Every project's: the counts kept by status (and this transaction's changes to them), not an
            # index of every open request ever recorded.
            c = table(CountRow)
            keys = [st.value for st in statuses]
            kept = sa.select(sa.func.coalesce(sa.func.sum(c.c.n), 0)).where(c.c.metric == "statuses", c.c.key.in_(keys))
            pending = sum(n for (metric, key), n in self._counts.items() if metric == "statuses" and key in keys)
            return int((await self.s.exec(kept)).scalar_one()) + pending  # type: ignore[call-overload]
        r = table(RequestRow)
        where = _request_filter(project=project, statuses=statuses, requester=requester)
        stmt = sa.select(sa.func.count()).select_from(r).where(*where)
        return int((await self.s.exec(stmt)).scalar_one())  # type: ignore[call-overload]

    async def request_pages(
        self,
        *,
        project: str,
        changed_since: datetime | None = None,
        unless: Sequence[RequestStatus] = (),
        with_events: bool = False,
        page_size: int = 500,
    ) -> AsyncIterator[list[RequestRecord]]:
        r, e = table(RequestRow), table(EventRow)
        where: list[Any] = [r.c.project == project]
        if changed_since is not None:
            since = changed_since
            touched = sa.select(e.c.request_id).where(e.c.project == project, e.c.at >= since)
            where.append(
                sa.or_(
                    r.c.status.in_([st.value for st in unless]),
                    r.c.updated_at >= since,
                    r.c.id.in_(touched.scalar_subquery()),
                )
            )
        after = 0
        while True:
            page = await self._load([*where, r.c.id > after], with_events=with_events, limit=page_size, ids=True)
            if not page:
                return
            after = page[-1][0]
            yield [rec for _, rec in page]
            if len(page) < page_size:
                return

    async def requester_projects(self, requester: Actor) -> set[str]:
        r = table(RequestRow)
        stmt = (
            sa.select(r.c.project)
            .where(r.c.requester_platform == requester.platform, r.c.requester_id == requester.user_id)
            .distinct()
        )
        return {str(p) for (p,) in (await self.s.exec(stmt)).all()}  # type: ignore[call-overload]

    async def _load(
        self,
        where: list[Any],
        *,
        with_events: bool,
        limit: int | None = None,
        newest_first: bool = False,
        ids: bool = False,
    ) -> Any:
        """The requests matching `where` with their decisions, letters (and events), in id order (or
        newest first), at most `limit`. Their children are read with the same filter as a sub-select, so
        no list of ids is ever sent as parameters (whatever the number of requests)."""
        r = table(RequestRow)
        order = r.c.id.desc() if newest_first else r.c.id
        chosen = sa.select(r.c.id).where(*where).order_by(order)
        if limit is not None:
            chosen = chosen.limit(limit)
        rows = (await self.s.exec(select(RequestRow).where(*where).order_by(order).limit(limit))).all()
        if not rows:
            return []
        picked = chosen.scalar_subquery()
        decisions = await self._decisions(picked)
        letters = await self._letters(picked)
        by_id = {r.id: r for r in rows if r.id is not None}
        events = await self._events(picked, by_id, decisions) if with_events else {}
        out = [
            (r.id, _record(r, decisions.get(r.id, []), letters.get(r.id), events.get(r.id, [])))
            for r in rows
            if r.id is not None
        ]
        return out if ids else [rec for _, rec in out]

    async def _decisions(self, ids: Any) -> dict[int, list[DecisionRow]]:
        out: dict[int, list[DecisionRow]] = {}
        stmt = select(DecisionRow).where(col(DecisionRow.request_id).in_(ids)).order_by(col(DecisionRow.id))
        for d in (await self.s.exec(stmt)).all():
            out.setdefault(d.request_id, []).append(d)
        return out

    async def _letters(self, ids: Any) -> dict[int, tuple[LetterRow, LetterVersionRow | None]]:
        """The letters of the requests `ids` with the version each shows (None for a letter written
        before `letter_versions`, which holds its text itself)."""
        lv = LetterVersionRow
        stmt = (
            select(LetterRow, lv)
            .outerjoin(lv, sa.and_(lv.request_id == LetterRow.request_id, lv.version == LetterRow.version))  # type: ignore[arg-type]
            .where(col(LetterRow.request_id).in_(ids))
        )
        return {lt.request_id: (lt, v) for lt, v in (await self.s.exec(stmt)).all()}

    async def _events(
        self, ids: Any, requests: dict[int, RequestRow], decisions: dict[int, list[DecisionRow]]
    ) -> dict[int, list[Event]]:
        """The events of the requests `ids`, whose rows (`requests`) and decisions (`decisions`, by request)
        some of them refer to."""
        out: dict[int, list[Event]] = {}
        stmt = select(EventRow).where(col(EventRow.request_id).in_(ids)).order_by(col(EventRow.id))
        rows = (await self.s.exec(stmt)).all()
        versions: dict[tuple[int, int], LetterVersionRow] = {}
        if any(e.data and LETTER_VERSION in e.data for e in rows):
            q = select(LetterVersionRow).where(col(LetterVersionRow.request_id).in_(ids))
            versions = {(v.request_id, v.version): v for v in (await self.s.exec(q)).all()}
        for e in rows:
            if e.request_id is None:
                continue
            if e.data and DECISION in e.data:
                d = decisions[e.request_id][e.data[DECISION] - 1]  # never deleted: always there
                out.setdefault(e.request_id, []).append(
                    Event(e.kind, as_utc(e.at), event_actor_out(e.actor, e.platform), d.note or "", dict(d.form or {}))
                )
            elif e.data and SUBMISSION in e.data:
                r = requests[e.request_id]
                recorded = r.recorded_verdict or r.verdict
                events = submission_out(
                    as_utc(e.at), event_actor_out(e.actor, e.platform), e.data, r.text, r.source, recorded
                )
                out.setdefault(e.request_id, []).extend(events)
            else:
                out.setdefault(e.request_id, []).append(_event(e, versions))
        return out

    async def set_status(self, ref: str, status: RequestStatus, *, at: datetime) -> None:
        row = await self._row(ref)
        if row.status != status.value:
            await self._count("statuses", row.status, -1)
            await self._count("statuses", status.value, 1)
        row.status = status.value
        row.updated_at = at
        self.s.add(row)
        await self.s.flush()

    async def set_verdict(self, ref: str, verdict: Verdict) -> None:
        row = await self._row(ref)
        if row.recorded_verdict is None and await self._first_event_refers_to_verdict(row):
            row.recorded_verdict = row.verdict  # what the request's first event reads as its scope check
        if row.verdict_kind != verdict.verdict.value:
            await self._count("requests", f"{row.requester_platform}:{row.verdict_kind}", -1)
            await self._count("requests", f"{row.requester_platform}:{verdict.verdict.value}", 1)
        row.verdict = verdict_in(verdict.to_dict())
        row.verdict_kind = verdict.verdict.value
        self.s.add(row)
        await self.s.flush()

    async def _first_event_refers_to_verdict(self, row: RequestRow) -> bool:
        e = table(EventRow)
        first = sa.select(e.c.data).where(e.c.request_id == row.id, e.c.kind == "submitted").order_by(e.c.id).limit(1)
        data = (await self.s.exec(first)).scalar_one_or_none()  # type: ignore[call-overload]
        return refers_to_verdict(json.loads(data) if isinstance(data, str) else data)

    async def add_decision(self, ref: str, decision: Decision) -> None:
        row = await self._row(ref)
        assert row.id is not None
        d = table(DecisionRow)
        earlier = int((await self.s.exec(sa.select(sa.func.count()).where(d.c.request_id == row.id))).scalar_one())  # type: ignore[call-overload]
        await self._count("decisions", decision.kind.value, 1)
        self.s.add(
            decided := DecisionRow(
                request_id=row.id,
                kind=decision.kind.value,
                actor=actor_in(decision.actor.to_dict()),
                at=decision.at,
                note=decision.note,
                form=decision.form,
                on_behalf_of=actor_in(decision.on_behalf_of.to_dict()) if decision.on_behalf_of else None,
                project=row.project,
                verdict_kind=row.verdict_kind,
                waited_seconds=None if earlier else (decision.at - as_utc(row.created_at)).total_seconds(),
            )
        )
        await self.s.flush()
        self._decided[row.id] = (earlier + 1, decided)

    async def save_decline_form(self, ref: str, form: DeclineForm) -> None:
        row = await self._row(ref)
        assert row.id is not None
        place, decided = self._decided.get(row.id, (0, None))
        given = form.to_dict()
        # The form of the decline just written is its decision's: the request refers to it (`_record`).
        same = decided is not None and decided.kind == "decline" and decided.form == given
        row.decline_form = {DECISION: place} if same else given
        self.s.add(row)
        await self.s.flush()

    async def save_letter(self, ref: str, letter: Letter) -> None:
        """Save the request's current letter. A text (subject, body, tone…) not saved before becomes a new
        row of `letter_versions`, which the letter refers to; a change of send status alone writes none."""
        row = await self._row(ref)
        assert row.id is not None
        existing = await self.s.get(LetterRow, row.id)
        content = _version_content(letter)
        values: dict[str, Any] = {}
        shown = await self._version(existing) if existing is not None and existing.version else None
        if existing is None or _shown_content(existing, shown) != content:
            number = (existing.version or 0) + 1 if existing is not None else 1
            stored = content | {"tone": tone_in(content["tone"])}
            self.s.add(LetterVersionRow(request_id=row.id, version=number, at=datetime.now(UTC), **stored))
            # The text lives in the version; the HTML is made from it when needed (`_letter`).
            values = {"version": number, "subject": "", "body_text": "", "body_html": "", "tone": []}
            values |= {"language": letter.language.value, "kind": letter.kind, "edited": letter.edited}
            self._letter_versions[row.id] = (number, content)
        elif existing.version is not None:
            self._letter_versions[row.id] = (existing.version, content)
        values |= {
            "status": letter.status,
            "sent_at": letter.sent_at,
            "sent_via": letter.sent_via,
            "message_id": letter.message_id,
            "send_error": letter.send_error,
            "talking_points": letter.talking_points,
            "updated_at": datetime.now(UTC),
        }
        if existing is None:
            await self._count("letters", letter.status, 1)
            self.s.add(LetterRow(request_id=row.id, **values))
        else:
            if existing.status != letter.status:
                await self._count("letters", existing.status, -1)
                await self._count("letters", letter.status, 1)
            for k, v in values.items():
                setattr(existing, k, v)
            self.s.add(existing)
        await self.s.flush()

    # record ------------------------------------------------------------------------------------

    async def add_event(self, event: Event, *, project: str, ref: str | None) -> None:
        self.s.add(EventRow(**await self._event_columns(event, project, ref)))
        await self.s.flush()

    async def add_events(self, entries: Sequence[tuple[Event, str, str | None]]) -> None:
        """One multi-row INSERT, with the same column values the ORM writes for one. A new request's
        `submitted` and `scope_checked`, one after the other, go into one row (`store.compact`)."""
        if not entries:
            return
        values: list[dict[str, Any]] = []
        i = 0
        while i < len(entries):
            event, project, ref = entries[i]
            after = entries[i + 1] if i + 1 < len(entries) else None
            if (
                after is not None
                and after[2] == ref
                and (both := await self._submission(event, after[0], project, ref))
            ):
                values.append(both)
                i += 2
                continue
            values.append(await self._event_columns(event, project, ref))
            i += 1
        await (await self.s.connection()).execute(sa.insert(table(EventRow)), values)

    async def _submission(
        self, submitted: Event, checked: Event | None, project: str, ref: str | None
    ) -> dict[str, Any] | None:
        """The columns of one row standing for a new request's first event (and its scope check), or None."""
        new = self._new_requests.get(canonical_ref(ref)) if ref else None
        data = submission_in(submitted, checked, *new) if new is not None else None
        if data is None:
            return None
        return _event_values(submitted, project, await self._request_id(ref)) | {"text": "", "data": data}

    async def _event_columns(self, event: Event, project: str, ref: str | None) -> dict[str, Any]:
        if event.kind == "submitted" and (alone := await self._submission(event, None, project, ref)):
            return alone
        request_id = await self._request_id(ref)
        values = _event_values(event, project, request_id)
        place, decided = self._decided.get(request_id, (0, None)) if request_id is not None else (0, None)
        if decided is not None and decided.on_behalf_of is None and as_utc(decided.at) == event.at:
            actor = Actor.from_dict(decided.actor)
            if data := decision_in(event, place, decided.kind, actor, decided.note, decided.form):
                return values | {"text": "", "data": data}
        saved = self._letter_versions.get(request_id) if request_id is not None else None
        if saved is not None and event.kind in LETTER_EVENTS and _copies_version(event, saved[1]):
            # The event drafts or edits the version just saved: it refers to it rather than copy it.
            values.update(text="", data={LETTER_VERSION: saved[0], LETTER_FIELDS: list(event.data)})
        return values

    async def _request_id(self, ref: str | None) -> int | None:
        if ref is None:
            return None
        ref = canonical_ref(ref)
        request_id = self._request_ids.get(ref)
        if request_id is None:
            request_id = (await self._row(ref)).id
            assert request_id is not None
            self._request_ids[ref] = request_id
        return request_id

    async def _version(self, letter: LetterRow) -> LetterVersionRow | None:
        if letter.version is None:
            return None
        return await self.s.get(LetterVersionRow, (letter.request_id, letter.version))

    async def project_events(self, project: str) -> list[Event]:
        stmt = (
            select(EventRow)
            .where(EventRow.project == project, col(EventRow.request_id).is_(None))
            .order_by(col(EventRow.id))
        )
        return [_event(e) for e in (await self.s.exec(stmt)).all()]

    # outbox ------------------------------------------------------------------------------------

    async def add_notice(self, notice: Notice, *, available_at: datetime | None = None) -> None:
        values = outbox_values(notice, available_at=available_at)
        ins = _insert(self.dialect, OutboxEntry).values(**values)
        if notice.dedupe_key:
            ins = ins.on_conflict_do_nothing(index_elements=["dedupe_key"])
        await self.s.exec(ins)  # type: ignore[call-overload]

    async def add_notices(self, notices: Sequence[Notice]) -> None:
        """One statement for all of them (executemany)."""
        if not notices:
            return
        ins = _insert(self.dialect, OutboxEntry).on_conflict_do_nothing(index_elements=["dedupe_key"])
        await (await self.s.connection()).execute(ins, [outbox_values(n) for n in notices])

    async def drop_pending_notice(self, dedupe_key: str) -> bool:
        o = table(OutboxEntry)
        stmt = sa.delete(o).where(o.c.dedupe_key == dedupe_key, o.c.status == "pending")
        res = await self.s.exec(stmt)  # type: ignore[call-overload]
        return bool(res.rowcount)

    async def drop_pending_notices(self, dedupe_keys: Sequence[str]) -> None:
        """One statement for all of them (executemany)."""
        if not dedupe_keys:
            return
        o = table(OutboxEntry)
        stmt = sa.delete(o).where(o.c.dedupe_key == sa.bindparam("k"), o.c.status == "pending")
        await (await self.s.connection()).execute(stmt, [{"k": k} for k in dedupe_keys])

    # learning ----------------------------------------------------------------------------------

    async def add_example(self, project: str, example: Example, *, ref: str | None, at: datetime) -> None:
        self.s.add(
            ExampleRow(
                project=project,
                text=example.text,
                verdict=example.verdict.value,
                item_id=example.item_id,
                ref=ref,
                created_at=at,
            )
        )
        await self.s.flush()

    async def list_examples(self, project: str) -> tuple[Example, ...]:
        rows = (
            await self.s.exec(select(ExampleRow).where(ExampleRow.project == project).order_by(col(ExampleRow.id)))
        ).all()
        # A later correction of the same text wins.
        latest: dict[str, Example] = {}
        for r in rows:
            latest[r.text] = Example(r.text, VerdictKind(r.verdict), r.item_id)
        return tuple(latest.values())

    # a language model's answers ----------------------------------------------------------------

    async def get_model_answer(self, key: str) -> dict[str, Any] | None:
        row = await self.s.get(ModelAnswerRow, key)
        return dict(row.answer) if row is not None else None

    async def save_model_answer(
        self, key: str, *, project: str, scope_version: int, model: str, answer: dict[str, Any], at: datetime
    ) -> None:
        ins = _insert(self.dialect, ModelAnswerRow).values(
            key=key, project=project, scope_version=scope_version, model=model[:255], answer=answer, created_at=at
        )
        await self.s.exec(ins.on_conflict_do_nothing(index_elements=["key"]))  # type: ignore[call-overload]

    # idempotency -------------------------------------------------------------------------------

    async def claim_key(self, key: str, *, at: datetime) -> bool:
        ins = _insert(self.dialect, ProcessedKey).values(key=key, at=at).on_conflict_do_nothing(index_elements=["key"])
        res = await self.s.exec(ins.returning(table(ProcessedKey).c.key))  # type: ignore[call-overload]
        return res.first() is not None

    async def claim_keys(self, keys: Sequence[str], *, at: datetime) -> set[str]:
        """One multi-row INSERT … ON CONFLICT DO NOTHING RETURNING for all of them, in sorted order: two
        processes claiming overlapping keys (one recording what the other may have died holding) then take
        their locks in the same order, and one waits for the other instead of deadlocking on PostgreSQL."""
        unique = sorted(set(keys))
        if not unique:
            return set()
        t = table(ProcessedKey)
        ins = _insert(self.dialect, ProcessedKey).on_conflict_do_nothing(index_elements=["key"]).returning(t.c.key)
        res = await (await self.s.connection()).execute(ins, [{"key": k, "at": at} for k in unique])
        return {str(k) for (k,) in res.all()}

    # time --------------------------------------------------------------------------------------

    async def set_due(self, ref: str, due_at: datetime | None) -> None:
        r = table(RequestRow)
        await self.s.exec(sa.update(r).where(r.c.ref == canonical_ref(ref)).values(due_at=due_at))  # type: ignore[call-overload]

    async def add_step(self, step: NewStep) -> bool:
        ins = (
            _insert(self.dialect, ScheduledStep)
            .values(**_step_values(step))
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
        )
        res = await self.s.exec(ins.returning(table(ScheduledStep).c.id))  # type: ignore[call-overload]
        return res.first() is not None

    async def add_steps(self, steps: Sequence[NewStep]) -> None:
        """One statement for all of them (executemany)."""
        if not steps:
            return
        ins = _insert(self.dialect, ScheduledStep).on_conflict_do_nothing(index_elements=["dedupe_key"])
        await (await self.s.connection()).execute(ins, [_step_values(step) for step in steps])

    async def cancel_steps(
        self, *, kinds: Sequence[str], ref: str | None = None, project: str | None = None, at: datetime
    ) -> int:
        st = table(ScheduledStep)
        where = [st.c.status == "pending", st.c.kind.in_(list(kinds))]
        if ref is not None:
            where.append(st.c.ref == canonical_ref(ref))
        if project is not None:
            where.append(st.c.project == project)
        # A cancelled step gives its key up, so the same step may be written again (a file loaded twice
        # plans the same next summary; a question answered at once restarts the same decision clock).
        freed = st.c.dedupe_key + sa.literal(":cancelled:") + sa.cast(st.c.id, sa.String)
        stmt = sa.update(st).where(*where).values(status="cancelled", finished_at=at, dedupe_key=freed)
        res = await self.s.exec(stmt)  # type: ignore[call-overload]
        return int(res.rowcount or 0)

    async def finish_step(self, step_id: int, *, worker: str, status: str, at: datetime) -> bool:
        st = table(ScheduledStep)
        stmt = (
            sa.update(st)
            .where(st.c.id == step_id, st.c.lease_owner == worker, st.c.status == "running")
            .values(status=status, finished_at=at, lease_owner=None, lease_until=None, last_error=None)
        )
        res = await self.s.exec(stmt)  # type: ignore[call-overload]
        return bool(res.rowcount)

    async def add_absence(self, absence: Absence) -> int:
        row = AbsenceRow(
            person=absence.person.to_dict(),
            delegate=absence.delegate.to_dict(),
            until=absence.until,
            ends_at=absence.ends_at,
            created_at=absence.created_at,
            set_by=absence.set_by.to_dict(),
        )
        self.s.add(row)
        await self.s.flush()
        assert row.id is not None
        return row.id

    async def end_absence(self, absence_id: int, *, at: datetime) -> bool:
        a = table(AbsenceRow)
        stmt = sa.update(a).where(a.c.id == absence_id, a.c.ended_at.is_(None)).values(ended_at=at)
        res = await self.s.exec(stmt)  # type: ignore[call-overload]
        return bool(res.rowcount)

    async def absences(self, *, active_at: datetime | None = None) -> list[Absence]:
        stmt = select(AbsenceRow).where(col(AbsenceRow.ended_at).is_(None))
        if active_at is not None:
            stmt = stmt.where(col(AbsenceRow.ends_at) > active_at)
        return [_absence(r) for r in (await self.s.exec(stmt.order_by(col(AbsenceRow.id)))).all()]

    async def get_absence(self, absence_id: int, *, lock: bool = False) -> Absence | None:
        stmt = select(AbsenceRow).where(AbsenceRow.id == absence_id)
        if lock:
            stmt = stmt.with_for_update()
        row = (await self.s.exec(stmt)).first()
        return _absence(row) if row else None

    async def people_of(self, project: str) -> list[Actor]:
        r, d = table(RequestRow), table(DecisionRow)
        requesters = sa.select(r.c.requester_platform, r.c.requester_id, r.c.requester_email, r.c.requester_name).where(
            r.c.project == project
        )
        deciders = sa.select(d.c.actor).join(r, r.c.id == d.c.request_id).where(r.c.project == project)
        people: dict[tuple[str, str], Actor] = {}
        for platform, user_id, email, name in (await self.s.exec(requesters.distinct())).all():  # type: ignore[call-overload]
            people.setdefault((platform, user_id), Actor(platform, user_id, email, name))
        for (actor,) in (await self.s.exec(deciders)).all():  # type: ignore[call-overload]
            a = Actor.from_dict(actor)
            people.setdefault((a.platform, a.user_id), a)
        return list(people.values())


class SqlOutbox(Outbox):
    def __init__(self, store: SqlStore) -> None:
        self.store = store

    async def claim(self, platforms: list[str], *, worker: str, limit: int, lease_seconds: float) -> list[OutboxRow]:
        if not platforms:
            return []
        now = datetime.now(UTC)
        o = table(OutboxEntry)
        p = o.alias("earlier")
        due = sa.or_(
            sa.and_(o.c.status == "pending", o.c.available_at <= now),
            sa.and_(o.c.status == "sending", o.c.lease_until < now),
        )
        # Notices about one request go out in order, per platform: a row waits while an older one is open.
        blocked = (
            sa.select(p.c.id)
            .where(
                p.c.ref == o.c.ref,
                p.c.platform == o.c.platform,
                p.c.id < o.c.id,
                p.c.status.in_(UNSENT),
            )
            .exists()
        )
        # The rows not yet delivered are picked out through an index holding them (status first), never by
        # reading the table in id order: statistics that say nearly every row is delivered (ANALYZE on a
        # pruned outbox) would otherwise have SQLite read every row, in a write transaction, on every poll.
        u = o.alias("unsent")
        unsent = sa.select(u.c.id).where(u.c.status.in_(UNSENT), u.c.platform.in_(platforms))
        pick = sa.select(o.c.id).where(o.c.id.in_(unsent), due, ~blocked).order_by(o.c.id).limit(limit)
        if self.store.dialect == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        stmt = (
            sa.update(o)
            .where(o.c.id.in_(pick.scalar_subquery()))
            .values(
                status="sending",
                lease_owner=worker,
                lease_until=now + timedelta(seconds=lease_seconds),
                attempts=o.c.attempts + 1,
                # Taken back from a worker whose lease ran out: it may have died mid-call.
                uncertain=sa.or_(o.c.uncertain, o.c.status == "sending"),
            )
            .returning(*o.c)
        )
        async with self.store.session() as s:
            rows = (await s.exec(stmt)).mappings().all()  # type: ignore[call-overload]
        out = [
            OutboxRow(
                id=r["id"],
                notice=Notice(
                    kind=r["kind"],
                    platform=r["platform"],
                    audience=r["audience"],
                    text=r["text"],
                    ref=r["ref"],
                    project=r["project"],
                    recipient=Actor.from_dict(r["recipient"]) if r["recipient"] else None,
                    data=r["data"] or {},
                    dedupe_key=r["dedupe_key"],
                ),
                attempts=r["attempts"],
                created_at=as_utc(r["created_at"]),
                uncertain=bool(r["uncertain"]),
            )
            for r in rows
        ]
        return sorted(out, key=lambda r: r.id)

    async def _finish(self, row_id: int, worker: str, **values: Any) -> bool:
        o = table(OutboxEntry)
        stmt = sa.update(o).where(o.c.id == row_id, o.c.lease_owner == worker, o.c.status == "sending").values(**values)
        async with self.store.session() as s:
            res = await s.exec(stmt)  # type: ignore[call-overload]
            return bool(res.rowcount)

    async def mark_sent(self, row_id: int, *, worker: str, result: dict[str, Any] | None) -> bool:
        """Mark the row delivered; where its message was posted (`result`) is also kept in
        `posted_messages`, which outlives the row (delivered rows are pruned, see `prune_delivered`).
        The card or form the notice carried (`data`) goes now: nothing reads it again (an update of the
        message is a notice of its own, with its card made from the record), and a delivery is looked into
        by its kind, text, recipient, times and result."""
        o = table(OutboxEntry)
        now = datetime.now(UTC)
        stmt = (
            sa.update(o)
            .where(o.c.id == row_id, o.c.lease_owner == worker, o.c.status == "sending")
            .values(
                status="sent",
                sent_at=now,
                result=result,
                data=sa.null(),
                lease_owner=None,
                lease_until=None,
                last_error=None,
            )
            .returning(o.c.ref, o.c.kind, o.c.platform)
        )
        async with self.store.session() as s:
            row = (await s.exec(stmt)).first()  # type: ignore[call-overload]
            if row is None:
                return False
            ref, kind, platform = row
            if ref and result and kind in UPDATED_IN_PLACE:
                ins = _insert(self.store.dialect, PostedMessage).values(
                    ref=ref, kind=kind, platform=platform, result=result, posted_at=now
                )
                ins = ins.on_conflict_do_update(
                    index_elements=["ref", "kind", "platform"], set_={"result": result, "posted_at": now}
                )
                await s.exec(ins)  # type: ignore[call-overload]
            return True

    async def prune_delivered(self, *, before: datetime, limit: int = 200) -> int:
        """Delete up to `limit` rows delivered before `before` (oldest first); return how many went. Where
        their messages were posted stays in `posted_messages`."""
        o = table(OutboxEntry)
        old = sa.select(o.c.id).where(o.c.status == "sent", o.c.sent_at < before).order_by(o.c.sent_at).limit(limit)
        async with self.store.session() as s:
            res = await s.exec(sa.delete(o).where(o.c.id.in_(old.scalar_subquery())))  # type: ignore[call-overload]
            return int(res.rowcount or 0)

    async def mark_retry(self, row_id: int, *, worker: str, error: str, at: datetime, uncertain: bool = False) -> None:
        o = table(OutboxEntry)
        await self._finish(
            row_id,
            worker,
            status="pending",
            available_at=at,
            last_error=error[:2000],
            lease_owner=None,
            lease_until=None,
            uncertain=sa.or_(o.c.uncertain, sa.literal(uncertain)),
        )

    async def mark_failed(self, row_id: int, *, worker: str, error: str) -> None:
        await self._finish(row_id, worker, status="failed", last_error=error[:2000], lease_owner=None, lease_until=None)

    async def delivery_result(self, ref: str, kind: str, platform: str) -> dict[str, Any] | None:
        m = table(PostedMessage)
        stmt = sa.select(m.c.result).where(m.c.ref == ref, m.c.kind == kind, m.c.platform == platform)
        async with self.store.read_session() as s:
            row = (await s.exec(stmt)).first()  # type: ignore[call-overload]
        return dict(row[0]) if row and row[0] else None

    async def stats(self, now: datetime) -> OutboxStats:
        async with self.store.read_session() as s:
            return await outbox_stats(s, now)


def _outbox_figures() -> list[Any]:
    """How many notices wait and have failed, and when the oldest waiting one was written: three scalar
    sub-selects, each reading only an index of the rows it counts (never the delivered ones, nearly all of
    them). The oldest is looked up by the ids of the undelivered rows, which an index holds, rather than
    by a scan for them whatever the statistics say."""
    o = table(OutboxEntry)
    u = o.alias("unsent")
    count = sa.select(sa.func.count()).select_from(o)
    unsent = sa.select(u.c.id).where(u.c.status.in_(UNSENT))
    return [
        count.where(o.c.status.in_(UNSENT)).scalar_subquery(),
        count.where(o.c.status == "failed").scalar_subquery(),
        sa.select(sa.func.min(o.c.created_at)).where(o.c.id.in_(unsent)).scalar_subquery(),
    ]


def _outbox_stats(now: datetime, pending: Any, failed: Any, oldest: Any) -> OutboxStats:
    age = (now - as_utc(oldest)).total_seconds() if oldest else 0.0
    return OutboxStats(int(pending), int(failed), max(0.0, age))


async def outbox_stats(s: AsyncSession, now: datetime) -> OutboxStats:
    """How many notices wait and have failed, and how long the oldest has waited (one statement)."""
    return _outbox_stats(now, *(await s.exec(sa.select(*_outbox_figures()))).one())  # type: ignore[call-overload]


FINISHED_STEPS = ("done", "skipped", "cancelled")  # what pruning may delete (not "failed": kept to look into)


class SqlSchedule(Schedule):
    """Scheduled steps, claimed like the outbox's rows: `FOR UPDATE SKIP LOCKED` on PostgreSQL, one writer
    at a time on SQLite, and a lease that another worker may take over once it has run out."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store

    async def claim_steps(self, *, now: datetime, worker: str, limit: int, lease_seconds: float) -> list[Step]:
        st = table(ScheduledStep)
        due = sa.or_(
            sa.and_(
                st.c.status == "pending",
                st.c.due_at <= now,
                sa.or_(st.c.lease_until.is_(None), st.c.lease_until <= now),
            ),
            sa.and_(st.c.status == "running", st.c.lease_until < now),
        )
        pick = sa.select(st.c.id).where(due).order_by(st.c.due_at, st.c.id).limit(limit)
        if self.store.dialect == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        stmt = (
            sa.update(st)
            .where(st.c.id.in_(pick.scalar_subquery()))
            .values(
                status="running",
                lease_owner=worker,
                lease_until=now + timedelta(seconds=lease_seconds),
                attempts=st.c.attempts + 1,
            )
            .returning(*st.c)
        )
        async with self.store.session() as s:
            rows = (await s.exec(stmt)).mappings().all()  # type: ignore[call-overload]
        steps = [
            Step(
                id=r["id"],
                kind=r["kind"],
                due_at=as_utc(r["due_at"]),
                dedupe_key=r["dedupe_key"],
                ref=r["ref"],
                project=r["project"],
                data=dict(r["data"] or {}),
                attempts=r["attempts"],
            )
            for r in rows
        ]
        return sorted(steps, key=lambda x: (x.due_at, x.id))

    async def _give_back(self, step_id: int, worker: str, **values: Any) -> None:
        st = table(ScheduledStep)
        stmt = (
            sa.update(st)
            .where(st.c.id == step_id, st.c.lease_owner == worker, st.c.status == "running")
            .values(lease_owner=None, **values)
        )
        async with self.store.session() as s:
            await s.exec(stmt)  # type: ignore[call-overload]

    async def retry_step(self, step_id: int, *, worker: str, error: str, at: datetime) -> None:
        await self._give_back(step_id, worker, status="pending", lease_until=at, last_error=error[:2000])

    async def fail_step(self, step_id: int, *, worker: str, error: str) -> None:
        await self._give_back(
            step_id, worker, status="failed", lease_until=None, last_error=error[:2000], finished_at=datetime.now(UTC)
        )

    async def stats(self, now: datetime) -> ScheduleStats:
        async with self.store.read_session() as s:
            return await schedule_stats(s, now)

    async def prune_finished(self, *, before: datetime, limit: int = 200) -> int:
        st = table(ScheduledStep)
        finished = st.c.status.in_(FINISHED_STEPS)
        old = sa.select(st.c.id).where(finished, st.c.finished_at < before).order_by(st.c.id).limit(limit)
        async with self.store.session() as s:
            res = await s.exec(sa.delete(st).where(st.c.id.in_(old.scalar_subquery())))  # type: ignore[call-overload]
            return int(res.rowcount or 0)


def _schedule_figures() -> list[Any]:
    """How many steps wait, and when the earliest is due: reads of the (status, due_at) index."""
    st = table(ScheduledStep)
    waiting = sa.select(sa.func.count()).where(st.c.status.in_(("pending", "running")))
    earliest = sa.select(sa.func.min(st.c.due_at)).where(st.c.status.in_(("pending", "running")))
    return [waiting.scalar_subquery(), earliest.scalar_subquery()]


def _schedule_stats(now: datetime, pending: Any, earliest: Any) -> ScheduleStats:
    late = (now - as_utc(earliest)).total_seconds() if earliest else 0.0
    return ScheduleStats(int(pending), max(0.0, late))


async def schedule_stats(s: AsyncSession, now: datetime) -> ScheduleStats:
    """How many steps wait, and how late the most overdue one is (one statement)."""
    return _schedule_stats(now, *(await s.exec(sa.select(*_schedule_figures()))).one())  # type: ignore[call-overload]


# --- row → domain -------------------------------------------------------------------------------


def _request_values(req: NewRequest) -> dict[str, Any]:
    """A new request's columns (every one but the id, as the ORM writes them), for one row or many."""
    return {
        "ref": req.ref,
        "project": req.project,
        "number": req.number,
        "text": req.text,
        "client_words": req.client_words,
        "urgency": req.urgency,
        "requested_date": req.requested_date,
        "requester_platform": req.requester.platform,
        "requester_id": req.requester.user_id,
        "requester_email": req.requester.email,
        "requester_name": req.requester.name,
        "source": source_in(req.source.to_dict()) if req.source else None,
        "status": req.status.value,
        "verdict": verdict_in(req.verdict.to_dict()),
        "recorded_verdict": None,
        "verdict_kind": req.verdict.verdict.value,
        "scope_version": req.scope_version,
        "decline_form": None,
        "created_at": req.created_at,
        "updated_at": req.created_at,
        "due_at": req.due_at,
    }


def _event_values(event: Event, project: str, request_id: int | None) -> dict[str, Any]:
    """An event's columns (every one but the id, as the ORM writes them), for one row or many."""
    return {
        "project": project,
        "request_id": request_id,
        "kind": event.kind,
        "at": event.at,
        "actor": event_actor_in(event.actor.to_dict()),
        "platform": event.actor.platform,
        "text": event.text,
        "data": event.data or None,
    }


def _step_values(step: NewStep) -> dict[str, Any]:
    return {
        "kind": step.kind,
        "due_at": step.due_at,
        "ref": step.ref,
        "project": step.project,
        "data": step.data or None,
        "dedupe_key": step.dedupe_key,
        "status": "pending",
        "attempts": 0,
        "created_at": datetime.now(UTC),
    }


def _absence(r: AbsenceRow) -> Absence:
    return Absence(
        person=Actor.from_dict(r.person),
        delegate=Actor.from_dict(r.delegate),
        until=r.until,
        ends_at=as_utc(r.ends_at),
        created_at=as_utc(r.created_at),
        set_by=Actor.from_dict(r.set_by),
        id=r.id,
        ended_at=utc(r.ended_at),
    )


# A letter's events (drafted, edited) written since migration 0010 hold no copy of its text: their data is
# {LETTER_VERSION: n, LETTER_FIELDS: [the keys of the data they stand for]}, read back from `letter_versions`.
LETTER_EVENTS = ("letter_drafted", "letter_edited")
LETTER_VERSION = "letter_version"
LETTER_FIELDS = "fields"
VERSION_FIELDS = ("subject", "body_text", "language", "kind", "tone", "edited")


def _version_content(letter: Letter) -> dict[str, Any]:
    return {
        "subject": letter.subject,
        "body_text": letter.body_text,
        "language": letter.language.value,
        "kind": letter.kind,
        "tone": [t.to_dict() for t in letter.tone],
        "edited": letter.edited,
    }


def _shown_content(lt: LetterRow, version: LetterVersionRow | None) -> dict[str, Any]:
    """The text a letter row shows: its version's, or (written before versions) its own."""
    src: Any = version if version is not None else lt
    return {k: tone_out(getattr(src, k)) if k == "tone" else getattr(src, k) for k in VERSION_FIELDS}


def _copies_version(event: Event, content: dict[str, Any]) -> bool:
    data = event.data or {}
    return event.text == content["body_text"] and all(
        k in content and k != "body_text" and content[k] == v for k, v in data.items()
    )


def _event(e: EventRow, versions: dict[tuple[int, int], LetterVersionRow] | None = None) -> Event:
    text, data = e.text or "", dict(e.data or {})
    v = None
    if LETTER_VERSION in data and versions and e.request_id is not None:
        v = versions.get((e.request_id, data[LETTER_VERSION]))  # a version is never deleted: always found
    if v is not None:
        text, data = v.body_text, {k: tone_out(v.tone) if k == "tone" else getattr(v, k) for k in data[LETTER_FIELDS]}
    return Event(e.kind, as_utc(e.at), event_actor_out(e.actor, e.platform), text, data)


def _letter(lt: LetterRow, version: LetterVersionRow | None = None) -> Letter:
    if version is None:
        src: Any = lt
        body_html = lt.body_html
    else:
        from bot.letters.writer import text_to_html  # only where a versioned letter is read

        src, body_html = version, text_to_html(version.body_text)
    return Letter(
        subject=src.subject,
        body_text=src.body_text,
        body_html=body_html,
        language=Language(src.language),
        tone=tuple(ToneResult.from_dict(t) for t in tone_out(src.tone)),
        kind=src.kind,
        edited=src.edited,
        status=lt.status,
        sent_at=utc(lt.sent_at),
        sent_via=lt.sent_via,
        message_id=lt.message_id,
        send_error=lt.send_error,
        talking_points=lt.talking_points or "",
    )


def _decline_form(row: RequestRow, decisions: list[DecisionRow]) -> DeclineForm | None:
    """The request's decline form: its own, or (a decline's) the one its decision holds."""
    form = row.decline_form
    if form and DECISION in form:
        form = decisions[form[DECISION] - 1].form  # a decision is never deleted: always there
    return DeclineForm.from_dict(form) if form else None


def _record(
    row: RequestRow,
    decisions: list[DecisionRow],
    letter: tuple[LetterRow, LetterVersionRow | None] | None,
    events: list[Event],
) -> RequestRecord:
    return RequestRecord(
        ref=row.ref,
        project=row.project,
        number=row.number,
        status=RequestStatus(row.status),
        text=row.text,
        requester=Actor(row.requester_platform, row.requester_id, row.requester_email, row.requester_name),
        verdict=Verdict.from_dict(row.verdict),
        scope_version=row.scope_version,
        created_at=as_utc(row.created_at),
        source=Source.from_dict(row.source),
        client_words=row.client_words or "",
        urgency=row.urgency or "",
        requested_date=row.requested_date,
        decisions=tuple(
            Decision(
                DecisionKind(d.kind),
                Actor.from_dict(d.actor),
                as_utc(d.at),
                d.note or "",
                d.form,
                Actor.from_dict(d.on_behalf_of) if d.on_behalf_of else None,
            )
            for d in decisions
        ),
        letter=_letter(*letter) if letter else None,
        events=tuple(events),
        decline_form=_decline_form(row, decisions),
        due_at=utc(row.due_at),
    )


__all__ = ["SqlOutbox", "SqlSchedule", "SqlStore", "SqlTransaction", "is_sqlite", "utc"]


async def metrics_snapshot(store: SqlStore, now: datetime | None = None) -> dict[str, Any]:
    """Counts for the /metrics endpoint, read from the database so every process reports the same (see
    `SqlStore.metrics_snapshot`). `now`: the service's clock, for what is overdue."""
    now = now or datetime.now(UTC)
    r, c = table(RequestRow), table(CountRow)
    # One read transaction (one snapshot): the counts the store keeps up to date (a few rows whatever the
    # history), and what the outbox and the schedule hold through indexes of the rows counted.
    async with store.read_session() as s:
        counts: dict[str, dict[str, int]] = {}
        for metric, key, n in (await s.exec(sa.select(c.c.metric, c.c.key, c.c.n))).all():  # type: ignore[call-overload]
            if n:
                counts.setdefault(metric, {})[key] = int(n)
        # Overdue: the requests waiting for a decision (kept counts) less those not due yet or without a
        # due date, which the (status, due_at) index finds among the recent ones, however many are late.
        # (Two counts, each one range of the index: with an OR PostgreSQL reads every waiting request's entry.)
        # The rest in one statement of scalar sub-selects: one round trip to the database, not six.
        waiting = sa.select(sa.func.count()).select_from(r).where(r.c.status.in_(AWAITING_DECISION))
        not_late = (
            waiting.where(r.c.due_at > now).scalar_subquery() + waiting.where(r.c.due_at.is_(None)).scalar_subquery()
        )
        figures = sa.select(not_late, *_outbox_figures(), *_schedule_figures())
        not_late_n, *rest = (await s.exec(figures)).one()  # type: ignore[call-overload]
        statuses = counts.get("statuses", {})
        overdue_n = max(0, sum(statuses.get(st, 0) for st in AWAITING_DECISION) - int(not_late_n))
        outbox = _outbox_stats(datetime.now(UTC), *rest[:3])
        schedule = _schedule_stats(now, *rest[3:])
    by_kind = {tuple(k.split(":", 1)): n for k, n in counts.get("requests", {}).items()}
    return {
        "requests": by_kind,
        "decisions": counts.get("decisions", {}),
        "letters": counts.get("letters", {}),
        "statuses": statuses,
        "overdue": overdue_n,
        "outbox_pending": outbox.pending,
        "outbox_failed": outbox.failed,
        "outbox_oldest_age": outbox.oldest_pending_age,
        "schedule_pending": schedule.pending,
        "schedule_late": schedule.late_seconds,
    }
