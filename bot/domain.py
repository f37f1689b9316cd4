"""The nouns of intake-bot: projects and their scope, requests, verdicts, decisions, letters, events.

Plain dataclasses with no I/O. `store/` maps them to tables; adapters map them to platform payloads.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from .phrase import Phrase

MAX_REQUEST_CHARS = 4000


def canonical_ref(ref: str) -> str:
    """Refs are stored as PREFIX-N in capitals; people type them any way (` acme-12`)."""
    return ref.strip().upper()


class Language(enum.StrEnum):
    EN = "en"
    ZH = "zh"


class RequestStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    DECLINED = "declined"
    NEEDS_INFO = "needs_info"
    LETTER_DRAFTED = "letter_drafted"
    LETTER_SENT = "letter_sent"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"  # a question to the requester went unanswered; an answer reopens it

    @property
    def is_open(self) -> bool:
        """Open requests still wait for a PM or for the requester."""
        return self in (RequestStatus.SUBMITTED, RequestStatus.IN_REVIEW, RequestStatus.NEEDS_INFO)

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self]


_STATUS_LABELS = {
    RequestStatus.SUBMITTED: "submitted",
    RequestStatus.IN_REVIEW: "in review",
    RequestStatus.APPROVED: "approved",
    RequestStatus.DECLINED: "declined",
    RequestStatus.NEEDS_INFO: "waiting for details",
    RequestStatus.LETTER_DRAFTED: "declined, letter drafted",
    RequestStatus.LETTER_SENT: "declined, client answered",
    RequestStatus.WITHDRAWN: "withdrawn",
    RequestStatus.EXPIRED: "expired, no answer came",
}


class VerdictKind(enum.StrEnum):
    IN_SCOPE = "in_scope"
    OUT_OF_SCOPE = "out_of_scope"
    UNLISTED = "unlisted"

    @property
    def risk(self) -> int:
        """Order used when parts disagree: the riskiest part decides."""
        return {VerdictKind.IN_SCOPE: 0, VerdictKind.UNLISTED: 1, VerdictKind.OUT_OF_SCOPE: 2}[self]

    @property
    def label(self) -> str:
        return {
            VerdictKind.IN_SCOPE: "in scope",
            VerdictKind.OUT_OF_SCOPE: "out of scope",
            VerdictKind.UNLISTED: "not in the scope (new work)",
        }[self]


class DecisionKind(enum.StrEnum):
    APPROVE = "approve"
    DECLINE = "decline"
    NEEDS_INFO = "needs_info"


class ReasonCategory(enum.StrEnum):
    PROJECT_GOALS = "project_goals"
    RESOURCE_LIMITS = "resource_limits"
    TIMELINE = "timeline"
    BUDGET = "budget"
    TECHNICAL = "technical"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            ReasonCategory.PROJECT_GOALS: "Project goals",
            ReasonCategory.RESOURCE_LIMITS: "Resource limits",
            ReasonCategory.TIMELINE: "Timeline",
            ReasonCategory.BUDGET: "Budget",
            ReasonCategory.TECHNICAL: "Technical constraint",
            ReasonCategory.OTHER: "Other",
        }[self]


class AlternativeKind(enum.StrEnum):
    PHASED = "phased"
    CHANGE_REQUEST = "change_request"
    THIRD_PARTY = "third_party"
    REVISIT_LATER = "revisit_later"

    @property
    def label(self) -> str:
        return {
            AlternativeKind.PHASED: "Part now, the rest in a later version",
            AlternativeKind.CHANGE_REQUEST: "A change request with an estimate",
            AlternativeKind.THIRD_PARTY: "A third-party tool or provider",
            AlternativeKind.REVISIT_LATER: "Revisit at a later date",
        }[self]


class Channel(enum.StrEnum):
    EMAIL = "email"
    MEETING = "meeting"


# --- projects and scope -------------------------------------------------------------------------


@dataclass(frozen=True)
class ScopeItem:
    id: str
    title: str
    notes: str = ""


@dataclass(frozen=True)
class Milestone:
    name: str
    due: date


@dataclass(frozen=True)
class Client:
    name: str
    contact: str
    email: str


@dataclass(frozen=True)
class Example:
    """A request a PM has judged: later similar requests are judged with it."""

    text: str
    verdict: VerdictKind
    item_id: str | None = None


@dataclass(frozen=True)
class Scope:
    """What the scope checker sees: the agreed scope of one project, at one version."""

    project: str
    name: str
    language: Language
    goals: tuple[str, ...]
    in_scope: tuple[ScopeItem, ...]
    out_of_scope: tuple[ScopeItem, ...]
    milestones: tuple[Milestone, ...] = ()
    capacity: str = ""
    examples: tuple[Example, ...] = ()

    def item(self, item_id: str | None) -> ScopeItem | None:
        for it in (*self.in_scope, *self.out_of_scope):
            if it.id == item_id:
                return it
        return None


@dataclass(frozen=True)
class Actor:
    """A person acting through one platform. `user_id` is the platform's id (an e-mail on the console)."""

    platform: str
    user_id: str
    email: str | None = None
    name: str | None = None
    # The person's own language setting as their platform reports it ("zh-CN", "en-US"), when it does.
    locale: str | None = field(default=None, compare=False)

    @property
    def display(self) -> str:
        return self.name or self.email or self.user_id

    def to_dict(self) -> dict[str, Any]:
        d = {"platform": self.platform, "user_id": self.user_id, "email": self.email, "name": self.name}
        if self.locale:
            d["locale"] = self.locale
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Actor:
        return cls(
            platform=d["platform"],
            user_id=d["user_id"],
            email=d.get("email"),
            name=d.get("name"),
            locale=d.get("locale"),
        )


SYSTEM = Actor(platform="system", user_id="intake-bot", name="intake-bot")


@dataclass(frozen=True)
class Timing:
    """How a project keeps time: how many working days a decision may take, which days are working days,
    whom an overdue decision is escalated to, when a question and a follow-up fall due, and when each PM
    gets the daily summary (local "HH:MM" in the project's time zone, or None: off). Day counts are
    working days."""

    response_days: int = 2
    working_days: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday is 0
    holidays: tuple[date, ...] = ()
    escalate_to: tuple[str, ...] = ()
    escalate_after_days: int = 2
    needs_info_expires_days: int = 10
    follow_up_days: int = 5
    daily_summary: str | None = "09:00"

    def to_dict(self) -> dict[str, Any]:
        return {
            "response_days": self.response_days,
            "working_days": list(self.working_days),
            "holidays": [d.isoformat() for d in self.holidays],
            "escalate_to": list(self.escalate_to),
            "escalate_after_days": self.escalate_after_days,
            "needs_info_expires_days": self.needs_info_expires_days,
            "follow_up_days": self.follow_up_days,
            "daily_summary": self.daily_summary,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> Timing:
        if not d:
            return cls()
        base = cls()
        return cls(
            response_days=int(d.get("response_days", base.response_days)),
            working_days=tuple(int(x) for x in d.get("working_days", base.working_days)),
            holidays=tuple(date.fromisoformat(x) for x in d.get("holidays", ())),
            escalate_to=tuple(d.get("escalate_to", ())),
            escalate_after_days=int(d.get("escalate_after_days", base.escalate_after_days)),
            needs_info_expires_days=int(d.get("needs_info_expires_days", base.needs_info_expires_days)),
            follow_up_days=int(d.get("follow_up_days", base.follow_up_days)),
            daily_summary=d.get("daily_summary", base.daily_summary),
        )


@dataclass(frozen=True)
class Project:
    slug: str
    name: str
    language: Language
    client: Client
    goals: tuple[str, ...]
    in_scope: tuple[ScopeItem, ...]
    out_of_scope: tuple[ScopeItem, ...]
    milestones: tuple[Milestone, ...]
    capacity: str
    pms: tuple[str, ...]
    ref_prefix: str
    timezone: str = "UTC"
    cc: tuple[str, ...] = ()
    # Platform sections (`slack:`, `teams:`) and `digest:`, validated by the project-file loader.
    platforms: dict[str, dict[str, Any]] = field(default_factory=dict)
    version: int = 0
    # The language the team reads in chat (cards, buttons, forms); None: the project's `language`.
    team_language: Language | None = None
    # Due dates, reminders, escalation and the daily summary (the file's time keys).
    timing: Timing = field(default_factory=Timing)

    @property
    def chat_language(self) -> Language:
        """The language of everything the team reads in chat about this project."""
        return self.team_language or self.language

    def scope(self, examples: tuple[Example, ...] = ()) -> Scope:
        return Scope(
            project=self.slug,
            name=self.name,
            language=self.language,
            goals=self.goals,
            in_scope=self.in_scope,
            out_of_scope=self.out_of_scope,
            milestones=self.milestones,
            capacity=self.capacity,
            examples=examples,
        )

    def is_pm(self, actor: Actor) -> bool:
        """Tell whether `actor` may decide on this project's requests.

        A PM is named in the top-level `pms` (by e-mail or platform user id) or in the `pms` of the
        actor's platform section. E-mails compare case-insensitively.
        """
        names = {p.lower() for p in self.pms}
        section = self.platforms.get(actor.platform) or {}
        names |= {str(p).lower() for p in section.get("pms", ())}
        if actor.email and actor.email.lower() in names:
            return True
        return actor.user_id.lower() in names

    def next_milestone(self, today: date) -> Milestone | None:
        upcoming = sorted((m for m in self.milestones if m.due >= today), key=lambda m: m.due)
        return upcoming[0] if upcoming else None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["language"] = self.language.value
        d["milestones"] = [{"name": m.name, "due": m.due.isoformat()} for m in self.milestones]
        if self.team_language is None:
            d.pop("team_language")  # so a file without the key hashes as it always did
        else:
            d["team_language"] = self.team_language.value
        if self.timing == Timing():
            d.pop("timing")  # likewise: a file without the time keys hashes as it always did
        else:
            d["timing"] = self.timing.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Project:
        return cls(
            slug=d["slug"],
            name=d["name"],
            language=Language(d["language"]),
            client=Client(**d["client"]),
            goals=tuple(d["goals"]),
            in_scope=tuple(ScopeItem(**i) for i in d["in_scope"]),
            out_of_scope=tuple(ScopeItem(**i) for i in d["out_of_scope"]),
            milestones=tuple(Milestone(m["name"], date.fromisoformat(m["due"])) for m in d["milestones"]),
            capacity=d.get("capacity", ""),
            pms=tuple(d["pms"]),
            ref_prefix=d["ref_prefix"],
            timezone=d.get("timezone", "UTC"),
            cc=tuple(d.get("cc", ())),
            platforms=dict(d.get("platforms", {})),
            version=d.get("version", 0),
            team_language=Language(d["team_language"]) if d.get("team_language") else None,
            timing=Timing.from_dict(d.get("timing")),
        )


# --- verdicts -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerdictPart:
    text: str
    verdict: VerdictKind
    item_id: str | None
    score: float
    clause: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "verdict": self.verdict.value,
            "item": self.item_id,
            "score": round(self.score, 3),
            "clause": self.clause,
        }


class OpinionStatus(enum.StrEnum):
    """Where a language model's second opinion on a verdict stands."""

    PENDING = "pending"  # asked (or about to be); the card says it will be updated
    AGREED = "agreed"  # the model gave the same verdict and item
    DISAGREED = "disagreed"  # the model said something else: the card shows both
    FAILED = "failed"  # no usable answer (see `SecondOpinion.reason`): the checker's verdict stands


@dataclass(frozen=True)
class Opinion:
    """One judge's verdict as the card quotes it: the kind, the item or exclusion, the clause."""

    verdict: VerdictKind
    item_id: str | None = None
    clause: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict.value, "item": self.item_id, "clause": self.clause}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Opinion:
        return cls(VerdictKind(d["verdict"]), d.get("item"), str(d.get("clause") or ""))


@dataclass(frozen=True)
class SecondOpinion:
    """What a language model said about a verdict, beside what the offline checker said."""

    status: OpinionStatus
    model: Opinion | None = None  # the model's answer, once it passed every check
    checker: Opinion | None = None  # the offline checker's verdict, kept beside it
    confidence: float = 0.0  # the model's own, as it stated it (not calibrated)
    extras: tuple[str, ...] = ()  # what the model says the request asks beyond its item
    # Why there is no usable answer (FAILED): timeout, rate_limited, server_error, unreachable, http_error,
    # refused, malformed, unknown_item, clause_not_found, off.
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"status": self.status.value}
        if self.model is not None:
            d["model"] = self.model.to_dict()
        if self.checker is not None:
            d["checker"] = self.checker.to_dict()
        if self.confidence:
            d["confidence"] = round(self.confidence, 3)
        if self.extras:
            d["extras"] = list(self.extras)
        if self.reason:
            d["reason"] = self.reason
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SecondOpinion:
        return cls(
            status=OpinionStatus(d["status"]),
            model=Opinion.from_dict(d["model"]) if d.get("model") else None,
            checker=Opinion.from_dict(d["checker"]) if d.get("checker") else None,
            confidence=float(d.get("confidence") or 0.0),
            extras=tuple(str(x) for x in d.get("extras") or ()),
            reason=str(d.get("reason") or ""),
        )


@dataclass(frozen=True)
class Verdict:
    """The scope checker's answer: which kind, which item or exclusion, how sure, and the clause that decided."""

    verdict: VerdictKind
    item_id: str | None
    score: float
    clause: str
    parts: tuple[VerdictPart, ...] = ()
    extras: tuple[str, ...] = ()  # what an extension asks beyond its item ("SMS", "iOS app")
    explanation: str = ""
    # The explanation and the extras as phrases, to be shown in the reader's language (the strings
    # above are their English text, kept for the record and the command line).
    why: Phrase | None = field(default=None, compare=False)
    extra_phrases: tuple[Phrase, ...] = field(default=(), compare=False)
    # How likely the verdict (kind and item) is right, 0..1, calibrated on labelled projects.
    confidence: float = 0.0
    # For an unlisted verdict: the ids of the closest items and exclusions, for the PM to look at.
    candidates: tuple[str, ...] = ()
    # A language model's second opinion, when the deployment asks one (None: it does not, or a PM
    # has corrected the verdict since).
    second: SecondOpinion | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "verdict": self.verdict.value,
            "item": self.item_id,
            "score": round(self.score, 3),
            "clause": self.clause,
            "parts": [p.to_dict() for p in self.parts],
            "extras": list(self.extras),
            "explanation": self.explanation,
            "confidence": round(self.confidence, 3),
            "candidates": list(self.candidates),
        }
        if self.why is not None:
            d["why"] = self.why.to_dict()
        if self.extra_phrases:
            d["extra_phrases"] = [p.to_dict() for p in self.extra_phrases]
        if self.second is not None:
            d["second"] = self.second.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Verdict:
        return cls(
            verdict=VerdictKind(d["verdict"]),
            item_id=d.get("item"),
            score=float(d.get("score", 0.0)),
            clause=d.get("clause", ""),
            parts=tuple(
                VerdictPart(
                    p["text"], VerdictKind(p["verdict"]), p.get("item"), p.get("score", 0.0), p.get("clause", "")
                )
                for p in d.get("parts", ())
            ),
            extras=tuple(d.get("extras", ())),
            explanation=d.get("explanation", ""),
            why=Phrase.from_dict(d["why"]) if d.get("why") else None,
            extra_phrases=tuple(Phrase.from_dict(p) for p in d.get("extra_phrases", ())),
            confidence=float(d.get("confidence", 0.0)),
            candidates=tuple(d.get("candidates", ())),
            second=SecondOpinion.from_dict(d["second"]) if d.get("second") else None,
        )

    def one_line(self) -> str:
        """Say the verdict in one line, for receipts and lists."""
        label = self.verdict.label
        if self.item_id and self.verdict is not VerdictKind.UNLISTED:
            label += f" ({self.item_id})"
        if self.extras:
            label += f"; asks beyond it: {', '.join(self.extras)}"
        return label


# --- decisions, forms, letters ------------------------------------------------------------------


@dataclass(frozen=True)
class Alternative:
    kind: AlternativeKind
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "detail": self.detail}


@dataclass(frozen=True)
class MeetingProposal:
    """A proposed meeting: start in the project's time zone, minutes, and a room or link."""

    start: datetime
    duration_minutes: int = 30
    location: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start.isoformat(), "duration_minutes": self.duration_minutes, "location": self.location}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MeetingProposal:
        return cls(datetime.fromisoformat(d["start"]), int(d.get("duration_minutes", 30)), d.get("location", ""))


@dataclass(frozen=True)
class DeclineForm:
    reason_category: ReasonCategory
    reason_text: str
    alternatives: tuple[Alternative, ...] = ()
    empathy: str = ""
    channel: Channel = Channel.EMAIL
    language: Language | None = None  # None: the project's language
    meeting: MeetingProposal | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "reason_category": self.reason_category.value,
            "reason_text": self.reason_text,
            "alternatives": [a.to_dict() for a in self.alternatives],
            "empathy": self.empathy,
            "channel": self.channel.value,
            "language": self.language.value if self.language else None,
            "meeting": self.meeting.to_dict() if self.meeting else None,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DeclineForm:
        return cls(
            reason_category=ReasonCategory(d["reason_category"]),
            reason_text=d.get("reason_text", ""),
            alternatives=tuple(
                Alternative(AlternativeKind(a["kind"]), a.get("detail", "")) for a in d.get("alternatives", ())
            ),
            empathy=d.get("empathy", ""),
            channel=Channel(d.get("channel", "email")),
            language=Language(d["language"]) if d.get("language") else None,
            meeting=MeetingProposal.from_dict(d["meeting"]) if d.get("meeting") else None,
        )


@dataclass(frozen=True)
class ScopeChange:
    """What a PM records when approving work that was out of scope or unlisted."""

    estimate: str = ""
    schedule_impact: str = ""
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"estimate": self.estimate, "schedule_impact": self.schedule_impact, "note": self.note}


@dataclass(frozen=True)
class Decision:
    kind: DecisionKind
    actor: Actor
    at: datetime
    note: str = ""
    form: dict[str, Any] | None = None  # decline form, scope change, or the question asked
    on_behalf_of: Actor | None = None  # the away PM a delegate decided for

    def to_dict(self) -> dict[str, Any]:
        d = {
            "kind": self.kind.value,
            "by": self.actor.to_dict(),
            "at": self.at.isoformat(),
            "note": self.note,
            "form": self.form,
        }
        if self.on_behalf_of is not None:
            d["on_behalf_of"] = self.on_behalf_of.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Decision:
        return cls(
            DecisionKind(d["kind"]),
            Actor.from_dict(d["by"]),
            datetime.fromisoformat(d["at"]),
            d.get("note", ""),
            d.get("form"),
            Actor.from_dict(d["on_behalf_of"]) if d.get("on_behalf_of") else None,
        )


@dataclass(frozen=True)
class ToneResult:
    rule: str
    passed: bool
    detail: str  # English, for the record
    offending: tuple[str, ...] = ()
    why: Phrase | None = field(default=None, compare=False)  # the detail, to show in the reader's language

    def to_dict(self) -> dict[str, Any]:
        d = {"rule": self.rule, "passed": self.passed, "detail": self.detail, "offending": list(self.offending)}
        if self.why is not None:
            d["why"] = self.why.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ToneResult:
        return cls(
            str(d["rule"]),
            bool(d["passed"]),
            str(d.get("detail", "")),
            tuple(d.get("offending", ())),
            Phrase.from_dict(d["why"]) if d.get("why") else None,
        )


@dataclass(frozen=True)
class Letter:
    subject: str
    body_text: str
    body_html: str
    language: Language
    tone: tuple[ToneResult, ...]
    kind: str = "decline"  # decline | meeting_invite
    edited: bool = False
    status: str = "draft"  # draft | queued | sent | failed
    sent_at: datetime | None = None
    sent_via: str | None = None
    message_id: str | None = None
    send_error: str | None = None
    talking_points: str = ""  # for a meeting: what the PM says, never sent to the client

    @property
    def tone_ok(self) -> bool:
        return all(t.passed for t in self.tone)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Letter:
        """A letter as a notice carries it (`to_dict`, which leaves out the HTML body)."""
        sent_at = d.get("sent_at")
        return cls(
            subject=str(d.get("subject") or ""),
            body_text=str(d.get("body_text") or ""),
            body_html="",
            language=Language(d.get("language") or "en"),
            tone=tuple(ToneResult.from_dict(t) for t in d.get("tone") or ()),
            kind=str(d.get("kind") or "decline"),
            edited=bool(d.get("edited")),
            status=str(d.get("status") or "draft"),
            sent_at=datetime.fromisoformat(sent_at) if sent_at else None,
            sent_via=d.get("sent_via"),
            message_id=d.get("message_id"),
            send_error=d.get("send_error"),
            talking_points=str(d.get("talking_points") or ""),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "body_text": self.body_text,
            "language": self.language.value,
            "kind": self.kind,
            "edited": self.edited,
            "status": self.status,
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
            "sent_via": self.sent_via,
            "message_id": self.message_id,
            "send_error": self.send_error,
            "tone": [t.to_dict() for t in self.tone],
        }


@dataclass(frozen=True)
class Source:
    """Where a request came from: platform, channel, thread, message and a link to it when there is one."""

    platform: str
    channel: str | None = None
    thread: str | None = None
    message_id: str | None = None
    permalink: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> Source | None:
        return cls(**d) if d else None


@dataclass(frozen=True)
class Event:
    """One line of the record. Events are only ever appended."""

    kind: str
    at: datetime
    actor: Actor
    text: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "at": self.at.isoformat(),
            "by": self.actor.to_dict(),
            "platform": self.actor.platform,
            "text": self.text,
            "data": self.data,
        }


# The events a request's snapshot keeps: the ones its status line and its facts are told from.
SNAPSHOT_EVENTS = ("answered", "withdrawn", "outcome_recorded", "escalated", "expired")
# Of those, the ones whose data the snapshot keeps too (an escalation names whom it went to).
SNAPSHOT_DATA = ("escalated",)


@dataclass(frozen=True)
class RequestRecord:
    """A request as a reader sees it: current state and its whole history."""

    ref: str
    project: str
    number: int
    status: RequestStatus
    text: str
    requester: Actor
    verdict: Verdict
    scope_version: int
    created_at: datetime
    source: Source | None = None
    client_words: str = ""
    urgency: str = ""
    requested_date: date | None = None
    decisions: tuple[Decision, ...] = ()
    letter: Letter | None = None
    events: tuple[Event, ...] = ()
    decline_form: DeclineForm | None = None
    # When what the request waits for falls due: the PMs' decision (submitted, in review), the
    # requester's answer (waiting for details), or the follow-up after a letter or meeting. None: nothing.
    due_at: datetime | None = None

    @property
    def last_decision(self) -> Decision | None:
        return self.decisions[-1] if self.decisions else None

    @property
    def answered_by_meeting(self) -> bool:
        """Whether the PM chose to answer the client in a meeting rather than by letter."""
        if self.decline_form is not None:
            return self.decline_form.channel is Channel.MEETING
        d = self.last_decision
        return d is not None and d.kind is DecisionKind.DECLINE and (d.form or {}).get("channel") == "meeting"

    def last_event(self, kind: str) -> Event | None:
        return next((e for e in reversed(self.events) if e.kind == kind), None)

    def snapshot(self) -> dict[str, Any]:
        """The request as a notice carries it to a card or a message: everything a view shows, never the
        letter, and only the events a status line needs (without their text). `from_snapshot` reads it."""
        d = self.to_dict(include_letter=False)
        d.pop("letter", None)
        d["number"] = self.number
        d["events"] = [
            {"kind": e.kind, "at": e.at.isoformat(), "by": e.actor.to_dict()}
            | ({"data": e.data} if e.kind in SNAPSHOT_DATA and e.data else {})
            for e in self.events
            if e.kind in SNAPSHOT_EVENTS
        ]
        d["decline_form"] = self.decline_form.to_dict() if self.decline_form else None
        return d

    @classmethod
    def from_snapshot(cls, d: dict[str, Any]) -> RequestRecord:
        """Rebuild the request a notice carries (see `snapshot`)."""
        requested = d.get("requested_date")
        number = d.get("number")
        if number is None:
            tail = str(d["ref"]).rsplit("-", 1)[-1]
            number = int(tail) if tail.isdigit() else 0
        return cls(
            ref=d["ref"],
            project=d["project"],
            number=int(number),
            status=RequestStatus(d["status"]),
            text=d.get("text", ""),
            requester=Actor.from_dict(d["requester"]),
            verdict=Verdict.from_dict(d["verdict"]),
            scope_version=int(d.get("scope_version") or 0),
            created_at=datetime.fromisoformat(d["created_at"]),
            source=Source.from_dict(d.get("source")),
            client_words=d.get("client_words") or "",
            urgency=d.get("urgency") or "",
            requested_date=date.fromisoformat(requested) if requested else None,
            decisions=tuple(Decision.from_dict(x) for x in d.get("decisions") or ()),
            events=tuple(
                Event(
                    e["kind"],
                    datetime.fromisoformat(e["at"]),
                    Actor.from_dict(e["by"]),
                    e.get("text", ""),
                    dict(e.get("data") or {}),
                )
                for e in d.get("events") or ()
            ),
            decline_form=DeclineForm.from_dict(d["decline_form"]) if d.get("decline_form") else None,
            due_at=datetime.fromisoformat(d["due_at"]) if d.get("due_at") else None,
        )

    def to_dict(self, *, include_letter: bool = True) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "project": self.project,
            "status": self.status.value,
            "text": self.text,
            "requester": self.requester.to_dict(),
            "verdict": self.verdict.to_dict(),
            "decisions": [d.to_dict() for d in self.decisions],
            "letter": self.letter.to_dict() if (self.letter and include_letter) else None,
            "events": [e.to_dict() for e in self.events],
            "scope_version": self.scope_version,
            "created_at": self.created_at.isoformat(),
            "client_words": self.client_words,
            "urgency": self.urgency,
            "requested_date": self.requested_date.isoformat() if self.requested_date else None,
            "source": self.source.to_dict() if self.source else None,
            "due_at": self.due_at.isoformat() if self.due_at else None,
        }


@dataclass(frozen=True)
class Notice:
    """Something that must reach a person, written to the outbox with the state change that caused it.

    `kind` names what it is (review_card, card_update, requester_notice, question, letter_draft, email…);
    `platform` names the adapter that delivers it; `audience` says to whom in platform-neutral terms:
    "review" (the project's review channel), "requester", "person" (then `recipient` is set), or
    "client" (an e-mail to the client, platform "email": `data["mail"]` holds the frozen message).
    `text` is a plain-text rendering every adapter can fall back on; `data` holds the structured content.
    """

    kind: str
    platform: str
    audience: str
    text: str
    ref: str | None = None
    project: str | None = None
    recipient: Actor | None = None
    data: dict[str, Any] = field(default_factory=dict)
    dedupe_key: str | None = None


# --- time: a PM away with a delegate ------------------------------------------------------------


@dataclass(frozen=True)
class Absence:
    """A PM away until a day (`until`, the day they are back), with a delegate who stands in for them:
    reminders go to the delegate, who may decide on the PM's projects. It ends by itself at `ends_at`
    (the start of `until` in the PM's project's time zone), or earlier when the PM comes back."""

    person: Actor
    delegate: Actor
    until: date
    ends_at: datetime
    created_at: datetime
    set_by: Actor
    id: int | None = None
    ended_at: datetime | None = None

    def active(self, at: datetime) -> bool:
        return self.ended_at is None and at < self.ends_at

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "person": self.person.to_dict(),
            "delegate": self.delegate.to_dict(),
            "until": self.until.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "created_at": self.created_at.isoformat(),
            "set_by": self.set_by.to_dict(),
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
        }
