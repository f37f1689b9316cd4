"""Forms, defined once for every platform: which fields a form has, their labels, defaults and limits,
and how the values a person typed become core values (or errors shown beside the fields).

An adapter renders a `FormSpec` in its own way (a Slack modal, an Adaptive Card, questions in the
terminal) and hands back what was typed as a plain `{field id: value}` mapping: text as `str`, several
choices as a list of values, a date as `YYYY-MM-DD`, a date and time as `YYYY-MM-DD HH:MM` in the
project's time zone (or Slack's epoch seconds). `parse_*` read that mapping; nothing here knows a
platform.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from .domain import (
    MAX_REQUEST_CHARS,
    Alternative,
    AlternativeKind,
    Channel,
    DeclineForm,
    Language,
    MeetingProposal,
    Project,
    ReasonCategory,
    RequestRecord,
    ScopeChange,
    VerdictKind,
)
from .errors import FormInvalid
from .text import Items, Phrase, t

MAX_ANSWER_CHARS = 4000
MAX_LETTER_CHARS = 20000
ALT_DETAIL = "alt_detail_"  # + AlternativeKind value: the detail of one alternative


class FieldKind(enum.StrEnum):
    TEXT = "text"
    LONG_TEXT = "long_text"
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"
    DATE = "date"
    DATETIME = "datetime"
    NUMBER = "number"


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class Field:
    id: str
    kind: FieldKind
    label: str
    required: bool = False
    default: str | tuple[str, ...] | None = None
    max_length: int | None = None
    choices: tuple[Choice, ...] = ()
    hint: str = ""
    placeholder: str = ""
    # Shown (and asked, in the terminal) only when another field has this value: (field id, value).
    only_if: tuple[str, str] | None = None
    minimum: int | None = None
    maximum: int | None = None


@dataclass(frozen=True)
class FormSpec:
    """A form: `id` names it (an `Action` value, or "intake", "letter_edit"); `ref` the request it is about."""

    id: str
    ref: str | None
    language: Language
    title: str
    short_title: str  # fits Slack's 24 characters with the ref intact
    intro: str
    submit: str
    fields: tuple[Field, ...]
    timezone: str = "UTC"
    quote: str = ""  # the request's text (or the question being answered), shown above the fields

    def field(self, field_id: str) -> Field | None:
        return next((f for f in self.fields if f.id == field_id), None)


@dataclass(frozen=True)
class IntakeInput:
    text: str
    client_words: str = ""
    urgency: str = ""
    requested_date: date | None = None
    project: str | None = None


@dataclass(frozen=True)
class Correction:
    verdict: VerdictKind
    item_id: str | None
    note: str = ""


# --- reading what was typed ---------------------------------------------------------------------


def text_of(values: Mapping[str, Any], key: str) -> str:
    v = values.get(key)
    if isinstance(v, list | tuple):
        v = ",".join(str(x) for x in v)
    return v.strip() if isinstance(v, str) else ("" if v is None else str(v).strip())


def list_of(values: Mapping[str, Any], key: str) -> list[str]:
    """Several choices: a list, or a comma-separated text (what Adaptive Cards send)."""
    v = values.get(key)
    if isinstance(v, str):
        return [x.strip() for x in v.split(",") if x.strip()]
    if isinstance(v, list | tuple):
        return [str(x).strip() for x in v if str(x).strip()]
    return []


def moment_of(value: str, timezone: str) -> datetime:
    """A date and time as typed: epoch seconds (Slack's picker) or `YYYY-MM-DD HH:MM` in `timezone`."""
    value = value.strip()
    zone = ZoneInfo(timezone)
    if value.isdigit():
        return datetime.fromtimestamp(int(value), tz=UTC).astimezone(zone)
    return datetime.strptime(value.replace("T", " ")[:16], "%Y-%m-%d %H:%M").replace(tzinfo=zone)


def _check_lengths(spec: FormSpec, values: Mapping[str, Any], errors: dict[str, Phrase]) -> None:
    for f in spec.fields:
        if f.max_length and len(text_of(values, f.id)) > f.max_length:
            errors.setdefault(f.id, Phrase("form.err.too_long", limit=f.max_length))


def _raise(errors: dict[str, Phrase]) -> None:
    if errors:
        raise FormInvalid(errors)


# --- the forms ----------------------------------------------------------------------------------


def _request_form(
    form_id: str,
    rec: RequestRecord,
    lang: Language,
    fields: list[Field] | tuple[Field, ...],
    *,
    quote: str | None = None,
    timezone: str = "UTC",
    **intro: Any,
) -> FormSpec:
    """A form about one request, its words from the catalog's `form.<id>.*` keys."""
    return FormSpec(
        id=form_id,
        ref=rec.ref,
        language=lang,
        title=t(lang, f"form.{form_id}.title", ref=rec.ref),
        short_title=t(lang, f"form.{form_id}.short", ref=rec.ref),
        intro=t(lang, f"form.{form_id}.intro", ref=rec.ref, **intro),
        submit=t(lang, f"form.{form_id}.submit"),
        quote=rec.text if quote is None else quote,
        timezone=timezone,
        fields=tuple(fields),
    )


def scope_change_form(rec: RequestRecord, lang: Language, *, timezone: str = "UTC") -> FormSpec:
    """Approving out-of-scope or unlisted work records a scope change: its estimate and schedule impact."""
    fields = [
        Field(
            "estimate",
            FieldKind.TEXT,
            t(lang, "form.approve.estimate"),
            required=True,
            max_length=500,
            placeholder=t(lang, "form.approve.estimate_eg"),
        ),
        Field(
            "schedule_impact",
            FieldKind.TEXT,
            t(lang, "form.approve.schedule"),
            required=True,
            max_length=500,
            placeholder=t(lang, "form.approve.schedule_eg"),
            hint=t(lang, "form.approve.schedule_hint"),
        ),
        Field("note", FieldKind.LONG_TEXT, t(lang, "form.approve.note"), max_length=2000),
    ]
    verdict = Phrase(f"verdict.word.{rec.verdict.verdict.value}")
    return _request_form("approve", rec, lang, fields, timezone=timezone, verdict=verdict)


def parse_scope_change(spec: FormSpec, values: Mapping[str, Any]) -> ScopeChange:
    errors: dict[str, Phrase] = {}
    change = ScopeChange(
        estimate=text_of(values, "estimate"),
        schedule_impact=text_of(values, "schedule_impact"),
        note=text_of(values, "note"),
    )
    errors.update(scope_change_problems(change))
    _check_lengths(spec, values, errors)
    _raise(errors)
    return change


def scope_change_problems(change: ScopeChange | None) -> dict[str, Phrase]:
    """What a scope change lacks: both an estimate and the schedule impact are required."""
    errors: dict[str, Phrase] = {}
    if change is None or not change.estimate.strip():
        errors["estimate"] = Phrase("form.err.need_estimate")
    if change is None or not change.schedule_impact.strip():
        errors["schedule_impact"] = Phrase("form.err.need_schedule")
    return errors


def decline_form(rec: RequestRecord, defaults: DeclineForm, lang: Language, *, timezone: str) -> FormSpec:
    """The decline form, pre-filled: reason, alternatives (each with its detail), a line of understanding,
    email or meeting (with its time and place), and the letter's language."""
    alt_choices = tuple(Choice(k.value, t(lang, f"alternative.{k.value}")) for k in AlternativeKind)
    fields: list[Field] = [
        Field(
            "reason_category",
            FieldKind.CHOICE,
            t(lang, "form.decline.reason"),
            required=True,
            default=defaults.reason_category.value,
            choices=tuple(Choice(c.value, t(lang, f"reason.{c.value}")) for c in ReasonCategory),
        ),
        Field(
            "reason_text",
            FieldKind.LONG_TEXT,
            t(lang, "form.decline.reason_text"),
            required=True,
            default=defaults.reason_text,
            max_length=2000,
            hint=t(lang, "form.decline.reason_hint"),
        ),
        Field(
            "alternatives",
            FieldKind.MULTI_CHOICE,
            t(lang, "form.decline.alternatives"),
            default=tuple(a.kind.value for a in defaults.alternatives),
            choices=alt_choices,
        ),
    ]
    for kind in AlternativeKind:
        detail = next((a.detail for a in defaults.alternatives if a.kind is kind), "")
        fields.append(
            Field(
                ALT_DETAIL + kind.value,
                FieldKind.TEXT,
                t(lang, "form.decline.alt_detail", alternative=Phrase(f"alternative.{kind.value}")),
                default=detail or None,
                max_length=500,
                placeholder=t(lang, f"form.decline.alt_eg.{kind.value}"),
                only_if=("alternatives", kind.value),
            )
        )
    meeting = defaults.meeting
    fields += [
        Field(
            "empathy",
            FieldKind.LONG_TEXT,
            t(lang, "form.decline.empathy"),
            default=defaults.empathy,
            max_length=1000,
        ),
        Field(
            "channel",
            FieldKind.CHOICE,
            t(lang, "form.decline.channel"),
            required=True,
            default=defaults.channel.value,
            choices=(
                Choice(Channel.EMAIL.value, t(lang, "form.decline.by_email")),
                Choice(Channel.MEETING.value, t(lang, "form.decline.by_meeting")),
            ),
        ),
        Field(
            "meeting_start",
            FieldKind.DATETIME,
            t(lang, "form.decline.meeting_start", tz=timezone),
            default=meeting.start.strftime("%Y-%m-%d %H:%M") if meeting else None,
            only_if=("channel", Channel.MEETING.value),
        ),
        Field(
            "meeting_minutes",
            FieldKind.NUMBER,
            t(lang, "form.decline.meeting_minutes"),
            default=str(meeting.duration_minutes if meeting else 30),
            minimum=5,
            maximum=480,
            only_if=("channel", Channel.MEETING.value),
        ),
        Field(
            "meeting_location",
            FieldKind.TEXT,
            t(lang, "form.decline.meeting_location"),
            default=meeting.location if meeting and meeting.location else None,
            max_length=300,
            only_if=("channel", Channel.MEETING.value),
        ),
        Field(
            "language",
            FieldKind.CHOICE,
            t(lang, "form.decline.language"),
            required=True,
            default=(defaults.language or Language.EN).value,
            choices=(Choice(Language.EN.value, "English"), Choice(Language.ZH.value, "中文 (Chinese)")),
        ),
    ]
    return _request_form("decline", rec, lang, fields, timezone=timezone)


def parse_decline(spec: FormSpec, values: Mapping[str, Any]) -> DeclineForm:
    """The decline form as typed. A filled-in detail counts as choosing its alternative, so nobody
    loses what they typed."""
    errors: dict[str, Phrase] = {}
    try:
        category = ReasonCategory(text_of(values, "reason_category"))
    except ValueError:
        errors["reason_category"] = Phrase("form.err.pick_reason")
        category = ReasonCategory.OTHER
    reason = text_of(values, "reason_text")
    if not reason:
        errors["reason_text"] = Phrase("form.err.need_reason")
    chosen = set(list_of(values, "alternatives"))
    unknown = chosen - {k.value for k in AlternativeKind}
    if unknown:
        errors["alternatives"] = Phrase("form.err.pick_alternatives")
    alternatives = tuple(
        Alternative(kind, text_of(values, ALT_DETAIL + kind.value))
        for kind in AlternativeKind
        if kind.value in chosen or text_of(values, ALT_DETAIL + kind.value)
    )
    try:
        channel = Channel(text_of(values, "channel") or Channel.EMAIL.value)
    except ValueError:
        errors["channel"] = Phrase("form.err.pick_channel")
        channel = Channel.EMAIL
    lang_raw = text_of(values, "language")
    language: Language | None = None
    if lang_raw:
        try:
            language = Language(lang_raw)
        except ValueError:
            errors["language"] = Phrase("form.err.pick_language")
    meeting = None
    if channel is Channel.MEETING:
        minutes_raw = text_of(values, "meeting_minutes") or "30"
        try:
            minutes = int(float(minutes_raw))
        except ValueError:
            errors["meeting_minutes"] = Phrase("form.err.minutes")
            minutes = 30
        if not 5 <= minutes <= 480:
            errors["meeting_minutes"] = Phrase("form.err.minutes_range")
        start_raw = text_of(values, "meeting_start")
        location = text_of(values, "meeting_location")
        if any(ch in location for ch in "\r\n"):
            errors["meeting_location"] = Phrase("form.err.one_line")
        if not start_raw:
            errors["meeting_start"] = Phrase("form.err.need_meeting_time")
        else:
            try:
                meeting = MeetingProposal(moment_of(start_raw, spec.timezone), minutes, location)
            except (ValueError, OverflowError, OSError):
                errors["meeting_start"] = Phrase("form.err.meeting_time_format")
    _check_lengths(spec, values, errors)
    _raise(errors)
    return DeclineForm(
        reason_category=category,
        reason_text=reason,
        alternatives=alternatives,
        empathy=text_of(values, "empathy"),
        channel=channel,
        language=language,
        meeting=meeting,
    )


def ask_form(rec: RequestRecord, lang: Language) -> FormSpec:
    question = Field(
        "question", FieldKind.LONG_TEXT, t(lang, "form.ask.question"), required=True, max_length=MAX_ANSWER_CHARS
    )
    return _request_form("ask", rec, lang, [question], who=rec.requester)


def answer_form(rec: RequestRecord, question: str, lang: Language) -> FormSpec:
    answer = Field(
        "answer", FieldKind.LONG_TEXT, t(lang, "form.answer.answer"), required=True, max_length=MAX_ANSWER_CHARS
    )
    return _request_form("answer", rec, lang, [answer], quote=question)


def withdraw_form(rec: RequestRecord, lang: Language) -> FormSpec:
    reason = Field("reason", FieldKind.LONG_TEXT, t(lang, "form.withdraw.reason"), max_length=1000)
    return _request_form("withdraw", rec, lang, [reason])


def correct_form(rec: RequestRecord, project: Project, lang: Language) -> FormSpec:
    # The closest candidates of a "not in the scope" verdict come first: a covered ask the checker was unsure
    # of is, most of the time, about one of them.
    every = (*project.in_scope, *project.out_of_scope)
    known = {it.id for it in every}
    closest = [c for c in rec.verdict.candidates if c in known]  # the scope may have changed since
    first = {c: n for n, c in enumerate(closest)}
    ordered = sorted(every, key=lambda it: first.get(it.id, len(first)))
    items = tuple(Choice(it.id, f"{it.id}: {it.title}"[:75]) for it in ordered)
    fields = [
        Field(
            "verdict",
            FieldKind.CHOICE,
            t(lang, "form.correct.verdict"),
            required=True,
            default=rec.verdict.verdict.value,
            choices=tuple(Choice(v.value, t(lang, f"verdict.{v.value}")) for v in VerdictKind),
        ),
        Field(
            "item",
            FieldKind.CHOICE,
            t(lang, "form.correct.item"),
            default=rec.verdict.item_id,
            choices=items,
            hint=t(lang, "form.correct.item_hint_closest", items=Items(closest))
            if closest
            else t(lang, "form.correct.item_hint"),
        ),
        Field("note", FieldKind.TEXT, t(lang, "form.correct.note"), max_length=500),
    ]
    return _request_form("correct", rec, lang, fields)


def parse_correction(spec: FormSpec, values: Mapping[str, Any]) -> Correction:
    errors: dict[str, Phrase] = {}
    try:
        verdict = VerdictKind(text_of(values, "verdict"))
    except ValueError:
        errors["verdict"] = Phrase("form.err.pick_verdict")
        verdict = VerdictKind.UNLISTED
    _check_lengths(spec, values, errors)
    _raise(errors)
    item = text_of(values, "item") or None
    return Correction(verdict, None if verdict is VerdictKind.UNLISTED else item, text_of(values, "note"))


def outcome_form(rec: RequestRecord, lang: Language) -> FormSpec:
    """What came of the answer to the client: the meeting's outcome, or the client's reply to the letter."""
    meeting = rec.answered_by_meeting
    spec = _request_form(
        "outcome",
        rec,
        lang,
        [
            Field(
                "outcome",
                FieldKind.LONG_TEXT,
                t(lang, "form.outcome.text" if meeting else "form.outcome.letter_text"),
                required=True,
                max_length=MAX_ANSWER_CHARS,
            )
        ],
    )
    if meeting:
        return spec
    return replace(
        spec,
        title=t(lang, "form.outcome.letter_title", ref=rec.ref),
        intro=t(lang, "form.outcome.letter_intro"),
    )


def required_text(values: Mapping[str, Any], field_id: str, missing: str, *, max_length: int) -> str:
    """One required text field: its value, or `FormInvalid` naming it."""
    value = text_of(values, field_id)
    if not value:
        _raise({field_id: Phrase(missing)})
    if len(value) > max_length:
        _raise({field_id: Phrase("form.err.too_long", limit=max_length)})
    return value


URGENCIES = ("low", "normal", "high", "urgent")


def intake_form(
    lang: Language, *, projects: list[Project], chosen: str | None, text: str = "", words: str | None = None
) -> FormSpec:
    """The intake form: what the client asked, their own words, urgency, wanted-by date, and which
    project when there is a choice."""
    fields: list[Field] = []
    if len(projects) > 1:
        fields.append(
            Field(
                "project",
                FieldKind.CHOICE,
                t(lang, "form.intake.project"),
                required=True,
                default=chosen,
                choices=tuple(Choice(p.slug, p.name) for p in projects),
            )
        )
    fields += [
        Field(
            "what",
            FieldKind.LONG_TEXT,
            t(lang, "form.intake.what"),
            required=True,
            default=text or None,
            max_length=MAX_REQUEST_CHARS,
            placeholder=t(lang, "form.intake.what_eg"),
        ),
        Field(
            "client_words",
            FieldKind.LONG_TEXT,
            t(lang, "form.intake.words"),
            default=(text if words is None else words) or None,
            max_length=MAX_REQUEST_CHARS,
            hint=t(lang, "form.intake.words_hint"),
        ),
        Field(
            "urgency",
            FieldKind.CHOICE,
            t(lang, "form.intake.urgency"),
            default="normal",
            choices=tuple(Choice(u, t(lang, f"urgency.{u}")) for u in URGENCIES),
        ),
        Field("requested_date", FieldKind.DATE, t(lang, "form.intake.wanted_by")),
    ]
    return FormSpec(
        id="intake",
        ref=None,
        language=lang,
        title=t(lang, "form.intake.title"),
        short_title=t(lang, "form.intake.short"),
        intro="",
        submit=t(lang, "form.intake.submit"),
        fields=tuple(fields),
    )


def parse_intake(values: Mapping[str, Any]) -> IntakeInput:
    errors: dict[str, Phrase] = {}
    text = text_of(values, "what")
    if not text:
        errors["what"] = Phrase("form.err.need_request")
    elif len(text) > MAX_REQUEST_CHARS:
        errors["what"] = Phrase("form.err.too_long", limit=MAX_REQUEST_CHARS)
    when: date | None = None
    raw = text_of(values, "requested_date")
    if raw:
        try:
            when = date.fromisoformat(raw)
        except ValueError:
            errors["requested_date"] = Phrase("form.err.pick_date")
    urgency = text_of(values, "urgency")
    if urgency and urgency not in URGENCIES:
        errors["urgency"] = Phrase("form.err.pick_urgency")
    _raise(errors)
    return IntakeInput(
        text=text,
        client_words=text_of(values, "client_words"),
        urgency=urgency,
        requested_date=when,
        project=text_of(values, "project") or None,
    )


def letter_edit_form(ref: str, subject: str, body: str, lang: Language) -> FormSpec:
    return FormSpec(
        id="letter_edit",
        ref=ref,
        language=lang,
        title=t(lang, "form.letter.title", ref=ref),
        short_title=t(lang, "form.letter.short", ref=ref),
        intro=t(lang, "form.letter.intro"),
        submit=t(lang, "form.letter.submit"),
        fields=(
            Field(
                "subject",
                FieldKind.TEXT,
                t(lang, "form.letter.subject"),
                required=True,
                default=subject,
                max_length=250,
            ),
            Field(
                "body",
                FieldKind.LONG_TEXT,
                t(lang, "form.letter.body"),
                required=True,
                default=body,
                max_length=MAX_LETTER_CHARS,
            ),
        ),
    )


def with_values(spec: FormSpec, values: Mapping[str, Any]) -> FormSpec:
    """The same form with what was typed as its defaults (to show it again with errors, losing nothing)."""
    fields = []
    for f in spec.fields:
        if f.id in values and values[f.id] not in (None, ""):
            v = values[f.id]
            default: str | tuple[str, ...] = (
                tuple(list_of(values, f.id)) if f.kind is FieldKind.MULTI_CHOICE else text_of(values, f.id)
            )
            if not isinstance(v, str | list | tuple):
                default = str(v)
            fields.append(_replace_default(f, default))
        else:
            fields.append(f)
    return FormSpec(**{**spec.__dict__, "fields": tuple(fields)})


def _replace_default(f: Field, default: str | tuple[str, ...]) -> Field:
    return Field(**{**f.__dict__, "default": default})
