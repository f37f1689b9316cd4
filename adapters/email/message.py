"""Letters and client updates as RFC 5322 messages (`email.message.EmailMessage`), and meeting invites (.ics).

Pure converters: what to send (an `OutgoingMail`, kept in the outbox row so every retry builds the
same message with the same Message-ID and Date) in, a message out. Every value that reaches a header
is checked for CR, LF and other control characters first, so a name or subject from a project file
or a form can never add a header of its own.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, timedelta
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any
from zoneinfo import ZoneInfo

import icalendar

from bot.domain import Language
from bot.errors import InvalidInput
from bot.mailing import Mailbox, OutgoingMail, check_header_text, parse_mailbox

REF_LINE = {Language.EN: "Reference: {ref}", Language.ZH: "需求编号：{ref}"}


def parse_mail_from(value: str) -> Mailbox:
    """Parse INTAKE_MAIL_FROM (`Acme Projects <projects@acme.example>`); raise InvalidInput if it is unusable."""
    return parse_mailbox(value, what="INTAKE_MAIL_FROM")


def message_id(token: str, sender: Mailbox) -> str:
    """The Message-ID of one send: the token is stable across retries, the domain is the sender's."""
    check_header_text(token, "The message token")
    return f"<{token}@{sender.address.rsplit('@', 1)[1]}>"


def _address(box: Mailbox, what: str) -> Address:
    check_header_text(box.name, f"{what} (name)")
    check_header_text(box.address, f"{what} (address)")
    try:
        return Address(display_name=box.name, addr_spec=box.address)
    except (ValueError, IndexError) as exc:
        raise InvalidInput(f"{what}: '{box.address}' is not a usable e-mail address ({exc}).") from None


def _set(msg: EmailMessage, name: str, value: Any, what: str) -> None:
    if isinstance(value, str):
        check_header_text(value, what)
    msg[name] = value


def build_message(mail: OutgoingMail, *, sender: Mailbox) -> EmailMessage:
    """Build the message: headers, text and HTML alternatives, and for a meeting the calendar invite."""
    rcpt = mail.recipients
    if not rcpt.to:
        raise InvalidInput("The message has no recipient.")
    msg = EmailMessage(policy=policy.default)
    msg["From"] = _address(sender, "INTAKE_MAIL_FROM")
    msg["To"] = [_address(m, "A recipient") for m in rcpt.to]
    if rcpt.cc:
        msg["Cc"] = [_address(m, "A copied address") for m in rcpt.cc]
    if rcpt.reply_to:
        msg["Reply-To"] = [_address(m, "The Reply-To address") for m in rcpt.reply_to]
    _set(msg, "Subject", mail.subject, "The subject")
    msg["Date"] = format_datetime(mail.date.astimezone(UTC))
    msg["Message-ID"] = message_id(mail.token, sender)
    if mail.ref:
        _set(msg, "X-Intake-Request", mail.ref, "The request ref")
    _set(msg, "X-Intake-Project", mail.project, "The project slug")
    for name, value in mail.extra_headers.items():
        _set(msg, name, value, f"The {name} header")

    text = mail.body_text.rstrip() + "\n"
    if mail.ref and mail.ref not in text:
        text += "\n" + REF_LINE[mail.language].format(ref=mail.ref) + "\n"
    cte = "quoted-printable" if mail.language is Language.EN else "base64"
    msg.set_content(text, subtype="plain", charset="utf-8", cte=cte)
    if mail.body_html:
        msg.add_alternative(mail.body_html, subtype="html", charset="utf-8", cte=cte)
    if mail.meeting is not None:
        ics = meeting_ics(mail, sender=sender)
        # Calendar clients look for the invite as an alternative part; people see it as an attachment.
        msg.add_alternative(ics.decode("utf-8"), subtype="calendar", charset="utf-8", params={"method": "REQUEST"})
        msg.make_mixed()
        msg.add_attachment(
            ics, maintype="text", subtype="calendar", filename="invite.ics", params={"method": "REQUEST"}
        )
    # Fixed boundaries: every retry of one send is then the same message byte for byte.
    seed = hashlib.sha256(mail.token.encode()).hexdigest()[:24]
    for i, part in enumerate(p for p in msg.walk() if p.is_multipart()):
        part.set_boundary(f"=_intake_{seed}_{i}")
    return msg


def meeting_uid(mail: OutgoingMail, sender: Mailbox) -> str:
    """One UID per request, so a re-sent or moved invitation updates the same calendar entry."""
    return f"meeting.{(mail.ref or mail.token).lower()}.{mail.project}@{sender.address.rsplit('@', 1)[1]}"


def meeting_ics(mail: OutgoingMail, *, sender: Mailbox) -> bytes:
    """The calendar invite (METHOD:REQUEST) for a meeting, in the project's time zone."""
    assert mail.meeting is not None
    tz = ZoneInfo(mail.timezone)
    start = mail.meeting.start
    start = start.astimezone(tz) if start.tzinfo else start.replace(tzinfo=tz)
    end = start + timedelta(minutes=mail.meeting.duration_minutes)
    organizer_box = mail.recipients.reply_to[0] if mail.recipients.reply_to else sender

    cal = icalendar.Calendar()
    cal.add("prodid", "-//intake-bot//meeting invitation//EN")
    cal.add("version", "2.0")
    cal.add("method", "REQUEST")
    event = icalendar.Event()
    event.add("uid", meeting_uid(mail, sender))
    event.add("sequence", mail.sequence)
    event.add("dtstamp", mail.date.astimezone(UTC))
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", mail.subject)
    event.add("description", mail.body_text)
    if mail.meeting.location:
        event.add("location", mail.meeting.location)
    event.add("status", "CONFIRMED")
    organizer = icalendar.vCalAddress(f"mailto:{organizer_box.address}")
    if organizer_box.name:
        organizer.params["cn"] = icalendar.vText(organizer_box.name)
    event["organizer"] = organizer
    for box in (*mail.recipients.to, *mail.recipients.cc):
        attendee = icalendar.vCalAddress(f"mailto:{box.address}")
        if box.name:
            attendee.params["cn"] = icalendar.vText(box.name)
        attendee.params["role"] = icalendar.vText("REQ-PARTICIPANT" if box in mail.recipients.to else "OPT-PARTICIPANT")
        attendee.params["partstat"] = icalendar.vText("NEEDS-ACTION")
        attendee.params["rsvp"] = icalendar.vText("TRUE")
        event.add("attendee", attendee, encode=False)
    cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()


def envelope(msg: EmailMessage) -> tuple[str, list[str]]:
    """The SMTP envelope of a built message: sender and every To and Cc address (never Reply-To)."""
    sender = msg["From"].addresses[0].addr_spec
    rcpts: list[str] = []
    for name in ("To", "Cc"):
        header = msg[name]
        if header is not None:
            rcpts += [a.addr_spec for a in header.addresses if a.addr_spec not in rcpts]
    return sender, rcpts
