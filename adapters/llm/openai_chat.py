"""The `ChatModel` port on the official `openai` client (async), for any OpenAI-compatible server.

One call per question, no retries (a model that does not answer in time leaves the checker's verdict
standing; the outbox does not ask again). The answer is requested as JSON following the schema; a server
that refuses that (400) is asked for a plain JSON object, then with no format at all, once each, and the
client keeps to what worked. Every SDK error becomes a `ModelUnavailable` with a short reason.
"""

from __future__ import annotations

import logging
from typing import Any, cast

import openai

from bot.errors import ModelUnavailable
from bot.ports import ChatModel, ModelReply

log = logging.getLogger("intake.llm")

# How to ask for JSON, best first.
FORMATS = ("json_schema", "json_object", "plain")


class OpenAIChat(ChatModel):
    def __init__(self, *, base_url: str, model: str, api_key: str | None = None, timeout: float = 8.0) -> None:
        self.name = model
        self.base_url = base_url
        # Servers of local models ignore the key; the client insists on having one.
        self._client = openai.AsyncOpenAI(
            base_url=base_url, api_key=api_key or "not-needed", timeout=timeout, max_retries=0
        )
        self._format = 0

    @property
    def answer_format(self) -> str:
        return FORMATS[self._format]

    async def complete(self, messages: list[dict[str, str]], *, schema: dict[str, Any]) -> ModelReply:
        while True:
            fmt = FORMATS[self._format]
            extra: dict[str, Any] = {}
            if fmt == "json_schema":
                extra["response_format"] = {
                    "type": "json_schema",
                    "json_schema": {"name": "scope_verdict", "strict": True, "schema": schema},
                }
            elif fmt == "json_object":
                extra["response_format"] = {"type": "json_object"}
            if fmt != "plain":
                extra["temperature"] = 0
            try:
                resp = await self._client.chat.completions.create(
                    model=self.name, messages=cast(Any, messages), **extra
                )
            except openai.BadRequestError as exc:
                if self._format + 1 < len(FORMATS):
                    self._format += 1
                    log.warning(
                        "llm: %s refused the %s answer format (%s); asking with %s from now on",
                        self.base_url,
                        fmt,
                        _detail(exc),
                        FORMATS[self._format],
                    )
                    continue
                raise ModelUnavailable("http_error", _detail(exc)) from exc
            except openai.APITimeoutError as exc:
                raise ModelUnavailable("timeout") from exc
            except openai.RateLimitError as exc:
                raise ModelUnavailable("rate_limited", _detail(exc)) from exc
            except openai.APIStatusError as exc:
                reason = "server_error" if exc.status_code >= 500 else "http_error"
                raise ModelUnavailable(reason, _detail(exc)) from exc
            except openai.APIConnectionError as exc:
                raise ModelUnavailable("unreachable", str(exc)) from exc
            except (openai.APIResponseValidationError, ValueError, TypeError) as exc:
                raise ModelUnavailable("malformed", f"{type(exc).__name__}: {exc}") from exc
            break
        choices = getattr(resp, "choices", None)
        if not choices:
            raise ModelUnavailable("malformed", "the reply has no choices")
        message = choices[0].message
        usage = getattr(resp, "usage", None)
        return ModelReply(
            content=message.content,
            refusal=getattr(message, "refusal", None),
            finish_reason=choices[0].finish_reason,
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
        )

    async def close(self) -> None:
        await self._client.close()


def _detail(exc: openai.APIStatusError) -> str:
    return f"{exc.status_code}: {str(exc.message)[:200]}"
