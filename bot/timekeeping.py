"""Time in the core: due dates, the scheduled steps that follow them, and who hears about each.

A request that waits has a due date (`RequestRecord.due_at`): the PMs' decision, `response_days` working
days after it was recorded (or after the requester answered a question); the requester's answer to a
question; the follow-up after a letter was sent or a meeting chosen. Each use case that moves a request
sets its due date and writes the steps that follow from it in the same transaction:

    decision_due   at the due date: the PMs (or whoever stands in for an away PM) get a reminder with the
                   decide buttons, and the card says "overdue"; it writes the escalation step
    escalate       `escalate_after_days` later: one message to `escalate_to`, and a line on the card
    info_reminder  half-way through a question's time: the requester is reminded
    expire         at the end of it: the request becomes `expired`; an answer reopens it
    follow_up      `follow_up_days` after a letter was sent or a meeting held: "Did the client reply?"
    daily_summary  each working day at the project's `daily_summary` time: one message per PM with what
                   waits on them, what is overdue and what needs a follow-up (nothing when there is nothing)
    away_end       the day an away PM is back: their delegate stops standing in for them

A step is a row with a due time in the database (`Transaction.add_step`), claimed with a lease like the
outbox's rows (`Schedule.claim_steps`) and finished in the same transaction as its effects, so with
several server processes each runs once and a restart loses none. A step checks the record when it
runs: a request decided a second before its reminder gets none. Everything uses the service's clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from . import messages
from .domain import (
    SYSTEM,
    Absence,
    Actor,
    Event,
    Notice,
    Project,
    RequestRecord,
    RequestStatus,
)
from .errors import IntakeError, StorageUnavailable
from .outbox import worker_name
from .ports import NewStep, Step, Transaction
from .review import AWAITING_DECISION, awaits_outcome, is_overdue
from .text import Phrase
from .workdays import add_working_days, next_working_time, parse_clock

log = logging.getLogger("intake.time")

DECISION_DUE = "decision_due"
ESCALATE = "escalate"
INFO_REMINDER = "info_reminder"
EXPIRE = "expire"
FOLLOW_UP = "follow_up"
DAILY_SUMMARY = "daily_summary"
AWAY_END = "away_end"

REQUEST_STEPS = (DECISION_DUE, ESCALATE, INFO_REMINDER, EXPIRE, FOLLOW_UP)
CHAT_PLATFORMS = ("slack", "teams", "console")
SUMMARY_GRACE = timedelta(hours=6)  # a summary more than this late (no server was running) is skipped
SUMMARY_ITEMS = 10  # requests listed per section of a summary; the rest are counted
SUMMARY_SECTIONS = ("overdue", "waiting", "follow_up")


def iso(at: datetime) -> str:
    return at.isoformat(timespec="seconds")


# --- who is who --------------------------------------------------------------------------------


def identities(actor: Actor) -> set[str]:
    """What names a person: their platform id on that platform, and their e-mail on any."""
    out = {f"{actor.platform}:{actor.user_id}".lower()}
    if actor.email:
        out.add(actor.email.lower())
    if "@" in actor.user_id:
        out.add(actor.user_id.lower())
    return out


def same_identity(a: Actor, b: Actor) -> bool:
    return bool(identities(a) & identities(b))


def _fits(platform: str, ident: str) -> bool:
    """Whether a platform id from the top-level `pms` or `escalate_to` names someone on `platform`."""
    if platform == "slack":
        return ident[:1] in "UW" and ident[1:].isalnum() and ident.isupper()
    if platform == "teams":
        return not (ident[:1] in "UW" and ident[1:].isalnum() and ident.isupper())
    return False  # the terminal knows people by e-mail


def people(project: Project, names: Iterable[str], platform: str, *, section: str | None = None) -> list[Actor]:
    """The people `names` (e-mail addresses or platform ids, as a project file lists them) as someone on
    `platform` can reach them; with `section`, also that list of the platform's own section."""
    out: list[Actor] = []
    listed = [(str(n).strip(), False) for n in names]
    if section:
        listed += [(str(n).strip(), True) for n in (project.platforms.get(platform) or {}).get(section, ())]
    for name, own in listed:
        if "@" in name:
            who = Actor(platform, name.lower(), email=name.lower())
        elif own or _fits(platform, name):
            who = Actor(platform, name)
        else:
            continue
        if not any(same_identity(who, o) for o in out):
            out.append(who)
    return out


def on_platform(person: Actor, platform: str) -> Actor | None:
    """`person` as someone on `platform` reaches them: as they are, or by their e-mail; None when neither."""
    if person.platform == platform:
        return person
    if person.email:
        return Actor(platform, person.email.lower(), email=person.email.lower(), name=person.name)
    return None


@dataclass(frozen=True)
class Recipient:
    """Who a notice goes to, and the away PM they stand in for (None: for themselves)."""

    person: Actor
    on_behalf_of: Actor | None = None


def with_delegates(targets: Iterable[Actor], absences: list[Absence], platform: str) -> list[Recipient]:
    """The targets, each away one replaced by their delegate (on `platform`), once per person. A delegate
    the platform cannot reach leaves the target as they are: late beats lost."""
    out: list[Recipient] = []
    for target in targets:
        absence = next((a for a in absences if same_identity(a.person, target)), None)
        recipient = Recipient(target)
        if absence is not None:
            delegate = on_platform(absence.delegate, platform)
            if delegate is not None:
                recipient = Recipient(delegate, absence.person)
            else:
                log.warning("time: %s is away but their delegate cannot be reached on %s", target.display, platform)
        if not any(same_identity(recipient.person, r.person) for r in out):
            out.append(recipient)
    return out


def request_platform(rec: RequestRecord) -> str:
    """Where a request's people are reached: the platform it was recorded on."""
    return rec.source.platform if rec.source else rec.requester.platform


def summary_platforms(project: Project) -> list[str]:
    """Where a project's PMs get their summary: its platform sections, else the terminal."""
    found: list[str] = [p for p in ("slack", "teams") if p in project.platforms]
    return found or ["console"]


# --- planning: called by the use cases, inside their transaction ---------------------------------


def decision_due_at(project: Project, start: datetime) -> datetime:
    timing = project.timing
    return add_working_days(start, timing.response_days, timing, project.timezone)


def _step(
    kind: str,
    when: datetime,
    *,
    ref: str | None = None,
    project: str | None = None,
    due: datetime | None = None,
    **data: Any,
) -> NewStep:
    """A step at `when`; `due` (default `when`): the request's due date it was written for, which it checks."""
    key = f"{kind}:{ref or project}:{iso(when)}"
    return NewStep(kind, when, key, ref=ref, project=project, data={"due": iso(due or when), **data})


async def start_decision_clock(
    tx: Transaction, ref: str, project: Project, now: datetime, *, set_due: bool = True
) -> datetime:
    """The PMs' decision is due `response_days` working days from now: set it and schedule its reminder."""
    due = decision_due_at(project, now)
    await tx.cancel_steps(kinds=REQUEST_STEPS, ref=ref, at=now)
    if set_due:
        await tx.set_due(ref, due)
    await tx.add_step(decision_step(ref, project, due))
    return due


def decision_step(ref: str, project: Project, due: datetime) -> NewStep:
    """The step that reminds the PMs when the decision on `ref` falls due at `due`. A new request's clock
    is this step alone (it has no earlier steps to cancel)."""
    return _step(DECISION_DUE, due, ref=ref, project=project.slug)


async def start_question_clock(tx: Transaction, ref: str, project: Project, now: datetime) -> datetime:
    """A question to the requester expires `needs_info_expires_days` working days from now; the requester is
    reminded half-way (in working days, when there is a half-way)."""
    timing = project.timing
    days = timing.needs_info_expires_days
    expires = add_working_days(now, days, timing, project.timezone)
    await tx.cancel_steps(kinds=REQUEST_STEPS, ref=ref, at=now)
    await tx.set_due(ref, expires)
    if days >= 2:
        half = add_working_days(now, (days + 1) // 2, timing, project.timezone)
        await tx.add_step(_step(INFO_REMINDER, half, ref=ref, project=project.slug, due=expires))
    await tx.add_step(_step(EXPIRE, expires, ref=ref, project=project.slug))
    return expires


async def start_follow_up_clock(tx: Transaction, rec: RequestRecord, project: Project, now: datetime) -> datetime:
    """`follow_up_days` working days after the letter was sent, or after the meeting (when its time is
    later), the PM is asked what came of it."""
    start = now
    form = rec.decline_form
    if rec.answered_by_meeting and form is not None and form.meeting is not None:
        start = max(now, form.meeting.start)
    due = add_working_days(start, project.timing.follow_up_days, project.timing, project.timezone)
    await tx.cancel_steps(kinds=REQUEST_STEPS, ref=rec.ref, at=now)
    await tx.set_due(rec.ref, due)
    await tx.add_step(_step(FOLLOW_UP, due, ref=rec.ref, project=project.slug))
    return due


async def stop_clocks(tx: Transaction, ref: str, now: datetime) -> None:
    """Nothing about the request is due any more (decided, withdrawn, its outcome recorded)."""
    await tx.cancel_steps(kinds=REQUEST_STEPS, ref=ref, at=now)
    await tx.set_due(ref, None)


async def plan_daily_summary(tx: Transaction, project: Project, now: datetime) -> datetime | None:
    """Schedule the project's next daily summary (after `now`); None when it is off."""
    at = project.timing.daily_summary
    if not at:
        return None
    due = next_working_time(now, parse_clock(at), project.timing, project.timezone)
    await tx.add_step(_step(DAILY_SUMMARY, due, project=project.slug, at=at))
    return due


async def replan_daily_summary(tx: Transaction, project: Project, now: datetime) -> None:
    """A project file was loaded: its summary time may have changed."""
    await tx.cancel_steps(kinds=(DAILY_SUMMARY,), project=project.slug, at=now)
    await plan_daily_summary(tx, project, now)


def away_end_step(absence_id: int, ends_at: datetime) -> NewStep:
    return NewStep(AWAY_END, ends_at, f"{AWAY_END}:{absence_id}", data={"absence": absence_id})


# --- running the steps -------------------------------------------------------------------------


class LostLease(Exception):
    """Another worker took the step over: this one's work is rolled back."""


RETRY_BASE = 30.0  # seconds before a failed step is tried again; doubles each time
RETRY_CAP = 900.0


class Timekeeper:
    """Claims the steps that are due and runs each in one transaction with its effects (events, notices,
    the next step). Any number of server processes may run one; `run_once` is what a tick does."""

    def __init__(
        self,
        service: Any,  # IntakeService (imported lazily: the service module plans with this one)
        *,
        worker: str | None = None,
        lease_seconds: float = 120.0,
        batch: int = 20,
        max_attempts: int = 8,
        on_work: Callable[[], None] | None = None,
        platforms: Iterable[str] | None = None,
    ) -> None:
        self.service = service
        # Where this process can deliver (None: anywhere). A server sends no daily summary to the terminal,
        # which nobody may be running: it would only wait in the outbox.
        self.platforms = set(platforms) if platforms is not None else None
        self.worker = worker or worker_name()
        self.lease_seconds = lease_seconds
        self.batch = batch
        self.max_attempts = max_attempts
        self.on_work = on_work  # called when steps queued notices (a server wakes its dispatcher)
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._summaries_checked: datetime | None = None
        self.ran: dict[str, int] = {}  # steps run to completion, by kind (for logs and tests)

    @property
    def store(self) -> Any:
        return self.service.store

    @property
    def clock(self) -> Any:
        return self.service.clock

    # --- the loop ------------------------------------------------------------------------------

    async def run_once(self) -> int:
        """Claim and run one batch of due steps. Return how many were claimed."""
        now = self.clock.now()
        await self._ensure_summaries(now)
        steps = await self.store.schedule.claim_steps(
            now=now, worker=self.worker, limit=self.batch, lease_seconds=self.lease_seconds
        )
        for step in steps:
            if self._stop.is_set():
                break  # the rest's leases run out; another worker (or our restart) takes them
            await self._run(step)
        if steps and self.on_work is not None:
            self.on_work()
        return len(steps)

    async def run_due(self, *, max_rounds: int = 50) -> int:
        """Run until nothing is due (the terminal, and tests that move the clock). Return steps claimed."""
        total = 0
        for _ in range(max_rounds):
            n = await self.run_once()
            total += n
            if n == 0:
                break
        return total

    async def run_forever(self, interval: float) -> None:
        while not self._stop.is_set():
            try:
                while await self.run_once() and not self._stop.is_set():
                    pass
            except Exception:
                log.exception("time: claiming scheduled steps failed; trying again shortly")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=interval)

    def start(self, interval: float) -> None:
        self._task = asyncio.create_task(self.run_forever(interval), name="timekeeper")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task

    async def _ensure_summaries(self, now: datetime) -> None:
        """Every project with a daily summary has its next one scheduled (projects loaded before this
        version had none; a chain broken by a failed step mends itself). Checked hourly."""
        if self._summaries_checked is not None and now - self._summaries_checked < timedelta(hours=1):
            return
        self._summaries_checked = now
        try:
            async with self.store.transaction() as tx:
                for project in await tx.list_projects():
                    await plan_daily_summary(tx, project, now)
        except StorageUnavailable as exc:
            self._summaries_checked = None
            log.warning("time: could not check the daily summaries: %s", exc)

    async def _run(self, step: Step) -> None:
        handler = self._handlers.get(step.kind)
        extra = {"ref": step.ref, "kind": step.kind, "step": step.id, "attempt": step.attempts}
        if handler is None:
            await self.store.schedule.fail_step(step.id, worker=self.worker, error=f"unknown step '{step.kind}'")
            return
        now = self.clock.now()
        try:
            async with self.store.transaction() as tx:
                status = await handler(tx, step, now)
                if not await tx.finish_step(step.id, worker=self.worker, status=status, at=now):
                    raise LostLease
        except LostLease:
            log.warning("time: the lease on step %s was lost; another worker runs it", step.id, extra=extra)
            return
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
            if isinstance(exc, IntakeError) and not isinstance(exc, StorageUnavailable):
                log.error("time: %s for %s failed for good: %s", step.kind, step.ref, reason, extra=extra)
                await self._give_up(step, reason)
                return
            if step.attempts >= self.max_attempts:
                log.exception("time: giving up on %s for %s after %d attempts", step.kind, step.ref, step.attempts)
                await self._give_up(step, reason)
                return
            delay = min(RETRY_CAP, RETRY_BASE * 2 ** max(0, step.attempts - 1))
            log.warning("time: %s for %s will be tried again in %.0fs: %s", step.kind, step.ref, delay, reason)
            with contextlib.suppress(StorageUnavailable):
                await self.store.schedule.retry_step(
                    step.id, worker=self.worker, error=reason, at=now + timedelta(seconds=delay)
                )
            return
        self.ran[f"{step.kind}:{status}"] = self.ran.get(f"{step.kind}:{status}", 0) + 1
        log.info("time: %s for %s: %s", step.kind, step.ref or step.project, status, extra=extra)

    async def _give_up(self, step: Step, reason: str) -> None:
        with contextlib.suppress(StorageUnavailable):
            await self.store.schedule.fail_step(step.id, worker=self.worker, error=reason)

    @property
    def _handlers(self) -> dict[str, Callable[[Transaction, Step, datetime], Any]]:
        return {
            DECISION_DUE: self.decision_due,
            ESCALATE: self.escalate,
            INFO_REMINDER: self.info_reminder,
            EXPIRE: self.expire,
            FOLLOW_UP: self.follow_up,
            DAILY_SUMMARY: self.daily_summary,
            AWAY_END: self.away_end,
        }

    # --- the steps -----------------------------------------------------------------------------

    async def _request(self, tx: Transaction, step: Step) -> tuple[RequestRecord, Project] | None:
        """The step's request, locked (so a decision and the step take turns), if it is still the one the
        step was written for: same due date. None when it moved on."""
        rec = await tx.get_request(step.ref or "", lock=True)
        if rec is None or rec.due_at is None or iso(rec.due_at) != step.data.get("due"):
            return None
        project = await tx.get_project(rec.project)
        if project is None:
            return None
        return rec, project

    async def _recipients(
        self, tx: Transaction, targets: Iterable[Actor], platform: str, now: datetime
    ) -> list[Recipient]:
        return with_delegates(targets, await tx.absences(active_at=now), platform)

    async def _tell(
        self,
        tx: Transaction,
        rec: RequestRecord,
        project: Project,
        kind: str,
        recipients: list[Recipient],
        step: Step,
        now: datetime,
        **data: Any,
    ) -> None:
        """One notice of `kind` about `rec` to each recipient, rendered by their platform's sink."""
        direct = [r.person.user_id for r in recipients if "@" not in r.person.user_id]
        for r in recipients:
            text = messages.timely_text(kind, rec, project, project.chat_language, on_behalf_of=r.on_behalf_of, now=now)
            await self.service._notify(
                tx,
                rec,
                kind,
                "person",
                text,
                recipient=r.person,
                data={
                    "on_behalf_of": r.on_behalf_of.to_dict() if r.on_behalf_of else None,
                    "also_to": direct,
                    **data,
                },
                dedupe=f"{step.dedupe_key}:{kind}:{r.person.platform}:{r.person.user_id}",
            )

    async def decision_due(self, tx: Transaction, step: Step, now: datetime) -> str:
        found = await self._request(tx, step)
        if found is None or found[0].status not in AWAITING_DECISION:
            return "skipped"
        rec, project = found
        platform = request_platform(rec)
        pms = people(project, project.pms, platform, section="pms")
        recipients = await self._recipients(tx, pms, platform, now)
        names = [r.person.display for r in recipients]
        await tx.add_event(
            Event(
                "reminded",
                now,
                SYSTEM,
                f"decision due {iso(step.due_at)}; reminded {', '.join(names) or 'nobody reachable'}",
                {"due": step.data.get("due"), "to": names},
            ),
            project=rec.project,
            ref=rec.ref,
        )
        rec = await tx.get_request(rec.ref) or rec
        await self._tell(tx, rec, project, "reminder", recipients, step, now)
        await self.service._card_update(tx, rec, project)  # the card now says "overdue"
        timing = project.timing
        if timing.escalate_to:
            at = add_working_days(step.due_at, timing.escalate_after_days, timing, project.timezone)
            await tx.add_step(_step(ESCALATE, at, ref=rec.ref, project=rec.project, due=step.due_at))
        return "done"

    async def escalate(self, tx: Transaction, step: Step, now: datetime) -> str:
        found = await self._request(tx, step)
        if found is None or found[0].status not in AWAITING_DECISION:
            return "skipped"
        rec, project = found
        platform = request_platform(rec)
        targets = people(project, project.timing.escalate_to, platform)
        recipients = [Recipient(t) for t in targets]
        if not recipients:
            return "skipped"
        names = [r.person.display for r in recipients]
        await tx.add_event(
            Event(
                "escalated",
                now,
                SYSTEM,
                f"no decision since {step.data.get('due')}; escalated to {', '.join(names)}",
                {"due": step.data.get("due"), "to": names},
            ),
            project=rec.project,
            ref=rec.ref,
        )
        rec = await tx.get_request(rec.ref) or rec
        await self._tell(tx, rec, project, "escalation", recipients, step, now)
        await self.service._card_update(tx, rec, project)  # a line on the card: escalated to whom, when
        return "done"

    async def info_reminder(self, tx: Transaction, step: Step, now: datetime) -> str:
        found = await self._request(tx, step)
        if found is None or found[0].status is not RequestStatus.NEEDS_INFO:
            return "skipped"
        rec, project = found
        await tx.add_event(
            Event("info_reminded", now, SYSTEM, f"reminded {rec.requester.display} of the question"),
            project=rec.project,
            ref=rec.ref,
        )
        text = messages.timely_text("info_reminder", rec, project, project.chat_language, now=now)
        await self.service._notify(tx, rec, "info_reminder", "requester", text, dedupe=f"{step.dedupe_key}:requester")
        return "done"

    async def expire(self, tx: Transaction, step: Step, now: datetime) -> str:
        found = await self._request(tx, step)
        if found is None or found[0].status is not RequestStatus.NEEDS_INFO:
            return "skipped"
        rec, project = found
        await tx.set_status(rec.ref, RequestStatus.EXPIRED, at=now)
        await tx.set_due(rec.ref, None)
        await tx.add_event(
            Event(
                "expired",
                now,
                SYSTEM,
                f"no answer from {rec.requester.display} by {step.data.get('due')}",
                {"due": step.data.get("due")},
            ),
            project=rec.project,
            ref=rec.ref,
        )
        expired = await tx.get_request(rec.ref)
        assert expired is not None
        await self.service._card_update(tx, expired, project)
        text = messages.timely_text("expired", expired, project, project.chat_language, now=now, due=step.due_at)
        await self.service._notify(
            tx,
            expired,
            "expired",
            "requester",
            text,
            data={"due": iso(step.due_at)},
            dedupe=f"{step.dedupe_key}:requester",
        )
        platform = request_platform(rec)
        pms = people(project, project.pms, platform, section="pms")
        recipients = [
            r for r in await self._recipients(tx, pms, platform, now) if not same_identity(r.person, rec.requester)
        ]
        await self._tell(tx, expired, project, "expired_pm", recipients, step, now, due=iso(step.due_at))
        return "done"

    async def follow_up(self, tx: Transaction, step: Step, now: datetime) -> str:
        found = await self._request(tx, step)
        if found is None or not awaits_outcome(found[0]):
            return "skipped"
        rec, project = found
        platform = request_platform(rec)
        decision = rec.last_decision
        target = decision.actor if decision is not None else None
        if target is not None and not project.is_pm(target):
            target = decision.on_behalf_of if decision is not None else None  # a delegate's stand-in ended
        targets = [target] if target is not None else people(project, project.pms, platform, section="pms")
        reachable = [p for p in (on_platform(t, platform) for t in targets) if p is not None]
        recipients = await self._recipients(tx, reachable, platform, now)
        if not recipients:
            return "skipped"
        await tx.add_event(
            Event(
                "follow_up_asked",
                now,
                SYSTEM,
                f"asked {', '.join(r.person.display for r in recipients)} to record the outcome",
            ),
            project=rec.project,
            ref=rec.ref,
        )
        await self._tell(tx, rec, project, "follow_up", recipients, step, now)
        return "done"

    async def daily_summary(self, tx: Transaction, step: Step, now: datetime) -> str:
        project = await tx.get_project(step.project or "")
        if project is None or project.timing.daily_summary != step.data.get("at"):
            return "skipped"  # the file changed: loading it scheduled the summary anew
        await plan_daily_summary(tx, project, max(now, step.due_at))
        if now - step.due_at > SUMMARY_GRACE:
            return "skipped"  # no server ran at the time: a summary hours late is noise
        recs = await tx.list_requests(project=project.slug)
        sections = summary_sections(recs, now)
        if not any(sections.values()):
            return "skipped"
        counts = {k: len(v) for k, v in sections.items()}
        data = {
            "sections": {k: [r.snapshot() for r in v[:SUMMARY_ITEMS]] for k, v in sections.items()},
            "counts": counts,
        }
        absences = await tx.absences(active_at=now)
        told = []
        for platform in summary_platforms(project):
            if self.platforms is not None and platform not in self.platforms:
                continue
            pms = people(project, project.pms, platform, section="pms")
            recipients = with_delegates(pms, absences, platform)
            direct = [r.person.user_id for r in recipients if "@" not in r.person.user_id]
            for r in recipients:
                text = messages.summary_text(project, sections, project.chat_language, now=now)
                await tx.add_notice(
                    Notice(
                        kind="daily_summary",
                        platform=platform,
                        audience="person",
                        text=text,
                        project=project.slug,
                        recipient=r.person,
                        data={
                            **data,
                            "on_behalf_of": r.on_behalf_of.to_dict() if r.on_behalf_of else None,
                            "also_to": direct,
                        },
                        dedupe_key=f"{step.dedupe_key}:{platform}:{r.person.user_id}",
                    )
                )
                told.append(r.person.display)
        if not told:
            return "skipped"
        await tx.add_event(
            Event(
                "daily_summary",
                now,
                SYSTEM,
                f"{counts['overdue']} overdue, {counts['waiting']} waiting, {counts['follow_up']} to follow up; "
                f"sent to {', '.join(told)}",
                {"counts": counts},
            ),
            project=project.slug,
            ref=None,
        )
        return "done"

    async def away_end(self, tx: Transaction, step: Step, now: datetime) -> str:
        absence = await tx.get_absence(int(step.data.get("absence", 0)), lock=True)
        if absence is None or absence.ended_at is not None or absence.id is None:
            return "skipped"
        await tx.end_absence(absence.id, at=absence.ends_at)
        await self.service._record_absence(tx, absence, "pm_back", now, ended_by=None)
        return "done"


def summary_sections(recs: Iterable[RequestRecord], now: datetime) -> dict[str, list[RequestRecord]]:
    """What a PM's daily summary lists: decisions overdue, decisions waiting (not yet due), and letters or
    meetings whose follow-up is due with no outcome on the record."""
    out: dict[str, list[RequestRecord]] = {k: [] for k in SUMMARY_SECTIONS}
    for rec in recs:
        if rec.status in AWAITING_DECISION:
            out["overdue" if is_overdue(rec, now) else "waiting"].append(rec)
        elif awaits_outcome(rec) and is_overdue(rec, now):
            out["follow_up"].append(rec)
    for key in out:
        out[key].sort(key=lambda r: (r.due_at or r.created_at, r.number))
    return out


def away_phrase(key: str, absence: Absence, projects: list[Project]) -> Phrase:
    """A message about an absence, to render in its reader's language."""
    from .text import Day, Items

    return Phrase(
        key,
        pm=absence.person.display,
        delegate=absence.delegate.display,
        until=Day(absence.until),
        projects=Items(p.name for p in projects),
    )


__all__ = [
    "AWAY_END",
    "DAILY_SUMMARY",
    "DECISION_DUE",
    "ESCALATE",
    "EXPIRE",
    "FOLLOW_UP",
    "INFO_REMINDER",
    "Recipient",
    "Timekeeper",
    "away_end_step",
    "decision_due_at",
    "identities",
    "on_platform",
    "people",
    "plan_daily_summary",
    "replan_daily_summary",
    "same_identity",
    "start_decision_clock",
    "start_follow_up_clock",
    "start_question_clock",
    "stop_clocks",
    "summary_sections",
    "with_delegates",
]
