"""The default scope checker: retrieve the candidate items and exclusions, then judge.

1. Retrieve. Items and exclusions are indexed by their title and notes (stemmed English words, Chinese
   character bigrams and bilingual concepts). Each request term weighs its inverse document frequency
   over the scope, so a word every item shares counts little and a word only one item has counts a lot.
2. Judge, per part of the request (multi-part requests are split; the riskiest part decides):
   - an exclusion is hit when the request names something the exclusion has and the best in-scope item
     does not (so "order history in an iPhone app" hits the native-app exclusion, but "stock figures
     behind SAP" stays with the SAP item although an exclusion also says SAP);
   - the request extends its item when it names a channel, platform, language, environment, currency,
     timing or year the item does not, or says "also / another / 再 / 新增…" about words the item lacks;
   - it stays within the item when the item explains enough of the request; weak evidence means
     `unlisted`: the PM looks, rather than a guessed "in scope".
3. PM corrections are examples: a request close enough to a corrected one, that adds little neither the
   example nor its item says and states no count or time span the example does not, takes the PM's verdict.

Pure and deterministic: no I/O, the same answer for the same scope and text.
"""

from __future__ import annotations

import math
import re
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from ..domain import Example, Scope, ScopeItem, Verdict, VerdictKind, VerdictPart
from ..phrase import Phrase
from . import cues, lexicon, model, semantic
from . import limits as lim
from . import messages as msg
from . import text as tx

# Categories whose concepts mark an extension when the matched item does not name them.
EXTENSION_CATEGORIES = (
    "channel",
    "platform",
    "language",
    "environment",
    "currency",
    "timing",
    "payment_method",
    "business_system",
    "crm_system",
    "marketplace",
    "carrier",
    "map_provider",
    "cloud",
)


@dataclass(frozen=True)
class Params:
    """Thresholds. The main ones were tuned on labelled projects; `python -m bench.scope` re-tunes them with one
    project held out at a time, to show how much of the tuning carries over to a project it has not seen."""

    # Absolute amounts are in units of the weight of a word that only one item has, so they mean the
    # same on a 5-item scope and on a 500-item one.
    exclusion_min: float = 0.6  # weight of request terms only the exclusion explains
    exclusion_ratio: float = 0.5  # ...relative to what the best in-scope item explains
    exclusion_contained: float = 0.6  # share of an exclusion's title the request restates: excluded
    exclusion_title: float = 1.0  # a hit on an exclusion's title this strong decides even then
    item_min: float = 0.62  # weight the best item must explain
    coverage_min: float = 0.30  # share of the request the best item explains
    coverage_short: float = 0.5  # a short request the item explains this well needs no minimum weight
    coverage_bug: float = 0.24  # the same, for a bug report or a question on the item
    additive_gap: float = 0.25  # with "also / another / 再…": uncovered share that makes it an extension
    unknown_floor: float = 0.5  # ...where a word no item has counts at least this share of an unknown English word
    unknown_weight: float = 0.55  # weight of a request term no item or exclusion has (relative to max idf)
    unknown_weight_zh: float = 0.1  # the same for a Chinese bigram (many straddle two words)
    context_weight: float = 0.35  # terms of the project's name and goals: the whole project is about them
    concept_weight: float = 1.4
    length_norm: float = 0.3  # how much a long item's extra words are discounted when ranking
    cross_script_weight: float = 0.4  # an unknown word in the other script than the scope's
    common_weight: float = 0.35  # an everyday word no item has ("usual", "click", "顾客")
    generic_weight: float = 0.5  # everyday business concepts (customer, order, report…)
    notes_weight: float = 0.8
    exclusion_notes_weight: float = 0.6
    # A PM-corrected example decides a request this similar to it (cosine)...
    example_min: float = 0.55
    # ...that says little the example does not (the share of its weight in words neither the example nor its
    # item has): the same ask with something else on top ("...to a massage session", "...with a referral
    # bonus") is judged on its own, the same ask in the item's other words is not.
    example_new: float = 0.4
    new_thing_coverage: float = 0.5  # a thing no item names is new work when the item explains at most this share
    related_weight: float = 0.5  # a concept that goes with one the item names ("login" for an item about users)
    candidate_share: float = 0.5  # a candidate explains at least this share of what the closest one does
    max_candidates: int = 3


@dataclass
class _Doc:
    item: ScopeItem
    excluded: bool
    terms: dict[str, float]  # term -> field weight (title 1.0, notes less)
    concepts: set[str]
    years: set[str]
    sentences: list[tuple[str, dict[str, float]]]
    # For an exclusion of "everything other than A and B": the categories of A and B.
    complement: frozenset[str] = frozenset()
    # Concepts the item does not name but that go with one it names (an item about users is about their
    # logins too): they help an in-scope item explain a request, never hide an exclusion.
    soft: frozenset[str] = frozenset()
    # Counts and time spans the item's title and notes bound it by ("8 张", "2 sessions", "4 周").
    limits: lim.Limits = field(default_factory=lambda: lim.Limits({}, (), {}))

    def names(self, term: str) -> bool:
        """Whether the item's own title or notes have the term (not only a related concept)."""
        return term in self.terms and term not in self.soft


# Everyday words, and the words of a bug report ("broken", "报错"), say nothing about which work is asked for.
_COMMON = (
    frozenset(tx.stem(w) for w in lexicon.COMMON_EN)
    | lexicon.COMMON_ZH
    | frozenset(tx.stem(w) for w in lexicon.BUG_EN if " " not in w and "'" not in w)
    | frozenset(w for w in lexicon.BUG_ZH if len(w) == 2)
)
_CALENDAR = frozenset(tx.stem(w) for w in lexicon.CALENDAR_WORDS)
# Words that say when ("this year", "in January"), not what: an item's years and periods speak for them.
_WHEN = _CALENDAR | frozenset(("year", "month", "week", "day", "date", "#year", "#month", "#week", "#date"))
_RANGE = re.compile(r"(?:last|past|previous)\s+\d+\s+(?:months?|years?|weeks?|days?)|近\s*\d+\s*(?:个月|年|天)")
# Concepts of signing in and accounts: who may use the product.
_ACCESS = frozenset(("#login", "#signup", "#account", "#role", "#sso"))
# What may stand inside a Chinese verb-object word without changing it: numbers, measure words, particles.
_BETWEEN = frozenset("一两二三几个辆台套张份件次本条位间只把了过着点下些")
_CODE = re.compile(r"[a-z]{1,3}\d{1,3}|\d{1,3}[a-z]{1,2}")
_OTHER_THAN = re.compile(r"other than|except|apart from|besides|beyond|any other|其他|其它|以外|之外|除了")


_NUMBER = re.compile(r"(?<![\d.,])(?:\d{1,3}(?:,\d{3})+|\d{3,})(?![\d,]*\d)")


def _states_no_other_amount(request: lim.Limits, example: lim.Limits) -> bool:
    """Whether every count and time span the request states, the corrected example states too: "once a
    week" is not the "once a month" a PM approved, nor are 5 sessions the 2 of the example. A count said in
    words that the example has no count of ("two points from the pilot", "这两个商品") is how the message is
    put, not an amount asked for."""
    if not set(request.spans) <= set(example.spans):
        return False
    for unit, n in request.counts.items():
        if n <= 1:
            continue
        if unit in example.counts:
            if example.counts[unit] != n:
                return False
        elif any(ch.isdigit() for ch in request.labels[unit]):
            return False
    return True


def _numbers(text: str) -> list[str]:
    """Numbers of three digits or more that are not years ("1688", "2,600"): a number the scope names
    identifies what it is about, as a rare word does. Kept as terms "n:1688"."""
    out = []
    for m in _NUMBER.finditer(text):
        n = m.group(0).replace(",", "")
        if not (len(n) == 4 and n[:2] in ("19", "20")):
            out.append("n:" + n)
    return out


# Where something is used, not what is asked for: "on my iPhone", "in Safari on an iPad", "安卓手机都这样";
# "苹果的倒是正常" only in a report of what happens. Never "an iPhone app" or "an Android version".
_DEVICE_EN = re.compile(
    r"\b(?:on|in|from|with|using)\s+(?:(?:my|his|her|our|their|your|the|an?|some|any|all|[a-z]+'s)\s+){0,2}"
    r"(?:own\s+)?(iphones?|ipads?|android|ios|samsung|galaxy|pixel)\b(?!\s*(?:apps?|version|application)\b)"
)
_DEVICE_ZH = re.compile(
    r"(安卓|苹果|华为|小米|iphone|ipad|ios)(?:手机|机|系统|平板|上)(?!.{0,3}(?:app|应用|客户端|版))"
)
# Once one device is where something happens, the others the request compares it with are too ("works fine
# on my husband's Android", "苹果的倒是正常").
_DEVICE_ANY = re.compile(
    r"(iphones?|ipads?|android|samsung|galaxy|pixel|安卓|苹果|华为|小米)(?!.{0,3}(?:app|应用|客户端|版))"
)
_WEB_CHANNEL = re.compile(r"browser|website|web site|web ui|web app|responsive|网页|浏览器|小程序|\bh5\b|\bweb\b")


def _plain(term: str) -> bool:
    """An everyday word ("system", "系统") names no excluded thing."""
    return term in _COMMON


@dataclass
class _Index:
    docs: list[_Doc]
    idf: dict[str, float]
    max_idf: float
    postings: dict[str, list[int]]
    context: set[str]
    deletes: dict[str, str]
    cjk_scope: bool  # the scope is written in Chinese: English words it lacks weigh less
    unit: float  # weight of a word only one item has
    norm: list[float]  # length normalisation per doc
    examples: list[tuple[Example, dict[str, float], lim.Limits]] = field(default_factory=list)
    project: str = ""  # the project's slug
    in_scope_terms: frozenset[str] = frozenset()
    # Stems of four letters' difference from a scope word sharing its start: 'reserv' (reserved) and
    # 'reservat' (reservation) are one word to a reader, if not to the suffix stripper.
    prefixes: dict[str, str] = field(default_factory=dict)
    # Exclusions with a title of two words or more: its words and their total weight.
    titles: dict[int, tuple[frozenset[str], float]] = field(default_factory=dict)
    # Chinese words of exclusion titles ("租车"), to be found with a word or two between their characters.
    split_words: frozenset[str] = frozenset()
    split_first: frozenset[str] = frozenset()
    # Character n-grams per doc (tf-idf, unit length) and their postings: a view free of word boundaries.
    grams: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    gram_idf: dict[str, float] = field(default_factory=dict)

    # An item delivers the work through a browser or a mini-program ("responsive website", "微信小程序"): a
    # phone named in a request is then where it is used, not a request for an app.
    web_channel: bool = False

    def in_scope_has(self, term: str) -> bool:
        return term in self.in_scope_terms


@dataclass
class _PartResult:
    text: str
    verdict: VerdictKind
    doc: _Doc | None
    score: float
    clause: str
    extras: tuple[Phrase, ...] = ()
    explanation: Phrase | None = None
    path: str = ""  # which rule decided
    ranked: tuple[int, ...] = ()  # docs by what they explain of the request, best first
    confidence: float = 0.0
    candidates: tuple[str, ...] = ()


class PartEvidence(NamedTuple):
    """What the learned decision sees of one part of a request (see `ScopeJudge.evidence`)."""

    x: dict[str, float]
    item: str | None  # the closest in-scope item
    exclusion: str | None  # the exclusion a rule names, or the closest one


@dataclass
class _Evidence:
    """One part of a request as the checker sees it: the hand-written rules' verdict, the verdict it would
    give as each kind, and the evidence as numbers for the learned decision."""

    rule: _PartResult
    inside: _PartResult | None  # in scope, with the closest item
    out: _PartResult | None  # out of scope, with the exclusion a rule names (or the closest one)
    unlisted: _PartResult  # new work: what goes beyond the item, or weak evidence
    x: dict[str, float]


def _sentences(notes: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.;!?。；！？])\s*", notes) if s.strip()]


class ScopeJudge:
    """Two-step scope checker (retrieve, then judge). Caches one index per scope; use one per thread."""

    def __init__(self, params: Params | None = None, cache_size: int = 32) -> None:
        self.params = params or Params()
        self._cache: OrderedDict[object, _Index] = OrderedDict()
        self._cache_size = cache_size

    # --- index ---------------------------------------------------------------------------------

    def _index(self, scope: Scope) -> _Index:
        key = (scope.project, scope.in_scope, scope.out_of_scope, scope.examples)
        idx = self._cache.get(key)
        if idx is not None:
            self._cache.move_to_end(key)
            return idx
        p = self.params
        docs: list[_Doc] = []
        for excluded, items in ((False, scope.in_scope), (True, scope.out_of_scope)):
            for it in items:
                title = tx.analyse(it.title, concepts_weight=p.concept_weight)
                notes = tx.analyse(it.notes, concepts_weight=p.concept_weight) if it.notes else None
                nw = p.exclusion_notes_weight if excluded else p.notes_weight
                terms = {t: 1.0 for t in title.terms}
                concepts = set(title.concepts)
                years = set(title.years)
                sentences: list[tuple[str, dict[str, float]]] = []
                span = _RANGE.search(f"{it.title} {it.notes}".lower())
                if span:
                    years.add(span.group(0))
                for num in _numbers(it.title):
                    terms[num] = 1.0
                for num in _numbers(it.notes):
                    terms.setdefault(num, nw)
                if notes:
                    for t in notes.terms:
                        terms.setdefault(t, nw)
                    concepts |= notes.concepts
                    years |= notes.years
                    for s in _sentences(it.notes):
                        sentences.append((s, tx.analyse(s).terms))
                complement: frozenset[str] = frozenset()
                if excluded and _OTHER_THAN.search(it.title.lower()):
                    complement = frozenset(
                        tx.concept(c).category for c in title.concepts if tx.concept(c).category in EXTENSION_CATEGORIES
                    )
                doc = _Doc(it, excluded, terms, concepts, years, sentences, complement)
                if not excluded:
                    doc.limits = lim.item_limits(f"{it.title}. {it.notes}")
                docs.append(doc)
        n = len(docs)
        df: dict[str, int] = {}
        postings: dict[str, list[int]] = {}
        for i, d in enumerate(docs):
            for t in d.terms:
                df[t] = df.get(t, 0) + 1
                postings.setdefault(t, []).append(i)
        idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}
        max_idf = math.log(1 + (n + 0.5) / 0.5)
        context = set(tx.analyse(" ".join((scope.name, *scope.goals))).terms)
        deletes: dict[str, str] = {}
        for t in sorted(df, key=lambda t: (-df[t], t)):
            if t.isascii() and t.isalpha() and len(t) >= 4:
                for i in range(len(t)):
                    deletes.setdefault(t[:i] + t[i + 1 :], t)
                deletes.setdefault(t, t)
        words = [t for t in df if not t.startswith("#")]
        cjk_scope = sum(1 for t in words if not t.isascii()) > len(words) / 2
        unit = math.log(1 + (n - 0.5) / 1.5) if n > 1 else 1.0
        lengths = [sum(d.terms.values()) for d in docs]
        avg = sum(lengths) / len(lengths) if lengths else 1.0
        b = self.params.length_norm
        norm = [1.0 / (1 - b + b * ln / avg) if avg else 1.0 for ln in lengths]
        idx = _Index(docs, idf, max_idf, postings, context, deletes, cjk_scope, unit, norm, project=scope.project)
        idx.in_scope_terms = frozenset(t for d in docs if not d.excluded for t in d.terms)
        idx.web_channel = any(
            _WEB_CHANNEL.search(f"{d.item.title} {d.item.notes}".lower()) for d in docs if not d.excluded
        )
        for i, d in enumerate(docs):
            if d.excluded:
                continue
            soft: dict[str, float] = {}
            for t, fw in d.terms.items():
                for rel in lexicon.RELATED.get(t[1:], ()) if t.startswith("#") else ():
                    rel_key = "#" + rel
                    if rel_key not in d.terms:
                        soft[rel_key] = max(soft.get(rel_key, 0.0), fw * p.related_weight)
            if soft:
                d.terms.update(soft)
                d.soft = frozenset(soft)
                for t in sorted(soft):
                    postings.setdefault(t, []).append(i)
        for i, d in enumerate(docs):
            title_words = frozenset(
                t for t, fw in d.terms.items() if fw == 1.0 and t not in _COMMON and t not in context
            )
            if d.excluded and len(title_words) >= 2:
                idx.titles[i] = (title_words, sum(idf[t] for t in title_words))
        idx.split_words = frozenset(
            t
            for d in docs
            if d.excluded
            for t, fw in d.terms.items()
            if fw == 1.0 and len(t) == 2 and not t.isascii() and not any(ch in tx.ZH_FUNCTION for ch in t)
        )
        idx.split_first = frozenset(t[0] for t in idx.split_words)
        for t in sorted(df, key=lambda t: (-df[t], t)):
            if t.isascii() and t.isalpha() and len(t) >= 6:
                for k in range(max(5, len(t) - 3), len(t)):
                    idx.prefixes.setdefault(t[:k], t)
        self._index_grams(idx)
        for ex in scope.examples:
            idx.examples.append(
                (ex, tx.analyse(ex.text, concepts_weight=p.concept_weight).terms, lim.item_limits(ex.text))
            )
        self._cache[key] = idx
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return idx

    def _index_grams(self, idx: _Index) -> None:
        vecs: list[dict[str, float]] = []
        df: dict[str, int] = {}
        for d in idx.docs:
            v = dict(tx.char_grams(d.item.title))
            for g, c in tx.char_grams(d.item.notes).items():
                v[g] = v.get(g, 0.0) + self.params.notes_weight * c
            vecs.append(v)
            for g in v:
                df[g] = df.get(g, 0) + 1
        n = len(idx.docs)
        idx.gram_idf = {g: math.log(1 + (n - c + 0.5) / (c + 0.5)) for g, c in df.items()}
        for i, v in enumerate(vecs):
            w = {g: c * idx.gram_idf[g] for g, c in v.items()}
            norm = math.sqrt(sum(x * x for x in w.values())) or 1.0
            for g, x in w.items():
                idx.grams.setdefault(g, []).append((i, x / norm))

    def _gram_sims(self, idx: _Index, text: str) -> dict[int, float]:
        """Cosine of the request's character n-grams with each doc's (docs sharing none are left out)."""
        q = tx.char_grams(text)
        top = math.log(1 + (len(idx.docs) + 0.5) / 0.5)
        qw = {g: c * idx.gram_idf.get(g, top) for g, c in q.items()}
        norm = math.sqrt(sum(x * x for x in qw.values())) or 1.0
        sims: dict[int, float] = {}
        for g, x in qw.items():
            for i, y in idx.grams.get(g, ()):
                sims[i] = sims.get(i, 0.0) + x * y
        return {i: s / norm for i, s in sims.items()}

    def _weight(self, idx: _Index, term: str, qw: float) -> float:
        w = idx.idf.get(term)
        if w is None:
            if term.startswith("#") and term[1:] in lexicon.EVERYDAY:
                w = idx.max_idf * self.params.unknown_weight * self.params.common_weight
            elif term.startswith("#"):
                w = idx.max_idf * self.params.unknown_weight * 1.2
            elif term.isascii() and not idx.cjk_scope:
                w = idx.max_idf * self.params.unknown_weight
            else:
                w = idx.max_idf * self.params.unknown_weight_zh
            if not term.startswith("#") and term.isascii() == idx.cjk_scope:
                w *= self.params.cross_script_weight  # the other language's words: only concepts bridge
            if not term.isascii() and any(ch in tx.ZH_FUNCTION for ch in term):
                w *= self.params.common_weight
        if term in _COMMON or (term in _CALENDAR and term not in idx.idf):
            w *= self.params.common_weight
        if term in idx.context:
            w *= self.params.context_weight
        elif term.startswith("#") and term[1:] in lexicon.GENERIC:
            w *= self.params.generic_weight
        return w * qw

    def _fix_typos(self, idx: _Index, a: tx.Analysis) -> tx.Analysis:
        """Map an unknown English word to a scope word one edit away ('invetory' -> 'inventory'), or to one
        that starts the same and differs only in its ending ('reserved' -> 'reservation')."""
        fixed: dict[str, float] = {}
        changed = False
        for t, w in a.terms.items():
            if (
                t in idx.idf
                or t.startswith("#")
                or t in _COMMON
                or w <= tx.CONSUMED  # part of a concept phrase: a word the lexicon knows is not a typo
                or not (t.isascii() and t.isalpha() and len(t) >= 5)
            ):
                # An everyday word is not a typo: 'stuck' is not 'stock'.
                fixed[t] = w
                continue
            cands = [t] + [t[:i] + t[i + 1 :] for i in range(len(t))]
            hit = next((idx.deletes[c] for c in cands if c in idx.deletes), None)
            if not (hit is not None and hit != t and len(hit) >= 5 and abs(len(hit) - len(t)) <= 1):
                hit = idx.prefixes.get(t) or next(
                    (t[:k] for k in range(len(t) - 1, max(4, len(t) - 4), -1) if t[:k] in idx.idf), None
                )
            if hit is not None and hit != t:
                fixed.setdefault(hit, w)
                changed = True
            else:
                fixed[t] = w
        if not changed:
            return a
        return tx.Analysis(
            fixed,
            a.negated,
            a.concepts,
            a.years,
            a.amounts,
            a.additive,
            a.bug,
            a.cjk_share,
            a.audience,
            a.question,
            a.again,
            a.added,
            a.switch,
            a.products,
            a.self_service,
        )

    # --- check ---------------------------------------------------------------------------------

    def check(self, scope: Scope, text: str) -> Verdict:
        idx = self._index(scope)
        whole = tx.analyse(text, concepts_weight=self.params.concept_weight)
        example = self._example(scope, idx, whole, text)
        if example is not None:
            return example
        parts = self._parts(scope, idx, text, whole)
        multi = len(parts) > 1
        results = [p if isinstance(p, _PartResult) else self._decide(idx, p, multi=multi) for p in parts]
        decisive = max(results, key=lambda r: (r.verdict.risk, r.confidence))
        return Verdict(
            decisive.verdict,
            decisive.doc.item.id if decisive.doc and decisive.verdict is not VerdictKind.UNLISTED else None,
            round(decisive.score, 3),
            decisive.clause,
            parts=tuple(
                VerdictPart(r.text, r.verdict, r.doc.item.id if r.doc else None, r.score, r.clause) for r in results
            )
            if multi
            else (),
            extras=tuple(str(e) for e in decisive.extras),
            explanation=str(decisive.explanation) if decisive.explanation else "",
            why=decisive.explanation,
            extra_phrases=decisive.extras,
            confidence=round(decisive.confidence, 3),
            candidates=decisive.candidates if decisive.verdict is VerdictKind.UNLISTED else (),
        )

    def evidence(self, scope: Scope, text: str) -> list[PartEvidence]:
        """The evidence the learned decision sees, per part of the request (the parts a PM's corrected example
        decides are left out), with the closest item and the exclusion found. For training and measuring."""
        idx = self._index(scope)
        parts = self._parts(scope, idx, text, tx.analyse(text, concepts_weight=self.params.concept_weight))
        multi = float(len(parts) > 1)
        return [
            PartEvidence(
                {**p.x, "multi": multi},
                p.inside.doc.item.id if p.inside and p.inside.doc else None,
                p.out.doc.item.id if p.out and p.out.doc else None,
            )
            for p in parts
            if isinstance(p, _Evidence)
        ]

    def _parts(self, scope: Scope, idx: _Index, text: str, whole: tx.Analysis) -> list[_Evidence | _PartResult]:
        """Each part of the request (multi-part requests are split) as evidence, or as the verdict of the PM's
        corrected example it is close to."""
        parts_text = tx.split_parts(text)
        if len(parts_text) <= 1:
            return [self._evidence(idx, text, whole)]
        out: list[_Evidence | _PartResult] = []
        for pt in parts_text:
            a = tx.analyse(pt, concepts_weight=self.params.concept_weight)
            if not a.terms:
                continue
            ex = self._example(scope, idx, a, pt)
            if ex is not None:
                doc = next((d for d in idx.docs if d.item.id == ex.item_id), None)
                out.append(_PartResult(pt, ex.verdict, doc, ex.score, ex.clause, (), ex.why, confidence=ex.confidence))
            else:
                out.append(self._evidence(idx, pt, a))
        return out or [self._evidence(idx, text, whole)]

    def _decide(self, idx: _Index, ev: _Evidence, *, multi: bool) -> _PartResult:
        """The learned decision over the evidence (`bot.scope.model`). Explicit rules are kept where they are
        reliable: an exclusion whose title the request all but restates is named outright, and a request past
        a limit its item states is not in scope."""
        x = {**ev.x, "multi": float(multi)}
        p = model.verdict_probabilities(x)
        item, exclusion = model.item_right(x), model.exclusion_right(x)
        if ev.out is not None and ev.out.path == "excluded_named":
            k = model.OUT
        else:
            # A request past a limit the item states about itself ("up to 3 dashboards", "2 weeks of on-site
            # support") is never called in scope: the scope file itself says where the item ends.
            has_item = ev.inside is not None and not x.get("limit")
            k = model.decide(p, has_item=has_item, has_exclusion=ev.out is not None, item=item, exclusion=exclusion)
        chosen = (ev.inside, ev.out, ev.unlisted)[k]
        assert chosen is not None  # decide() only picks a kind that has something to name
        r = replace(chosen, confidence=model.confidences(p, item, exclusion)[k])
        if k == model.UNLISTED:
            r = replace(r, candidates=self._candidates(idx, r))
            if ev.rule.verdict is not VerdictKind.UNLISTED and not r.extras:
                # The rules would have named an item or exclusion, but the evidence as a whole is too weak to
                # assert it: no clause, the closest candidates instead.
                titles = [d.item.title for d in (idx.docs[i] for i in r.ranked[: self.params.max_candidates])]
                r = replace(r, clause="", explanation=msg.unsure_which(titles))
        return r

    def _candidates(self, idx: _Index, r: _PartResult) -> tuple[str, ...]:
        """The items and exclusions closest to the request: what it is most likely about."""
        first = [r.doc.item.id] if r.doc is not None else []
        ranked = [idx.docs[i].item.id for i in r.ranked]
        out = list(dict.fromkeys(first + ranked))
        return tuple(out[: self.params.max_candidates])

    # --- examples ------------------------------------------------------------------------------

    def _example(self, scope: Scope, idx: _Index, a: tx.Analysis, text: str) -> Verdict | None:
        if not idx.examples or not a.terms:
            return None
        best, best_sim = None, 0.0
        stated = lim.item_limits(text)
        mine = {t: self._weight(idx, t, w) for t, w in a.terms.items()}
        qn = math.sqrt(sum(w**2 for w in mine.values()))
        total = sum(mine.values())
        item_terms = {d.item.id: d.terms for d in idx.docs}
        for ex, terms, said in idx.examples:
            dot = sum(w * self._weight(idx, t, terms[t]) for t, w in mine.items() if t in terms)
            en = math.sqrt(sum(self._weight(idx, t, w) ** 2 for t, w in terms.items()))
            sim = dot / (qn * en) if qn and en else 0.0
            own = item_terms.get(ex.item_id, {}) if ex.item_id else {}
            new = sum(w for t, w in mine.items() if t not in terms and t not in own) / total if total else 1.0
            if sim > best_sim and new <= self.params.example_new and _states_no_other_amount(stated, said):
                best, best_sim = ex, sim
        if best is None or best_sim < self.params.example_min:
            return None
        item = scope.item(best.item_id) if best.item_id else None
        if best.verdict is not VerdictKind.UNLISTED and item is None:
            return None  # the item has since been removed from the scope
        clause = (item.title + (f": {item.notes}" if item.notes else "")) if item else ""
        return Verdict(
            best.verdict,
            item.id if item else None,
            round(best_sim, 3),
            clause,
            explanation=str(msg.like_corrected(best.text)),
            why=msg.like_corrected(best.text),
            confidence=round(best_sim, 3),
        )

    # --- judge one part ------------------------------------------------------------------------

    def _evidence(self, idx: _Index, part: str, a: tx.Analysis) -> _Evidence:
        """Everything the checker knows about one part: what the hand-written rules would say, the verdict it
        would give as each kind (the item, the exclusion, the extension), and the evidence as numbers."""
        p = self.params
        a = self._fix_typos(idx, self._split_words(idx, part, a))
        a = self._device_as_context(idx, part, a)
        named_numbers = {n: 1.0 for n in _numbers(part) if n in idx.idf and n not in a.terms}
        if named_numbers:  # "our 1688 store" names the exclusion that says 1688
            a = replace(a, terms={**a.terms, **named_numbers})
        weights = {t: self._weight(idx, t, w) for t, w in a.terms.items()}
        total = sum(w for t, w in weights.items() if t not in a.negated)
        cross = float((a.cjk_share > 0.5) != idx.cjk_scope)  # asked in the other language than the scope's
        if not total:
            r = _PartResult(part, VerdictKind.UNLISTED, None, 0.0, "", explanation=msg.no_words(), path="no_words")
            return _Evidence(r, None, None, r, {"rule_no_words": 1.0, "cross": cross, "cjk": float(idx.cjk_scope)})
        # Retrieval over the postings: what each doc explains of the request.
        explained: dict[int, float] = {}
        explained_pos: dict[int, float] = {}  # without negated terms
        for t, w in weights.items():
            for i in idx.postings.get(t, ()):
                if not (a.bug or a.question) and t in idx.docs[i].soft:
                    continue  # a related concept answers a report or a question on an item, not an ask
                fw = idx.docs[i].terms[t]
                explained[i] = explained.get(i, 0.0) + w * fw
                if t not in a.negated:
                    explained_pos[i] = explained_pos.get(i, 0.0) + w * fw
        # Rank by what a doc explains, discounted for long docs (BM25's length normalisation).
        best_in = max(
            (i for i in explained if not idx.docs[i].excluded),
            key=lambda i: (explained[i] * idx.norm[i], -i),
            default=None,
        )
        in_doc = idx.docs[best_in] if best_in is not None else None
        m_in = explained.get(best_in, 0.0) if best_in is not None else 0.0
        ranked = tuple(sorted(explained_pos, key=lambda i: (-explained_pos[i] * idx.norm[i], i)))
        second_in = max((explained[i] for i in explained if not idx.docs[i].excluded and i != best_in), default=0.0)
        coverage = m_in / total
        unknown = sum(w for t, w in weights.items() if t not in idx.idf and t not in a.negated and not _plain(t))
        negated = sum(w for t, w in weights.items() if t in a.negated)
        x: dict[str, float] = {
            "coverage": coverage,
            "strength": min(m_in / idx.unit, 4.0),
            "margin": max(min((m_in - second_in) / m_in if m_in else 0.0, 1.0), -0.5),
            "second": second_in / m_in if m_in else 0.0,
            "size": min(total / idx.unit, 8.0) / 8.0,
            "bug": float(a.bug),
            "question": float(a.question),
            "additive": float(a.additive),
            "cross": cross,
            "cjk": float(idx.cjk_scope),
            "unknown": unknown / (total + unknown) if total + unknown else 0.0,
            "negated": negated / (total + negated) if total + negated else 0.0,
            "no_item": float(in_doc is None),
        }
        x.update(cues.cues(part))
        x.update(semantic.features(part, idx.project))
        sims = self._gram_sims(idx, part)
        char_in = max((s for i, s in sims.items() if not idx.docs[i].excluded), default=0.0)
        char_out = max((s for i, s in sims.items() if idx.docs[i].excluded), default=0.0)
        x["char_best"] = char_in
        x["char_item"] = sims.get(best_in, 0.0) if best_in is not None else 0.0
        x["char_agree"] = float(best_in is not None and char_in > 0 and sims.get(best_in, 0.0) >= char_in)
        x["char_out"] = char_out
        x["char_out_vs_in"] = char_out / (char_out + char_in) if char_out + char_in else 0.0
        if in_doc is not None:
            title = [t for t, fw in in_doc.terms.items() if fw == 1.0 and not _plain(t) and t not in idx.context]
            tw = sum(idx.idf[t] for t in title)
            x["title_cov"] = sum(idx.idf[t] for t in title if t in a.terms and t not in a.negated) / tw if tw else 0.0

        # Exclusions: what only the exclusion explains, compared with the best in-scope item.
        best_out, best_distinct = None, 0.0
        candidates = set(explained_pos) | {i for i, d in enumerate(idx.docs) if d.complement}
        for i in sorted(candidates):
            d = idx.docs[i]
            if not d.excluded:
                continue
            # Only what no in-scope item has, and not the project's own subject, can name an exclusion.
            distinct = sum(
                weights[t] * d.terms[t]
                for t in a.terms
                if t in d.terms
                and t not in a.negated
                and t not in idx.context
                and not idx.in_scope_has(t)
                and not _plain(t)
            )
            if d.complement:
                # "Languages other than English and German": another language is what it excludes.
                for cid in a.concepts:
                    c = tx.concept(cid)
                    key = "#" + cid
                    if (
                        c.category in d.complement
                        and cid not in d.concepts
                        and key not in a.negated
                        and key not in idx.context
                        and not idx.in_scope_has(key)
                        and cid not in lexicon.IMPLIES.values()
                    ):
                        distinct += weights[key]
            if distinct > best_distinct and self._names_something(idx, d, a):
                best_out, best_distinct = i, distinct
        distinct_in = 0.0
        title_hit = 0.0  # what only the exclusion explains, from its title: the excluded thing itself
        if best_out is not None:
            out_terms = idx.docs[best_out].terms
            title_hit = sum(
                weights[t]
                for t in a.terms
                if out_terms.get(t) == 1.0 and t not in a.negated and t not in idx.context and not idx.in_scope_has(t)
            )
        if in_doc is not None and best_out is not None:
            out_doc = idx.docs[best_out]
            distinct_in = sum(
                weights[t] * in_doc.terms[t] for t in a.terms if in_doc.names(t) and t not in out_doc.terms
            )
        top_out = next((i for i in ranked if idx.docs[i].excluded), None)
        m_out = explained_pos.get(top_out, 0.0) if top_out is not None else 0.0
        if top_out is not None and a.audience:
            # Who the request is for ("so purchasing can use it") does not bring it closer to an exclusion.
            out_terms = idx.docs[top_out].terms
            m_out -= sum(weights[t] * out_terms[t] for t in a.audience if t in out_terms and t in weights)
            m_out = max(m_out, 0.0)
        x["out_distinct"] = min(best_distinct / idx.unit, 4.0)
        x["out_share"] = best_distinct / (best_distinct + distinct_in) if best_distinct else 0.0
        x["out_title"] = min(title_hit / idx.unit, 4.0)
        x["out_cov"] = m_out / total
        x["out_vs_in"] = (
            m_out * idx.norm[top_out] / (m_out * idx.norm[top_out] + m_in * idx.norm[best_in])
            if (top_out is not None and best_in is not None)
            else float(top_out is not None)
        )
        out_res: _PartResult | None = None
        if (
            best_out is not None
            and best_distinct >= p.exclusion_min * idx.unit
            and (best_distinct >= p.exclusion_ratio * distinct_in or title_hit >= p.exclusion_title * idx.unit)
        ):
            d = idx.docs[best_out]
            score = min(
                1.0, 0.5 + best_distinct / (2 * total) + 0.1 * min(best_distinct / (p.exclusion_min * idx.unit) - 1, 2)
            )
            x["fired_excluded"] = 1.0
            out_res = _PartResult(
                part,
                VerdictKind.OUT_OF_SCOPE,
                d,
                score,
                self._clause(d, a),
                explanation=msg.excluded(d.item.title),
                path="excluded",
                ranked=ranked,
            )
        named = None if a.bug else self._names_exclusion_title(idx, a, in_doc)
        if named is not None:
            x["named_title"] = named[1]
        kind = None if a.bug else self._names_excluded_kind(idx, a, in_doc)
        if kind is not None:
            x["named_kind"] = 1.0
        named = named or kind
        if out_res is None and named is not None:
            d, share = named
            out_res = _PartResult(
                part,
                VerdictKind.OUT_OF_SCOPE,
                d,
                min(1.0, 0.5 + share / 2),
                self._clause(d, a),
                explanation=msg.excluded(d.item.title),
                path="excluded_named",
                ranked=ranked,
            )
        if out_res is None:
            # No rule names an exclusion: the closest one, should the evidence as a whole point at it.
            closest = best_out if best_out is not None else top_out
            if closest is not None:
                d = idx.docs[closest]
                out_res = _PartResult(
                    part,
                    VerdictKind.OUT_OF_SCOPE,
                    d,
                    min(1.0, 0.5 + explained_pos.get(closest, 0.0) / (2 * total)),
                    self._clause(d, a),
                    explanation=msg.excluded(d.item.title),
                    path="closest_exclusion",
                    ranked=ranked,
                )

        x["has_exclusion"] = float(out_res is not None)
        if in_doc is None:
            r = _PartResult(
                part, VerdictKind.UNLISTED, None, 0.0, "", explanation=msg.no_item(), path="no_item", ranked=ranked
            )
            rule = out_res if out_res is not None and out_res.path != "closest_exclusion" else r
            x["rule_" + rule.path] = 1.0
            return _Evidence(rule, None, out_res, r, x)
        cov_min = p.coverage_bug if a.bug or a.question else p.coverage_min
        # Weak evidence: the item explains too small a share of the request, or too little in itself
        # (unless the request is short and almost all about the item).
        weak = coverage < cov_min or (m_in < p.item_min * idx.unit and coverage < p.coverage_short)
        x["weak"] = float(weak)
        unlisted = _PartResult(
            part,
            VerdictKind.UNLISTED,
            in_doc,
            round(coverage, 3),
            "",
            explanation=msg.not_sure(in_doc.item.title),
            path="weak",
            ranked=ranked,
        )
        ext: _PartResult | None = None  # the first sign that the request goes beyond its item

        # Extensions: a channel, platform, language… the item does not name; or "also / 再" with new words.
        if a.again and all(in_doc.names(b) for b in a.again):
            a = replace(a, additive=False)  # "第二天再报工": the item's own action, done again
            x["additive"] = 0.0
        # A report of what happens may quote numbers within the item ("only 5 of the 8 wished days show");
        # one that also asks for something ("能不能…", "could we…") may ask past the limit.
        past = [] if a.bug and not x.get("cue_ask") else lim.beyond(in_doc.limits, part, more=a.additive)
        x["limit"] = float(bool(past))
        if past:
            # "再加一张" against "经营分析报表（8 张）", "一年的驻场" against "4 周驻场支持": past the item's own limit.
            said = [msg.extra_limit(*s.split("|", 1)) for s in past[:3]]
            ext = _PartResult(
                part,
                VerdictKind.UNLISTED,
                in_doc,
                round(max(0.5, coverage), 3),
                self._clause(in_doc, a),
                extras=tuple(said),
                explanation=msg.extends(in_doc.item.title, said),
                path="limit",
                ranked=ranked,
            )
        extras = self._extras(idx, in_doc, a, coverage)
        for e in extras:
            key = "x_" + e.key.removeprefix("scope.extra_")
            x[key] = min(x.get(key, 0.0) + 1.0, 2.0)
        uncovered = self._uncovered(idx, in_doc, a, weights)
        x["uncovered"] = uncovered
        added = [msg.extra_new(w) for w in self._added_new(idx, in_doc, a)]
        x["added"] = float(bool(added))
        switched = [msg.extra_instead(w, a.switch[0]) for w in self._switched_to(idx, in_doc, a)]
        x["switched"] = float(bool(switched))
        added = added or switched
        gap = a.additive and uncovered >= p.additive_gap and not a.bug
        x["additive_gap"] = float(gap)
        if ext is None and (extras or gap or added):
            if not extras:
                extras = added or [msg.extra_new(w) for w in self._unnamed_words(idx, in_doc, a, part)]
            ext = _PartResult(
                part,
                VerdictKind.UNLISTED,
                in_doc,
                round(max(0.5, uncovered), 3),
                self._clause(in_doc, a),
                extras=tuple(extras),
                explanation=msg.extends(in_doc.item.title, extras),
                path="extends",
                ranked=ranked,
            )
        if a.self_service and not a.bug:
            item_text = f"{in_doc.item.title} {in_doc.item.notes}".lower()
            if (
                tx.STAFF.search(item_text)
                and not tx.SELF_SERVICE.search(item_text)
                # Staff the request says it can do without ("不用跑物业") are not staff doing it.
                and not tx.STAFF.search(re.sub(r"(?:不用|不必|without)[^，,。.;；!?！？]*", " ", tx.normalise(part)))
            ):
                x["self_service"] = 1.0
                if ext is None:
                    # "让车主自己续费" against "物业在后台办理续费": the same task, done by other people.
                    ext = _PartResult(
                        part,
                        VerdictKind.UNLISTED,
                        in_doc,
                        round(max(0.5, coverage), 3),
                        self._clause(in_doc, a),
                        extras=(msg.extra_self_service(),),
                        explanation=msg.extends(in_doc.item.title, [msg.extra_self_service()]),
                        path="extends",
                        ranked=ranked,
                    )
        products = sorted(t for t in a.products if t not in idx.idf and t not in a.negated and t not in tx.STOP_EN)
        x["product"] = float(bool(products))
        if products and ext is None:
            # "Sync from our Dropbox": a product no item or exclusion names; the item explains the rest of
            # the request only in general terms, so whether it covers this one is for the PM to say.
            ext = _PartResult(
                part,
                VerdictKind.UNLISTED,
                in_doc,
                round(coverage, 3),
                self._clause(in_doc, a),
                extras=tuple(dict.fromkeys(msg.extra_new(a.word(t)) for t in products[:3])),
                explanation=msg.not_sure(in_doc.item.title),
                path="product",
                ranked=ranked,
            )
        if ext is not None:
            unlisted = ext
        score = min(1.0, 0.4 + coverage * 0.6 + (0.1 if a.bug else 0.0))
        inside = _PartResult(
            part, VerdictKind.IN_SCOPE, in_doc, score, self._clause(in_doc, a), path="in", ranked=ranked
        )
        if out_res is not None and out_res.path != "closest_exclusion":
            rule = out_res
        elif weak:
            rule = _PartResult(
                part,
                VerdictKind.UNLISTED,
                in_doc,
                round(coverage, 3),
                "",
                explanation=msg.not_sure(in_doc.item.title),
                path="weak",
                ranked=ranked,
            )
        else:
            rule = unlisted if ext is not None else inside
        x["rule_" + rule.path] = 1.0
        return _Evidence(rule, inside, out_res, unlisted, x)

    @staticmethod
    def _split_words(idx: _Index, part: str, a: tx.Analysis) -> tx.Analysis:
        """ "租一辆车" names the 租车 of an exclusion's title: a Chinese word whose two characters have only a
        number, a measure word or a particle between them still names it ("收占位费" does not name 收费)."""
        if not idx.split_words:
            return a
        found: dict[str, float] = {}
        for run in re.findall(r"[\u3400-\u9fff]+", part):
            for i in range(len(run)):
                if run[i] not in idx.split_first:
                    continue
                for gap in (2, 3):
                    if i + gap >= len(run) or not all(ch in _BETWEEN for ch in run[i + 1 : i + gap]):
                        continue
                    bg = run[i] + run[i + gap]
                    if bg in idx.split_words and bg not in a.terms:
                        found[bg] = 1.0
        if not found:
            return a
        return replace(a, terms={**a.terms, **found})

    def _names_exclusion_title(self, idx: _Index, a: tx.Analysis, in_doc: _Doc | None) -> tuple[_Doc, float] | None:
        """The exclusion whose title the request all but restates ("pay fines online" against "Online
        payment of fines or fees"), even when in-scope items share those words: an exclusion's title is
        the excluded thing itself. Everyday words and the project's own subject do not count."""
        best: tuple[_Doc, float] | None = None
        hits: dict[int, tuple[int, float, bool]] = {}
        for t in a.terms:
            if t in a.negated:
                continue
            for i in idx.postings.get(t, ()):
                if i in idx.titles and t in idx.titles[i][0]:
                    n, w, beyond = hits.get(i, (0, 0.0, False))
                    hits[i] = (n + 1, w + idx.idf[t], beyond or in_doc is None or not in_doc.names(t))
        for i, (n, w, beyond) in sorted(hits.items()):
            if not beyond:
                continue  # the closest item says all of it too ("a code from an authenticator app")
            share = w / idx.titles[i][1]
            if n >= 2 and share >= self.params.exclusion_contained and (best is None or share > best[1]):
                best = (idx.docs[i], share)
        return best

    @staticmethod
    def _device_as_context(idx: _Index, part: str, a: tx.Analysis) -> tx.Analysis:
        """A phone or tablet named as where something is used or goes wrong ("the button never shows up on my
        iPhone") is not a request for an app, when the scope delivers through a browser or a mini-program and
        the request does not itself ask for an app."""
        if not idx.web_channel:
            return a
        app = a.terms.get("#native_app", 0.0) >= 1.0 and "#native_app" not in a.negated
        if app:
            return a
        t = part.lower().replace("’", "'")
        if not (_DEVICE_EN.search(t) or _DEVICE_ZH.search(t)):
            return a
        drop = {k for m in _DEVICE_ANY.finditer(t) for k in tx.analyse(m.group(1)).terms}
        if a.terms.get("#native_app", 0.0) < 1.0:
            drop.add("#native_app")  # implied by the phone alone
        terms = {k: v for k, v in a.terms.items() if k not in drop}
        concepts = {c for c in a.concepts if "#" + c not in drop}
        return replace(a, terms=terms, concepts=concepts)

    def _names_excluded_kind(self, idx: _Index, a: tx.Analysis, in_doc: _Doc | None) -> tuple[_Doc, float] | None:
        """A channel, platform, language… the request asks for that the closest item does not name, and an
        exclusion names in its title, itself or its kind ("an iPhone app" against "Native mobile apps",
        though an item's notes mention an authenticator app)."""
        for cid in sorted(a.concepts):
            key = "#" + cid
            if key in a.negated or tx.concept(cid).category not in EXTENSION_CATEGORIES:
                continue
            if in_doc is not None and in_doc.names(key):
                continue
            kinds = [key]
            parent = lexicon.IMPLIES.get(cid)
            while parent and tx.concept(parent).category in EXTENSION_CATEGORIES:
                kinds.append("#" + parent)
                parent = lexicon.IMPLIES.get(parent)
            for k in kinds:
                if k in idx.context:
                    continue
                for i in idx.postings.get(k, ()):
                    d = idx.docs[i]
                    if d.excluded and d.terms[k] == 1.0:
                        return d, 0.6
        return None

    @staticmethod
    def _unnamed_words(idx: _Index, doc: _Doc, a: tx.Analysis, part: str) -> list[str]:
        """What an "also …" request names that its item does not, for the explanation: English words as
        they are, runs of Chinese characters whose bigrams no item has ("年级排名")."""
        out: list[str] = []
        unknown = {
            t
            for t in a.terms
            if t not in idx.idf
            and t not in a.names
            and t not in doc.terms
            and not t.startswith("#")
            and t not in _COMMON
            and t not in _WHEN
            and t not in a.negated
            and a.terms[t] > tx.CONSUMED
        }
        for run in re.findall(r"[\u3400-\u9fff]+", part):
            marked = [False] * len(run)
            for i in range(len(run) - 1):
                bg = run[i : i + 2]
                if bg in unknown and not any(ch in tx.ZH_FUNCTION for ch in bg):
                    marked[i] = marked[i + 1] = True
            known = {i for i in range(len(run) - 1) if run[i : i + 2] in _COMMON or run[i : i + 2] in idx.idf}
            for i in range(len(run)):
                # "显示全国排名": the 示 belongs to 显示, a word the scope or everyday speech has.
                if marked[i] and ((i - 1) in known or i in known):
                    marked[i] = False
            word = ""
            for ch, m in zip(run, marked, strict=True):
                if m:
                    word += ch
                elif word:
                    out.append(word)
                    word = ""
            if word:
                out.append(word)
        out = [w for w in out if len(w) >= 2]  # a lone character is the edge of a word, not a thing
        out.extend(a.word(t) for t in sorted(unknown) if t.isascii() and t.isalpha() and len(t) >= 3)
        return list(dict.fromkeys(out))[:3]

    def _uncovered(self, idx: _Index, doc: _Doc, a: tx.Analysis, weights: dict[str, float]) -> float:
        """The share of the request its item does not explain, for telling "also …" asks apart.

        A word no item has counts at least `unknown_floor` of an unknown English word, whatever its
        script: an unknown Chinese bigram or an English word on a Chinese scope weighs little when
        ranking (it may straddle two words, or only a concept can bridge it), but it is still
        something the item does not name."""
        floor = idx.max_idf * self.params.unknown_weight * self.params.unknown_floor
        covered = uncovered = 0.0
        for t, w in weights.items():
            if t in a.negated or t in _WHEN:
                continue
            if (
                t not in idx.idf
                and not t.startswith("#")
                and t not in _COMMON
                and t not in idx.context
                and a.terms[t] > tx.CONSUMED  # part of a concept phrase: the concept speaks for it
                and not (not t.isascii() and any(ch in tx.ZH_FUNCTION for ch in t))
            ):
                w = max(w, floor * a.terms[t])
            if t in doc.terms:
                covered += w
            else:
                uncovered += w
        total = covered + uncovered
        return uncovered / total if total else 0.0

    def _added_new(self, idx: _Index, doc: _Doc, a: tx.Analysis) -> list[str]:
        """For "besides X, Y" / "除了X，还要Y": what Y names that the item does not. X is named only to say
        what there already is, so a concept X shares with the item cannot hide an extra Y."""
        if not a.added or a.bug:
            return []
        b = self._fix_typos(idx, tx.analyse(a.added, concepts_weight=self.params.concept_weight))
        # A word inside a concept phrase counts as itself here: "巡检" and "首件检验" are both quality
        # checks, but the item that names one does not name the other.
        b = replace(b, terms={t: max(w, 1.0) for t, w in b.terms.items()})
        new = [
            tx.concept(cid).label
            for cid in sorted(b.concepts)
            if "#" + cid not in doc.terms
            and "#" + cid not in b.negated
            and "#" + cid not in idx.context
            and cid not in lexicon.GENERIC
            and b.terms["#" + cid] >= self.params.concept_weight
        ]
        return list(dict.fromkeys(new + self._unnamed_words(idx, doc, b, a.added)))[:3]

    def _switched_to(self, idx: _Index, doc: _Doc, a: tx.Analysis) -> list[str]:
        """ "From Mailchimp to Substack", "从微信支付换成云闪付": leaving a service, tool or provider the item
        names for one it does not is a change of the item, not work inside it."""
        if not a.switch or a.bug:
            return []
        old_text, new_text = a.switch
        cw = self.params.concept_weight
        old = tx.analyse(old_text, concepts_weight=cw)
        named = [t for t in old.terms if not t.startswith("#") and t not in _COMMON and t not in _WHEN]
        if not named or not all(doc.names(t) for t in named):
            return []  # what is left is not something the item names ("from Tuesday to Thursday")
        new = self._fix_typos(idx, tx.analyse(new_text, concepts_weight=cw))
        new = replace(new, terms={t: max(w, 1.0) for t, w in new.terms.items()})
        labels = [
            tx.concept(cid).label
            for cid in sorted(new.concepts)
            if "#" + cid not in doc.terms and "#" + cid not in idx.context and cid not in lexicon.GENERIC
        ]
        labels += [w for w in self._unnamed_words(idx, doc, new, new_text) if w not in _WHEN]
        return list(dict.fromkeys(labels))[:3]

    @staticmethod
    def _names_something(idx: _Index, d: _Doc, a: tx.Analysis) -> bool:
        """Whether the request names something specific that only this exclusion has: everyday business
        concepts ("sales managers would like…") do not name an exclusion that happens to say "sales"."""
        for t in a.terms:
            if t not in d.terms or t in a.negated or t in idx.context or idx.in_scope_has(t) or t in a.audience:
                continue
            if t in _COMMON:
                continue  # an everyday word ("site", "page") names nothing
            if t.startswith("#"):
                if t[1:] not in lexicon.GENERIC:
                    return True
            elif a.terms[t] > tx.CONSUMED:
                return True
        return bool(d.complement)

    def _extras(self, idx: _Index, doc: _Doc, a: tx.Analysis, coverage: float) -> list[Phrase]:
        extras: list[Phrase] = []
        if a.bug:
            return extras
        for cid in sorted(a.concepts):
            if "#" + cid in a.negated or cid in doc.concepts or "#" + cid in idx.context:
                continue
            c = tx.concept(cid)
            if c.category not in EXTENSION_CATEGORIES:
                continue
            covered = sorted(tx.concept(o).label for o in doc.concepts if tx.concept(o).category == c.category)
            own_language = cid == ("lang_zh" if idx.cjk_scope else "lang_en")
            if (
                not covered
                and not a.additive
                and (c.category != "language" or own_language)
                and c.category != "channel"
            ):
                continue  # "on my iPad, the checkout…": a place where it happens, not more than the item
            # ...but sending something by SMS, e-mail or WeChat is a way to reach people the item has not got,
            # and an English menu on a Chinese project is a translation the item has not got.
            # Named in the request's own words ("抖音", not the concept's name "douyin").
            said = a.word("#" + cid) if ("#" + cid) in a.words else c.label
            if covered:
                extras.append(msg.extra_beyond(said, covered))
            else:
                extras.append(msg.extra_unnamed(said))
        if not a.additive and coverage <= self.params.new_thing_coverage:
            # "Can patients rate their doctor?": a specific thing that no item or exclusion names at all,
            # in a request its closest item explains only in part.
            for cid in sorted(a.concepts):
                key = "#" + cid
                if (
                    key in a.negated
                    or key in idx.idf
                    or key in doc.soft  # goes with what the item names ("login" for its users)
                    or key in idx.context
                    or cid in lexicon.GENERIC
                    or cid in lexicon.QUALITIES
                ):
                    continue
                c = tx.concept(cid)
                if c.category in EXTENSION_CATEGORIES or cid in lexicon.IMPLIES.values():
                    continue
                if a.terms[key] >= self.params.concept_weight:  # named, not only implied
                    extras.append(msg.extra_new(a.word(key)))
        if a.additive:
            # "…go straight into Xero instead of a CSV": asking for more, naming what no item has.
            for t in sorted(a.terms):
                if t in a.negated or t in idx.idf or t in doc.soft or t in _COMMON or t in idx.context:
                    continue
                if t in a.names:
                    continue  # "a quick one from Tom": who asks, not what is asked for
                if not t.startswith("#") and a.terms[t] <= tx.CONSUMED:
                    continue  # part of a concept phrase ("till data"): the concept speaks for it
                if t in _CALENDAR:
                    continue  # "back to January": when, not what
                if t.startswith("#"):
                    c = tx.concept(t[1:])
                    if (
                        c.category in EXTENSION_CATEGORIES
                        or t[1:] in lexicon.GENERIC
                        or t[1:] in lexicon.IMPLIES.values()
                    ):
                        continue
                    extras.append(msg.extra_new(a.word(t)))
                elif t.isascii() and t.isalpha() and len(t) >= 3 and not idx.cjk_scope:
                    extras.append(msg.extra_new(a.word(t)))
        # "A2 and B2 licences" against an item of "C1 or C2": a code of the same shape is a sibling.
        codes = sorted(t for t in doc.terms if _CODE.fullmatch(t))
        if codes:
            for t in sorted(a.terms):
                if _CODE.fullmatch(t) and t not in idx.idf and t not in a.negated:
                    extras.append(msg.extra_beyond(t.upper(), [c.upper() for c in codes]))
        # "Brokers want their own login": access for a group of people no item names is a new audience.
        if any(k in doc.terms and k in a.terms and k not in a.negated for k in _ACCESS):
            for t in sorted(a.audience):
                if t.isascii() and t.isalpha() and len(t) >= 3 and t not in idx.idf and t not in _COMMON:
                    if t not in tx.STOP_EN and t not in a.names:
                        extras.append(msg.extra_audience(a.word(t)))
        doc_numbers = set(re.findall(r"\d+", (doc.item.title + " " + doc.item.notes).replace(",", "")))
        # A number goes past a limit only where the item sets one: "120 sheets every Monday" on an item that
        # counts nothing says how much, not that it asks for more.
        for amount in sorted(a.amounts - a.years) if doc_numbers - doc.years else ():
            digits = re.sub(r"\D", "", amount.split(".")[0])
            if digits and digits not in doc_numbers:
                extras.append(msg.extra_quantity(amount.strip()))
        for y in sorted(a.years - doc.years):
            if doc.years:
                extras.append(msg.extra_period(y, sorted(doc.years)))
        # "fishing-gear" is one thing however many stems it has: say it once.
        return list(dict.fromkeys(extras))

    def _clause(self, doc: _Doc, a: tx.Analysis) -> str:
        """The item's title and the note sentence that shares most with the request."""
        best, best_n = "", 0.0
        for s, terms in doc.sentences:
            n = sum(1.0 for t in terms if t in a.terms)
            if n > best_n:
                best, best_n = s, n
        return doc.item.title + (f": {best}" if best else "")
