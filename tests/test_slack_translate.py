"""The pure parts of the Slack adapter: payload → core values, core values → Block Kit within Slack's limits."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from adapters.slack import blocks as bk
from adapters.slack.translate import (
    actor_from_user,
    errors_for,
    event_key,
    parse_project_prefix,
    retry_after_seconds,
    view_values,
)
from bot import forms
from bot.domain import (
    Actor,
    AlternativeKind,
    Channel,
    DeclineForm,
    Language,
    Project,
    ReasonCategory,
    RequestRecord,
    RequestStatus,
    Source,
    Verdict,
    VerdictKind,
)
from bot.errors import FormInvalid
from bot.review import Viewer, review_view
from tests.support.views import PROJECT


def record(text: str = "Please add SMS alerts", **kw: object) -> RequestRecord:
    base = dict(
        ref="ACME-7",
        project="acme-portal",
        number=7,
        status=RequestStatus.IN_REVIEW,
        text=text,
        requester=Actor("slack", "U0SAM", email="sam@acme-team.example", name="Sam Reed"),
        verdict=Verdict(VerdictKind.UNLISTED, None, 0.2, ""),
        scope_version=1,
        created_at=datetime(2026, 11, 3, 9, 30, tzinfo=UTC),
        source=Source("slack", channel="C0INTAKE"),
    )
    base.update(kw)
    return RequestRecord(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@beta-shop Add gift wrapping", ("beta-shop", "Add gift wrapping")),
        ("  @acme-portal\nline one\nline two", ("acme-portal", "line one\nline two")),
        ("@beta-shop", ("beta-shop", "")),
        ("Email me @ noon", (None, "Email me @ noon")),
        ("@Not_A_Slug text", (None, "@Not_A_Slug text")),
        ("", (None, "")),
    ],
)
def test_project_prefix(text: str, expected: tuple[str | None, str]) -> None:
    assert parse_project_prefix(text) == expected


def test_actor_from_users_info_uses_profile_email_name_and_locale() -> None:
    actor = actor_from_user(
        "U1", {"name": "pat", "locale": "zh-CN", "profile": {"email": "Pat@Acme.Example", "real_name": "Pat M"}}
    )
    assert actor == Actor("slack", "U1", email="pat@acme.example", name="Pat M")
    assert actor.locale == "zh-CN"
    assert actor_from_user("U2") == Actor("slack", "U2")


def test_event_key_only_for_event_callbacks() -> None:
    assert event_key({"type": "event_callback", "event_id": "Ev1"}) == "slack:event:Ev1"
    assert event_key({"type": "block_actions"}) is None


def test_view_values_reads_every_input_kind() -> None:
    view = {
        "state": {
            "values": {
                "a": {"x": {"type": "plain_text_input", "value": "hi"}},
                "b": {"x": {"type": "static_select", "selected_option": {"value": "v"}}},
                "c": {"x": {"type": "checkboxes", "selected_options": [{"value": "1"}, {"value": "2"}]}},
                "d": {"x": {"type": "datepicker", "selected_date": "2027-01-02"}},
                "e": {"x": {"type": "datetimepicker", "selected_date_time": 1700000000}},
                "f": {"x": {"type": "static_select", "selected_option": None}},
            }
        }
    }
    assert view_values(view) == {
        "a": "hi",
        "b": "v",
        "c": ["1", "2"],
        "d": "2027-01-02",
        "e": "1700000000",
        "f": None,
    }


def test_intake_form_needs_text_and_a_real_date() -> None:
    with pytest.raises(FormInvalid) as bad:
        forms.parse_intake({"what": "  ", "requested_date": "2027-13-40"})
    assert set(bad.value.errors) == {"what", "requested_date"}
    given = forms.parse_intake({"what": "SMS", "urgency": "high", "requested_date": "2027-01-02"})
    assert (given.text, given.urgency, given.requested_date) == ("SMS", "high", date(2027, 1, 2))


def _decline_spec(tz: str = "UTC") -> forms.FormSpec:
    blank = DeclineForm(ReasonCategory.OTHER, "")
    return forms.decline_form(record(), blank, Language.EN, timezone=tz)


def test_decline_form_reads_alternatives_details_and_meeting_from_slacks_picker() -> None:
    values = {
        "reason_category": "budget",
        "reason_text": "Not in this budget.",
        "alternatives": ["phased"],
        "alt_detail_change_request": "about 5 days",
        "empathy": "We see why.",
        "channel": "meeting",
        "meeting_start": str(int(datetime(2026, 11, 18, 9, tzinfo=UTC).timestamp())),
        "meeting_minutes": "45",
        "meeting_location": "Room 2",
        "language": "zh",
    }
    form = forms.parse_decline(_decline_spec("Asia/Shanghai"), values)
    assert form.reason_category is ReasonCategory.BUDGET
    assert [(a.kind, a.detail) for a in form.alternatives] == [
        (AlternativeKind.PHASED, ""),
        (AlternativeKind.CHANGE_REQUEST, "about 5 days"),
    ]
    assert form.channel is Channel.MEETING and form.language is Language.ZH
    assert form.meeting is not None and form.meeting.start.isoformat() == "2026-11-18T17:00:00+08:00"
    assert form.meeting.duration_minutes == 45


def test_decline_form_errors_name_their_fields() -> None:
    with pytest.raises(FormInvalid) as bad:
        forms.parse_decline(
            _decline_spec(),
            {"reason_category": "nonsense", "reason_text": "", "channel": "meeting", "meeting_minutes": "an hour"},
        )
    assert set(bad.value.errors) == {"reason_category", "reason_text", "meeting_start", "meeting_minutes"}


def test_form_errors_land_beside_their_field_within_slacks_limit() -> None:
    assert errors_for({"reason_text": "Give a reason."}, blocks=["reason_text"], default="x") == {
        "reason_text": "Give a reason."
    }
    assert errors_for({"unknown": "Oops."}, blocks=["a"], default="a") == {"a": "Oops."}
    long = errors_for({"a": "x" * 400}, blocks=["a"], default="a")["a"]
    assert len(long) == 150 and long.endswith("…")


def test_retry_after_header_in_any_case() -> None:
    assert retry_after_seconds({"retry-after": ["7"]}) == 7.0
    assert retry_after_seconds({"Retry-After": "2"}) == 2.0
    assert retry_after_seconds({"Retry-After": "soon"}) is None
    assert retry_after_seconds(None) is None


def test_snapshot_round_trip_rebuilds_the_record() -> None:
    rec = record(requested_date=date(2027, 1, 2), urgency="high")
    snap = rec.snapshot()
    back = RequestRecord.from_snapshot(snap)
    assert back.snapshot() == snap


def _card(rec: RequestRecord, project: Project = PROJECT) -> list[dict[str, object]]:
    return [b.to_dict() for b in bk.request_blocks(review_view(rec, project, Viewer.review_channel()))]


def test_review_card_stays_within_limits_for_a_huge_request() -> None:
    rec = record("word " * 900 + "<script> & *bold*", client_words="c" * 4000)
    card = _card(rec, PROJECT.__class__(**{**PROJECT.__dict__, "name": "P" * 300}))
    assert len(card) <= bk.MAX_MESSAGE_BLOCKS
    for b in card:
        if "text" in b:
            assert len(b["text"]["text"]) <= 3000  # type: ignore[index]
    quoted = next(
        b["text"]["text"]  # type: ignore[index]
        for b in card
        if b["type"] == "section" and str(b["text"]["text"]).startswith(">")  # type: ignore[index]
    )
    assert quoted.endswith("…")


def test_review_card_escapes_slack_markup_in_client_text() -> None:
    card = str(_card(record("<!channel> pay <https://x.example|here> & more")))
    assert "<!channel>" not in card and "&lt;!channel&gt;" in card and "&amp; more" in card


def test_letter_message_splits_a_long_letter_and_never_exceeds_fifty_blocks() -> None:
    body = "\n".join(f"Paragraph {i}: " + "text " * 100 for i in range(60))  # ~30,000 characters
    letter = {"subject": "Your request", "body_text": body, "tone": [], "status": "draft", "kind": "decline"}
    out = [b.to_dict() for b in bk.letter_message("ACME-7", letter, Language.EN, talking_points="x" * 7000)]
    assert len(out) <= bk.MAX_MESSAGE_BLOCKS
    assert all(len(b["text"]["text"]) <= 3000 for b in out if b.get("text"))
    labels = [e["text"]["text"] for b in out if b["type"] == "actions" for e in b["elements"]]
    assert labels == ["Edit", "Download .eml", "Mark as sent"]
    with_email = bk.letter_message("ACME-7", letter, Language.EN, can_send_email=True)
    labels = [
        e["text"]["text"] for b in (x.to_dict() for x in with_email) if b["type"] == "actions" for e in b["elements"]
    ]
    assert labels == ["Edit", "Download .eml", "Send email", "Mark as sent"]


@pytest.mark.parametrize("ref", ["BRIGHTPATH-12", "VERYLONGPREF-123456", "ACME-1"])
def test_modal_titles_fit_24_characters_and_keep_the_ref(ref: str) -> None:
    rec = record(ref=ref)
    for spec in (forms.ask_form(rec, Language.EN), forms.answer_form(rec, "Which?", Language.EN), _decline_spec()):
        title = bk.form_modal(spec, callback_id="x", metadata={}).to_dict()["title"]["text"]
        assert len(title) <= 24
        assert spec.ref and spec.ref in title


def test_home_view_stays_within_a_hundred_blocks_and_gives_the_true_counts() -> None:
    def view(i: int, text: str = "Please add SMS alerts") -> object:
        return review_view(record(ref=f"ACME-{i}", text=text), PROJECT, Viewer.review_channel())

    queue = [view(i) for i in range(80)]
    mine = [view(i, "t" * 300) for i in range(200)]
    out = bk.home_view(Language.EN, queue=queue, queue_total=80, mine=mine, mine_total=261, is_pm=True).to_dict()  # type: ignore[arg-type]
    assert len(out["blocks"]) <= bk.MAX_VIEW_BLOCKS
    text = str(out["blocks"])
    assert "Your requests (261)" in text and "Waiting for a decision (80)" in text
    assert "of 261" in text and "/requests" in text
