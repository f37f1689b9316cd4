"""The review contract: what a request shows, where it stands, and what each person may do with it now.

`review_view(record, project, viewer)` builds a `RequestView` that every platform renders in its own
format (Slack Block Kit, Teams Adaptive Cards, the terminal, the web page) and nothing more. The rules
live here and only here: which status offers which action to whom (`RULES`), and when approving needs a
scope change (`needs_scope_change`). `IntakeService` enforces the same rules again (`check_move`), so a
button an adapter should not have shown still changes nothing.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from .domain import (
    Actor,
    DecisionKind,
    Language,
    Opinion,
    OpinionStatus,
    Project,
    RequestRecord,
    RequestStatus,
    Verdict,
    VerdictKind,
)
from .errors import IllegalMove, PermissionDenied
from .text import Day, Items, Phrase, Segment, When, language_for, plain, t, t_rich
from .workdays import zone

OPEN = frozenset(s for s in RequestStatus if s.is_open)
DECIDABLE = frozenset({RequestStatus.SUBMITTED, RequestStatus.IN_REVIEW, RequestStatus.NEEDS_INFO})
DECIDED = frozenset(
    {RequestStatus.APPROVED, RequestStatus.DECLINED, RequestStatus.LETTER_DRAFTED, RequestStatus.LETTER_SENT}
)


class Action(enum.StrEnum):
    APPROVE = "approve"
    DECLINE = "decline"
    ASK = "ask"
    ANSWER = "answer"
    WITHDRAW = "withdraw"
    CORRECT = "correct"
    OUTCOME = "outcome"


class Role(enum.StrEnum):
    PM = "pm"
    DELEGATE = "delegate"  # stands in for an away PM of the project: decides on their behalf
    REQUESTER = "requester"
    MEMBER = "member"


def awaits_meeting_outcome(rec: RequestRecord) -> bool:
    """A request answered with a meeting whose outcome is not recorded yet."""
    open_states = (RequestStatus.DECLINED, RequestStatus.LETTER_DRAFTED, RequestStatus.LETTER_SENT)
    return rec.answered_by_meeting and rec.status in open_states and rec.last_event("outcome_recorded") is None


def awaits_outcome(rec: RequestRecord) -> bool:
    """The client has been answered (a letter sent) or a meeting chosen, and what came of it is not on the
    record yet. After a letter the outcome may be recorded at once, not only once the follow-up falls due:
    the client may reply the next day, and the rule stays a fact of the record alone, so every renderer
    offers the same button whenever it draws."""
    if awaits_meeting_outcome(rec):
        return True
    return (
        not rec.answered_by_meeting
        and rec.status is RequestStatus.LETTER_SENT
        and rec.last_event("outcome_recorded") is None
    )


def needs_scope_change(rec: RequestRecord) -> bool:
    """Approving work the scope does not cover records a scope change (estimate and schedule impact)."""
    return rec.verdict.verdict is not VerdictKind.IN_SCOPE


@dataclass(frozen=True)
class Rule:
    roles: frozenset[Role]
    applies: Callable[[RequestRecord], bool]
    primary: bool  # a button of its own; the others sit in a menu ("More")
    style: str | None = None  # "primary" (go ahead) or "danger" (a refusal), as platforms colour buttons
    form: Callable[[RequestRecord], bool] = lambda rec: True  # whether the action asks for a form first


def _in(statuses: frozenset[RequestStatus]) -> Callable[[RequestRecord], bool]:
    return lambda rec: rec.status in statuses


# Who decides: the project's PMs, and whoever stands in for an away PM of the project.
DECIDERS = frozenset({Role.PM, Role.DELEGATE})
# A question to the requester may be answered while it waits, and after it expired (which reopens it).
ANSWERABLE = frozenset({RequestStatus.NEEDS_INFO, RequestStatus.EXPIRED})

# Which status offers which action, to whom. The order is the order buttons appear in.
RULES: dict[Action, Rule] = {
    Action.APPROVE: Rule(DECIDERS, _in(DECIDABLE), True, "primary", form=needs_scope_change),
    Action.DECLINE: Rule(DECIDERS, _in(DECIDABLE), True, "danger"),
    Action.ASK: Rule(DECIDERS, _in(frozenset({RequestStatus.SUBMITTED, RequestStatus.IN_REVIEW})), True),
    Action.ANSWER: Rule(frozenset({Role.REQUESTER}), _in(ANSWERABLE), True, "primary"),
    Action.OUTCOME: Rule(DECIDERS, awaits_outcome, True, "primary"),
    Action.CORRECT: Rule(frozenset({Role.PM}), lambda rec: rec.status is not RequestStatus.WITHDRAWN, False),
    Action.WITHDRAW: Rule(frozenset({Role.REQUESTER, Role.PM}), _in(OPEN | {RequestStatus.EXPIRED}), False),
}


@dataclass(frozen=True)
class Viewer:
    """Who a view is for: their roles on this request (and who they are, for their language)."""

    roles: frozenset[Role]
    actor: Actor | None = None

    @classmethod
    def review_channel(cls) -> Viewer:
        """The shared card in the project's review channel: it offers what the PMs may do; anyone else's
        click is refused and recorded."""
        return cls(frozenset({Role.PM}))

    @classmethod
    def of(cls, actor: Actor, rec: RequestRecord, project: Project, *, on_behalf_of: Actor | None = None) -> Viewer:
        """`actor`'s view; with `on_behalf_of`, they stand in for that away PM (the service says who:
        `IntakeService.acting_for`)."""
        return cls(roles_of(actor, rec, project, on_behalf_of=on_behalf_of), actor)


def same_person(a: Actor, b: Actor) -> bool:
    if a.platform == b.platform and a.user_id == b.user_id:
        return True
    return bool(a.email and b.email and a.email.lower() == b.email.lower())


def roles_of(
    actor: Actor, rec: RequestRecord, project: Project, *, on_behalf_of: Actor | None = None
) -> frozenset[Role]:
    roles = set()
    if project.is_pm(actor):
        roles.add(Role.PM)
    elif on_behalf_of is not None and project.is_pm(on_behalf_of):
        roles.add(Role.DELEGATE)
    if same_person(actor, rec.requester):
        roles.add(Role.REQUESTER)
    return frozenset(roles or {Role.MEMBER})


def offered(rec: RequestRecord, roles: frozenset[Role]) -> list[Action]:
    """The actions `roles` may take on `rec` now, in button order."""
    return [a for a, rule in RULES.items() if rule.roles & roles and rule.applies(rec)]


def check_move(action: Action, rec: RequestRecord, *, tz: str = "UTC") -> None:
    """Raise `IllegalMove` (or `AlreadyDecided`) when `rec`'s status does not allow `action`; times in `tz`."""
    from .errors import AlreadyDecided

    if RULES[action].applies(rec):
        return
    if rec.status is RequestStatus.WITHDRAWN:
        raise IllegalMove(Phrase("err.withdrawn", ref=rec.ref))
    if action in (Action.APPROVE, Action.DECLINE, Action.ASK) and rec.status in DECIDED:
        d = rec.last_decision
        verb = Phrase("word.approved" if rec.status is RequestStatus.APPROVED else "word.declined")
        if d is not None:
            raise AlreadyDecided(
                Phrase("err.already_decided_by", ref=rec.ref, verb=verb, who=d.actor, at=When(d.at, tz))
            )
        raise AlreadyDecided(Phrase("err.already_decided", ref=rec.ref, verb=verb))
    if action is Action.ASK and rec.status is RequestStatus.NEEDS_INFO:
        raise IllegalMove(Phrase("err.already_asked", ref=rec.ref))
    if action is Action.ANSWER:
        raise IllegalMove(Phrase("err.not_waiting_for_details", ref=rec.ref, status=status_label(rec.status)))
    if action is Action.WITHDRAW:
        raise IllegalMove(Phrase("err.not_open", ref=rec.ref, status=status_label(rec.status)))
    if action is Action.OUTCOME:
        raise IllegalMove(Phrase("err.no_outcome", ref=rec.ref))
    raise IllegalMove(Phrase("err.not_now", ref=rec.ref, status=status_label(rec.status)))


def check_role(
    action: Action, rec: RequestRecord, project: Project, actor: Actor, *, on_behalf_of: Actor | None = None
) -> None:
    """Raise `PermissionDenied` when `actor` may not take `action` on `rec` at all."""
    roles = RULES[action].roles
    if roles & roles_of(actor, rec, project, on_behalf_of=on_behalf_of):
        return
    if roles <= DECIDERS:
        raise PermissionDenied(Phrase("err.only_pms_decide", project=project.name, ref=rec.ref))
    if Role.PM in roles:
        raise PermissionDenied(Phrase("err.only_requester_or_pm", who=rec.requester, ref=rec.ref, project=project.name))
    raise PermissionDenied(Phrase("err.only_requester", who=rec.requester, ref=rec.ref))


def status_label(status: RequestStatus) -> Phrase:
    return Phrase(f"status.{status.value}")


# --- the view -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fact:
    label: str
    value: tuple[Segment, ...]
    link: str | None = None  # the fact is a link to this address (the original message)
    key: str = ""  # what the fact is, for renderers that place it ("due", "escalated"); "" for the rest
    strong: bool = False  # shown in bold: it needs attention now (a decision overdue, an escalation)


@dataclass(frozen=True)
class VerdictView:
    kind: VerdictKind
    headline: str  # "Out of scope (mobile)"
    clause: str  # the quoted clause that decided, shortened
    explanation: str  # why, in a sentence, or ""
    parts: tuple[str, ...]  # for a request of several parts: one line per distinct part
    confidence: str = ""  # how sure the checker is ("Confidence 72%"), or "" when it did not say
    candidates: str = ""  # for "not in the scope": the closest items and exclusions, for the PM to check
    # What a language model said, when the deployment asks one: that it is being asked, that it agrees,
    # that it gave no usable answer (and why), or that the two disagree followed by both verdicts with
    # their clauses. One line each, in this order.
    second: tuple[str, ...] = ()


@dataclass(frozen=True)
class ActionView:
    action: Action
    label: str
    style: str | None
    primary: bool
    opens_form: bool


@dataclass(frozen=True)
class RequestView:
    ref: str
    language: Language
    title: str
    project_name: str
    text: str
    facts: tuple[Fact, ...]
    verdict: VerdictView
    status: tuple[Segment, ...]
    is_open: bool
    actions: tuple[ActionView, ...]
    timezone: str = "UTC"

    @property
    def status_text(self) -> str:
        return plain(self.status)

    def action(self, action: Action) -> ActionView | None:
        return next((a for a in self.actions if a.action is action), None)

    def fact(self, key: str) -> Fact | None:
        return next((f for f in self.facts if f.key == key), None)


def review_view(
    rec: RequestRecord,
    project: Project,
    viewer: Viewer,
    *,
    language: Language | None = None,
    now: datetime | None = None,
) -> RequestView:
    """Everything a platform shows of a request, for `viewer`, in their language. With `now`, a due date
    that has passed reads "overdue" (without it, the due date alone)."""
    lang = language or language_for(project, viewer.actor)
    tz = project.timezone
    facts: list[Fact] = [
        Fact(t(lang, "fact.from"), (rec.requester,)),
        Fact(t(lang, "fact.project"), (project.name,)),
        Fact(t(lang, "fact.recorded"), (When(rec.created_at, tz).render(lang),)),
    ]
    if rec.client_words and rec.client_words != rec.text:
        facts.append(Fact(t(lang, "fact.client_words"), (rec.client_words,)))
    if rec.urgency:
        urgency = t(lang, f"urgency.{rec.urgency}") if f"urgency.{rec.urgency}" in _URGENCY_KEYS else rec.urgency
        facts.append(Fact(t(lang, "fact.urgency"), (urgency,)))
    if rec.requested_date:
        facts.append(Fact(t(lang, "fact.wanted_by"), (Day(rec.requested_date).render(lang),)))
    if rec.source and rec.source.permalink:
        facts.append(Fact(t(lang, "fact.source"), (t(lang, "fact.source_link"),), link=rec.source.permalink))
    facts += time_facts(rec, lang, tz, now)
    actions = tuple(
        ActionView(
            action=a,
            label=t(lang, f"action.{a.value}"),
            style=RULES[a].style,
            primary=RULES[a].primary,
            opens_form=RULES[a].form(rec),
        )
        for a in offered(rec, viewer.roles)
    )
    return RequestView(
        ref=rec.ref,
        language=lang,
        title=t(lang, "card.title", ref=rec.ref),
        project_name=project.name,
        text=rec.text,
        facts=tuple(facts),
        verdict=verdict_view(rec.verdict, lang, project),
        status=status_line(rec, lang, tz),
        is_open=rec.status.is_open,
        actions=actions,
        timezone=tz,
    )


_URGENCY_KEYS = frozenset(f"urgency.{u}" for u in ("low", "normal", "high", "urgent"))


def verdict_headline(v: Verdict, lang: Language, *, word: bool = False) -> str:
    """The verdict with its item: "Out of scope (mobile)"; as a word inside a sentence with `word`."""
    label = t(lang, f"verdict.{'word.' if word else ''}{v.verdict.value}")
    if v.item_id and v.verdict is not VerdictKind.UNLISTED:
        return t(lang, "verdict.with_item", verdict=label, item=v.item_id)
    return label


def verdict_explanation(v: Verdict, lang: Language) -> str:
    if v.why is not None:
        return v.why.render(lang)
    return v.explanation


MAX_PARTS = 5


def verdict_view(v: Verdict, lang: Language, project: Project | None = None) -> VerdictView:
    parts: list[str] = []
    if len(v.parts) > 1:
        seen: set[tuple[str, str | None, str]] = set()
        for p in v.parts:
            key = (p.verdict.value, p.item_id, " ".join(p.text.split()).lower())
            if key in seen:
                continue  # a long request repeats itself: one line per distinct part
            seen.add(key)
            head = verdict_headline(Verdict(p.verdict, p.item_id, p.score, p.clause), lang)
            parts.append(t(lang, "verdict.part", verdict=head, text=shorten(p.text, 120)))
        if len(parts) > MAX_PARTS:
            more = len(parts) - MAX_PARTS
            parts = [*parts[:MAX_PARTS], t(lang, "verdict.more_parts", n=more)]
    candidates = ""
    if v.verdict is VerdictKind.UNLISTED and v.candidates:
        scope = project.scope() if project is not None else None
        named = []
        for item_id in v.candidates:
            item = scope.item(item_id) if scope is not None else None
            named.append(f"{item_id}: {shorten(item.title, 80)}" if item else item_id)
        candidates = t(lang, "verdict.candidates", items=Items(named))
    return VerdictView(
        kind=v.verdict,
        headline=verdict_headline(v, lang),
        clause=shorten(v.clause, 400) if v.clause else "",
        explanation=verdict_explanation(v, lang),
        parts=tuple(parts),
        # How sure the checker is of its verdict (and of the item or exclusion it names). On "not in the
        # scope" it tells a PM whether the request looked like new work or only lacked evidence, in which
        # case the candidates below are worth a look.
        confidence=(t(lang, "verdict.confidence", pct=round(v.confidence * 100)) if v.confidence > 0 else ""),
        candidates=candidates,
        second=second_opinion_lines(v, lang),
    )


def second_opinion_lines(v: Verdict, lang: Language) -> tuple[str, ...]:
    """What the card says about the language model's opinion (see `VerdictView.second`)."""
    s = v.second
    if s is None:
        return ()
    if s.status is OpinionStatus.PENDING:
        return (t(lang, "verdict.model.pending"),)
    if s.status is OpinionStatus.FAILED:
        key = f"verdict.model.reason.{s.reason}"
        reason = t(lang, key) if key in _REASON_KEYS else s.reason
        return (t(lang, "verdict.model.failed", reason=reason),)
    if s.status is OpinionStatus.AGREED:
        return (t(lang, "verdict.model.agrees", pct=round(s.confidence * 100)),)
    if s.model is None or s.checker is None:
        return ()
    head = "verdict.model.disagree_item" if s.model.verdict is s.checker.verdict else "verdict.model.disagree"
    return (
        t(lang, head),
        t(lang, "verdict.model.checker_said", said=_said(s.checker, lang)),
        t(lang, "verdict.model.model_said", said=_said(s.model, lang)),
    )


_REASON_KEYS = frozenset(
    f"verdict.model.reason.{r}"
    for r in (
        "timeout",
        "rate_limited",
        "server_error",
        "unreachable",
        "http_error",
        "refused",
        "malformed",
        "unknown_item",
        "clause_not_found",
        "off",
    )
)


def _said(op: Opinion, lang: Language) -> str:
    return verdict_line(Verdict(op.verdict, op.item_id, 0.0, op.clause), lang)


def verdict_line(v: Verdict, lang: Language) -> str:
    """The verdict in one line with what decided it, for receipts, lists and the record."""
    head = verdict_headline(v, lang, word=True)
    if v.verdict is VerdictKind.UNLISTED and v.extras and (v.why is not None or v.explanation):
        return t(lang, "verdict.line_why", verdict=head, why=verdict_explanation(v, lang).rstrip(".。"))
    if v.clause:
        # The quote ends where the sentence around it goes on ("…: “E-mail only”. The PMs will review it."):
        # its own full stop would make two.
        clause = shorten(v.clause, 160).rstrip().rstrip(".。")
        return t(lang, "verdict.line_clause", verdict=head, clause=clause)
    return head


def status_line(rec: RequestRecord, lang: Language, tz: str = "UTC") -> tuple[Segment, ...]:
    """One line that says where a request stands and who moved it there: the same on every platform."""
    line = _status_line(rec, lang, tz)
    d = rec.last_decision
    if d is not None and d.on_behalf_of is not None and rec.status in _TOLD_FROM_DECISION:
        line += t_rich(lang, "status_line.on_behalf", pm=d.on_behalf_of)
    return line


# Statuses whose line names the last decision's maker (a delegate's decision says for whom).
_TOLD_FROM_DECISION = DECIDED | {RequestStatus.NEEDS_INFO}


def _status_line(rec: RequestRecord, lang: Language, tz: str) -> tuple[Segment, ...]:
    if rec.status is RequestStatus.WITHDRAWN:
        ev = rec.last_event("withdrawn")
        if ev is None:
            return t_rich(lang, "status_line.withdrawn")
        return t_rich(lang, "status_line.withdrawn_by", who=ev.actor, at=When(ev.at, tz))
    if rec.status is RequestStatus.EXPIRED:
        ev = rec.last_event("expired")
        if ev is None:
            return t_rich(lang, "status_line.expired")
        return t_rich(lang, "status_line.expired_at", who=rec.requester, at=When(ev.at, tz))
    d = rec.last_decision
    if d is None or rec.status is RequestStatus.SUBMITTED:
        return t_rich(lang, "status_line.waiting")
    at = When(d.at, tz)
    if rec.status is RequestStatus.IN_REVIEW:
        if d.kind is DecisionKind.NEEDS_INFO:
            return t_rich(lang, "status_line.answered")
        return t_rich(lang, "status_line.waiting")
    if d.kind is DecisionKind.APPROVE:
        key = "status_line.approved_change" if (d.form or {}).get("scope_change") else "status_line.approved"
        return t_rich(lang, key, who=d.actor, at=at)
    if d.kind is DecisionKind.NEEDS_INFO:
        return t_rich(lang, "status_line.asked", who=d.actor, at=at)
    if rec.answered_by_meeting:
        if rec.last_event("outcome_recorded") is not None:
            return t_rich(lang, "status_line.declined_met", who=d.actor, at=at)
        if rec.status is RequestStatus.LETTER_SENT:
            return t_rich(lang, "status_line.declined_invited", who=d.actor, at=at)
        return t_rich(lang, "status_line.declined_meeting", who=d.actor, at=at)
    if rec.status is RequestStatus.LETTER_SENT:
        if rec.last_event("outcome_recorded") is not None:
            return t_rich(lang, "status_line.declined_replied", who=d.actor, at=at)
        return t_rich(lang, "status_line.declined_answered", who=d.actor, at=at)
    return t_rich(lang, "status_line.declined_email", who=d.actor, at=at)


def request_line(rec: RequestRecord, lang: Language, *, tz: str = "UTC", now: datetime | None = None) -> str:
    """A request in one line, for lists; with its due date ("due Tue 8 Dec", "overdue since …") when it has
    one (`tz`: the project's time zone)."""
    line = t(
        lang,
        "list.line",
        ref=rec.ref,
        status=status_label(rec.status),
        verdict=verdict_headline(rec.verdict, lang),
        text=shorten(rec.text, 70),
    )
    note = due_note(rec, lang, tz, now)
    return f"{line} · {note[0]}" if note else line


# --- time: due dates, overdue, escalation -------------------------------------------------------

AWAITING_DECISION = frozenset({RequestStatus.SUBMITTED, RequestStatus.IN_REVIEW})


def day_label(at: datetime, tz: str, lang: Language) -> str:
    """A day as people say it, in the project's zone: "Tue 8 Dec" / "12月8日（周二）"."""
    local = at.astimezone(zone(tz))
    return t(
        lang,
        "time.day",
        weekday=t(lang, f"time.weekday.{local.weekday()}"),
        day=str(local.day),
        month=t(lang, f"time.month.{local.month}"),
    )


def due_kind(rec: RequestRecord) -> str | None:
    """What `rec.due_at` is the deadline of: "decision", "answer", "follow_up", or None (nothing due)."""
    if rec.due_at is None:
        return None
    if rec.status in AWAITING_DECISION:
        return "decision"
    if rec.status is RequestStatus.NEEDS_INFO:
        return "answer"
    if awaits_outcome(rec):
        return "follow_up"
    return None


def is_overdue(rec: RequestRecord, now: datetime | None) -> bool:
    """A decision (or a follow-up) whose due time has passed. An unanswered question expires instead."""
    kind = due_kind(rec)
    return now is not None and rec.due_at is not None and kind in ("decision", "follow_up") and now >= rec.due_at


def due_note(rec: RequestRecord, lang: Language, tz: str, now: datetime | None) -> tuple[str, bool] | None:
    """The due date as a list shows it, and whether it is overdue; None when nothing is due."""
    kind = due_kind(rec)
    if kind is None or rec.due_at is None:
        return None
    day = day_label(rec.due_at, tz, lang)
    if is_overdue(rec, now):
        return t(lang, "list.overdue", day=day), True
    return t(lang, f"list.due.{kind}", day=day), False


def time_facts(rec: RequestRecord, lang: Language, tz: str, now: datetime | None) -> list[Fact]:
    """The due date (bold once overdue) and, for an escalated decision, to whom and when."""
    kind = due_kind(rec)
    if kind is None or rec.due_at is None:
        return []
    day = day_label(rec.due_at, tz, lang)
    overdue = is_overdue(rec, now)
    value = t(lang, "fact.due_overdue", day=day) if overdue else day
    facts = [Fact(t(lang, f"fact.due.{kind}"), (value,), key="due", strong=overdue)]
    escalated = rec.last_event("escalated")
    if kind == "decision" and escalated is not None and escalated.at >= rec.due_at:
        to = Items(str(x) for x in (escalated.data.get("to") or ()))
        facts.append(
            Fact(
                t(lang, "fact.escalated"),
                (t(lang, "fact.escalated_value", to=to, at=When(escalated.at, tz)),),
                key="escalated",
                strong=True,
            )
        )
    return facts


def shorten(text: str, limit: int) -> str:
    """Cut text to `limit` characters (whitespace folded) with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + "…"


__all__ = [
    "AWAITING_DECISION",
    "DECIDABLE",
    "DECIDED",
    "DECIDERS",
    "Action",
    "ActionView",
    "Fact",
    "Items",
    "RequestView",
    "Role",
    "VerdictView",
    "Viewer",
    "awaits_meeting_outcome",
    "awaits_outcome",
    "check_move",
    "check_role",
    "day_label",
    "due_kind",
    "due_note",
    "is_overdue",
    "needs_scope_change",
    "offered",
    "request_line",
    "review_view",
    "roles_of",
    "second_opinion_lines",
    "status_line",
    "time_facts",
    "verdict_line",
]
