"""Drive the real Slack route: signed bodies shaped like Slack's (from tests/payloads/slack/), a fake Web API,
and a dispatcher the test runs by hand. Registered as a pytest plugin by tests/conftest.py.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp.test_utils import TestClient, TestServer
from slack_sdk.signature import SignatureVerifier

from adapters.runtime import Runtime
from adapters.settings import Settings
from adapters.web.app import SINK_FACTORIES, create_app
from bot.modeljobs import ModelJobSink
from bot.outbox import Dispatcher, RetryPolicy
from bot.projectfile import load_project_text
from bot.scope import ScopeChecker
from bot.service import IntakeService
from bot.timekeeping import Timekeeper
from store.repo import SqlStore
from tests.conftest import PROJECT_YAML
from tests.support.clock import FakeClock
from tests.support.fake_slack import FakeSlack
from tests.support.smtp import SmtpServer

PAYLOADS = Path(__file__).resolve().parent.parent / "payloads" / "slack"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TOKEN = "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"

# The shared test project, with its PMs named for Slack in its `slack:` section (so the top-level list
# keeps only the e-mail address, and a PM's Slack id counts through `slack.pms`).
_PMS = 'pms: ["pm@acme.example", "U0PMSLACK"]'
assert _PMS in PROJECT_YAML
SLACK_PROJECT_YAML = (
    PROJECT_YAML.replace(_PMS, 'pms: ["pm@acme.example"]')
    + """slack:
  intake_channels: [C0INTAKE]
  review_channel: C0REVIEW
  pms: [U0PMSLACK]
"""
)

SECOND_PROJECT_YAML = """
project: beta-shop
name: Beta Shop
language: en
client: {name: Beta GmbH, contact: Max Muster, email: max@beta.example}
pms: ["boss@beta.example"]
goals: ["A shop"]
in_scope:
  - {id: cart, title: "Shopping cart"}
out_of_scope:
  - {id: erp, title: "ERP integration"}
slack:
  intake_channels: [C0BETA]
  review_channel: C0BETAREV
"""

TEAM_ID = "T0ACME"  # the workspace of every payload under tests/payloads/slack/ and of the fake's auth.test
PM_ID = "U0PMSLACK"  # a PM by Slack user id (slack.pms)
PM_MAIL_ID = "U0PRIYA"  # a PM by profile e-mail (top-level pms)
MEMBER_ID = "U0SAM"
OTHER_ID = "U0LEE"


def payload(name: str) -> dict[str, Any]:
    return dict(json.loads((PAYLOADS / name).read_text()))


def sign(body: str, *, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}


_TRIGGERS = itertools.count(1)


def fresh_trigger(data: dict[str, Any]) -> dict[str, Any]:
    """Give a payload its own trigger id, as Slack does for every command, click and submission
    (so two clicks are never byte-identical, and the route's replay protection tells them apart)."""
    n = next(_TRIGGERS)
    data["trigger_id"] = f"13345224609.738474920.{n:08x}{uuid.uuid4().hex[:8]}"
    for action in data.get("actions") or []:
        action["action_ts"] = f"{int(time.time())}.{n:06d}"
    return data


def text_value(value: str) -> dict[str, Any]:
    return {"value": {"type": "plain_text_input", "value": value}}


def select_value(value: str | None) -> dict[str, Any]:
    opt = {"text": {"type": "plain_text", "text": value}, "value": value} if value else None
    return {"value": {"type": "static_select", "selected_option": opt}}


def radio_value(value: str) -> dict[str, Any]:
    return {
        "value": {
            "type": "radio_buttons",
            "selected_option": {"text": {"type": "plain_text", "text": value}, "value": value},
        }
    }


def checkboxes_value(values: list[str]) -> dict[str, Any]:
    opts = [{"text": {"type": "plain_text", "text": v}, "value": v} for v in values]
    return {"value": {"type": "checkboxes", "selected_options": opts}}


def date_value(value: str | None) -> dict[str, Any]:
    return {"value": {"type": "datepicker", "selected_date": value}}


def datetime_value(value: int | None) -> dict[str, Any]:
    return {"value": {"type": "datetimepicker", "selected_date_time": value}}


def state_from_view(view: dict[str, Any]) -> dict[str, Any]:
    """What Slack would submit for a view nobody changed: every input at its initial value."""
    values: dict[str, Any] = {}
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            continue
        el = block["element"]
        kind = el["type"]
        if kind == "plain_text_input":
            values[block["block_id"]] = text_value(el.get("initial_value") or "")
        elif kind in ("static_select", "radio_buttons"):
            opt = el.get("initial_option")
            values[block["block_id"]] = {"value": {"type": kind, "selected_option": opt}}
        elif kind == "checkboxes":
            values[block["block_id"]] = {"value": {"type": kind, "selected_options": el.get("initial_options") or []}}
        elif kind == "datepicker":
            values[block["block_id"]] = date_value(el.get("initial_date"))
        elif kind == "datetimepicker":
            values[block["block_id"]] = datetime_value(el.get("initial_date_time"))
    return values


class SlackHarness:
    def __init__(
        self, client: TestClient, fake: FakeSlack, service: IntakeService, store: SqlStore, dispatcher: Dispatcher
    ) -> None:
        self.client = client
        self.fake = fake
        self.service = service
        self.store = store
        self.dispatcher = dispatcher
        self.timekeeper = Timekeeper(service, worker="slack-harness")

    @property
    def app(self) -> Any:
        return self.client.server.app

    @property
    def ctx(self) -> Any:
        from adapters.slack.platform import SLACK

        return self.app[SLACK]

    async def settle(self) -> None:
        """Let every background task finish and deliver every due notice, until nothing moves."""
        for _ in range(20):
            await self.ctx.settle()
            n = await self.dispatcher.drain()
            if n == 0 and not self.ctx.tasks:
                return
        raise AssertionError("the Slack adapter did not settle")

    async def tick(self) -> int:
        """Run the scheduled steps that are due by the (fake) clock, then deliver what they queued."""
        n = await self.timekeeper.run_due()
        await self.settle()
        return n

    async def settle_until(self, condition: Any, *, within: float = 5.0) -> None:
        """Settle repeatedly (retries wait for their backoff) until `condition()` holds."""
        async with asyncio.timeout(within):
            while True:
                await self.settle()
                if await condition():
                    return
                await asyncio.sleep(0.02)

    # --- raw posts ------------------------------------------------------------------------------

    async def post(self, body: str, *, content_type: str, headers: dict[str, str] | None = None) -> Any:
        h = {"Content-Type": content_type, **(sign(body) if headers is None else headers)}
        return await self.client.post("/slack/events", data=body.encode(), headers=h)

    async def post_form(self, fields: dict[str, Any], **kw: Any) -> Any:
        return await self.post(urlencode(fields), content_type="application/x-www-form-urlencoded", **kw)

    async def post_payload(self, data: dict[str, Any], **kw: Any) -> Any:
        return await self.post_form({"payload": json.dumps(fresh_trigger(data))}, **kw)

    # --- Slack-shaped requests ------------------------------------------------------------------

    async def command(self, command: str, text: str = "", *, user: str = MEMBER_ID, channel: str = "C0INTAKE") -> Any:
        fields = payload("slash_command.json")
        fields.update(
            command=command,
            text=text,
            user_id=user,
            channel_id=channel,
            response_url=self.fake.response_url(f"{command.strip('/')}-{len(self.fake.responses)}"),
        )
        return await self.post_form(fresh_trigger(fields))

    async def click(
        self,
        action_id: str,
        value: str,
        *,
        user: str = PM_ID,
        channel: str = "C0REVIEW",
        message_ts: str = "1700000000.000001",
        home: bool = False,
    ) -> Any:
        data = payload("block_actions_home.json" if home else "block_actions.json")
        data["user"]["id"] = user
        data["actions"][0].update(action_id=action_id, value=value)
        if not home:
            data["channel"]["id"] = channel
            data["container"].update(channel_id=channel, message_ts=message_ts)
            data["message"]["ts"] = message_ts
        return await self.post_payload(data)

    async def submit(self, view: dict[str, Any], *, user: str = PM_ID, values: dict[str, Any] | None = None) -> Any:
        """Submit a modal the bot opened (as recorded by the fake), with its initial values changed by `values`."""
        data = payload("view_submission.json")
        data["user"]["id"] = user
        state = state_from_view(view)
        state.update(values or {})
        data["view"].update(
            callback_id=view.get("callback_id", ""),
            private_metadata=view.get("private_metadata", ""),
            blocks=view.get("blocks", []),
            state={"values": state},
        )
        return await self.post_payload(data)

    async def shortcut(self, *, user: str = MEMBER_ID, text: str | None = None, channel: str = "C0SHARED") -> Any:
        data = payload("message_action.json")
        data["user"]["id"] = user
        data["channel"]["id"] = channel
        if text is not None:
            data["message"]["text"] = text
        return await self.post_payload(data)

    async def event(self, data: dict[str, Any], *, retry: int | None = None) -> Any:
        body = json.dumps(data)
        headers = sign(body)
        if retry is not None:
            headers.update({"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"})
        return await self.post(body, content_type="application/json", headers=headers)

    # --- what the fake saw ----------------------------------------------------------------------

    def opened_view(self, index: int = -1) -> dict[str, Any]:
        views = self.fake.calls_to("views.open")
        assert views, f"no modal was opened; calls: {self.fake.methods()}"
        return copy.deepcopy(views[index]["view"])

    def posted(self, channel: str | None = None) -> list[dict[str, Any]]:
        return [c for c in self.fake.calls_to("chat.postMessage") if channel is None or c.get("channel") == channel]

    async def ref_of_last_request(self) -> str:
        recs = await self.service.list_requests()
        return recs[-1].ref


@asynccontextmanager
async def running_slack(
    sqlite_url: str, clock: FakeClock, *, checker: ScopeChecker | None = None, **settings_kw: Any
) -> AsyncIterator[SlackHarness]:
    """The whole Slack side on SQLite: real route, real signatures, fake Web API, hand-run dispatcher (which
    also asks the language model, when `checker` is one that does)."""
    fake = await FakeSlack().start()
    fake.add_user(PM_ID, name="Pat Morgan")
    fake.add_user(PM_MAIL_ID, name="Priya Mehta", email="PM@acme.example")
    fake.add_user(MEMBER_ID, name="Sam Reed", email="sam@acme-team.example")
    fake.add_user(OTHER_ID, name="Lee Chen", email="lee@acme-team.example")
    store = SqlStore.from_url(sqlite_url)
    service = IntakeService(store, clock=clock, checker=checker)
    await service.load_project(load_project_text(SLACK_PROJECT_YAML, "acme.yaml"))
    settings_kw.setdefault("slack_team_id", TEAM_ID)  # as a production setup names it (no auth.test at start)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=sqlite_url,
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_api_url=fake.api_url,
        **settings_kw,
    )
    app = create_app(settings, runtime=Runtime(store, service), migrate=False, dispatch=False)
    client = TestClient(TestServer(app))
    await client.start_server()
    dispatcher = Dispatcher(
        store,
        [*(f(app) for f in app[SINK_FACTORIES]), ModelJobSink(service)],
        policy=RetryPolicy(base=0.01, cap=0.05, give_up_after=1e9),
    )
    try:
        yield SlackHarness(client, fake, service, store, dispatcher)
    finally:
        await client.close()
        await fake.close()
        await store.close()


@pytest.fixture
async def slack(sqlite_url: str, clock: FakeClock) -> AsyncIterator[SlackHarness]:
    async with running_slack(sqlite_url, clock) as harness:
        yield harness


@pytest.fixture
async def slack_with_email(sqlite_url: str, clock: FakeClock) -> AsyncIterator[tuple[SlackHarness, SmtpServer]]:
    """Slack on a server that sends mail, to a real SMTP server on loopback."""
    server = SmtpServer()
    server.start()
    try:
        async with running_slack(
            sqlite_url, clock, smtp_url=server.url, mail_from="Acme Projects <projects@acme-team.example>"
        ) as harness:
            yield harness, server
    finally:
        server.stop()
