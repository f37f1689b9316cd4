"""A language model as a second judge of scope verdicts, through any OpenAI-compatible server (a hosted
model, or your own through Ollama, vLLM or a llama.cpp server). Off unless INTAKE_LLM_URL and
INTAKE_LLM_MODEL are set; needs the `openai` package (`pip install '.[llm]'`).
"""

from __future__ import annotations

from adapters.settings import ConfigError, Settings
from bot.scope.llm import ModelJudge


def model_judge(settings: Settings) -> ModelJudge | None:
    """The scope checker with the configured model as its second judge, or None when none is configured.
    Raises `ConfigError` on a partial configuration or when the `openai` package is missing."""
    if not settings.llm_enabled():
        return None
    try:
        from .openai_chat import OpenAIChat
    except ModuleNotFoundError as exc:
        if exc.name != "openai":
            raise
        raise ConfigError(
            "INTAKE_LLM_URL is set, but the language-model client is not installed: "
            "pip install 'intake-bot[llm]' (from a source folder: pip install '.[llm]')."
        ) from exc
    assert settings.llm_url is not None and settings.llm_model is not None
    client = OpenAIChat(
        base_url=settings.llm_url.strip(),
        model=settings.llm_model.strip(),
        api_key=settings.llm_api_key,
        timeout=settings.llm_timeout,
    )
    return ModelJudge(client, timeout=settings.llm_timeout, max_concurrent=settings.llm_max_concurrent)
