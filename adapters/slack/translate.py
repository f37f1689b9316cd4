"""Pure translations between Slack payloads and the core's nouns. No I/O: tested without a server.

Slack sends slash commands as form bodies, clicks as `block_actions`, modal submissions as
`view_submission` (whose inputs sit in `view.state.values[block_id][action_id]`), and events wrapped in
`event_callback`. These functions turn them into core values, and core errors into modal errors.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain import (
    Actor,
    Alternative,
    AlternativeKind,
    Channel,
    Decision,
    DecisionKind,
    DeclineForm,
    Language,
    MeetingProposal,
    ReasonCategory,
    RequestRecord,
    RequestStatus,
    ScopeChange,
    Source,
    Verdict,
)

PLATFORM = "slack"
MAX_METADATA = 3000  # Slack's limit on a view's private_metadata

_SLUG_PREFIX = re.compile(r"^@([a-z0-9][a-z0-9-]{0,62})(?:\s+|$)(.*)$", re.DOTALL)


# --- identities and sources ---------------------------------------------------------------------


def actor_from_user(user_id: str, user: dict[str, Any] | None = None) -> Actor:
    """Build the actor for a Slack user, with the e-mail and name from `users.info` when known."""
    profile = (user or {}).get("profile") or {}
    email = profile.get("email") or None
    name = (
        profile.get("display_name")
        or profile.get("real_name")
        or (user or {}).get("real_name")
        or (user or {}).get("name")
        or None
    )
    return Actor(PLATFORM, user_id, email=email.lower() if email else None, name=name)


def user_id_of(body: dict[str, Any]) -> str:
    """The user who caused a payload: slash commands carry `user_id`, interactions `user.id`, events `event.user`."""
    if "user_id" in body:
        return str(body["user_id"])
    user = body.get("user")
    if isinstance(user, dict) and user.get("id"):
        return str(user["id"])
    event = body.get("event") or {}
    return str(event.get("user", ""))


def command_source(body: dict[str, Any]) -> Source:
    return Source(PLATFORM, channel=body.get("channel_id") or None)


def message_source(channel: str | None, ts: str | None, thread_ts: str | None, permalink: str | None) -> Source:
    """Where a recorded Slack message lives. Replies keep their parent as the thread."""
    return Source(PLATFORM, channel=channel, thread=thread_ts or ts, message_id=ts, permalink=permalink)


def event_key(body: dict[str, Any]) -> str | None:
    """The idempotency key of an Events API delivery (retries carry the same `event_id`)."""
    event_id = body.get("event_id")
    return f"slack:event:{event_id}" if body.get("type") == "event_callback" and event_id else None


# --- slash commands -----------------------------------------------------------------------------


def parse_project_prefix(text: str) -> tuple[str | None, str]:
    """Split `@project-slug rest of text` into the slug and the rest; no prefix gives (None, text)."""
    text = (text or "").strip()
    m = _SLUG_PREFIX.match(text)
    if not m:
        return None, text
    return m.group(1), m.group(2).strip()


# --- modal state --------------------------------------------------------------------------------


def view_values(view: dict[str, Any]) -> dict[str, Any]:
    """Flatten a submitted view's state into {block_id: value}, whatever the input element."""
    out: dict[str, Any] = {}
    for block_id, actions in ((view.get("state") or {}).get("values") or {}).items():
        for element in actions.values():
            out[block_id] = _element_value(element)
    return out


def _element_value(e: dict[str, Any]) -> Any:
    kind = e.get("type")
    if kind in ("static_select", "radio_buttons", "external_select"):
        opt = e.get("selected_option")
        return opt.get("value") if opt else None
    if kind in ("checkboxes", "multi_static_select"):
        return [o.get("value") for o in e.get("selected_options") or []]
    if kind == "datepicker":
        return e.get("selected_date")
    if kind == "datetimepicker":
        return e.get("selected_date_time")
    if kind == "users_select":
        return e.get("selected_user")
    return e.get("value")


def _text(values: dict[str, Any], key: str) -> str:
    v = values.get(key)
    return v.strip() if isinstance(v, str) else ""


def dump_metadata(data: dict[str, Any]) -> str:
    """Encode a modal's private_metadata. Only ids go in, so it always fits Slack's 3000 characters."""
    text = json.dumps({k: v for k, v in data.items() if v is not None}, separators=(",", ":"))
    if len(text) > MAX_METADATA:
        raise ValueError("private_metadata is over Slack's 3000-character limit")
    return text


def load_metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


@dataclass(frozen=True)
class IntakeInput:
    text: str
    client_words: str = ""
    urgency: str = ""
    requested_date: date | None = None
    project: str | None = None


def intake_from_view(values: dict[str, Any]) -> tuple[IntakeInput | None, dict[str, str]]:
    """Read the intake modal. Returns the input, or the errors to show beside the fields."""
    errors: dict[str, str] = {}
    text = _text(values, "what")
    if not text:
        errors["what"] = "Write what the client asked for."
    when: date | None = None
    raw = values.get("requested_date")
    if raw:
        try:
            when = date.fromisoformat(raw)
        except ValueError:
            errors["requested_date"] = "Pick a date from the calendar."
    if errors:
        return None, errors
    return (
        IntakeInput(
            text=text,
            client_words=_text(values, "client_words"),
            urgency=values.get("urgency") or "",
            requested_date=when,
            project=values.get("project") or None,
        ),
        {},
    )


def scope_change_from_view(values: dict[str, Any]) -> ScopeChange:
    return ScopeChange(
        estimate=_text(values, "estimate"), schedule_impact=_text(values, "schedule_impact"), note=_text(values, "note")
    )


@dataclass
class DeclineInput:
    form: DeclineForm | None
    errors: dict[str, str] = field(default_factory=dict)


ALTERNATIVE_DETAIL_BLOCK = "alt_detail_"


def decline_form_from_view(values: dict[str, Any], *, timezone: str = "UTC") -> DeclineInput:
    """Read the decline modal into a `DeclineForm`, or say which fields are wrong.

    A filled-in detail counts as choosing its alternative, so nobody loses what they typed.
    """
    errors: dict[str, str] = {}
    category_raw = values.get("reason_category")
    try:
        category = ReasonCategory(str(category_raw))
    except ValueError:
        errors["reason_category"] = "Pick a reason category."
        category = ReasonCategory.OTHER
    reason = _text(values, "reason_text")
    if not reason:
        errors["reason_text"] = "Give the reason in a sentence or two: the client deserves a clear one."
    chosen = set(values.get("alternatives") or [])
    alternatives = []
    for kind in AlternativeKind:
        detail = _text(values, ALTERNATIVE_DETAIL_BLOCK + kind.value)
        if kind.value in chosen or detail:
            alternatives.append(Alternative(kind, detail))
    channel_raw = values.get("channel") or Channel.EMAIL.value
    channel = Channel(channel_raw) if channel_raw in {c.value for c in Channel} else Channel.EMAIL
    language_raw = values.get("language")
    language = Language(language_raw) if language_raw in {lang.value for lang in Language} else None
    meeting = None
    if channel is Channel.MEETING:
        start_raw = values.get("meeting_start")
        duration_raw = _text(values, "meeting_minutes") or "30"
        try:
            duration = int(duration_raw)
        except ValueError:
            errors["meeting_minutes"] = "Give the length in minutes, e.g. 30."
            duration = 30
        if not start_raw:
            errors["meeting_start"] = "A meeting needs a proposed time."
        else:
            start = datetime.fromtimestamp(int(start_raw), tz=UTC).astimezone(ZoneInfo(timezone))
            meeting = MeetingProposal(start, duration, _text(values, "meeting_location"))
    if errors:
        return DeclineInput(None, errors)
    form = DeclineForm(
        reason_category=category,
        reason_text=reason,
        alternatives=tuple(alternatives),
        empathy=_text(values, "empathy"),
        channel=channel,
        language=language,
        meeting=meeting,
    )
    return DeclineInput(form)


# Core `InvalidInput.field` → the modal block that shows the error.
FIELD_BLOCKS = {
    "text": "what",
    "project": "project",
    "question": "question",
    "answer": "answer",
    "reason_category": "reason_category",
    "reason_text": "reason_text",
    "empathy": "empathy",
    "alternatives": "alternatives",
    "meeting": "meeting_start",
    "body": "body",
    "subject": "subject",
}


def errors_for(field_name: str | None, message: str, *, blocks: list[str], default: str) -> dict[str, str]:
    """Place a core error beside the field it names, or beside `default` when the modal has no such field."""
    block = FIELD_BLOCKS.get(field_name or "", default)
    return {block if block in blocks else default: _limit_error(message)}


def _limit_error(message: str) -> str:
    # Slack shows at most 150 characters of a field error (longer ones are rejected).
    return message if len(message) <= 150 else message[:149].rstrip() + "…"


# --- notices ------------------------------------------------------------------------------------


def record_from_snapshot(d: dict[str, Any]) -> RequestRecord:
    """Rebuild the request from a notice's snapshot (`RequestRecord.to_dict` without letter and events)."""
    decisions = tuple(
        Decision(
            DecisionKind(x["kind"]),
            Actor.from_dict(x["by"]),
            datetime.fromisoformat(x["at"]),
            x.get("note", ""),
            x.get("form"),
        )
        for x in d.get("decisions") or ()
    )
    requested = d.get("requested_date")
    return RequestRecord(
        ref=d["ref"],
        project=d["project"],
        number=int(str(d["ref"]).rsplit("-", 1)[-1]) if str(d["ref"]).rsplit("-", 1)[-1].isdigit() else 0,
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
        decisions=decisions,
    )


def retry_after_seconds(headers: Any) -> float | None:
    """Read `Retry-After` from a response's headers (any capitalisation); None when absent or unreadable."""
    if not headers:
        return None
    for k, v in dict(headers).items():
        if str(k).lower() == "retry-after":
            value = v[0] if isinstance(v, list | tuple) else v
            try:
                return max(0.0, float(value))
            except (TypeError, ValueError):
                return None
    return None
