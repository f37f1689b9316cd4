"""Ports: the small contracts the core needs from the outside world. `store/` implements the storage
ports; adapters implement `NoticeSink`. Tests use the real implementations, not mocks of these.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from .browse import ChangeEntry, RequestPage, RequestQuery
from .domain import (
    Absence,
    Actor,
    Decision,
    DeclineForm,
    Event,
    Example,
    Letter,
    Notice,
    Project,
    RequestRecord,
    RequestStatus,
    Source,
    Verdict,
)


class Clock(ABC):
    @abstractmethod
    def now(self) -> datetime:
        """Return the current time. MUST be timezone-aware (UTC)."""


class SystemClock(Clock):
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True)
class NewRequest:
    project: str
    number: int
    ref: str
    text: str
    requester: Actor
    verdict: Verdict
    scope_version: int
    status: RequestStatus
    created_at: datetime
    source: Source | None = None
    client_words: str = ""
    urgency: str = ""
    requested_date: date | None = None
    due_at: datetime | None = None


@dataclass(frozen=True)
class NewStep:
    """A scheduled step to write: what to do (`kind`), when (`due_at`, by the service's clock), about which
    request or project, and a key that makes writing it twice write it once."""

    kind: str
    due_at: datetime
    dedupe_key: str
    ref: str | None = None
    project: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Step:
    """A scheduled step as a worker claimed it."""

    id: int
    kind: str
    due_at: datetime
    dedupe_key: str
    ref: str | None
    project: str | None
    data: dict[str, Any]
    attempts: int


@dataclass(frozen=True)
class ScheduleStats:
    pending: int
    late_seconds: float  # how long the most overdue pending step has been due; 0 when none is


@dataclass(frozen=True)
class ProjectVersionInfo:
    slug: str
    version: int
    loaded_at: datetime
    loaded_by: str


class Transaction(ABC):
    """One unit of work. Everything written through it is committed together when the `transaction()`
    block exits normally, and rolled back if it raises. Implementations MUST NOT commit part of it.
    """

    # projects ----------------------------------------------------------------------------------
    @abstractmethod
    async def get_project(self, slug: str, *, lock: bool = False) -> Project | None:
        """Return the project's current version, or None. With `lock`, hold a row lock until commit."""

    @abstractmethod
    async def list_projects(self) -> list[Project]:
        """Return every project's current version, ordered by slug."""

    @abstractmethod
    async def project_for_prefix(self, prefix: str) -> str | None:
        """Return the slug of the project whose request refs use `prefix`, if any."""

    @abstractmethod
    async def save_project(
        self, project: Project, *, content_hash: str, loaded_by: str, at: datetime
    ) -> tuple[int, bool]:
        """Store `project` as its new current version unless the content is unchanged.

        Return `(version, changed)`. Older versions MUST stay readable with `get_project_version`.
        """

    @abstractmethod
    async def get_project_version(self, slug: str, version: int) -> Project | None:
        """Return the project as it was at `version`."""

    @abstractmethod
    async def project_versions(self, slug: str) -> list[ProjectVersionInfo]:
        """Return the versions of a project, oldest first."""

    @abstractmethod
    async def next_request_number(self, slug: str) -> int:
        """Atomically allocate the next request number of a project. MUST never hand out a number twice."""

    @abstractmethod
    async def upcoming_request_number(self, slug: str) -> int:
        """The number `next_request_number` would hand out now, without taking it: a guess to prepare
        with (another transaction may take it first)."""

    async def next_request_numbers(self, slug: str, count: int) -> list[int]:
        """Allocate the project's next `count` request numbers, in order, as `next_request_number` does.
        Implementations MAY take them in one statement."""
        return [await self.next_request_number(slug) for _ in range(count)]

    # requests ----------------------------------------------------------------------------------
    @abstractmethod
    async def add_request(self, req: NewRequest) -> None:
        """Store a new request."""

    async def add_requests(self, reqs: Sequence[NewRequest]) -> None:
        """Store new requests, in order. Implementations MAY write them in one statement."""
        for req in reqs:
            await self.add_request(req)

    @abstractmethod
    async def get_request(self, ref: str, *, lock: bool = False) -> RequestRecord | None:
        """Return a request with its decisions, letter and events. With `lock`, hold a row lock until
        commit, so two decisions on one request are serialised.
        """

    @abstractmethod
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
        """Return requests matching every given filter, oldest first (or newest first), at most `limit`."""

    @abstractmethod
    async def count_requests(
        self,
        *,
        project: str | None = None,
        statuses: list[RequestStatus] | None = None,
        requester: Actor | None = None,
    ) -> int:
        """How many requests match every given filter."""

    @abstractmethod
    def request_pages(
        self,
        *,
        project: str,
        changed_since: datetime | None = None,
        unless: Sequence[RequestStatus] = (),
        with_events: bool = False,
        page_size: int = 500,
    ) -> AsyncIterator[list[RequestRecord]]:
        """A project's requests, oldest first, a page at a time (memory stays flat however many there are).
        With `changed_since`: only those changed since then, or whose status is one of `unless`."""

    @abstractmethod
    async def requester_projects(self, requester: Actor) -> set[str]:
        """The projects `requester` has raised requests in."""

    @abstractmethod
    async def set_status(self, ref: str, status: RequestStatus, *, at: datetime) -> None: ...

    @abstractmethod
    async def set_verdict(self, ref: str, verdict: Verdict) -> None:
        """Replace the request's current verdict (a PM's correction). The original stays in the events."""

    @abstractmethod
    async def add_decision(self, ref: str, decision: Decision) -> None: ...

    @abstractmethod
    async def save_decline_form(self, ref: str, form: DeclineForm) -> None: ...

    @abstractmethod
    async def save_letter(self, ref: str, letter: Letter) -> None:
        """Store the request's letter, replacing the previous draft (every version is in the events)."""

    # record ------------------------------------------------------------------------------------
    @abstractmethod
    async def add_event(self, event: Event, *, project: str, ref: str | None) -> None:
        """Append one line to the record. Events MUST NOT be changed or deleted afterwards."""

    async def add_events(self, entries: Sequence[tuple[Event, str, str | None]]) -> None:
        """Append `(event, project, ref)` lines to the record, in order, as `add_event` does.
        Implementations MAY write them in one statement, and MAY keep a new request's first events in
        fewer rows than one each, as long as they read back the same."""
        for event, project, ref in entries:
            await self.add_event(event, project=project, ref=ref)

    @abstractmethod
    async def project_events(self, project: str) -> list[Event]:
        """Return the events not tied to a request (scope loads, digests), oldest first."""

    # outbox ------------------------------------------------------------------------------------
    @abstractmethod
    async def add_notice(self, notice: Notice, *, available_at: datetime | None = None) -> None:
        """Queue a notice for delivery (now, or at `available_at`). A notice whose `dedupe_key` was queued
        before is ignored. The outbox runs on wall-clock time, whatever clock the service uses.
        """

    async def add_notices(self, notices: Sequence[Notice]) -> None:
        """Queue notices for delivery now, in order, as `add_notice` does. Implementations MAY write them in
        one statement."""
        for notice in notices:
            await self.add_notice(notice)

    @abstractmethod
    async def drop_pending_notice(self, dedupe_key: str) -> bool:
        """Drop a pending notice (accepted work done here, see `AckLog.finish_work`). Return False if a
        dispatcher has already leased it."""

    async def drop_pending_notices(self, dedupe_keys: Sequence[str]) -> None:
        """Drop pending notices as `drop_pending_notice` does (those already leased stay)."""
        for key in dedupe_keys:
            await self.drop_pending_notice(key)

    # learning ----------------------------------------------------------------------------------
    @abstractmethod
    async def add_example(self, project: str, example: Example, *, ref: str | None, at: datetime) -> None: ...

    @abstractmethod
    async def list_examples(self, project: str) -> tuple[Example, ...]: ...

    # a language model's answers ----------------------------------------------------------------
    @abstractmethod
    async def get_model_answer(self, key: str) -> dict[str, Any] | None:
        """Return the language model's stored answer for `key` (a digest of the exact question), or None."""

    @abstractmethod
    async def save_model_answer(
        self, key: str, *, project: str, scope_version: int, model: str, answer: dict[str, Any], at: datetime
    ) -> None:
        """Keep a validated answer for `key`, so the same question is not asked again. An answer already
        kept for `key` MUST be left as it is (two processes may save the same one)."""

    # idempotency -------------------------------------------------------------------------------
    @abstractmethod
    async def claim_key(self, key: str, *, at: datetime) -> bool:
        """Record `key` as processed. Return False if it was processed before (then do nothing else).

        Used to make platform retries (the same event id, a double click) have one effect.
        """

    async def claim_keys(self, keys: Sequence[str], *, at: datetime) -> set[str]:
        """Claim each key as `claim_key` does; return those that were new. Implementations MAY claim them
        in one statement."""
        return {key for key in keys if await self.claim_key(key, at=at)}

    # time: due dates, scheduled steps, PMs away -------------------------------------------------
    @abstractmethod
    async def set_due(self, ref: str, due_at: datetime | None) -> None:
        """Set when what the request waits for falls due (None: nothing is due)."""

    @abstractmethod
    async def add_step(self, step: NewStep) -> bool:
        """Schedule a step. A step whose `dedupe_key` was written before is ignored (return False)."""

    async def add_steps(self, steps: Sequence[NewStep]) -> None:
        """Schedule steps as `add_step` does. Implementations MAY write them in one statement."""
        for step in steps:
            await self.add_step(step)

    @abstractmethod
    async def cancel_steps(
        self, *, kinds: Sequence[str], ref: str | None = None, project: str | None = None, at: datetime
    ) -> int:
        """Cancel the pending steps of `kinds` about `ref` (or `project`); return how many. A step already
        claimed is not touched: it checks the record itself when it runs."""

    @abstractmethod
    async def finish_step(self, step_id: int, *, worker: str, status: str, at: datetime) -> bool:
        """Mark a claimed step done (`status` "done" or "skipped") in this transaction, so its effects and
        its end are committed together. Return False if `worker` no longer holds its lease: the caller MUST
        then write nothing (another worker runs it)."""

    @abstractmethod
    async def add_absence(self, absence: Absence) -> int:
        """Store a PM's absence; return its id."""

    @abstractmethod
    async def end_absence(self, absence_id: int, *, at: datetime) -> bool:
        """End an absence at `at`; return False if it had ended already."""

    @abstractmethod
    async def absences(self, *, active_at: datetime | None = None) -> list[Absence]:
        """Return the absences active at `active_at` (every one not ended, without it), oldest first."""

    @abstractmethod
    async def get_absence(self, absence_id: int, *, lock: bool = False) -> Absence | None: ...

    @abstractmethod
    async def people_of(self, project: str) -> list[Actor]:
        """Return the people who took part in the project's requests (requesters and deciders), once each."""


@dataclass(frozen=True)
class OutboxRow:
    id: int
    notice: Notice
    attempts: int
    created_at: datetime
    # An earlier attempt may have reached the platform (it timed out, lost its connection, or its process
    # died mid-call): a sink that can look for what it posted does so before posting again.
    uncertain: bool = False


@dataclass(frozen=True)
class Attempt:
    """One delivery attempt of an outbox row, as a sink sees it. `row_id` names the notice for good (a sink
    may tag what it posts with it, to find it again); `uncertain` says an earlier attempt may have
    reached the platform."""

    row_id: int
    number: int = 1
    uncertain: bool = False
    created_at: datetime | None = None  # when the notice was queued: nothing of it was posted before

    @property
    def key(self) -> str:
        """Names this notice for good, in this database (the row id and its creation time)."""
        stamp = self.created_at.strftime("%Y%m%dT%H%M%S%f") if self.created_at else ""
        return f"{self.row_id}@{stamp}"


# The kinds of message a later notice changes in place (a review card's update, the letter card's), so
# where each was posted is kept after its outbox row is pruned. Other messages are never looked up again.
UPDATED_IN_PLACE = frozenset({"review_card", "letter_draft"})


@dataclass(frozen=True)
class OutboxStats:
    pending: int
    failed: int
    oldest_pending_age: float  # seconds; 0 when nothing is pending


class Outbox(ABC):
    """The delivery side of the outbox. Several processes may share one outbox."""

    @abstractmethod
    async def claim(self, platforms: list[str], *, worker: str, limit: int, lease_seconds: float) -> list[OutboxRow]:
        """Lease up to `limit` due rows for `platforms`.

        MUST NOT hand one row to two workers while its lease runs. MUST NOT hand out a row while an older
        row with the same request is still pending, so notices about one request arrive in order. A row
        taken back from a worker whose lease ran out MUST come back `uncertain`.
        """

    @abstractmethod
    async def mark_sent(self, row_id: int, *, worker: str, result: dict[str, Any] | None) -> bool:
        """Mark a leased row delivered. Return False if the lease was lost (another worker owns it)."""

    @abstractmethod
    async def mark_retry(self, row_id: int, *, worker: str, error: str, at: datetime, uncertain: bool = False) -> None:
        """Give a leased row back, due again at `at`. With `uncertain`, remember (for good) that this
        attempt may have reached the platform."""

    @abstractmethod
    async def mark_failed(self, row_id: int, *, worker: str, error: str) -> None: ...

    @abstractmethod
    async def prune_delivered(self, *, before: datetime, limit: int = 200) -> int:
        """Delete up to `limit` rows delivered before `before`, oldest first; return how many went. What
        `delivery_result` answers MUST outlive them."""

    @abstractmethod
    async def delivery_result(self, ref: str, kind: str, platform: str) -> dict[str, Any] | None:
        """Return what the adapter recorded when it delivered the last `kind` notice of a request. Only
        the kinds in `UPDATED_IN_PLACE` MUST be answered once their rows are pruned."""

    @abstractmethod
    async def stats(self, now: datetime) -> OutboxStats: ...


class Schedule(ABC):
    """The claiming side of the scheduled steps (reminders, escalations, expiries, follow-ups, daily
    summaries, absences that end). Several processes may share it, as they share the outbox.

    Times are the service's clock (`Clock`), so tests move time by moving the clock."""

    @abstractmethod
    async def claim_steps(self, *, now: datetime, worker: str, limit: int, lease_seconds: float) -> list[Step]:
        """Lease up to `limit` steps due at `now`, oldest due first.

        MUST NOT hand one step to two workers while its lease runs; a step whose worker died is handed out
        again once its lease has run out. A step is finished (with its effects) by `Transaction.finish_step`.
        """

    @abstractmethod
    async def retry_step(self, step_id: int, *, worker: str, error: str, at: datetime) -> None:
        """Give a claimed step back after a failure, to be claimed again no earlier than `at`."""

    @abstractmethod
    async def fail_step(self, step_id: int, *, worker: str, error: str) -> None:
        """Give up on a claimed step, keeping the reason."""

    @abstractmethod
    async def stats(self, now: datetime) -> ScheduleStats: ...

    @abstractmethod
    async def prune_finished(self, *, before: datetime, limit: int = 200) -> int:
        """Delete up to `limit` steps that were done, skipped or cancelled before `before`; return how many
        went. Failed steps, and steps not run yet, MUST stay. (A step is written for a time after its
        writing, so the key of one finished before `before` is never written again.)"""


class Store(ABC):
    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """Open a unit of work (see `Transaction`)."""

    def reading(self) -> AbstractAsyncContextManager[Transaction]:
        """Open a transaction that only reads. It MUST NOT hold up writers, however long it runs."""
        return self.transaction()

    @property
    @abstractmethod
    def outbox(self) -> Outbox: ...

    @property
    @abstractmethod
    def schedule(self) -> Schedule: ...

    @abstractmethod
    async def ping(self) -> None:
        """Raise `StorageUnavailable` if the database cannot be reached."""

    @abstractmethod
    async def close(self) -> None: ...


class AckLog(ABC):
    """The acknowledgement path's writes. A platform acknowledges a request only once its work is durable;
    these writes MUST be fast (batched into group commits) and MUST NOT queue behind slower transactions.
    """

    @abstractmethod
    async def accept_work(
        self, notice: Notice, *, grace: timedelta, claim: str | None = None, at: datetime | None = None
    ) -> bool:
        """Durably queue `notice` and return once its outbox row is committed. The row waits `grace` (so the
        accepting process can do the work itself first); any dispatcher takes it after that.

        With `claim`, the key is claimed (as `Transaction.claim_key`) in the same transaction and the row is
        written only if the claim is new; return whether it was (always True without a claim)."""

    @abstractmethod
    async def claim_key_soon(self, key: str, *, at: datetime) -> bool:
        """`claim_key` through the same fast path: return False if `key` was claimed before."""

    @abstractmethod
    async def finish_work(self, dedupe_key: str) -> bool:
        """Drop accepted work the accepting process has done. Return False if a dispatcher already leased
        it (the dispatcher then finishes it, finding it a duplicate)."""

    @abstractmethod
    async def forget_keys(self, prefix: str, *, before: datetime) -> int:
        """Delete claimed keys starting with `prefix` claimed before `before` (keys that only matter for a
        while, such as a request signature's five minutes); return how many."""


class ConversationRefs(ABC):
    """Where a platform can post later without being spoken to first (Teams' conversation references)."""

    @abstractmethod
    async def save_conversation_ref(
        self, platform: str, conversation_id: str, reference: dict[str, Any], *, at: datetime
    ) -> None:
        """Store (or replace) the reference to a conversation."""

    @abstractmethod
    async def get_conversation_ref(self, platform: str, conversation_id: str) -> dict[str, Any] | None: ...


class JobRuns(ABC):
    @abstractmethod
    async def claim_job_run(self, job: str, period: str, *, worker: str, at: datetime) -> bool:
        """Record that `job` runs for `period`. MUST return False if any process already ran it."""


@dataclass(frozen=True)
class RefusalRecord:
    """A payload refused for where it came from, as kept (see `Refusals`)."""

    at: datetime
    platform: str
    reason: str  # "other_workspace", "other_tenant", "email_claimed"
    origin: str  # the workspace or tenant it came from ("" when it named none)
    user_id: str
    detail: str = ""


class Refusals(ABC):
    """Authenticated payloads refused for where they came from: kept for whoever looks into it later."""

    @abstractmethod
    async def record_refusal(self, refusal: RefusalRecord) -> None: ...

    @abstractmethod
    async def list_refusals(self, *, limit: int = 100) -> list[RefusalRecord]:
        """The latest refusals, newest first."""


class IdentityBindings(ABC):
    """Which account an e-mail address belongs to on a platform."""

    @abstractmethod
    async def bind_email(self, platform: str, email: str, user_id: str, *, at: datetime) -> str:
        """Tie `email` to `user_id` on `platform` if it is tied to nobody yet. Return the account it is tied
        to (MUST be the first one ever tied, whichever process asked first)."""

    @abstractmethod
    async def unbind_email(self, platform: str | None, email: str) -> int:
        """Untie `email` (on `platform`, or on every platform when None); return how many ties went."""


@dataclass(frozen=True)
class ReportQuery:
    """Which requests a report counts: those of `projects` (None: every project; the caller passes only the
    projects its reader may see), over `[start, end)` (UTC). `now` is when "overdue" is judged."""

    projects: tuple[str, ...] | None
    start: datetime
    end: datetime
    now: datetime
    list_limit: int = 200  # at most this many requests behind "decided against the verdict" are listed


@dataclass(frozen=True)
class WeekCount:
    """How many of one kind (a verdict, a decision) fell in the week starting on Monday `week` (UTC)."""

    week: date
    kind: str
    count: int


@dataclass(frozen=True)
class AgainstVerdict:
    """A request on which a PM decided against the checker's verdict: approved work the scope excludes,
    declined work the checker found in scope, or corrected the verdict."""

    ref: str
    project: str
    text: str
    checker: str  # the checker's verdict (before any correction)
    decision: str | None  # "approve" or "decline" when the decision went against it
    corrected_to: str | None  # the verdict a PM corrected it to
    at: datetime  # when the PM did so (the earlier of the two)


@dataclass(frozen=True)
class ReportNumbers:
    """The counts behind a report, each computed by the database (never by loading every request).

    `requests_by_week`: requests recorded, by week and verdict kind (as it stands, after corrections).
    `decisions_by_week`: decisions made, by week and kind: approve, approve_change (approving work the
    verdict it was made on says the scope does not cover), decline, needs_info.
    `answered`, `answer_median`, `answer_p90`: the requests whose first decision (of any kind) fell in the
    period, and the seconds from their recording to it (None when there were none).
    `overdue`: requests recorded in the period still waiting for a decision past its due time at `now`.
    `judged`: requests approved, declined or corrected in the period; `against` of those went against the
    verdict (a decision against the verdict it was made on, or a correction), the newest of them (at most
    the query's limit) in `against_list`.
    `letters_drafted`: requests declined in the period (each gets a letter); `letters_sent`: letters sent
    (or answered in a meeting) in the period; `outcomes_recorded`: clients' outcomes recorded in it."""

    requests_by_week: tuple[WeekCount, ...]
    decisions_by_week: tuple[WeekCount, ...]
    answered: int
    answer_median: float | None
    answer_p90: float | None
    overdue: int
    judged: int
    against: int
    against_list: tuple[AgainstVerdict, ...]
    letters_drafted: int
    letters_sent: int
    outcomes_recorded: int


class Reports(ABC):
    """Aggregate numbers for the reports pages. Implementations MUST compute them with grouped queries in
    the database: the rows read back are bounded by weeks × kinds and the list limit, never by requests.
    They MUST NOT take a write lock, and SHOULD read all numbers of one report from one snapshot."""

    @abstractmethod
    async def report_numbers(self, query: ReportQuery) -> ReportNumbers: ...


@dataclass(frozen=True)
class WebSessionRecord:
    """A signed-in browser: who it is, its form token, the language it chose (None: the team's)."""

    actor: Actor
    csrf: str
    language: str | None
    created_at: datetime
    last_seen_at: datetime


class WebAccess(ABC):
    """The web page's sign-ins and sessions (kept by hash only), and the queries its lists ask."""

    @abstractmethod
    async def add_web_session(self, token_hash: str, actor: Actor, csrf: str, *, at: datetime) -> None: ...

    @abstractmethod
    async def web_session(self, token_hash: str, *, now: datetime, idle: timedelta) -> WebSessionRecord | None:
        """The session, or None when there is none or it has been idle longer than `idle` (then it MUST be
        gone for good). MAY record `now` as its last use."""

    @abstractmethod
    async def end_web_session(self, token_hash: str) -> None: ...

    @abstractmethod
    async def set_web_language(self, token_hash: str, language: str | None) -> None: ...

    @abstractmethod
    async def add_signin_link(self, token_hash: str, email: str, *, at: datetime, expires_at: datetime) -> None: ...

    @abstractmethod
    async def signin_links_since(self, email: str, since: datetime) -> int:
        """How many sign-in links were made for `email` since `since` (used or not)."""

    @abstractmethod
    async def use_signin_link(self, token_hash: str, *, now: datetime) -> str | None:
        """The e-mail a link was made for, if it is unused and unexpired; it MUST then be used up, so that
        of two processes using it at once only one gets the e-mail."""

    @abstractmethod
    async def search_requests(self, query: RequestQuery, *, now: datetime) -> RequestPage:
        """One page of the requests `query` asks for, with how many match in all (SQL, not in memory)."""

    @abstractmethod
    async def change_register(
        self, projects: Sequence[str], *, limit: int = 100, offset: int = 0
    ) -> tuple[list[ChangeEntry], int]:
        """One page of the approved scope changes of `projects`, newest first, and how many there are."""


class ServerStore(Store, AckLog, ConversationRefs, JobRuns, Refusals, IdentityBindings, Reports, WebAccess):
    """Everything a server process needs from storage: the core's store plus the adapters' own ports."""

    @abstractmethod
    async def metrics_snapshot(self) -> dict[str, Any]:
        """Counts for `/metrics`, read from the database so that every process reports the same numbers."""


@dataclass(frozen=True)
class ModelReply:
    """What a language model sent back for one question."""

    content: str | None
    refusal: str | None = None  # the model's own refusal message, when it declined
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0


class ChatModel(ABC):
    """A chat-completions language model (implemented in adapters/llm/)."""

    name: str  # the model as the deployment names it (part of every cached answer's key)

    @abstractmethod
    async def complete(self, messages: list[dict[str, str]], *, schema: dict[str, Any]) -> ModelReply:
        """Ask once and return the reply. `schema` is the JSON schema the answer must follow: request it
        where the server supports structured output (the caller validates the answer either way).

        MUST NOT retry. MUST raise `ModelUnavailable` with reason "timeout", "rate_limited" (429),
        "server_error" (5xx), "unreachable" (no connection) or "http_error" (any other refusal of the call).
        """

    async def close(self) -> None:
        """Release connections."""
        return None


class NoticeSink(ABC):
    """One platform's way of delivering notices (implemented by each adapter)."""

    platform: str

    @abstractmethod
    async def deliver(self, notice: Notice, *, outbox: Outbox, attempt: Attempt | None = None) -> dict[str, Any] | None:
        """Deliver one notice and return what later notices need (e.g. the posted message's id).

        MUST raise `TemporaryDeliveryError` for failures worth retrying (rate limits, 5xx, timeouts; with
        `uncertain=True` when the platform may have acted on the attempt) and `PermanentDeliveryError` for
        ones that are not (bad channel, no permission). SHOULD, when `attempt.uncertain`, look for what an
        earlier attempt may have posted before posting again, where the platform allows it.
        """
