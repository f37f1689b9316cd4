"""`intake web link EMAIL`: a one-time sign-in link to the web page, for a self-hosted admin to hand out."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from adapters.cli.main import run, settings_from, with_runtime

if TYPE_CHECKING:
    from adapters.runtime import Runtime


@click.group()
def web() -> None:
    """The web page for PMs (/app)."""


@web.command("link")
@click.argument("email")
@click.option(
    "--base-url",
    envvar="INTAKE_PUBLIC_URL",
    default="http://127.0.0.1:3000",
    show_default=True,
    help="Where the server is reached (INTAKE_PUBLIC_URL).",
)
@click.pass_context
def link(ctx: click.Context, email: str, base_url: str) -> None:
    """Print a link that signs EMAIL in to the web page once, within 15 minutes. They see the projects
    whose team they are on (a PM, named in escalate_to, or someone who recorded or decided a request)."""
    from adapters.web.pm.links import link_actor, new_signin_link
    from bot.projectfile import is_email

    if not is_email(email):
        raise click.BadParameter(f"'{email}' is not an e-mail address.", param_hint="EMAIL")

    async def go(rt: Runtime) -> tuple[str, int]:
        url = await new_signin_link(rt.store, email, now=rt.service.clock.now(), base_url=base_url)
        return url, len(await rt.service.visible_projects(link_actor(email)))

    url, projects = run(with_runtime(settings_from(ctx), go, migrate=True))
    if not projects:
        click.echo(f"note: {email} is on no project's team yet, so the page will show them nothing.", err=True)
    click.echo(url)
