"""A local fake of the Bot Framework connector, and a harness that runs the real app against it.

The fake speaks the connector's wire format on a free loopback port (it is the activities'
`serviceUrl`): it records every post, reply, update and conversation creation, answers member
look-ups from a roster, and can be told to fail the next calls with a given status, to hang on them,
or to drop their connection. A failed call has no effect and is not kept in `calls`.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

PAYLOADS = Path(__file__).resolve().parent.parent / "payloads" / "teams"

BOT = {"id": "28:intake-bot", "name": "intake-bot"}
TENANT = "72f988bf-0000-4000-8000-000000000001"
REVIEW_CHANNEL = "19:review-acme@thread.tacv2"
INTAKE_CHANNEL = "19:intake-acme@thread.tacv2"
TEAM = "19:team-acme@thread.tacv2"

PM = {"id": "29:pm-pat", "name": "Pat Morgan", "aadObjectId": "aad-pat"}  # a PM by e-mail (top-level pms)
PM2 = {"id": "29:pm-robin", "name": "Robin Fox", "aadObjectId": "aad-robin"}  # a PM by AAD id (teams.pms)
MEMBER = {"id": "29:member-sam", "name": "Sam Reed", "aadObjectId": "aad-sam"}
OTHER = {"id": "29:member-lee", "name": "Lee Chen", "aadObjectId": "aad-lee"}

ROSTER = {
    PM["id"]: {**PM, "email": "pm@acme.example", "userPrincipalName": "pm@acme.example"},
    PM2["id"]: {**PM2, "email": "robin@acme-team.example", "userPrincipalName": "robin@acme-team.example"},
    MEMBER["id"]: {**MEMBER, "email": "sam@acme-team.example", "userPrincipalName": "sam@acme-team.example"},
    OTHER["id"]: {**OTHER, "email": "lee@acme-team.example", "userPrincipalName": "lee@acme-team.example"},
}

TEAMS_PROJECT_YAML = f"""
teams:
  review_channel: "{REVIEW_CHANNEL}"
  intake_channels: ["{INTAKE_CHANNEL}"]
  pms: ["aad-robin"]
"""


def personal_conversation(user: dict[str, Any]) -> str:
    return f"a:personal-{user['id'].split(':', 1)[1]}"


@dataclass
class Call:
    method: str
    path: str
    conversation_id: str | None
    activity_id: str | None
    body: dict[str, Any]
    posted_id: str | None = None  # the id the connector gave a new activity

    @property
    def card(self) -> dict[str, Any] | None:
        for a in self.body.get("attachments") or []:
            if a.get("contentType") == "application/vnd.microsoft.card.adaptive":
                content: dict[str, Any] = a["content"]
                return content
        return None

    @property
    def text(self) -> str:
        return str(self.body.get("text") or "")


@dataclass
class Fault:
    status: int
    headers: dict[str, str]
    conversation: str
    mode: str = "answer"  # "answer" with status; "hang" for `seconds` first; "drop" the connection
    seconds: float = 0.0


@dataclass
class FakeConnector:
    calls: list[Call] = field(default_factory=list)
    failures: list[Fault] = field(default_factory=list)
    attempts: int = 0  # posts and updates that reached the connector, failed or not
    roster: dict[str, dict[str, Any]] = field(default_factory=lambda: dict(ROSTER))
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    server: TestServer | None = None
    _closing: asyncio.Event = field(default_factory=asyncio.Event)

    def fail_next(self, status: int, times: int = 1, *, conversation: str = "", **headers: str) -> None:
        """Answer the next `times` posts or updates (into conversations starting with `conversation`) with `status`."""
        self.failures.extend(Fault(status, headers, conversation) for _ in range(times))

    def hang_next(self, seconds: float, times: int = 1, *, conversation: str = "") -> None:
        """Give the next `times` posts or updates no answer for `seconds` (then a 503); they have no effect."""
        self.failures.extend(Fault(503, {}, conversation, "hang", seconds) for _ in range(times))

    def drop_next(self, times: int = 1, *, conversation: str = "") -> None:
        """Cut the connection of the next `times` posts or updates before any answer; they have no effect."""
        self.failures.extend(Fault(0, {}, conversation, "drop") for _ in range(times))

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/") + "/"

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations", self.create_conversation)
        app.router.add_post("/v3/conversations/{cid}/activities", self.post_activity)
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", self.post_activity)
        app.router.add_put("/v3/conversations/{cid}/activities/{aid}", self.put_activity)
        app.router.add_get("/v3/conversations/{cid}/members/{uid}", self.get_member)
        app.router.add_get("/v3/teams/{tid}/conversations", self.team_channels)
        return app

    async def start(self) -> None:
        self.server = TestServer(self.app(), host="127.0.0.1")
        await self.server.start_server()

    async def close(self) -> None:
        self._closing.set()  # hung calls end now rather than hold up the shutdown
        if self.server is not None:
            await self.server.close()

    def _fault(self, request: web.Request) -> Fault | None:
        self.attempts += 1
        conversation = request.match_info.get("cid", "")
        due = next((f for f in self.failures if conversation.startswith(f.conversation)), None)
        if due is not None:
            self.failures.remove(due)
        return due

    async def _fail(self, request: web.Request, fault: Fault) -> web.Response:
        if fault.mode == "drop":
            assert request.transport is not None
            request.transport.abort()
            return web.Response(status=503)  # never reaches the client: the connection is gone
        if fault.mode == "hang":
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), fault.seconds)
        return web.json_response(
            {"error": {"code": "ServiceError", "message": "told to fail"}}, status=fault.status, headers=fault.headers
        )

    async def _record(self, request: web.Request) -> Call:
        body = await request.json() if request.can_read_body else {}
        call = Call(request.method, request.path, request.match_info.get("cid"), request.match_info.get("aid"), body)
        self.calls.append(call)
        return call

    async def post_activity(self, request: web.Request) -> web.Response:
        call = await self._record(request)
        fault = self._fault(request)
        if fault:
            self.calls.remove(call)
            return await self._fail(request, fault)
        call.posted_id = f"act-{next(self._ids)}"
        return web.json_response({"id": call.posted_id}, status=201)

    async def put_activity(self, request: web.Request) -> web.Response:
        call = await self._record(request)
        fault = self._fault(request)
        if fault:
            self.calls.remove(call)
            return await self._fail(request, fault)
        return web.json_response({"id": call.activity_id})

    async def create_conversation(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.calls.append(Call("POST", request.path, None, None, body))
        member = body["members"][0]["id"]
        return web.json_response({"id": f"a:created-{member.split(':', 1)[-1]}", "activityId": None}, status=201)

    async def team_channels(self, request: web.Request) -> web.Response:
        self.calls.append(Call("GET", request.path, None, None, {}))
        if request.match_info["tid"] != TEAM:
            return web.json_response({"error": {"code": "NotFound", "message": "no such team"}}, status=404)
        channels = [
            {"id": TEAM, "name": None},
            {"id": INTAKE_CHANNEL, "name": "Intake"},
            {"id": REVIEW_CHANNEL, "name": "Review"},
        ]
        return web.json_response({"conversations": channels})

    async def get_member(self, request: web.Request) -> web.Response:
        member = self.roster.get(request.match_info["uid"])
        if member is None:
            return web.json_response({"error": {"code": "NotFound", "message": "member not found"}}, status=404)
        return web.json_response(member)

    # --- queries -----------------------------------------------------------------------------

    def posts(self, conversation_prefix: str | None = None) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.method == "POST"
            and c.conversation_id
            and (conversation_prefix is None or c.conversation_id.startswith(conversation_prefix))
        ]

    def updates(self) -> list[Call]:
        return [c for c in self.calls if c.method == "PUT"]

    async def wait_for(self, predicate: Callable[[], Any], within: float = 5.0) -> Any:
        """Wait until `predicate()` is truthy (deliveries happen in the background) and return its value."""
        deadline = asyncio.get_running_loop().time() + within
        while True:
            value = predicate()
            if value:
                return value
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out; connector saw: {[(c.method, c.path) for c in self.calls]}")
            await asyncio.sleep(0.02)


def load_payload(name: str, service_url: str, **fields: Any) -> dict[str, Any]:
    """A payload file under tests/payloads/teams, with its serviceUrl and the given top-level fields set."""
    data: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text(encoding="utf-8"))
    data = copy.deepcopy(data)
    data["serviceUrl"] = service_url
    data.update(fields)
    return data


def with_locale(payload: dict[str, Any], locale: str | None) -> dict[str, Any]:
    """The payload as a client set to `locale` sends it (in the activity and its clientInfo entity)."""
    if locale:
        payload["locale"] = locale
        for entity in payload.get("entities") or []:
            if entity.get("type") == "clientInfo":
                entity["locale"] = locale
    return payload


class Harness:
    """The real app (create_app) on a test server, talking to a fake connector."""

    def __init__(self, client: TestClient, connector: FakeConnector, app: web.Application) -> None:
        self.client = client
        self.connector = connector
        self.app = app
        self._ids = itertools.count(1)
        self.locales: dict[str, str] = {}  # user id → the language their Teams client reports

    @property
    def service(self) -> Any:
        from adapters.web.app import RUNTIME

        return self.app[RUNTIME].service

    async def settle(self, within: float = 5.0) -> None:
        """Wait until the app's own dispatcher has delivered every notice that is due: none is being sent
        and none waits. A test then asserts on everything that arrived, and on anything that did not,
        without guessing how long to wait."""
        import sqlalchemy as sa

        from adapters.web.keys import DISPATCHER, RUNTIME
        from store.models import OutboxEntry

        o = OutboxEntry.__table__
        store = self.app[RUNTIME].store
        deadline = asyncio.get_running_loop().time() + within
        quiet = 0
        while quiet < 2:  # twice in a row: a delivery that just finished may have queued nothing more
            self.app[DISPATCHER].wake()
            now = datetime.now(UTC)
            busy = sa.select(sa.func.count()).where(
                (o.c.status == "sending") | ((o.c.status == "pending") & (o.c.available_at <= now))
            )
            async with store.session() as s:
                left = int((await s.exec(busy)).one()[0])  # type: ignore[call-overload]
            quiet = quiet + 1 if left == 0 else 0
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{left} notices were still due after {within} s")
            await asyncio.sleep(0.03)

    async def tick(self) -> int:
        """Run the scheduled steps that are due by the service's clock, and deliver what they queued."""
        from adapters.web.keys import TIMEKEEPER

        n = int(await self.app[TIMEKEEPER].run_due())
        await self.settle()
        return n

    def next_id(self) -> str:
        return f"17000000{next(self._ids):05d}"

    async def send(self, payload: dict[str, Any], **headers: str) -> Any:
        user = (payload.get("from") or {}).get("id")
        with_locale(payload, self.locales.get(str(user)))
        resp = await self.client.post("/api/messages", json=payload, headers=headers)
        return resp

    async def post(self, name: str, **fields: Any) -> Any:
        payload = load_payload(name, self.connector.url, **fields)
        payload.setdefault("id", self.next_id())
        return await self.send(payload)

    # Teams-shaped activities ------------------------------------------------------------------

    async def say_in_channel(self, user: dict[str, Any], text: str, channel: str = INTAKE_CHANNEL) -> Any:
        msg_id = self.next_id()
        payload = load_payload(
            "message_channel_mention",
            self.connector.url,
            id=msg_id,
            text=f"<at>intake-bot</at> {text}",
            conversation={
                "isGroup": True,
                "conversationType": "channel",
                "tenantId": TENANT,
                "id": f"{channel};messageid={msg_id}",
            },
        )
        payload["from"] = user
        payload["channelData"]["channel"] = {"id": channel}
        payload["channelData"]["teamsChannelId"] = channel
        return await self.send(payload)

    async def say_personal(self, user: dict[str, Any], text: str) -> Any:
        payload = load_payload("message_personal", self.connector.url, id=self.next_id(), text=text)
        payload["from"] = user
        payload["conversation"]["id"] = personal_conversation(user)
        return await self.send(payload)

    async def install_personal(self, user: dict[str, Any]) -> Any:
        payload = load_payload("installation_update_personal", self.connector.url, id=self.next_id())
        payload["from"] = user
        payload["conversation"]["id"] = personal_conversation(user)
        return await self.send(payload)

    async def add_to_team(self) -> Any:
        """The bot is added to the team: Teams tells it about the team's General channel only."""
        payload = load_payload("conversation_update_team", self.connector.url, id=self.next_id())
        payload["conversation"]["id"] = TEAM
        return await self.send(payload)

    async def add_to_channel(self, channel: str = REVIEW_CHANNEL) -> Any:
        payload = load_payload("conversation_update_team", self.connector.url, id=self.next_id())
        payload["conversation"]["id"] = channel
        return await self.send(payload)

    async def click(
        self, user: dict[str, Any], card_call: Call, data: dict[str, Any], *, conversation: str | None = None
    ) -> Any:
        """Action.Execute on a posted card: an adaptiveCard/action invoke."""
        conv = conversation or f"{card_call.conversation_id};messageid={card_call_id(card_call)}"
        payload = load_payload(
            "invoke_adaptive_card_action",
            self.connector.url,
            id=f"f:{self.next_id()}",
            replyToId=card_call_id(card_call),
        )
        payload["from"] = user
        payload["conversation"]["id"] = conv
        payload["conversation"]["conversationType"] = "personal" if conv.startswith("a:") else "channel"
        payload["value"]["action"]["verb"] = data["intake"]
        payload["value"]["action"]["data"] = data
        return await self.send(payload)

    async def submit(self, user: dict[str, Any], card_call: Call, data: dict[str, Any]) -> Any:
        """Action.Submit on a posted card: a message whose value holds the data."""
        conv = (
            f"{card_call.conversation_id};messageid={card_call_id(card_call)}"
            if card_call.conversation_id and card_call.conversation_id.startswith("19:")
            else card_call.conversation_id
        )
        payload = load_payload(
            "message_action_submit",
            self.connector.url,
            id=self.next_id(),
            replyToId=card_call_id(card_call),
            value=data,
        )
        payload["from"] = user
        payload["conversation"]["id"] = conv
        payload["conversation"]["conversationType"] = "personal" if str(conv).startswith("a:") else "channel"
        return await self.send(payload)


def card_call_id(call: Call) -> str:
    """The activity id of a posted card (or of the card a PUT updated)."""
    return call.posted_id or call.activity_id or ""


@contextlib.asynccontextmanager
async def running(
    db_url: str, *, project_yaml: str | None = None, checker: Any = None, clock: Any = None, **settings: Any
) -> AsyncIterator[Harness]:
    """Start the fake connector and the real app (emulator mode unless settings say otherwise). With
    `checker`, requests are judged by it (e.g. a `ModelJudge`, asked by the app's own model dispatcher);
    with `clock`, the service keeps that time (the test moves it and runs `Harness.tick`)."""
    from adapters.runtime import open_runtime
    from adapters.settings import Settings
    from adapters.teams.state import TEAMS
    from adapters.web.app import DISPATCHER, create_app
    from bot.outbox import RetryPolicy
    from bot.projectfile import load_project_text
    from tests.conftest import PROJECT_YAML

    connector = FakeConnector()
    await connector.start()
    rt = await open_runtime(db_url, checker=checker, clock=clock)
    await rt.service.load_project(load_project_text(project_yaml or PROJECT_YAML + TEAMS_PROJECT_YAML, "acme.yaml"))
    values: dict[str, Any] = {
        "database_url": db_url,
        "env": "test",
        "teams_emulator": True,
        "secret_key": "a-long-random-test-secret-for-signing-links",
    }
    values.update(settings)
    app = create_app(Settings(**values), runtime=rt, migrate=False, poll_interval=0.05)
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        from adapters.web.app import SETTINGS

        app[SETTINGS].public_url = str(client.make_url("")).rstrip("/")
        if DISPATCHER in app:
            app[DISPATCHER].policy = RetryPolicy(base=0.05, cap=0.5)
        app[TEAMS].waiting_retry = 0.2
        yield Harness(client, connector, app)
    finally:
        await client.close()
        await rt.close()
        await connector.close()
