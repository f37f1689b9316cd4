"""The learned scope decision: its cost-weighted choice, the clause it dares to name, the cues and character
n-grams it reads, the evidence it is given, and the trainer that fits it. Examples are written for these tests."""

from __future__ import annotations

import ast
import random
from pathlib import Path

import pytest

from bench.scope import learn
from bot.domain import Language, Scope, ScopeItem, VerdictKind
from bot.scope import model, weights
from bot.scope.cues import cues
from bot.scope.judge import ScopeJudge
from bot.scope.text import char_grams
from tests.test_scope_besides_switch import PARKING
from tests.test_scope_checker import GYM

IN, OUT, NEW = VerdictKind.IN_SCOPE, VerdictKind.OUT_OF_SCOPE, VerdictKind.UNLISTED

BAKERY = Scope(
    project="crumb-bakery",
    name="Crumb Bakery ordering site",
    language=Language.EN,
    goals=("Customers order cakes online for pick-up",),
    in_scope=(
        ScopeItem(
            "cakes",
            "Custom cake orders with pick-up date",
            "Customers choose size, flavour and a message on the cake; pick-up at the shop only.",
        ),
        ScopeItem("accounts", "Customer accounts with e-mail login", "Order history and saved addresses."),
        ScopeItem("kitchen", "Kitchen order list", "Bakers see tomorrow's orders, printable as PDF."),
    ),
    out_of_scope=(
        ScopeItem("delivery", "Home delivery by courier"),
        ScopeItem("wholesale", "Wholesale orders for cafés and restaurants"),
    ),
)


# --- the decision ----------------------------------------------------------------------------------


def test_a_leak_costs_more_than_sending_the_request_to_the_pm() -> None:
    # In scope is the likeliest kind, but not likely enough to be worth a leak at twice the cost.
    assert model.decide([0.5, 0.1, 0.4], leak_cost=2.0, clause_min=0.0) == model.UNLISTED
    # With equal costs the likeliest kind wins.
    assert model.decide([0.5, 0.1, 0.4], leak_cost=1.0, clause_min=0.0) == model.IN
    # Clear evidence is in scope whatever the cost.
    assert model.decide([0.85, 0.05, 0.1], leak_cost=2.0, clause_min=0.0) == model.IN


def test_a_clause_is_named_only_when_it_is_likely_to_be_the_right_one() -> None:
    p = [0.1, 0.7, 0.2]
    assert model.decide(p, exclusion=0.9, clause_min=0.35) == model.OUT
    # The request is probably excluded, but which exclusion is a guess: unlisted, with the candidates.
    assert model.decide(p, exclusion=0.3, clause_min=0.35) == model.UNLISTED
    assert model.confidences(p, 1.0, 0.3)[model.OUT] == pytest.approx(0.21)


def test_a_kind_with_nothing_to_name_is_never_chosen() -> None:
    assert model.decide([0.9, 0.05, 0.05], has_item=False, clause_min=0.0) != model.IN
    assert model.decide([0.05, 0.9, 0.05], has_exclusion=False, clause_min=0.0) != model.OUT


def test_probabilities_are_a_distribution_and_follow_the_weights() -> None:
    features = ("a", "b")
    coef = ((2.0, 0.0), (0.0, 2.0), (0.0, 0.0))
    p = model.probabilities({"a": 1.0}, coef, (0.0, 0.0, 0.0), features)
    assert sum(p) == pytest.approx(1.0)
    assert p[model.IN] > p[model.OUT] and p[model.IN] > p[model.UNLISTED]
    assert model.probabilities({"b": 1.0, "unknown": 5.0}, coef, (0.0, 0.0, 0.0), features)[model.OUT] > 0.6


def test_the_shipped_weights_are_complete() -> None:
    n = len(weights.FEATURES)
    assert n > 10 and len(set(weights.FEATURES)) == n
    assert len(weights.COEF) == 3 and all(len(row) == n for row in weights.COEF)
    for coef, bias in ((weights.ITEM_COEF, weights.ITEM_BIAS), (weights.EXCLUSION_COEF, weights.EXCLUSION_BIAS)):
        assert len(coef) == len(bias) == 2 and all(len(row) == n for row in coef)
    assert weights.LEAK_COST > 1.0 and 0.0 < weights.CLAUSE_MIN < 1.0


def test_every_feature_the_model_weighs_is_one_the_checker_computes() -> None:
    judge = ScopeJudge()
    seen: set[str] = set()
    examples = [
        (BAKERY, "The cake order page says the pick-up date is invalid for tomorrow"),
        (GYM, "Could members book classes from an Android app?"),  # a platform an exclusion names
        (PARKING, "月卡能不能让车主自己续费，不用跑物业？"),  # themselves what the item has staff do
    ]
    for text in (
        "Could you also deliver the cakes to our office by courier?",
        "1. the kitchen list prints blank 2. can cafés order 40 croissants a week?",
        "能不能给蛋糕加一个英文的祝福语？",
        "we'd like a loyalty card",
        "?",
    ):
        examples.append((BAKERY, text))
    for scope, text in examples:
        for part in judge.evidence(scope, text):
            seen |= set(part.x)
    rules = {f for f in weights.FEATURES if f.startswith(("rule_", "x_"))}
    assert set(weights.FEATURES) - rules <= seen


# --- what the checker does with it ---------------------------------------------------------------


def test_a_clear_report_on_an_item_is_in_scope_with_its_item() -> None:
    v = ScopeJudge().check(BAKERY, "The kitchen order list for tomorrow prints as an empty PDF.")
    assert (v.verdict, v.item_id) == (IN, "kitchen")
    assert v.confidence >= 0.5 and v.candidates == ()


def test_an_exclusion_asked_for_is_named() -> None:
    v = ScopeJudge().check(BAKERY, "Can we offer home delivery by courier for the bigger cakes?")
    assert (v.verdict, v.item_id) == (OUT, "delivery")


def test_an_unlisted_verdict_names_candidates_and_no_clause() -> None:
    v = ScopeJudge().check(BAKERY, "We want a loyalty card that gives every tenth cake free.")
    assert v.verdict is NEW and v.item_id is None
    assert v.candidates and len(v.candidates) <= 3
    assert 0.0 <= v.confidence <= 1.0


def test_the_evidence_marks_which_rule_would_have_decided_and_the_parts() -> None:
    judge = ScopeJudge()
    (one,) = judge.evidence(BAKERY, "Could you also deliver the cakes by courier?")
    assert sum(v for k, v in one.x.items() if k.startswith("rule_")) == 1.0
    assert one.exclusion == "delivery" and one.x["multi"] == 0.0
    parts = judge.evidence(BAKERY, "1. the kitchen list prints blank 2. can we add a loyalty card?")
    assert len(parts) == 2 and all(p.x["multi"] == 1.0 for p in parts)
    assert parts[0].item == "kitchen"


# --- cues and character n-grams ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "on", "off"),
    [
        ("Could you add a Spanish version of the menu?", {"cue_ask", "cue_new", "cue_qmark"}, {"cue_report"}),
        ("The total still shows last week's price.", {"cue_report"}, {"cue_ask", "cue_qmark"}),
        ("Where do I find the invoices?", {"cue_how", "cue_qmark"}, {"cue_new"}),
        ("能不能新增一个按门店统计的报表？", {"cue_ask", "cue_new", "cue_qmark"}, set()),
        ("订单提交以后一直显示失败", {"cue_report"}, {"cue_ask", "cue_new"}),
        ("在哪里可以看到上个月的发票？", {"cue_how", "cue_qmark"}, set()),
    ],
)
def test_cues_say_how_a_request_is_put(text: str, on: set[str], off: set[str]) -> None:
    c = cues(text)
    assert {k for k, v in c.items() if v} >= on
    assert not {k for k, v in c.items() if v} & off


def test_character_grams_join_typos_and_chinese_words_split_differently() -> None:
    typo, right = char_grams("descripions"), char_grams("descriptions")
    assert len(set(typo) & set(right)) >= len(right) // 2
    assert "房" in char_grams("15 间房") and "房" in char_grams("房间分配")
    assert char_grams("the and of") == {}  # stop words carry nothing


# --- the trainer ---------------------------------------------------------------------------------


def _toy(n: int, seed: int) -> list[learn.Sample]:
    rnd = random.Random(seed)
    out: list[learn.Sample] = []
    for _ in range(n):
        y = rnd.randrange(3)
        a = rnd.random() + (1.5 if y == 0 else 0.0)
        b = rnd.random() + (1.5 if y == 1 else 0.0)
        out.append(([(0, a), (1, b)], y, 1.0))
    return out


def test_the_trainer_learns_a_separable_problem() -> None:
    coef, bias = learn.unpack(learn.fit(_toy(150, 1), 2), 2, 3)
    right = 0
    test = _toy(60, 2)
    for xs, y, _w in test:
        p = model.probabilities(dict((("a", "b")[j], v) for j, v in xs), coef, bias, ("a", "b"))
        right += max(range(3), key=lambda k: p[k]) == y
    assert right >= 0.9 * len(test)


def test_written_weights_are_python_the_model_can_read(tmp_path: Path) -> None:
    features = ["a", "b"]
    m = learn.Models(
        ([[1.0, -1.0], [0.5, 0.0], [0.0, 0.25]], [0.1, 0.2, 0.3]),
        ([[0.0, 0.0], [1.0, 2.0]], [0.0, -1.0]),
        ([[0.0, 0.0], [0.5, 0.5]], [0.0, 0.0]),
    )
    path = tmp_path / "weights.py"
    learn.write_weights(features, m, 10, path)
    ns: dict[str, object] = {}
    exec(compile(ast.parse(path.read_text()), str(path), "exec"), ns)
    assert ns["FEATURES"] == ("a", "b")
    assert ns["COEF"] == ((1.0, -1.0), (0.5, 0.0), (0.0, 0.25)) and ns["BIAS"] == (0.1, 0.2, 0.3)
    assert ns["ITEM_COEF"] == ((0.0, 0.0), (1.0, 2.0)) and ns["EXCLUSION_BIAS"] == (0.0, 0.0)
    assert ns["LEAK_COST"] == learn.LEAK_COST and ns["CLAUSE_MIN"] == learn.CLAUSE_MIN


def test_held_out_measures_count_leaks_and_recall() -> None:
    s = learn.summary([("in_scope", "in_scope"), ("unlisted", "in_scope"), ("out_of_scope", "out_of_scope")])
    assert s["leak"] == 0.5 and s["in_recall"] == 1.0 and s["out_recall"] == 1.0 and s["unlisted_recall"] == 0.0
