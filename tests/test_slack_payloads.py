"""Every Slack payload the bot builds, over hostile inputs (4,000 characters, emoji, markup, no spaces,
Chinese), in English and Chinese: valid for slack_sdk's models, and within Slack's documented limits
counted the way Slack's API can count them. Slack has no renderer to run offline, so this is what stands
in for looking at it.

Lengths are counted on the text as sent (after escaping `&`, `<`, `>`) in UTF-16 code units, the
stricter of the two ways a limit in "characters" can be read: an emoji is two."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.slack import blocks as bk
from bot import forms
from bot.domain import (
    Actor,
    Alternative,
    AlternativeKind,
    Channel,
    DeclineForm,
    Language,
    ReasonCategory,
    RequestRecord,
    RequestStatus,
    Source,
)
from bot.letters import write_letter
from bot.projectfile import load_project_file
from bot.review import Viewer, review_view
from bot.scope import default_checker

EXAMPLE = load_project_file("examples/brightpath-booking.yaml")
EXAMPLE_ZH = load_project_file("examples/lanting-crm.yaml")
PM = Actor("slack", "U0PM", email="dana.lee@northbeam.example", name="Dana <b>*Lee*</b> 😅" * 3)
REQUESTER = Actor("slack", "U0SAM", name="Sam & <!channel> 🚢" * 5)

HOSTILE = {
    "long": ("Please show every appointment a patient ever had, with the notes. " * 70)[:4000],
    "emoji": ("🎣🚢😅👨‍👩‍👧‍👦🇬🇧" * 500)[:4000],
    "markup": ("<!channel> <@U123> *bold* _it_ ~s~ `c` ```x``` <http://x.example|click> &amp; > quote\n" * 60)[:4000],
    "no_spaces": "a" * 4000,
    "chinese": ("我们希望会员系统能显示每位会员以前所有的消费记录，每一笔都要能查到。" * 200)[:4000],
    "several": (
        "1. patients should pay a deposit online; 2. could we also get an Android app; 3. video consultations; " * 40
    )[:4000],
}

LIMITS = {"section": 3000, "header": 150, "button": 75, "option": 75, "title": 24, "label": 2000, "hint": 2000}


def slack_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def check(payload: dict[str, Any] | list[dict[str, Any]], where: str, *, max_blocks: int = 50) -> None:
    """Slack's documented limits, over a built payload (a message's blocks or a view)."""
    blocks = payload if isinstance(payload, list) else payload["blocks"]
    assert 0 < len(blocks) <= max_blocks, (where, len(blocks))
    if isinstance(payload, dict):
        for key in ("title", "submit", "close"):
            if key in payload:
                assert slack_len(payload[key]["text"]) <= LIMITS["title"], (where, key, payload[key])
        assert slack_len(payload.get("private_metadata", "")) <= 3000, where
    ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(ids) == len(set(ids)), (where, "duplicate block ids")
    for b in blocks:
        if b["type"] == "section":
            assert 0 < slack_len(b["text"]["text"]) <= LIMITS["section"], (where, slack_len(b["text"]["text"]))
        if b["type"] == "header":
            assert slack_len(b["text"]["text"]) <= LIMITS["header"], where
        if b["type"] == "context":
            assert len(b["elements"]) <= 10 and all(slack_len(e["text"]) <= 3000 for e in b["elements"]), where
        if b["type"] == "actions":
            assert len(b["elements"]) <= 25, where
            for e in b["elements"]:
                if e["type"] == "button":
                    assert slack_len(e["text"]["text"]) <= LIMITS["button"] and len(e.get("value", "")) <= 2000
                for o in e.get("options", []):
                    assert slack_len(o["text"]["text"]) <= LIMITS["option"] and len(o["value"]) <= 150
        if b["type"] == "input":
            assert slack_len(b["label"]["text"]) <= LIMITS["label"], where
            assert slack_len(b.get("hint", {}).get("text", "")) <= LIMITS["hint"], where
            el = b["element"]
            if el["type"] == "plain_text_input":
                assert el.get("max_length", 3000) <= 3000
                assert slack_len(el.get("initial_value", "")) <= el.get("max_length", 3000), where
                assert slack_len(el.get("placeholder", {}).get("text", "")) <= 150, where
            for o in el.get("options", []):
                assert slack_len(o["text"]["text"]) <= LIMITS["option"], where
        for key in ("block_id", "action_id"):
            assert len(b.get(key, "")) <= 255, where
    # People's words never become markup: no live mention, broadcast or link made from them in mrkdwn
    # (plain text, such as an input's value, is never read as markup).
    for mrkdwn in _mrkdwn(payload):
        assert "<!channel>" not in mrkdwn and "<@U123>" not in mrkdwn and "<http://x.example|click>" not in mrkdwn, (
            where
        )


def _mrkdwn(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["text"]] if node.get("type") == "mrkdwn" else []
        return own + [t for v in node.values() for t in _mrkdwn(v)]
    if isinstance(node, list):
        return [t for v in node for t in _mrkdwn(v)]
    return []


def hostile_record(text: str, **kw: Any) -> RequestRecord:
    project = kw.pop("project", EXAMPLE)
    verdict = default_checker().check(project.scope(), text)
    rec = RequestRecord(
        ref="BRIGHTPATH-1234567",
        project=project.slug,
        number=1234567,
        status=RequestStatus.IN_REVIEW,
        text=text,
        requester=REQUESTER,
        verdict=verdict,
        scope_version=1,
        created_at=datetime(2026, 11, 3, 9, 30, tzinfo=UTC),
        source=Source("slack", channel="C0INTAKE", permalink="https://example.slack.com/archives/C0/p1"),
        client_words=text[::-1],
    )
    return replace(rec, **kw)


@pytest.mark.parametrize("lang", [Language.EN, Language.ZH])
@pytest.mark.parametrize("kind", list(HOSTILE))
def test_every_slack_payload_is_valid_and_within_limits_over_hostile_input(kind: str, lang: Language) -> None:
    text = HOSTILE[kind]
    project = EXAMPLE if lang is Language.EN else EXAMPLE_ZH
    project = replace(project, team_language=lang)
    rec = hostile_record(text, project=project)
    views = [
        review_view(rec, project, Viewer.review_channel()),
        review_view(rec, project, Viewer.of(REQUESTER, rec, project)),
    ]
    for view in views:
        check(bk.to_dicts(bk.request_blocks(view)), f"{kind} review card")
        check(bk.to_dicts(bk.home_item(view, section="queue")), f"{kind} home item")
        check(bk.to_dicts(bk.question_blocks(view, text, PM)), f"{kind} question")
    many = [review_view(replace(rec, ref=f"BRIGHTPATH-{i}"), project, Viewer.review_channel()) for i in range(150)]
    home = bk.home_view(lang, queue=many[:80], queue_total=400, mine=many[80:], mine_total=999, is_pm=True)
    check(home.to_dict(), "home", max_blocks=100)

    # Every form as a modal, with the hostile text in its quote and its defaults.
    specs = [
        forms.scope_change_form(rec, lang, timezone=project.timezone),
        forms.decline_form(rec, DeclineForm(ReasonCategory.OTHER, text, (), text), lang, timezone=project.timezone),
        forms.ask_form(rec, lang),
        forms.answer_form(rec, text, lang),
        forms.withdraw_form(rec, lang),
        forms.correct_form(rec, project, lang),
        forms.outcome_form(rec, lang),
        forms.intake_form(lang, projects=[project, EXAMPLE_ZH], chosen=project.slug, text=text, words=text),
        forms.letter_edit_form(rec.ref, text[:200], text, lang),
    ]
    for spec in specs:
        modal = bk.form_modal(
            spec,
            callback_id=f"{bk.FORM_VIEW}{spec.id}",
            metadata={"ref": rec.ref, "channel": "C0INTAKE", "ts": "1699999000.000300"},
        ).to_dict()
        check(modal, f"{kind} {spec.id} modal", max_blocks=100)
        if spec.ref:
            assert rec.ref in modal["title"]["text"], (spec.id, modal["title"])  # the ref is never cut off
    check(bk.send_email_modal(rec.ref, text, lang, metadata={"ref": rec.ref}).to_dict(), "send modal", max_blocks=100)
    check(bk.message_modal(text, text, lang).to_dict(), "message modal", max_blocks=100)
    check(bk.to_dicts(bk.text_blocks(text * 20)), "text")
    check(bk.to_dicts(bk.receipt_blocks(text)), "receipt")
    check(bk.to_dicts(bk.request_list_blocks(text, [rec] * 200, lang)), "list")

    # The letter, written from the hostile request, in the PM's DM.
    form = DeclineForm(
        ReasonCategory.PROJECT_GOALS,
        text[:500],
        (Alternative(AlternativeKind.PHASED, text[:300]),),
        text[:500],
        Channel.EMAIL,
        lang,
    )
    drafted = write_letter(request=rec, project=project, form=form, pm=PM, today=datetime(2026, 11, 4).date())
    for status in ("draft", "queued", "sent", "failed"):
        letter = replace(drafted.letter, status=status, send_error=text if status == "failed" else None)
        blocks = bk.letter_message(rec.ref, letter.to_dict(), lang, by=PM, can_send_email=True, talking_points=text)
        check(bk.to_dicts(blocks), f"{kind} letter {status}")


def test_a_long_request_of_many_parts_shows_each_distinct_part_once_in_the_verdicts_own_words() -> None:
    text = HOSTILE["several"]
    rec = hostile_record(text)
    assert len(rec.verdict.parts) > 5
    view = review_view(rec, EXAMPLE, Viewer.review_channel())
    section = next(
        b for b in bk.to_dicts(bk.request_blocks(view)) if b["type"] == "section" and "•" in b["text"]["text"]
    )
    bullets = [ln for ln in section["text"]["text"].splitlines() if ln.startswith("• ")]
    assert 2 <= len(bullets) <= bk_max_parts() + 1
    assert len(set(bullets)) == len(bullets)  # no line repeats
    assert not re.search(r"\b(?:out_of_scope|in_scope|unlisted)\b", section["text"]["text"])  # no raw values
    assert any(b.startswith("• Out of scope (payments)") for b in bullets), bullets


def bk_max_parts() -> int:
    from bot.review import MAX_PARTS

    return MAX_PARTS
