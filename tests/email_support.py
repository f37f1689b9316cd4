"""Helpers shared by the e-mail tests: requests declined by e-mail or meeting, the Chinese example project,
and a dispatcher with the e-mail sink pointed at a local SMTP server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from adapters.email.sink import EmailConfig, EmailSink
from adapters.email.smtp import parse_smtp_url
from bot.domain import (
    Actor,
    Alternative,
    AlternativeKind,
    Channel,
    DeclineForm,
    MeetingProposal,
    ReasonCategory,
)
from bot.mailing import Mailbox
from bot.outbox import Dispatcher, RetryPolicy
from bot.projectfile import load_project_file
from bot.service import IntakeService
from store.repo import SqlStore
from tests.conftest import EXAMPLES, MEMBER, PM
from tests.support.smtp import SmtpServer

SENDER = Mailbox("projects@northbeam.example", "Northbeam Projects")
ZH_PM = Actor("console", "dana.lee@northbeam.example", email="dana.lee@northbeam.example", name="李丹")

EMAIL_FORM = DeclineForm(
    ReasonCategory.PROJECT_GOALS,
    "Native apps are outside the agreed scope.",
    (Alternative(AlternativeKind.CHANGE_REQUEST, "about 20 person-days"),),
    "We understand why a native app appeals to your buyers.",
    Channel.EMAIL,
)
MEETING = MeetingProposal(
    datetime(2026, 12, 3, 10, 0, tzinfo=ZoneInfo("Europe/Berlin")), 45, "https://meet.example/acme"
)
MEETING_FORM = DeclineForm(
    ReasonCategory.PROJECT_GOALS,
    "Native apps are outside the agreed scope.",
    (Alternative(AlternativeKind.PHASED, "a mobile-friendly web view first"),),
    "We understand why a native app appeals to your buyers.",
    Channel.MEETING,
    meeting=MEETING,
)


async def declined(
    service: IntakeService,
    form: DeclineForm = EMAIL_FORM,
    text: str = "Could the order history also be in an iPhone app?",
) -> str:
    rec = await service.submit_request(project="acme-portal", actor=MEMBER, text=text)
    await service.decline(rec.ref, actor=PM, form=form)
    return rec.ref


async def declined_zh(service: IntakeService) -> str:
    await service.load_project(load_project_file(str(EXAMPLES / "lanting-crm.yaml")))
    rec = await service.submit_request(
        project="lanting-crm", actor=MEMBER, text="能不能做一个微信小程序，让会员在线下单？"
    )
    form = await service.decline_form_defaults(rec.ref)
    await service.decline(rec.ref, actor=ZH_PM, form=form)
    return rec.ref


def email_config(server: SmtpServer) -> EmailConfig:
    return EmailConfig(smtp=parse_smtp_url(server.url), sender=SENDER)


def dispatcher(store: SqlStore, service: IntakeService, server: SmtpServer, **kw: object) -> Dispatcher:
    return Dispatcher(
        store,
        [EmailSink(service, email_config(server))],
        clock=service.clock,
        policy=RetryPolicy(base=0.0, cap=0.0),
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture(name="smtp_server")
def smtp_server_fixture() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()
