"""Limits a scope item states about itself, and requests that go past them.

An item's title and notes often bound it: "8 reports", "经营分析报表（8 张）", "two training sessions",
"4 周驻场支持", "an approval by the line manager (一级审批)", "reminders over 14 days". A request that asks for
more of a counted thing ("one more report", "再加一张"), a larger count of it ("两级审批" against 一级), or a
longer time than every span the item names ("一年的驻场" against 4 周) asks beyond the item.

Pure functions, no I/O, no vocabulary of any project: numbers, Chinese measure words and time units only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import text as tx

_ZH_DIGITS = {
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
    "半": 0.5,
}
_EN_NUMBERS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "twelve": 12,
    "a": 1,
    "an": 1,
}
# Time units in days.
_SPAN_ZH = {"天": 1.0, "日": 1.0, "周": 7.0, "星期": 7.0, "个月": 30.0, "月": 30.0, "年": 365.0}
_SPAN_EN = {"day": 1.0, "week": 7.0, "month": 30.0, "year": 365.0}
# Measure words that count things (not money, not weight). A size may stand between the number and the
# measure word ("3 小袋").
_MEASURE = "张场篇项个家台次级份条名位套种门节期袋瓶盒箱包辆间本册批轮档类笔"
# Not an ordinal: "第二天" is the next day, not two days; "第3张" the third sheet.
_NUM_ZH = r"(?<![第\d.一二两三四五六七八九十半])(\d+(?:\.\d+)?|[一二两三四五六七八九十半]{1,3})"
_COUNT_ZH = re.compile(_NUM_ZH + r"\s*[小大]?([" + _MEASURE + r"])")
_SPAN_ZH_RX = re.compile(_NUM_ZH + r"\s*(个月|星期|天|日|周|月|年)(?!度|底|初|中|级)")
_NUM_EN = r"(\d+(?:\.\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|twelve)"
_SPAN_EN_RX = re.compile(r"\b(" + _NUM_EN[1:-1] + r"|a|an)[\s-]+(days?|weeks?|months?|years?)\b")
_COUNT_EN = re.compile(r"\b(?:up to |at most |maximum of |max\.? )?" + _NUM_EN + r"\s+([a-z][a-z-]{2,})\b")
# "Management dashboards (up to 3)": the count after the noun, in brackets.
_COUNT_EN_AFTER = re.compile(r"\b([a-z][a-z-]{2,})\s*\((?:up to |at most |max\.? )?(\d+)\)")
# A span the item states as its maximum ("最长30天", "30 天以内", "for up to 14 days", "at most 2 weeks"): any
# longer span a request names goes past it, however the request says it.
# A range ("1- to 7-day tickets", "1-7 天") and a time things are kept ("history kept 13 months", "数据保留24个月")
# state a maximum too.
_MAX_BEFORE = re.compile(
    r"(?:最长|最多|不超过|至多|上限|保留|保存|up to|at most|no more than|maximum of|max\.?|"
    r"\d+\s*-?\s*(?:to|-|–|~|～|至|到)|(?:kept|retained|stored|keep|retain)(?:\s+for)?)\s*$"
)
_MAX_AFTER = re.compile(r"^\s*(?:以内|之内|内|为限|封顶|only\b)")
# A span said as a length ("for a year", "another six months", "一年的驻场", "延长三个月"), not a date.
_LENGTH_EN = re.compile(
    r"\b(?:for|another|extra|additional|further)\s+(?:a|an|one|\d+|two|three|four|five|six|twelve)\s+(?:days?|weeks?|months?|years?)\b"
)
_LENGTH_ZH = re.compile(
    r"(?:延长|再给|多给|续|再)\s*"
    + "(?:\\d+|[一二两三四五六七八九十半]{1,3})"
    + r"\s*(?:个月|星期|天|周|年)|(?:\d+|[一二两三四五六七八九十半]{1,3})\s*(?:个月|星期|天|周|年)的"
)
# "One more report", "another session", "再加一张", "多开两场": more of a counted thing.
_MORE_EN = re.compile(
    r"\b(?:another|one more|an extra|a further|an additional|additional|extra|more)\s+([a-z][a-z-]{2,})\b"
)
_MORE_ZH = re.compile(r"(?:再|多|另|新增|增加|加)(?:加|开|做|出|来|搞)?\s*" + _NUM_ZH + r"?\s*([" + _MEASURE + r"])")


def _zh_number(s: str) -> float | None:
    if re.fullmatch(r"\d+(?:\.\d+)?", s):
        return float(s)
    if s in _ZH_DIGITS:
        return float(_ZH_DIGITS[s])
    if len(s) == 2 and s[0] == "十" and s[1] in _ZH_DIGITS:
        return 10.0 + _ZH_DIGITS[s[1]]
    if len(s) == 2 and s[1] == "十" and s[0] in _ZH_DIGITS:
        return 10.0 * _ZH_DIGITS[s[0]]
    if len(s) == 3 and s[1] == "十" and s[0] in _ZH_DIGITS and s[2] in _ZH_DIGITS:
        return 10.0 * _ZH_DIGITS[s[0]] + _ZH_DIGITS[s[2]]
    return None


def _en_number(s: str) -> float | None:
    if re.fullmatch(r"\d+(?:\.\d+)?", s):
        return float(s)
    return float(_EN_NUMBERS[s]) if s in _EN_NUMBERS else None


@dataclass(frozen=True)
class Limits:
    """What an item bounds: counts per unit (a measure word or an English noun's stem) and time spans."""

    counts: dict[str, float]  # unit -> the largest count the item names of it
    spans: tuple[float, ...]  # every time span the item names, in days
    labels: dict[str, str]  # unit -> how the item says it ("8 张", "2 sessions")
    longest: float = 0.0  # the longest span the item states as a maximum ("最长30天"), in days; 0 if none
    span_label: str = ""  # how the item says its longest span ("30天", "14 days")

    @property
    def empty(self) -> bool:
        return not self.counts and not self.spans


def item_limits(text: str) -> Limits:
    t = text.lower().replace(",", "")
    counts: dict[str, float] = {}
    labels: dict[str, str] = {}
    spans: list[float] = []
    maxima: list[float] = []
    said: dict[float, str] = {}
    for m in _SPAN_ZH_RX.finditer(t):
        n = _zh_number(m.group(1))
        if n is not None:
            spans.append(n * _SPAN_ZH[m.group(2)])
            said.setdefault(spans[-1], m.group(0).strip())
            if _MAX_BEFORE.search(t[: m.start()]) or _MAX_AFTER.search(t[m.end() :]):
                maxima.append(spans[-1])
    for m in _SPAN_EN_RX.finditer(t):
        n = _en_number(m.group(1))
        unit = m.group(2).rstrip("s")
        if n is not None:
            spans.append(n * _SPAN_EN[unit])
            said.setdefault(spans[-1], m.group(0).strip())
            if _MAX_BEFORE.search(t[: m.start()]) or _MAX_AFTER.search(t[m.end() :]):
                maxima.append(spans[-1])
    for m in _COUNT_ZH.finditer(t):
        n = _zh_number(m.group(1))
        if n is None or (m.group(2) == "个" and t[m.end() : m.end() + 1] == "月"):
            continue
        unit = m.group(2)
        if n > counts.get(unit, 0):
            counts[unit], labels[unit] = n, m.group(0).strip()
    for m in _COUNT_EN_AFTER.finditer(t):
        unit, n = tx.stem(m.group(1)), float(m.group(2))
        if n > counts.get(unit, 0):
            counts[unit], labels[unit] = n, m.group(0).strip()
    for m in _COUNT_EN.finditer(t):
        n = _en_number(m.group(1))
        word = m.group(2)
        if n is None or word in tx.STOP_EN or word.rstrip("s") in _SPAN_EN or word in ("hours", "hour", "minutes"):
            continue
        unit = tx.stem(word)
        if n > counts.get(unit, 0):
            counts[unit], labels[unit] = n, m.group(0).strip()
    return Limits(counts, tuple(spans), labels, max(maxima, default=0.0), said.get(max(spans, default=0.0), ""))


_NEGATION = re.compile(
    r"(?:不用|不要|不需要|不必|无需|没必要|don't need|do not need|no need|not asking)[^，,。.;；!?！？]*$"
)


def _negated(t: str, start: int) -> bool:
    """Whether a negation earlier in the same clause covers the words at `start` ("不用再加场了")."""
    return _NEGATION.search(t[max(0, start - 30) : start]) is not None


def beyond(limits: Limits, request: str, *, more: bool = False) -> list[str]:
    """What the request asks past the item's limits, as "asked|the item's limit" pairs for an explanation.

    A longer time span counts only when the request asks for more (`more`): otherwise a span is as often
    a date or a notice period ("ten days before the shoot") as a length of service."""
    if limits.empty:
        return []
    t = request.lower().replace(",", "")
    out = [x for x in _beyond(limits, t, more) if not _negated(t, x[0])]
    return list(dict.fromkeys(f"{asked}|{limit}" for _, asked, limit in out))


def _beyond(limits: Limits, t: str, more: bool) -> list[tuple[int, str, str]]:
    out: list[tuple[int, str, str]] = []
    for m in _MORE_ZH.finditer(t):
        unit = m.group(2)
        if unit in limits.counts:
            out.append((m.start(), m.group(0).strip(), limits.labels[unit]))
    for m in _MORE_EN.finditer(t):
        unit = tx.stem(m.group(1))
        if unit in limits.counts:
            out.append((m.start(), m.group(0).strip(), limits.labels[unit]))
    for m in _COUNT_ZH.finditer(t):
        n, unit = _zh_number(m.group(1)), m.group(2)
        if n is not None and unit in limits.counts and n > limits.counts[unit]:
            out.append((m.start(), m.group(0).strip(), limits.labels[unit]))
    for m in _COUNT_EN.finditer(t):
        n, unit = _en_number(m.group(1)), tx.stem(m.group(2))
        if n is not None and unit in limits.counts and n > limits.counts[unit] and m.group(1) not in ("a", "an"):
            out.append((m.start(), m.group(0).strip(), limits.labels[unit]))
    length = more or _LENGTH_EN.search(t) or _LENGTH_ZH.search(t)
    if limits.spans and (length or limits.longest):
        longest = max(limits.spans)
        asked = [
            (m.start(), m.group(0), (n or 0) * _SPAN_ZH[m.group(2)])
            for m in _SPAN_ZH_RX.finditer(t)
            # Against a stated maximum alone, "3月" or "5日" is more likely a date than a length.
            if (n := _zh_number(m.group(1))) is not None and (length or m.group(2) not in ("月", "日"))
        ]
        asked += [
            (m.start(), m.group(0), (n or 0) * _SPAN_EN[m.group(2).rstrip("s")])
            for m in _SPAN_EN_RX.finditer(t)
            if (n := _en_number(m.group(1))) is not None
        ]
        for start, said, days in asked:
            if days > longest:
                out.append((start, said.strip(), limits.span_label or _days(longest)))
    return out


def _days(d: float) -> str:
    for unit, n in (("years", 365.0), ("months", 30.0), ("weeks", 7.0)):
        if d >= n and d % n == 0:
            return f"{int(d // n)} {unit}"
    return f"{d:g} days"
