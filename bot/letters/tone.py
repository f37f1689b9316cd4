"""Tone check: named, explainable rules applied to every letter, drafted or edited.

Each rule returns passed/failed, a sentence a PM can act on, and the words that made it fail. The rules
follow the decline guidance: give a reason, offer an alternative, show understanding, say "we", avoid
blunt or dismissive wording, invite further discussion, make no promise the PM did not choose, and keep
a sane length. Text the letter quotes from the client is left out: the client may write "I" or
"impossible"; the letter should not.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from ..domain import Language, ToneResult
from ..phrase import Items, Phrase

RULES = (
    "gives_reason",
    "offers_alternative",
    "shows_empathy",
    "says_we",
    "no_blunt_phrases",
    "invites_discussion",
    "no_promises",
    "length",
)

# fmt: off
_MARKERS: dict[str, dict[Language, tuple[str, ...]]] = {
    "gives_reason": {
        Language.EN: (
            "because", "due to", "since", "for this reason", "as a result", "in order to", "our goal",
            "goal", "scope", "budget", "timeline", "schedule", "deadline", "milestone", "capacity",
            "fully committed", "allocated", "resources", "constraint", "priority", "priorities",
        ),
        Language.ZH: ("因为", "由于", "为了", "因此", "所以", "目标", "范围", "预算", "进度", "资源", "里程碑", "节点", "限制", "工期"),
    },
    "offers_alternative": {
        # "phase" alone is not enough: every letter speaks of "the current phase".
        Language.EN: (
            "alternative", "instead", "option", "suggest", "propose", "recommend", "later version",
            "in stages", "later phase", "next phase", "second phase", "phase 2", "change request", "estimate",
            "third-party", "third party", "revisit",
        ),
        # Bare 建议 is not enough either: "感谢您的建议" thanks the client for theirs.
        Language.ZH: (
            "方案", "我们建议", "建议您", "建议考虑", "可以考虑", "替代", "后续版本", "分阶段", "变更", "第三方",
            "稍后再议", "下一期", "二期",
        ),
    },
    "shows_empathy": {
        Language.EN: (
            "understand", "appreciate", "thank", "recognise", "recognize", "matters to you",
            "important to you", "we know how", "we see why", "sorry",
        ),
        Language.ZH: ("理解", "感谢", "谢谢", "体谅", "重要性", "非常重视", "抱歉"),
    },
    "invites_discussion": {
        Language.EN: (
            "discuss", "talk", "call", "meeting", "get in touch", "let us know", "reach out",
            "open to", "glad to", "happy to", "your thoughts", "other ideas",
        ),
        Language.ZH: ("沟通", "讨论", "联系", "电话", "会议", "欢迎", "交流", "面谈", "想法", "其他建议"),
    },
}

# fmt: on

BLUNT = {
    Language.EN: (
        "we can't do this",
        "we cannot do this",
        "we can't do that",
        "we won't do",
        "we will not do",
        "can't be done",
        "cannot be done",
        "impossible",
        "no way",
        "out of the question",
        "not our problem",
        "not our job",
        "you should have",
        "as i said",
        "as we said before",
        "obviously",
        "that's not how",
        "we refuse",
        "forget it",
        "don't bother",
        "not going to happen",
        "absolutely not",
    ),
    Language.ZH: (
        "不能做",
        "做不了",
        "不可能",
        "没办法",
        "不行",
        "办不到",
        "别想",
        "不是我们的问题",
        "你们应该",
        "早就说过",
        "拒绝",
        "没得商量",
        "不予考虑",
        "不要再提",
    ),
}

PROMISES = {
    Language.EN: (
        "we guarantee",
        "we promise",
        "free of charge",
        "at no cost",
        "at no extra cost",
        "no charge",
        "we will deliver",
        "we will build",
        "we will add it",
        "we will include it",
    ),
    Language.ZH: ("保证", "承诺", "免费", "不收费", "一定会做", "我们会做", "马上就做"),
}

LENGTH = {Language.EN: (60, 500), Language.ZH: (120, 1000)}
MEETING_LENGTH = {Language.EN: (40, 400), Language.ZH: (80, 800)}

# A meeting invitation deliberately leaves the refusal for the meeting: it is not held to the rules
# about reasons and alternatives, which the PM's talking points carry instead.
RULES_BY_KIND = {
    "decline": RULES,
    "meeting_invite": ("says_we", "no_blunt_phrases", "invites_discussion", "no_promises", "length"),
}

_EN_WORD = re.compile(r"[A-Za-z']+")
_EN_SINGULAR = {"i", "me", "my", "mine", "myself", "i'm", "i've", "i'd", "i'll"}
_EN_PLURAL = {"we", "us", "our", "ours", "ourselves", "we're", "we've", "we'd", "we'll"}
_CJK = re.compile(r"[\u4e00-\u9fff]")


# The letter's quotation block (the client's words, indented) and anything it puts in quotation marks
# (the project's goal, an item's title, the project's name): none of it is the letter's own wording.
_QUOTE_BLOCK = re.compile(r"^(?: {2,}|\t|>).*$", re.MULTILINE)
_IN_QUOTES = re.compile(r"“[^”\n]{0,400}”|「[^」\n]{0,400}」|『[^』\n]{0,400}』")


def own_words(text: str, quoted: Iterable[str] = ()) -> str:
    """The letter's own sentences: without the passages it quotes (`quoted`: the client's request, the
    project's goals), its quotation block, or what it puts in quotation marks."""
    text = _QUOTE_BLOCK.sub(" ", text)
    for q in quoted:
        for passage in {q.strip(), " ".join(q.split()).rstrip(".。")}:
            if passage:
                # "Our shared goal is to offer…" quotes the goal "Offer…": the case of its first letter may differ.
                text = re.sub(re.escape(passage), " ", text, flags=re.IGNORECASE)
    return _IN_QUOTES.sub(" ", text)


def _found(text: str, phrases: Iterable[str]) -> list[str]:
    low = text.lower()
    hits = []
    for p in phrases:
        if p.isascii():
            if re.search(r"(?<![a-z])" + re.escape(p) + r"(?![a-z])", low):
                hits.append(p)
        elif p in text:
            hits.append(p)
    return hits


def check_tone(
    text: str, language: Language, *, quoted: Iterable[str] = (), kind: str = "decline"
) -> tuple[ToneResult, ...]:
    """Apply the rules for a letter of `kind` to its plain text.

    The rules read only the letter's own sentences (`own_words`): not the client's request it quotes, nor
    the project's goals (`quoted`), so a client's "I" or a goal's "替代" changes nothing. The length is the
    letter's as the client reads it, quotation included."""
    body = own_words(text, quoted)
    results = []
    for rule in RULES_BY_KIND.get(kind, RULES):
        if rule == "length":
            results.append(_length(text, language, MEETING_LENGTH if kind == "meeting_invite" else LENGTH))
        else:
            results.append(_CHECKS[rule](body, language))
    return tuple(results)


def _result(rule: str, passed: bool, why: Phrase, offending: Iterable[str] = ()) -> ToneResult:
    return ToneResult(rule, passed, str(why), tuple(offending), why)


def _quoted(words: Iterable[str]) -> Items:
    return Items(f"“{w}”" for w in words)


def _presence(rule: str) -> Callable[[str, Language], ToneResult]:
    def check(body: str, language: Language) -> ToneResult:
        hits = _found(body, _MARKERS[rule][language])
        if hits:
            return _result(rule, True, Phrase("tone.found", words=_quoted(hits[:3])))
        return _result(rule, False, Phrase(f"tone.missing.{rule}"))

    return check


def _says_we(body: str, language: Language) -> ToneResult:
    if language is Language.ZH:
        plural = len(re.findall("我们|咱们", body))
        singular_hits = re.findall("我(?!们)", body)
        singular = len(singular_hits)
        words = ["我"] * min(singular, 1)
    else:
        toks = [t.lower() for t in _EN_WORD.findall(body)]
        plural = sum(t in _EN_PLURAL for t in toks)
        singular_words = [t for t in toks if t in _EN_SINGULAR]
        singular = len(singular_words)
        words = sorted(set(singular_words))
    if plural == 0:
        return _result("says_we", False, Phrase("tone.never_we", we=plural, i=singular), words)
    if singular * 2 >= plural:
        return _result("says_we", False, Phrase("tone.too_much_i", we=plural, i=singular), words)
    return _result("says_we", True, Phrase("tone.we_counts", we=plural, i=singular))


def _no_blunt(body: str, language: Language) -> ToneResult:
    hits = _found(body, BLUNT[language])
    if hits:
        return _result("no_blunt_phrases", False, Phrase("tone.blunt", words=_quoted(hits[:3])), hits)
    return _result("no_blunt_phrases", True, Phrase("tone.none_found"))


def _no_promises(body: str, language: Language) -> ToneResult:
    hits = _found(body, PROMISES[language])
    if hits:
        return _result("no_promises", False, Phrase("tone.promise", words=_quoted(hits[:3])), hits)
    return _result("no_promises", True, Phrase("tone.none_found"))


def _length(body: str, language: Language, bounds: dict[Language, tuple[int, int]] = LENGTH) -> ToneResult:
    lo, hi = bounds[language]
    if language is Language.ZH:
        n = len(_CJK.findall(body)) + len(_EN_WORD.findall(body))
        unit = "chars"
    else:
        n = len(_EN_WORD.findall(body))
        unit = "words"
    if n < lo:
        return _result("length", False, Phrase(f"tone.too_short.{unit}", n=n, lo=lo, hi=hi))
    if n > hi:
        return _result("length", False, Phrase(f"tone.too_long.{unit}", n=n, lo=lo, hi=hi))
    return _result("length", True, Phrase(f"tone.length.{unit}", n=n))


_CHECKS: dict[str, Callable[[str, Language], ToneResult]] = {
    "gives_reason": _presence("gives_reason"),
    "offers_alternative": _presence("offers_alternative"),
    "shows_empathy": _presence("shows_empathy"),
    "says_we": _says_we,
    "no_blunt_phrases": _no_blunt,
    "invites_discussion": _presence("invites_discussion"),
    "no_promises": _no_promises,
    "length": _length,
}


def format_report(results: Iterable[ToneResult], language: Language = Language.EN) -> str:
    """Render a tone report as lines of ✓/✗ for chat and terminal: the rule, then what was found."""
    from ..text import t

    lines = []
    for r in results:
        mark = "✓" if r.passed else "✗"
        detail = r.why.render(language) if r.why is not None else r.detail
        lines.append(t(language, "tone.line", mark=mark, rule=t(language, f"tone.rule.{r.rule}"), detail=detail))
    return "\n".join(lines)
