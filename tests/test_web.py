"""The shared server: health, readiness, metrics and logging, through real HTTP."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from adapters.logsetup import configure, redact
from adapters.runtime import Runtime
from adapters.settings import Settings
from adapters.web.app import create_app
from bot.domain import ScopeChange
from bot.service import IntakeService
from store.repo import SqlStore
from tests.conftest import MEMBER, PM


def settings(db_url: str) -> Settings:
    return Settings(DATABASE_URL=db_url)  # type: ignore[call-arg]


async def client_for(service: IntakeService, db_url: str) -> TestClient:
    app = create_app(settings(db_url), runtime=Runtime(service.store, service), dispatch=False)  # type: ignore[arg-type]
    client = TestClient(TestServer(app))
    await client.start_server()
    return client


async def test_health_and_readiness(service: IntakeService, sqlite_url: str) -> None:
    client = await client_for(service, sqlite_url)
    try:
        assert (await client.get("/healthz")).status == 200
        ready = await client.get("/readyz")
        assert ready.status == 200 and (await ready.json())["status"] == "ready"
        assert (await client.get("/nope")).status == 404
    finally:
        await client.close()


async def test_readiness_is_503_when_the_database_is_away(tmp_path: Path) -> None:
    store = SqlStore.from_url("postgresql+asyncpg://intake:pw@127.0.0.1:1/intake")
    rt = Runtime(store, IntakeService(store))
    app = create_app(settings("postgresql+asyncpg://intake:pw@127.0.0.1:1/intake"), runtime=rt, dispatch=False)
    async with TestClient(TestServer(app)) as client:
        resp = await client.get("/readyz")
        body = await resp.json()
        assert resp.status == 503 and "DATABASE_URL" in body["reason"] and "pw" not in body["reason"]
        assert (await client.get("/healthz")).status == 200
    await store.close()


async def test_metrics_report_the_record_and_http_latency(service: IntakeService, sqlite_url: str) -> None:
    rec = await service.submit_request(project="acme-portal", actor=MEMBER, text="Can we pay by credit card?")
    await service.approve(rec.ref, actor=PM, change=ScopeChange("1 day", "none"))
    client = await client_for(service, sqlite_url)
    try:
        await client.get("/healthz")
        text = await (await client.get("/metrics")).text()
    finally:
        await client.close()
    verdict = rec.verdict.verdict.value
    assert f'intake_requests_received_total{{platform="console",verdict="{verdict}"}} 1.0' in text
    assert 'intake_decisions_total{kind="approve"} 1.0' in text
    assert "intake_outbox_pending 3.0" in text  # review card, card update, requester notice: no dispatcher here
    assert 'intake_http_request_duration_seconds_count{method="GET",route="/healthz",status="200"} 1.0' in text


def test_logs_are_json_lines_without_secrets() -> None:
    stream = io.StringIO()
    configure("json", "INFO", stream=stream)
    log = logging.getLogger("intake.test")
    log.info("posting with %s to %s", "xoxb-1234-abcdef", "postgresql://u:hunter2@db/x", extra={"ref": "ACME-3"})
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert line["ref"] == "ACME-3" and line["level"] == "info"
    assert "hunter2" not in line["message"] and "abcdef" not in line["message"] and "xoxb-***" in line["message"]
    assert redact("Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.payload.sig") == "Authorization: Bearer ***"
    configure("text", "WARNING")
