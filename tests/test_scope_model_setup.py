"""Switching the language model on: the settings, the official client against a fake OpenAI-compatible
server, the answers kept in the database for every process, the Teams card through the server's own
model dispatcher, and `intake scope eval --judge llm|both`."""

from __future__ import annotations

import asyncio
import json
import re
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from adapters.settings import ConfigError, Settings
from bot.domain import OpinionStatus, VerdictKind
from bot.errors import ModelUnavailable
from bot.projectfile import load_project_text
from bot.scope.llm import answer_schema, build_messages
from bot.service import IntakeService
from store.repo import SqlStore
from tests.conftest import MEMBER, PROJECT_YAML
from tests.support.clock import FakeClock
from tests.support.fake_llm import NEEDS_OPENAI, FakeModel, judge_for

SCOPE = load_project_text(PROJECT_YAML, "acme.yaml").scope()
IPHONE = "Could the order history also be in an iPhone app?"


def settings(**kw: Any) -> Settings:
    return Settings(_env_file=None, **kw)  # type: ignore[call-arg]


# --- settings -------------------------------------------------------------------------------------


def test_the_model_is_off_unless_both_url_and_model_are_set() -> None:
    assert settings().llm_enabled() is False
    s = settings(llm_url="http://127.0.0.1:11434/v1", llm_model="qwen2.5:7b-instruct")
    assert s.llm_enabled() is True and s.llm_timeout == 8.0 and s.llm_max_concurrent == 4


@pytest.mark.parametrize(
    ("kw", "says"),
    [
        ({"llm_model": "gpt-x"}, "INTAKE_LLM_URL is missing"),
        ({"llm_url": "http://127.0.0.1:11434/v1"}, "INTAKE_LLM_MODEL is missing"),
        ({"llm_url": "127.0.0.1:11434", "llm_model": "m"}, "must be an http:// or https:// address"),
        ({"llm_url": "https://llm.example/v1", "llm_model": "m", "llm_api_key": "changeme"}, "placeholder"),
        ({"llm_api_key": "sk-live-123"}, "INTAKE_LLM_URL is not"),
    ],
)
def test_a_partial_configuration_stops_the_start_with_a_clear_message(kw: dict[str, str], says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        settings(**kw).llm_enabled()


def test_a_bad_timeout_or_concurrency_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTAKE_LLM_TIMEOUT", "0")
    with pytest.raises(ValueError, match="INTAKE_LLM_TIMEOUT"):
        Settings(_env_file=None)  # type: ignore[call-arg]
    monkeypatch.setenv("INTAKE_LLM_TIMEOUT", "2.5")
    monkeypatch.setenv("INTAKE_LLM_MAX_CONCURRENT", "0")
    with pytest.raises(ValueError, match="INTAKE_LLM_MAX_CONCURRENT"):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_without_the_client_installed_the_start_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from adapters.llm import model_judge

    monkeypatch.setitem(sys.modules, "openai", None)  # as if it were not installed
    monkeypatch.delitem(sys.modules, "adapters.llm.openai_chat", raising=False)
    with pytest.raises(ConfigError, match=r"pip install 'intake-bot\[llm\]'"):
        model_judge(settings(llm_url="http://127.0.0.1:1/v1", llm_model="m"))


def test_the_server_refuses_to_start_on_a_partial_configuration() -> None:
    from adapters.web.app import create_app

    with pytest.raises(ConfigError, match="INTAKE_LLM_MODEL is missing"):
        create_app(settings(llm_url="http://127.0.0.1:1/v1"), migrate=False, dispatch=False)


# --- the official client against the fake server -------------------------------------------------


@pytest.fixture
def openai_chat() -> Any:
    pytest.importorskip("openai", reason=NEEDS_OPENAI)
    from adapters.llm.openai_chat import OpenAIChat

    return OpenAIChat


async def test_the_client_asks_with_the_schema_the_key_and_no_retries(fake_model: FakeModel, openai_chat: Any) -> None:
    client = openai_chat(base_url=fake_model.url, model="gpt-test", api_key="sk-test-123", timeout=10)
    fake_model.label(IPHONE, "out_of_scope", "mobile")
    reply = await client.complete(build_messages(SCOPE, IPHONE), schema=answer_schema(SCOPE))
    assert json.loads(reply.content)["id"] == "mobile" and reply.prompt_tokens > 0 and reply.completion_tokens > 0
    (call,) = fake_model.calls
    assert call.headers["Authorization"] == "Bearer sk-test-123"
    assert call.body["model"] == "gpt-test" and call.body["temperature"] == 0
    fmt = call.body["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["schema"] == answer_schema(SCOPE)
    fake_model.mode = "429"
    with pytest.raises(ModelUnavailable) as exc:
        await client.complete(build_messages(SCOPE, IPHONE), schema=answer_schema(SCOPE))
    assert exc.value.reason == "rate_limited" and len(fake_model.calls) == 2  # once, not again
    await client.close()


async def test_a_server_without_structured_output_is_asked_for_plain_json(
    fake_model: FakeModel, openai_chat: Any
) -> None:
    client = openai_chat(base_url=fake_model.url, model="llama", timeout=10)
    fake_model.reject_schema = True
    fake_model.label(IPHONE, "out_of_scope", "mobile")
    reply = await client.complete(build_messages(SCOPE, IPHONE), schema=answer_schema(SCOPE))
    assert json.loads(reply.content)["verdict"] == "out_of_scope"
    assert fake_model.refused_formats == ["json_schema"] and client.answer_format == "json_object"
    await client.complete(build_messages(SCOPE, IPHONE), schema=answer_schema(SCOPE))
    assert fake_model.refused_formats == ["json_schema"]  # remembered: not tried again
    await client.close()


async def test_an_unreachable_server_and_a_timeout_have_their_reasons(fake_model: FakeModel, openai_chat: Any) -> None:
    client = openai_chat(base_url="http://127.0.0.1:9/v1", model="m", timeout=1)
    with pytest.raises(ModelUnavailable, match="unreachable"):
        await client.complete(build_messages(SCOPE, IPHONE), schema=answer_schema(SCOPE))
    await client.close()
    fake_model.mode, fake_model.slow_seconds = "slow", 3
    client = openai_chat(base_url=fake_model.url, model="m", timeout=0.3)
    with pytest.raises(ModelUnavailable, match="timeout"):
        await client.complete(build_messages(SCOPE, IPHONE), schema=answer_schema(SCOPE))
    await client.close()


async def test_a_chatty_model_without_a_format_is_still_read(fake_model: FakeModel, openai_chat: Any) -> None:
    """No format at all (a server that refuses both): the answer comes in a code fence and is read."""
    judge = judge_for(fake_model)
    judge.client._format = 2  # as after two refusals
    fake_model.label(IPHONE, "out_of_scope", "mobile")
    result = await judge.judge(SCOPE, IPHONE)
    (call,) = fake_model.calls
    assert "response_format" not in call.body and "temperature" not in call.body  # the fake then fences its JSON
    assert result.outcome == "agreed"
    await judge.aclose()


async def test_at_most_max_concurrent_questions_are_in_flight(fake_model: FakeModel) -> None:
    judge = judge_for(fake_model, max_concurrent=2, timeout=10)
    fake_model.mode, fake_model.slow_seconds = "slow", 0.2
    texts = [f"Request number {i} about the order list" for i in range(6)]
    results = await asyncio.gather(*(judge.judge(SCOPE, t) for t in texts))
    assert all(r.answer is not None for r in results)
    assert fake_model.max_in_flight == 2 and judge.stats.calls == 6 and judge.stats.latency_count == 6
    await judge.aclose()


async def test_the_same_question_asked_while_it_is_being_answered_waits_for_that_answer(
    fake_model: FakeModel,
) -> None:
    """The same request recorded twice in a row: one call, and the second takes the first's answer."""
    judge = judge_for(fake_model, timeout=10)
    fake_model.mode, fake_model.slow_seconds = "slow", 0.3
    fake_model.label(IPHONE, "out_of_scope", "mobile")
    first, second, other = await asyncio.gather(
        judge.judge(SCOPE, IPHONE), judge.judge(SCOPE, IPHONE), judge.judge(SCOPE, "Add a dark theme to the portal")
    )
    assert len(fake_model.calls) == 2 and judge.stats.calls == 2 and judge.stats.cache_hits == 1
    assert first.cached is False and second.cached is True and other.cached is False
    assert second.answer == first.answer and second.verdict.verdict is VerdictKind.OUT_OF_SCOPE
    # A failed asking is not shared: the one who waited asks on its own.
    fake_model.mode = "500"
    fake_model.calls.clear()
    a, b = await asyncio.gather(judge.judge(SCOPE, IPHONE), judge.judge(SCOPE, IPHONE))
    assert a.answer is None and b.answer is None and len(fake_model.calls) >= 2
    await judge.aclose()


# --- the answers kept for every process --------------------------------------------------------------


async def test_two_processes_on_one_database_ask_the_same_question_once(
    db_url: str, clock: FakeClock, fake_model: FakeModel
) -> None:
    fake_model.label(IPHONE, "out_of_scope", "mobile")
    stores = [SqlStore.from_url(db_url), SqlStore.from_url(db_url)]
    judges = [judge_for(fake_model), judge_for(fake_model)]
    one, two = (IntakeService(s, clock=clock, checker=j) for s, j in zip(stores, judges, strict=True))
    await one.load_project(load_project_text(PROJECT_YAML, "acme.yaml"))
    a = await one.submit_request(project="acme-portal", actor=MEMBER, text=IPHONE)
    b = await two.submit_request(project="acme-portal", actor=MEMBER, text=IPHONE)
    first = await one.judge_with_model(a.ref)
    second = await two.judge_with_model(b.ref)
    assert len(fake_model.calls) == 1
    assert first.events[-1].data["cached"] is False and second.events[-1].data["cached"] is True
    for rec in (first, second):
        assert rec.verdict.second is not None and rec.verdict.second.status is OpinionStatus.AGREED
        assert rec.verdict.verdict is VerdictKind.OUT_OF_SCOPE
    # Each job queued one card update for the request's own card.
    for s in stores:
        await s.close()
    for j in judges:
        await j.aclose()


# --- Teams, through the server's own model dispatcher ---------------------------------------------------


async def test_teams_card_is_updated_by_the_servers_model_dispatcher(sqlite_url: str, fake_model: FakeModel) -> None:
    """The server's own dispatchers (create_app): the card goes out first, the model is asked by the model
    dispatcher, and the card is updated in place for everyone."""
    from tests.support import teams as tm

    judge = judge_for(fake_model)
    fake_model.label(IPHONE, "out_of_scope", "mobile")
    fake_model.mode = "wrong_clause"
    async with tm.running(sqlite_url, checker=judge) as teams:
        await teams.add_to_team()
        await teams.add_to_channel()
        await teams.say_in_channel(tm.MEMBER, f"request {IPHONE}")
        await teams.settle()
        await teams.connector.wait_for(teams.connector.updates)
        posted = [json.dumps(p.card, ensure_ascii=False) for p in teams.connector.posts(tm.REVIEW_CHANNEL) if p.card]
        assert any("A language model is judging it too" in p for p in posted)
        updated = [json.dumps(u.card, ensure_ascii=False) for u in teams.connector.updates()]
        assert any("the clause it quoted is not in that item" in u and "Out of scope (mobile)" in u for u in updated)
    assert len(fake_model.calls) == 1


# --- intake scope eval --judge llm|both ------------------------------------------------------------------

LABELLED = [
    {"id": "a1", "project": "acme-portal", "text": IPHONE, "label": "out_of_scope", "item": "mobile"},
    {
        "id": "a2",
        "project": "acme-portal",
        "text": "The order history filter by date shows nothing for last week",
        "label": "in_scope",
        "item": "orders",
    },
    {
        "id": "a3",
        "project": "acme-portal",
        "text": "Reception wants a wallboard of today's orders",
        "label": "in_scope",
        "item": "orders",
    },
    {
        "id": "a4",
        "project": "acme-portal",
        "text": "Could alerts go out by SMS too?",
        "label": "unlisted",
        "item": None,
    },
]


class ThreadedFake:
    """The fake model server on a loop of its own, for a command that runs its own event loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.fake = FakeModel()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> FakeModel:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.fake.start(), self.loop).result(10)
        return self.fake

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.fake.close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture
def labelled_dir(tmp_path: Path) -> Path:
    (tmp_path / "acme.yaml").write_text(PROJECT_YAML, encoding="utf-8")
    (tmp_path / "requests.jsonl").write_text("".join(json.dumps(r) + "\n" for r in LABELLED), encoding="utf-8")
    return tmp_path


@pytest.fixture
def threaded_fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeModel]:
    pytest.importorskip("openai", reason=NEEDS_OPENAI)
    with ThreadedFake() as fake:
        for row in LABELLED:
            fake.label(str(row["text"]), str(row["label"]), row["item"])  # type: ignore[arg-type]
        monkeypatch.setenv("INTAKE_LLM_URL", fake.url)
        monkeypatch.setenv("INTAKE_LLM_MODEL", "fake-judge")
        yield fake


def test_eval_llm_measures_the_configured_model_on_a_labelled_file(
    labelled_dir: Path, threaded_fake: FakeModel
) -> None:
    from adapters.cli.main import cli

    threaded_fake.modes_for["SMS"] = "500"
    res = CliRunner().invoke(cli, ["scope", "eval", "--judge", "llm", str(labelled_dir / "requests.jsonl")])
    assert res.exit_code == 0, res.output
    assert (
        "language model fake-judge: 4 questions, 3 usable answers (75.0%); no usable answer: server_error 1"
        in res.output
    )
    assert "agreed with the checker" in res.output and "its usable answers alone (3)" in res.output
    res = CliRunner().invoke(cli, ["scope", "eval", "--judge", "llm", "--json", str(labelled_dir)])
    report = json.loads(res.output)
    assert report["model"]["failures"] == {"server_error": 1} and report["model"]["usable"] == 3
    assert report["model"]["alone"]["n"] == 3 and report["model"]["alone"]["accuracy"] == 1.0
    assert report["n"] == 4 and report["model"]["tokens"]["prompt"] > 0
    # The guarded verdicts: the wallboard stays "not in the scope" though the model (rightly) says in scope.
    assert report["confusion"]["in_scope"]["unlisted"] >= 1


def test_eval_both_puts_the_checker_and_the_model_side_by_side(labelled_dir: Path, threaded_fake: FakeModel) -> None:
    from adapters.cli.main import cli

    res = CliRunner().invoke(
        cli, ["scope", "eval", "--judge", "both", str(labelled_dir), str(labelled_dir / "requests.jsonl")]
    )
    assert res.exit_code == 0, res.output
    assert "== the offline checker ==" in res.output and "== side by side ==" in res.output
    side = res.output.split("== side by side ==")[1]
    assert re.search(r"^\s+offline\s+with model\s+model alone$", side, re.M)
    assert re.search(r"^macro-F1\s+\d\.\d{3}\s+\d\.\d{3}\s+1\.000$", side, re.M)  # the fake answers right
    assert re.search(r"^leak\s+\d+\.\d%\s+\d+\.\d%\s+0\.0%$", side, re.M)
    res = CliRunner().invoke(cli, ["scope", "eval", "--judge", "both", "--json", str(labelled_dir)])
    both = json.loads(res.output)
    assert set(both) == {"offline", "llm"} and both["offline"]["n"] == both["llm"]["n"] == 4


def test_eval_llm_without_a_model_says_what_to_set(labelled_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from adapters.cli.main import cli

    monkeypatch.delenv("INTAKE_LLM_URL", raising=False)
    monkeypatch.delenv("INTAKE_LLM_MODEL", raising=False)
    res = CliRunner().invoke(cli, ["scope", "eval", "--judge", "llm", str(labelled_dir)])
    assert res.exit_code != 0 and "set INTAKE_LLM_URL and INTAKE_LLM_MODEL" in res.output
    res = CliRunner().invoke(cli, ["scope", "eval", str(labelled_dir)])  # the default judge needs nothing
    assert res.exit_code == 0 and "requests: 4" in res.output


def test_intake_chat_asks_the_model_the_environment_names(tmp_path: Path, threaded_fake: FakeModel) -> None:
    """`intake chat` with INTAKE_LLM_* set: the card, then the card again with the model's answer."""
    from adapters.cli.main import cli

    db = f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}"
    (tmp_path / "acme.yaml").write_text(PROJECT_YAML, encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(cli, ["--database-url", db, "db", "upgrade"]).exit_code == 0
    assert runner.invoke(cli, ["--database-url", db, "project", "load", str(tmp_path / "acme.yaml")]).exit_code == 0
    res = runner.invoke(
        cli,
        ["--database-url", db, "chat", "--project", "acme-portal", "--as", "Sam Reed <sam@acme-team.example>"],
        input=f"/request {IPHONE}\n",
    )
    assert res.exit_code == 0, res.output
    assert "A language model is judging it too" in res.output
    assert "review channel (card updated)" in res.output and "The language model agrees" in res.output
    assert [c.request for c in threaded_fake.calls] == [IPHONE]
    threaded_fake.mode = "500"
    res = runner.invoke(cli, ["--database-url", db, "chat", "--project", "acme-portal"], input="/request Another one\n")
    assert "The language model gave no usable answer (its server failed)" in res.output
