"""A small lexical scope checker: token overlap between the request and each item's title and notes.

English words are lower-cased and crudely stemmed; Chinese is split into character bigrams. An item
wins only when enough of the request's words are found in it; otherwise the request is `unlisted`, so
a weak match sends the request to the PM instead of waving it through.
"""

from __future__ import annotations

import math
import re

from ..domain import Scope, Verdict, VerdictKind

_WORD = re.compile(r"[a-z0-9]+|[\u4e00-\u9fff]+")
_STOP = frozenset(
    "a an and are as at be but by can could do does for from has have i in is it its me my no not of on or "
    "our please should so that the their them they this to too us was we what when where which who will with "
    "would you your just also".split()
)
_CJK_STOP = frozenset("的了吗呢吧啊能不能可以我们你们一下一个这个那个".split())


def tokens(text: str) -> list[str]:
    out: list[str] = []
    for run in _WORD.findall(text.lower()):
        if "\u4e00" <= run[0] <= "\u9fff":
            out.extend(run[i : i + 2] for i in range(max(1, len(run) - 1)))
            continue
        if run in _STOP or len(run) < 2:
            continue
        for suffix in ("ing", "ed", "es", "s"):
            if len(run) > len(suffix) + 3 and run.endswith(suffix):
                run = run[: -len(suffix)]
                break
        out.append(run)
    return [t for t in out if t not in _CJK_STOP]


class LexicalChecker:
    threshold = 0.34

    def check(self, scope: Scope, text: str) -> Verdict:
        req = set(tokens(text))
        score, item, excluded = 0.0, None, False
        for is_exclusion, items in ((False, scope.in_scope), (True, scope.out_of_scope)):
            for candidate in items:
                item_tokens = set(tokens(f"{candidate.title} {candidate.notes}"))
                if not req or not item_tokens:
                    continue
                s = len(req & item_tokens) / math.sqrt(len(req) * min(len(item_tokens), 12))
                # Exclusions are listed to be caught: let them win a near tie.
                if is_exclusion:
                    s *= 1.15
                if s > score:
                    score, item, excluded = s, candidate, is_exclusion
        if item is None or score < self.threshold:
            return Verdict(
                VerdictKind.UNLISTED, None, min(score, 1.0), "", explanation="No item or exclusion matches closely."
            )
        kind = VerdictKind.OUT_OF_SCOPE if excluded else VerdictKind.IN_SCOPE
        clause = item.title + (f": {item.notes}" if item.notes else "")
        return Verdict(kind, item.id, min(score, 1.0), clause)
