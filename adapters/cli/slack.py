"""`intake slack …`: help setting up the Slack app."""

from __future__ import annotations

import sys

import click


@click.group("slack")
def slack() -> None:
    """Set up the Slack app."""


@slack.command("manifest")
@click.option("--url", help="The server's public base URL, e.g. https://intake.example.com")
@click.option("--socket-mode", is_flag=True, help="A manifest for Socket Mode (no public URL needed).")
def manifest(url: str | None, socket_mode: bool) -> None:
    """Print the Slack app manifest (YAML) to create the app from."""
    from adapters.settings import ConfigError
    from adapters.slack.manifest import manifest_yaml

    try:
        click.echo(manifest_yaml(url, socket_mode=socket_mode), nl=False)
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
