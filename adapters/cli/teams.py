"""`intake teams …`: Microsoft Teams helpers."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.group("teams")
def teams() -> None:
    """Microsoft Teams: build the app package to upload."""


@teams.command("package")
@click.option("--app-id", required=True, help="The bot's Microsoft App ID (from its Azure Bot registration).")
@click.option("--url", required=True, help="The server's public https URL, e.g. https://intake.example.com")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("intake-bot-teams.zip"),
    show_default=True,
    help="Where to write the zip.",
)
def package(app_id: str, url: str, out: Path) -> None:
    """Write the Teams app package (manifest.json and the icons) for upload to Teams."""
    from adapters.teams.package import PackageError, write_package

    try:
        path = write_package(app_id, url, out)
    except PackageError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(f"Wrote {path}. Upload it in Teams: Apps → Manage your apps → Upload an app.")
