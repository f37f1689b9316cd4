"""Configuration: read once from the environment (and an optional `.env`) into one validated object.

Each outside world switches on only when its settings are present; a partial set stops the start with
a message naming what is missing, so a misconfiguration shows at boot, not on the first click.
"""

from __future__ import annotations

from functools import cached_property
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from adapters.runtime import default_database_url, normalize_db_url

PLACEHOLDERS = {"changeme", "change-me", "xxx", "todo", "placeholder", "your-token-here", "secret"}


class ConfigError(Exception):
    """The configuration is incomplete or contradictory; the message says what to set."""


def _env(name: str) -> AliasChoices:
    return AliasChoices(name)


class Settings(BaseSettings):
    # env_ignore_empty: `VAR=` in an .env file or `${VAR:-}` in compose means "not set", not "set to nothing".
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True, env_ignore_empty=True
    )

    database_url: str = Field(default_factory=default_database_url, validation_alias=_env("DATABASE_URL"))
    env: Literal["development", "production", "test"] = Field("development", validation_alias=_env("INTAKE_ENV"))
    public_url: str | None = Field(None, validation_alias=_env("INTAKE_PUBLIC_URL"))
    secret_key: str | None = Field(None, validation_alias=_env("INTAKE_SECRET_KEY"))
    log_format: Literal["text", "json"] = Field("text", validation_alias=_env("INTAKE_LOG_FORMAT"))
    log_level: str = Field("INFO", validation_alias=_env("INTAKE_LOG_LEVEL"))

    # Slack
    slack_bot_token: str | None = Field(None, validation_alias=_env("SLACK_BOT_TOKEN"))
    slack_signing_secret: str | None = Field(None, validation_alias=_env("SLACK_SIGNING_SECRET"))
    slack_app_token: str | None = Field(None, validation_alias=_env("SLACK_APP_TOKEN"))
    slack_api_url: str | None = Field(None, validation_alias=_env("SLACK_API_URL"))
    # The one workspace served; None: the one the bot token belongs to (asked of auth.test at start).
    slack_team_id: str | None = Field(None, validation_alias=_env("SLACK_TEAM_ID"))
    # Seconds per Web API call; at most a third of the outbox lease, so a hung call becomes a retry in time.
    slack_api_timeout: float = Field(10.0, gt=0, le=20, validation_alias=_env("SLACK_API_TIMEOUT"))

    # Microsoft Teams (Bot Framework)
    microsoft_app_id: str | None = Field(None, validation_alias=_env("MICROSOFT_APP_ID"))
    microsoft_app_password: str | None = Field(None, validation_alias=_env("MICROSOFT_APP_PASSWORD"))
    microsoft_app_type: Literal["MultiTenant", "SingleTenant", "UserAssignedMSI"] = Field(
        "MultiTenant", validation_alias=_env("MICROSOFT_APP_TYPE")
    )
    microsoft_app_tenant_id: str | None = Field(None, validation_alias=_env("MICROSOFT_APP_TENANT_ID"))
    # More Microsoft tenants whose people may use the bot, comma-separated (besides MICROSOFT_APP_TENANT_ID).
    microsoft_allowed_tenants: str | None = Field(None, validation_alias=_env("MICROSOFT_ALLOWED_TENANTS"))
    teams_emulator: bool = Field(False, validation_alias=_env("INTAKE_TEAMS_EMULATOR"))

    # The outbox: how many notices of different requests are delivered at once, per process.
    outbox_concurrency: int = Field(8, ge=1, le=64, validation_alias=_env("INTAKE_OUTBOX_CONCURRENCY"))
    # Days a delivered notice stays in the outbox before it is pruned (where its message was posted is
    # kept apart, for later updates of it).
    outbox_keep_days: float = Field(30.0, gt=0, le=3650, validation_alias=_env("INTAKE_OUTBOX_KEEP_DAYS"))

    # E-mail
    # How often each server process looks for scheduled steps that are due (reminders, summaries…).
    schedule_interval: float = Field(15.0, gt=0, le=3600, validation_alias=_env("INTAKE_SCHEDULE_INTERVAL"))

    smtp_url: str | None = Field(None, validation_alias=_env("SMTP_URL"))
    mail_from: str | None = Field(None, validation_alias=_env("INTAKE_MAIL_FROM"))

    # The web page for PMs (/app): how long a signed-in browser may sit idle, and single sign-on.
    web_idle_minutes: int = Field(120, ge=5, le=60 * 24 * 30, validation_alias=_env("INTAKE_WEB_IDLE_MINUTES"))
    # "Sign in with Slack" (OpenID Connect): the Slack app's client id and secret (Basic Information).
    slack_client_id: str | None = Field(None, validation_alias=_env("SLACK_CLIENT_ID"))
    slack_client_secret: str | None = Field(None, validation_alias=_env("SLACK_CLIENT_SECRET"))
    slack_oidc_issuer: str = Field("https://slack.com", validation_alias=_env("SLACK_OIDC_ISSUER"))
    # Sign-in with Microsoft Entra ID uses MICROSOFT_APP_ID / MICROSOFT_APP_PASSWORD; the authority is the
    # app's tenant (MICROSOFT_APP_TENANT_ID), or "organizations" for a multi-tenant app.
    entra_authority: str | None = Field(None, validation_alias=_env("INTAKE_ENTRA_AUTHORITY"))

    # A language model as a second judge of scope verdicts (optional: `pip install '.[llm]'`)
    llm_url: str | None = Field(None, validation_alias=_env("INTAKE_LLM_URL"))
    llm_model: str | None = Field(None, validation_alias=_env("INTAKE_LLM_MODEL"))
    llm_api_key: str | None = Field(None, validation_alias=_env("INTAKE_LLM_API_KEY"))
    llm_timeout: float = Field(8.0, gt=0, le=600, validation_alias=_env("INTAKE_LLM_TIMEOUT"))
    llm_max_concurrent: int = Field(4, ge=1, le=256, validation_alias=_env("INTAKE_LLM_MAX_CONCURRENT"))
    # The request embedding of the optional [semantic] extra in scope verdicts: used when installed unless off.
    scope_semantic: Literal["auto", "off"] = Field("auto", validation_alias=_env("INTAKE_SCOPE_SEMANTIC"))

    @cached_property
    def db_url(self) -> str:
        return normalize_db_url(self.database_url)

    @property
    def teams_tenants(self) -> frozenset[str]:
        """The Microsoft tenants whose people may use the bot (lower case); empty: not pinned."""
        given = [self.microsoft_app_tenant_id or "", *(self.microsoft_allowed_tenants or "").split(",")]
        return frozenset(t.strip().lower() for t in given if t.strip())

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    def llm_enabled(self) -> bool:
        """Whether a language model judges scope verdicts too: INTAKE_LLM_URL and INTAKE_LLM_MODEL are set.
        One without the other, or an address that is not http(s), raises `ConfigError` naming it."""
        url, model = (self.llm_url or "").strip(), (self.llm_model or "").strip()
        if not url and not model:
            if self.llm_api_key:
                raise ConfigError(
                    "INTAKE_LLM_API_KEY is set but INTAKE_LLM_URL is not: set the model server's address."
                )
            return False
        if not url:
            raise ConfigError(
                "INTAKE_LLM_MODEL is set but INTAKE_LLM_URL is missing: set the OpenAI-compatible base URL "
                "(e.g. https://api.openai.com/v1, or http://127.0.0.1:11434/v1 for Ollama)."
            )
        if not model:
            raise ConfigError("INTAKE_LLM_URL is set but INTAKE_LLM_MODEL is missing: name the model to ask.")
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"INTAKE_LLM_URL must be an http:// or https:// address, not '{url}'.")
        self.check_secret("INTAKE_LLM_API_KEY", self.llm_api_key)
        return True

    def check_secret(self, name: str, value: str | None) -> None:
        if value is not None and value.strip().lower() in PLACEHOLDERS:
            raise ConfigError(f"{name} is still a placeholder ('{value}'): set the real value.")


def load_settings() -> Settings:
    return Settings()  # type: ignore[call-arg]  # every field has a default; mypy does not see validation_alias
