"""Sending letters through the outbox to a real SMTP server on loopback: what arrives, what is recorded,
retries on temporary failures, a clear stop on permanent ones, and nothing sent twice after a crash."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestServer

from adapters.email.config import email_config as config_from_settings
from adapters.email.message import build_message
from adapters.email.platform import PLATFORM, email_for, enabled
from adapters.email.sink import EmailConfig, EmailSink
from adapters.email.smtp import parse_smtp_url, send_message
from adapters.runtime import Runtime
from adapters.settings import ConfigError, Settings
from adapters.web.app import ENABLED, create_app, wake_dispatcher
from bot import messages
from bot.domain import SYSTEM, Language, RequestStatus
from bot.errors import IllegalMove, PermissionDenied
from bot.mailing import OutgoingMail
from bot.outbox import Dispatcher
from bot.projectfile import load_project_text
from bot.service import IntakeService
from bot.text import plain
from store.repo import SqlStore
from tests.conftest import MEMBER, PM, PROJECT_YAML
from tests.email_support import (
    MEETING_FORM,
    SENDER,
    ZH_PM,
    declined,
    declined_zh,
    dispatcher,
    email_config,
    smtp_server_fixture,  # noqa: F401  (fixture)
)
from tests.support.clock import FakeClock
from tests.support.smtp import SmtpServer, free_port


async def outbox_rows(store: SqlStore) -> list[dict[str, Any]]:
    async with store.session() as s:
        rows = (
            (
                await s.exec(
                    sa.text(
                        "SELECT kind, platform, status, attempts, last_error FROM outbox WHERE platform = 'email' ORDER BY id"
                    )
                )  # type: ignore[call-overload]
            )
            .mappings()
            .all()
        )
    return [dict(r) for r in rows]


async def sender_notices(store: SqlStore) -> list[tuple[str, str, str]]:
    async with store.session() as s:
        rows = (
            await s.exec(
                sa.text(
                    "SELECT platform, audience, recipient, text FROM outbox WHERE kind = 'letter_email_status' ORDER BY id"
                )
            )  # type: ignore[call-overload]
        ).all()
    return [(r[0], r[1], json.loads(r[2])["user_id"] if isinstance(r[2], str) else r[2]["user_id"]) for r in rows]


async def test_a_sent_letter_arrives_and_the_record_says_when(
    service: IntakeService, store: SqlStore, smtp_server: SmtpServer
) -> None:
    ref = await declined(service)
    rec = await service.send_letter_email(ref, actor=PM)
    assert rec.letter is not None and rec.letter.status == "queued"
    assert rec.status is RequestStatus.LETTER_DRAFTED
    queued = rec.events[-1]
    assert queued.kind == "letter_queued" and queued.actor == PM
    assert [m["address"] for m in queued.data["to"]] == ["jane.doe@acme.example"]
    assert [(r["kind"], r["status"]) for r in await outbox_rows(store)] == [("letter_email", "pending")]

    await dispatcher(store, service, smtp_server).drain()

    (got,) = smtp_server.received
    assert got.mail_from == "projects@northbeam.example"
    assert got.rcpt_tos == ["jane.doe@acme.example", "pm@acme.example"]
    msg = got.message
    assert msg["X-Intake-Request"] == ref and msg["To"] == "Jane Doe <jane.doe@acme.example>"
    rec = await service.get_request(ref)
    assert rec.status is RequestStatus.LETTER_SENT
    assert rec.letter is not None
    assert (rec.letter.status, rec.letter.sent_via, rec.letter.message_id) == ("sent", "smtp", msg["Message-ID"])
    assert rec.letter.sent_at == service.clock.now()
    sent = rec.events[-1]
    assert sent.kind == "letter_sent" and sent.actor == SYSTEM and sent.data["message_id"] == msg["Message-ID"]
    assert [(r["kind"], r["status"]) for r in await outbox_rows(store)] == [("letter_email", "sent")]
    # The PM who pressed send hears how it went, privately, on their own platform.
    notices = await sender_notices(store)
    assert notices == [("console", "person", "pm@acme.example")]


async def test_a_chinese_letter_arrives_intact(
    service: IntakeService, store: SqlStore, smtp_server: SmtpServer
) -> None:
    ref = await declined_zh(service)
    await service.send_letter_email(ref, actor=ZH_PM)
    await dispatcher(store, service, smtp_server).drain()
    (got,) = smtp_server.received
    assert got.data.split(b"\r\n\r\n", 1)[0].isascii()
    msg = got.message
    rec = await service.get_request(ref)
    assert rec.letter is not None and msg["Subject"] == rec.letter.subject
    assert str(msg["To"]) == "周文静 <zhouwenjing@lanting-tea.example>"
    assert msg.get_body(("plain",)).get_content() == rec.letter.body_text  # type: ignore[union-attr]
    assert "尊敬的周文静" in msg.get_body(("html",)).get_content()  # type: ignore[union-attr]


async def test_a_sent_letter_goes_again_only_when_asked_and_with_a_new_message_id(
    service: IntakeService, store: SqlStore, smtp_server: SmtpServer
) -> None:
    ref = await declined(service)
    await service.send_letter_email(ref, actor=PM)
    with pytest.raises(IllegalMove, match="already queued"):
        await service.send_letter_email(ref, actor=PM, again=True)
    await dispatcher(store, service, smtp_server).drain()
    with pytest.raises(IllegalMove, match="already sent"):
        await service.send_letter_email(ref, actor=PM)
    await service.send_letter_email(ref, actor=PM, again=True)
    await dispatcher(store, service, smtp_server).drain()
    first, second = (r.message for r in smtp_server.received)
    assert first["Message-ID"] != second["Message-ID"]
    rec = await service.get_request(ref)
    assert [e.kind for e in rec.events].count("letter_sent") == 2
    assert rec.letter is not None and rec.letter.message_id == second["Message-ID"]


async def test_only_a_pm_can_send_and_a_queued_letter_cannot_be_edited(service: IntakeService, store: SqlStore) -> None:
    ref = await declined(service)
    with pytest.raises(PermissionDenied):
        await service.send_letter_email(ref, actor=MEMBER)
    assert await outbox_rows(store) == []
    await service.send_letter_email(ref, actor=PM)
    with pytest.raises(IllegalMove, match="queued"):
        await service.edit_letter(ref, actor=PM, body_text="Dear Jane, something else entirely.")
    with pytest.raises(IllegalMove, match="queued"):
        await service.mark_letter_sent(ref, actor=PM)


async def test_a_send_is_refused_if_the_recipients_changed_after_the_pm_confirmed_them(
    service: IntakeService, store: SqlStore
) -> None:
    ref = await declined(service)
    shown = await service.letter_email_recipients(ref, actor=PM)
    await service.load_project(load_project_text(PROJECT_YAML + "cc: [accounts@acme.example]\n", "acme.yaml"))
    with pytest.raises(IllegalMove, match="changed after you confirmed them"):
        await service.send_letter_email(ref, actor=PM, confirmed=shown)
    assert await outbox_rows(store) == []
    again = await service.letter_email_recipients(ref, actor=PM)
    await service.send_letter_email(ref, actor=PM, confirmed=again)
    assert len(await outbox_rows(store)) == 1


async def test_a_temporary_refusal_is_retried_and_then_delivered(
    service: IntakeService, store: SqlStore, smtp_server: SmtpServer
) -> None:
    ref = await declined(service)
    await service.send_letter_email(ref, actor=PM)
    smtp_server.handler.answers = ["451 4.3.0 Mailbox busy, try again later"]
    d = dispatcher(store, service, smtp_server)
    assert await d.run_once() == 1
    assert smtp_server.received == [] and d.stats.retried == 1
    (row,) = await outbox_rows(store)
    assert row["status"] == "pending" and "451 4.3.0 Mailbox busy" in row["last_error"]
    rec = await service.get_request(ref)
    assert rec.letter is not None and rec.letter.status == "queued"
    await d.run_once()
    assert len(smtp_server.received) == 1 and smtp_server.handler.data_attempts == 2
    rec = await service.get_request(ref)
    assert rec.letter is not None and rec.letter.status == "sent"


async def test_an_unreachable_server_is_retried_until_it_answers(
    service: IntakeService, store: SqlStore, smtp_server: SmtpServer
) -> None:
    ref = await declined(service)
    await service.send_letter_email(ref, actor=PM)
    dead = EmailSink(service, EmailConfig(parse_smtp_url(f"smtp://127.0.0.1:{free_port()}?timeout=2"), SENDER))
    d = Dispatcher(store, [dead], clock=service.clock)
    await d.run_once()
    (row,) = await outbox_rows(store)
    assert row["status"] == "pending" and "Cannot reach the mail server" in row["last_error"]
    await dispatcher(store, service, smtp_server).run_once()
    assert len(smtp_server.received) == 1


async def test_a_letter_that_cannot_go_out_for_a_day_is_marked_failed_with_the_last_answer(
    service: IntakeService, store: SqlStore, smtp_server: SmtpServer, clock: FakeClock
) -> None:
    ref = await declined(service)
    await service.send_letter_email(ref, actor=PM)
    smtp_server.handler.answers = ["421 4.3.2 Service shutting down"] * 2
    d = dispatcher(store, service, smtp_server)
    await d.run_once()
    rec = await service.get_request(ref)
    assert rec.letter is not None and rec.letter.status == "queued"
    clock.advance(hours=23, minutes=30)
    await d.run_once()
    rec = await service.get_request(ref)
    assert rec.letter is not None and rec.letter.status == "failed"
    assert (rec.letter.send_error or "").startswith("Gave up after trying for 23 hours; the last answer was: ")
    assert "421 4.3.2 Service shutting down" in (rec.letter.send_error or "")
    assert [r["status"] for r in await outbox_rows(store)] == ["failed"]


async def test_a_permanent_refusal_stops_with_the_servers_reason(
    service: IntakeService, store: SqlStore, smtp_server: SmtpServer
) -> None:
    ref = await declined(service)
    await service.send_letter_email(ref, actor=PM)
    smtp_server.handler.answers = ["554 5.7.1 Message rejected by policy"]
    d = dispatcher(store, service, smtp_server)
    await d.drain()
    assert d.stats.failed == 1 and smtp_server.handler.data_attempts == 1
    rec = await service.get_request(ref)
    assert rec.letter is not None and rec.letter.status == "failed"
    assert rec.letter.send_error and "554 5.7.1 Message rejected by policy" in rec.letter.send_error
    assert rec.status is RequestStatus.LETTER_DRAFTED
    assert rec.events[-1].kind == "letter_send_failed"
    assert await sender_notices(store) == [("console", "person", "pm@acme.example")]
    assert [r["status"] for r in await outbox_rows(store)] == ["failed"]
    # The PM can fix what was wrong and send it again; it goes out as a new send.
    await service.send_letter_email(ref, actor=PM)
    await d.drain()
    assert len(smtp_server.received) == 1


async def test_a_refused_client_address_fails_the_letter_even_if_the_copies_went_out(
    service: IntakeService, store: SqlStore, smtp_server: SmtpServer
) -> None:
    ref = await declined(service)
    await service.send_letter_email(ref, actor=PM)
    smtp_server.handler.refuse = {"jane.doe@acme.example"}
    await dispatcher(store, service, smtp_server).drain()
    rec = await service.get_request(ref)
    assert rec.letter is not None and rec.letter.status == "failed"
    assert "jane.doe@acme.example: 550 5.1.1" in (rec.letter.send_error or "")
    smtp_server.handler.refuse = {"jane.doe@acme.example", "pm@acme.example"}
    await service.send_letter_email(ref, actor=PM)
    await dispatcher(store, service, smtp_server).drain()
    rec = await service.get_request(ref)
    assert rec.letter is not None and "refused every recipient" in (rec.letter.send_error or "")


DEAD_LEASE = 0.5  # long enough that a busy machine still finds it held right after the claim


async def claim_as_dead_worker(store: SqlStore) -> Any:
    """A dispatcher that leases the row and then dies: its lease runs out DEAD_LEASE seconds later."""
    (row,) = await store.outbox.claim(["email"], worker="dead-worker", limit=1, lease_seconds=DEAD_LEASE)
    return row


async def test_a_restarted_dispatcher_does_not_resend_a_letter_whose_send_was_recorded(
    service: IntakeService, store: SqlStore, smtp_server: SmtpServer
) -> None:
    ref = await declined(service)
    await service.send_letter_email(ref, actor=PM)
    row = await claim_as_dead_worker(store)
    # The dead worker sent the mail and recorded it, then died before marking the outbox row done.
    await EmailSink(service, email_config(smtp_server)).deliver(row.notice, outbox=store.outbox)
    assert len(smtp_server.received) == 1
    await asyncio.sleep(DEAD_LEASE + 0.1)
    d = dispatcher(store, service, smtp_server)
    assert await d.drain() == 1 and d.stats.delivered == 1
    assert len(smtp_server.received) == 1, "the letter must not be sent twice"
    assert [r["status"] for r in await outbox_rows(store)] == ["sent"]


async def test_a_dispatcher_that_died_before_sending_leaves_the_letter_to_the_next_one(
    service: IntakeService, store: SqlStore, smtp_server: SmtpServer
) -> None:
    ref = await declined(service)
    await service.send_letter_email(ref, actor=PM)
    await claim_as_dead_worker(store)
    assert await dispatcher(store, service, smtp_server).drain() == 0  # still leased by the dead worker
    await asyncio.sleep(DEAD_LEASE + 0.1)
    assert await dispatcher(store, service, smtp_server).drain() == 1
    assert len(smtp_server.received) == 1
    rec = await service.get_request(ref)
    assert rec.letter is not None and rec.letter.status == "sent"


async def test_a_crash_between_the_servers_ok_and_the_record_resends_the_identical_message(
    service: IntakeService, store: SqlStore, smtp_server: SmtpServer
) -> None:
    """The one window the guarantee leaves open: the copy carries the same Message-ID, so it is detectable."""
    ref = await declined(service)
    await service.send_letter_email(ref, actor=PM)
    row = await claim_as_dead_worker(store)
    mail = OutgoingMail.from_dict(row.notice.data["mail"])
    await send_message(email_config(smtp_server).smtp, build_message(mail, sender=SENDER))  # then: the crash
    await asyncio.sleep(DEAD_LEASE + 0.1)
    await dispatcher(store, service, smtp_server).drain()
    first, second = smtp_server.received
    assert first.data == second.data  # byte-for-byte the same message, same Message-ID and Date
    rec = await service.get_request(ref)
    assert rec.letter is not None and rec.letter.message_id == first.message["Message-ID"]
    assert [e.kind for e in rec.events].count("letter_sent") == 1


async def test_a_meeting_invitation_is_sent_with_its_calendar_invite(
    service: IntakeService, store: SqlStore, smtp_server: SmtpServer
) -> None:
    import icalendar

    ref = await declined(service, MEETING_FORM)
    await service.send_letter_email(ref, actor=PM)
    await dispatcher(store, service, smtp_server).drain()
    (got,) = smtp_server.received
    ics = next(got.message.iter_attachments()).get_content()
    event = icalendar.Calendar.from_ical(ics).walk("VEVENT")[0]
    assert int(event["SEQUENCE"]) == 0
    rec = await service.get_request(ref)
    assert rec.status is RequestStatus.LETTER_SENT and rec.letter is not None and rec.letter.sent_via == "smtp"
    assert plain(messages.status_line(rec, Language.EN)).endswith("the client is invited to a meeting about it")
    rec = await service.record_outcome(ref, actor=PM, text="Agreed on a mobile web view for the Beta.")
    assert rec.events[-1].kind == "outcome_recorded" and rec.events[-1].actor == PM
    assert plain(messages.status_line(rec, Language.EN)).endswith("the client has been answered in a meeting")
    assert rec.letter is not None and rec.letter.sent_via == "smtp"  # the invitation stays the recorded send


async def test_recording_a_meeting_outcome_answers_the_client_and_needs_a_meeting(service: IntakeService) -> None:
    ref = await declined(service, MEETING_FORM)
    with pytest.raises(PermissionDenied):
        await service.record_outcome(ref, actor=MEMBER, text="We agreed.")
    rec = await service.record_outcome(ref, actor=PM, text="Agreed to revisit after go-live.")
    assert rec.status is RequestStatus.LETTER_SENT
    assert rec.letter is not None and rec.letter.sent_via == "meeting"
    assert [e.kind for e in rec.events][-2:] == ["outcome_recorded", "letter_sent"]
    by_email = await declined(service)
    with pytest.raises(IllegalMove, match="has not been answered by letter or meeting yet"):
        await service.record_outcome(by_email, actor=PM, text="?")


def test_email_switches_on_with_smtp_url_and_needs_a_sender() -> None:
    assert not enabled(Settings(smtp_url=None, mail_from=None))
    with pytest.raises(ConfigError, match="INTAKE_MAIL_FROM is needed"):
        enabled(Settings(smtp_url="smtp://127.0.0.1:1025"))
    with pytest.raises(ConfigError, match="INTAKE_MAIL_FROM is not usable"):
        enabled(Settings(smtp_url="smtp://127.0.0.1:1025", mail_from="Projects\n<p@x.example>"))
    with pytest.raises(ConfigError, match="placeholder"):
        enabled(Settings(smtp_url="smtp://u:changeme@mail.example.com:587", mail_from="p@x.example"))
    config = config_from_settings(Settings(smtp_url="smtp://127.0.0.1:1025", mail_from="Acme <p@acme.example>"))
    assert config is not None and config.sender.name == "Acme"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://127.0.0.1:1025", ("127.0.0.1", 1025, None, None, False, None)),
        (
            "smtp://user:p%40ss@mail.example.com:587?starttls=true",
            ("mail.example.com", 587, "user", "p@ss", False, True),
        ),
        ("smtps://user:pw@mail.example.com:465", ("mail.example.com", 465, "user", "pw", True, False)),
        ("smtps://mail.example.com", ("mail.example.com", 465, None, None, True, False)),
        ("smtp://mail.example.com?starttls=false", ("mail.example.com", 25, None, None, False, False)),
    ],
)
def test_smtp_url_forms(url: str, expected: tuple[object, ...]) -> None:
    c = parse_smtp_url(url)
    assert (c.hostname, c.port, c.username, c.password, c.use_tls, c.start_tls) == expected
    assert "pw" not in c.describe() and "p@ss" not in repr(c)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://mail.example.com", "must start with smtp://"),
        ("smtp://", "names no mail server host"),
        ("smtp://h.example?starttls=maybe", "starttls must be true or false"),
        ("smtps://h.example?starttls=true", "already encrypted"),
        ("smtp://h.example?tls=1", "unknown options: tls"),
        ("smtp://h.example:99999", "not a valid URL"),
    ],
)
def test_bad_smtp_urls_say_what_is_wrong(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_smtp_url(url)


async def test_the_server_delivers_email_when_smtp_is_configured(
    service: IntakeService, store: SqlStore, smtp_server: SmtpServer
) -> None:
    settings = Settings(smtp_url=smtp_server.url, mail_from="Northbeam Projects <projects@northbeam.example>")
    app = create_app(settings, runtime=Runtime(store, service), migrate=False, poll_interval=0.05)
    assert "email" in app[ENABLED] and PLATFORM.name == "email"
    assert email_for(app) is not None and email_for(create_app(Settings(), dispatch=False)) is None
    async with TestServer(app) as server:
        ref = await declined(service)
        await service.send_letter_email(ref, actor=PM)
        wake_dispatcher(server.app)
        for _ in range(100):
            if smtp_server.received:
                break
            await asyncio.sleep(0.05)
        assert len(smtp_server.received) == 1
    rec = await service.get_request(ref)
    assert rec.letter is not None and rec.letter.status == "sent"
