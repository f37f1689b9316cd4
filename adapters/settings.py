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

    # Microsoft Teams (Bot Framework)
    microsoft_app_id: str | None = Field(None, validation_alias=_env("MICROSOFT_APP_ID"))
    microsoft_app_password: str | None = Field(None, validation_alias=_env("MICROSOFT_APP_PASSWORD"))
    microsoft_app_type: Literal["MultiTenant", "SingleTenant", "UserAssignedMSI"] = Field(
        "MultiTenant", validation_alias=_env("MICROSOFT_APP_TYPE")
    )
    microsoft_app_tenant_id: str | None = Field(None, validation_alias=_env("MICROSOFT_APP_TENANT_ID"))
    teams_emulator: bool = Field(False, validation_alias=_env("INTAKE_TEAMS_EMULATOR"))

    # E-mail
    # How often each server process looks for scheduled steps that are due (reminders, summaries…).
    schedule_interval: float = Field(15.0, gt=0, le=3600, validation_alias=_env("INTAKE_SCHEDULE_INTERVAL"))

    smtp_url: str | None = Field(None, validation_alias=_env("SMTP_URL"))
    mail_from: str | None = Field(None, validation_alias=_env("INTAKE_MAIL_FROM"))

    @cached_property
    def db_url(self) -> str:
        return normalize_db_url(self.database_url)

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    def check_secret(self, name: str, value: str | None) -> None:
        if value is not None and value.strip().lower() in PLACEHOLDERS:
            raise ConfigError(f"{name} is still a placeholder ('{value}'): set the real value.")


def load_settings() -> Settings:
    return Settings()  # type: ignore[call-arg]  # every field has a default; mypy does not see validation_alias
