"""Adaptive Cards (version 1.5) for Teams: pure functions from core data to card JSON.

Buttons are `Action.Execute` (Universal Actions: the click arrives as an `adaptiveCard/action` invoke,
answered within Teams' deadline) with an `Action.Submit` fallback for clients without Universal Actions
(the click then arrives as a message whose `value` holds the data). Both carry the same data,
`{"intake": VERB, "ref": REF}`, merged with the card's inputs, so one handler serves both.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot import messages
from bot.domain import (
    Alternative,
    AlternativeKind,
    Channel,
    DeclineForm,
    Language,
    MeetingProposal,
    ReasonCategory,
    RequestStatus,
    Verdict,
)

from .messages import status_from_snapshot

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"

Card = dict[str, Any]


def card(body: list[dict[str, Any]], actions: list[dict[str, Any]] | None = None) -> Card:
    out: Card = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION, "body": body}
    if actions:
        out["actions"] = actions
    return out


def attachment(c: Card) -> dict[str, Any]:
    return {"contentType": CARD_CONTENT_TYPE, "content": c}


def action(title: str, verb: str, ref: str | None = None, *, style: str | None = None, **extra: Any) -> dict[str, Any]:
    """An Action.Execute with an Action.Submit fallback carrying the same data."""
    data: dict[str, Any] = {"intake": verb, **extra}
    if ref:
        data["ref"] = ref
    submit: dict[str, Any] = {"type": "Action.Submit", "title": title, "data": data}
    execute: dict[str, Any] = {"type": "Action.Execute", "title": title, "verb": verb, "data": data, "fallback": submit}
    if style:
        execute["style"] = submit["style"] = style
    return execute


def text(value: str, **props: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": value, "wrap": True, **props}


def error_block(error: str | None) -> list[dict[str, Any]]:
    return [text(f"⚠ {error}", color="attention", weight="bolder")] if error else []


# --- the review card ---------------------------------------------------------------------------


def review_card(snapshot: dict[str, Any]) -> Card:
    """The card in the review channel, rendered from a request snapshot (`RequestRecord.to_dict`)."""
    ref = snapshot["ref"]
    verdict = Verdict.from_dict(snapshot["verdict"])
    status = RequestStatus(snapshot["status"])
    requester = snapshot["requester"]
    who = requester.get("name") or requester.get("email") or requester.get("user_id")
    body: list[dict[str, Any]] = [
        text(f"Client request {ref}", size="medium", weight="bolder"),
        {
            "type": "FactSet",
            "facts": [
                {"title": "Requested by", "value": who},
                {"title": "Project", "value": snapshot["project"]},
                {"title": "Scope check", "value": verdict.one_line()},
                {"title": "Status", "value": status_from_snapshot(snapshot)},
            ],
        },
        {"type": "Container", "style": "emphasis", "items": [text(snapshot["text"])]},
    ]
    if verdict.clause:
        body.append(text(f"“{messages.shorten(verdict.clause, 300)}”", isSubtle=True, style="default"))
    if verdict.explanation:
        body.append(text(verdict.explanation, isSubtle=True, size="small"))
    if status in (RequestStatus.DECLINED, RequestStatus.LETTER_DRAFTED):
        decisions = snapshot.get("decisions") or []
        in_meeting = bool(decisions) and (decisions[-1].get("form") or {}).get("channel") == "meeting"
        body.append(
            text(
                "The client is being answered in a meeting; the PM has the invitation."
                if in_meeting
                else "The client is being answered by email; the PM has the letter.",
                isSubtle=True,
            )
        )
    actions = None
    if status.is_open:
        actions = [
            action("Approve", "approve", ref, style="positive"),
            action("Decline", "decline", ref, style="destructive"),
            action("Ask for details", "ask", ref),
        ]
    return card(body, actions)


# --- forms -------------------------------------------------------------------------------------


def approve_form(snapshot: dict[str, Any], *, error: str | None = None, values: dict[str, str] | None = None) -> Card:
    """Approving out-of-scope or unlisted work records a scope change: estimate, schedule impact, note."""
    v = values or {}
    ref = snapshot["ref"]
    verdict = Verdict.from_dict(snapshot["verdict"])
    body = [
        text(f"Approve {ref} as a scope change", size="medium", weight="bolder"),
        text(f"{ref} is {verdict.verdict.label}: “{messages.shorten(snapshot['text'], 200)}”"),
        *error_block(error),
        {
            "type": "Input.Text",
            "id": "estimate",
            "label": "Effort estimate",
            "placeholder": "e.g. 3 person-days",
            "isRequired": True,
            "errorMessage": "Give an estimate.",
            "value": v.get("estimate", ""),
        },
        {
            "type": "Input.Text",
            "id": "schedule_impact",
            "label": "Schedule impact",
            "value": v.get("schedule_impact", "none"),
        },
        {"type": "Input.Text", "id": "note", "label": "Note", "isMultiline": True, "value": v.get("note", "")},
    ]
    return card(body, [action("Approve", "approve_submit", ref, style="positive"), action("Cancel", "show", ref)])


def ask_form(snapshot: dict[str, Any], *, error: str | None = None) -> Card:
    ref = snapshot["ref"]
    body = [
        text(f"Ask for details about {ref}", size="medium", weight="bolder"),
        text(f"“{messages.shorten(snapshot['text'], 200)}”"),
        *error_block(error),
        {
            "type": "Input.Text",
            "id": "question",
            "label": "Your question to the requester",
            "isMultiline": True,
            "isRequired": True,
            "errorMessage": "Write the question.",
        },
    ]
    return card(body, [action("Ask", "ask_submit", ref), action("Cancel", "show", ref)])


def decline_form(
    snapshot: dict[str, Any], form: DeclineForm, *, timezone: str = "UTC", error: str | None = None
) -> Card:
    """The decline form, pre-filled (from the service's defaults, or from what the PM typed before an error)."""
    ref = snapshot["ref"]
    meeting = form.meeting
    meeting_date = meeting.start.strftime("%Y-%m-%d") if meeting else ""
    meeting_time = meeting.start.strftime("%H:%M") if meeting else ""
    meeting_minutes = meeting.duration_minutes if meeting else 30
    meeting_location = meeting.location if meeting else ""
    alternatives = ",".join(a.kind.value for a in form.alternatives)
    details = "; ".join(a.detail for a in form.alternatives if a.detail)
    body = [
        text(f"Decline {ref}", size="medium", weight="bolder"),
        text(f"“{messages.shorten(snapshot['text'], 200)}”"),
        text(
            "The client gets a formal letter (or a meeting invitation), drafted for you to review in our private chat."
        ),
        *error_block(error),
        {
            "type": "Input.ChoiceSet",
            "id": "reason_category",
            "label": "Reason",
            "isRequired": True,
            "errorMessage": "Pick a reason.",
            "value": form.reason_category.value,
            "choices": [{"title": c.label, "value": c.value} for c in ReasonCategory],
        },
        {
            "type": "Input.Text",
            "id": "reason_text",
            "label": "The reason, in a sentence or two",
            "isMultiline": True,
            "isRequired": True,
            "errorMessage": "Give the reason.",
            "value": form.reason_text,
            "maxLength": 2000,
        },
        {
            "type": "Input.ChoiceSet",
            "id": "alternatives",
            "label": "Alternatives to offer",
            "isMultiSelect": True,
            "style": "expanded",
            "value": alternatives,
            "choices": [{"title": k.label, "value": k.value} for k in AlternativeKind],
        },
        {
            "type": "Input.Text",
            "id": "alternative_detail",
            "label": "Details of the alternatives (optional)",
            "placeholder": "e.g. about 20 person-days",
            "value": details,
            "maxLength": 500,
        },
        {
            "type": "Input.Text",
            "id": "empathy",
            "label": "A line of understanding",
            "isMultiline": True,
            "value": form.empathy,
            "maxLength": 1000,
        },
        {
            "type": "Input.ChoiceSet",
            "id": "language",
            "label": "Letter language",
            "value": (form.language or Language.EN).value,
            "choices": [{"title": "English", "value": "en"}, {"title": "中文", "value": "zh"}],
        },
        {
            "type": "Input.ChoiceSet",
            "id": "channel",
            "label": "Answer the client",
            "style": "expanded",
            "value": form.channel.value,
            "choices": [
                {"title": "By email (a formal letter)", "value": "email"},
                {"title": "In a meeting (an invitation, and talking points for you)", "value": "meeting"},
            ],
        },
        text(f"For a meeting: when and where ({timezone} time).", isSubtle=True, size="small"),
        {
            "type": "ColumnSet",
            "columns": [
                {
                    "type": "Column",
                    "width": "stretch",
                    "items": [{"type": "Input.Date", "id": "meeting_date", "label": "Date", "value": meeting_date}],
                },
                {
                    "type": "Column",
                    "width": "stretch",
                    "items": [{"type": "Input.Time", "id": "meeting_time", "label": "Time", "value": meeting_time}],
                },
                {
                    "type": "Column",
                    "width": "stretch",
                    "items": [
                        {
                            "type": "Input.Number",
                            "id": "meeting_minutes",
                            "label": "Minutes",
                            "min": 5,
                            "max": 480,
                            "value": meeting_minutes,
                        }
                    ],
                },
            ],
        },
        {"type": "Input.Text", "id": "meeting_location", "label": "Place or video link", "value": meeting_location},
    ]
    return card(
        body,
        [
            action("Decline and draft the letter", "decline_submit", ref, style="destructive"),
            action("Cancel", "show", ref),
        ],
    )


def parse_decline_form(data: dict[str, Any], *, timezone: str = "UTC") -> DeclineForm:
    """Turn the decline form's inputs into a `DeclineForm`; raise `ValueError` naming a bad field."""
    try:
        category = ReasonCategory(str(data.get("reason_category") or ""))
    except ValueError:
        raise ValueError("Pick a reason from the list.") from None
    kinds = [k for k in str(data.get("alternatives") or "").split(",") if k.strip()]
    try:
        alt_kinds = [AlternativeKind(k.strip()) for k in kinds]
    except ValueError:
        raise ValueError("Pick the alternatives from the list.") from None
    detail = str(data.get("alternative_detail") or "").strip()
    alternatives = tuple(Alternative(k, detail if i == 0 else "") for i, k in enumerate(alt_kinds))
    lang = str(data.get("language") or "").strip()
    try:
        language = Language(lang) if lang else None
    except ValueError:
        raise ValueError("Pick English or Chinese for the letter.") from None
    try:
        channel = Channel(str(data.get("channel") or "email"))
    except ValueError:
        raise ValueError("Choose email or a meeting.") from None
    meeting = _parse_meeting(data, timezone) if channel is Channel.MEETING else None
    return DeclineForm(
        reason_category=category,
        reason_text=str(data.get("reason_text") or ""),
        alternatives=alternatives,
        empathy=str(data.get("empathy") or ""),
        channel=channel,
        language=language,
        meeting=meeting,
    )


def typed_decline_form(data: dict[str, Any], defaults: DeclineForm) -> DeclineForm:
    """What the PM typed, as far as it reads, over the defaults: so a form shown again with an error keeps it."""

    def pick(enum: Any, value: Any, fallback: Any) -> Any:
        try:
            return enum(str(value))
        except ValueError:
            return fallback

    kinds = [pick(AlternativeKind, k.strip(), None) for k in str(data.get("alternatives") or "").split(",")]
    detail = str(data.get("alternative_detail") or "")
    return DeclineForm(
        reason_category=pick(ReasonCategory, data.get("reason_category"), defaults.reason_category),
        reason_text=str(data.get("reason_text") if data.get("reason_text") is not None else defaults.reason_text),
        alternatives=tuple(Alternative(k, detail if i == 0 else "") for i, k in enumerate(k for k in kinds if k)),
        empathy=str(data.get("empathy") if data.get("empathy") is not None else defaults.empathy),
        channel=pick(Channel, data.get("channel") or "email", Channel.EMAIL),
        language=pick(Language, data.get("language"), defaults.language),
    )


def _parse_meeting(data: dict[str, Any], timezone: str) -> MeetingProposal:
    day, at = str(data.get("meeting_date") or "").strip(), str(data.get("meeting_time") or "").strip()
    if not day or not at:
        raise ValueError("For a meeting, give its date and time.")
    try:
        start = datetime.strptime(f"{day} {at[:5]}", "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo(timezone))
    except ValueError:
        raise ValueError("Give the meeting's date as YYYY-MM-DD and its time as HH:MM.") from None
    try:
        minutes = int(float(str(data.get("meeting_minutes") or 30)))
    except ValueError:
        raise ValueError("The meeting's length is a number of minutes.") from None
    return MeetingProposal(start, minutes, str(data.get("meeting_location") or "").strip())


def request_form(projects: list[tuple[str, str]], *, error: str | None = None, default: str | None = None) -> Card:
    """`request` alone: a form to record a request; the project is asked only when there is a choice."""
    body: list[dict[str, Any]] = [
        text("Record a client request", size="medium", weight="bolder"),
        *error_block(error),
        {
            "type": "Input.Text",
            "id": "text",
            "label": "What did the client ask for?",
            "isMultiline": True,
            "isRequired": True,
            "errorMessage": "Write the request.",
            "maxLength": 4000,
        },
    ]
    if len(projects) > 1:
        body.append(
            {
                "type": "Input.ChoiceSet",
                "id": "project",
                "label": "Project",
                "isRequired": True,
                "errorMessage": "Pick the project.",
                "value": default or "",
                "choices": [{"title": name, "value": slug} for slug, name in projects],
            }
        )
    return card(body, [action("Record", "request_submit")])


def question_card(ref: str, question_text: str, *, answered: bool = False) -> Card:
    """A PM's question, in the requester's chat with the bot, with a box to answer it."""
    body: list[dict[str, Any]] = [text(question_text)]
    if answered:
        body.append(text("Answered, thank you.", isSubtle=True))
        return card(body)
    body.append(
        {
            "type": "Input.Text",
            "id": "answer",
            "label": "Your answer",
            "isMultiline": True,
            "isRequired": True,
            "errorMessage": "Write your answer.",
        }
    )
    return card(body, [action("Send answer", "answer_submit", ref)])


def message_card(value: str) -> Card:
    return card([text(value)])


# --- the letter, in the PM's personal chat -----------------------------------------------------


def letter_card(
    ref: str,
    letter: dict[str, Any],
    *,
    download_url: str | None = None,
    can_send_email: bool = False,
    talking_points: str = "",
    note: str | None = None,
) -> Card:
    """The drafted letter for the PM: subject, text, tone check; Edit, Download .eml, Mark as sent
    (and Send email when an email sender is configured)."""
    status = letter.get("status", "draft")
    head = "Meeting invitation" if letter.get("kind") == "meeting_invite" else "Letter to the client"
    body: list[dict[str, Any]] = [
        text(f"{head} for {ref}", size="medium", weight="bolder"),
        {
            "type": "FactSet",
            "facts": [
                {"title": "Subject", "value": letter["subject"]},
                {"title": "Language", "value": "中文" if letter.get("language") == "zh" else "English"},
                {"title": "Status", "value": _letter_status(letter)},
            ],
        },
        {"type": "Container", "style": "emphasis", "items": [text(letter["body_text"].rstrip(), fontType="default")]},
        text("Tone check", weight="bolder"),
    ]
    for t in letter.get("tone", []):
        mark = "✓" if t.get("passed") else "✗"
        body.append(
            text(
                f"{mark} {t.get('detail') or t.get('rule')}",
                spacing="none",
                size="small",
                color="good" if t.get("passed") else "warning",
            )
        )
    if talking_points:
        body += [text("Talking points (for you, not the client)", weight="bolder"), text(talking_points)]
    if note:
        body.append(text(note, isSubtle=True))
    actions: list[dict[str, Any]] = []
    if status not in ("sent",):
        actions.append(action("Edit", "letter_edit", ref))
        if download_url:
            actions.append({"type": "Action.OpenUrl", "title": "Download .eml", "url": download_url})
        if can_send_email:
            actions.append(action("Send email", "letter_send", ref))
        actions.append(action("Mark as sent", "letter_sent", ref))
    elif download_url:
        actions.append({"type": "Action.OpenUrl", "title": "Download .eml", "url": download_url})
    return card(body, actions)


def _letter_status(letter: dict[str, Any]) -> str:
    status = letter.get("status", "draft")
    label = {"draft": "draft", "queued": "queued to send", "sent": "sent", "failed": "sending failed"}.get(
        status, status
    )
    if letter.get("edited"):
        label += ", edited"
    if status == "sent" and letter.get("sent_at"):
        label += f" ({letter['sent_at'][:16].replace('T', ' ')} UTC)"
    return label


def letter_edit_form(ref: str, letter: dict[str, Any], *, error: str | None = None) -> Card:
    body = [
        text(f"Edit the letter for {ref}", size="medium", weight="bolder"),
        *error_block(error),
        {
            "type": "Input.Text",
            "id": "subject",
            "label": "Subject",
            "value": letter["subject"],
            "isRequired": True,
            "errorMessage": "The subject cannot be empty.",
        },
        {
            "type": "Input.Text",
            "id": "body",
            "label": "Letter",
            "isMultiline": True,
            "value": letter["body_text"],
            "isRequired": True,
            "errorMessage": "The letter cannot be empty.",
            "maxLength": 20000,
        },
        text("The tone check runs again when you save.", isSubtle=True),
    ]
    return card(body, [action("Save", "letter_edit_submit", ref), action("Cancel", "letter_show", ref)])
