"""`intake access`: what was refused for where it came from, and freeing an e-mail address."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from adapters.cli.main import run, settings_from, with_runtime

if TYPE_CHECKING:  # imported where used, so `intake --help` starts fast
    from adapters.runtime import Runtime
    from bot.ports import RefusalRecord


@click.group()
def access() -> None:
    """Payloads refused for where they came from, and e-mail addresses tied to accounts."""


@access.command("refusals")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000), help="How many to show.")
@click.pass_context
def refusals(ctx: click.Context, limit: int) -> None:
    """The latest payloads refused: from another Slack workspace or Microsoft tenant, or an account
    showing an e-mail address that belongs to another account. Newest first."""

    async def go(rt: Runtime) -> list[RefusalRecord]:
        return await rt.store.list_refusals(limit=limit)

    found = run(with_runtime(settings_from(ctx), go))
    if not found:
        click.echo("Nothing was refused.")
        return
    for r in found:
        origin = f" from {r.origin}" if r.origin else ""
        click.echo(f"{r.at:%Y-%m-%d %H:%M:%S} UTC  {r.platform}  {r.reason}{origin}  user {r.user_id}: {r.detail}")


@access.command("forget-email")
@click.argument("email")
@click.option("--platform", type=click.Choice(["slack", "teams"]), help="Only on this platform (default: both).")
@click.pass_context
def forget_email(ctx: click.Context, email: str, platform: str | None) -> None:
    """Untie EMAIL from the account it was first seen with, e.g. when a PM named by e-mail moves to a new
    account: the next account seen with it keeps it."""

    async def go(rt: Runtime) -> int:
        return await rt.store.unbind_email(platform, email)

    n = run(with_runtime(settings_from(ctx), go))
    click.echo(f"{email} is no longer tied to any account." if n else f"{email} was not tied to any account.")
