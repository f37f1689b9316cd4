"""`intake scope …`: check a request against a project file, or measure the checker on labelled requests.

These commands read project files directly and need no database.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

# The core is imported where it is used, so `intake --help` starts fast (tests/test_cli_startup.py).
if TYPE_CHECKING:
    from bot.domain import Scope, Verdict
    from bot.scope.evaluate import Row
    from bot.scope.llm import ModelJudge, ModelResult


def _load_scope(path: str) -> Scope:
    from bot.projectfile import ProjectFileError, load_project_file

    try:
        return load_project_file(path).scope()
    except ProjectFileError as exc:
        raise click.ClickException(str(exc)) from exc


def _human(v: Verdict, sc: Scope | None = None) -> str:
    lines = [f"{v.verdict.label} ({v.verdict.value}), confidence {v.confidence:.2f}"]
    if v.item_id:
        lines.append(f"item: {v.item_id}")
    if v.candidates:
        lines.append("closest candidates (for the PM to check):")
        for c in v.candidates:
            it = sc.item(c) if sc is not None else None
            kind = "" if it is None or sc is None else (" [excluded]" if it in sc.out_of_scope else "")
            lines.append(f"  - {c}{kind}" + (f": {it.title}" if it is not None else ""))
    if v.clause:
        lines.append(f"clause: {v.clause}")
    for extra in v.extras:
        lines.append(f"extra: {extra}")
    if v.explanation:
        lines.append(f"why: {v.explanation}")
    if v.parts:
        lines.append("parts:")
        for p in v.parts:
            lines.append(f"  - {p.verdict.value}{f' ({p.item_id})' if p.item_id else ''}: {p.text}")
    return "\n".join(lines)


def _verdict_json(v: Verdict) -> dict[str, Any]:
    return {
        "verdict": v.verdict.value,
        "item": v.item_id,
        "score": round(v.score, 3),
        "clause": v.clause,
        "parts": [p.to_dict() for p in v.parts],
        "extras": list(v.extras),
        "explanation": v.explanation,
        "confidence": round(v.confidence, 3),
        "candidates": list(v.candidates),
    }


@click.group("scope")
def scope() -> None:
    """Check requests against a project's scope, and measure the checker."""


@scope.command("check")
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@click.argument("text", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the verdict as JSON.")
@click.option("--jsonl", is_flag=True, help='Read lines {"id", "text"} on standard input; write one verdict line each.')
def scope_check(file: str, text: str | None, as_json: bool, jsonl: bool) -> None:
    """Judge TEXT against the scope in the project FILE (or many requests with --jsonl)."""
    from bot.scope import default_checker

    sc = _load_scope(file)
    checker = default_checker()
    if jsonl:
        if text is not None:
            raise click.UsageError("Give either TEXT or --jsonl, not both.")
        for n, line in enumerate(sys.stdin, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                if not isinstance(row, dict) or not isinstance(row.get("text"), str):
                    raise ValueError('each line needs a "text" string')
            except ValueError as exc:
                raise click.ClickException(f"line {n}: not a valid request line ({exc})") from exc
            v = checker.check(sc, row["text"])
            out = {
                "id": row.get("id"),
                "verdict": v.verdict.value,
                "item": v.item_id,
                "score": round(v.score, 3),
                "confidence": round(v.confidence, 3),
                "candidates": list(v.candidates),
            }
            click.echo(json.dumps(out, ensure_ascii=False))
        return
    if not text or not text.strip():
        raise click.UsageError("Give the request TEXT to check (or use --jsonl).")
    v = checker.check(sc, text)
    click.echo(json.dumps(_verdict_json(v), ensure_ascii=False, indent=2) if as_json else _human(v, sc))


@scope.command("eval")
@click.argument("paths", nargs=-1, required=True, metavar="[DIR] FILE")
@click.option(
    "--judge",
    type=click.Choice(["offline", "llm", "both"]),
    default="offline",
    show_default=True,
    help="offline: the built-in checker. llm: the checker with the language model configured by INTAKE_LLM_* "
    "(what the cards would show, and the model alone). both: each, side by side.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the measures as JSON.")
@click.option("--worst", default=10, show_default=True, help="How many of the worst mistakes to list.")
@click.pass_context
def scope_eval(ctx: click.Context, paths: tuple[str, ...], judge: str, as_json: bool, worst: int) -> None:
    """Measure a judge on labelled requests: FILE is JSON lines {"id", "project", "text", "label", "item"}
    and the project files (*.yaml) are in DIR, or beside FILE when DIR is left out. A folder alone means
    its requests.jsonl."""
    import asyncio

    from bot.scope.evaluate import format_comparison, format_model_report, format_report

    directory, requests = _eval_paths(paths)
    if judge == "offline":
        report = run_eval(directory, requests, worst=worst)
        click.echo(json.dumps(report, ensure_ascii=False, indent=2) if as_json else format_report(report))
        return
    model = _model_from(ctx)

    async def measure() -> dict[str, Any]:
        try:
            return await run_model_eval(model, directory, requests, worst=worst)
        finally:
            await model.aclose()

    with_model = asyncio.run(measure())
    if judge == "llm":
        if as_json:
            click.echo(json.dumps(with_model, ensure_ascii=False, indent=2))
        else:
            click.echo(format_model_report(with_model, model.model))
        return
    offline = run_eval(directory, requests, worst=worst)
    if as_json:
        click.echo(json.dumps({"offline": offline, "llm": with_model}, ensure_ascii=False, indent=2))
        return
    click.echo("== the offline checker ==\n" + format_report(offline))
    click.echo(
        "\n== with the language model (what the cards would show) ==\n" + format_model_report(with_model, model.model)
    )
    click.echo("\n== side by side ==\n" + format_comparison(offline, with_model))


def _eval_paths(paths: tuple[str, ...]) -> tuple[str, str]:
    if len(paths) > 2:
        raise click.UsageError("Give at most two paths: [DIR] FILE.")
    if len(paths) == 2:
        directory, requests = paths
    elif Path(paths[0]).is_dir():
        directory, requests = paths[0], str(Path(paths[0]) / "requests.jsonl")
    else:
        requests = paths[0]
        directory = str(Path(requests).parent)
    if not Path(directory).is_dir():
        raise click.UsageError(f"{directory} is not a folder of project files.")
    if not Path(requests).is_file():
        raise click.UsageError(f"{requests} is not a file of labelled requests.")
    return directory, requests


def _model_from(ctx: click.Context) -> ModelJudge:
    from adapters.llm import model_judge
    from adapters.settings import ConfigError, load_settings

    settings = (ctx.find_root().obj or {}).get("settings") or load_settings()
    try:
        model = model_judge(settings)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    if model is None:
        raise click.ClickException(
            "--judge llm needs a language model: set INTAKE_LLM_URL and INTAKE_LLM_MODEL "
            "(and INTAKE_LLM_API_KEY for a hosted one); see the README."
        )
    return model


async def run_model_eval(model: ModelJudge, directory: str, requests: str, *, worst: int = 10) -> dict[str, Any]:
    """Judge every labelled request with the checker and the model (as many at a time as
    INTAKE_LLM_MAX_CONCURRENT allows; an answer to a question already asked is reused) and measure."""
    import asyncio

    from bot.scope.evaluate import model_report

    scopes = load_scopes(directory)
    rows = load_rows(requests)
    kept: dict[str, dict[str, Any]] = {}

    async def one(row: Row) -> tuple[Row, ModelResult]:
        sc = scopes[row.project]
        key = model.question_key(sc, row.text)
        result = await model.judge(sc, row.text, cached=kept.get(key))
        if result.answer is not None:
            kept.setdefault(key, result.answer.to_dict())
        return row, result

    results = await asyncio.gather(*(one(r) for r in rows if r.project in scopes))
    skipped = [r.id for r in rows if r.project not in scopes]
    return model_report(list(results), skipped=skipped, worst=worst)


def load_scopes(directory: str) -> dict[str, Scope]:
    scopes: dict[str, Scope] = {}
    for path in sorted(Path(directory).iterdir()):
        if path.suffix in (".yaml", ".yml"):
            sc = _load_scope(str(path))
            scopes[sc.project] = sc
    if not scopes:
        raise click.ClickException(f"no project files (*.yaml) in {directory}")
    return scopes


def load_rows(requests: str) -> list[Row]:
    from bot.scope.evaluate import Row

    rows: list[Row] = []
    with open(requests, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rows.append(Row.from_dict(json.loads(line)))
            except (ValueError, TypeError, AttributeError) as exc:
                raise click.ClickException(f"{requests} line {n}: {exc}") from exc
    return rows


def run_eval(directory: str, requests: str, *, worst: int = 10) -> dict[str, Any]:
    from bot.scope import default_checker
    from bot.scope.evaluate import evaluate

    return evaluate(default_checker(), load_scopes(directory), load_rows(requests), worst=worst)
