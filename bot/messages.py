"""What the bot says in chat, in one place. Letters to clients live in `bot/letters/` instead.

Every adapter renders these plain-text messages (or builds richer cards from the same facts), so the
wording is reviewed here once for every platform.
"""

from __future__ import annotations

from datetime import datetime

from .domain import Channel, Decision, DecisionKind, Letter, Project, RequestRecord, RequestStatus, Verdict, VerdictKind
from .letters.tone import format_report


def when(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d %H:%M UTC")


def shorten(text: str, limit: int) -> str:
    """Cut text to `limit` characters with an ellipsis, never mid-way through a surrogate pair."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + "…"


def verdict_line(v: Verdict) -> str:
    """The verdict with the clause that decided it, e.g. `out of scope (mobile): “Native iOS and Android apps”`."""
    label = v.verdict.label
    if v.item_id and v.verdict is not VerdictKind.UNLISTED:
        label += f" ({v.item_id})"
    if v.verdict is VerdictKind.UNLISTED and v.extras and v.explanation:
        # An extension: say what it extends and what is extra, rather than quoting the item as if it covered it.
        return f"{label}: {v.explanation[0].lower()}{v.explanation[1:].rstrip('.')}"
    if v.clause:
        return f"{label}: “{shorten(v.clause, 160)}”"
    return label


def receipt(rec: RequestRecord) -> str:
    return f"Recorded {rec.ref}: {verdict_line(rec.verdict)}. The PMs will review it."


def request_line(rec: RequestRecord) -> str:
    return f"{rec.ref} · {rec.status.label} · {rec.verdict.one_line()} · “{shorten(rec.text, 70)}”"


def decision_phrase(d: Decision, status: RequestStatus) -> str:
    who = d.actor.display
    if d.kind is DecisionKind.APPROVE:
        return f"Approved by {who} at {when(d.at)}"
    if d.kind is DecisionKind.NEEDS_INFO:
        return f"Waiting for details: {who} asked at {when(d.at)}"
    channel = (d.form or {}).get("channel", "email")
    how = "in a meeting" if channel == "meeting" else "by email"
    if status is RequestStatus.LETTER_SENT:
        return f"Declined by {who} at {when(d.at)}: the client has been answered {how}"
    return f"Declined by {who} at {when(d.at)}: answering the client {how}"


def status_line(rec: RequestRecord) -> str:
    """One line that says where a request stands and who moved it there."""
    if rec.status is RequestStatus.WITHDRAWN:
        ev = next((e for e in reversed(rec.events) if e.kind == "withdrawn"), None)
        return f"Withdrawn by {ev.actor.display} at {when(ev.at)}" if ev else "Withdrawn"
    d = rec.last_decision
    if d is None or rec.status is RequestStatus.SUBMITTED:
        return "Waiting for a PM's decision"
    if rec.status is RequestStatus.IN_REVIEW:
        return (
            "Back in review: the requester answered the question"
            if d.kind is DecisionKind.NEEDS_INFO
            else "Waiting for a PM's decision"
        )
    if awaits_meeting_outcome(rec) and rec.status is RequestStatus.LETTER_SENT and d.kind is DecisionKind.DECLINE:
        return f"Declined by {d.actor.display} at {when(d.at)}: the client is invited to a meeting about it"
    return decision_phrase(d, rec.status)


def review_text(rec: RequestRecord) -> str:
    lines = [
        f"New client request {rec.ref} from {rec.requester.display}",
        f"“{rec.text}”",
        f"Scope check: {verdict_line(rec.verdict)}",
    ]
    if rec.verdict.parts and len(rec.verdict.parts) > 1:
        for p in rec.verdict.parts:
            lines.append(f"  · {p.verdict.value}{f' ({p.item_id})' if p.item_id else ''}: {shorten(p.text, 80)}")
    if rec.source and rec.source.permalink:
        lines.append(f"Source: {rec.source.permalink}")
    lines.append(f"Status: {status_line(rec)}")
    return "\n".join(lines)


def decided_for_requester(rec: RequestRecord) -> str:
    d = rec.last_decision
    assert d is not None
    if d.kind is DecisionKind.APPROVE:
        extra = ""
        if rec.verdict.verdict is not VerdictKind.IN_SCOPE:
            extra = " as a scope change"
        return f"{d.actor.display} approved {rec.ref}{extra}: “{shorten(rec.text, 90)}”"
    channel = (d.form or {}).get("channel", "email")
    how = "in a meeting" if channel == "meeting" else "by email"
    return (
        f"{d.actor.display} declined {rec.ref} and will answer the client {how}. "
        "Please don't reply to the client about it in chat in the meantime."
    )


def question_for_requester(rec: RequestRecord, question: str, asker: str) -> str:
    return f"{asker} needs more details about {rec.ref} (“{shorten(rec.text, 80)}”):\n{question}\nAnswer with `/answer {rec.ref} …`."


def answer_for_pm(rec: RequestRecord, answer: str, who: str) -> str:
    return f"{who} answered your question about {rec.ref}; it is back in review:\n{answer}"


def withdrawn_text(rec: RequestRecord, who: str) -> str:
    return f"{who} withdrew {rec.ref}: “{shorten(rec.text, 90)}”"


def letter_text(rec: RequestRecord, letter: Letter) -> str:
    head = "Meeting invitation" if letter.kind == "meeting_invite" else "Letter"
    status = {"draft": "draft", "queued": "queued to send", "sent": "sent", "failed": "sending failed"}.get(
        letter.status, letter.status
    )
    lines = [
        f"{head} for {rec.ref} ({letter.language.value}, {status}{', edited' if letter.edited else ''})",
        f"Subject: {letter.subject}",
        "",
        letter.body_text.rstrip(),
        "",
        "Tone check:",
        format_report(letter.tone),
    ]
    if letter.talking_points:
        lines += ["", letter.talking_points.rstrip()]
    if letter.status in ("queued", "sent", "failed"):
        lines += ["", send_status_line(letter)]
    elif letter.send_error:
        lines += ["", f"Last send attempt failed: {letter.send_error}"]
    return "\n".join(lines)


def send_status_line(letter: Letter) -> str:
    """Say in one line where the letter's sending stands: queued, sent (when, how) or failed (why)."""
    if letter.status == "queued":
        return "Send status: queued; it goes out as soon as the mail server takes it."
    if letter.status == "sent":
        how = {"smtp": "by e-mail", "manual": "by hand", "meeting": "in the meeting"}.get(
            letter.sent_via or "", f"via {letter.sent_via}" if letter.sent_via else ""
        )
        at = f" at {when(letter.sent_at)}" if letter.sent_at else ""
        mid = f" (Message-ID {letter.message_id})" if letter.message_id else ""
        return f"Send status: sent{at} {how}{mid}".rstrip() + "."
    if letter.status == "failed":
        return f"Send status: failed: {letter.send_error or 'no reason was given'}"
    return "Send status: not sent yet."


def letter_ready(rec: RequestRecord, letter: Letter) -> str:
    return (
        f"Your letter for {rec.ref} is drafted. Review it, then send it or take it into the meeting.\n\n"
        + letter_text(rec, letter)
    )


def scope_summary(project: Project) -> str:
    lines = [f"{project.name} ({project.slug}), for {project.client.name}, version {project.version}"]
    if project.goals:
        lines.append("Goals:")
        lines += [f"  • {g}" for g in project.goals]
    lines.append("In scope:")
    for it in project.in_scope:
        lines.append(f"  • [{it.id}] {it.title}" + (f": {it.notes}" if it.notes else ""))
    if project.out_of_scope:
        lines.append("Not in scope:")
        for it in project.out_of_scope:
            lines.append(f"  • [{it.id}] {it.title}" + (f": {it.notes}" if it.notes else ""))
    if project.milestones:
        lines.append("Milestones:")
        lines += [f"  • {m.due.isoformat()}  {m.name}" for m in project.milestones]
    if project.capacity:
        lines.append(f"Capacity: {project.capacity}")
    lines.append(f"PMs: {', '.join(project.pms)}")
    return "\n".join(lines)


def timeline(rec: RequestRecord, *, show_letter: bool) -> str:
    lines = [
        f"{rec.ref} · {rec.project} · {rec.status.label}",
        f"“{rec.text}”",
        f"Requested by {rec.requester.display} at {when(rec.created_at)} (scope version {rec.scope_version})",
        f"Scope check: {verdict_line(rec.verdict)}",
    ]
    if rec.verdict.explanation:
        lines.append(f"  {rec.verdict.explanation}")
    if rec.source and rec.source.permalink:
        lines.append(f"Source: {rec.source.permalink}")
    lines.append("Record:")
    for e in rec.events:
        text = f": {shorten(e.text, 100)}" if e.text and e.kind not in ("letter_drafted", "letter_edited") else ""
        lines.append(f"  {when(e.at)}  {e.kind:<17} {e.actor.display} via {e.actor.platform}{text}")
    if rec.letter and show_letter:
        lines += ["", letter_text(rec, rec.letter)]
    elif rec.letter or rec.status in (RequestStatus.LETTER_DRAFTED, RequestStatus.LETTER_SENT):
        lines.append("A letter has been drafted; only the project's PMs can read it.")
    return "\n".join(lines)


# --- e-mail to the client (shared by the terminal, Slack and Teams) -------------------------------

EMAIL_OFF = (
    "Sending e-mail is not set up here (SMTP_URL and INTAKE_MAIL_FROM). "
    "Download the letter as an .eml file and send it from your own mail program, then record it as sent."
)
NOTHING_SENT = "Nothing was sent."


def send_confirmation(rec: RequestRecord, letter: Letter, recipients_summary: str) -> str:
    """Ask the PM to confirm an e-mail to the client, showing exactly who will get it."""
    what = "meeting invitation" if letter.kind == "meeting_invite" else "letter"
    again = " again" if letter.status == "sent" else ""
    return f"Send the {what} for {rec.ref}{again} by e-mail?\nSubject: {letter.subject}\n{recipients_summary}"


def awaits_meeting_outcome(rec: RequestRecord) -> bool:
    """Tell whether a request was answered with a meeting whose outcome is not recorded yet (offer "record outcome")."""
    meeting = rec.decline_form is not None and rec.decline_form.channel is Channel.MEETING
    done = any(e.kind == "outcome_recorded" for e in rec.events)
    open_states = (RequestStatus.DECLINED, RequestStatus.LETTER_DRAFTED, RequestStatus.LETTER_SENT)
    return meeting and not done and rec.status in open_states


def email_outcome_for_sender(rec: RequestRecord, letter: Letter) -> str:
    """Tell the PM who sent the letter how the sending ended."""
    what = "meeting invitation" if letter.kind == "meeting_invite" else "letter"
    if letter.status == "sent":
        return f"Your {what} for {rec.ref} has gone out. {send_status_line(letter)}"
    return (
        f"Your {what} for {rec.ref} could not be sent. {send_status_line(letter)}\n"
        "Fix the cause and send it again, or send it from your own mail program and record it as sent."
    )


def outcome_recorded(rec: RequestRecord) -> str:
    return f"Recorded the outcome of the meeting about {rec.ref}."


def digest_queued(subject: str, open_count: int, decided_count: int) -> str:
    return f"Queued the client update “{subject}” ({open_count} open, {decided_count} recently decided)."
