"""How a request is said, not what it is about: asking for something, asking how something works, or
reporting what happens. General cues of English and Chinese speech, no vocabulary of any project.

A client reporting that a screen "still shows" the wrong thing, or asking "where do I find…", is most often
talking about work the scope already has; "could you add…", "能不能做一个…" asks for something, which may
or may not be there yet. The learned decision (`bot.scope.model`) weighs these cues with the rest of the
evidence."""

from __future__ import annotations

import re

_EN_ASK = re.compile(
    r"\b(?:could|can|would|will) (?:you|we|they|it|the team)\b(?! (?:tell|explain|confirm|check|let me know)\b)"
    r"|\b(?:we|i|they)(?:'d| would) (?:like|love)\b|\b(?:we|i|they) (?:want|need|wish)\b|\bplease\b"
    r"|\bis it possible\b|\bwould it be possible\b|\bany chance\b|\bhow about\b|\bwhat about\b"
)
_EN_NEW = re.compile(
    r"\b(?:add|adding|new|build|create|develop|integrate|integration|introduce|extend|expand|support for|"
    r"set up a|another|extra|additional|more)\b"
)
_EN_HOW = re.compile(
    r"(?:^|[.!?]\s*)(?:how|what|where|when|why|which|who|will|does|do|did|is|are|was|were|has|have|should|am)\b"
    r"[^.!?]*\?"
    r"|\b(?:how|where) (?:do|can|should) (?:i|we)\b|\bis (?:that|this|it) (?:how|right|normal|expected)\b"
)
_EN_REPORT = re.compile(
    r"\b(?:still|keeps?|stopped|suddenly|since (?:yesterday|monday|last|the)|instead of|doesn't|does not|"
    r"won't|can't|cannot|isn't|aren't|wasn't|weren't|didn't|never|no longer|anymore|wrong|missing|shows?|"
    r"showing|shown|says|came over|went|got)\b"
)
_ZH_ASK = re.compile(r"能不能|能否|可不可以|可否|可以.{0,6}吗|希望|想要|麻烦|请|帮(?:我|忙|我们)|需要|要求|想让|想")
_ZH_NEW = re.compile(r"新增|增加|加一?个|加上|添加|开发|做一?个|新做|接入|对接|扩展|另外|再加|多加|额外|新的|更多")
_ZH_HOW = re.compile(r"怎么|怎样|如何|在哪|哪里|哪儿|多久|多少|为什么|为啥|是不是|有没有|吗[？?]|呢[？?]|能.{0,8}吗")
_ZH_REPORT = re.compile(
    r"还是|一直|老是|总是|突然|不了|不到|不上|不出|没有?(?!有)|显示|提示|变成|错了|不对|乱码|失败|报错|卡住|点不|打不开|收不到"
)


def cues(text: str) -> dict[str, float]:
    """Cue strengths for one request or part (0 or 1 each)."""
    t = text.lower().replace("’", "'")
    return {
        "cue_ask": float(bool(_EN_ASK.search(t) or _ZH_ASK.search(t))),
        "cue_new": float(bool(_EN_NEW.search(t) or _ZH_NEW.search(t))),
        "cue_how": float(bool(_EN_HOW.search(t) or _ZH_HOW.search(t))),
        "cue_report": float(bool(_EN_REPORT.search(t) or _ZH_REPORT.search(t))),
        "cue_qmark": float("?" in t or "？" in t),
    }
