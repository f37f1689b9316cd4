"""The mail server down, silent, deferring with 4xx, or hanging up after it took a letter: every letter
goes out after recovery, once, and the PM who sent it hears once how it went."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa

from adapters.email.sink import EmailConfig, EmailSink
from adapters.email.smtp import parse_smtp_url
from bot.domain import RequestStatus
from bot.outbox import Dispatcher, RetryPolicy
from bot.service import IntakeService
from store.repo import SqlStore
from tests.conftest import PM
from tests.email_support import SENDER, declined
from tests.support.smtp import SmtpServer

TEXTS = [
    "Could the order history also be in an iPhone app?",
    "Can customers pay by credit card in the portal?",
    "Please build an Android app for the warehouse team",
]


async def email_rows(store: SqlStore) -> Counter[str]:
    async with store.session() as s:
        rows = await s.exec(sa.text("SELECT status FROM outbox WHERE platform = 'email'"))  # type: ignore[call-overload]
        return Counter(r[0] for r in rows.all())


async def status_notices(store: SqlStore) -> Counter[str]:
    async with store.session() as s:
        rows = await s.exec(sa.text("SELECT ref FROM outbox WHERE kind = 'letter_email_status'"))  # type: ignore[call-overload]
        return Counter(r[0] for r in rows.all())


def dispatcher(store: SqlStore, service: IntakeService, port: int, *, timeout: int = 1) -> Dispatcher:
    config = EmailConfig(parse_smtp_url(f"smtp://127.0.0.1:{port}?timeout={timeout}"), SENDER)
    return Dispatcher(store, [EmailSink(service, config)], clock=service.clock, policy=RetryPolicy(base=0, cap=0))


@contextlib.asynccontextmanager
async def silent_server(port: int) -> AsyncIterator[None]:
    """Something on the mail port that takes the connection and never says a word."""
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", port)
    try:
        yield
    finally:
        for w in held:
            w.close()
        server.close()
        await server.wait_closed()


async def queue_letters(service: IntakeService) -> list[str]:
    refs = []
    for text in TEXTS:
        ref = await declined(service, text=text)
        await service.send_letter_email(ref, actor=PM)
        refs.append(ref)
    return refs


async def assert_sent_once(service: IntakeService, store: SqlStore, server: SmtpServer, refs: list[str]) -> None:
    got = Counter(r.message["X-Intake-Request"] for r in server.received)
    assert got == Counter(refs), f"each letter once: {got}"
    assert len({r.message["Message-ID"] for r in server.received}) == len(refs)
    assert await email_rows(store) == Counter({"sent": len(refs)})
    assert await status_notices(store) == Counter(refs), "the PM hears once per letter"
    for ref in refs:
        rec = await service.get_request(ref)
        assert rec.status is RequestStatus.LETTER_SENT and rec.letter is not None and rec.letter.status == "sent"
        assert [e.kind for e in rec.events].count("letter_sent") == 1


async def test_letters_go_out_once_after_the_mail_server_was_down_silent_and_deferring(
    service: IntakeService, store: SqlStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="intake.outbox")
    refs = await queue_letters(service)
    server = SmtpServer()
    d = dispatcher(store, service, server.port)

    assert await d.run_once() == 3  # nothing listens on the port
    assert await email_rows(store) == Counter({"pending": 3})
    async with silent_server(server.port):  # it takes the connection and never answers
        assert await d.run_once() == 3
    assert await email_rows(store) == Counter({"pending": 3})
    server.handler.answers = ["451 4.3.0 Mailbox busy, try again later"] * 4  # up, but deferring for a while
    server.start()
    try:
        for _ in range(10):
            await d.drain()
            if await email_rows(store) == Counter({"sent": 3}):
                break
        assert server.handler.data_attempts == 4 + 3
        await assert_sent_once(service, store, server, refs)
        assert await d.drain() == 0 and len(server.received) == 3, "nothing goes twice"
    finally:
        server.stop()
    retried = [r.getMessage() for r in caplog.records if "will be retried" in r.getMessage()]
    assert len(retried) == 3 + 3 + 4, retried
    assert sum("Cannot reach the mail server" in m for m in retried) >= 3, retried
    assert sum("451 4.3.0 Mailbox busy" in m for m in retried) == 4, retried  # not "451": ports can hold it


class HangUpAfterData:
    """A mail server that accepts the letter, then drops the line instead of answering QUIT."""

    def __init__(self, handler: Any) -> None:
        self.inner = handler
        self.hung_up = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return str(await self.inner.handle_DATA(server, session, envelope))

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:
        self.hung_up += 1
        server.transport.abort()
        return "221 Bye"


async def test_a_server_that_hangs_up_after_taking_the_letter_does_not_get_it_twice(
    service: IntakeService, store: SqlStore
) -> None:
    from aiosmtpd.controller import Controller

    refs = await queue_letters(service)
    server = SmtpServer()
    rude = HangUpAfterData(server.handler)
    server.controller = Controller(rude, hostname="127.0.0.1", port=server.port)
    server.start()
    try:
        d = dispatcher(store, service, server.port)
        for _ in range(5):
            await d.drain()
        assert rude.hung_up == 3
        await assert_sent_once(service, store, server, refs)
    finally:
        server.stop()
