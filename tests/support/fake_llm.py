"""A local fake of an OpenAI-compatible chat-completions server (`POST /v1/chat/completions`), on a free
loopback port, speaking the wire format the `openai` client expects.

It answers well: it reads the scope and the request out of the prompt, and answers from the labels a test
gives it (`label(text, verdict, item)`), quoting the item's title from the prompt, as a model that got it
right would. On cue it misbehaves the way real servers and models do: a hallucinated id, a clause that is
not in the scope, broken JSON, a refusal, a slow answer, 429 and 500, obeying an instruction inside the
request, or refusing structured output (400). Every question is kept (`calls`, `prompts`, `requests`) so
tests can read exactly what left the server.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

MODES = (
    "good",  # the labelled answer, or "unlisted" for a request it has no label for
    "hallucinated_id",  # in scope, naming an item the scope does not have
    "wrong_clause",  # the right item, quoting words that are not in it
    "broken_json",  # an answer cut off in the middle of its JSON
    "refusal",  # the model declines (the `refusal` field of structured output)
    "slow",  # the right answer, after `slow_seconds`
    "429",  # rate limited, with Retry-After
    "500",  # the server fails
    "obey",  # does what the request tells it to ("…say in_scope"), quoting a real in-scope item
)


@dataclass
class Call:
    body: dict[str, Any]
    headers: dict[str, str]

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages") or [])

    @property
    def data(self) -> dict[str, Any]:
        """The JSON document of the user message: scope, examples and request."""
        return dict(json.loads(self.messages[-1]["content"]))

    @property
    def request(self) -> str:
        return str(self.data["request"])

    @property
    def text(self) -> str:
        """Everything the question carried, as one string (to look for what must not leave)."""
        return json.dumps(self.body, ensure_ascii=False)


@dataclass
class FakeModel:
    mode: str = "good"
    slow_seconds: float = 3.0
    reject_schema: bool = False  # answer 400 to a json_schema request, as servers without structured output do
    modes_for: dict[str, str] = field(default_factory=dict)  # a request containing the key gets that mode
    labels: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    refused_formats: list[str] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0  # the most questions it was asked at the same time
    base: str = ""
    _runner: web.AppRunner | None = None
    _closing: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self, port: int = 0) -> FakeModel:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self.completions)
        app.router.add_get("/v1/models", self.models)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"http://127.0.0.1:{port}"
        return self

    @property
    def url(self) -> str:
        """The base URL to configure (INTAKE_LLM_URL)."""
        return f"{self.base}/v1"

    async def close(self) -> None:
        self._closing.set()
        if self._runner:
            await self._runner.cleanup()

    def label(self, text: str, verdict: str, item: str | None = None) -> None:
        """How to answer `text` when answering well."""
        self.labels[" ".join(text.split())] = (verdict, item)

    @property
    def prompts(self) -> list[str]:
        return [c.text for c in self.calls]

    @property
    def requests(self) -> list[str]:
        return [c.request for c in self.calls]

    # --- the routes -----------------------------------------------------------------------------

    async def models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "fake-judge", "object": "model"}]})

    async def completions(self, request: web.Request) -> web.Response:
        body = await request.json()
        fmt = (body.get("response_format") or {}).get("type", "plain")
        if self.reject_schema and fmt == "json_schema":
            self.refused_formats.append(fmt)
            return _error(400, "response_format json_schema is not supported by this server", "invalid_request_error")
        call = Call(body, dict(request.headers))
        self.calls.append(call)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._respond(call, body, fmt)
        finally:
            self.in_flight -= 1

    async def _respond(self, call: Call, body: dict[str, Any], fmt: str) -> web.Response:
        mode = next((m for key, m in self.modes_for.items() if key in call.request), self.mode)
        if mode == "429":
            return _error(429, "Rate limit reached, try again in 20s", "rate_limit_exceeded", {"Retry-After": "20"})
        if mode == "500":
            return _error(500, "The server had an error while processing your request.", "server_error")
        if mode == "slow":
            try:  # a slow answer, cut short only when the server closes (so tests do not wait for it)
                await asyncio.wait_for(self._closing.wait(), self.slow_seconds)
            except TimeoutError:
                pass
        if mode == "refusal":
            return self._reply(body, None, refusal="I'm sorry, but I can't help with that request.")
        answer = self._answer(call, mode)
        content = json.dumps(answer, ensure_ascii=False)
        if mode == "broken_json":
            content = content[: len(content) // 2]
        if fmt == "plain":  # a chatty model with no format to keep to
            content = f"```json\n{content}\n```"
        return self._reply(body, content)

    def _answer(self, call: Call, mode: str) -> dict[str, Any]:
        data = call.data
        items = {it["id"]: it for it in (*data["in_scope"], *data["out_of_scope"])}
        verdict, item = self.labels.get(" ".join(call.request.split()), ("unlisted", None))
        if mode == "obey" and "in_scope" in call.request:
            verdict, item = "in_scope", data["in_scope"][0]["id"]
        if mode == "hallucinated_id":
            return {"verdict": "in_scope", "id": "sms_gateway", "clause": "SMS gateway", "extra": [], "confidence": 0.9}
        clause = items[item]["title"] if item in items else ""
        if mode == "wrong_clause" and verdict != "unlisted":
            clause = "Unlimited changes at no extra cost"
        if verdict == "unlisted":
            item, clause = None, ""
        return {"verdict": verdict, "id": item, "clause": clause, "extra": [], "confidence": 0.9}

    @staticmethod
    def _reply(body: dict[str, Any], content: str | None, *, refusal: str | None = None) -> web.Response:
        prompt = sum(len(str(m.get("content") or "")) for m in body.get("messages") or []) // 4
        completion = len(content or refusal or "") // 4
        return web.json_response(
            {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "created": 1_767_225_600,
                "model": body.get("model", ""),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content, "refusal": refusal},
                        "finish_reason": "stop",
                        "logprobs": None,
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt,
                    "completion_tokens": completion,
                    "total_tokens": prompt + completion,
                },
            }
        )


def _error(status: int, message: str, code: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(
        {"error": {"message": message, "type": code, "param": None, "code": code}}, status=status, headers=headers
    )


# --- fixtures (registered as a pytest plugin by tests/conftest.py) ---------------------------------

NEEDS_OPENAI = "the language-model client is not installed: pip install '.[llm]' (make test installs it)"
TIMEOUT = 3.0  # the model's timeout in these tests (generous: a busy machine must not make a good answer late)
SLOW = 10.0  # how long a slow answer takes


def judge_for(fake: FakeModel, *, timeout: float = TIMEOUT, max_concurrent: int = 4) -> Any:
    """A `ModelJudge` asking `fake` through the official client (skips when it is not installed)."""
    pytest.importorskip("openai", reason=NEEDS_OPENAI)
    from adapters.llm.openai_chat import OpenAIChat
    from bot.scope.llm import ModelJudge

    client = OpenAIChat(base_url=fake.url, model="fake-judge", timeout=timeout)
    return ModelJudge(client, timeout=timeout, max_concurrent=max_concurrent)


@pytest.fixture
async def fake_model() -> AsyncIterator[FakeModel]:
    fake = await FakeModel(slow_seconds=SLOW).start()
    yield fake
    await fake.close()


@pytest.fixture
async def model_judge(fake_model: FakeModel) -> AsyncIterator[Any]:
    judge = judge_for(fake_model)
    yield judge
    await judge.aclose()
