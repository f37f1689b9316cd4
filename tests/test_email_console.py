"""Sending from the terminal bot and the `intake` command: confirmation with the recipients, the send
status afterwards, the .eml download, the meeting outcome, and a clear refusal when SMTP is not set up."""

from __future__ import annotations

import asyncio
import io
from email import message_from_bytes, policy
from pathlib import Path

from click.testing import CliRunner

from adapters.cli.main import cli
from adapters.console.chat import ConsoleBot
from bot.domain import Actor
from bot.projectfile import load_project_text
from bot.service import IntakeService
from store.repo import SqlStore
from tests.conftest import PM, PROJECT_YAML
from tests.email_support import (
    MEETING_FORM,
    declined,
    email_config,
    smtp_server_fixture,  # noqa: F401  (fixture)
)
from tests.support.smtp import SmtpServer


class Terminal:
    def __init__(self, service: IntakeService, actor: Actor, **kw: object) -> None:
        self.out = io.StringIO()
        self.bot = ConsoleBot(
            service,
            actor=actor,
            project="acme-portal",
            stdin=io.StringIO(""),
            stdout=self.out,
            interactive=False,
            **kw,  # type: ignore[arg-type]
        )

    async def say(self, *lines: str) -> str:
        self.bot.stdin = io.StringIO("".join(line + "\n" for line in lines[1:]))
        start = self.out.tell()
        await self.bot.handle(lines[0])
        return self.out.getvalue()[start:]


async def test_the_terminal_sends_only_after_the_pm_confirms_the_recipients(
    service: IntakeService, smtp_server: SmtpServer
) -> None:
    ref = await declined(service)
    term = Terminal(service, PM, email=email_config(smtp_server))
    out = await term.say(f"/letter {ref} send", "no")
    assert "To: Jane Doe <jane.doe@acme.example>" in out and "Cc: Pat Morgan <pm@acme.example>" in out
    assert "Nothing was sent." in out and smtp_server.received == []
    out = await term.say(f"/letter {ref} send", "yes")
    assert "Send status: sent by e-mail at 2026-11-03 10:30 CET." in out and "Message-ID" not in out
    assert len(smtp_server.received) == 1
    out = await term.say(f"/letter {ref} send")
    assert "already sent at 2026-11-03 10:30 CET by e-mail" in out and "Send it now" not in out
    assert "Send status: sent" in await term.say(f"/letter {ref}")
    out = await term.say(f"/letter {ref} send again", "yes")
    assert "Send the letter for" in out and " again by e-mail?" in out
    assert len(smtp_server.received) == 2


async def test_the_terminal_can_send_to_an_address_the_pm_types(
    service: IntakeService, smtp_server: SmtpServer
) -> None:
    ref = await declined(service)
    term = Terminal(service, PM, email=email_config(smtp_server))
    out = await term.say(f"/letter {ref} send jo.buyer@acme.example", "yes")
    assert "To: jo.buyer@acme.example" in out
    assert smtp_server.received[0].rcpt_tos == ["jo.buyer@acme.example", "pm@acme.example"]


async def test_the_terminal_shows_a_failed_send_with_the_servers_reason(
    service: IntakeService, smtp_server: SmtpServer
) -> None:
    ref = await declined(service)
    smtp_server.handler.answers = ["550 5.7.1 Relaying denied"]
    term = Terminal(service, PM, email=email_config(smtp_server))
    out = await term.say(f"/letter {ref} send", "yes")
    assert "Send status: failed: The mail server at smtp://127.0.0.1:" in out and "550 5.7.1 Relaying denied" in out


async def test_without_smtp_the_terminal_says_so_and_saves_an_eml(service: IntakeService, tmp_path: Path) -> None:
    ref = await declined(service)
    term = Terminal(service, PM)
    out = await term.say(f"/letter {ref} send")
    assert "Sending e-mail is not set up here" in out and f"/letter {ref} eml" in out
    target = tmp_path / "letter.eml"
    out = await term.say(f"/letter {ref} eml {target}")
    assert f"Saved the letter as {target}" in out
    msg = message_from_bytes(target.read_bytes(), policy=policy.default)
    assert msg["To"] == "Jane Doe <jane.doe@acme.example>" and msg["X-Intake-Request"] == ref


async def test_the_terminal_records_a_meetings_outcome(service: IntakeService) -> None:
    ref = await declined(service, MEETING_FORM)
    term = Terminal(service, PM)
    assert f"You can: /outcome {ref}, /correct {ref}" in await term.say(f"/show {ref}")
    out = await term.say(f"/outcome {ref} Agreed on a web view.")
    assert f"Recorded the outcome of the meeting about {ref}." in out
    out = await term.say(f"/show {ref}")
    assert "outcome_recorded" in out and "Agreed on a web view." in out and "/outcome" not in out


def _prepared_database(url: str, form: object = None) -> str:
    async def setup() -> str:
        store = SqlStore.from_url(url)
        try:
            svc = IntakeService(store)
            await svc.load_project(load_project_text(PROJECT_YAML, "acme.yaml"))
            return await declined(svc, form) if form else await declined(svc)  # type: ignore[arg-type]
        finally:
            await store.close()

    return asyncio.run(setup())


def test_intake_letter_send_confirms_sends_and_refuses_a_second_send(sqlite_url: str, smtp_server: SmtpServer) -> None:
    ref = _prepared_database(sqlite_url)
    env = {
        "DATABASE_URL": sqlite_url,
        "SMTP_URL": smtp_server.url,
        "INTAKE_MAIL_FROM": "Acme PMO <pmo@northbeam.example>",
    }
    runner = CliRunner()
    declined_no = runner.invoke(cli, ["letter", "send", ref], env=env, input="n\n")
    assert declined_no.exit_code == 1 and "To: Jane Doe <jane.doe@acme.example>" in declined_no.output
    assert "Nothing was sent." in declined_no.output and smtp_server.received == []
    sent = runner.invoke(cli, ["letter", "send", ref, "--yes"], env=env)
    assert sent.exit_code == 0, sent.output
    assert "Send status: sent by e-mail at" in sent.output and len(smtp_server.received) == 1
    again = runner.invoke(cli, ["letter", "send", ref, "--yes"], env=env)
    assert again.exit_code == 1 and "already sent" in again.output and len(smtp_server.received) == 1
    forced = runner.invoke(cli, ["letter", "send", ref, "--yes", "--again"], env=env)
    assert forced.exit_code == 0 and len(smtp_server.received) == 2
    missing = runner.invoke(cli, ["letter", "send", "ACME-99", "--yes"], env=env)
    assert missing.exit_code == 1 and "There is no request ACME-99" in missing.output


def test_intake_letter_send_without_smtp_explains_what_to_set(sqlite_url: str) -> None:
    ref = _prepared_database(sqlite_url)
    result = CliRunner().invoke(cli, ["letter", "send", ref, "--yes"], env={"DATABASE_URL": sqlite_url, "SMTP_URL": ""})
    assert result.exit_code == 2
    assert "SMTP_URL is not set" in result.output and "intake letter eml" in result.output


def test_intake_letter_send_with_an_unreachable_server_keeps_it_queued(sqlite_url: str) -> None:
    from tests.support.smtp import free_port

    ref = _prepared_database(sqlite_url)
    env = {
        "DATABASE_URL": sqlite_url,
        "SMTP_URL": f"smtp://127.0.0.1:{free_port()}?timeout=2",
        "INTAKE_MAIL_FROM": "p@northbeam.example",
    }
    result = CliRunner().invoke(cli, ["letter", "send", ref, "--yes"], env=env)
    assert result.exit_code == 1
    assert "Send status: queued" in result.output and "Not sent yet: Cannot reach the mail server" in result.output


def test_intake_request_outcome_records_it(sqlite_url: str) -> None:
    ref = _prepared_database(sqlite_url, MEETING_FORM)
    result = CliRunner().invoke(
        cli,
        ["request", "outcome", ref, "Agreed", "to", "revisit", "after", "go-live."],
        env={"DATABASE_URL": sqlite_url},
    )
    assert result.exit_code == 0, result.output
    assert f"Recorded the outcome of the meeting about {ref}; it is now declined, client answered." in result.output
    shown = CliRunner().invoke(cli, ["request", "show", ref], env={"DATABASE_URL": sqlite_url})
    assert "Agreed to revisit after go-live." in shown.output


def test_intake_digest_prints_the_update_and_sends_it_with_send(sqlite_url: str, smtp_server: SmtpServer) -> None:
    ref = _prepared_database(sqlite_url)
    runner = CliRunner()
    printed = runner.invoke(
        cli, ["digest", "--project", "acme-portal", "--since", "2026-01-01"], env={"DATABASE_URL": sqlite_url}
    )
    assert printed.exit_code == 0, printed.output
    assert printed.output.startswith("Subject: Update on your requests: Acme Customer Portal (")
    assert "Dear Jane Doe," in printed.output and ref in printed.output and smtp_server.received == []
    env = {
        "DATABASE_URL": sqlite_url,
        "SMTP_URL": smtp_server.url,
        "INTAKE_MAIL_FROM": "Acme PMO <pmo@northbeam.example>",
    }
    sent = runner.invoke(cli, ["digest", "--project", "acme-portal", "--send"], env=env)
    assert sent.exit_code == 0, sent.output
    assert "Sent “Update on your requests: Acme Customer Portal" in sent.output
    (got,) = smtp_server.received
    assert got.message["To"] == "Jane Doe <jane.doe@acme.example>"
    unknown = runner.invoke(cli, ["digest", "--project", "nope"], env={"DATABASE_URL": sqlite_url})
    assert unknown.exit_code == 1 and "There is no project called 'nope'" in unknown.output
