"""`intake letter send|eml`, `intake request outcome` and `intake digest`: letters and updates to the client."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from adapters.cli.main import run, settings_from, with_runtime

# The mail side and the core are imported where they are used, so `intake --help` starts fast.
if TYPE_CHECKING:
    from adapters.runtime import Runtime


@click.group("letter")
def letter() -> None:
    """Send a declined request's letter to the client by e-mail, or save it as an .eml file."""


@letter.command("send")
@click.argument("ref")
@click.option(
    "--to",
    "to",
    multiple=True,
    metavar="ADDRESS",
    help="Send to this address instead of the client contact (repeatable).",
)
@click.option("--again", is_flag=True, help="Send a letter that was already sent once more (with a new Message-ID).")
@click.option("--yes", "-y", is_flag=True, help="Send without asking for confirmation (for scripts).")
@click.option("--as", "as_who", metavar="EMAIL", help="The PM who sends it (default: the PM who declined).")
@click.pass_context
def letter_send(ctx: click.Context, ref: str, to: tuple[str, ...], again: bool, yes: bool, as_who: str | None) -> None:
    """Send the letter for REF to the client by e-mail, after showing the recipients."""
    from adapters.cli.delivery import cli_actor, deliver_now, require_email
    from bot import messages
    from bot.domain import Language
    from bot.errors import IllegalMove

    settings = settings_from(ctx)

    async def go(rt: Runtime) -> int:
        config = require_email(settings)
        rec = await rt.service.get_request(ref)
        if rec.letter is None:
            raise IllegalMove(f"{rec.ref} has no letter to send (it is {rec.status.label}).")
        actor = cli_actor(as_who, rec)
        typed = list(to) or None
        rcpt = await rt.service.letter_email_recipients(rec.ref, actor=actor, recipients=typed, again=again)
        assert rec.letter is not None  # letter_email_recipients refuses a request without one
        click.echo(messages.send_confirmation(rec, rec.letter, rcpt.summary(), Language.EN))
        if not yes and not click.confirm("Send it now?", default=False):
            click.echo("Nothing was sent.")
            return 1
        await rt.service.send_letter_email(rec.ref, actor=actor, recipients=typed, again=again, confirmed=rcpt)
        sink = await deliver_now(rt, config)
        rec = await rt.service.get_request(rec.ref)
        assert rec.letter is not None
        click.echo(messages.send_status_line(rec.letter, Language.EN))
        if rec.letter.status == "queued":
            reason = sink.errors[-1] if sink.errors else "the mail server has not answered yet"
            click.echo(f"Not sent yet: {reason}. It stays queued; `intake serve` with SMTP_URL set retries it.")
        return 0 if rec.letter.status == "sent" else 1

    sys.exit(run(with_runtime(settings, go)))


@letter.command("eml")
@click.argument("ref")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), help="Write to FILE, not stdout.")
@click.option("--to", "to", multiple=True, metavar="ADDRESS", help="Address it to this address instead of the client.")
@click.pass_context
def letter_eml_command(ctx: click.Context, ref: str, output: str | None, to: tuple[str, ...]) -> None:
    """Write the letter for REF as an e-mail file (.eml) to open in a mail program."""
    from adapters.email.actions import letter_eml
    from adapters.email.config import eml_sender

    settings = settings_from(ctx)

    async def go(rt: Runtime) -> tuple[str, bytes]:
        return await letter_eml(rt.service, ref, actor=None, sender=eml_sender(settings), recipients=list(to) or None)

    _name, data = run(with_runtime(settings, go))
    if output:
        with open(output, "wb") as fh:
            fh.write(data)
        click.echo(f"Wrote {output}.", err=True)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()


@click.command("outcome")
@click.argument("ref")
@click.argument("text", nargs=-1, required=True)
@click.option("--as", "as_who", metavar="EMAIL", help="The PM recording it (default: the PM who declined).")
@click.pass_context
def request_outcome(ctx: click.Context, ref: str, text: tuple[str, ...], as_who: str | None) -> None:
    """Record what came of REF's answer: what was agreed in the meeting, or what the client replied to the
    letter."""
    from adapters.cli.delivery import cli_actor

    async def go(rt: Runtime) -> None:
        rec = await rt.service.get_request(ref)
        rec = await rt.service.record_outcome(rec.ref, actor=cli_actor(as_who, rec), text=" ".join(text))
        what = "the meeting about" if rec.answered_by_meeting else "the client's reply about"
        click.echo(f"Recorded the outcome of {what} {rec.ref}; it is now {rec.status.label}.")

    run(with_runtime(settings_from(ctx), go))


@click.command("digest")
@click.option("--project", "slug", required=True, help="The project whose client gets the update.")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Report decisions since this date (default: the last update, or a week ago).",
)
@click.option("--send", is_flag=True, help="Send it to the client by e-mail (otherwise it is only printed).")
@click.pass_context
def digest(ctx: click.Context, slug: str, since: datetime | None, send: bool) -> None:
    """Build the client's update on their requests; print it, or send it with --send."""
    from adapters.cli.delivery import deliver_now, require_email

    settings = settings_from(ctx)
    start = since.replace(tzinfo=UTC) if since else None

    async def go(rt: Runtime) -> int:
        if not send:
            d = await rt.service.build_digest(slug, since=start)
            click.echo(f"Subject: {d.subject}\n\n{d.body_text}", nl=False)
            return 0
        config = require_email(settings)
        queued = await rt.service.send_digest(slug, since=start)
        assert queued is not None  # no period and no skip_empty: always queued
        sink = await deliver_now(rt, config)
        if sink.results:
            click.echo(f"Sent “{queued.subject}” ({len(queued.open)} open, {len(queued.decided)} decided).")
            return 0
        reason = sink.errors[-1] if sink.errors else "the mail server has not answered yet"
        click.echo(f"Not sent yet: {reason}. It stays queued; `intake serve` with SMTP_URL set retries it.")
        return 1

    sys.exit(run(with_runtime(settings, go)))
