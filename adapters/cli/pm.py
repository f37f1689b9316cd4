"""`intake pm away|back|list`: a PM away with a delegate, from the command line."""

from __future__ import annotations

from datetime import date
from email.utils import parseaddr
from typing import TYPE_CHECKING

import click

from adapters.cli.main import run, settings_from, with_runtime

# The core is imported where it is used, so `intake --help` starts fast.
if TYPE_CHECKING:
    from adapters.runtime import Runtime
    from bot.domain import Actor


def person(value: str, what: str) -> Actor:
    """Someone named by e-mail on the command line (`dana@x.example` or `Dana Lee <dana@x.example>`)."""
    from bot.domain import Actor
    from bot.errors import InvalidInput
    from bot.projectfile import is_email

    name, address = parseaddr(value)
    address = address.lower()
    if not is_email(address):
        raise InvalidInput(f"{what} '{value}' is not an e-mail address.")
    return Actor("cli", address, email=address, name=name or None)


def day(value: str) -> date:
    from bot.errors import InvalidInput
    from bot.text import Phrase

    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(Phrase("err.away_bad_date", text=value)) from None


@click.group()
def pm() -> None:
    """A PM away with someone standing in for them (reminders and decisions go to the delegate)."""


@pm.command("away")
@click.argument("email")
@click.option("--until", "until", required=True, metavar="YYYY-MM-DD", help="The day the PM is back.")
@click.option("--delegate", "delegate", required=True, metavar="EMAIL", help="Who stands in for them.")
@click.pass_context
def pm_away(ctx: click.Context, email: str, until: str, delegate: str) -> None:
    """EMAIL, a PM, is away until a day; the delegate gets their reminders and may decide in their place.

    It ends by itself on that day (at midnight in the project's time zone), or with `intake pm back`.
    """
    from bot.domain import Language
    from bot.timekeeping import away_phrase

    async def go(rt: Runtime) -> None:
        absence = await rt.service.set_away(
            person(email, "EMAIL"), until=day(until), delegate=person(delegate, "--delegate")
        )
        projects = [p for p in await rt.service.projects() if p.is_pm(absence.person)]
        click.echo(away_phrase("away.set", absence, projects).render(Language.EN))

    run(with_runtime(settings_from(ctx), go))


@pm.command("back")
@click.argument("email")
@click.pass_context
def pm_back(ctx: click.Context, email: str) -> None:
    """EMAIL is back before the day they gave: reminders go to them again."""

    async def go(rt: Runtime) -> None:
        absence = await rt.service.end_away(person(email, "EMAIL"))
        click.echo(f"{absence.person.display} is back; {absence.delegate.display} no longer stands in for them.")

    run(with_runtime(settings_from(ctx), go))


@pm.command("list")
@click.pass_context
def pm_list(ctx: click.Context) -> None:
    """The PMs who are away now, until when, and who stands in."""

    async def go(rt: Runtime) -> None:
        absences = await rt.service.absences()
        if not absences:
            click.echo("No PM is away.")
        for a in absences:
            click.echo(f"{a.person.display:<32} away until {a.until.isoformat()}  stands in: {a.delegate.display}")

    run(with_runtime(settings_from(ctx), go))
