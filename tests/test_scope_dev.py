"""Regression floor on the shared development set (skips when it is not beside the repository)."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.cli.scope import run_eval

DEV = Path(__file__).resolve().parent.parent.parent / "shared" / "scope-eval" / "dev"
OWN = Path(__file__).resolve().parent.parent / "bench" / "scope" / "projects"
TUNE = Path(__file__).resolve().parent.parent / "bench" / "scope" / "tune"


@pytest.mark.skipif(
    not (DEV / "requests.jsonl").is_file(), reason="the shared scope-eval dev set is not beside the repository"
)
def test_dev_set_floor() -> None:
    report = run_eval(str(DEV), str(DEV / "requests.jsonl"))
    # Floors at what the checker reaches now (see bench/scope), so a change that makes it worse fails. The
    # learned decision is trained on this set among 71 projects; its hand-written rules had been tuned on this
    # set alone (0.94 then). Trained on 43 projects it reached 0.93 here, mostly by fitting this set: held out
    # (python -m bench.scope.learn) it reaches about 0.85 either way, and that is now also what it reaches
    # trained on it. The floor guards against going back, it does not measure an unseen project.
    assert report["macro_f1"] >= 0.85
    assert report["leak"] <= 0.03
    assert report["per_language"]["en"]["macro_f1"] >= 0.83
    assert report["per_language"]["zh"]["macro_f1"] >= 0.88


def test_own_held_out_projects_floor() -> None:
    report = run_eval(str(OWN), str(OWN / "requests.jsonl"))
    assert report["macro_f1"] >= 0.86
    assert report["leak"] <= 0.03


def test_unseen_style_tuning_half_floor() -> None:
    # The tuning half of the unseen-style projects: changes were chosen by watching it, so this guards
    # against going back, not a measure of unseen projects (bench/scope/final is, measured once). Held out it
    # reaches about 0.84, as it does now trained on it among 71 projects (0.90 when it was trained on 43).
    report = run_eval(str(TUNE), str(TUNE / "requests.jsonl"))
    assert report["macro_f1"] >= 0.83
    assert report["leak"] <= 0.03
