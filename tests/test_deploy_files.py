"""The container files stay correct without a container engine: parse them and check what matters."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")


def test_compose_has_the_app_postgres_and_mailpit() -> None:
    default = {name for name, svc in COMPOSE["services"].items() if not svc.get("profiles")}
    assert default == {"app", "db", "mailpit"}
    assert "pgdata" in COMPOSE["volumes"]


def test_a_local_language_model_is_an_optional_profile() -> None:
    """`docker compose up` starts no model server; `--profile llm` adds Ollama, on loopback only, with its
    models on a volume. The app neither waits for it nor turns the model on by itself."""
    ollama = COMPOSE["services"]["ollama"]
    assert ollama["profiles"] == ["llm"]
    assert ollama["image"].startswith("ollama/ollama")
    assert ollama["ports"] == ["127.0.0.1:11434:11434"]
    assert ollama["volumes"] == ["ollama:/root/.ollama"] and "ollama" in COMPOSE["volumes"]
    app = COMPOSE["services"]["app"]
    assert "ollama" not in app["depends_on"]
    env = app["environment"]
    for name in ("INTAKE_LLM_URL", "INTAKE_LLM_MODEL", "INTAKE_LLM_API_KEY"):
        assert env[name] == "${" + name + ":-}", name  # empty: the model stays off
    assert env["INTAKE_LLM_TIMEOUT"] == "${INTAKE_LLM_TIMEOUT:-8}"
    assert env["INTAKE_LLM_MAX_CONCURRENT"] == "${INTAKE_LLM_MAX_CONCURRENT:-4}"


def test_the_app_waits_for_a_healthy_database_and_is_health_checked() -> None:
    app = COMPOSE["services"]["app"]
    assert app["depends_on"]["db"]["condition"] == "service_healthy"
    assert "3000:3000" in app["ports"]
    assert "/healthz" in " ".join(app["healthcheck"]["test"])
    db = COMPOSE["services"]["db"]
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert db["volumes"] == ["pgdata:/var/lib/postgresql/data"]
    assert "1025:1025" in COMPOSE["services"]["mailpit"]["ports"]


def test_secrets_fail_loudly_when_missing_and_are_never_written_in() -> None:
    env = COMPOSE["services"]["app"]["environment"]
    for name in ("INTAKE_SECRET_KEY", "INTAKE_PUBLIC_URL", "INTAKE_MAIL_FROM"):
        assert re.fullmatch(r"\$\{" + name + r":\?[^}]+\}", env[name]), name
    assert ":?" in env["DATABASE_URL"] and "${POSTGRES_PASSWORD:?" in env["DATABASE_URL"]
    assert COMPOSE["services"]["db"]["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    # Optional platforms default to empty, which the settings treat as "off".
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "MICROSOFT_APP_ID", "MICROSOFT_APP_PASSWORD"):
        assert env[name] == "${" + name + ":-}"
    assert env["DATABASE_URL"].startswith("postgresql+asyncpg://intake:") and env["DATABASE_URL"].endswith(
        "@db:5432/intake"
    )
    assert env["SMTP_URL"] == "${SMTP_URL:-smtp://mailpit:1025}"


def test_every_variable_the_compose_file_uses_is_a_setting() -> None:
    from adapters.settings import Settings

    known = {alias for f in Settings.model_fields.values() for alias in f.validation_alias.choices}  # type: ignore[union-attr]
    used = set(COMPOSE["services"]["app"]["environment"])
    assert used <= known, used - known
    example = {
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    }
    assert example - {"POSTGRES_PASSWORD"} <= known


def test_the_image_is_slim_runs_as_a_user_and_serves() -> None:
    assert re.search(r"^FROM python:3\.1[1-9]-slim", DOCKERFILE, re.M)
    assert re.search(r"^USER intake$", DOCKERFILE, re.M)
    assert re.search(r"^HEALTHCHECK .*\n?.*/healthz", DOCKERFILE, re.M)
    assert 'CMD ["intake", "serve", "--host", "0.0.0.0", "--port", "3000"]' in DOCKERFILE
    # The model client by default (used only when configured); the request embedding when built with it.
    assert re.search(r"^ARG EXTRAS=llm$", DOCKERFILE, re.M)
    assert re.search(r'^RUN pip install "\.\[\$\{EXTRAS\}\]"', DOCKERFILE, re.M)


def test_every_data_file_of_the_packages_is_installed_with_them() -> None:
    # Files beside the code that are not Python (templates, the scope checker's neighbours, …) must be named
    # in pyproject's package-data, or an installed server runs without them.
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["*"]
    tracked = [p for pkg in ("bot", "store", "adapters") for p in (ROOT / pkg).rglob("*") if p.is_file()]
    data = [p for p in tracked if p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts]
    assert any(p.name == "neighbours.npz" for p in data)
    missing = [str(p.relative_to(ROOT)) for p in data if not any(fnmatch.fnmatch(p.name, pat) for pat in patterns)]
    assert missing == []
