"""The Teams app package and the cards: valid against the official schemas; the .eml link and file."""

from __future__ import annotations

import email
import json
import zipfile
from datetime import UTC, datetime, timedelta
from email import policy
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from adapters.cli.main import cli
from adapters.teams import cards
from adapters.teams.download import BadToken, build_eml, sign_token, verify_token
from adapters.teams.package import MANIFEST_DIR, PackageError, build_manifest
from bot.domain import Letter, RequestStatus
from bot.projectfile import load_project_text
from tests.conftest import PROJECT_YAML, SHARED

SCHEMAS = SHARED / "schemas"
APP_ID = "1b2c3d4e-0000-4000-8000-00000000abcd"
NOW = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)


def validator(name: str) -> Any:
    path = SCHEMAS / name
    if not path.exists():
        pytest.skip(f"{path} is not here (the shared schemas sit beside the repository); cannot validate")
    from jsonschema import Draft7Validator

    return Draft7Validator(json.loads(path.read_text(encoding="utf-8")))


def assert_valid(v: Any, doc: dict[str, Any]) -> None:
    errors = sorted(v.iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


# --- manifest and package ------------------------------------------------------------------------


def test_the_manifest_template_and_a_built_manifest_are_valid() -> None:
    v = validator("teams-manifest-1.22.json")
    template = json.loads((MANIFEST_DIR / "manifest.json").read_text(encoding="utf-8"))
    assert_valid(v, template)
    built = build_manifest(APP_ID, "https://intake.acme.example/bot")
    assert_valid(v, built)
    assert built["manifestVersion"] == "1.22"
    assert built["id"] == built["bots"][0]["botId"] == APP_ID
    assert built["validDomains"] == ["intake.acme.example"]
    bot = built["bots"][0]
    assert set(bot["scopes"]) == {"team", "groupChat", "personal"}
    titles = [c["title"] for c in bot["commandLists"][0]["commands"]]
    assert titles == ["request", "scope", "requests", "answer", "help"]


def test_the_schema_check_really_checks() -> None:
    v = validator("teams-manifest-1.22.json")
    broken = build_manifest(APP_ID, "https://intake.acme.example")
    broken["manifestVersion"] = "1.21"
    assert list(v.iter_errors(broken))


def test_icons_have_the_sizes_teams_requires_and_the_outline_is_white_on_transparent() -> None:
    from PIL import Image

    color = Image.open(MANIFEST_DIR / "color.png")
    outline = Image.open(MANIFEST_DIR / "outline.png").convert("RGBA")
    assert color.size == (192, 192)
    assert outline.size == (32, 32)
    colours = {px for px in outline.get_flattened_data() if px[3] > 0}  # type: ignore[attr-defined]
    assert colours and all(px[:3] == (255, 255, 255) for px in colours)
    assert any(px[3] == 0 for px in outline.get_flattened_data())  # type: ignore[attr-defined]


def test_intake_teams_package_writes_the_zip(tmp_path: Path) -> None:
    out = tmp_path / "app.zip"
    result = CliRunner().invoke(
        cli, ["teams", "package", "--app-id", APP_ID, "--url", "https://bot.acme.example", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as zf:
        assert sorted(zf.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(zf.read("manifest.json"))
    assert manifest["bots"][0]["botId"] == APP_ID and manifest["developer"]["websiteUrl"] == "https://bot.acme.example"


@pytest.mark.parametrize(
    ("app_id", "url", "why"), [("not-a-guid", "https://x.example", "GUID"), (APP_ID, "http://x.example", "https")]
)
def test_package_refuses_a_bad_app_id_or_url(app_id: str, url: str, why: str) -> None:
    with pytest.raises(PackageError, match=why):
        build_manifest(app_id, url)
    result = CliRunner().invoke(cli, ["teams", "package", "--app-id", app_id, "--url", url, "--out", "/dev/null"])
    assert result.exit_code == 1 and why in result.output


# --- cards -------------------------------------------------------------------------------------


def snapshot(status: str = "in_review", decisions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "ref": "ACME-7",
        "project": "acme-portal",
        "status": status,
        "text": "We need a native iOS app for the portal",
        "requester": {"platform": "teams", "user_id": "29:sam", "email": None, "name": "Sam Reed"},
        "verdict": {
            "verdict": "out_of_scope",
            "item": "mobile",
            "score": 0.8,
            "clause": "Native iOS and Android apps",
            "parts": [],
            "extras": [],
            "explanation": "",
        },
        "decisions": decisions or [],
    }


DECLINED = [
    {
        "kind": "decline",
        "by": {"platform": "teams", "user_id": "29:pat", "email": None, "name": "Pat Morgan"},
        "at": "2026-11-03T10:00:00+00:00",
        "note": "",
        "form": {"channel": "email"},
    }
]


def every_card() -> dict[str, dict[str, Any]]:
    from bot.domain import Channel, DeclineForm, ReasonCategory

    form = DeclineForm(ReasonCategory.PROJECT_GOALS, "Outside the agreed scope.", (), "We understand.", Channel.EMAIL)
    letter = {
        "subject": "Your request ACME-7",
        "body_text": "Dear Jane,\n\nThank you.",
        "language": "en",
        "status": "draft",
        "tone": [
            {"rule": "reason", "passed": True, "detail": "Gives a reason"},
            {"rule": "we", "passed": False, "detail": "Says I"},
        ],
    }
    return {
        "review": cards.review_card(snapshot()),
        "review_declined": cards.review_card(snapshot("letter_drafted", DECLINED)),
        "approve_form": cards.approve_form(snapshot(), error="Give an estimate."),
        "ask_form": cards.ask_form(snapshot()),
        "decline_form": cards.decline_form(snapshot(), form, error="Pick a reason."),
        "request_form": cards.request_form([("acme-portal", "Acme"), ("other", "Other")]),
        "question": cards.question_card("ACME-7", "Which hours?"),
        "letter": cards.letter_card(
            "ACME-7", letter, download_url="https://bot.example/teams/letters/x", can_send_email=True
        ),
        "letter_edit": cards.letter_edit_form("ACME-7", letter),
    }


@pytest.mark.parametrize("name", list(every_card()))
def test_every_card_is_a_valid_adaptive_card_1_5(name: str) -> None:
    v = validator("adaptive-card-1.5.json")
    assert_valid(v, every_card()[name])


def test_review_card_buttons_are_titled_exactly_and_go_when_decided() -> None:
    open_card = cards.review_card(snapshot())
    assert [a["title"] for a in open_card["actions"]] == ["Approve", "Decline", "Ask for details"]
    assert all(a["type"] == "Action.Execute" and a["fallback"]["type"] == "Action.Submit" for a in open_card["actions"])
    assert all(a["data"] == a["fallback"]["data"] for a in open_card["actions"])
    declined = cards.review_card(snapshot(RequestStatus.LETTER_DRAFTED.value, DECLINED))
    assert "actions" not in declined
    assert "Declined by Pat Morgan at 2026-11-03 10:00 UTC: answering the client by email" in json.dumps(
        declined, ensure_ascii=False
    )


def test_letter_card_offers_send_email_only_when_an_email_sender_exists() -> None:
    letter = {"subject": "S", "body_text": "B", "status": "draft", "tone": []}
    titles = [a["title"] for a in cards.letter_card("ACME-7", letter, download_url="https://x/y")["actions"]]
    assert titles == ["Edit", "Download .eml", "Mark as sent"]
    titles = [a["title"] for a in cards.letter_card("ACME-7", letter, can_send_email=True)["actions"]]
    assert titles == ["Edit", "Send email", "Mark as sent"]


# --- the .eml link and file --------------------------------------------------------------------


def test_download_tokens_are_signed_and_expire() -> None:
    t = sign_token("k1-secret", "ACME-7", now=NOW)
    assert verify_token("k1-secret", t, now=NOW + timedelta(days=2)) == "ACME-7"
    with pytest.raises(BadToken, match="expired"):
        verify_token("k1-secret", t, now=NOW + timedelta(days=4))
    with pytest.raises(BadToken, match="not valid"):
        verify_token("another-secret", t, now=NOW)
    mac = t.partition(".")[2]
    tampered = sign_token("k1-secret", "ACME-8", now=NOW).partition(".")[0] + "." + mac
    with pytest.raises(BadToken, match="not valid"):
        verify_token("k1-secret", tampered, now=NOW)
    for junk in ("", "abc", "a.b", "!!!.???"):
        with pytest.raises(BadToken):
            verify_token("k1-secret", junk, now=NOW)


def test_the_eml_is_an_unsent_utf8_message_with_text_and_html() -> None:
    yaml = PROJECT_YAML.replace("contact: Jane Doe", "contact: 王小明").replace(
        "timezone: Europe/Berlin", 'timezone: Europe/Berlin\ncc: ["ops@acme.example"]'
    )
    project = load_project_text(yaml, "acme.yaml")
    letter = Letter("关于您的请求 ACME-7", "王先生您好：\n\n谢谢。", "<p>王先生您好：</p>", project.language, ())
    raw = build_eml(project, letter, sender="Pat Morgan <pm@acme.example>", now=NOW)
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert msg["Subject"] == "关于您的请求 ACME-7"
    assert msg["To"] == "王小明 <jane.doe@acme.example>"
    assert msg["Cc"] == "ops@acme.example" and msg["From"] == "Pat Morgan <pm@acme.example>"
    assert msg["X-Unsent"] == "1" and msg["Message-ID"] and msg["Date"]
    assert msg.get_body(("plain",)).get_content().strip() == "王先生您好：\n\n谢谢。"  # type: ignore[union-attr]
    assert "<p>" in msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="line break"):
        build_eml(project, Letter("a\r\nBcc: x@y.example", "b", "", project.language, ()), sender=None, now=NOW)
