"""The Teams app package and the cards: valid against the official schemas; the .eml link and file."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from adapters.cli.main import cli
from adapters.teams import cards
from adapters.teams.download import BadToken, sign_token, verify_token
from adapters.teams.package import MANIFEST_DIR, PackageError, build_manifest
from bot.domain import Actor, Language, RequestRecord, RequestStatus
from bot.mailing import LetterRecipients, Mailbox
from bot.review import Viewer, review_view
from tests.conftest import SHARED
from tests.support.views import PROJECT

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
    assert titles == ["request", "scope", "requests", "answer", "away", "back", "help"]


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
        "created_at": "2026-11-03T09:30:00+00:00",
        "decisions": decisions or [],
    }


def review(snap: dict[str, Any]) -> dict[str, Any]:
    return cards.request_card(review_view(RequestRecord.from_snapshot(snap), PROJECT, Viewer.review_channel()))


DECLINED = [
    {
        "kind": "decline",
        "by": {"platform": "teams", "user_id": "29:pat", "email": None, "name": "Pat Morgan"},
        "at": "2026-11-03T10:00:00+00:00",
        "note": "",
        "form": {"channel": "email"},
    }
]


PM_BOX = Mailbox("pm@acme.example", "Pat Morgan")
RECIPIENTS = LetterRecipients(to=(Mailbox("jane.doe@acme.example", "Jane Doe"),), cc=(PM_BOX,), reply_to=(PM_BOX,))
SENT_LETTER = {
    "subject": "Your request ACME-7",
    "body_text": "Dear Jane,\n\nThank you.",
    "language": "en",
    "status": "sent",
    "sent_at": "2026-11-03T10:05:00+00:00",
    "sent_via": "smtp",
    "message_id": "<acme-7.1@acme.example>",
    "tone": [],
}
EN = Language.EN


def every_card() -> dict[str, dict[str, Any]]:
    from bot import forms
    from bot.domain import Channel, DeclineForm, ReasonCategory

    form = DeclineForm(ReasonCategory.PROJECT_GOALS, "Outside the agreed scope.", (), "We understand.", Channel.EMAIL)
    rec = RequestRecord.from_snapshot(snapshot())
    letter = {
        "subject": "Your request ACME-7",
        "body_text": "Dear Jane,\n\nThank you.",
        "language": "en",
        "status": "draft",
        "tone": [
            {"rule": "gives_reason", "passed": True, "detail": "Gives a reason"},
            {"rule": "says_we", "passed": False, "detail": "Says I"},
        ],
    }
    pm = Actor("teams", "29:pat", name="Pat")
    return {
        "review": review(snapshot()),
        "review_declined": review(snapshot("letter_drafted", DECLINED)),
        "approve_form": cards.form_card(forms.scope_change_form(rec, EN), error="Give an estimate."),
        "ask_form": cards.form_card(forms.ask_form(rec, EN)),
        "decline_form": cards.form_card(
            forms.decline_form(rec, form, EN, timezone="Europe/Berlin"), error="Pick a reason."
        ),
        "request_form": cards.form_card(forms.intake_form(EN, projects=[PROJECT, PROJECT], chosen=None)),
        "question": cards.question_card(
            review_view(rec, PROJECT, Viewer.of(rec.requester, rec, PROJECT)), "Which hours?", "Pat"
        ),
        "letter": cards.letter_card(
            "ACME-7", letter, EN, download_url="https://bot.example/teams/letters/x", can_send_email=True
        ),
        "letter_edit": cards.form_card(forms.letter_edit_form("ACME-7", letter["subject"], letter["body_text"], EN)),
        "letter_queued": cards.letter_card("ACME-7", {**letter, "status": "queued"}, EN, can_send_email=True),
        "letter_sent": cards.letter_card(
            "ACME-7", SENT_LETTER, EN, by=pm, can_send_email=True, note="It has gone out."
        ),
        "letter_failed": cards.letter_card(
            "ACME-7", {**letter, "status": "failed", "send_error": "550 no such user"}, EN, can_send_email=True
        ),
        "send_confirm": cards.send_confirm_card("ACME-7", letter, RECIPIENTS, EN, typed=["jane@client.example"]),
    }


@pytest.mark.parametrize("name", list(every_card()))
def test_every_card_is_a_valid_adaptive_card_1_5(name: str) -> None:
    v = validator("adaptive-card-1.5.json")
    assert_valid(v, every_card()[name])


def test_review_card_buttons_are_titled_exactly_and_go_when_decided() -> None:
    open_card = review(snapshot())
    assert [a["title"] for a in open_card["actions"]] == [
        "Approve",
        "Decline",
        "Ask for details",
        "Correct the verdict",
        "Withdraw",
    ]
    assert [a.get("mode") for a in open_card["actions"]] == [None, None, None, "secondary", "secondary"]
    assert all(a["type"] == "Action.Execute" and a["fallback"]["type"] == "Action.Submit" for a in open_card["actions"])
    assert all(a["data"] == a["fallback"]["data"] for a in open_card["actions"])
    declined = review(snapshot(RequestStatus.LETTER_DRAFTED.value, DECLINED))
    assert [a["title"] for a in declined["actions"]] == ["Correct the verdict"]
    assert "Declined by Pat Morgan at 2026-11-03 10:00 UTC: answering the client by email" in json.dumps(
        declined, ensure_ascii=False
    )


def titles(card: dict[str, Any]) -> list[str]:
    return [a["title"] for a in card.get("actions", [])]


def test_letter_card_offers_send_email_only_when_an_email_sender_exists() -> None:
    letter = {"subject": "S", "body_text": "B", "status": "draft", "tone": []}
    assert titles(cards.letter_card("ACME-7", letter, EN, download_url="https://x/y")) == [
        "Edit",
        "Download .eml",
        "Mark as sent",
    ]
    assert titles(cards.letter_card("ACME-7", letter, EN, can_send_email=True)) == [
        "Edit",
        "Send email",
        "Mark as sent",
    ]


def test_letter_card_shows_the_send_status_and_offers_what_fits_it() -> None:
    letter = {"subject": "S", "body_text": "B", "status": "draft", "tone": []}
    queued = cards.letter_card("ACME-7", {**letter, "status": "queued"}, EN, can_send_email=True)
    assert titles(queued) == ["Refresh"]
    assert "Send status: queued" in json.dumps(queued)
    failed = cards.letter_card(
        "ACME-7", {**letter, "status": "failed", "send_error": "550 no such user"}, EN, can_send_email=True
    )
    assert "Sending failed: 550 no such user" in json.dumps(failed)
    assert titles(failed) == ["Edit", "Send email", "Mark as sent"]
    sent = cards.letter_card("ACME-7", SENT_LETTER, EN, can_send_email=True)
    text = json.dumps(sent)
    assert "Send status: sent by e-mail at 2026-11-03 10:05 UTC." in text
    assert "acme-7.1@acme.example" not in text  # the Message-ID is for mail logs, not for people
    assert titles(sent) == ["Send again"]
    again = sent["actions"][0]
    assert again["data"] == {"intake": "letter_send", "ref": "ACME-7", "again": True} == again["fallback"]["data"]
    assert titles(cards.letter_card("ACME-7", SENT_LETTER, EN)) == []  # sent, no e-mail here: nothing to do


def test_the_confirmation_card_lists_the_recipients_and_carries_them_on_send() -> None:
    card = cards.send_confirm_card("ACME-7", {"subject": "S", "body_text": "B"}, RECIPIENTS, EN)
    facts = read_facts(card)
    assert facts["To"] == "Jane Doe <jane.doe@acme.example>"
    assert facts["Cc"] == "Pat Morgan <pm@acme.example>" and facts["Reply-To"] == "Pat Morgan <pm@acme.example>"
    assert titles(card) == ["Send", "Check these addresses", "Cancel"]
    send = card["actions"][0]
    assert send["data"]["intake"] == "letter_send_confirm"
    assert LetterRecipients.from_dict(send["data"]["confirmed"]) == RECIPIENTS


# --- the .eml link and file --------------------------------------------------------------------


def test_download_tokens_are_signed_and_expire() -> None:
    pm = Actor("teams", "29:pm-pat", email="pm@acme.example", name="Pat Morgan")
    t = sign_token("k1-secret", "ACME-7", pm=pm, now=NOW)
    assert verify_token("k1-secret", t, now=NOW + timedelta(days=2)) == ("ACME-7", pm)
    with pytest.raises(BadToken, match="expired"):
        verify_token("k1-secret", t, now=NOW + timedelta(days=4))
    with pytest.raises(BadToken, match="not valid"):
        verify_token("another-secret", t, now=NOW)
    mac = t.partition(".")[2]
    tampered = sign_token("k1-secret", "ACME-8", pm=pm, now=NOW).partition(".")[0] + "." + mac
    with pytest.raises(BadToken, match="not valid"):
        verify_token("k1-secret", tampered, now=NOW)
    for junk in ("", "abc", "a.b", "!!!.???"):
        with pytest.raises(BadToken):
            verify_token("k1-secret", junk, now=NOW)


def read_facts(card: dict[str, Any]) -> dict[str, str]:
    """The card's labelled values ("To: …"): rich text lines whose first run is a bold "Label: "."""
    out: dict[str, str] = {}
    for b in card["body"]:
        for row in b.get("items", []) if b["type"] == "Container" else []:
            runs = row.get("inlines") or []
            if row["type"] == "RichTextBlock" and len(runs) == 2 and runs[0].get("weight") == "bolder":
                out[runs[0]["text"].removesuffix(": ")] = runs[1]["text"]
    return out
