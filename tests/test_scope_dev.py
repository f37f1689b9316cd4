"""Regression floor on the shared development set (skips when it is not beside the repository)."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.cli.scope import run_eval

DEV = Path(__file__).resolve().parent.parent.parent / "shared" / "scope-eval" / "dev"
OWN = Path(__file__).resolve().parent.parent / "bench" / "scope" / "projects"


@pytest.mark.skipif(
    not (DEV / "requests.jsonl").is_file(), reason="the shared scope-eval dev set is not beside the repository"
)
def test_dev_set_floor() -> None:
    report = run_eval(str(DEV), str(DEV / "requests.jsonl"))
    # Floors at what the checker reaches now (see bench/scope), so a change that makes it worse fails.
    # (An "also …" request its item explains only in part is now "not sure", which costs two dev requests
    # and halves the leaks on projects the checker has never seen.)
    assert report["macro_f1"] >= 0.94
    assert report["leak"] <= 0.02
    assert report["per_language"]["en"]["macro_f1"] >= 0.925
    assert report["per_language"]["zh"]["macro_f1"] >= 0.96


def test_own_held_out_projects_floor() -> None:
    report = run_eval(str(OWN), str(OWN / "requests.jsonl"))
    assert report["macro_f1"] >= 0.88
    assert report["leak"] <= 0.03
