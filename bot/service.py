"""IntakeService: one method per use case. Each use case is one transaction: the state change, the
events that record it and the notices it causes are committed together or not at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from . import forms, messages
from .domain import (
    MAX_REQUEST_CHARS,
    SYSTEM,
    Absence,
    Actor,
    Channel,
    Decision,
    DecisionKind,
    DeclineForm,
    Event,
    Example,
    Language,
    Letter,
    Notice,
    Opinion,
    OpinionStatus,
    Project,
    ReasonCategory,
    RequestRecord,
    RequestStatus,
    Scope,
    ScopeChange,
    Source,
    Verdict,
    VerdictKind,
    canonical_ref,
)
from .errors import (
    Duplicate,
    FormInvalid,
    IllegalMove,
    IntakeError,
    InvalidInput,
    PermissionDenied,
    ProjectNotFound,
    RequestNotFound,
    StorageUnavailable,
)
from .forms import MAX_ANSWER_CHARS, MAX_LETTER_CHARS, Correction, FormSpec
from .letters import default_empathy, default_reason, revise_letter, write_letter
from .ports import Clock, NewRequest, NewStep, ProjectVersionInfo, Store, SystemClock, Transaction
from .review import (
    DECIDERS,
    RULES,
    Action,
    Role,
    Viewer,
    check_move,
    check_role,
    needs_scope_change,
    review_view,
    status_label,
)
from .scope import ScopeChecker, default_checker, semantic
from .text import Day, Items, Phrase, When, language_for
from .timekeeping import (
    CHAT_PLATFORMS,
    away_end_step,
    away_phrase,
    decision_due_at,
    decision_step,
    replan_daily_summary,
    same_identity,
    start_decision_clock,
    start_follow_up_clock,
    start_question_clock,
    stop_clocks,
)
from .workdays import start_of_day, zone

# Imported where used: a command that only reads the record (`intake request show`) does not pay for the
# scope checker, the language model's client, e-mail or the digest.
if TYPE_CHECKING:
    from .digest import ClientDigest
    from .mailing import LetterRecipients, OutgoingMail
    from .scope.llm import ModelJudge, ModelResult

T = TypeVar("T")


@dataclass(frozen=True)
class LoadResult:
    project: Project
    version: int
    changed: bool
    created: bool


def _house_language(projects: list[Project]) -> Language:
    langs = {p.chat_language for p in projects}
    return langs.pop() if len(langs) == 1 else Language.EN


@dataclass(frozen=True)
class OpenRequests:
    """What `/requests` lists (`IntakeService.open_requests`)."""

    project: Project | None  # None: every project
    requests: list[RequestRecord]  # the oldest open ones
    total: int
    projects: list[Project]  # every project (their time zones, the house language)
    house_language: Language


@dataclass(frozen=True)
class Home:
    """What a person's home page shows (`IntakeService.home`)."""

    projects: dict[str, Project]  # every project, by slug
    deciding: list[Project]  # the projects whose requests the person decides on now
    standing_in: dict[str, Actor]  # project slug → the away PM the person stands in for there
    queue: list[RequestRecord]  # the oldest open requests of `deciding`
    queue_total: int
    mine: list[RequestRecord]  # the person's own requests, newest first
    mine_total: int


def _stands_in_for(actor: Actor, project: Project, absences: list[Absence]) -> Actor | None:
    """The away PM of `project` whom `actor` stands in for, among `absences` (those running now)."""
    for absence in absences:
        if same_identity(absence.delegate, actor) and project.is_pm(absence.person):
            return absence.person
    return None


def content_hash(project: Project) -> str:
    data = project.to_dict()
    data.pop("version", None)
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class IntakeService:
    def __init__(self, store: Store, *, checker: ScopeChecker | None = None, clock: Clock | None = None) -> None:
        self.store = store
        self._checker = checker
        self.clock = clock or SystemClock()
        # A checker that also asks a language model: requests are recorded with its offline verdict, and
        # the model is asked afterwards (`judge_with_model`, run by the outbox).
        self.model: ModelJudge | None = None
        if checker is not None:
            from .scope.llm import ModelJudge

            self.model = checker if isinstance(checker, ModelJudge) else None
        self._questions: dict[str, tuple[asyncio.Lock, int]] = {}  # questions for the model being asked here

    @property
    def checker(self) -> ScopeChecker:
        """The scope checker (the default one is made on first use)."""
        if self._checker is None:
            self._checker = default_checker()
        return self._checker

    @checker.setter
    def checker(self, checker: ScopeChecker) -> None:
        self._checker = checker

    # --- projects ---------------------------------------------------------------------------

    async def load_project(self, project: Project, *, loaded_by: str = "cli") -> LoadResult:
        """Validate-and-upsert a project. A changed scope becomes a new version; old ones stay."""
        now = self.clock.now()
        async with self.store.transaction() as tx:
            owner = await tx.project_for_prefix(project.ref_prefix)
            if owner and owner != project.slug:
                raise InvalidInput(
                    Phrase("err.prefix_taken", owner=owner, prefix=project.ref_prefix, slug=project.slug),
                    field="ref_prefix",
                )
            existing = await tx.get_project(project.slug, lock=True)
            if existing and existing.ref_prefix != project.ref_prefix:
                raise InvalidInput(
                    Phrase("err.prefix_fixed", slug=project.slug, prefix=existing.ref_prefix), field="ref_prefix"
                )
            version, changed = await tx.save_project(
                project, content_hash=content_hash(project), loaded_by=loaded_by, at=now
            )
            if changed:
                await tx.add_event(
                    Event("scope_loaded", now, Actor("cli", loaded_by), f"version {version}", {"version": version}),
                    project=project.slug,
                    ref=None,
                )
            stored = await tx.get_project(project.slug)
            assert stored is not None
            if changed:
                await replan_daily_summary(tx, stored, now)
        return LoadResult(stored, version, changed, created=existing is None)

    async def projects(self) -> list[Project]:
        async with self.store.reading() as tx:
            return await tx.list_projects()

    async def project(self, slug: str) -> Project:
        async with self.store.reading() as tx:
            return await self._project(tx, slug)

    async def project_history(self, slug: str) -> list[tuple[ProjectVersionInfo, Project]]:
        """Every loaded version of a project's file, oldest first, each with its scope."""
        async with self.store.transaction() as tx:
            await self._project(tx, slug)
            out = []
            for info in sorted(await tx.project_versions(slug), key=lambda i: i.version):
                version = await tx.get_project_version(slug, info.version)
                if version is not None:
                    out.append((info, version))
            return out

    async def house_language(self) -> Language:
        """The language to speak when no project is in question yet: the one every loaded project's team
        reads, or English when they differ (or the database cannot tell)."""
        try:
            return _house_language(await self.projects())
        except StorageUnavailable:
            return Language.EN

    async def _project(self, tx: Transaction, slug: str, *, lock: bool = False) -> Project:
        project = await tx.get_project(slug, lock=lock)
        if project is None:
            raise ProjectNotFound(slug, [p.slug for p in await tx.list_projects()])
        return project

    async def resolve_project(self, actor: Actor, *, slug: str | None = None, channel: str | None = None) -> Project:
        """Find the project a request belongs to: named, linked to the channel, the user's only one, or the only one."""
        (found,) = await self.resolve_projects([(actor, slug, channel)])
        if isinstance(found, IntakeError):
            raise found
        return found

    async def resolve_projects(
        self, asks: Sequence[tuple[Actor, str | None, str | None]]
    ) -> list[Project | IntakeError]:
        """`resolve_project` for each `(actor, slug, channel)`, reading the projects once for all of them:
        each gets its project, or the error that says why there is none."""
        out: list[Project | IntakeError] = []
        if not asks:
            return out
        async with self.store.reading() as tx:
            seen = _SeenProjects(tx)
            for actor, slug, channel in asks:
                try:
                    out.append(await self._resolve(seen, actor, slug, channel))
                except IntakeError as exc:
                    out.append(exc)
        return out

    async def _resolve(self, seen: _SeenProjects, actor: Actor, slug: str | None, channel: str | None) -> Project:
        if slug:
            return await seen.named(slug)
        projects = await seen.every()
        if not projects:
            raise InvalidInput(Phrase("err.no_projects"))
        if channel:
            for p in projects:
                if channel in (p.platforms.get(actor.platform) or {}).get("intake_channels", ()):
                    return p
        if len(projects) == 1:
            return projects[0]
        mine = [p for p in projects if p.is_pm(actor)]
        if not mine:
            slugs = await seen.asked_in(actor)
            mine = [p for p in projects if p.slug in slugs]
        if len(mine) == 1:
            return mine[0]
        names = ", ".join(f"@{p.slug}" for p in projects)
        raise InvalidInput(Phrase("err.which_project", first=projects[0].slug, names=names), field="project")

    async def open_requests(
        self, actor: Actor, *, slug: str | None = None, channel: str | None = None, limit: int
    ) -> OpenRequests:
        """The open requests of the project `resolve_project` finds or, when it cannot tell which, of every
        project: the oldest `limit` of them and how many there are, read in transactions that only read."""
        try:
            project: Project | None = await self.resolve_project(actor, slug=slug, channel=channel)
        except InvalidInput as exc:
            if exc.field != "project":
                raise
            project = None
        which = project.slug if project else None
        statuses = [st for st in RequestStatus if st.is_open]
        async with self.store.reading() as tx:
            recs = await tx.list_requests(project=which, statuses=statuses, limit=limit)
            total = len(recs) if len(recs) < limit else await tx.count_requests(project=which, statuses=statuses)
            projects = await tx.list_projects()
        return OpenRequests(project, recs, total, projects, _house_language(projects))

    async def check_scope(self, slug: str, text: str) -> Verdict:
        """Judge a text against a project's current scope without recording anything."""
        async with self.store.reading() as tx:
            project = await self._project(tx, slug)
            examples = await tx.list_examples(slug)
        text = _clean_text(text)
        await semantic.prepare([text])
        return self.checker.check(project.scope(examples), text)

    # --- requests ---------------------------------------------------------------------------

    async def submit_request(
        self,
        *,
        project: str,
        actor: Actor,
        text: str,
        source: Source | None = None,
        client_words: str = "",
        urgency: str = "",
        requested_date: date | None = None,
        idempotency_key: str | None = None,
    ) -> RequestRecord:
        """Record a client request, judge it against the current scope and send it to review."""
        new = Submission(project, actor, text, source, client_words, urgency, requested_date, idempotency_key)
        (outcome,) = await self.submit_requests([new])
        if isinstance(outcome, IntakeError):
            raise outcome
        return outcome

    async def submit_requests(
        self, batch: Sequence[Submission], *, between: Callable[[], Awaitable[None]] | None = None
    ) -> list[RequestRecord | IntakeError]:
        """Record several requests in one transaction, numbered in order (a burst of accepted commands: one
        commit, and a handful of statements, for all of them). Each gets its record, or the error that
        refused it (a duplicate, an unknown project, bad input), which then wrote nothing of it. Any other
        failure records none of them.

        Each project is read once, and each request judged and drafted (its record, review card and
        number), before the transaction, so that the writes are all the transaction does: on SQLite it
        holds the one write lock every acknowledgement needs too. `between` is awaited after each request
        is judged (a server answers what is waiting meanwhile: see adapters/web/pace.py). A scope loaded,
        or a number taken, in between is noticed in the transaction, and those requests drafted again."""
        now = self.clock.now()
        out: list[RequestRecord | IntakeError | None] = [None] * len(batch)
        items: list[tuple[int, Submission]] = []
        for i, item in enumerate(batch):
            try:
                items.append((i, _checked(item)))
            except IntakeError as exc:  # bad input: nothing of it is written
                out[i] = exc
        scopes: dict[str, tuple[Project, tuple[Example, ...]]] = {}
        upcoming: dict[str, int] = {}  # the number each project's next request is expected to get
        missing: dict[str, ProjectNotFound] = {}
        if items:
            async with self.store.reading() as rtx:
                for slug in dict.fromkeys(item.project for _, item in items):
                    try:
                        proj = await self._project(rtx, slug)
                    except ProjectNotFound as exc:
                        missing[slug] = exc
                    else:
                        scopes[slug] = (proj, await rtx.list_examples(slug))
                        upcoming[slug] = await rtx.upcoming_request_number(slug)
        # The request embedding (the optional [semantic] extra) is worked out off the event loop first.
        await semantic.prepare(item.text for _, item in items if item.project not in missing)
        drafts: list[_Draft] = []
        for i, item in items:
            if item.project in missing:
                out[i] = missing[item.project]
                continue
            proj, examples = scopes[item.project]
            verdict = self._judge(proj, examples, item.text)
            drafts.append(self._draft_request(i, item, proj, verdict, upcoming[item.project], now))
            upcoming[item.project] += 1
            if between is not None:
                await between()
        done = [item.done_key for item in batch if item.done_key]
        if drafts or done:
            async with self.store.transaction() as tx:
                for i, outcome in await self._write_drafts(tx, drafts, now):
                    out[i] = outcome
                # each one's outcome is in the record now (or it is refused, for good)
                await tx.drop_pending_notices(done)
        return [o for o in out if o is not None]

    def _judge(self, project: Project, examples: tuple[Example, ...], text: str) -> Verdict:
        verdict = self.checker.check(project.scope(examples), text)
        if self.model is None:
            return verdict
        from .scope.llm import pending as model_pending

        return model_pending(verdict)

    def _draft_request(
        self, index: int, item: Submission, proj: Project, verdict: Verdict, number: int, now: datetime
    ) -> _Draft:
        rec, req = self._new_request(proj, item, verdict, number, now)
        notices = [
            self._notice(rec, "review_card", "review", self._review_text(rec, proj), dedupe=f"{rec.ref}:review_card")
        ]
        if self.model is not None:
            from .scope.llm import MODEL_PLATFORM

            # The question for the model, as a leased outbox row: whichever process takes it asks the
            # model, and one that dies on the way leaves it to another once its lease runs out.
            notices.append(
                Notice(
                    kind="scope_model",
                    platform=MODEL_PLATFORM,
                    audience="system",
                    text=f"ask the language model about {rec.ref}",
                    ref=rec.ref,
                    project=proj.slug,
                    dedupe_key=f"{rec.ref}:scope_model",
                )
            )
        return _Draft(index, item, proj, rec, req, decision_step(rec.ref, proj, req.due_at or now), notices)

    async def _write_drafts(
        self, tx: Transaction, drafts: list[_Draft], now: datetime
    ) -> list[tuple[int, RequestRecord | IntakeError]]:
        """Write the drafted requests: their claims, numbers, rows, decision clocks, events and notices, one
        statement (or one per project) for each kind of row. A draft whose project has a new scope, or
        whose number went to another request meanwhile, is drafted again here."""
        out: list[tuple[int, RequestRecord | IntakeError]] = []
        keys = [d.item.idempotency_key for d in drafts if d.item.idempotency_key]
        claimed = await tx.claim_keys(keys, at=now) if keys else set()
        fresh: list[_Draft] = []
        for d in drafts:
            key = d.item.idempotency_key
            if key and key not in claimed:
                out.append((d.index, Duplicate(key)))
            else:
                claimed.discard(key or "")  # the same key twice in one batch: the first records it
                fresh.append(d)
        numbers: dict[str, list[int]] = {}
        rescoped: dict[str, tuple[Project, tuple[Example, ...]]] = {}
        for slug in dict.fromkeys(d.project.slug for d in fresh):
            mine = [d for d in fresh if d.project.slug == slug]
            current = await self._project(tx, slug)
            if current.version != mine[0].project.version:  # a scope loaded since they were judged
                rescoped[slug] = (current, await tx.list_examples(slug))
            numbers[slug] = await tx.next_request_numbers(slug, len(mine))
        written: list[_Draft] = []
        for d in fresh:
            number = numbers[d.project.slug].pop(0)
            if d.project.slug in rescoped:
                proj, examples = rescoped[d.project.slug]
                d = self._draft_request(d.index, d.item, proj, self._judge(proj, examples, d.item.text), number, now)
            elif d.rec.number != number:
                d = self._draft_request(d.index, d.item, d.project, d.rec.verdict, number, now)
            written.append(d)
            out.append((d.index, d.rec))
        await tx.add_requests([d.req for d in written])
        await tx.add_steps([d.step for d in written])
        await tx.add_events([(event, d.project.slug, d.rec.ref) for d in written for event in d.rec.events])
        await tx.add_notices([n for d in written for n in d.notices])
        return out

    def _new_request(
        self, proj: Project, new: Submission, verdict: Verdict, number: int, now: datetime
    ) -> tuple[RequestRecord, NewRequest]:
        """A new request as it is stored, and as its record reads (built from what is written rather than
        read back: a new request has no decisions, letter or form yet)."""
        actor, text, source = new.actor, new.text, new.source
        ref = f"{proj.ref_prefix}-{number}"
        due = decision_due_at(proj, now)
        req = NewRequest(
            project=proj.slug,
            number=number,
            ref=ref,
            text=text,
            requester=actor,
            verdict=verdict,
            scope_version=proj.version,
            status=RequestStatus.IN_REVIEW,
            created_at=now,
            source=source,
            client_words=new.client_words,
            urgency=new.urgency.strip(),
            requested_date=new.requested_date,
            due_at=due,
        )
        events = (
            Event("submitted", now, actor, text, {"source": source.to_dict() if source else None}),
            Event(
                "scope_checked",
                now,
                actor,
                messages.verdict_line(verdict, Language.EN),
                {"verdict": verdict.to_dict(), "scope_version": proj.version},
            ),
        )
        # Every column written is a field of the record by the same name.
        rec = RequestRecord(**{f.name: getattr(req, f.name) for f in fields(req)}, events=events)
        return rec, req

    async def judge_with_model(self, ref: str) -> RequestRecord:
        """Ask the language model about a recorded request and show its opinion: the job that
        `submit_request` queued, done off the recording path (see `bot.scope.llm` for the rules).

        The model is asked outside any transaction. Its answer replaces the verdict only while the request
        is open and its verdict is the checker's; the checker's verdict stays in the record either way
        (`scope_checked`, and `model_judged` with both). The card is updated. Idempotent: a job run twice
        (a lost lease) changes nothing the second time. Without a model configured, a waiting request is
        told the model is switched off.
        """
        key, scope = "", None
        async with self.store.transaction() as tx:
            rec = await self._get(tx, ref)
            if not _awaits_model(rec):
                return rec  # done already, or a PM corrected the verdict meanwhile
            if self.model is not None and rec.status.is_open:
                project = await tx.get_project_version(rec.project, rec.scope_version) or await self._project(
                    tx, rec.project
                )
                scope = project.scope(await tx.list_examples(rec.project))
                key = self.model.question_key(scope, rec.text)
        async with self._one_asking(key):
            return await self._judge_with_model(rec, key, scope)

    @contextlib.asynccontextmanager
    async def _one_asking(self, key: str) -> AsyncIterator[None]:
        """Let one job at a time in this process ask question `key`, from reading the kept answers to
        keeping its own: the same request recorded twice in a row is asked about once. (Processes share
        the kept answers only: two of them may still ask the same question at the same moment.)"""
        if not key:
            yield
            return
        lock, users = self._questions.get(key) or (asyncio.Lock(), 0)
        self._questions[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._questions[key]
            if users == 1:
                del self._questions[key]
            else:
                self._questions[key] = (lock, users - 1)

    async def _judge_with_model(self, rec: RequestRecord, key: str, scope: Scope | None) -> RequestRecord:
        ref = rec.ref
        result: ModelResult | None = None
        if self.model is not None and scope is not None:
            async with self.store.transaction() as tx:
                cached = await tx.get_model_answer(key)
            result = await self.model.second_opinion(scope, rec.text, rec.verdict, cached=cached)
        now = self.clock.now()
        async with self.store.transaction() as tx:
            rec = await self._get(tx, ref, lock=True)
            if not _awaits_model(rec):
                return rec
            project = await self._project(tx, rec.project)
            offline = replace(rec.verdict, second=None)
            data: dict[str, Any] = {"offline": offline.to_dict(), "applied": False}
            if result is None:
                if self.model is None:
                    from .scope.llm import failed as model_failed

                    verdict = model_failed(offline, "off")
                    text, data["outcome"] = "the language model is switched off; the checker's verdict stands", "off"
                else:
                    verdict = offline
                    text, data["outcome"] = "the language model was not asked: a PM decided first", "skipped"
            else:
                assert self.model is not None
                if result.answer is not None and not result.cached:
                    await tx.save_model_answer(
                        key,
                        project=rec.project,
                        scope_version=rec.scope_version,
                        model=self.model.model,
                        answer=result.answer.to_dict(),
                        at=now,
                    )
                data.update(
                    model=self.model.model,
                    outcome=result.outcome,
                    reason=result.reason,
                    answer=result.answer.to_dict() if result.answer else None,
                    cached=result.cached,
                    latency_ms=round(result.latency * 1000) if result.latency is not None else None,
                    prompt_tokens=result.prompt_tokens,
                    completion_tokens=result.completion_tokens,
                )
                text = _model_event_text(result, self.model.model)
                if rec.status.is_open:
                    verdict, data["applied"] = result.verdict, True
                else:  # a PM decided while the model was answering: the answer is kept in the record only
                    verdict = offline
                    text += "; a PM had already decided, so the verdict stays as it was"
            data["verdict"] = verdict.to_dict()
            await tx.set_verdict(rec.ref, verdict)
            await tx.add_event(Event("model_judged", now, SYSTEM, text, data), project=rec.project, ref=rec.ref)
            rec = await self._get(tx, rec.ref)
            await self._card_update(tx, rec, project)
        return rec

    async def get_request(self, ref: str, *, actor: Actor | None = None) -> RequestRecord:
        """Return a request with its record. The letter is shown only to the project's PMs
        (or with no actor: the local command line, which has the database anyway)."""
        async with self.store.reading() as tx:
            rec = await self._get(tx, ref)
            if actor is not None and rec.letter is not None:
                project = await self._project(tx, rec.project)
                if not await self._may_decide(tx, actor, project):
                    rec = replace(rec, letter=None)
        return rec

    async def list_requests(
        self,
        *,
        project: str | None = None,
        open_only: bool = False,
        requester: Actor | None = None,
        since: datetime | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[RequestRecord]:
        """Requests matching every filter, oldest first (or newest first), at most `limit` of them."""
        statuses = [s for s in RequestStatus if s.is_open] if open_only else None
        async with self.store.reading() as tx:
            if project:
                await self._project(tx, project)
            return await tx.list_requests(
                project=project,
                statuses=statuses,
                requester=requester,
                since=since,
                limit=limit,
                newest_first=newest_first,
            )

    async def count_requests(
        self, *, project: str | None = None, open_only: bool = False, requester: Actor | None = None
    ) -> int:
        """How many requests `list_requests` would return without a limit."""
        statuses = [s for s in RequestStatus if s.is_open] if open_only else None
        async with self.store.reading() as tx:
            return await tx.count_requests(project=project, statuses=statuses, requester=requester)

    async def export(self, project: str) -> list[RequestRecord]:
        """Return the whole record of a project: every request with its decisions, letter and events."""
        return [rec async for page in self.export_pages(project) for rec in page]

    async def export_pages(self, project: str, *, page_size: int = 500) -> AsyncIterator[list[RequestRecord]]:
        """The whole record of a project a page at a time, oldest first, all read in one transaction that
        only reads (so memory stays flat and no writer waits, however long the export runs)."""
        async with self.store.reading() as tx:
            await self._project(tx, project)
            async for page in tx.request_pages(project=project, with_events=True, page_size=page_size):
                yield page

    async def export_count(self, project: str) -> int:
        async with self.store.reading() as tx:
            await self._project(tx, project)
            return await tx.count_requests(project=project)

    # --- decisions --------------------------------------------------------------------------

    async def approve(
        self, ref: str, *, actor: Actor, change: ScopeChange | None = None, note: str = ""
    ) -> RequestRecord:
        """Approve a request. Approving out-of-scope or unlisted work records it as a scope change, which
        needs an effort estimate and the schedule impact (`FormInvalid` names what is missing)."""

        async def apply(tx: Transaction, rec: RequestRecord, project: Project, now: datetime) -> RequestRecord:
            is_change = needs_scope_change(rec)
            if is_change:
                problems = forms.scope_change_problems(change)
                if problems:
                    raise FormInvalid(problems)
            form: dict[str, Any] = {"scope_change": is_change}
            if change:
                form.update(change.to_dict())
            note_text = note.strip()
            for_pm = await self._acting_for(tx, actor, project, now)
            await tx.add_decision(ref, Decision(DecisionKind.APPROVE, actor, now, note_text, form, for_pm))
            await tx.set_status(ref, RequestStatus.APPROVED, at=now)
            await stop_clocks(tx, ref, now)
            text = "approved as a scope change" if is_change else "approved"
            await tx.add_event(
                Event("approved", now, actor, on_behalf(note_text or text, for_pm), _with_pm(form, for_pm)),
                project=rec.project,
                ref=ref,
            )
            rec = await self._get(tx, ref)
            await self._card_update(tx, rec, project)
            await self._notify(
                tx, rec, "requester_notice", "requester", messages.decided_for_requester(rec, project.chat_language)
            )
            return rec

        return await self._decide(ref, actor, Action.APPROVE, apply)

    async def authorize_decision(self, ref: str, *, actor: Actor, action: Action) -> RequestRecord:
        """Check, before showing a decision form, that `actor` may decide on `ref` now.

        A refused attempt by a non-PM is recorded, as for the decision itself. Raises `PermissionDenied`,
        `AlreadyDecided` or `IllegalMove`; returns the request when the form may be shown.
        """

        async def allowed(tx: Transaction, rec: RequestRecord, project: Project, now: datetime) -> RequestRecord:
            return rec

        return await self._decide(ref, actor, action, allowed)

    # --- one way in for every platform: open an action's form, then act -------------------------

    async def open_form(self, ref: str, action: Action, *, actor: Actor) -> tuple[RequestRecord, FormSpec | None]:
        """Check that `actor` may take `action` on `ref` now (a refused PM action is recorded) and return
        the form it asks for, in the actor's language, or None when the action needs no form (approving
        in-scope work). Every platform's button and command goes through here before showing a form."""
        if RULES[action].roles <= DECIDERS:
            rec = await self.authorize_decision(ref, actor=actor, action=action)
        else:
            async with self.store.transaction() as tx:
                rec, _ = await self._requester_or_pm(tx, ref, actor, action)
        project = await self.project(rec.project)
        lang = language_for(project, actor)
        if action is Action.APPROVE:
            spec = forms.scope_change_form(rec, lang, timezone=project.timezone) if needs_scope_change(rec) else None
        elif action is Action.DECLINE:
            defaults = await self.decline_form_defaults(rec.ref)
            spec = forms.decline_form(rec, defaults, lang, timezone=project.timezone)
        elif action is Action.ASK:
            spec = forms.ask_form(rec, lang)
        elif action is Action.ANSWER:
            spec = forms.answer_form(rec, open_question(rec), lang)
        elif action is Action.WITHDRAW:
            spec = forms.withdraw_form(rec, lang)
        elif action is Action.CORRECT:
            spec = forms.correct_form(rec, project, lang)
        else:
            spec = forms.outcome_form(rec, lang)
        return rec, spec

    async def act(
        self, ref: str, action: Action, *, actor: Actor, values: dict[str, Any] | None = None
    ) -> RequestRecord:
        """Take `action` on `ref` with what was typed into its form (`values`: field id → value, as
        `bot.forms` describes). Raises `FormInvalid` with errors beside the fields, or the refusals of
        the use case itself. Who may act is checked first: a refused attempt is refused (and, for a PM's
        action, recorded) whatever was typed, and only an allowed one is then read and checked."""
        values = values or {}
        if RULES[action].roles <= DECIDERS:
            await self.authorize_decision(ref, actor=actor, action=action)
        else:
            async with self.store.transaction() as tx:
                await self._requester_or_pm(tx, ref, actor, action)
        if action is Action.APPROVE:
            rec = await self.get_request(ref)
            if not needs_scope_change(rec):
                return await self.approve(ref, actor=actor, note=forms.text_of(values, "note"))
            project = await self.project(rec.project)
            spec = forms.scope_change_form(rec, language_for(project, actor), timezone=project.timezone)
            return await self.approve(ref, actor=actor, change=forms.parse_scope_change(spec, values))
        if action is Action.DECLINE:
            rec = await self.get_request(ref)
            project = await self.project(rec.project)
            blank = DeclineForm(ReasonCategory.OTHER, "")
            spec = forms.decline_form(rec, blank, Language.EN, timezone=project.timezone)
            return await self.decline(ref, actor=actor, form=forms.parse_decline(spec, values))
        if action is Action.ASK:
            question = forms.required_text(values, "question", "form.err.need_question", max_length=MAX_ANSWER_CHARS)
            return await self.ask_details(ref, actor=actor, question=question)
        if action is Action.ANSWER:
            text = forms.required_text(values, "answer", "form.err.need_answer", max_length=MAX_ANSWER_CHARS)
            return await self.answer(ref, actor=actor, text=text)
        if action is Action.WITHDRAW:
            return await self.withdraw(ref, actor=actor, reason=forms.text_of(values, "reason"))
        if action is Action.CORRECT:
            rec = await self.get_request(ref)
            project = await self.project(rec.project)
            c: Correction = forms.parse_correction(forms.correct_form(rec, project, Language.EN), values)
            return await self.correct_verdict(ref, actor=actor, verdict=c.verdict, item_id=c.item_id, note=c.note)
        text = forms.required_text(values, "outcome", "form.err.need_outcome", max_length=MAX_ANSWER_CHARS)
        return await self.record_outcome(ref, actor=actor, text=text)

    async def view(self, ref: str, *, actor: Actor) -> tuple[RequestRecord, Project, Viewer]:
        """A request as `actor` may see it, with its project and their roles on it (for `review_view`)."""
        rec = await self.get_request(ref, actor=actor)
        project = await self.project(rec.project)
        return rec, project, Viewer.of(actor, rec, project, on_behalf_of=await self.acting_for(actor, project))

    async def decline_form_defaults(self, ref: str, *, actor: Actor | None = None) -> DeclineForm:
        """Return the decline form pre-filled from the verdict and the project's language."""
        async with self.store.transaction() as tx:
            rec = await self._get(tx, ref)
            project = await self._project(tx, rec.project, lock=False)
            scope_project = await tx.get_project_version(rec.project, rec.scope_version) or project
        category, reason = default_reason(rec.verdict, scope_project)
        return DeclineForm(
            reason_category=category,
            reason_text=reason,
            empathy=default_empathy(project.language),
            channel=Channel.EMAIL,
            language=project.language,
        )

    async def decline(
        self, ref: str, *, actor: Actor, form: DeclineForm, idempotency_key: str | None = None
    ) -> RequestRecord:
        """Decline a request with the decline form, and draft the formal letter to the client."""
        _validate_form(form)

        async def apply(tx: Transaction, rec: RequestRecord, project: Project, now: datetime) -> RequestRecord:
            for_pm = await self._acting_for(tx, actor, project, now)
            await tx.add_decision(
                ref, Decision(DecisionKind.DECLINE, actor, now, form.reason_text.strip(), form.to_dict(), for_pm)
            )
            await tx.save_decline_form(ref, form)
            await tx.set_status(ref, RequestStatus.DECLINED, at=now)
            await tx.add_event(
                Event(
                    "declined",
                    now,
                    actor,
                    on_behalf(form.reason_text.strip(), for_pm),
                    _with_pm(form.to_dict(), for_pm),
                ),
                project=rec.project,
                ref=ref,
            )
            rec = await self._get(tx, ref)
            if rec.answered_by_meeting:
                await start_follow_up_clock(tx, rec, project, now)  # "how did the meeting go?"
            else:
                await stop_clocks(tx, ref, now)  # the follow-up starts once the letter is sent
            rec = await self._draft(tx, rec, project, form, actor, now)
            await self._card_update(tx, rec, project)
            await self._notify(
                tx, rec, "requester_notice", "requester", messages.decided_for_requester(rec, project.chat_language)
            )
            return rec

        return await self._decide(ref, actor, Action.DECLINE, apply, idempotency_key=idempotency_key)

    async def ask_details(self, ref: str, *, actor: Actor, question: str) -> RequestRecord:
        """Ask the requester for details; the request waits until they answer."""
        question = forms.required_text(
            {"question": question}, "question", "form.err.need_question", max_length=MAX_ANSWER_CHARS
        )

        async def apply(tx: Transaction, rec: RequestRecord, project: Project, now: datetime) -> RequestRecord:
            for_pm = await self._acting_for(tx, actor, project, now)
            await tx.add_decision(
                ref, Decision(DecisionKind.NEEDS_INFO, actor, now, question, {"question": question}, for_pm)
            )
            await tx.set_status(ref, RequestStatus.NEEDS_INFO, at=now)
            await start_question_clock(tx, ref, project, now)
            await tx.add_event(Event("asked", now, actor, question, _with_pm({}, for_pm)), project=rec.project, ref=ref)
            rec = await self._get(tx, ref)
            await self._card_update(tx, rec, project)
            await self._notify(
                tx,
                rec,
                "question",
                "requester",
                messages.question_for_requester(rec, question, actor.display, project.chat_language),
                data={"question": question},
            )
            return rec

        return await self._decide(ref, actor, Action.ASK, apply)

    async def answer(self, ref: str, *, actor: Actor, text: str) -> RequestRecord:
        """Answer a PM's question (the requester); the request goes back to review."""
        text = forms.required_text({"answer": text}, "answer", "form.err.need_answer", max_length=MAX_ANSWER_CHARS)
        now = self.clock.now()
        async with self.store.transaction() as tx:
            rec, project = await self._requester_or_pm(tx, ref, actor, Action.ANSWER)
            reopened = rec.status is RequestStatus.EXPIRED
            await tx.set_status(ref, RequestStatus.IN_REVIEW, at=now)
            await start_decision_clock(tx, ref, project, now)  # the PMs' time starts again with the answer
            await tx.add_event(
                Event("answered", now, actor, text, {"reopened": True} if reopened else {}),
                project=rec.project,
                ref=ref,
            )
            rec = await self._get(tx, ref)
            await self._card_update(tx, rec, project)
            asker = rec.last_decision.actor if rec.last_decision else None
            if asker is not None:
                await self._notify(
                    tx,
                    rec,
                    "answer",
                    "person",
                    messages.answer_for_pm(rec, text, actor.display, project.chat_language),
                    recipient=asker,
                    data={"answer": text},
                )
        return rec

    async def withdraw(self, ref: str, *, actor: Actor, reason: str = "") -> RequestRecord:
        """Withdraw an open request (its requester or a PM)."""
        reason = (reason or "").strip()
        if len(reason) > 1000:
            raise FormInvalid({"reason": Phrase("form.err.too_long", limit=1000)})
        now = self.clock.now()
        async with self.store.transaction() as tx:
            rec, project = await self._requester_or_pm(tx, ref, actor, Action.WITHDRAW)
            await tx.set_status(ref, RequestStatus.WITHDRAWN, at=now)
            await stop_clocks(tx, ref, now)
            await tx.add_event(Event("withdrawn", now, actor, reason), project=rec.project, ref=ref)
            rec = await self._get(tx, ref)
            await self._card_update(tx, rec, project)
        return rec

    async def correct_verdict(
        self, ref: str, *, actor: Actor, verdict: VerdictKind, item_id: str | None = None, note: str = ""
    ) -> RequestRecord:
        """A PM corrects the scope verdict. The request becomes an example its project learns from."""

        async def apply(tx: Transaction, rec: RequestRecord, project: Project, now: datetime) -> RequestRecord:
            scope = project.scope()
            item = scope.item(item_id) if item_id else None
            if item_id and item is None:
                raise FormInvalid({"item": Phrase("err.no_such_item", slug=project.slug, item=item_id)})
            if verdict is VerdictKind.IN_SCOPE and (item is None or item not in project.in_scope):
                raise FormInvalid({"item": Phrase("err.need_in_scope_item")})
            if verdict is VerdictKind.OUT_OF_SCOPE and (item is None or item not in project.out_of_scope):
                raise FormInvalid({"item": Phrase("err.need_exclusion")})
            if verdict is VerdictKind.UNLISTED:
                item = None
            clause = (item.title + (f": {item.notes}" if item.notes else "")) if item else ""
            why = Phrase("scope.corrected_note", who=actor.display, note=note.strip()) if note.strip() else None
            why = why or Phrase("scope.corrected", who=actor.display)
            corrected = Verdict(verdict, item.id if item else None, 1.0, clause, explanation=str(why), why=why)
            await tx.set_verdict(ref, corrected)
            await tx.add_example(rec.project, Example(rec.text, verdict, corrected.item_id), ref=ref, at=now)
            await tx.add_event(
                Event(
                    "verdict_corrected",
                    now,
                    actor,
                    note.strip(),
                    {"from": rec.verdict.to_dict(), "to": corrected.to_dict()},
                ),
                project=rec.project,
                ref=ref,
            )
            rec = await self._get(tx, ref)
            await self._card_update(tx, rec, project)
            return rec

        return await self._decide(ref, actor, Action.CORRECT, apply)

    # --- letters ----------------------------------------------------------------------------

    async def draft_letter(self, ref: str, *, actor: Actor, form: DeclineForm | None = None) -> RequestRecord:
        """(Re)draft the letter of a declined request, from a new form or the one on record."""
        if form is not None:
            _validate_form(form)
        now = self.clock.now()
        async with self.store.transaction() as tx:
            rec, project = await self._letter_access(tx, ref, actor, "letter.draft")
            _check_not_queued(rec)
            if rec.status not in (RequestStatus.DECLINED, RequestStatus.LETTER_DRAFTED):
                raise IllegalMove(Phrase("err.letter_only_declined", ref=rec.ref, status=status_label(rec.status)))
            use = form or rec.decline_form
            if use is None:
                raise IllegalMove(Phrase("err.no_decline_form", ref=rec.ref))
            if form is not None:
                await tx.save_decline_form(ref, form)
            rec = await self._draft(tx, rec, project, use, actor, now)
        return rec

    async def edit_letter(self, ref: str, *, actor: Actor, body_text: str, subject: str | None = None) -> RequestRecord:
        """Replace the letter's text with the PM's edit; the tone check runs again."""
        body_text = (body_text or "").strip()
        errors: dict[str, Phrase] = {}
        if not body_text:
            errors["body"] = Phrase("form.err.letter_empty")
        elif len(body_text) > MAX_LETTER_CHARS:
            errors["body"] = Phrase("form.err.too_long", limit=MAX_LETTER_CHARS)
        if subject is not None and (not subject.strip() or any(c in subject for c in "\r\n")):
            errors["subject"] = Phrase("form.err.subject_line")
        if errors:
            raise FormInvalid(errors)
        now = self.clock.now()
        async with self.store.transaction() as tx:
            rec, project = await self._letter_access(tx, ref, actor, "letter.edit")
            _check_not_queued(rec)
            if rec.letter is None or rec.status is not RequestStatus.LETTER_DRAFTED:
                raise IllegalMove(Phrase("err.no_draft", ref=rec.ref, status=status_label(rec.status)))
            letter = revise_letter(
                rec.letter,
                body_text=body_text,
                subject=subject,
                quoted=rec.client_words or rec.text,
                goals=project.goals,
            )
            await tx.save_letter(ref, letter)
            await tx.add_event(
                Event(
                    "letter_edited",
                    now,
                    actor,
                    letter.body_text,
                    {"subject": letter.subject, "tone": [t.to_dict() for t in letter.tone]},
                ),
                project=rec.project,
                ref=ref,
            )
            rec = await self._get(tx, ref)
        return rec

    async def mark_letter_sent(
        self, ref: str, *, actor: Actor | None, via: str = "manual", note: str = "", message_id: str | None = None
    ) -> RequestRecord:
        """Record that the letter reached the client (sent by hand, by SMTP, or discussed in the meeting)."""
        now = self.clock.now()
        async with self.store.transaction() as tx:
            if actor is None:
                rec = await self._get(tx, ref, lock=True)
                project = await self._project(tx, rec.project)
                who = Actor("system", "intake-bot", name="intake-bot")
            else:
                rec, project = await self._letter_access(tx, ref, actor, "letter.mark_sent")
                _check_not_queued(rec)
                who = actor
            if rec.status is RequestStatus.LETTER_SENT:
                assert rec.letter is not None
                raise IllegalMove(
                    Phrase("err.already_marked_sent", ref=rec.ref, at=When(rec.letter.sent_at or now, project.timezone))
                )
            if rec.letter is None or rec.status is not RequestStatus.LETTER_DRAFTED:
                raise IllegalMove(Phrase("err.no_draft", ref=rec.ref, status=status_label(rec.status)))
            letter = replace(
                rec.letter,
                status="sent",
                sent_at=now,
                sent_via=via,
                message_id=message_id or rec.letter.message_id,
                send_error=None,
            )
            await tx.save_letter(ref, letter)
            await tx.set_status(ref, RequestStatus.LETTER_SENT, at=now)
            await tx.add_event(
                Event("letter_sent", now, who, note.strip(), {"via": via, "message_id": letter.message_id}),
                project=rec.project,
                ref=ref,
            )
            rec = await self._get(tx, ref)
            if not rec.answered_by_meeting:
                await start_follow_up_clock(tx, rec, project, now)  # "did the client reply?"
                rec = await self._get(tx, ref)
            await self._card_update(tx, rec, project)
        return rec

    # --- e-mail to the client ---------------------------------------------------------------
    # Nothing here sends anything: these use cases record the PM's explicit action and queue an
    # `email` outbox row in the same transaction; the e-mail adapter delivers it and reports back
    # through `record_email_sent` / `record_email_failed`.

    async def letter_email_recipients(
        self, ref: str, *, actor: Actor, recipients: list[str] | None = None, again: bool = False
    ) -> LetterRecipients:
        """Return who the letter would go to (To, Cc, Reply-To), for the PM to confirm. Records nothing.

        `recipients`: addresses the PM typed instead of the client contact (never ones from the request text).
        Raises the same refusals as `send_letter_email` (not a PM, no letter, already sent without `again`,
        already queued), so an adapter can refuse before it asks for confirmation.
        """
        from .mailing import letter_recipients

        async with self.store.transaction() as tx:
            rec, project = await self._letter_access(tx, ref, actor, "letter.send")
            _check_sendable(rec, again=again, tz=project.timezone)
            return letter_recipients(rec, project, sender=actor, typed=recipients)

    async def send_letter_email(
        self,
        ref: str,
        *,
        actor: Actor,
        recipients: list[str] | None = None,
        again: bool = False,
        confirmed: LetterRecipients | None = None,
    ) -> RequestRecord:
        """Queue the letter (or the meeting invitation) to the client by e-mail: the PM's explicit action.

        Call it only after the PM confirmed the recipient list shown by `letter_email_recipients` (same
        `recipients`); pass that list as `confirmed` and the send is refused if the addressees changed in
        between (e.g. the project file was reloaded). In one transaction: the letter's status becomes
        "queued", a `letter_queued` event and an outbox row (platform "email", kind "letter_email") are
        written. A letter already sent (or queued) is not sent again unless `again` is given; `again`
        makes a new send with a new Message-ID.
        """
        from .mailing import letter_mail, letter_recipients, new_send_id

        now = self.clock.now()
        async with self.store.transaction() as tx:
            rec, project = await self._letter_access(tx, ref, actor, "letter.send")
            letter = _check_sendable(rec, again=again, tz=project.timezone)
            rcpt = letter_recipients(rec, project, sender=actor, typed=recipients)
            if confirmed is not None and confirmed != rcpt:
                raise IllegalMove(Phrase("err.recipients_changed", ref=rec.ref, summary=rcpt.summary()))
            sends = [e for e in rec.events if e.kind == "letter_queued"]
            send_id = new_send_id(rec.ref, len(sends) + 1)
            mail = letter_mail(rec, project, rcpt, token=send_id, date=now, sequence=len(sends))
            await tx.save_letter(rec.ref, replace(letter, status="queued", send_error=None))
            await tx.add_event(
                Event(
                    "letter_queued",
                    now,
                    actor,
                    rcpt.summary(),
                    {"send_id": send_id, "again": again, "kind": letter.kind, **rcpt.to_dict()},
                ),
                project=rec.project,
                ref=rec.ref,
            )
            await tx.add_notice(
                Notice(
                    kind="letter_email",
                    platform="email",
                    audience="client",
                    text=rcpt.summary(),
                    ref=rec.ref,
                    project=rec.project,
                    data={"mail": mail.to_dict(), "sent_by": actor.to_dict(), "again": again},
                    dedupe_key=f"email:{send_id}",
                ),
                available_at=now,
            )
            rec = await self._get(tx, rec.ref)
        return rec

    async def letter_email_draft(
        self, ref: str, *, actor: Actor | None, recipients: list[str] | None = None
    ) -> OutgoingMail:
        """Return the letter as the mail it would be (for "Download .eml"). Records nothing.

        `actor` None is the local command line. If the letter was e-mailed, the last send's token is
        reused, so the file carries the Message-ID the client received.
        """
        from .mailing import declining_pm, letter_mail, letter_recipients

        now = self.clock.now()
        async with self.store.transaction() as tx:
            if actor is None:
                rec = await self._get(tx, ref)
                project = await self._project(tx, rec.project)
            else:
                rec, project = await self._letter_access(tx, ref, actor, "letter.download")
        if rec.letter is None:
            raise IllegalMove(Phrase("err.no_letter_yet", ref=rec.ref))
        sender = actor or declining_pm(rec) or SYSTEM
        rcpt = letter_recipients(rec, project, sender=sender, typed=recipients)
        sends = [e for e in rec.events if e.kind == "letter_queued"]
        sent = [e for e in rec.events if e.kind == "letter_sent" and e.data.get("send_id")]
        token = str(sent[-1].data["send_id"]) if sent else f"{rec.ref.lower()}.draft.{secrets.token_hex(4)}"
        return letter_mail(rec, project, rcpt, token=token, date=now, sequence=max(0, len(sends) - 1))

    async def record_email_sent(
        self, ref: str, *, send_id: str, message_id: str, refused: dict[str, str] | None = None
    ) -> RequestRecord:
        """Record that the mail server accepted one send of the letter (the e-mail adapter calls this).

        Idempotent per `send_id`: a second call for the same send changes nothing.
        """
        now = self.clock.now()
        async with self.store.transaction() as tx:
            rec = await self._get(tx, ref, lock=True)
            if email_outcome(rec, send_id) == "sent" or rec.letter is None:
                return rec
            queued = next(
                (e for e in rec.events if e.kind == "letter_queued" and e.data.get("send_id") == send_id), None
            )
            to = ", ".join(m["address"] for m in (queued.data.get("to", ()) if queued else ()))
            letter = replace(
                rec.letter, status="sent", sent_at=now, sent_via="smtp", message_id=message_id, send_error=None
            )
            await tx.save_letter(rec.ref, letter)
            first_send = rec.status is RequestStatus.LETTER_DRAFTED
            if first_send:
                await tx.set_status(rec.ref, RequestStatus.LETTER_SENT, at=now)
            data: dict[str, Any] = {"via": "smtp", "message_id": message_id, "send_id": send_id}
            if refused:
                data["refused"] = refused
            await tx.add_event(
                Event("letter_sent", now, SYSTEM, f"sent by e-mail to {to}" if to else "sent by e-mail", data),
                project=rec.project,
                ref=rec.ref,
            )
            rec = await self._get(tx, rec.ref)
            project = await self._project(tx, rec.project)
            if first_send and not rec.answered_by_meeting:
                await start_follow_up_clock(tx, rec, project, now)  # "did the client reply?"
                rec = await self._get(tx, rec.ref)
            await self._card_update(tx, rec, project)
            await self._tell_sender(tx, rec, queued, project)
        return rec

    async def record_email_failed(self, ref: str, *, send_id: str, reason: str) -> RequestRecord:
        """Record that one send of the letter failed for good: the letter shows "failed" with the reason."""
        now = self.clock.now()
        async with self.store.transaction() as tx:
            rec = await self._get(tx, ref, lock=True)
            if email_outcome(rec, send_id) is not None or rec.letter is None:
                return rec
            if rec.letter.status == "queued":
                await tx.save_letter(rec.ref, replace(rec.letter, status="failed", send_error=reason))
            await tx.add_event(
                Event("letter_send_failed", now, SYSTEM, reason, {"send_id": send_id}), project=rec.project, ref=rec.ref
            )
            rec = await self._get(tx, rec.ref)
            queued = next(
                (e for e in rec.events if e.kind == "letter_queued" and e.data.get("send_id") == send_id), None
            )
            await self._tell_sender(tx, rec, queued, await self._project(tx, rec.project))
        return rec

    async def _tell_sender(self, tx: Transaction, rec: RequestRecord, queued: Event | None, project: Project) -> None:
        """Tell the PM who pressed send how it went, privately, on the platform they pressed it on.

        The command line waits for the outcome and prints it itself, so it gets no notice.
        """
        if queued is None or rec.letter is None or queued.actor.platform in ("cli", SYSTEM.platform):
            return
        await self._notify(
            tx,
            rec,
            "letter_email_status",
            "person",
            messages.email_outcome_for_sender(rec, rec.letter, project.chat_language, project.timezone),
            recipient=queued.actor,
            data={"letter": rec.letter.to_dict()},
        )

    async def record_outcome(self, ref: str, *, actor: Actor, text: str) -> RequestRecord:
        """Record what came of the answer to the client: what was agreed in the meeting a PM held instead of
        a letter, or what the client replied to the letter (PMs, or whoever stands in for one).

        If the invitation was never e-mailed from here, the client counts as answered in the meeting.
        """
        text = forms.required_text({"outcome": text}, "outcome", "form.err.need_outcome", max_length=MAX_ANSWER_CHARS)

        async def apply(tx: Transaction, rec: RequestRecord, project: Project, now: datetime) -> RequestRecord:
            for_pm = await self._acting_for(tx, actor, project, now)
            await tx.add_event(
                Event("outcome_recorded", now, actor, text, _with_pm({}, for_pm)), project=rec.project, ref=rec.ref
            )
            await stop_clocks(tx, rec.ref, now)
            if rec.status is RequestStatus.LETTER_DRAFTED and rec.letter is not None:
                await tx.save_letter(
                    rec.ref, replace(rec.letter, status="sent", sent_at=now, sent_via="meeting", send_error=None)
                )
                await tx.set_status(rec.ref, RequestStatus.LETTER_SENT, at=now)
                await tx.add_event(
                    Event("letter_sent", now, actor, "answered in the meeting", {"via": "meeting"}),
                    project=rec.project,
                    ref=rec.ref,
                )
            rec = await self._get(tx, rec.ref)
            await self._card_update(tx, rec, project)
            return rec

        return await self._decide(ref, actor, Action.OUTCOME, apply)

    # --- client updates ---------------------------------------------------------------------

    async def build_digest(self, slug: str, *, since: datetime | None = None) -> ClientDigest:
        """Build the client update from the record (nothing is recorded or sent).

        `since` defaults to the last update queued for the project, or a week ago.
        """
        now = self.clock.now()
        async with self.store.reading() as tx:
            project = await self._project(tx, slug)
            since = since or await self._last_digest(tx, project.slug, now)
            digest = await _digest(tx, project, since, now)
        return digest

    async def send_digest(
        self,
        slug: str,
        *,
        actor: Actor | None = None,
        since: datetime | None = None,
        period: str | None = None,
        skip_empty: bool = False,
    ) -> ClientDigest | None:
        """Queue the client update by e-mail to the client contact (copied to the project's cc list).

        `actor` None is the scheduler or the local command line; a chat user must be a PM. With `period`
        (the scheduler's), it is queued at most once per period: a second call returns None. With
        `skip_empty`, an update with nothing to report is not sent (returns None).
        """
        from .mailing import OutgoingMail, digest_recipients

        now = self.clock.now()
        async with self.store.transaction() as tx:
            project = await self._project(tx, slug)
            if actor is not None and not project.is_pm(actor):
                raise PermissionDenied(Phrase("err.only_pms_digest", project=project.name))
            if period is not None and not await tx.claim_key(f"digest:{project.slug}:{period}", at=now):
                return None
            since = since or await self._last_digest(tx, project.slug, now)
            digest = await _digest(tx, project, since, now)
            if skip_empty and digest.empty:
                return None
            rcpt = digest_recipients(project)
            token = f"digest.{project.slug}.{now:%Y%m%d%H%M}.{secrets.token_hex(4)}"
            mail = OutgoingMail(
                kind="digest",
                token=token,
                project=project.slug,
                project_name=project.name,
                subject=digest.subject,
                body_text=digest.body_text,
                body_html=digest.body_html,
                language=digest.language,
                recipients=rcpt,
                date=now,
                timezone=project.timezone,
                extra_headers={"Auto-Submitted": "auto-generated"},
            )
            who = actor or SYSTEM
            await tx.add_event(
                Event(
                    "digest_queued",
                    now,
                    who,
                    f"{len(digest.open)} open, {len(digest.decided)} decided since {digest.since.date().isoformat()}",
                    {"token": token, "since": digest.since.isoformat(), "period": period, **rcpt.to_dict()},
                ),
                project=project.slug,
                ref=None,
            )
            await tx.add_notice(
                Notice(
                    kind="digest",
                    platform="email",
                    audience="client",
                    text=rcpt.summary(),
                    project=project.slug,
                    data={"mail": mail.to_dict()},
                    dedupe_key=f"email:{token}",
                ),
                available_at=now,
            )
        return digest

    async def _last_digest(self, tx: Transaction, slug: str, now: datetime) -> datetime:
        events = [e for e in await tx.project_events(slug) if e.kind == "digest_queued"]
        return events[-1].at if events else now - timedelta(days=7)

    # --- time: a PM away, with a delegate -----------------------------------------------------

    async def acting_for(self, actor: Actor, project: Project) -> Actor | None:
        """The away PM of `project` whom `actor` stands in for now, or None (also when `actor` is a PM)."""
        async with self.store.transaction() as tx:
            return await self._acting_for(tx, actor, project, self.clock.now())

    async def may_decide(self, actor: Actor, project: Project) -> bool:
        """Whether `actor` decides on `project`'s requests now: a PM, or standing in for an away one."""
        async with self.store.transaction() as tx:
            return await self._may_decide(tx, actor, project)

    async def _acting_for(self, tx: Transaction, actor: Actor, project: Project, now: datetime) -> Actor | None:
        if project.is_pm(actor):
            return None
        return _stands_in_for(actor, project, await tx.absences(active_at=now))

    async def _may_decide(self, tx: Transaction, actor: Actor, project: Project) -> bool:
        return project.is_pm(actor) or await self._acting_for(tx, actor, project, self.clock.now()) is not None

    async def home(self, actor: Actor, *, queue: int, mine: int) -> Home:
        """What `actor`'s home page shows, read in one transaction that only reads: the projects whose
        requests they decide on (as a PM, or standing in for an away one), the oldest open requests of
        those (at most `queue`, project by project) and how many there are, and the newest of their own
        requests (at most `mine`) and how many there are."""
        now = self.clock.now()
        async with self.store.reading() as tx:
            projects = await tx.list_projects()
            absences = await tx.absences(active_at=now)
            standing_in = {
                p.slug: pm for p in projects if not p.is_pm(actor) and (pm := _stands_in_for(actor, p, absences))
            }
            deciding = [p for p in projects if p.is_pm(actor) or p.slug in standing_in]
            open_statuses = [st for st in RequestStatus if st.is_open]
            waiting: list[RequestRecord] = []
            waiting_total = 0
            for p in deciding:
                if len(waiting) < queue:
                    waiting += await tx.list_requests(
                        project=p.slug, statuses=open_statuses, limit=queue - len(waiting)
                    )
                waiting_total += await tx.count_requests(project=p.slug, statuses=open_statuses)
            own = await tx.list_requests(requester=actor, limit=mine, newest_first=True) if mine else []
            own_total = await tx.count_requests(requester=actor)
        return Home(
            projects={p.slug: p for p in projects},
            deciding=deciding,
            standing_in=standing_in,
            queue=waiting,
            queue_total=waiting_total,
            mine=own,
            mine_total=own_total,
        )

    async def visible_projects(self, actor: Actor) -> list[Project]:
        """The projects `actor` may look into: those whose team they are on (a PM, named in `escalate_to`,
        or someone who recorded or decided one of its requests) or whose away PM they stand in for.
        Nobody sees another project."""
        now = self.clock.now()
        async with self.store.transaction() as tx:
            out = []
            for p in await tx.list_projects():
                if await self._on_team(tx, actor, [p]) or await self._acting_for(tx, actor, p, now) is not None:
                    out.append(p)
            return out

    async def away(self, person: Actor) -> Absence | None:
        """`person`'s absence running now, if they are away."""
        now = self.clock.now()
        async with self.store.transaction() as tx:
            return next((a for a in await tx.absences(active_at=now) if same_identity(a.person, person)), None)

    async def absences(self) -> list[Absence]:
        """Every absence running now."""
        async with self.store.transaction() as tx:
            return await tx.absences(active_at=self.clock.now())

    async def set_away(self, person: Actor, *, until: date, delegate: Actor, by: Actor | None = None) -> Absence:
        """`person`, a PM, is away until `until` (the day they are back). Until then `delegate` gets the
        reminders meant for them and may decide on their projects, each decision recorded "on behalf of"
        them. It ends by itself at the start of `until` (in the time zone of the PM's first project), or
        with `back`. A date not after today, a delegate who is the PM, is away too or is not on the team
        of the PM's projects (a PM, in `escalate_to`, or someone who recorded or decided one of their
        requests) is refused and changes nothing."""
        now = self.clock.now()
        async with self.store.transaction() as tx:
            projects = [p for p in await tx.list_projects() if p.is_pm(person)]
            if not projects:
                raise InvalidInput(Phrase("err.away_not_pm", who=person.display), field="person")
            tz = projects[0].timezone
            today = now.astimezone(zone(tz)).date()
            if until <= today:
                raise InvalidInput(Phrase("err.away_past", date=Day(until), today=Day(today)), field="until")
            if until > today + timedelta(days=366):
                raise InvalidInput(Phrase("err.away_too_far", date=Day(until)), field="until")
            if same_identity(person, delegate):
                raise InvalidInput(Phrase("err.away_self"), field="delegate")
            absences = await tx.absences(active_at=now)
            theirs = next((a for a in absences if same_identity(a.person, delegate)), None)
            if theirs is not None:
                raise InvalidInput(
                    Phrase("err.away_delegate_away", who=delegate.display, until=Day(theirs.until)), field="delegate"
                )
            if not await self._on_team(tx, delegate, projects):
                raise InvalidInput(
                    Phrase("err.away_not_on_team", who=delegate.display, projects=Items(p.name for p in projects)),
                    field="delegate",
                )
            for earlier in absences:  # one absence at a time: a new one replaces the running one
                if same_identity(earlier.person, person) and earlier.id is not None:
                    await tx.end_absence(earlier.id, at=now)
            absence = Absence(person, delegate, until, start_of_day(until, tz), now, by or person)
            absence = replace(absence, id=await tx.add_absence(absence))
            assert absence.id is not None
            await tx.add_step(away_end_step(absence.id, absence.ends_at))
            await self._record_absence(tx, absence, "pm_away", now, ended_by=None)
        return absence

    async def end_away(self, person: Actor, *, by: Actor | None = None) -> Absence:
        """`person` is back before the day they gave: reminders come to them again."""
        now = self.clock.now()
        async with self.store.transaction() as tx:
            absence = next((a for a in await tx.absences(active_at=now) if same_identity(a.person, person)), None)
            if absence is None or absence.id is None:
                raise InvalidInput(Phrase("err.away_not_away"))
            await tx.end_absence(absence.id, at=now)
            absence = replace(absence, ended_at=now)
            await self._record_absence(tx, absence, "pm_back", now, ended_by=by or person)
        return absence

    async def _on_team(self, tx: Transaction, who: Actor, projects: list[Project]) -> bool:
        """Whether `who` is on the team of one of `projects`: a PM, named in `escalate_to`, or someone who
        recorded or decided one of its requests."""
        for p in projects:
            if p.is_pm(who):
                return True
            if any(
                same_identity(who, Actor(who.platform, n, email=n if "@" in n else None)) for n in p.timing.escalate_to
            ):
                return True
            if any(same_identity(who, known) for known in await tx.people_of(p.slug)):
                return True
        return False

    async def _record_absence(
        self, tx: Transaction, absence: Absence, kind: str, now: datetime, *, ended_by: Actor | None
    ) -> None:
        """The record of an absence starting or ending, in each of the PM's projects, and a word to the PM
        and the delegate where the bot can reach them."""
        projects = [p for p in await tx.list_projects() if p.is_pm(absence.person)]
        starting = kind == "pm_away"
        who = absence.set_by if starting else (ended_by or SYSTEM)
        text = (
            f"{absence.person.display} is away until {absence.until.isoformat()}; {absence.delegate.display} stands in"
            if starting
            else f"{absence.person.display} is back; {absence.delegate.display} no longer stands in"
        )
        for p in projects:
            await tx.add_event(Event(kind, now, who, text, {"absence": absence.to_dict()}), project=p.slug, ref=None)
        if starting:
            tell = [(absence.delegate, "away.delegate"), (absence.person, "away.set")]
        elif ended_by is None:
            tell = [(absence.delegate, "away.ended_delegate"), (absence.person, "away.ended")]
        else:
            tell = [(absence.delegate, "away.ended_delegate")]
        for person, key in tell:
            if person.platform not in CHAT_PLATFORMS or same_identity(person, who):
                continue  # the one who acted hears back from their own command
            phrase = away_phrase(key, absence, projects)
            await tx.add_notice(
                Notice(
                    kind="away",
                    platform=person.platform,
                    audience="person",
                    text=phrase.render(projects[0].chat_language if projects else Language.EN),
                    project=projects[0].slug if projects else None,
                    recipient=person,
                    data={"phrase": phrase.to_dict()},
                    dedupe_key=f"away:{absence.id}:{kind}:{key}",
                )
            )

    # --- internals --------------------------------------------------------------------------

    async def _decide(
        self,
        ref: str,
        actor: Actor,
        action: Action,
        apply: Callable[[Transaction, RequestRecord, Project, datetime], Awaitable[RequestRecord]],
        *,
        idempotency_key: str | None = None,
    ) -> RequestRecord:
        """Run a PM's move: permission and state checks (`bot.review`'s rules), then `apply`, in one
        transaction. A refused attempt by a non-PM is recorded (and committed) before the refusal is raised.
        """
        now = self.clock.now()
        denied: IntakeError | None = None
        async with self.store.transaction() as tx:
            if idempotency_key and not await tx.claim_key(idempotency_key, at=now):
                raise Duplicate(idempotency_key)
            rec = await self._get(tx, ref, lock=True)
            project = await self._project(tx, rec.project)
            if not project.is_pm(actor) and not (
                Role.DELEGATE in RULES[action].roles and await self._acting_for(tx, actor, project, now) is not None
            ):
                await self._record_denied(tx, rec, actor, action, now)
                denied = PermissionDenied(Phrase("err.only_pms_decide", project=project.name, ref=rec.ref))
            else:
                check_move(action, rec, tz=project.timezone)
                result = await apply(tx, rec, project, now)
        if denied:
            raise denied
        return result

    async def _requester_or_pm(
        self, tx: Transaction, ref: str, actor: Actor, action: Action
    ) -> tuple[RequestRecord, Project]:
        """Load a request for a move of its requester's (answer) or of its requester's or a PM's
        (withdraw), checking who may and whether the status allows it now."""
        rec = await self._get(tx, ref, lock=True)
        project = await self._project(tx, rec.project)
        check_role(action, rec, project, actor)
        check_move(action, rec, tz=project.timezone)
        return rec, project

    async def _record_denied(
        self, tx: Transaction, rec: RequestRecord, actor: Actor, action: Action, now: datetime
    ) -> None:
        what = _ATTEMPTS.get(action, action.value)
        await tx.add_event(
            Event("denied", now, actor, f"tried to {what}, but is not a PM of {rec.project}", {"action": action.value}),
            project=rec.project,
            ref=rec.ref,
        )

    async def _letter_access(self, tx: Transaction, ref: str, actor: Actor, what: str) -> tuple[RequestRecord, Project]:
        rec = await self._get(tx, ref, lock=True)
        project = await self._project(tx, rec.project)
        if not await self._may_decide(tx, actor, project):
            raise PermissionDenied(Phrase("err.only_pms_letter", project=project.name, what=Phrase(what), ref=rec.ref))
        return rec, project

    async def _draft(
        self, tx: Transaction, rec: RequestRecord, project: Project, form: DeclineForm, pm: Actor, now: datetime
    ) -> RequestRecord:
        drafted = write_letter(request=rec, project=project, form=form, pm=pm, today=now.date())
        await tx.save_letter(rec.ref, drafted.letter)
        await tx.set_status(rec.ref, RequestStatus.LETTER_DRAFTED, at=now)
        await tx.add_event(
            Event(
                "letter_drafted",
                now,
                pm,
                drafted.letter.body_text,
                {
                    "subject": drafted.letter.subject,
                    "language": drafted.letter.language.value,
                    "kind": drafted.letter.kind,
                    "tone": [t.to_dict() for t in drafted.letter.tone],
                },
            ),
            project=rec.project,
            ref=rec.ref,
        )
        rec = await self._get(tx, rec.ref)
        assert rec.letter is not None
        await self._notify(
            tx,
            rec,
            "letter_draft",
            "person",
            messages.letter_ready(rec, rec.letter, language_for(project, pm), project.timezone),
            recipient=pm,
            data={"letter": rec.letter.to_dict(), "talking_points": rec.letter.talking_points},
        )
        return rec

    async def _get(self, tx: Transaction, ref: str, *, lock: bool = False) -> RequestRecord:
        rec = await tx.get_request(normalize_ref(ref), lock=lock)
        if rec is None:
            raise RequestNotFound(ref)
        return rec

    def _review_text(self, rec: RequestRecord, project: Project) -> str:
        """The review card as plain text, in the team's language (what a platform falls back on)."""
        return messages.view_text(review_view(rec, project, Viewer.review_channel(), now=self.clock.now()))

    async def _card_update(self, tx: Transaction, rec: RequestRecord, project: Project) -> None:
        await self._notify(tx, rec, "card_update", "review", self._review_text(rec, project))

    async def _notify(
        self,
        tx: Transaction,
        rec: RequestRecord,
        kind: str,
        audience: str,
        text: str,
        *,
        recipient: Actor | None = None,
        data: dict[str, Any] | None = None,
        dedupe: str | None = None,
    ) -> None:
        await tx.add_notice(self._notice(rec, kind, audience, text, recipient=recipient, data=data, dedupe=dedupe))

    def _notice(
        self,
        rec: RequestRecord,
        kind: str,
        audience: str,
        text: str,
        *,
        recipient: Actor | None = None,
        data: dict[str, Any] | None = None,
        dedupe: str | None = None,
    ) -> Notice:
        platform = (recipient.platform if recipient else None) or (
            rec.source.platform if rec.source else rec.requester.platform
        )
        # The letter goes to the PM privately (in `data`), never onto a card or to the requester.
        payload = {"request": rec.snapshot(), **(data or {})}
        return Notice(
            kind=kind,
            platform=platform,
            audience=audience,
            text=text,
            ref=rec.ref,
            project=rec.project,
            recipient=recipient or (rec.requester if audience == "requester" else None),
            data=payload,
            dedupe_key=dedupe,
        )


@dataclass(frozen=True)
class _Draft:
    """A request of a batch, judged and built under the number it is expected to get, ready to write."""

    index: int  # its place in the batch
    item: Submission
    project: Project
    rec: RequestRecord
    req: NewRequest
    step: NewStep
    notices: list[Notice]


class _SeenProjects:
    """What resolving a batch of requests to their projects reads, read once for the batch."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self._every: list[Project] | None = None
        self._named: dict[str, Project] = {}
        self._asked_in: dict[tuple[str, str], set[str]] = {}

    async def every(self) -> list[Project]:
        if self._every is None:
            self._every = await self.tx.list_projects()
        return self._every

    async def named(self, slug: str) -> Project:
        if slug not in self._named:
            project = await self.tx.get_project(slug)
            if project is None:
                raise ProjectNotFound(slug, [p.slug for p in await self.every()])
            self._named[slug] = project
        return self._named[slug]

    async def asked_in(self, requester: Actor) -> set[str]:
        """The projects `requester` has asked in before."""
        who = (requester.platform, requester.user_id)
        if who not in self._asked_in:
            self._asked_in[who] = await self.tx.requester_projects(requester)
        return self._asked_in[who]


# How a refused attempt reads in the record.
_ATTEMPTS = {
    Action.APPROVE: "approve",
    Action.DECLINE: "decline",
    Action.ASK: "ask for details",
    Action.CORRECT: "correct the verdict",
    Action.OUTCOME: "record the meeting's outcome",
}


@dataclass(frozen=True)
class Submission:
    """A client request to record (see `IntakeService.submit_request`). `done_key`: the outbox row of the
    accepted command it comes from, dropped in the same transaction once the request is recorded."""

    project: str
    actor: Actor
    text: str
    source: Source | None = None
    client_words: str = ""
    urgency: str = ""
    requested_date: date | None = None
    idempotency_key: str | None = None
    done_key: str | None = None


def _checked(new: Submission) -> Submission:
    """The submission with its text cleaned; `InvalidInput` if it cannot be recorded."""
    text = _clean_text(new.text)
    client_words = (new.client_words or "").strip()
    if len(client_words) > MAX_REQUEST_CHARS:
        raise InvalidInput(
            Phrase("err.words_too_long", n=len(client_words), limit=MAX_REQUEST_CHARS), field="client_words"
        )
    return replace(new, text=text, client_words=client_words)


async def _digest(tx: Transaction, project: Project, since: datetime, now: datetime) -> ClientDigest:
    """The digest since `since`, from what it can show: the requests still open to the client and those
    changed since then (a decision is a change), read page by page and each page let go once its
    entries are taken; never the project's whole history."""
    from .digest import DIGEST_OPEN, DigestBuilder

    builder = DigestBuilder(project, since=since)
    pages = tx.request_pages(project=project.slug, changed_since=since, unless=DIGEST_OPEN, with_events=True)
    async for page in pages:
        builder.add(page)
    return builder.build(now)


def _awaits_model(rec: RequestRecord) -> bool:
    """Whether a request's verdict still waits for the language model's opinion."""
    second = rec.verdict.second
    return second is not None and second.status is OpinionStatus.PENDING


def _model_event_text(result: ModelResult, model: str) -> str:
    """The `model_judged` event's line in the record (English, like every record line)."""
    second = result.verdict.second
    assert second is not None

    def said(op: Opinion) -> str:
        return messages.verdict_line(Verdict(op.verdict, op.item_id, 0.0, op.clause), Language.EN)

    if second.status is OpinionStatus.FAILED:
        return f"the language model ({model}) gave no usable answer ({result.reason}); the checker's verdict stands"
    assert second.model is not None and second.checker is not None
    cached = " (a kept answer to the same question)" if result.cached else ""
    if second.status is OpinionStatus.AGREED:
        return f"the language model ({model}) agrees{cached}: {said(second.model)}"
    return (
        f"the language model ({model}) disagrees{cached}: it says {said(second.model)}; the checker says "
        f"{said(second.checker)}; shown: {messages.verdict_line(result.verdict, Language.EN)}"
    )


def on_behalf(text: str, pm: Actor | None) -> str:
    """An event's text, saying for whom a delegate acted."""
    return f"{text} (on behalf of {pm.display})" if pm is not None else text


def _with_pm(data: dict[str, Any], pm: Actor | None) -> dict[str, Any]:
    return {**data, "on_behalf_of": pm.to_dict()} if pm is not None else data


def open_question(rec: RequestRecord) -> str:
    """The question the requester was last asked."""
    return next((d.note for d in reversed(rec.decisions) if d.kind is DecisionKind.NEEDS_INFO), "")


def email_outcome(rec: RequestRecord, send_id: str) -> str | None:
    """Say what became of one e-mail send of a request's letter: "sent", "failed", or None (not known yet)."""
    for e in reversed(rec.events):
        if e.data.get("send_id") == send_id:
            if e.kind == "letter_sent":
                return "sent"
            if e.kind == "letter_send_failed":
                return "failed"
    return None


def _check_sendable(rec: RequestRecord, *, again: bool, tz: str = "UTC") -> Letter:
    letter = rec.letter
    if letter is None or rec.status not in (RequestStatus.LETTER_DRAFTED, RequestStatus.LETTER_SENT):
        raise IllegalMove(Phrase("err.nothing_to_send", ref=rec.ref, status=status_label(rec.status)))
    if letter.status == "queued":
        raise IllegalMove(Phrase("err.already_queued", ref=rec.ref))
    if (rec.status is RequestStatus.LETTER_SENT or letter.status == "sent") and not again:
        via = (
            Phrase(f"via.{letter.sent_via}")
            if letter.sent_via in ("smtp", "manual", "meeting")
            else Phrase("via.other")
        )
        if letter.sent_at:
            raise IllegalMove(Phrase("err.already_sent_at", ref=rec.ref, at=When(letter.sent_at, tz), via=via))
        raise IllegalMove(Phrase("err.already_sent", ref=rec.ref, via=via))
    return letter


def _check_not_queued(rec: RequestRecord) -> None:
    if rec.letter is not None and rec.letter.status == "queued":
        raise IllegalMove(Phrase("err.queued_wait", ref=rec.ref))


def normalize_ref(ref: str) -> str:
    return canonical_ref(ref)


def _clean_text(text: str) -> str:
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise InvalidInput(Phrase("err.request_empty"), field="text")
    if len(text) > MAX_REQUEST_CHARS:
        raise InvalidInput(Phrase("err.request_too_long", n=len(text), limit=MAX_REQUEST_CHARS), field="text")
    return text


def _validate_form(form: DeclineForm) -> None:
    """Check a decline form built by code (the forms of `bot.forms` check what people type)."""
    errors: dict[str, Phrase] = {}
    if not isinstance(form.reason_category, ReasonCategory):
        errors["reason_category"] = Phrase("form.err.pick_reason")
    if not form.reason_text.strip():
        errors["reason_text"] = Phrase("form.err.need_reason")
    if len(form.reason_text) > 2000:
        errors["reason_text"] = Phrase("form.err.too_long", limit=2000)
    if len(form.empathy) > 1000:
        errors["empathy"] = Phrase("form.err.too_long", limit=1000)
    if any(len(a.detail) > 500 for a in form.alternatives):
        errors["alternatives"] = Phrase("form.err.detail_too_long")
    if form.channel is Channel.MEETING:
        if form.meeting is None:
            errors["meeting_start"] = Phrase("form.err.need_meeting_time")
        elif not 5 <= form.meeting.duration_minutes <= 480:
            errors["meeting_minutes"] = Phrase("form.err.minutes_range")
        elif any(ch in form.meeting.location for ch in "\r\n"):
            errors["meeting_location"] = Phrase("form.err.one_line")
    if errors:
        raise FormInvalid(errors)


__all__ = ["IntakeService", "Letter", "LoadResult", "content_hash", "normalize_ref", "open_question"]
