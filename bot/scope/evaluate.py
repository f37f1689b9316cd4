"""Measure a scope checker on labelled requests: accuracy, macro-F1, item accuracy, leak rate, and more.

Pure: the caller loads the project scopes and the labelled rows; this module only counts.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..domain import Scope, Verdict, VerdictKind
from . import ScopeChecker
from .llm import ModelResult

LABELS = (VerdictKind.IN_SCOPE.value, VerdictKind.OUT_OF_SCOPE.value, VerdictKind.UNLISTED.value)
_TAG = re.compile(r"^hard\(([^)]+)\)")


@dataclass(frozen=True)
class Row:
    id: str
    project: str
    text: str
    label: str
    item: str | None
    lang: str = ""
    note: str = ""

    @property
    def tags(self) -> tuple[str, ...]:
        m = _TAG.match(self.note or "")
        return tuple(t.strip() for t in m.group(1).split(",")) if m else ()

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Row:
        label = d.get("label")
        if label not in LABELS:
            raise ValueError(f"label must be one of {', '.join(LABELS)}, not {label!r}")
        for key in ("id", "project", "text"):
            if not isinstance(d.get(key), str) or not d[key]:
                raise ValueError(f"'{key}' must be a non-empty string")
        return cls(d["id"], d["project"], d["text"], label, d.get("item"), d.get("lang") or "", d.get("note") or "")


def macro_f1(pairs: list[tuple[str, str]]) -> float:
    if not pairs:
        return 0.0
    f1s = []
    for lab in LABELS:
        tp = sum(1 for g, p in pairs if g == lab and p == lab)
        fp = sum(1 for g, p in pairs if g != lab and p == lab)
        fn = sum(1 for g, p in pairs if g == lab and p != lab)
        if tp + fp + fn == 0:
            continue  # a class absent from both gold and predictions does not count
        f1s.append(2 * tp / (2 * tp + fp + fn))
    return sum(f1s) / len(f1s)


def recall(pairs: list[tuple[str, str]], label: str) -> float | None:
    """Share of the requests labelled `label` that got that verdict (None when there are none)."""
    got = [p for g, p in pairs if g == label]
    return round(sum(1 for p in got if p == label) / len(got), 4) if got else None


def _summary(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    n = len(pairs)
    risky = [p for g, p in pairs if g != VerdictKind.IN_SCOPE.value]
    return {
        "n": n,
        "accuracy": round(sum(1 for g, p in pairs if g == p) / n, 4) if n else 0.0,
        "macro_f1": round(macro_f1(pairs), 4),
        "leak": round(sum(1 for p in risky if p == VerdictKind.IN_SCOPE.value) / len(risky), 4) if risky else 0.0,
        "recall": {lab: recall(pairs, lab) for lab in LABELS},
    }


def evaluate(
    checker: ScopeChecker, scopes: Mapping[str, Scope], rows: Iterable[Row], *, worst: int = 10
) -> dict[str, Any]:
    """Run `checker` on every row whose project is in `scopes` and report the measures."""
    results = []
    skipped = []
    for row in rows:
        scope = scopes.get(row.project)
        if scope is None:
            skipped.append(row.id)
            continue
        v = checker.check(scope, row.text)
        results.append((row, v))
    return report_on(results, skipped=skipped, worst=worst)


def summary(results: Iterable[tuple[Row, Verdict]]) -> dict[str, Any]:
    """The headline measures (accuracy, macro-F1, leak, per-class recall) of verdicts given to rows."""
    return _summary([(r.label, v.verdict.value) for r, v in results])


def report_on(
    results: list[tuple[Row, Verdict]], *, skipped: list[str] | None = None, worst: int = 10
) -> dict[str, Any]:
    """The measures of verdicts already given to labelled rows (by any judge)."""
    skipped = skipped or []
    pairs = [(r.label, v.verdict.value) for r, v in results]
    report: dict[str, Any] = _summary(pairs)
    # When the verdict names an item or exclusion, how often it is the right one (a wrong clause in front
    # of a PM is worse than "unlisted"), and how often an unlisted verdict's candidates hold the right one.
    named = [(r, v) for r, v in results if v.item_id is not None and r.label == v.verdict.value]
    report["clause_right"] = round(sum(1 for r, v in named if r.item == v.item_id) / len(named), 4) if named else 0.0
    sent_back = [
        (r, v) for r, v in results if r.label != VerdictKind.UNLISTED.value and v.verdict is VerdictKind.UNLISTED
    ]
    report["candidates_hold_item"] = (
        round(sum(1 for r, v in sent_back if r.item in v.candidates) / len(sent_back), 4) if sent_back else 0.0
    )
    report["calibration"] = _calibration(results)
    right_label = [(r, v) for r, v in results if r.label == v.verdict.value and r.label != VerdictKind.UNLISTED.value]
    report["item_accuracy"] = (
        round(sum(1 for r, v in right_label if r.item == v.item_id) / len(right_label), 4) if right_label else 0.0
    )
    by: dict[str, dict[str, list[tuple[str, str]]]] = {
        "lang": defaultdict(list),
        "tag": defaultdict(list),
        "project": defaultdict(list),
    }
    for r, v in results:
        pair = (r.label, v.verdict.value)
        by["lang"][r.lang or "?"].append(pair)
        by["project"][r.project].append(pair)
        for t in r.tags:
            by["tag"][t].append(pair)
    report["per_language"] = {k: _summary(v) for k, v in sorted(by["lang"].items())}
    report["per_project"] = {k: _summary(v) for k, v in sorted(by["project"].items())}
    report["per_tag"] = {k: _summary(v) for k, v in sorted(by["tag"].items())}
    confusion: Counter[tuple[str, str]] = Counter(pairs)
    report["confusion"] = {g: {p: confusion[(g, p)] for p in LABELS} for g in LABELS}
    # Worst mistakes: leaks first, then confident errors.
    mistakes = [(r, v) for r, v in results if r.label != v.verdict.value]
    mistakes.sort(key=lambda rv: (-(rv[1].verdict is VerdictKind.IN_SCOPE), -rv[1].confidence, rv[0].id))
    report["worst"] = [
        {
            "id": r.id,
            "text": r.text,
            "label": r.label,
            "item": r.item,
            "predicted": v.verdict.value,
            "predicted_item": v.item_id,
            "score": round(v.score, 3),
            "confidence": round(v.confidence, 3),
            "candidates": list(v.candidates),
            "explanation": v.explanation,
        }
        for r, v in mistakes[:worst]
    ]
    report["skipped"] = skipped
    return report


def _calibration(results: list[tuple[Row, Verdict]], bins: int = 5) -> list[dict[str, Any]]:
    """Per confidence band: how many verdicts, and how many were right (kind, and item when one is named)."""
    out = []
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        band = [(r, v) for r, v in results if lo <= v.confidence < hi or (b == bins - 1 and v.confidence >= 1.0)]
        right = sum(
            1
            for r, v in band
            if r.label == v.verdict.value and (v.verdict is VerdictKind.UNLISTED or r.item == v.item_id)
        )
        out.append(
            {"band": f"{lo:.1f}-{hi:.1f}", "n": len(band), "right": round(right / len(band), 3) if band else None}
        )
    return out


def _rates(s: Mapping[str, Any]) -> str:
    rec = s.get("recall", {})

    def f(x: float | None) -> str:
        return "  -  " if x is None else f"{x:.3f}"

    return (
        f"macro-F1={s['macro_f1']:.3f}  leak={s['leak']:.1%}  in-scope recall={f(rec.get('in_scope'))}  "
        f"out-of-scope recall={f(rec.get('out_of_scope'))}  unlisted recall={f(rec.get('unlisted'))}"
    )


def format_report(report: Mapping[str, Any]) -> str:
    """The report as text for a terminal."""
    out = [
        f"requests: {report['n']}   accuracy: {report['accuracy']:.3f}   item accuracy: {report['item_accuracy']:.3f}",
        f"  {_rates(report)}",
        f"  named clause right: {report.get('clause_right', 0.0):.3f}   "
        f"unlisted with the right item among its candidates: {report.get('candidates_hold_item', 0.0):.3f}",
    ]
    for title, key in (("per language", "per_language"), ("per project", "per_project"), ("per hard tag", "per_tag")):
        if report.get(key):
            out.append(f"\n{title}:")
            for k, s in report[key].items():
                out.append(f"  {k:<20} n={s['n']:<4} acc={s['accuracy']:.3f}  {_rates(s)}")
    if report.get("calibration"):
        out.append("\nconfidence bands (share right):")
        out.append(
            "  "
            + "  ".join(
                f"{c['band']}: {c['n']}" + (f" ({c['right']:.2f})" if c["right"] is not None else "")
                for c in report["calibration"]
            )
        )
    out.append("\nconfusion (rows: label, columns: predicted):")
    out.append("  " + " " * 14 + "".join(f"{p:>14}" for p in LABELS))
    for g in LABELS:
        out.append(f"  {g:<14}" + "".join(f"{report['confusion'][g][p]:>14}" for p in LABELS))
    if report.get("worst"):
        out.append("\nworst mistakes:")
        for w in report["worst"]:
            out.append(
                f"  {w['id']}: {w['label']} ({w['item']}) -> {w['predicted']} ({w['predicted_item']}, "
                f"confidence {w['confidence']:.2f})"
            )
            out.append(f"      {w['text'][:140]}")
    if report.get("skipped"):
        out.append(f"\nskipped (no project file): {len(report['skipped'])}")
    return "\n".join(out)


# --- with a language model ------------------------------------------------------------------------


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def model_report(
    results: list[tuple[Row, ModelResult]], *, skipped: list[str] | None = None, worst: int = 10
) -> dict[str, Any]:
    """Measure the checker with a language model on labelled rows: the verdicts the cards would show (the
    guarded ones), plus how the model itself did (usable answers, failures by reason, agreement, latency,
    tokens, and its usable answers alone against the checker on the same rows)."""
    report = report_on([(r, m.verdict) for r, m in results], skipped=skipped, worst=worst)
    usable = [(r, m) for r, m in results if m.answer is not None]
    asked = [m for _, m in results if not m.cached]
    latencies = [m.latency for m in asked if m.latency is not None]
    failures = Counter(m.reason for _, m in results if m.reason)
    outcomes = Counter(m.outcome for _, m in results)
    report["model"] = {
        "questions": len(results),
        "asked": len(asked),
        "usable": len(usable),
        "failures": dict(sorted(failures.items())),
        "agreed": outcomes.get("agreed", 0),
        "disagreed": outcomes.get("disagreed", 0),
        "latency": {
            "median": round(_percentile(latencies, 0.5), 3),
            "p90": round(_percentile(latencies, 0.9), 3),
            "max": round(max(latencies), 3) if latencies else 0.0,
        },
        "tokens": {
            "prompt": sum(m.prompt_tokens for _, m in results),
            "completion": sum(m.completion_tokens for _, m in results),
        },
        "alone": summary([(r, m.answer.as_verdict()) for r, m in usable if m.answer is not None]),
        "checker_on_same": summary([(r, m.offline) for r, m in usable]),
    }
    return report


def format_model_report(report: Mapping[str, Any], model: str) -> str:
    m = report["model"]
    n = m["questions"] or 1
    failures = ", ".join(f"{k} {v}" for k, v in m["failures"].items()) or "none"
    lat = m["latency"]
    return "\n".join(
        [
            format_report(report),
            "",
            f"language model {model}: {m['questions']} questions, {m['usable']} usable answers ({m['usable'] / n:.1%}); "
            f"no usable answer: {failures}",
            f"  agreed with the checker {m['agreed']}, disagreed {m['disagreed']}; latency median {lat['median']:.2f} s, "
            f"p90 {lat['p90']:.2f} s, max {lat['max']:.2f} s; tokens {m['tokens']['prompt']:,} prompt, "
            f"{m['tokens']['completion']:,} completion",
            f"  its usable answers alone ({m['alone']['n']}): {_rates(m['alone'])}",
            f"  the checker on the same {m['checker_on_same']['n']}: {_rates(m['checker_on_same'])}",
        ]
    )


def format_comparison(offline: Mapping[str, Any], with_model: Mapping[str, Any]) -> str:
    """The offline checker, the checker with the model (what the cards show) and the model's usable
    answers alone, side by side."""
    alone = with_model["model"]["alone"]
    rows = [
        ("macro-F1", "macro_f1", "{:.3f}"),
        ("leak", "leak", "{:.1%}"),
        ("accuracy", "accuracy", "{:.3f}"),
    ]
    out = [f"{'':<22}{'offline':>12}{'with model':>12}{'model alone':>13}"]
    for title, key, fmt in rows:
        out.append(
            f"{title:<22}{fmt.format(offline[key]):>12}{fmt.format(with_model[key]):>12}{fmt.format(alone[key]):>13}"
        )
    for lab in LABELS:
        vals = [s["recall"].get(lab) for s in (offline, with_model, alone)]
        shown = ["-" if v is None else f"{v:.3f}" for v in vals]
        out.append(f"{lab + ' recall':<22}{shown[0]:>12}{shown[1]:>12}{shown[2]:>13}")
    out.append(
        f"{'named clause right':<22}{offline.get('clause_right', 0.0):>12.3f}{with_model.get('clause_right', 0.0):>12.3f}"
    )
    out.append(f"(model alone: its {alone['n']} usable answers of {with_model['model']['questions']})")
    return "\n".join(out)
