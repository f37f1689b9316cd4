"""The letter writer and the tone check, on plain data: what a client reads, in English and in Chinese."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.domain import (
    Actor,
    Alternative,
    AlternativeKind,
    Channel,
    DeclineForm,
    Language,
    MeetingProposal,
    ReasonCategory,
    RequestRecord,
    RequestStatus,
    Verdict,
    VerdictKind,
)
from bot.letters import check_tone, default_reason, write_letter
from bot.letters.tone import RULES
from bot.letters.writer import text_to_html
from bot.projectfile import load_project_text
from tests.conftest import PROJECT_YAML

PROJECT = load_project_text(PROJECT_YAML)
PROJECT_ZH = load_project_text(
    PROJECT_YAML.replace("language: en", "language: zh")
    .replace("name: Acme Customer Portal", "name: 小鱼鲜生商城")
    .replace("contact: Jane Doe", "contact: 陈晓雯")
    .replace(
        "Launch a self-service order portal for Acme's B2B customers by 2027-03-31", "2027年春节前上线微信小程序商城"
    )
)
PM = Actor("console", "pm@acme.example", email="pm@acme.example", name="Pat Morgan")
TODAY = date(2026, 11, 3)


def request(text: str = "Could the order history also be in an iPhone app?") -> RequestRecord:
    return RequestRecord(
        ref="ACME-7",
        project="acme-portal",
        number=7,
        status=RequestStatus.DECLINED,
        text=text,
        requester=Actor("console", "sam@x.example", name="Sam"),
        verdict=Verdict(VerdictKind.OUT_OF_SCOPE, "mobile", 0.9, "Native iOS and Android apps"),
        scope_version=1,
        created_at=datetime(2026, 11, 2, 15, 0, tzinfo=UTC),
    )


def form(
    category: ReasonCategory,
    *alts: Alternative,
    lang: Language | None = None,
    reason: str = "Native apps are not part of this project.",
) -> DeclineForm:
    return DeclineForm(category, reason, tuple(alts), "", Channel.EMAIL, lang)


def write(
    category: ReasonCategory,
    *alts: Alternative,
    lang: Language = Language.EN,
    reason: str = "Native apps are not part of this project.",
) -> str:
    project = PROJECT_ZH if lang is Language.ZH else PROJECT
    return write_letter(
        request=request(), project=project, form=form(category, *alts, lang=lang, reason=reason), pm=PM, today=TODAY
    ).letter.body_text


# --- English ------------------------------------------------------------------------------------

EN_FRAMING = {
    ReasonCategory.PROJECT_GOALS: "Our shared goal for this phase is to launch a self-service order portal for Acme's B2B customers by 2027-03-31",
    ReasonCategory.RESOURCE_LIMITS: "Our team is fully committed to the work we agreed",
    ReasonCategory.TIMELINE: "would put the Beta milestone on 15 January 2027 at risk",
    ReasonCategory.BUDGET: "not covered by the budget agreed for the current phase",
    ReasonCategory.TECHNICAL: "a technical constraint here that we want to be open with you about",
    ReasonCategory.OTHER: "For this reason, we are not able to include it in the current phase",
}


@pytest.mark.parametrize("category", list(ReasonCategory))
def test_english_letter_ties_each_reason_category_to_the_project(category: ReasonCategory) -> None:
    text = write(category)
    assert text.startswith("Dear Jane Doe,\n\nThank you for your request of 2 November 2026")
    assert "    Could the order history also be in an iPhone app?" in text  # the request is restated: it was heard
    assert EN_FRAMING[category] in text
    assert "Native apps are not part of this project." in text  # the PM's own reason
    assert "we remain open to any other ideas" in text and "Pat Morgan" in text and "Reference: ACME-7" in text
    # The team's internal capacity note is never quoted to the client.
    assert "fully allocated until launch" not in text


EN_ALTERNATIVES = {
    AlternativeKind.PHASED: (
        "login screens now, the rest in release 2",
        "Delivering it in stages: login screens now, the rest in release 2.",
    ),
    AlternativeKind.CHANGE_REQUEST: (
        "about 20 person-days",
        "we will send you an estimate (about 20 person-days) and its effect on the schedule",
    ),
    AlternativeKind.THIRD_PARTY: (
        "a white-label app builder such as AppFlow",
        "Using a third-party tool or provider: a white-label app builder such as AppFlow.",
    ),
    AlternativeKind.REVISIT_LATER: ("after go-live in April", "Revisiting it later: after go-live in April."),
}


@pytest.mark.parametrize("kind", list(AlternativeKind))
def test_english_alternatives_carry_the_pms_detail(kind: AlternativeKind) -> None:
    detail, sentence = EN_ALTERNATIVES[kind]
    text = write(ReasonCategory.PROJECT_GOALS, Alternative(kind, detail))
    assert "suggest the following:\n- " in text and sentence in text


def test_english_alternative_without_detail_reads_naturally() -> None:
    text = write(
        ReasonCategory.BUDGET, Alternative(AlternativeKind.CHANGE_REQUEST), Alternative(AlternativeKind.PHASED)
    )
    assert "we will send you a written estimate of the effort" in text
    assert "a first part in this version, and the rest in a later version" in text


def test_no_alternatives_means_no_empty_list() -> None:
    text = write(ReasonCategory.BUDGET)
    assert "suggest the following" not in text


# --- Chinese ------------------------------------------------------------------------------------

ZH_FRAMING = {
    ReasonCategory.PROJECT_GOALS: "本期项目的共同目标是“2027年春节前上线微信小程序商城”",
    ReasonCategory.RESOURCE_LIMITS: "目前项目团队已全部投入到既定工作中",
    ReasonCategory.TIMELINE: "“Beta”（2027年1月15日）这一节点将难以按期完成",
    ReasonCategory.BUDGET: "这项工作不在本期已确认的预算范围之内",
    ReasonCategory.TECHNICAL: "这项需求在技术上存在一定的限制",
    ReasonCategory.OTHER: "因此，我们暂时无法将这项需求纳入本期项目",
}


@pytest.mark.parametrize("category", list(ReasonCategory))
def test_chinese_letter_is_written_natively_for_each_category(category: ReasonCategory) -> None:
    text = write(category, lang=Language.ZH, reason="独立App不在本期范围内")
    assert text.startswith("尊敬的陈晓雯：\n\n您好！感谢您于2026年11月2日提出的需求（编号：ACME-7）")
    assert ZH_FRAMING[category] in text
    assert "独立App不在本期范围内。" in text  # the PM's reason, with Chinese punctuation added
    assert "欢迎随时与我们沟通" in text and "此致\n敬礼！" in text and "需求编号：ACME-7" in text
    assert "“小鱼鲜生商城”项目组" in text


ZH_ALTERNATIVES = {
    AlternativeKind.PHASED: ("本期先做订单查询，App放到二期", "1. 分阶段实现：本期先做订单查询，App放到二期。"),
    AlternativeKind.CHANGE_REQUEST: ("约20人天", "我们可以提供工作量评估（约20人天）及其对进度的影响"),
    AlternativeKind.THIRD_PARTY: (
        "可考虑有赞等现成平台",
        "借助第三方工具或服务：可考虑有赞等现成平台，我们也乐意协助贵方评估。",
    ),
    AlternativeKind.REVISIT_LATER: ("春节上线后再评估", "稍后再议：春节上线后再评估。"),
}


@pytest.mark.parametrize("kind", list(AlternativeKind))
def test_chinese_alternatives_carry_the_pms_detail(kind: AlternativeKind) -> None:
    detail, sentence = ZH_ALTERNATIVES[kind]
    text = write(ReasonCategory.PROJECT_GOALS, Alternative(kind, detail), lang=Language.ZH)
    assert "我们建议考虑以下方案：" in text and sentence in text


def test_letters_pass_their_own_tone_check_in_both_languages() -> None:
    for lang in Language:
        for category in ReasonCategory:
            drafted = write_letter(
                request=request(),
                project=PROJECT_ZH if lang is Language.ZH else PROJECT,
                form=form(category, Alternative(AlternativeKind.CHANGE_REQUEST, "5 days"), lang=lang),
                pm=PM,
                today=TODAY,
            )
            failed = [t for t in drafted.letter.tone if not t.passed]
            assert failed == [], (lang, category, failed)


def test_subject_and_html_come_from_the_same_letter() -> None:
    drafted = write_letter(
        request=request(),
        project=PROJECT,
        form=form(ReasonCategory.BUDGET, Alternative(AlternativeKind.PHASED)),
        pm=PM,
        today=TODAY,
    )
    letter = drafted.letter
    assert letter.subject == "Your request ACME-7 (Acme Customer Portal)"
    assert "<blockquote" in letter.body_html and "<ul>" in letter.body_html and "Dear Jane Doe," in letter.body_html
    zh = write_letter(
        request=request(), project=PROJECT_ZH, form=form(ReasonCategory.BUDGET), pm=PM, today=TODAY
    ).letter
    assert zh.subject == "关于您提出的需求 ACME-7 的回复（小鱼鲜生商城）"


def test_html_escapes_the_clients_words() -> None:
    html = text_to_html("Dear Jane,\n\n    <script>alert(1)</script>\n\nBye")
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_meeting_invitation_leaves_the_refusal_for_the_meeting() -> None:
    meeting = MeetingProposal(datetime(2026, 11, 10, 9, 0, tzinfo=UTC), 45, "https://meet.example/acme")
    f = DeclineForm(
        ReasonCategory.BUDGET,
        "Over this phase's budget.",
        (Alternative(AlternativeKind.CHANGE_REQUEST, "10 days"),),
        "",
        Channel.MEETING,
        None,
        meeting,
    )
    drafted = write_letter(request=request(), project=PROJECT, form=f, pm=PM, today=TODAY)
    letter = drafted.letter
    assert letter.kind == "meeting_invite" and letter.subject.startswith("Invitation:")
    assert "Tuesday, 10 November 2026 at 10:00 (Europe/Berlin)" in letter.body_text and "45 minutes" in letter.body_text
    assert "budget" not in letter.body_text.lower()  # the refusal itself is for the meeting
    assert "Over this phase's budget." in drafted.talking_points and "10 days" in drafted.talking_points
    assert "fully allocated until launch" in drafted.talking_points  # capacity, for the PM only
    assert all(t.passed for t in letter.tone)


def test_default_reason_quotes_the_exclusion() -> None:
    v = Verdict(VerdictKind.OUT_OF_SCOPE, "mobile", 0.9, "Native iOS and Android apps")
    assert default_reason(v, PROJECT) == (
        ReasonCategory.PROJECT_GOALS,
        "The agreed scope lists “Native iOS and Android apps” as outside this project.",
    )
    assert "本期不包含" in default_reason(v, PROJECT, Language.ZH)[1]
    unlisted = Verdict(VerdictKind.UNLISTED, None, 0.1, "")
    assert default_reason(unlisted, PROJECT)[1] == "It is not part of the work we agreed for this project."


# --- the tone rules, each failing on a crafted bad letter ----------------------------------------

GOOD_EN = write(ReasonCategory.PROJECT_GOALS, Alternative(AlternativeKind.CHANGE_REQUEST, "5 days"))


def failed(text: str, lang: Language = Language.EN, quoted: tuple[str, ...] = ()) -> dict[str, tuple[str, ...]]:
    return {t.rule: t.offending for t in check_tone(text, lang, quoted=quoted) if not t.passed}


def test_a_good_letter_passes_every_rule() -> None:
    assert failed(GOOD_EN) == {}
    assert {t.rule for t in check_tone(GOOD_EN, Language.EN)} == set(RULES)


FILLER = " We will keep working on the portal with the same care as before and keep you posted on the next release." * 4

BAD_EN = {
    "gives_reason": "Dear Jane, thank you for the idea. We understand it matters. We suggest a change request instead. Let us discuss it on a call."
    + FILLER,
    "offers_alternative": "Dear Jane, thank you. We understand. This is outside the agreed scope. Let us discuss it on a call."
    + FILLER,
    "shows_empathy": "Dear Jane, this is outside the agreed scope. We suggest a change request instead. Let us discuss it on a call."
    + FILLER,
    "says_we": "Dear Jane, thank you, I understand. It is outside the scope I agreed, so I suggest a change request; I am happy to discuss it, my door is open, I hope you see."
    + FILLER,
    "no_blunt_phrases": "Dear Jane, thank you, we understand. Obviously this is impossible: it is outside the scope. We suggest a change request. Let us discuss it."
    + FILLER,
    "invites_discussion": "Dear Jane, thank you, we understand. This is outside the scope. We suggest a change request instead."
    + FILLER,
    "no_promises": "Dear Jane, thank you, we understand. It is outside the scope, but we guarantee we will add it free of charge. We suggest a change request. Let us discuss it."
    + FILLER,
    "length": "Dear Jane, thanks, we understand; outside scope; we suggest a change request; let us discuss.",
}


@pytest.mark.parametrize("rule", list(RULES))
def test_each_rule_fails_on_a_crafted_bad_english_letter(rule: str) -> None:
    assert rule in failed(BAD_EN[rule])


def test_blunt_and_promise_rules_name_the_offending_words() -> None:
    assert set(failed(BAD_EN["no_blunt_phrases"])["no_blunt_phrases"]) == {"impossible", "obviously"}
    assert set(failed(BAD_EN["no_promises"])["no_promises"]) == {"we guarantee", "we will add it", "free of charge"}
    assert "i" in failed(BAD_EN["says_we"])["says_we"]


ZH_FILLER = "我们会继续按计划推进项目的各项工作，并及时向您通报最新的进展情况，确保项目顺利交付。" * 4

BAD_ZH = {
    "gives_reason": "陈女士您好，感谢您的建议，我们非常理解。建议走变更流程，欢迎随时沟通。" + ZH_FILLER,
    "offers_alternative": "陈女士您好，感谢您的建议，我们非常理解。这超出了本期范围，欢迎随时沟通。" + ZH_FILLER,
    "shows_empathy": "陈女士您好。这超出了本期范围，建议走变更流程，欢迎随时沟通。" + ZH_FILLER,
    "says_we": "陈女士您好，感谢您的建议，我理解。这超出了我定的范围，我建议走变更流程，我随时欢迎沟通，我。"
    + "项目会按计划推进，并及时通报进展，确保顺利交付。" * 6,
    "no_blunt_phrases": "陈女士您好，感谢您的建议，我们理解。这个不能做，超出范围了，没办法。建议走变更流程，欢迎沟通。"
    + ZH_FILLER,
    "invites_discussion": "陈女士您好，感谢您的需求，我们理解。这超出了本期范围，可以走变更流程处理。"
    + ZH_FILLER.replace("通报", "告知"),
    "no_promises": "陈女士您好，感谢您的建议，我们理解。虽然超出范围，但我们保证免费加上。建议走变更流程，欢迎沟通。"
    + ZH_FILLER,
    "length": "感谢，我们理解，超出范围，建议变更，欢迎沟通。",
}


@pytest.mark.parametrize("rule", list(RULES))
def test_each_rule_fails_on_a_crafted_bad_chinese_letter(rule: str) -> None:
    assert rule in failed(BAD_ZH[rule], Language.ZH)


def test_blunt_chinese_words_are_named() -> None:
    assert set(failed(BAD_ZH["no_blunt_phrases"], Language.ZH)["no_blunt_phrases"]) == {"不能做", "没办法"}


def test_the_clients_quoted_words_do_not_count_against_the_letter() -> None:
    client = "I think it's impossible to work without it, I need it now."
    # In the letter's quotation block, the client's words are not the letter's own, whoever says so.
    letter = GOOD_EN.replace("Could the order history also be in an iPhone app?", client)
    assert failed(letter) == {}
    # Quoted inline, they are left out when the checker is told they are the client's.
    inline = GOOD_EN.replace("Could the order history also be in an iPhone app?", "(see below)") + "\n" + client
    assert failed(inline) != {}
    assert failed(inline, quoted=(client,)) == {}
