"""Train the scope checker's learned decision, and measure it one project held out at a time.

    python -m bench.scope.learn            # leave-one-project-out numbers per set and language
    python -m bench.scope.learn --write    # ...then train on every project and write bot/scope/weights.py
                                           # (and, with the [semantic] extra, bot/scope/neighbours.npz)
    python -m bench.scope.learn --write-semantic --no-lopo
                                           # retrain only the verdict with the request's embedding, and
                                           # its neighbours; the words-and-rules rows stay as they are
    python -m bench.scope.learn --json     # the numbers as JSON

The checker computes its evidence about each part of a request (`ScopeJudge.evidence`): general numbers
such as how much of the request the closest item explains, what only an exclusion explains, the signs that
a request goes beyond its item, how it is said, and which hand-written rule would have decided. A
multinomial logistic regression learns from every labelled project here, and from the shared development
set when it is beside the repository, how that evidence relates to the labels: never a project's words.

Leave one project out: for each of the ~48 projects, the model is trained on all the others and judges the
held-out one, so the numbers are those of a project the decision has never seen (the evidence itself, the
checker's vocabulary and rules, was written over the years while reading some of these sets, so the older
sets still overstate; `blind4-tune2` is the least looked-at). "rules" is the verdict the hand-written rules
give on their own, for comparison.

Pure Python (no numpy): L-BFGS on the L2-regularised, class-weighted log loss. Out-of-scope and unlisted
requests weigh `RISKY_WEIGHT` in training, and the decision (`bot.scope.model.decide`) makes a leak cost
`LEAK_COST` times the other mistakes.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.cli.scope import load_rows, load_scopes
from bot.scope import model, semantic, weights
from bot.scope.evaluate import macro_f1
from bot.scope.judge import PartEvidence, ScopeJudge

from .__main__ import DEV, SETS

ROOT = Path(__file__).resolve().parents[2]
WEIGHTS = ROOT / "bot" / "scope" / "weights.py"
L2 = 1.0  # strength of the L2 penalty on the weights (not on the biases)
RISKY_WEIGHT = 1.3  # training weight of an out-of-scope or unlisted request, against 1 for in scope
LEAK_COST = 2.0  # in the decision: calling risky work "in scope" costs twice any other mistake
CLAUSE_MIN = 0.5  # ...and an item or exclusion is named only when it is more likely right than wrong
RISK = {"in_scope": 0, "unlisted": 1, "out_of_scope": 2}


@dataclass
class Case:
    set: str
    id: str
    project: str
    lang: str
    label: str
    item: str | None  # the labelled item or exclusion
    parts: list[PartEvidence]


def load_cases() -> list[Case]:
    """Every labelled request of every set (and of the shared dev set, read in place when it is there), with
    the votes of each part's nearest labelled requests of other projects (`with_votes`) when the request's
    embedding is in use."""
    cases = _load_cases()
    mem = memory_of(cases)
    return with_votes(cases, mem) if mem is not None else cases


def _load_cases() -> list[Case]:
    folders = [(folder.name, folder) for _key, folder, _title in SETS]
    if DEV.is_dir():
        folders.append(("dev", DEV))
    judge = ScopeJudge()
    cases = []
    for name, folder in folders:
        scopes = load_scopes(str(folder))
        for r in load_rows(str(folder / "requests.jsonl")):
            if r.project not in scopes:
                continue
            parts = judge.evidence(scopes[r.project], r.text)
            cases.append(Case(name, r.id, f"{name}/{r.project}", r.lang or "?", r.label, r.item, parts))
    return cases


def feature_names(cases: list[Case]) -> list[str]:
    """The words-and-rules evidence (the request's embedding, when there is one, comes after it)."""
    return sorted(
        {
            k
            for c in cases
            for p in c.parts
            for k in p.x
            if not k.startswith(semantic.PREFIX) and k not in semantic.VOTES
        }
    )


def semantic_names(cases: list[Case], features: list[str]) -> list[str]:
    """The evidence with the request's embedding and its neighbours' votes, or [] when the cases were judged
    without it."""
    if not any(model.semantic_in(p.x) for c in cases for p in c.parts):
        return []
    return [*features, *(f"{semantic.PREFIX}{i}" for i in range(semantic.DIMS)), *semantic.VOTES]


def _slug(c: Case) -> str:
    return c.project.split("/", 1)[1]


def _unit(p: PartEvidence) -> list[float]:
    return [p.x[f"{semantic.PREFIX}{i}"] / semantic.SCALE for i in range(semantic.DIMS)]


def memory_of(cases: list[Case]) -> semantic.Memory | None:
    """The labelled requests the votes are taken from: every one-part request of the sets in bench/scope
    (not the shared dev set, which stays beside the repository), or None without the embedding."""
    rows = [
        (_unit(c.parts[0]), model.CLASSES.index(c.label), _slug(c))
        for c in cases
        if c.set != "dev" and len(c.parts) == 1 and model.semantic_in(c.parts[0].x)
    ]
    return semantic.Memory.build(rows) if rows else None


Sims = dict[tuple[str, str, int], Any]  # (set, id, part) -> the part's similarities to the memory


def similarities(cases: list[Case], mem: semantic.Memory) -> Sims:
    return {
        (c.set, c.id, n): mem.similarities(_unit(p))
        for c in cases
        for n, p in enumerate(c.parts)
        if model.semantic_in(p.x)
    }


def with_votes(
    cases: list[Case], mem: semantic.Memory, leave_out: str | None = None, sims: Sims | None = None
) -> list[Case]:
    """The cases with each part's neighbours' votes as the checker computes them: from the requests of other
    projects than its own, and than `leave_out` (the project held out, whose labels the training must not
    see)."""
    sims = sims if sims is not None else similarities(cases, mem)
    out = []
    for c in cases:
        parts = []
        for n, p in enumerate(c.parts):
            if (c.set, c.id, n) in sims:
                votes = mem.votes(sims[(c.set, c.id, n)], (_slug(c), leave_out) if leave_out else (_slug(c),))
                p = p._replace(x={**p.x, **dict(zip(semantic.VOTES, (semantic.SCALE * v for v in votes), strict=True))})
            parts.append(p)
        out.append(Case(c.set, c.id, c.project, c.lang, c.label, c.item, parts))
    return out


# --- training ------------------------------------------------------------------------------------

Sample = tuple[list[tuple[int, float]], int, float]  # sparse features, class, weight


def _sparse(x: dict[str, float], pos: dict[str, int]) -> list[tuple[int, float]]:
    return [(pos[k], v) for k, v in x.items() if v and k in pos]


def samples(cases: list[Case], features: list[str]) -> list[Sample]:
    """Training samples of the verdict, one per part. Every part of an in-scope request is in scope; which
    part of a multi-part out-of-scope or unlisted request is the risky one is not labelled, so those are
    left out."""
    pos = {f: i for i, f in enumerate(features)}
    out: list[Sample] = []
    for c in cases:
        if len(c.parts) > 1 and c.label != "in_scope":
            continue
        y = model.CLASSES.index(c.label)
        w = 1.0 if c.label == "in_scope" else RISKY_WEIGHT
        out.extend((_sparse(p.x, pos), y, w) for p in c.parts)
    return out


def clause_samples(cases: list[Case], features: list[str], label: str) -> list[Sample]:
    """Samples of "the closest item is the labelled one" (label in_scope) or "the exclusion found is the
    labelled one" (out_of_scope), from the one-part requests with that label."""
    pos = {f: i for i, f in enumerate(features)}
    out: list[Sample] = []
    for c in cases:
        if c.label != label or len(c.parts) != 1:
            continue
        p = c.parts[0]
        found = p.item if label == "in_scope" else p.exclusion
        if found is not None:
            out.append((_sparse(p.x, pos), int(found == c.item), 1.0))
    return out


def _loss_grad(theta: list[float], data: list[Sample], n_feat: int, k_n: int) -> tuple[float, list[float]]:
    stride = n_feat + 1
    grad = [0.0] * len(theta)
    loss = 0.0
    for xs, y, sw in data:
        z = []
        for k in range(k_n):
            base = k * stride
            z.append(theta[base + n_feat] + sum(theta[base + j] * v for j, v in xs))
        m = max(z)
        e = [math.exp(zk - m) for zk in z]
        s = sum(e)
        loss += sw * (math.log(s) + m - z[y])
        for k in range(k_n):
            g = sw * (e[k] / s - (1.0 if k == y else 0.0))
            base = k * stride
            grad[base + n_feat] += g
            for j, v in xs:
                grad[base + j] += g * v
    for k in range(k_n):
        base = k * stride
        for j in range(n_feat):
            w = theta[base + j]
            loss += 0.5 * L2 * w * w
            grad[base + j] += L2 * w
    return loss, grad


def fit(data: list[Sample], n_feat: int, k_n: int = 3, max_iter: int = 400, memory: int = 10) -> list[float]:
    """Multinomial logistic regression with `k_n` classes by L-BFGS with a backtracking line search; the
    problem is convex, so the start does not matter."""
    return _lbfgs(lambda theta: _loss_grad(theta, data, n_feat, k_n), k_n * (n_feat + 1), max_iter, memory)


def fit_dense(data: list[Sample], n_feat: int, k_n: int = 3, max_iter: int = 400, memory: int = 10) -> list[float]:
    """The same model as `fit`, its loss and gradient computed with numpy (which the `semantic` extra brings):
    the ~440 dense features of the evidence with the request's embedding are too many for pure Python."""
    import numpy as np

    x = np.zeros((len(data), n_feat))
    for r, (xs, _y, _w) in enumerate(data):
        for j, v in xs:
            x[r, j] = v
    y = np.array([d[1] for d in data])
    sw = np.array([d[2] for d in data])
    onehot = np.eye(k_n)[y]

    def loss_grad(theta: list[float]) -> tuple[float, list[float]]:
        w = np.array(theta).reshape(k_n, n_feat + 1)
        z = x @ w[:, :n_feat].T + w[:, n_feat]
        m = z.max(axis=1, keepdims=True)
        e = np.exp(z - m)
        s = e.sum(axis=1, keepdims=True)
        loss = float((sw * (np.log(s[:, 0]) + m[:, 0] - z[np.arange(len(y)), y])).sum())
        g = sw[:, None] * (e / s - onehot)
        grad = np.zeros_like(w)
        grad[:, :n_feat] = g.T @ x + L2 * w[:, :n_feat]
        grad[:, n_feat] = g.sum(axis=0)
        loss += 0.5 * L2 * float((w[:, :n_feat] ** 2).sum())
        return loss, grad.ravel().tolist()

    return _lbfgs(loss_grad, k_n * (n_feat + 1), max_iter, memory)


def _lbfgs(
    loss_grad: Callable[[list[float]], tuple[float, list[float]]], size: int, max_iter: int, memory: int
) -> list[float]:
    """Minimise a convex loss from zero by L-BFGS with a backtracking line search."""
    theta = [0.0] * size
    f, g = loss_grad(theta)
    hist: list[tuple[list[float], list[float], float]] = []
    for _ in range(max_iter):
        q = list(g)
        alphas = []
        for s, yv, rho in reversed(hist):
            a = rho * sum(si * qi for si, qi in zip(s, q, strict=True))
            alphas.append(a)
            q = [qi - a * yi for qi, yi in zip(q, yv, strict=True)]
        if hist:
            s, yv, _ = hist[-1]
            gamma = sum(si * yi for si, yi in zip(s, yv, strict=True)) / sum(yi * yi for yi in yv)
            q = [gamma * qi for qi in q]
        for (s, yv, rho), a in zip(hist, reversed(alphas), strict=True):
            b = rho * sum(yi * qi for yi, qi in zip(yv, q, strict=True))
            q = [qi + (a - b) * si for qi, si in zip(q, s, strict=True)]
        d = [-qi for qi in q]
        slope = sum(di * gi for di, gi in zip(d, g, strict=True))
        if slope >= 0:  # not a descent direction: start again from the gradient
            hist.clear()
            d = [-gi for gi in g]
            slope = -sum(gi * gi for gi in g)
        step = 1.0 if hist else 1.0 / max(1.0, math.sqrt(-slope))
        while True:
            new = [t + step * di for t, di in zip(theta, d, strict=True)]
            f_new, g_new = loss_grad(new)
            if f_new <= f + 1e-4 * step * slope or step < 1e-10:
                break
            step *= 0.5
        s = [a - b for a, b in zip(new, theta, strict=True)]
        yv = [a - b for a, b in zip(g_new, g, strict=True)]
        sy = sum(si * yi for si, yi in zip(s, yv, strict=True))
        if sy > 1e-10:
            hist.append((s, yv, 1.0 / sy))
            if len(hist) > memory:
                hist.pop(0)
        done = abs(f - f_new) <= 1e-7 * max(1.0, abs(f))
        theta, f, g = new, f_new, g_new
        if done:
            break
    return theta


Weights = tuple[list[list[float]], list[float]]


def unpack(theta: list[float], n_feat: int, k_n: int) -> Weights:
    stride = n_feat + 1
    coef = [theta[k * stride : k * stride + n_feat] for k in range(k_n)]
    bias = [theta[k * stride + n_feat] for k in range(k_n)]
    return coef, bias


@dataclass
class Models:
    verdict: Weights
    item: Weights
    exclusion: Weights
    semantic: Weights | None = None  # the verdict with the request's embedding (over `semantic_names`)
    semantic_features: tuple[str, ...] = ()


def _fitter() -> Any:
    """numpy's fit when numpy is there (the dev install has it), else the pure-Python one: the same model."""
    try:
        import numpy  # noqa: F401
    except ImportError:
        return fit
    return fit_dense


def train(cases: list[Case], features: list[str], sem_features: list[str] | None = None) -> Models:
    n = len(features)
    fit_ = _fitter()
    m = Models(
        unpack(fit_(samples(cases, features), n), n, 3),
        unpack(fit_(clause_samples(cases, features, "in_scope"), n, 2), n, 2),
        unpack(fit_(clause_samples(cases, features, "out_of_scope"), n, 2), n, 2),
    )
    if sem_features:
        k = len(sem_features)
        m.semantic = unpack(fit_dense(samples(cases, sem_features), k), k, 3)
        m.semantic_features = tuple(sem_features)
    return m


# --- judging with a model -------------------------------------------------------------------------


def verdict_probabilities(
    x: dict[str, float], m: Models, features: Sequence[str], use_semantic: bool = True
) -> list[float]:
    """As `bot.scope.model.verdict_probabilities`, with the weights `m`."""
    if use_semantic and m.semantic is not None and model.semantic_in(x):
        return model.probabilities(x, *m.semantic, m.semantic_features)
    return model.probabilities(x, *m.verdict, features)


def judge_part(p: PartEvidence, m: Models, features: list[str], use_semantic: bool = False) -> tuple[str, str | None]:
    """The verdict of one part and the item or exclusion it names, as `ScopeJudge._decide` gives them."""
    probs = verdict_probabilities(p.x, m, features, use_semantic)
    item = model.probabilities(p.x, *m.item, features)[1]
    exclusion = model.probabilities(p.x, *m.exclusion, features)[1]
    if p.x.get("rule_excluded_named"):
        k = model.OUT
    else:
        k = model.decide(
            probs,
            has_item=p.item is not None and not p.x.get("limit"),
            has_exclusion=p.exclusion is not None,
            item=item,
            exclusion=exclusion,
            leak_cost=LEAK_COST,
            clause_min=CLAUSE_MIN,
        )
    return model.CLASSES[k], (p.item, p.exclusion, None)[k]


def judge_case(c: Case, m: Models, features: list[str], use_semantic: bool = False) -> tuple[str, str | None]:
    """The verdict of a whole request: each part decided on its own, the riskiest part decides."""
    kinds = [judge_part(p, m, features, use_semantic) for p in c.parts]
    return max(kinds, key=lambda v: RISK[v[0]]) if kinds else ("unlisted", None)


def rules_case(c: Case) -> str:
    """What the hand-written rules alone say (the riskiest part decides)."""
    kinds = []
    for p in c.parts:
        path = next((k[5:] for k in p.x if k.startswith("rule_")), "no_words")
        kinds.append(
            "out_of_scope" if path in ("excluded", "excluded_named") else "in_scope" if path == "in" else "unlisted"
        )
    return max(kinds, key=lambda v: RISK[v]) if kinds else "unlisted"


def leave_one_project_out(
    cases: list[Case], features: list[str], log: Any = None, sem_features: list[str] | None = None
) -> tuple[dict[str, tuple[str, str | None]], dict[str, tuple[str, str | None]]]:
    """Each project judged by the decision trained on all the others: without and (when the cases have it)
    with the request's embedding."""
    predicted: dict[str, tuple[str, str | None]] = {}
    predicted_sem: dict[str, tuple[str, str | None]] = {}
    projects = sorted({c.project for c in cases})
    mem = memory_of(cases) if sem_features else None
    sims = similarities(cases, mem) if mem is not None else None
    for n, project in enumerate(projects, 1):
        fold = with_votes(cases, mem, project.split("/", 1)[1], sims) if mem is not None else cases
        m = train([c for c in fold if c.project != project], features, sem_features)
        for c in fold:
            if c.project == project:
                predicted[c.set + "/" + c.id] = judge_case(c, m, features)
                if m.semantic is not None:
                    predicted_sem[c.set + "/" + c.id] = judge_case(c, m, features, use_semantic=True)
        if log:
            print(f"  fold {n}/{len(projects)} {project}", file=log, flush=True)
    return predicted, predicted_sem


# --- measures -------------------------------------------------------------------------------------


def summary(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    risky = [p for g, p in pairs if g != "in_scope"]

    def rec(label: str) -> float | None:
        got = [p for g, p in pairs if g == label]
        return round(sum(p == label for p in got) / len(got), 3) if got else None

    return {
        "n": len(pairs),
        "macro_f1": round(macro_f1(pairs), 3),
        "leak": round(sum(p == "in_scope" for p in risky) / len(risky), 3) if risky else 0.0,
        "in_recall": rec("in_scope"),
        "out_recall": rec("out_of_scope"),
        "unlisted_recall": rec("unlisted"),
    }


def clause_right(cases: list[Case], predicted: dict[str, tuple[str, str | None]]) -> float:
    """Of the right verdicts that name an item or exclusion, the share that name the right one."""
    named = [(c, predicted[c.set + "/" + c.id]) for c in cases]
    named = [(c, v) for c, v in named if v[0] == c.label and v[1] is not None]
    return round(sum(v[1] == c.item for c, v in named) / len(named), 3) if named else 0.0


def measure(
    cases: list[Case],
    predicted: dict[str, tuple[str, str | None]],
    predicted_sem: dict[str, tuple[str, str | None]] | None = None,
) -> dict[str, Any]:
    groups: dict[str, list[Case]] = defaultdict(list)
    for c in cases:
        for key in ("all", c.set, f"all/{c.lang}", f"{c.set}/{c.lang}"):
            groups[key].append(c)
    out = {}
    for key in sorted(groups, key=lambda k: (k.split("/")[0] != "all", k)):
        cs = groups[key]
        out[key] = {
            "rules": summary([(c.label, rules_case(c)) for c in cs]),
            "learned_held_out": {
                **summary([(c.label, predicted[c.set + "/" + c.id][0]) for c in cs]),
                "clause_right": clause_right(cs, predicted),
            },
        }
        if predicted_sem:
            out[key]["semantic_held_out"] = {
                **summary([(c.label, predicted_sem[c.set + "/" + c.id][0]) for c in cs]),
                "clause_right": clause_right(cs, predicted_sem),
            }
    return out


def _fmt(s: dict[str, Any]) -> str:
    def f(x: float | None) -> str:
        return " -  " if x is None else f"{x:.2f}"

    return (
        f"F1 {s['macro_f1']:.3f} leak {s['leak']:5.1%} in {f(s['in_recall'])} out {f(s['out_recall'])} "
        f"unl {f(s['unlisted_recall'])}"
    )


def _rows(name: str, w: Weights, features: list[str], doc: str) -> list[str]:
    coef, bias = w
    lines = [f"# {doc}", f"{name}_COEF = ("]
    for row in coef:
        lines.append("    (")
        lines.extend(f"        {round(x, 4)!r},  # {f}" for f, x in zip(features, row, strict=True))
        lines.append("    ),")
    prefix = name + "_" if name else ""
    lines[1] = f"{prefix}COEF = ("
    return [*lines, ")", f"{prefix}BIAS = ({', '.join(repr(round(b, 4)) for b in bias)})", ""]


def write_weights(
    features: list[str], m: Models, n_cases: int, path: Path = WEIGHTS, n_words: int | None = None
) -> None:
    """Write the weights module. `n_words`: how many requests the words-and-rules rows were trained on, when
    they were kept from an earlier training (`--write-semantic`); else `n_cases`, like the rest."""
    n_words = n_cases if n_words is None else n_words
    lines = [
        '"""Weights of the learned scope decision (`bot.scope.model`). Written by `python -m bench.scope.learn',
        "--write` (or `--write-semantic`, which retrains only the verdict with the request's embedding) from the",
        "labelled requests over every project in bench/scope and the shared dev set; do not edit by hand: retrain.",
        '"""',
        "",
        f"LEAK_COST = {LEAK_COST!r}",
        f"CLAUSE_MIN = {CLAUSE_MIN!r}",
        f"WORDS_REQUESTS = {n_words}  # the labelled requests the words-and-rules rows were trained on",
        f"SEMANTIC_REQUESTS = {n_cases if m.semantic else 0}  # ...and the verdict with the request's embedding",
        "",
        "FEATURES = (",
        *(f"    {json.dumps(f)}," for f in features),
        ")",
        "",
        "",
        *_rows(
            "", m.verdict, features, "One row per verdict (in scope, out of scope, unlisted), one weight per feature."
        ),
        *_rows(
            "ITEM", m.item, features, "Whether the closest item is the right one (no, yes), for a request in scope."
        ),
        *_rows(
            "EXCLUSION", m.exclusion, features, "Whether the exclusion found is the right one (no, yes), when excluded."
        ),
        "# The verdict when the request's embedding is part of the evidence (`bot.scope.semantic`): the features",
        "# above, then the embedding's components and the votes of its nearest labelled requests.",
        f'SEMANTIC_FEATURES = FEATURES + tuple(f"sem{{i}}" for i in range({semantic.DIMS if m.semantic else 0}))'
        + (" + (" + ", ".join(json.dumps(v) for v in semantic.VOTES) + ")" if m.semantic else ""),
        *(
            _rows("SEMANTIC", m.semantic, list(m.semantic_features), "One row per verdict, one weight per feature.")
            if m.semantic is not None
            else ["SEMANTIC_COEF: tuple[tuple[float, ...], ...] = ()", "SEMANTIC_BIAS: tuple[float, ...] = ()", ""]
        ),
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


def write_semantic(cases: list[Case], features: list[str], sem_features: list[str]) -> None:
    """Retrain the verdict with the request's embedding on every project, and keep the words-and-rules rows
    (the decision without the extra, and which item or exclusion is the right one) as they are."""
    if not sem_features:
        raise SystemExit("--write-semantic needs the request's embedding: install the [semantic] extra")
    if tuple(features) != weights.FEATURES:
        raise SystemExit("the evidence has changed since the words-and-rules rows were trained: use --write")
    k = len(sem_features)
    kept = Models(
        ([list(r) for r in weights.COEF], list(weights.BIAS)),
        ([list(r) for r in weights.ITEM_COEF], list(weights.ITEM_BIAS)),
        ([list(r) for r in weights.EXCLUSION_COEF], list(weights.EXCLUSION_BIAS)),
        unpack(fit_dense(samples(cases, sem_features), k), k, 3),
        tuple(sem_features),
    )
    write_weights(features, kept, len(cases), n_words=weights.WORDS_REQUESTS)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.scope.learn")
    ap.add_argument("--write", action="store_true", help="train on every project and write bot/scope/weights.py")
    ap.add_argument(
        "--write-semantic",
        action="store_true",
        help="retrain only the verdict with the request's embedding, and its neighbours (the words-and-rules rows stay)",
    )
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--no-lopo", action="store_true", help="skip the leave-one-project-out measure")
    args = ap.parse_args(argv)
    start = time.perf_counter()
    cases = load_cases()
    features = feature_names(cases)
    sem_features = semantic_names(cases, features)
    if not sem_features:
        print(
            "(the request's embedding is not in use: install the [semantic] extra, and leave INTAKE_SCOPE_SEMANTIC"
            " unset, to learn and measure it too)",
            file=sys.stderr,
        )
    result: dict[str, Any] = {"requests": len(cases), "projects": len({c.project for c in cases})}
    if not args.no_lopo:
        predicted, predicted_sem = leave_one_project_out(cases, features, log=sys.stderr, sem_features=sem_features)
        result["sets"] = measure(cases, predicted, predicted_sem)
    if args.write or args.write_semantic:
        if args.write:
            write_weights(features, train(cases, features, sem_features), len(cases))
        else:
            write_semantic(cases, features, sem_features)
        result["written"] = str(WEIGHTS.relative_to(ROOT))
        mem = memory_of(cases) if sem_features else None
        if mem is not None:
            mem.save()
            result["written"] += f" and {semantic.MEMORY.relative_to(ROOT)} ({len(mem.labels)} requests)"
    result["seconds"] = round(time.perf_counter() - start, 1)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{result['requests']} requests over {result['projects']} projects")
    if "sets" in result:
        print("leave one project out (learned decision trained on the other projects) against the rules alone:")
        for key, s in result["sets"].items():
            print(f"  {key:<18} n={s['rules']['n']:<5} rules: {_fmt(s['rules'])}")
            held = s["learned_held_out"]
            print(f"  {'':<18} {'':<7} held out: {_fmt(held)} clause right {held['clause_right']:.2f}")
            if "semantic_held_out" in s:
                sem = s["semantic_held_out"]
                print(f"  {'':<18} {'':<7} semantic: {_fmt(sem)} clause right {sem['clause_right']:.2f}")
    if "written" in result:
        print(f"wrote {result['written']}")
    print(f"({result['seconds']} s)")


if __name__ == "__main__":
    main(sys.argv[1:])
