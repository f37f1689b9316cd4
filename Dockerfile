# intake-bot server image: `docker compose up` runs it with PostgreSQL and a local mail catcher.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY store ./store
COPY adapters ./adapters
COPY examples ./examples
# With the `llm` extra, so a language model is one setting away (INTAKE_LLM_URL; off by default).
# `--build-arg EXTRAS=llm,semantic` adds the request embedding to the scope verdict (~170 MB more).
ARG EXTRAS=llm
RUN pip install ".[${EXTRAS}]" \
    && useradd --create-home --uid 10001 --shell /usr/sbin/nologin intake

USER intake
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=2)"]
# The server applies database migrations on start, then serves Slack, Teams, health and metrics.
CMD ["intake", "serve", "--host", "0.0.0.0", "--port", "3000"]
