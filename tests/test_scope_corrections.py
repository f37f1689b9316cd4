"""The replay that measures what a PM's corrections give (`python -m bench.scope.corrections`)."""

from __future__ import annotations

from bench.scope import corrections
from bench.scope.learn import Models
from bot.domain import VerdictKind
from bot.scope import model
from bot.scope.evaluate import Row
from bot.scope.judge import ScopeJudge
from tests.test_scope_checker import GYM

ASK = "Members want to bring a friend to a class for free once a month."
AGAIN = "Could a member bring a friend to a class for free, once a month?"


def test_a_wrong_verdict_is_corrected_and_the_same_ask_again_takes_the_pms_verdict() -> None:
    judge = ScopeJudge()
    assert judge.check(GYM, ASK).verdict is not VerdictKind.IN_SCOPE  # what the PM corrects
    rows = [
        Row("gym-1", "gym-booking", ASK, "in_scope", "classes"),
        Row("gym-2", "gym-booking", "Nutrition plans with a diet tracker, please.", "out_of_scope", "nutrition"),
        Row("gym-1~again", "gym-booking", AGAIN, "in_scope", "classes"),
    ]
    pairs, n = corrections.stream(judge, GYM, rows)
    assert n == 1, "one wrong verdict, one correction"
    assert pairs[0][1] != "in_scope" and pairs[1] == ("out_of_scope", "out_of_scope")
    assert pairs[2] == ("in_scope", "in_scope"), "the restated ask takes the corrected verdict"


def test_a_verdict_naming_the_wrong_item_counts_as_wrong() -> None:
    row = Row("x", "p", "text", "in_scope", "classes")
    assert corrections.wrong(row, VerdictKind.IN_SCOPE, "members")
    assert not corrections.wrong(row, VerdictKind.IN_SCOPE, "classes")
    assert corrections.wrong(row, VerdictKind.UNLISTED, None)
    assert not corrections.wrong(Row("y", "p", "t", "unlisted", None), VerdictKind.UNLISTED, None)


def test_the_held_out_decision_is_used_inside_the_block_and_the_shipped_one_after() -> None:
    shipped = model.verdict_probabilities
    features = ["coverage"]
    always_out = Models(
        ([[0.0], [0.0], [0.0]], [0.0, 9.0, 0.0]), ([[0.0], [0.0]], [0.0, 0.0]), ([[0.0], [0.0]], [0.0, 9.0])
    )
    with corrections.decision(always_out, features):
        assert model.verdict_probabilities({"coverage": 1.0})[model.OUT] > 0.99
    assert model.verdict_probabilities is shipped
