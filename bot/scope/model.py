"""The learned decision: from the checker's evidence about one part of a request, how likely each verdict is.

A multinomial logistic regression over general features of the evidence (how much of the request the
closest item explains and how far ahead of the next, what only an exclusion explains, the signs that a
request goes beyond its item, how the request is said, which hand-written rule would have decided…), never
over the words of a project. It is trained across every labelled project by `python -m bench.scope.learn`,
which also measures it one project held out at a time; the weights are in `weights.py`, written by that
command.

The verdict is the one with the lowest expected cost, where calling new or excluded work "in scope" (a leak)
costs `LEAK_COST` times as much as the other mistakes: a PM who sees "unlisted" looks, a PM who sees
"in scope" does not. A second and a third small model say how likely the closest item (or the exclusion found)
is the right one, given that the request is in scope (or excluded); an item or exclusion is named only when
the verdict and the clause together are at least `CLAUSE_MIN` likely; below that the verdict is "unlisted"
with the closest candidates (a wrong clause in front of a PM is worse than none).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from . import semantic, weights

CLASSES = ("in_scope", "out_of_scope", "unlisted")
IN, OUT, UNLISTED = 0, 1, 2
LEAK_COST = weights.LEAK_COST
CLAUSE_MIN = weights.CLAUSE_MIN


def vector(x: Mapping[str, float], features: Sequence[str] = weights.FEATURES) -> list[float]:
    return [float(x.get(f, 0.0)) for f in features]


def probabilities(
    x: Mapping[str, float],
    coef: Sequence[Sequence[float]] = weights.COEF,
    bias: Sequence[float] = weights.BIAS,
    features: Sequence[str] = weights.FEATURES,
) -> list[float]:
    """P(in scope), P(out of scope), P(unlisted) for one part's evidence (with `ITEM_COEF`/`ITEM_BIAS`:
    P(the closest item is the wrong one), P(it is the right one); the same for exclusions)."""
    v = vector(x, features)
    z = [b + sum(w * xi for w, xi in zip(ws, v, strict=True) if xi) for ws, b in zip(coef, bias, strict=True)]
    m = max(z)
    e = [math.exp(zk - m) for zk in z]
    s = sum(e)
    return [ek / s for ek in e]


def verdict_probabilities(x: Mapping[str, float]) -> list[float]:
    """P(in scope), P(out of scope), P(unlisted): with the weights learned for the request's embedding when the
    evidence has one (`bot.scope.semantic`), else with the words-and-rules weights."""
    if semantic_in(x) and weights.SEMANTIC_COEF:
        return probabilities(x, weights.SEMANTIC_COEF, weights.SEMANTIC_BIAS, weights.SEMANTIC_FEATURES)
    return probabilities(x)


def semantic_in(x: Mapping[str, float]) -> bool:
    """Whether the evidence has the request's embedding."""
    return f"{semantic.PREFIX}0" in x


def item_right(x: Mapping[str, float]) -> float:
    """How likely the closest item is the one a request in scope is about."""
    return probabilities(x, weights.ITEM_COEF, weights.ITEM_BIAS)[1]


def exclusion_right(x: Mapping[str, float]) -> float:
    """How likely the exclusion found is the one an out-of-scope request hits."""
    return probabilities(x, weights.EXCLUSION_COEF, weights.EXCLUSION_BIAS)[1]


def confidences(p: Sequence[float], item: float = 1.0, exclusion: float = 1.0) -> list[float]:
    """How likely each verdict is right, the item or exclusion it names included."""
    return [p[IN] * item, p[OUT] * exclusion, p[UNLISTED]]


def decide(
    p: Sequence[float],
    *,
    has_item: bool = True,
    has_exclusion: bool = True,
    item: float = 1.0,
    exclusion: float = 1.0,
    leak_cost: float = LEAK_COST,
    clause_min: float = CLAUSE_MIN,
) -> int:
    """The verdict with the lowest expected cost (a leak costs `leak_cost`, any other mistake 1). "In scope"
    needs an item to name and "out of scope" an exclusion, and either is named only when it and its clause
    are at least `clause_min` likely (`item`, `exclusion`: how likely the clause is right); on a tie,
    "unlisted"."""
    cost = [
        leak_cost * (p[OUT] + p[UNLISTED]) if has_item else math.inf,
        (p[IN] + p[UNLISTED]) if has_exclusion else math.inf,
        p[IN] + p[OUT],
    ]
    k = min(range(3), key=lambda k: (cost[k], -k))
    return UNLISTED if k != UNLISTED and confidences(p, item, exclusion)[k] < clause_min else k
