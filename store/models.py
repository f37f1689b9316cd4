"""SQLModel tables. One short comment each says what a table is for.

Times are stored timezone-aware (UTC). JSON columns hold the core's own dict forms (`to_dict()`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

TZ = sa.DateTime(timezone=True)


def utc(dt: datetime | None) -> datetime | None:
    """A `TZ` column's value as UTC: SQLite hands back naive datetimes, stored as UTC."""
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def as_utc(dt: datetime) -> datetime:
    """`utc` of a value that is never None."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def table(model: type[SQLModel]) -> sa.Table:
    """The Core table behind a model, for statements the ORM does not express (UPDATE … RETURNING)."""
    return cast(sa.Table, model.__table__)  # type: ignore[attr-defined]  # set by SQLModel's metaclass


def _json(**kw: Any) -> Any:
    # None is written as SQL NULL (no bytes), not as the JSON text 'null'; both read back as None.
    return Field(default=None, sa_column=sa.Column(sa.JSON(none_as_null=True), **kw))


class ProjectRow(SQLModel, table=True):
    """A project: its slug, its request-number prefix and counter, and which scope version is current."""

    __tablename__ = "projects"
    slug: str = Field(primary_key=True, max_length=64)
    ref_prefix: str = Field(max_length=12, sa_column_kwargs={"unique": True})
    current_version: int = 1
    next_number: int = 0
    created_at: datetime = Field(sa_type=TZ)
    updated_at: datetime = Field(sa_type=TZ)


class ProjectVersionRow(SQLModel, table=True):
    """Every loaded version of a project's file; requests point at the version they were judged against."""

    __tablename__ = "project_versions"
    __table_args__ = (sa.UniqueConstraint("slug", "version", name="uq_project_version"),)
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(foreign_key="projects.slug", max_length=64, index=True)
    version: int
    content: dict[str, Any] = _json(nullable=False)
    content_hash: str = Field(max_length=64)
    loaded_at: datetime = Field(sa_type=TZ)
    loaded_by: str = Field(max_length=255)


class RequestRow(SQLModel, table=True):
    """A client request and its current state (its history is in `events`)."""

    __tablename__ = "requests"
    __table_args__ = (
        sa.UniqueConstraint("project", "number", name="uq_request_number"),
        sa.Index("ix_requests_report", "created_at", "project", "verdict_kind", "status", "due_at"),
        # What the lists, the digest and /metrics read (migration 0009).
        sa.Index("ix_requests_project_status_id", "project", "status", "id"),
        sa.Index("ix_requests_requester", "requester_id", "requester_platform", "project", "id"),
        sa.Index("ix_requests_status_due", "status", "due_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(max_length=32, sa_column_kwargs={"unique": True})
    # No index of its own on project, status, requester_id or created_at: each leads a wider index above
    # (uq_request_number, ix_requests_status_due, ix_requests_requester, ix_requests_report; migration 0011).
    project: str = Field(foreign_key="projects.slug", max_length=64)
    number: int
    text: str = Field(sa_type=sa.Text)
    client_words: str = Field(default="", sa_type=sa.Text)
    urgency: str = Field(default="", max_length=64)
    requested_date: date | None = None
    requester_platform: str = Field(max_length=32)
    requester_id: str = Field(max_length=255)
    requester_email: str | None = Field(default=None, max_length=320)
    requester_name: str | None = Field(default=None, max_length=255)
    source: dict[str, Any] | None = _json(nullable=True)
    status: str = Field(max_length=32)
    verdict: dict[str, Any] = _json(nullable=False)
    # The verdict the request was recorded with, once its verdict has changed and its first event refers
    # to the request for it (see `store.compact`; migration 0011). NULL otherwise.
    recorded_verdict: dict[str, Any] | None = _json(nullable=True)
    verdict_kind: str = Field(max_length=16)
    scope_version: int
    decline_form: dict[str, Any] | None = _json(nullable=True)
    created_at: datetime = Field(sa_type=TZ)
    updated_at: datetime = Field(sa_type=TZ)
    due_at: datetime | None = Field(default=None, sa_type=TZ, index=True)  # when what the request waits for falls due


class DecisionRow(SQLModel, table=True):
    """A PM's decision on a request: approve, decline or ask for details, with its form."""

    __tablename__ = "decisions"
    __table_args__ = (
        sa.Index("ix_decisions_report", "at", "project", "kind", "verdict_kind", "waited_seconds"),
        sa.Index(
            "ix_decisions_waited",
            "waited_seconds",
            "at",
            "project",
            sqlite_where=sa.text("waited_seconds IS NOT NULL"),
            postgresql_where=sa.text("waited_seconds IS NOT NULL"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="requests.id", index=True)
    kind: str = Field(max_length=16)
    actor: dict[str, Any] = _json(nullable=False)
    at: datetime = Field(sa_type=TZ)
    note: str = Field(default="", sa_type=sa.Text)
    form: dict[str, Any] | None = _json(nullable=True)
    on_behalf_of: dict[str, Any] | None = _json(nullable=True)  # the away PM a delegate decided for
    # For the reports, read from narrow indexes: the request's project, the verdict the decision was made
    # on, and (on a request's first decision only) the seconds the request waited for it.
    project: str | None = Field(default=None, max_length=64)
    verdict_kind: str | None = Field(default=None, max_length=16)
    waited_seconds: float | None = None


class LetterRow(SQLModel, table=True):
    """The current letter of a declined request and its send status. Its text is in `letter_versions`
    (`version`); rows written before that table hold it here, with its HTML."""

    __tablename__ = "letters"
    request_id: int = Field(foreign_key="requests.id", primary_key=True)
    subject: str = Field(max_length=998)
    body_text: str = Field(sa_type=sa.Text)
    body_html: str = Field(sa_type=sa.Text)
    language: str = Field(max_length=8)
    kind: str = Field(default="decline", max_length=32)
    tone: list[dict[str, Any]] = _json(nullable=False)
    edited: bool = False
    status: str = Field(default="draft", max_length=16)
    sent_at: datetime | None = Field(default=None, sa_type=TZ)
    sent_via: str | None = Field(default=None, max_length=32)
    message_id: str | None = Field(default=None, max_length=255)
    send_error: str | None = Field(default=None, sa_type=sa.Text)
    talking_points: str = Field(default="", sa_type=sa.Text)
    updated_at: datetime = Field(sa_type=TZ)
    version: int | None = None  # the row of `letter_versions` with its text (migration 0010)


class LetterVersionRow(SQLModel, table=True):
    """Each version of a request's letter, written once: the letter and the events that drafted or edited
    it refer to it rather than copy it. Its HTML is made from the text when needed."""

    __tablename__ = "letter_versions"
    request_id: int = Field(foreign_key="requests.id", primary_key=True)
    version: int = Field(primary_key=True)
    subject: str = Field(max_length=998)
    body_text: str = Field(sa_type=sa.Text)
    language: str = Field(max_length=8)
    kind: str = Field(default="decline", max_length=32)
    tone: list[dict[str, Any]] = _json(nullable=False)
    edited: bool = False
    at: datetime = Field(sa_type=TZ)


# The events the reports count (`store.reports`), which alone have an entry in ix_events_letters: a query
# uses that index only when its WHERE holds this very condition.
LETTER_EVENT_KINDS = "kind IN ('letter_sent', 'outcome_recorded')"


class EventRow(SQLModel, table=True):
    """The record: one row per step, append-only (triggers refuse UPDATE and DELETE)."""

    __tablename__ = "events"
    __table_args__ = (
        # The reports count letters sent and outcomes recorded, and only those (migration 0011).
        sa.Index(
            "ix_events_letters",
            "at",
            "project",
            "kind",
            sqlite_where=sa.text(LETTER_EVENT_KINDS),
            postgresql_where=sa.text(LETTER_EVENT_KINDS),
        ),
        sa.Index("ix_events_project_at", "project", "at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    project: str = Field(max_length=64)  # ix_events_project_at serves it (migration 0011)
    request_id: int | None = Field(default=None, foreign_key="requests.id", index=True)
    kind: str = Field(max_length=32)
    at: datetime = Field(sa_type=TZ)
    actor: dict[str, Any] = _json(nullable=False)
    platform: str = Field(max_length=32)
    text: str = Field(default="", sa_type=sa.Text)
    data: dict[str, Any] | None = _json(nullable=True)


class OutboxEntry(SQLModel, table=True):
    """A notice waiting to reach a person, written in the same transaction as the change that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (
        sa.Index("ix_outbox_due", "status", "platform", "available_at"),
        sa.Index("ix_outbox_status_sent", "status", "sent_at"),
        # A request's notices in order, per platform (migration 0001); it serves lookups by ref too (0011).
        sa.Index("ix_outbox_order", "ref", "platform", "status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(sa_type=TZ)
    platform: str = Field(max_length=32)
    kind: str = Field(max_length=32)
    audience: str = Field(max_length=16)
    ref: str | None = Field(default=None, max_length=32)
    project: str | None = Field(default=None, max_length=64)
    recipient: dict[str, Any] | None = _json(nullable=True)
    text: str = Field(default="", sa_type=sa.Text)
    data: dict[str, Any] | None = _json(nullable=True)
    dedupe_key: str | None = Field(default=None, max_length=255, sa_column_kwargs={"unique": True})
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    available_at: datetime = Field(sa_type=TZ)
    lease_owner: str | None = Field(default=None, max_length=128)
    lease_until: datetime | None = Field(default=None, sa_type=TZ)
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    sent_at: datetime | None = Field(default=None, sa_type=TZ)
    result: dict[str, Any] | None = _json(nullable=True)
    # An attempt may have reached the platform without our knowing (a timeout, a dropped connection, a
    # process that died mid-call): the next one looks for the message before posting it again.
    uncertain: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})


class CountRow(SQLModel, table=True):
    """Counts kept up to date as requests, decisions and letters change, for /metrics (reading them
    does not grow with history): requests by platform and verdict ("requests", "slack:unlisted"), and by
    status ("statuses"), decisions by kind, letters by status."""

    __tablename__ = "counts"
    metric: str = Field(primary_key=True, max_length=16)
    key: str = Field(primary_key=True, max_length=64)
    n: int = 0


class PostedMessage(SQLModel, table=True):
    """Where a request's message of one kind was last posted on a platform (a Slack channel and ts, a Teams
    activity id and conversation), kept for later updates of it after its outbox row is pruned."""

    __tablename__ = "posted_messages"
    ref: str = Field(primary_key=True, max_length=32)
    kind: str = Field(primary_key=True, max_length=32)
    platform: str = Field(primary_key=True, max_length=32)
    result: dict[str, Any] = _json(nullable=False)
    posted_at: datetime = Field(sa_type=TZ)


class ExampleRow(SQLModel, table=True):
    """A request whose verdict a PM corrected: later similar requests are judged with it."""

    __tablename__ = "scope_examples"
    id: int | None = Field(default=None, primary_key=True)
    project: str = Field(foreign_key="projects.slug", max_length=64, index=True)
    text: str = Field(sa_type=sa.Text)
    verdict: str = Field(max_length=16)
    item_id: str | None = Field(default=None, max_length=64)
    ref: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(sa_type=TZ)


class ProcessedKey(SQLModel, table=True):
    """Keys of platform deliveries already handled (event ids, activity ids), so retries have one effect."""

    __tablename__ = "processed_keys"
    key: str = Field(primary_key=True, max_length=255)
    at: datetime = Field(sa_type=TZ)


class ConversationRef(SQLModel, table=True):
    """Where a bot can post without being spoken to first (e.g. a Teams conversation reference)."""

    __tablename__ = "conversation_refs"
    platform: str = Field(primary_key=True, max_length=32)
    conversation_id: str = Field(primary_key=True, max_length=512)
    reference: dict[str, Any] = _json(nullable=False)
    updated_at: datetime = Field(sa_type=TZ)


class JobRun(SQLModel, table=True):
    """A scheduled job's run for one period (e.g. a weekly digest): the key makes it run once."""

    __tablename__ = "job_runs"
    job: str = Field(primary_key=True, max_length=128)
    period: str = Field(primary_key=True, max_length=64)
    started_at: datetime = Field(sa_type=TZ)
    worker: str = Field(max_length=128)


class ModelAnswerRow(SQLModel, table=True):
    """A language model's checked answer to one question (a scope version, the PMs' corrections and a
    request's text), so every server process asks it once."""

    __tablename__ = "scope_model_answers"
    key: str = Field(primary_key=True, max_length=64)  # sha256 of the model and the exact prompt
    project: str = Field(max_length=64, index=True)
    scope_version: int
    model: str = Field(max_length=255)
    answer: dict[str, Any] = _json(nullable=False)
    created_at: datetime = Field(sa_type=TZ)


class ScheduledStep(SQLModel, table=True):
    """A step due at a time (a reminder, an escalation, an expiry, a follow-up, a daily summary, the end
    of an absence): claimed with a lease like the outbox, so it runs once whatever runs the server."""

    __tablename__ = "schedule"
    __table_args__ = (sa.Index("ix_schedule_due", "status", "due_at"),)
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    due_at: datetime = Field(sa_type=TZ)
    ref: str | None = Field(default=None, max_length=32, index=True)
    project: str | None = Field(default=None, max_length=64, index=True)
    data: dict[str, Any] | None = _json(nullable=True)
    dedupe_key: str = Field(max_length=255, sa_column_kwargs={"unique": True})
    status: str = Field(default="pending", max_length=16)  # pending | running | done | skipped | cancelled | failed
    attempts: int = 0
    lease_owner: str | None = Field(default=None, max_length=128)
    lease_until: datetime | None = Field(default=None, sa_type=TZ)  # also "not before" for a pending retry
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = Field(sa_type=TZ)
    finished_at: datetime | None = Field(default=None, sa_type=TZ)


class AbsenceRow(SQLModel, table=True):
    """A PM away until a day, with the delegate who stands in for them."""

    __tablename__ = "absences"
    id: int | None = Field(default=None, primary_key=True)
    person: dict[str, Any] = _json(nullable=False)
    delegate: dict[str, Any] = _json(nullable=False)
    until: date
    ends_at: datetime = Field(sa_type=TZ, index=True)
    created_at: datetime = Field(sa_type=TZ)
    set_by: dict[str, Any] = _json(nullable=False)
    ended_at: datetime | None = Field(default=None, sa_type=TZ)


class Refusal(SQLModel, table=True):
    """A signed or authenticated payload refused for where it came from (another Slack workspace, another
    Microsoft tenant), or an account that claimed an e-mail address already seen with another account."""

    __tablename__ = "refusals"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=TZ, index=True)
    platform: str = Field(max_length=32)
    reason: str = Field(max_length=64)
    origin: str = Field(max_length=255)
    user_id: str = Field(max_length=255)
    detail: str = Field(default="", sa_type=sa.Text)


class IdentityBinding(SQLModel, table=True):
    """The account an e-mail address was first seen with on a platform: afterwards only that account
    carries the address (so a PM named by e-mail stays that one person)."""

    __tablename__ = "identity_bindings"
    platform: str = Field(primary_key=True, max_length=32)
    email: str = Field(primary_key=True, max_length=320)
    user_id: str = Field(max_length=255)
    at: datetime = Field(sa_type=TZ)


class WebSessionRow(SQLModel, table=True):
    """A browser signed in to the web page, known by the hash of its cookie (the cookie itself is not kept)."""

    __tablename__ = "web_sessions"
    token_hash: str = Field(primary_key=True, max_length=64)
    actor: dict[str, Any] = _json(nullable=False)
    csrf: str = Field(max_length=64)
    language: str | None = Field(default=None, max_length=8)
    created_at: datetime = Field(sa_type=TZ)
    last_seen_at: datetime = Field(sa_type=TZ, index=True)


class SignInLinkRow(SQLModel, table=True):
    """A one-time sign-in link, known by the hash of its token; used once, within minutes."""

    __tablename__ = "web_signin_links"
    token_hash: str = Field(primary_key=True, max_length=64)
    email: str = Field(max_length=320)
    created_at: datetime = Field(sa_type=TZ)
    expires_at: datetime = Field(sa_type=TZ, index=True)
    used_at: datetime | None = Field(default=None, sa_type=TZ)
