"""`intake scope …`: check a request against a project file, or measure the checker on labelled requests.

These commands read project files directly and need no database.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from bot.domain import Scope, Verdict
from bot.projectfile import ProjectFileError, load_project_file
from bot.scope import default_checker
from bot.scope.evaluate import Row, evaluate, format_report


def _load_scope(path: str) -> Scope:
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
@click.argument("directory", type=click.Path(file_okay=False, exists=True))
@click.argument("requests", type=click.Path(dir_okay=False, exists=True))
@click.option("--json", "as_json", is_flag=True, help="Print the measures as JSON.")
@click.option("--worst", default=10, show_default=True, help="How many of the worst mistakes to list.")
def scope_eval(directory: str, requests: str, as_json: bool, worst: int) -> None:
    """Measure the checker on labelled REQUESTS (JSON lines) against the project files in DIRECTORY."""
    report = run_eval(directory, requests, worst=worst)
    click.echo(json.dumps(report, ensure_ascii=False, indent=2) if as_json else format_report(report))


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
    return evaluate(default_checker(), load_scopes(directory), load_rows(requests), worst=worst)
