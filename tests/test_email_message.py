"""Letters as RFC 5322 messages: headers, both alternatives, Chinese, calendar invites, header injection, .eml."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import cast

import icalendar
import pytest
from click.testing import CliRunner

from adapters.cli.main import cli
from adapters.email.message import build_message, envelope
from bot.domain import Actor
from bot.errors import InvalidInput
from bot.mailing import OutgoingMail
from bot.projectfile import load_project_text
from bot.service import IntakeService
from store.repo import SqlStore
from tests.conftest import MEMBER, PM, PROJECT_YAML
from tests.email_support import MEETING_FORM, SENDER, ZH_PM, declined, declined_zh


def parse(msg: EmailMessage) -> EmailMessage:
    """Serialise and parse back, as a receiving mail program would."""
    return cast(EmailMessage, message_from_bytes(msg.as_bytes(), policy=policy.default))


async def test_a_letter_becomes_a_message_with_the_agreed_headers(service: IntakeService) -> None:
    ref = await declined(service)
    mail = await service.letter_email_draft(ref, actor=PM)
    got = parse(build_message(mail, sender=SENDER))
    assert got["From"] == "Northbeam Projects <projects@northbeam.example>"
    assert got["To"] == "Jane Doe <jane.doe@acme.example>"
    assert got["Cc"] == "Pat Morgan <pm@acme.example>"
    assert got["Reply-To"] == "Pat Morgan <pm@acme.example>"
    assert got["Subject"] == f"Your request {ref} (Acme Customer Portal)"
    assert got["X-Intake-Request"] == ref
    assert got["Date"].datetime == service.clock.now()
    assert got["Message-ID"].endswith("@northbeam.example>") and ref.lower() in got["Message-ID"]
    assert [p.get_content_type() for p in got.walk()] == ["multipart/alternative", "text/plain", "text/html"]
    text = got.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = got.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert text.startswith("Dear Jane Doe,") and f"Reference: {ref}" in text
    assert "<p>Dear Jane Doe,</p>" in html
    assert envelope(got) == ("projects@northbeam.example", ["jane.doe@acme.example", "pm@acme.example"])


async def test_the_project_cc_list_is_copied_and_a_typed_recipient_replaces_the_client(store: SqlStore) -> None:
    svc = IntakeService(store)
    await svc.load_project(load_project_text(PROJECT_YAML + "cc: [accounts@acme.example]\n", "acme.yaml"))
    ref = await declined(svc)
    rcpt = await svc.letter_email_recipients(ref, actor=PM, recipients=["Jo Buyer <jo@acme.example>"])
    assert [str(m) for m in rcpt.to] == ["Jo Buyer <jo@acme.example>"]
    assert [m.address for m in rcpt.cc] == ["pm@acme.example", "accounts@acme.example"]
    assert rcpt.typed
    assert rcpt.summary().splitlines()[0] == "To: Jo Buyer <jo@acme.example>"


async def test_chinese_names_subject_and_body_survive_the_trip(service: IntakeService) -> None:
    ref = await declined_zh(service)
    rec = await service.get_request(ref)
    assert rec.letter is not None
    mail = await service.letter_email_draft(ref, actor=ZH_PM)
    raw = build_message(mail, sender=SENDER).as_bytes()
    header_block = raw.split(b"\n\n", 1)[0]
    assert header_block.isascii(), "headers must be RFC 2047-encoded, not raw UTF-8"
    got = cast(EmailMessage, message_from_bytes(raw, policy=policy.default))
    assert got["Subject"] == rec.letter.subject and "需求" in got["Subject"]
    assert got["To"].addresses[0].display_name == "周文静"
    assert got["Cc"].addresses[0].display_name == "李丹"
    text = got.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert text.startswith("尊敬的周文静：") and f"需求编号：{ref}" in text


async def test_a_meeting_invitation_carries_a_calendar_request_in_the_project_time_zone(service: IntakeService) -> None:
    ref = await declined(service, MEETING_FORM)
    rec = await service.get_request(ref)
    assert rec.letter is not None and rec.letter.kind == "meeting_invite"
    mail = await service.letter_email_draft(ref, actor=PM)
    got = parse(build_message(mail, sender=SENDER))
    attachments = list(got.iter_attachments())
    assert [a.get_filename() for a in attachments] == ["invite.ics"]
    assert attachments[0].get_content_type() == "text/calendar"
    assert attachments[0].get_param("method") == "REQUEST"
    cal = icalendar.Calendar.from_ical(attachments[0].get_content())
    assert str(cal["METHOD"]) == "REQUEST"
    (event,) = cal.walk("VEVENT")
    start = event.decoded("DTSTART")
    assert str(start.tzinfo) == "Europe/Berlin" and (start.hour, start.minute) == (10, 0)
    assert event.decoded("DTEND") - start == timedelta(minutes=45)
    assert str(event["LOCATION"]) == "https://meet.example/acme"
    assert str(event["ORGANIZER"]) == "mailto:pm@acme.example"
    assert "mailto:jane.doe@acme.example" in [str(a) for a in event["ATTENDEE"]]
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Europe/Berlin"]
    # The client reads an invitation, not the refusal; the PM's talking points never leave.
    text = got.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "A calendar invitation is attached" in text and "Talking points" not in text
    # The UID is the request's, so a second invitation updates the same calendar entry.
    again = await service.letter_email_draft(ref, actor=PM)
    cal2 = icalendar.Calendar.from_ical(next(build_message(again, sender=SENDER).iter_attachments()).get_content())
    assert cal2.walk("VEVENT")[0]["UID"] == event["UID"]


async def test_meeting_uses_utc_when_the_project_names_no_time_zone(store: SqlStore) -> None:
    svc = IntakeService(store)
    await svc.load_project(load_project_text(PROJECT_YAML.replace("timezone: Europe/Berlin\n", ""), "acme.yaml"))
    ref = await declined(svc, MEETING_FORM)
    mail = await svc.letter_email_draft(ref, actor=PM)
    ics = next(build_message(mail, sender=SENDER).iter_attachments()).get_content()
    start = icalendar.Calendar.from_ical(ics).walk("VEVENT")[0].decoded("DTSTART")
    assert str(start.tzinfo) == "UTC" and start.hour == 9  # 10:00 in Berlin in December


@pytest.mark.parametrize(
    "contact",
    # A bare CR is already refused by the project-file loader; LF and Unicode line breaks get through it.
    ['"Jane Doe\\nBcc: attacker@evil.example"', '"Jane\\u2028Doe"'],
)
async def test_a_line_break_in_the_client_contact_is_refused_before_anything_is_queued(
    store: SqlStore, contact: str
) -> None:
    svc = IntakeService(store)
    await svc.load_project(
        load_project_text(PROJECT_YAML.replace("contact: Jane Doe", f"contact: {contact}"), "a.yaml")
    )
    rec = await svc.submit_request(project="acme-portal", actor=MEMBER, text="Could we pay by credit card?")
    await svc.decline(rec.ref, actor=PM, form=await svc.decline_form_defaults(rec.ref))
    with pytest.raises(InvalidInput, match="line break or another control character"):
        await svc.send_letter_email(rec.ref, actor=PM)
    after = await svc.get_request(rec.ref)
    assert after.letter is not None and after.letter.status == "draft"
    assert "letter_queued" not in [e.kind for e in after.events]


async def test_typed_recipients_and_names_cannot_smuggle_headers(service: IntakeService) -> None:
    ref = await declined(service)
    with pytest.raises(InvalidInput, match="line break"):
        await service.send_letter_email(ref, actor=PM, recipients=["jo@acme.example\r\nBcc: evil@evil.example"])
    with pytest.raises(InvalidInput, match="one address per entry"):
        await service.send_letter_email(ref, actor=PM, recipients=["jo@acme.example, evil@evil.example"])
    with pytest.raises(InvalidInput, match="not a valid e-mail address"):
        await service.send_letter_email(ref, actor=PM, recipients=["jo at acme"])
    # A chat profile's display name is user-controlled too: the declining PM's name goes into Cc and Reply-To.
    sneaky = Actor("console", "pm@acme.example", email="pm@acme.example", name="Pat\nBcc: evil@evil.example")
    rec = await service.submit_request(project="acme-portal", actor=MEMBER, text="Could we pay by credit card?")
    await service.decline(rec.ref, actor=sneaky, form=await service.decline_form_defaults(rec.ref))
    with pytest.raises(InvalidInput, match="line break"):
        await service.letter_email_recipients(rec.ref, actor=PM)


async def test_the_builder_refuses_control_characters_even_in_stored_data(service: IntakeService) -> None:
    ref = await declined(service)
    mail = (await service.letter_email_draft(ref, actor=PM)).to_dict()
    for bad in ({"subject": "Hello\r\nBcc: evil@evil.example"}, {"subject": "Bell\x07"}, {"ref": "ACME-1\nX: y"}):
        with pytest.raises(InvalidInput, match="control character"):
            build_message(OutgoingMail.from_dict({**mail, **bad}), sender=SENDER)


def test_intake_letter_eml_writes_a_message_that_parses(sqlite_url: str) -> None:
    async def setup() -> str:
        store = SqlStore.from_url(sqlite_url)
        try:
            svc = IntakeService(store)
            await svc.load_project(load_project_text(PROJECT_YAML, "acme.yaml"))
            return await declined(svc)
        finally:
            await store.close()

    ref = asyncio.run(setup())
    env = {"DATABASE_URL": sqlite_url, "INTAKE_MAIL_FROM": "Acme Projects <projects@northbeam.example>", "SMTP_URL": ""}
    result = CliRunner().invoke(cli, ["letter", "eml", ref], env=env)
    assert result.exit_code == 0, result.output
    got = cast(EmailMessage, message_from_bytes(result.stdout_bytes, policy=policy.default))
    assert got["To"] == "Jane Doe <jane.doe@acme.example>" and got["X-Intake-Request"] == ref
    assert got["From"] == "Acme Projects <projects@northbeam.example>"
    missing = CliRunner().invoke(cli, ["letter", "eml", "ACME-99"], env=env)
    assert missing.exit_code == 1 and "There is no request ACME-99" in missing.output
