"""Who an e-mail to the client goes to, and the checks on anything that becomes an e-mail header. Pure.

The recipient of a letter is always the project's client contact, or addresses the PM typed and
confirmed: never an address found in the request's text. The PM who declined is copied and is the
Reply-To, so the client's answer reaches a person; the project file's `cc` list is copied too.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import getaddresses
from typing import Any

from .domain import Actor, DecisionKind, Language, MeetingProposal, Project, RequestRecord
from .errors import InvalidInput
from .projectfile import is_email

# C0 controls, DEL, and the Unicode line breaks some mail software also treats as a new line.
HEADER_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")
MAX_TYPED_RECIPIENTS = 10


def check_header_text(value: str, what: str, *, field: str | None = None) -> str:
    """Refuse a value that would break out of its e-mail header (CR, LF or another control character)."""
    if HEADER_CONTROL_RE.search(value):
        shown = value.encode("unicode_escape").decode("ascii")
        raise InvalidInput(
            f"{what} contains a line break or another control character, which cannot go into an e-mail "
            f"header: '{shown}'. Correct it and try again; nothing was sent.",
            field=field,
        )
    return value


@dataclass(frozen=True)
class Mailbox:
    """A display name and an address, both checked for header safety."""

    address: str
    name: str = ""

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>" if self.name else self.address

    def to_dict(self) -> dict[str, str]:
        return {"address": self.address, "name": self.name}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Mailbox:
        return cls(d["address"], d.get("name", ""))


def mailbox(address: str, name: str = "", *, what: str) -> Mailbox:
    """Build a checked mailbox; `what` names the value in the error ("The client contact's name")."""
    check_header_text(name, f"{what} (name)")
    check_header_text(address, f"{what} (address)")
    address = address.strip()
    if not is_email(address):
        raise InvalidInput(f"{what}: '{address}' is not a valid e-mail address.", field="recipients")
    return Mailbox(address, " ".join(name.split()))


def parse_mailbox(text: str, *, what: str) -> Mailbox:
    """Parse `jane@x.example` or `Jane Doe <jane@x.example>` into a checked mailbox."""
    check_header_text(text, what)
    found = getaddresses([text.strip()])
    if len(found) != 1:
        raise InvalidInput(f"{what}: give one address per entry, not '{text}'.", field="recipients")
    name, address = found[0]
    if not address:
        raise InvalidInput(f"{what}: '{text}' is not an e-mail address.", field="recipients")
    return mailbox(address, name, what=what)


@dataclass(frozen=True)
class LetterRecipients:
    to: tuple[Mailbox, ...]
    cc: tuple[Mailbox, ...] = ()
    reply_to: tuple[Mailbox, ...] = ()
    typed: bool = False  # True when the PM typed the addresses instead of using the client contact

    def summary(self) -> str:
        """One line per header, for the PM's confirmation prompt."""
        lines = ["To: " + ", ".join(str(m) for m in self.to)]
        if self.cc:
            lines.append("Cc: " + ", ".join(str(m) for m in self.cc))
        if self.reply_to:
            lines.append("Reply-To: " + ", ".join(str(m) for m in self.reply_to))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "to": [m.to_dict() for m in self.to],
            "cc": [m.to_dict() for m in self.cc],
            "reply_to": [m.to_dict() for m in self.reply_to],
            "typed": self.typed,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LetterRecipients:
        return cls(
            to=tuple(Mailbox.from_dict(m) for m in d.get("to", ())),
            cc=tuple(Mailbox.from_dict(m) for m in d.get("cc", ())),
            reply_to=tuple(Mailbox.from_dict(m) for m in d.get("reply_to", ())),
            typed=bool(d.get("typed", False)),
        )


@dataclass(frozen=True)
class OutgoingMail:
    """Everything a message is built from, frozen when the PM pressed send (stored in the outbox row)."""

    kind: str  # letter | meeting_invite | digest
    token: str  # the send id: the Message-ID's left part
    project: str
    project_name: str
    subject: str
    body_text: str
    body_html: str
    language: Language
    recipients: LetterRecipients
    date: datetime
    ref: str | None = None
    meeting: MeetingProposal | None = None
    timezone: str = "UTC"
    sequence: int = 0  # the how-many-th invitation for this request's meeting (0 for the first)
    extra_headers: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "token": self.token,
            "project": self.project,
            "project_name": self.project_name,
            "subject": self.subject,
            "body_text": self.body_text,
            "body_html": self.body_html,
            "language": self.language.value,
            "recipients": self.recipients.to_dict(),
            "date": self.date.isoformat(),
            "ref": self.ref,
            "meeting": self.meeting.to_dict() if self.meeting else None,
            "timezone": self.timezone,
            "sequence": self.sequence,
            "extra_headers": dict(self.extra_headers),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> OutgoingMail:
        return cls(
            kind=d["kind"],
            token=d["token"],
            project=d["project"],
            project_name=d.get("project_name", d["project"]),
            subject=d["subject"],
            body_text=d["body_text"],
            body_html=d.get("body_html", ""),
            language=Language(d.get("language", "en")),
            recipients=LetterRecipients.from_dict(d["recipients"]),
            date=datetime.fromisoformat(d["date"]),
            ref=d.get("ref"),
            meeting=MeetingProposal.from_dict(d["meeting"]) if d.get("meeting") else None,
            timezone=d.get("timezone", "UTC"),
            sequence=int(d.get("sequence", 0)),
            extra_headers=dict(d.get("extra_headers") or {}),
        )


def client_mailbox(project: Project) -> Mailbox:
    return mailbox(project.client.email, project.client.contact, what="The client contact in the project file")


def declining_pm(rec: RequestRecord) -> Actor | None:
    for d in reversed(rec.decisions):
        if d.kind is DecisionKind.DECLINE:
            return d.actor
    return None


def _pm_mailbox(actor: Actor | None) -> Mailbox | None:
    if actor is None or not actor.email or not is_email(actor.email):
        return None
    return mailbox(actor.email, actor.name or "", what="The PM's e-mail")


def letter_recipients(
    rec: RequestRecord, project: Project, *, sender: Actor, typed: list[str] | None = None
) -> LetterRecipients:
    """Address a request's letter: the client contact (or the PM's typed addresses), the PMs and the cc list."""
    if typed:
        if len(typed) > MAX_TYPED_RECIPIENTS:
            raise InvalidInput(f"Send to at most {MAX_TYPED_RECIPIENTS} addresses.", field="recipients")
        to = tuple(parse_mailbox(t, what="A recipient") for t in typed)
    else:
        to = (client_mailbox(project),)
    pm = _pm_mailbox(declining_pm(rec)) or _pm_mailbox(sender)
    cc: list[Mailbox] = []
    if pm:
        cc.append(pm)
    cc += [mailbox(a, what="An address in the project file's cc list") for a in project.cc]
    return LetterRecipients(to=to, cc=_unique(cc, exclude=to), reply_to=(pm,) if pm else (), typed=bool(typed))


def digest_recipients(project: Project) -> LetterRecipients:
    """Address a client update: the client contact, copied to the cc list; answers go to the PMs."""
    pms = tuple(mailbox(p, what="A PM's address in the project file") for p in project.pms if is_email(p))
    to = (client_mailbox(project),)
    cc = _unique([mailbox(a, what="An address in the project file's cc list") for a in project.cc], exclude=to)
    return LetterRecipients(to=to, cc=cc, reply_to=pms)


def _unique(boxes: list[Mailbox], *, exclude: tuple[Mailbox, ...] = ()) -> tuple[Mailbox, ...]:
    seen = {m.address.lower() for m in exclude}
    out = []
    for m in boxes:
        if m.address.lower() not in seen:
            seen.add(m.address.lower())
            out.append(m)
    return tuple(out)


def new_send_id(ref: str, number: int) -> str:
    """A token naming one send of a letter: its retries share it (and so their Message-ID); a new send does not."""
    return f"{ref.lower()}.{number}.{secrets.token_hex(4)}"


def letter_mail(
    rec: RequestRecord,
    project: Project,
    recipients: LetterRecipients,
    *,
    token: str,
    date: datetime,
    sequence: int = 0,
) -> OutgoingMail:
    """Freeze a request's current letter (or meeting invitation) as the mail to send."""
    letter = rec.letter
    if letter is None:
        raise InvalidInput(f"{rec.ref} has no letter yet.")
    check_header_text(letter.subject, "The letter's subject", field="subject")
    meeting = None
    if letter.kind == "meeting_invite":
        meeting = rec.decline_form.meeting if rec.decline_form else None
        if meeting is None:
            raise InvalidInput(f"{rec.ref} has no proposed meeting time; decline it again with a time.")
    return OutgoingMail(
        kind=letter.kind,
        token=token,
        project=project.slug,
        project_name=project.name,
        subject=letter.subject,
        body_text=letter.body_text,
        body_html=letter.body_html,
        language=letter.language,
        recipients=recipients,
        date=date,
        ref=rec.ref,
        meeting=meeting,
        timezone=project.timezone,
        sequence=sequence,
    )
