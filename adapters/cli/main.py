"""The `intake` command."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

import click

# Everything else (the core, the database, the settings) is imported in the commands that use it: a
# command pays only for what it runs, and `intake --help` only for click (tests/test_cli_startup.py).
if TYPE_CHECKING:
    from adapters.runtime import Runtime
    from adapters.settings import Settings
    from bot.domain import RequestRecord

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine; turn the core's errors into a clear message and exit code 1."""
    import asyncio

    from bot.errors import IntakeError

    try:
        return asyncio.run(coro)
    except IntakeError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except Exception as exc:
        # Only a command that read the settings can meet a ConfigError: the others do not import them.
        settings = sys.modules.get("adapters.settings")
        if settings is not None and isinstance(exc, settings.ConfigError):
            click.echo(f"configuration error: {exc}", err=True)
            sys.exit(2)
        raise


def settings_from(ctx: click.Context) -> Settings:
    """The settings, read (and checked) on first use."""
    obj = ctx.find_root().obj
    if "settings" not in obj:
        from adapters.settings import load_settings

        try:
            loaded = load_settings()
        except Exception as exc:  # pydantic's ValidationError: show which variable is wrong, not a traceback
            raise click.ClickException(f"configuration error: {exc}") from exc
        if obj["database_url"]:
            loaded = loaded.model_copy(update={"database_url": obj["database_url"]})
            loaded.__dict__.pop("db_url", None)
        obj["settings"] = loaded
        from bot.scope import semantic

        semantic.configure(loaded.scope_semantic)  # INTAKE_SCOPE_SEMANTIC from an .env file too
    settings: Settings = obj["settings"]
    return settings


def db_url_from(ctx: click.Context) -> str:
    """The database to use. Given by DATABASE_URL or --database-url, it needs none of the other settings
    (a command that only reads the record does not load the settings' validation for them)."""
    given = ctx.find_root().obj["database_url"]
    if given:
        from adapters.runtime import normalize_db_url

        return normalize_db_url(given)
    return settings_from(ctx).db_url


async def with_runtime(
    settings: Settings | None,
    fn: Callable[[Runtime], Awaitable[T]],
    *,
    migrate: bool = False,
    model: bool = False,
    db_url: str | None = None,
) -> T:
    """Open the runtime (on `db_url`, else the settings' database), run `fn` on it, close it. With `model`,
    requests are also judged by the configured language model (the commands that record requests)."""
    from adapters.runtime import open_runtime

    checker = None
    if model:
        from adapters.llm import model_judge

        assert settings is not None
        checker = model_judge(settings)
    url = db_url or (settings.db_url if settings is not None else None)
    assert url is not None
    rt = await open_runtime(url, migrate=migrate, checker=checker)
    try:
        return await fn(rt)
    finally:
        await rt.close()


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--database-url", envvar="DATABASE_URL", help="Database to use (default: a SQLite file in your data folder)."
)
@click.version_option(package_name="intake-bot")
@click.pass_context
def cli(ctx: click.Context, database_url: str | None) -> None:
    """intake-bot: record client requests, check them against the agreed scope, and answer them well."""
    ctx.obj = {"database_url": database_url}  # the settings are read when a command first needs them


# --- db -----------------------------------------------------------------------------------------


@cli.group()
def db() -> None:
    """Set up and upgrade the database."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Apply the database migrations (safe to run again)."""
    from store.migrate import upgrade
    from store.urls import redact

    settings = settings_from(ctx)
    before, after = run(upgrade(settings.db_url))
    where = redact(settings.db_url)
    if before == after:
        click.echo(f"Database {where} is up to date (revision {after}).")
    else:
        click.echo(f"Database {where} upgraded: {before or 'empty'} → {after}.")


@db.command("url")
@click.pass_context
def db_url(ctx: click.Context) -> None:
    """Print the database in use (password hidden)."""
    from store.urls import redact

    click.echo(redact(settings_from(ctx).db_url))


# --- projects -----------------------------------------------------------------------------------


@cli.group()
def project() -> None:
    """Load and inspect project scope files."""


@project.command("load")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.pass_context
def project_load(ctx: click.Context, files: tuple[str, ...]) -> None:
    """Validate project FILES and load them. A file with any problem loads nothing."""
    from bot.errors import IntakeError
    from bot.projectfile import load_project_file

    projects = []
    failed = False
    for f in files:
        try:
            projects.append(load_project_file(f))
        except IntakeError as exc:
            click.echo(f"error: {exc}", err=True)
            failed = True
    if failed:
        sys.exit(1)

    async def go(rt: Runtime) -> None:
        for p in projects:
            res = await rt.service.load_project(p, loaded_by="cli")
            if res.created:
                click.echo(
                    f"Loaded {p.slug} ({p.name}): version 1, {len(p.in_scope)} in scope, {len(p.out_of_scope)} excluded."
                )
            elif res.changed:
                click.echo(f"Updated {p.slug}: now version {res.version} (earlier versions are kept).")
            else:
                click.echo(f"{p.slug} is unchanged (version {res.version}).")

    run(with_runtime(settings_from(ctx), go))


@project.command("list")
@click.pass_context
def project_list(ctx: click.Context) -> None:
    """List the loaded projects."""

    async def go(rt: Runtime) -> None:
        projects = await rt.service.projects()
        if not projects:
            click.echo("No project is loaded yet. Load one with `intake project load FILE`.")
        for p in projects:
            click.echo(f"{p.slug:<24} v{p.version:<3} {p.ref_prefix:<10} {p.language.value}  {p.name}")

    run(with_runtime(settings_from(ctx), go))


@project.command("show")
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True, help="Print the project as JSON.")
@click.pass_context
def project_show(ctx: click.Context, slug: str, as_json: bool) -> None:
    """Show a project's scope as a readable summary."""
    from bot import messages
    from bot.domain import Language

    async def go(rt: Runtime) -> None:
        p = await rt.service.project(slug)
        click.echo(
            json.dumps(p.to_dict(), ensure_ascii=False, indent=2) if as_json else messages.scope_summary(p, Language.EN)
        )

    run(with_runtime(settings_from(ctx), go))


# --- requests and the record --------------------------------------------------------------------


@cli.group()
def request() -> None:
    """Look at recorded requests."""


@request.command("show")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Print the request and its record as JSON.")
@click.pass_context
def request_show(ctx: click.Context, ref: str, as_json: bool) -> None:
    """Show a request's timeline: verdict, decisions, letter and every event."""
    from bot import messages

    async def go(rt: Runtime) -> None:
        rec = await rt.service.get_request(ref)
        if as_json:
            click.echo(json.dumps(record_json(rec), ensure_ascii=False, indent=2))
        else:
            project = await rt.service.project(rec.project)
            now = rt.service.clock.now()
            click.echo(messages.timeline(rec, show_letter=True, tz=project.timezone, now=now))

    run(with_runtime(None, go, db_url=db_url_from(ctx)))


@request.command("list")
@click.option("--project", "slug", help="Only this project.")
@click.option("--all", "show_all", is_flag=True, help="Include decided and withdrawn requests.")
@click.pass_context
def request_list(ctx: click.Context, slug: str | None, show_all: bool) -> None:
    """List requests (open ones unless --all)."""
    from bot import messages
    from bot.domain import Language

    async def go(rt: Runtime) -> None:
        recs = await rt.service.list_requests(project=slug, open_only=not show_all)
        zones = {p.slug: p.timezone for p in await rt.service.projects()}
        now = rt.service.clock.now()
        for rec in recs:
            click.echo(messages.request_line(rec, Language.EN, tz=zones.get(rec.project, "UTC"), now=now))
        if not recs:
            click.echo("No requests." if show_all else "No open requests.")

    run(with_runtime(settings_from(ctx), go))


def record_json(rec: RequestRecord) -> dict[str, Any]:
    """The request's JSON form, shared by `request show --json` and the jsonl export."""
    d = rec.to_dict()
    return {
        k: d[k] for k in ("ref", "project", "status", "text", "requester", "verdict", "decisions", "letter", "events")
    } | {
        k: d[k]
        for k in ("created_at", "scope_version", "source", "client_words", "urgency", "requested_date", "due_at")
    }


CSV_FIELDS = [
    "ref",
    "project",
    "status",
    "created_at",
    "requester",
    "text",
    "verdict",
    "item",
    "score",
    "clause",
    "decision",
    "decided_by",
    "decided_at",
    "letter_subject",
    "letter_status",
    "letter_sent_at",
    "due_at",
    "events",
]


def record_row(rec: RequestRecord) -> dict[str, Any]:
    d = rec.last_decision
    return {
        "ref": rec.ref,
        "project": rec.project,
        "status": rec.status.value,
        "created_at": rec.created_at.isoformat(),
        "requester": rec.requester.display,
        "text": rec.text,
        "verdict": rec.verdict.verdict.value,
        "item": rec.verdict.item_id or "",
        "score": f"{rec.verdict.score:.3f}",
        "clause": rec.verdict.clause,
        "decision": d.kind.value if d else "",
        "decided_by": d.actor.display if d else "",
        "decided_at": d.at.isoformat() if d else "",
        "letter_subject": rec.letter.subject if rec.letter else "",
        "letter_status": rec.letter.status if rec.letter else "",
        "letter_sent_at": rec.letter.sent_at.isoformat() if rec.letter and rec.letter.sent_at else "",
        "due_at": rec.due_at.isoformat() if rec.due_at else "",
        "events": len(rec.events),
    }


def markdown_report(
    project_name: str, slug: str, recs: list[RequestRecord], *, tz: str = "UTC", now: datetime | None = None
) -> str:
    # Each part ends with a line break; the report as a whole does not end with its last entry's.
    parts = [markdown_head(project_name, slug, len(recs)), *(markdown_entry(r, tz=tz, now=now) for r in recs)]
    return "".join(parts)[:-1]


def markdown_head(project_name: str, slug: str, count: int) -> str:
    return "\n".join([f"# Request record: {project_name} ({slug})", "", f"{count} requests.", ""]) + "\n"


def markdown_entry(rec: RequestRecord, *, tz: str = "UTC", now: datetime | None = None) -> str:
    """One request's part of the report, ending with its blank line and a line break."""
    from bot import messages
    from bot.domain import Language
    from bot.review import time_facts
    from bot.text import plain

    out = [f"## {rec.ref}: {rec.status.label}", "", f"> {rec.text}", ""]
    out.append(
        f"- Requested by {rec.requester.display} on {messages.when(rec.created_at)} (scope version {rec.scope_version})"
    )
    out.append(f"- Scope check: {messages.verdict_line(rec.verdict, Language.EN)}")
    for f in time_facts(rec, Language.EN, tz, now):
        value = plain(f.value)
        out.append(f"- {f.label}: **{value}**" if f.strong else f"- {f.label}: {value}")
    for d in rec.decisions:
        out.append(
            f"- Decision: {d.kind.value} by {d.actor.display} on {messages.when(d.at)}"
            + (f": {d.note}" if d.note else "")
        )
    if rec.letter:
        sent = f", sent {messages.when(rec.letter.sent_at)}" if rec.letter.sent_at else ""
        out.append(f"- Letter: “{rec.letter.subject}” ({rec.letter.language.value}, {rec.letter.status}{sent})")
    out += ["", "| when | what | who | detail |", "|---|---|---|---|"]
    for e in rec.events:
        detail = messages.shorten(e.text, 120).replace("|", "\\|")
        out.append(f"| {messages.when(e.at)} | {e.kind} | {e.actor.display} ({e.actor.platform}) | {detail} |")
    out.append("")
    return "\n".join(out) + "\n"


@cli.command("export")
@click.option("--project", "slug", required=True, help="The project whose record to export.")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl", "md"]), default="jsonl", show_default=True)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, writable=True), help="Write to a file instead of stdout."
)
@click.pass_context
def export(ctx: click.Context, slug: str, fmt: str, output: str | None) -> None:
    """Export a project's whole record (requests, verdicts, decisions, letters, events)."""
    import csv
    import io

    async def go(rt: Runtime) -> None:
        project = await rt.service.project(slug)
        # Written a page at a time, so memory stays flat however long the record is. The file is written
        # beside its final name and moved there only once complete.
        with _export_target(output) as out:
            if fmt == "csv":
                buf = io.StringIO()
                w = csv.DictWriter(buf, fieldnames=CSV_FIELDS)
                w.writeheader()
            now = rt.service.clock.now()
            pending = ""  # the markdown report ends without its last part's final line break
            if fmt == "md":
                head = markdown_head(project.name, project.slug, await rt.service.export_count(slug))
                out.write(head[:-1])
                pending = head[-1:]
            async for page in rt.service.export_pages(slug):
                if fmt == "jsonl":
                    out.write("".join(json.dumps(record_json(r), ensure_ascii=False) + "\n" for r in page))
                elif fmt == "csv":
                    for r in page:
                        w.writerow(record_row(r))
                    out.write(buf.getvalue())
                    buf.seek(0)
                    buf.truncate()
                else:
                    text = pending + "".join(markdown_entry(r, tz=project.timezone, now=now) for r in page)
                    out.write(text[:-1])
                    pending = text[-1:]
            if fmt == "csv":
                out.write(buf.getvalue())

    run(with_runtime(settings_from(ctx), go))
    if output:
        click.echo(f"Wrote {output}.", err=True)


@contextlib.contextmanager
def _export_target(output: str | None) -> Iterator[TextIO]:
    if not output:
        yield sys.stdout
        return
    part = f"{output}.part"
    try:
        with open(part, "w", encoding="utf-8", newline="") as fh:
            yield fh
        os.replace(part, output)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(part)


# --- the terminal bot ---------------------------------------------------------------------------


@cli.command("chat")
@click.option("--project", "slug", help="Project to work on (default: the first one loaded).")
@click.option("--as", "as_who", metavar="EMAIL", help="Who you are, e.g. 'Dana Lee <dana@example.com>'.")
@click.pass_context
def chat(ctx: click.Context, slug: str | None, as_who: str | None) -> None:
    """Run the bot in this terminal (reads commands from a person or from piped stdin)."""
    from adapters.console.chat import ConsoleBot, actor_from
    from adapters.email.config import email_config, eml_sender

    actor = actor_from(as_who) if as_who else None
    settings = settings_from(ctx)

    async def go(rt: Runtime) -> int:
        email = email_config(settings)  # the terminal sends e-mail too when SMTP_URL is set
        bot = ConsoleBot(rt.service, actor=actor, project=slug, email=email, eml_sender=eml_sender(settings))
        return await bot.run()

    code = run(with_runtime(settings, go, migrate=True, model=True))
    sys.exit(code)


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=3000, show_default=True, type=int, help="Port to listen on.")
@click.option("--socket-mode", is_flag=True, help="Take Slack's requests over Socket Mode (needs SLACK_APP_TOKEN).")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, socket_mode: bool) -> None:
    """Run the server for Slack and Teams (migrations are applied on start)."""
    from adapters.web.serve import serve as serve_app

    run(serve_app(settings_from(ctx), host=host, port=port, socket_mode=socket_mode))


def _register_area_commands() -> None:
    """Commands of each outside world live in their own module; they use the helpers above."""
    from adapters.cli.access import access
    from adapters.cli.letter import digest, letter, request_outcome
    from adapters.cli.pm import pm
    from adapters.cli.report import report
    from adapters.cli.scope import scope
    from adapters.cli.slack import slack
    from adapters.cli.teams import teams
    from adapters.cli.web import web

    cli.add_command(letter)
    cli.add_command(digest)
    request.add_command(request_outcome)
    cli.add_command(teams)
    cli.add_command(scope)
    cli.add_command(slack)
    cli.add_command(pm)
    cli.add_command(access)
    cli.add_command(report)
    cli.add_command(web)


_register_area_commands()


def main() -> None:
    cli(prog_name="intake")


if __name__ == "__main__":
    main()
