"""`intake scope check` and `intake scope eval` through click's runner, on files the test writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.cli.main import cli

PROJECT = """
project: gym-booking
name: Riverside Gym class booking website
language: en
client: {name: Riverside Gym, contact: Ann Lee, email: ann@riverside.example}
pms: ["pm@riverside.example"]
goals: ["Members book fitness classes online"]
in_scope:
  - {id: classes, title: "Class timetable and online class booking", notes: "Members book a place in a class; waiting list when full."}
  - {id: reminders, title: "Class reminders by e-mail", notes: "Sent 2 hours before the class. E-mail only."}
  - {id: invoices, title: "Monthly membership invoices as PDF", notes: "Members download invoices of the last 12 months."}
out_of_scope:
  - {id: apps, title: "Native iOS and Android apps"}
  - {id: nutrition, title: "Nutrition plans and diet tracking"}
"""

LABELLED = [
    {
        "id": "g1",
        "project": "gym-booking",
        "text": "The waiting list is broken for full classes.",
        "label": "in_scope",
        "item": "classes",
        "lang": "en",
        "note": "",
    },
    {
        "id": "g2",
        "project": "gym-booking",
        "text": "Could the timetable also be in an iPhone app?",
        "label": "out_of_scope",
        "item": "apps",
        "lang": "en",
        "note": "hard(trap): app",
    },
    {
        "id": "g3",
        "project": "gym-booking",
        "text": "Could the class reminders also go out by SMS?",
        "label": "unlisted",
        "item": None,
        "lang": "en",
        "note": "hard(trap): channel",
    },
    {
        "id": "g4",
        "project": "gym-booking",
        "text": "会员找不到下载发票的地方。",
        "label": "in_scope",
        "item": "invoices",
        "lang": "zh",
        "note": "hard(crosslang): invoices",
    },
]


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    (tmp_path / "gym.yaml").write_text(PROJECT, encoding="utf-8")
    (tmp_path / "requests.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in LABELLED) + "\n", encoding="utf-8"
    )
    return tmp_path


def test_check_human_readable(project_dir: Path) -> None:
    res = CliRunner().invoke(
        cli, ["scope", "check", str(project_dir / "gym.yaml"), "Could the class reminders also go out by SMS?"]
    )
    assert res.exit_code == 0, res.output
    assert "not in the scope (new work)" in res.output
    assert "extra: SMS" in res.output
    assert "clause: Class reminders by e-mail" in res.output


def test_check_json_with_parts(project_dir: Path) -> None:
    text = "1. the waiting list is broken 2. can we get a diet tracker?"
    res = CliRunner().invoke(cli, ["scope", "check", str(project_dir / "gym.yaml"), text, "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert {"verdict", "item", "score", "clause", "parts"} <= out.keys()
    assert (out["verdict"], out["item"]) == ("out_of_scope", "nutrition")
    assert [p["verdict"] for p in out["parts"]] == ["in_scope", "out_of_scope"]


def test_check_jsonl_keeps_order(project_dir: Path) -> None:
    lines = [{"id": r["id"], "text": r["text"]} for r in LABELLED]
    stdin = "\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n"
    res = CliRunner().invoke(cli, ["scope", "check", str(project_dir / "gym.yaml"), "--jsonl"], input=stdin)
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.output.splitlines()]
    assert [r["id"] for r in rows] == ["g1", "g2", "g3", "g4"]
    assert [r["verdict"] for r in rows] == ["in_scope", "out_of_scope", "unlisted", "in_scope"]
    assert set(rows[0]) == {"id", "verdict", "item", "score", "confidence", "candidates"}


def test_check_jsonl_rejects_a_bad_line(project_dir: Path) -> None:
    res = CliRunner().invoke(cli, ["scope", "check", str(project_dir / "gym.yaml"), "--jsonl"], input='{"id": 1}\n')
    assert res.exit_code != 0
    assert "line 1" in res.output


def test_check_needs_text(project_dir: Path) -> None:
    res = CliRunner().invoke(cli, ["scope", "check", str(project_dir / "gym.yaml")])
    assert res.exit_code == 2


def test_eval_text_and_json(project_dir: Path) -> None:
    args = ["scope", "eval", str(project_dir), str(project_dir / "requests.jsonl")]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    assert "macro-F1=1.000" in res.output and "leak=0.0%" in res.output and "in-scope recall=1.000" in res.output
    assert "confusion" in res.output and "crosslang" in res.output
    res = CliRunner().invoke(cli, [*args, "--json"])
    report = json.loads(res.output)
    assert report["n"] == 4 and report["accuracy"] == 1.0 and report["leak"] == 0.0
    assert report["per_language"]["zh"]["n"] == 1
    assert report["confusion"]["unlisted"]["unlisted"] == 1


def test_eval_reports_a_leak(project_dir: Path) -> None:
    wrong = dict(LABELLED[0], id="g5", label="unlisted", item=None)
    with open(project_dir / "requests.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps(wrong) + "\n")
    res = CliRunner().invoke(cli, ["scope", "eval", str(project_dir), str(project_dir / "requests.jsonl"), "--json"])
    report = json.loads(res.output)
    assert report["leak"] == 0.3333  # one of the three out-of-scope or unlisted requests was called in scope
    assert report["worst"][0]["id"] == "g5"


def test_eval_rejects_a_bad_label(project_dir: Path) -> None:
    (project_dir / "bad.jsonl").write_text('{"id": "x", "project": "gym-booking", "text": "hi", "label": "maybe"}\n')
    res = CliRunner().invoke(cli, ["scope", "eval", str(project_dir), str(project_dir / "bad.jsonl")])
    assert res.exit_code != 0 and "label" in res.output


def test_check_reports_a_broken_project_file(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("project: x\nname: y\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["scope", "check", str(tmp_path / "bad.yaml"), "hello"])
    assert res.exit_code == 1
    assert "in_scope: missing required field" in res.output


def test_check_shows_the_confidence_and_the_candidates(project_dir: Path) -> None:
    gym = str(project_dir / "gym.yaml")
    res = CliRunner().invoke(cli, ["scope", "check", gym, "Could members rate their trainer after a class?"])
    assert res.exit_code == 0, res.output
    assert "(unlisted), confidence 0." in res.output
    assert "closest candidates" in res.output and "- classes: Class timetable" in res.output
    res = CliRunner().invoke(cli, ["scope", "check", gym, "I can't find last year's invoices", "--json"])
    out = json.loads(res.output)
    assert (out["verdict"], out["item"], out["candidates"]) == ("in_scope", "invoices", [])
    assert 0.5 <= out["confidence"] <= 1
