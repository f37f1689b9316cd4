"""What the bot says in Teams, in one place. Shared wording comes from `bot.messages`; this file holds
only what is specific to Teams (text commands instead of slash commands, cards, the personal chat)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot import messages
from bot.domain import Actor, Decision, DecisionKind, RequestStatus

HELP = """\
I record client requests, check them against the project's agreed scope and help the PMs answer them.

**Commands** (in a channel, @mention me first):
- `request TEXT`: record a client request (`request @project-slug TEXT` names the project)
- `request`: a form to record a request
- `scope`: the project's agreed scope
- `requests`: the open requests
- `answer REF TEXT`: answer a PM's question about a request
- `help`: this list

Only the project's PMs can approve, decline or ask for details, with the buttons on the review card."""

WELCOME = (
    "Hello! I'm intake-bot. When a client asks for something, tell me with `request …` and I'll record it, "
    "check it against the agreed scope and send it to the project's PMs for a decision. "
    "PMs get their decline letters here, in this private chat.\n\n" + HELP
)

UNKNOWN_COMMAND = "I didn't understand that. To record a client request, write `request` and what the client asked for. `help` lists everything."

NOT_A_PM_FORM = "Only the project's PMs can use this form."

REVIEW_CHANNEL_MISSING = (
    "{ref} is recorded, but I can't post it for review yet: I'm not in the review channel of {project}. "
    "Please ask someone to add me to that channel (or @mention me there once); the review card goes out as soon as I'm in."
)

EMAIL_NOT_SET_UP = "Sending email isn't set up on this server. Download the .eml, send it from your own mailbox, then choose Mark as sent."

ANSWER_THANKS = "Thanks: your answer is with the PM and {ref} is back in review."

SORRY = "Sorry, something went wrong on my side while handling that. Please try again in a moment."

UNKNOWN_BUTTON = "That button is not one I know; the card may be from an older version."

NO_REF_ON_CARD = "This card has no request on it."

NEED_ESTIMATE = "Give an effort estimate."

ANSWER_USAGE = "Write `answer REF your answer`, e.g. `answer ACME-12 Only the order list.`"

LETTER_SAVED = "Saved. The tone check above is for your edited text."

LETTER_MARKED_SENT = "Recorded: the client has been answered."

LETTER_QUEUED = "Queued to send by email."


def letter_for_pms_only(project_name: str, ref: str) -> str:
    return f"Only the PMs of {project_name} can see the letter for {ref}."


def no_letter(ref: str) -> str:
    return f"{ref} has no letter."


def question_text(ref: str, request_text: str, question: str, asker: str) -> str:
    return f"{asker} needs more details about {ref} (“{messages.shorten(request_text, 80)}”):\n\n{question}"


def status_from_snapshot(snapshot: dict[str, Any]) -> str:
    """Say where a request stands, from the snapshot dict carried by a notice (no events in it)."""
    status = RequestStatus(snapshot["status"])
    if status is RequestStatus.WITHDRAWN:
        return "Withdrawn"
    decisions = snapshot.get("decisions") or []
    if not decisions or status is RequestStatus.SUBMITTED:
        return "Waiting for a PM's decision"
    d = decisions[-1]
    decision = Decision(
        DecisionKind(d["kind"]),
        Actor.from_dict(d["by"]),
        datetime.fromisoformat(d["at"]),
        d.get("note", ""),
        d.get("form"),
    )
    if status is RequestStatus.IN_REVIEW:
        if decision.kind is DecisionKind.NEEDS_INFO:
            return "Back in review: the requester answered the question"
        return "Waiting for a PM's decision"
    return messages.decision_phrase(decision, status)
