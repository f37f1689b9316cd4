"""What a person reads: letters quoting long requests, the tone check on the letter's own sentences, the
scope line's words, and the shared view's wording (checked on the data each platform renders; the
rendered pictures are checked in test_cards_rendered.py)."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from bot.domain import Alternative, AlternativeKind, Channel, DeclineForm, Language, ReasonCategory
from bot.letters import check_tone, write_letter
from bot.letters.writer import QUOTE_MAX, quote_excerpt
from bot.projectfile import load_project_text
from bot.scope import default_checker
from tests.test_letters import PM, PROJECT, PROJECT_ZH, TODAY, request

LONG_EN = (
    "We would like the portal to show every order our buyers ever placed, including the ones from before the "
    "migration, with the invoice attached to each of them. "
    + "Our buyers keep asking the account managers for old invoices and that takes hours every week. "
    * 42
)
LONG_ZH = "我们希望订单历史能显示采购员以前下过的所有订单，包括系统迁移之前的，每一笔都附上发票。" + (
    "采购员经常找客户经理要以前的发票，每周都要花好几个小时处理这件事，大家都很头疼。" * 100
)


def letter_for(text: str, lang: Language, *alts: Alternative, project=None):  # type: ignore[no-untyped-def]
    project = project or (PROJECT_ZH if lang is Language.ZH else PROJECT)
    form = DeclineForm(ReasonCategory.PROJECT_GOALS, "", tuple(alts), "", Channel.EMAIL, lang)
    return write_letter(request=request(text), project=project, form=form, pm=PM, today=TODAY).letter


def failed_rules(letter) -> set[str]:  # type: ignore[no-untyped-def]
    return {t.rule for t in letter.tone if not t.passed}


# --- 12: a long request is quoted shortened --------------------------------------------------------


@pytest.mark.parametrize(("text", "lang"), [(LONG_EN, Language.EN), (LONG_ZH, Language.ZH)])
def test_a_long_request_is_quoted_shortened_and_the_letter_passes_its_own_length_check(
    text: str, lang: Language
) -> None:
    assert len(text) >= 4000
    letter = letter_for(text, lang, Alternative(AlternativeKind.CHANGE_REQUEST, "5 days"))
    quoted = [ln.strip() for ln in letter.body_text.splitlines() if ln.startswith("    ")]
    assert len(" ".join(quoted)) <= QUOTE_MAX + 2
    assert quoted[-1].endswith("…")
    assert quoted[0].startswith(text[:20])
    # The first sentence is quoted whole; the letter says where the rest is, with the reference.
    first = re.split(r"(?<=[.。])", text, maxsplit=1)[0]
    assert first in " ".join(quoted)
    note = "the full text is on record with us under ACME-7" if lang is Language.EN else "完整内容已存档，编号为 ACME-7"
    assert note in letter.body_text
    assert failed_rules(letter) == set()


def test_a_short_request_is_quoted_whole_without_a_note() -> None:
    letter = letter_for("Could the order history also be in an iPhone app?", Language.EN)
    assert "    Could the order history also be in an iPhone app?\n" in letter.body_text
    assert "on record" not in letter.body_text and "…" not in letter.body_text


def test_an_excerpt_without_an_early_sentence_end_is_cut_at_a_word() -> None:
    text = "word " * 200
    excerpt, shortened = quote_excerpt(text, Language.EN)
    assert shortened and excerpt.endswith("word…") and len(excerpt) <= QUOTE_MAX + 1
    zh, _ = quote_excerpt("字" * 1000, Language.ZH)
    assert zh == "字" * QUOTE_MAX + "……"


# --- 13: the tone check reads the letter's own sentences, in both languages ------------------------


def test_a_chinese_letter_without_an_alternative_does_not_speak_of_one_and_fails_that_rule() -> None:
    letter = letter_for("能不能再做一个安卓App？", Language.ZH)
    assert "以上方案" not in letter.body_text
    assert "方案" not in letter.body_text
    assert "offers_alternative" in failed_rules(letter)
    with_alt = letter_for("能不能再做一个安卓App？", Language.ZH, Alternative(AlternativeKind.REVISIT_LATER))
    assert "以上方案" in with_alt.body_text and "offers_alternative" not in failed_rules(with_alt)


def test_an_english_letter_without_an_alternative_fails_that_rule_too() -> None:
    assert "offers_alternative" in failed_rules(letter_for("Could we get an iPhone app?", Language.EN))


@pytest.mark.parametrize(
    ("lang", "goal", "request_text"),
    [
        (
            Language.ZH,
            "用小程序替代原有的电话订货，并给出后续版本的分阶段计划",
            "能不能再做一个安卓App？我建议考虑替代方案。",
        ),
        (
            Language.EN,
            "Offer an alternative to phone orders and revisit pricing in the next phase",
            "I suggest an option: instead, propose a later phase.",
        ),
    ],
)
def test_the_projects_goals_and_the_quoted_request_do_not_pass_a_rule_for_the_letter(
    lang: Language, goal: str, request_text: str
) -> None:
    project = PROJECT_ZH if lang is Language.ZH else PROJECT
    project = replace(project, goals=(goal,))
    letter = letter_for(request_text, lang, project=project)
    assert goal.rstrip(".")[:8] in letter.body_text or goal[1:9] in letter.body_text  # the goal is quoted
    assert "offers_alternative" in failed_rules(letter)


def test_an_edited_letter_is_checked_on_its_own_sentences_too() -> None:
    from bot.letters import revise_letter

    goal = "用小程序替代原有的电话订货"
    project = replace(PROJECT_ZH, goals=(goal,))
    letter = letter_for(LONG_ZH, Language.ZH, project=project)
    edited = revise_letter(letter, body_text=letter.body_text + "\n", subject=None, quoted=LONG_ZH, goals=project.goals)
    assert "offers_alternative" in failed_rules(edited)
    assert "length" not in failed_rules(edited)


def test_words_in_quotation_marks_are_not_the_letters_own() -> None:
    en = (
        "Dear Jane,\n\nThank you. We understand. The scope lists “a later phase, an alternative option instead” "
        "as outside this project, because of the budget. We would be glad to discuss it.\n\nKind regards,\nPat"
    )
    rules = {t.rule: t.passed for t in check_tone(en, Language.EN)}
    assert rules["offers_alternative"] is False


# --- 11: the scope line shows the request's own words --------------------------------------------

SHOP = load_project_text(
    """
project: tackle-shop
name: Tackle Shop
language: en
client: {name: Tackle Co, contact: Ann Reed, email: ann@tackle.example}
goals: ["Launch the new web shop before the spring season"]
in_scope:
  - {id: sync, title: "Shopify sync of products and stock", notes: "The Shopify sync pulls products, prices and stock levels every hour."}
  - {id: checkout, title: "Checkout with card payments"}
out_of_scope:
  - {id: mobile, title: "Native mobile apps"}
pms: [pm@tackle.example]
"""
)


@pytest.mark.parametrize(
    "text",
    [
        "🚢 Quick one from Tom 😅: can the Shopify sync also push our 🎣 fishing-gear bundles?",
        ":ship: Quick one from Tom :sweat_smile:: can the Shopify sync also push our :fishing_pole_and_fish: fishing-gear bundles?",
        "Hi, Tom here: can the Shopify sync also push our fishing-gear bundles? Thanks Priya",
    ],
)
def test_the_scope_line_names_the_requests_words_never_a_name_an_emoji_or_a_stem(text: str) -> None:
    verdict = default_checker().check(SHOP.scope(), text)
    shown = verdict.why.render("en") if verdict.why is not None else verdict.explanation
    assert verdict.verdict.value == "unlisted" and verdict.candidates[:1] == ("sync",), shown
    assert "fishing-gear: named by no item" in shown and "bundles: named by no item" in shown, shown
    for fragment in ("tom", "priya", "fish:", "gear:", "package", "ship", "sweat", "pole", "bundl:"):
        assert fragment not in shown.lower().replace("fishing-gear", ""), (fragment, shown)


def test_a_chinese_name_with_a_title_is_not_shown_as_new_work() -> None:
    from bot.scope import text as tx

    a = tx.analyse("王总说，能不能在报表里再加一个年级排名？")
    assert "王总" in a.names and "王总" not in a.terms


# --- the shared view's wording, on every platform (3, 6, 10, 14) ----------------------------------


def _letter_views(status: str, lang: Language):  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from adapters.slack import blocks as bk
    from adapters.teams import cards
    from bot import messages

    letter = letter_for("Could the order history also be in an iPhone app?", lang)
    letter = replace(
        letter,
        status=status,
        sent_at=datetime(2026, 11, 4, 8, 5, tzinfo=UTC),
        sent_via="smtp",
        message_id="<acme-7.1.5f3a9c@acme.example>",
    )
    tz = "Asia/Shanghai"
    slack = str(bk.to_dicts(bk.letter_message("ACME-7", letter.to_dict(), lang, tz=tz, by=PM)))
    teams = str(cards.letter_card("ACME-7", letter.to_dict(), lang, tz=tz, by=PM))
    terminal = messages.letter_text(request(), letter, lang, tz)
    dm = messages.email_outcome_for_sender(request(), letter, lang, tz)
    return slack, teams, terminal, dm


@pytest.mark.parametrize("lang", [Language.EN, Language.ZH])
def test_a_sent_letter_shows_when_in_the_projects_zone_and_never_the_message_id(lang: Language) -> None:
    when = "2026-11-04 16:05 CST" if lang is Language.EN else "2026年11月4日 16:05（CST）"
    for shown in _letter_views("sent", lang):
        assert when in shown, shown[:300]
        assert "acme-7.1.5f3a9c" not in shown and "mailto" not in shown
        assert "UTC" not in shown and "08:05" not in shown


def test_the_review_card_names_the_project_not_its_slug_and_its_time_in_the_projects_zone() -> None:
    from datetime import UTC, datetime

    from bot.review import Viewer, review_view

    rec = replace(request(), created_at=datetime(2026, 11, 2, 15, 0, tzinfo=UTC))
    project = replace(PROJECT, timezone="America/New_York")
    facts = {f.label: "".join(map(str, f.value)) for f in review_view(rec, project, Viewer.review_channel()).facts}
    assert facts["Project"] == "Acme Customer Portal" != project.slug
    assert facts["Recorded"] == "2026-11-02 10:00 EST"


@pytest.mark.parametrize("lang", [Language.EN, Language.ZH])
def test_tone_lines_name_each_rule_once(lang: Language) -> None:
    from bot.letters import format_report
    from bot.text import t

    letter = letter_for("Could the order history also be in an iPhone app?", lang)
    for result, line in zip(letter.tone, format_report(letter.tone, lang).splitlines(), strict=True):
        rule = t(lang, f"tone.rule.{result.rule}")
        assert line.count(rule) == 1, line
        assert line.startswith(("✓ " if result.passed else "✗ ") + rule), line
