"""Project files: a valid file loads; every kind of mistake is reported with its file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain import Language
from bot.errors import ProjectFileError
from bot.projectfile import default_prefix, load_project_file, load_project_text
from tests.conftest import EXAMPLES, PROJECT_YAML, SHARED

VALID = """\
project: demo-app
name: Demo App
language: en
client: {name: Demo Ltd, contact: Ann Lee, email: ann@demo.example}
pms: ["pm@demo.example"]
goals:
  - "Ship the demo"
in_scope:
  - {id: login, title: "Login"}
  - {id: search, title: "Search", notes: "By name only."}
out_of_scope:
  - {id: apps, title: "Native apps"}
milestones:
  - {name: Beta, due: 2027-01-15}
capacity: "Two developers"
"""


def problems(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(ProjectFileError) as info:
        load_project_text(text, "demo.yaml")
    return info.value.problems


def test_a_valid_file_loads_with_defaults() -> None:
    p = load_project_text(VALID, "demo.yaml")
    assert p.slug == "demo-app" and p.language is Language.EN and p.ref_prefix == "DEMO"
    assert [i.id for i in p.in_scope] == ["login", "search"] and p.in_scope[1].notes == "By name only."
    assert p.milestones[0].due.isoformat() == "2027-01-15" and p.timezone == "UTC"


def test_the_example_projects_are_valid() -> None:
    for path in sorted(EXAMPLES.glob("*.yaml")):
        assert load_project_file(str(path)).in_scope


def test_the_shared_dev_projects_load() -> None:
    dev = SHARED / "scope-eval" / "dev"
    if not dev.exists():
        pytest.skip("../shared/scope-eval/dev is not present (a fresh clone has no shared folder)")
    for path in sorted(dev.glob("*.yaml")):
        assert load_project_file(str(path)).pms


def test_bad_yaml_names_the_line() -> None:
    text = VALID.replace('  - {id: login, title: "Login"}', '  - {id: login, title: "Login"')
    [(line, _field, msg)] = problems(text)
    assert line == 10 and "not valid YAML" in msg
    with pytest.raises(ProjectFileError, match=r"^demo\.yaml:10: not valid YAML"):
        load_project_text(text, "demo.yaml")


def test_missing_field() -> None:
    text = VALID.replace("name: Demo App\n", "")
    assert (1, "name", "missing required field") in problems(text)


def test_missing_field_inside_an_item() -> None:
    text = VALID.replace(
        '{id: search, title: "Search", notes: "By name only."}', '{id: search, notes: "By name only."}'
    )
    assert (10, "in_scope.title", "missing required field") in problems(text)


def test_unknown_key_lists_the_allowed_ones() -> None:
    text = VALID + "budget: 100000\n"
    [(line, field, msg)] = problems(text)
    assert (line, field) == (16, "budget") and "unknown key 'budget'" in msg and "capacity" in msg


def test_duplicate_item_id() -> None:
    text = VALID.replace('{id: search, title: "Search"', '{id: login, title: "Search"')
    assert (10, "in_scope.id", "duplicate item id 'login'") in problems(text)


def test_an_id_in_both_lists() -> None:
    text = VALID.replace('{id: apps, title: "Native apps"}', '{id: search, title: "Native apps"}')
    assert (12, "out_of_scope.id", "id 'search' is in both in_scope and out_of_scope") in problems(text)


def test_bad_date() -> None:
    text = VALID.replace("due: 2027-01-15", "due: 2027-02-30")
    assert (14, "milestones.due", "'2027-02-30' is not a date (use YYYY-MM-DD)") in problems(text)


def test_unknown_language() -> None:
    text = VALID.replace("language: en", "language: fr")
    assert (3, "language", "unknown language 'fr' (use en or zh)") in problems(text)


def test_bad_email() -> None:
    text = VALID.replace("ann@demo.example", "ann(at)demo")
    assert (4, "client.email", "'ann(at)demo' is not a valid e-mail address") in problems(text)
    text = VALID.replace('pms: ["pm@demo.example"]', 'pms: ["pm@@demo"]')
    assert any(f == "pms" and "not a valid e-mail" in m for _, f, m in problems(text))


def test_duplicate_key_is_not_silently_dropped() -> None:
    text = VALID + "name: Other\n"
    assert (16, "name", "key 'name' appears twice") in problems(text)


def test_every_problem_is_reported_at_once() -> None:
    text = VALID.replace("language: en", "language: fr").replace("due: 2027-01-15", "due: soon")
    assert {f for _, f, _ in problems(text)} == {"language", "milestones.due"}


def test_platform_sections_are_checked() -> None:
    text = VALID + "slack:\n  review_channel: '#client-requests'\n  pms: [U123ABC]\n"
    [(line, field, msg)] = problems(text)
    assert field == "slack.review_channel" and line == 17 and "not a Slack channel id" in msg
    ok = load_project_text(VALID + "slack: {review_channel: C0REVIEW1, intake_channels: [C0INTAKE1], pms: [U0PM1]}\n")
    assert ok.platforms["slack"] == {"review_channel": "C0REVIEW1", "intake_channels": ["C0INTAKE1"], "pms": ["U0PM1"]}


def test_unknown_timezone_and_bad_digest_schedule() -> None:
    text = VALID + "timezone: Mars/Olympus\ndigest: {every: someday 25:00}\n"
    fields = {f for _, f, _ in problems(text)}
    assert fields == {"timezone", "digest.every"}


def test_empty_and_non_mapping_files() -> None:
    assert problems("") == [(None, "", "the file is empty")]
    assert problems("- a\n- b\n")[0][2] == "the file must be a mapping of keys"


def test_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ProjectFileError, match="cannot read the file"):
        load_project_file(str(tmp_path / "missing.yaml"))


def test_default_prefix() -> None:
    assert default_prefix("acme-portal") == "ACME"
    assert default_prefix("3d-shop") == "R3D"


def test_the_test_fixture_project_is_valid() -> None:
    assert load_project_text(PROJECT_YAML).platforms == {}
