"""What the bot says in Slack beyond the shared wording of `bot/messages.py`: people are mentioned
(`<@U123>`) rather than named, and texts are cut to Slack's limits.
"""

from __future__ import annotations

from bot import messages
from bot.domain import Actor, DecisionKind, RequestRecord, RequestStatus

SECTION_LIMIT = 3000  # characters in a section's text
BUTTON_LIMIT = 75
HEADER_LIMIT = 150
TITLE_LIMIT = 24  # modal title, submit and close
FALLBACK_LIMIT = 3000  # our own cap on a message's notification text


def cut(text: str, limit: int) -> str:
    """Cut text to `limit` characters with a "…", keeping line breaks (unlike `messages.shorten`)."""
    text = text.strip()
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + "…"


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def who(actor: Actor) -> str:
    return f"<@{actor.user_id}>" if actor.platform == "slack" else escape(actor.display)


def status_line(rec: RequestRecord) -> str:
    """Where the request stands, as the review card shows it after a decision."""
    d = rec.last_decision
    if rec.status is RequestStatus.WITHDRAWN:
        return messages.status_line(rec) if rec.events else "Withdrawn"
    if d is None or rec.status is RequestStatus.SUBMITTED:
        return "Waiting for a PM's decision"
    if rec.status is RequestStatus.IN_REVIEW:
        if d.kind is DecisionKind.NEEDS_INFO:
            return "Back in review: the requester answered the question"
        return "Waiting for a PM's decision"
    at = messages.when(d.at)
    if d.kind is DecisionKind.APPROVE:
        change = " as a scope change" if (d.form or {}).get("scope_change") else ""
        return f"Approved{change} by {who(d.actor)} at {at}"
    if d.kind is DecisionKind.NEEDS_INFO:
        return f"Waiting for details: {who(d.actor)} asked at {at}"
    how = "in a meeting" if (d.form or {}).get("channel") == "meeting" else "by email"
    if rec.status is RequestStatus.LETTER_SENT:
        return f"Declined by {who(d.actor)} — the client has been answered {how}"
    return f"Declined by {who(d.actor)} — answering the client {how}"


def only_pms(project_name: str) -> str:
    return f"Only the PMs of {project_name} can decide. Your attempt has been recorded."


NOT_RECORDED = (
    ":warning: Your request was *not* recorded: the bot cannot reach its database right now. "
    "Please try again in a minute."
)
NOT_RECORDED_ERROR = (
    ":warning: Your request was *not* recorded: something went wrong on our side. Please try again; "
    "if it keeps failing, tell whoever runs intake-bot."
)
UNAVAILABLE = "The bot cannot reach its database right now. Please try again in a minute."
NOT_SAVED = "Not saved: the bot cannot reach its database right now. Please try again in a minute."
SOMETHING_FAILED = "Something went wrong on our side and nothing was changed. Please try again."
EML_UPLOAD_FAILED = "The .eml file could not be uploaded to Slack just now. Please try again."
EMAIL_NOT_SET_UP = (
    "Sending by e-mail is not set up on this server. Download the .eml, send it from your mail program, "
    "then click Mark as sent."
)
NO_LETTER = "There is no letter to show for this request any more."
LETTER_TOO_LONG_TO_EDIT = (
    "This letter is longer than Slack lets a form hold. Download the .eml and edit it in your mail program."
)


def letter_state_line(letter: dict[str, object], by: Actor | None = None) -> str:
    """Where the letter stands, at the top of the PM's letter message."""
    status = letter.get("status")
    sent_at = str(letter.get("sent_at") or "")[:16].replace("T", " ")
    if status == "sent" and letter.get("sent_via") == "smtp":
        mid = f" (Message-ID {letter['message_id']})" if letter.get("message_id") else ""
        return f":white_check_mark: Sent to the client by e-mail at {sent_at} UTC{mid}"
    if status == "sent":
        via = letter.get("sent_via") or "manual"
        how = {"manual": "by hand", "meeting": "in the meeting"}.get(str(via), f"via {via}")
        person = f" by {who(by)}" if by else ""
        return f":white_check_mark: Marked as sent{person} ({how}) at {sent_at} UTC"
    if status == "queued":
        return ":outbox_tray: Queued: it goes out as soon as the mail server takes it."
    if status == "failed":
        return f":warning: Sending failed: {escape(str(letter.get('send_error') or 'no reason was given'))}. Fix it and send again, or send it by hand."
    if letter.get("edited"):
        return "Draft, edited: only you and the project's PMs can see it."
    return "Draft: only you and the project's PMs can see it. It is never posted in a shared channel."


def answer_prompt(rec: RequestRecord) -> str:
    return f"Answer the question about {rec.ref}. Your answer goes to the PM and the request goes back to review."


def home_intro(is_pm: bool) -> str:
    if is_pm:
        return "Requests waiting for your decision, and the ones you recorded."
    return "The client requests you recorded. Use `/request` in a channel to record a new one."


FORM_NOT_OPENED = "The form could not be opened (Slack took too long). Please click again."
NO_OPEN_REQUESTS = "No open requests."
NEED_ESTIMATE = "Give an effort estimate, e.g. 5 person-days."
NEED_SCHEDULE_IMPACT = "Say what this does to the schedule, even if nothing."


def open_requests_title(project_name: str | None) -> str:
    return f"Open requests: {project_name}" if project_name else "Open requests: every project"


def letter_for_pms_only(project_name: str, ref: str) -> str:
    return f"Only the PMs of {project_name} can see the letter for {ref}."


def letter_already_sent(ref: str) -> str:
    return f"The letter for {ref} was already sent; it cannot be edited any more."


def eml_comment(ref: str) -> str:
    return f"The letter for {ref} as an e-mail draft: open it in your mail program, check it and send it."


def not_waiting_for_details(ref: str, status: str) -> str:
    return f"{ref} is not waiting for details any more (it is {status})."


def recipients_changed(ref: str, summary: str) -> str:
    return f"The recipients of the letter for {ref} changed while the form was open; nothing was sent. Check them again:\n{summary}"


def send_email_intro(ref: str) -> str:
    return f"Send the letter for {ref} to the client by e-mail? It goes to:"
