"""A local fake of the Slack Web API, speaking its wire format on a free loopback port.

It records every call (method and arguments), answers like Slack does, serves `response_url` posts and
file uploads, and can be told to fail, rate-limit, hang on or drop the connection of a method. Point the
bot at it with `SLACK_API_URL=fake.api_url`.

A call that failed in any of these ways had no effect (Slack posted nothing): `Call.ok` is False for it,
and `delivered(method)` lists only the calls that took effect, to count what people would really see.
`late(method, seconds)` is the other kind of slowness: the call takes effect at once (the message is
posted) and the answer comes `seconds` later, after the caller may have given up.

Posted messages are kept per channel with their `metadata` (event type and payload), and
`conversations.history` and `conversations.replies` answer from them as Slack does: newest first (replies:
the parent first, then oldest first), `oldest`/`latest` bounds, `limit` with a cursor, and the metadata
only with `include_all_metadata`. A message posted into a thread is in its thread's replies, not in the
channel's history.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

BOT_USER = "U0BOT"


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    token: str | None = None
    ok: bool = True  # False when the fake failed the call: it had no effect
    at: float = field(default_factory=time.time)  # wall clock when it arrived (benchmarks time servers by it)
    answered: float | None = None  # wall clock when a failed call's answer went back (None: not yet, or ok)


@dataclass
class Failure:
    status: int
    error: str
    retry_after: int | None
    times: int
    # "answer": reply with status/error; "hang": say nothing for `seconds`; "drop": cut the line;
    # "late": take effect at once and answer ok only after `seconds`
    mode: str = "answer"
    seconds: float = 0.0


class FakeError(Exception):
    """A method's error answer (HTTP 200, `ok: false`), e.g. `users_not_found`."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


@dataclass
class Message:
    ts: str
    channel: str
    text: str
    thread_ts: str | None = None
    metadata: dict[str, Any] | None = None
    blocks: Any = None


@dataclass
class FakeSlack:
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    missing: set[str] = field(default_factory=set)  # user ids users.info does not know (user_not_found)
    calls: list[Call] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)  # posts to response_url
    responded_at: list[float] = field(default_factory=list)  # wall clock when each of `responses` arrived
    uploads: dict[str, bytes] = field(default_factory=dict)
    failures: dict[str, list[Failure]] = field(default_factory=dict)
    base: str = ""
    delay: float = 0.0  # seconds every Web API call takes (a slow Slack)
    _ts: itertools.count = field(default_factory=lambda: itertools.count(1))
    assigned: list[str] = field(default_factory=list)  # every ts given out, in order
    socket_acks: list[dict[str, Any]] = field(default_factory=list)  # Socket Mode envelopes acknowledged
    messages: dict[str, list[Message]] = field(default_factory=dict)  # posted messages per channel, oldest first
    # method -> (n, seconds): every n-th call of the method takes effect at once and is answered late
    late_every: dict[str, tuple[int, float]] = field(default_factory=dict)
    _counts: dict[str, int] = field(default_factory=dict)
    _ws: web.WebSocketResponse | None = None
    _runner: web.AppRunner | None = None
    _closing: asyncio.Event = field(default_factory=asyncio.Event)

    # --- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{key}", self._response_url)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"http://127.0.0.1:{port}"
        return self

    async def close(self) -> None:
        self._closing.set()  # hung calls end now rather than hold up the shutdown
        if self._runner:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"{self.base}/api/"

    def response_url(self, key: str = "cmd") -> str:
        return f"{self.base}/response/{key}"

    # --- test controls --------------------------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        *,
        name: str,
        email: str | None = None,
        locale: str | None = None,
        team_id: str = "T0ACME",
        **flags: Any,
    ) -> None:
        """A user the fake knows; `flags` such as `deleted=True` or `is_bot=True` go on the user object."""
        profile: dict[str, Any] = {"real_name": name, "display_name": name}
        if email:
            profile["email"] = email
        self.users[user_id] = {
            "id": user_id,
            "name": name.lower().replace(" ", "."),
            "real_name": name,
            "profile": profile,
            "team_id": team_id,
            **flags,
        }
        if locale:
            self.users[user_id]["locale"] = locale

    def fail(self, method: str, *, status: int = 200, error: str = "internal_error", times: int = 1) -> None:
        """Make the next `times` calls of `method` fail (HTTP `status`, Slack `error`)."""
        self.failures.setdefault(method, []).append(Failure(status, error, None, times))

    def rate_limit(self, method: str, *, retry_after: int = 1, times: int = 1) -> None:
        self.failures.setdefault(method, []).append(Failure(429, "ratelimited", retry_after, times))

    def hang(self, method: str, *, seconds: float = 30.0, times: int = 1) -> None:
        """Make the next `times` calls of `method` get no answer for `seconds` (then a 503), with no effect."""
        self.failures.setdefault(method, []).append(Failure(503, "request_timeout", None, times, "hang", seconds))

    def late(self, method: str, *, seconds: float, times: int = 1) -> None:
        """Make the next `times` calls of `method` take effect at once but answer only after `seconds`."""
        self.failures.setdefault(method, []).append(Failure(200, "", None, times, "late", seconds))

    def drop(self, method: str, *, times: int = 1) -> None:
        """Make the next `times` calls of `method` lose their connection before any answer, with no effect."""
        self.failures.setdefault(method, []).append(Failure(0, "", None, times, "drop"))

    def delivered(self, method: str) -> list[dict[str, Any]]:
        """The calls of `method` that took effect (were answered ok)."""
        return [c.args for c in self.calls if c.method == method and c.ok]

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        return [c.args for c in self.calls if c.method == method]

    def refused(self, method: str) -> list[Call]:
        """The calls of `method` the fake failed on purpose, with when each one's answer went back."""
        return [c for c in self.calls if c.method == method and c.answered is not None]

    def arrived_between(self, method: str, start: float, end: float) -> list[Call]:
        return [c for c in self.calls if c.method == method and start < c.at < end]

    def methods(self) -> list[str]:
        return [c.method for c in self.calls]

    def clear(self) -> None:
        self.calls.clear()
        self.responses.clear()
        self.responded_at.clear()
        self.messages.clear()

    # --- handlers -------------------------------------------------------------------------------

    async def _args(self, request: web.Request) -> dict[str, Any]:
        raw = await request.read()
        args: dict[str, Any] = dict(request.query)  # the SDK sends some methods' arguments as query parameters
        if request.content_type == "application/json":
            args.update(json.loads(raw or b"{}"))
        elif raw:
            args.update(parse_qsl(raw.decode()))
        for k in ("blocks", "view", "files"):
            if isinstance(args.get(k), str):
                try:
                    args[k] = json.loads(args[k])
                except ValueError:
                    pass
        return args

    async def _api(self, request: web.Request) -> web.Response:
        arrived = time.time()
        method = request.match_info["method"]
        args = await self._args(request)
        if self.delay:
            await asyncio.sleep(self.delay)
        auth = request.headers.get("Authorization", "")
        self.calls.append(Call(method, args, auth.removeprefix("Bearer ") or None, at=arrived))
        every = self.late_every.get(method)
        if every is not None:
            self._counts[method] = self._counts.get(method, 0) + 1
            if self._counts[method] % every[0] == 0:
                return await self._late(method, args, auth, every[1])
        queued = self.failures.get(method)
        if queued:
            f = queued[0]
            f.times -= 1
            if f.times <= 0:
                queued.pop(0)
            if f.mode == "late":
                return await self._late(method, args, auth, f.seconds)
            self.calls[-1].ok = False
            if f.mode == "drop":
                assert request.transport is not None
                request.transport.abort()
                return web.Response(status=503)  # never reaches the client: the connection is gone
            if f.mode == "hang":
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), f.seconds)
            headers = {"Retry-After": str(f.retry_after)} if f.retry_after is not None else {}
            self.calls[-1].answered = time.time()
            return web.json_response({"ok": False, "error": f.error}, status=f.status, headers=headers)
        if not (
            auth.startswith("Bearer xox") or (method == "apps.connections.open" and auth.startswith("Bearer xapp-"))
        ):
            self.calls[-1].ok = False
            return web.json_response({"ok": False, "error": "not_authed"})
        answer = getattr(self, "_m_" + method.replace(".", "_"), None)
        if answer is None:
            self.calls[-1].ok = False
            return web.json_response({"ok": False, "error": "unknown_method"}, status=404)
        try:
            return web.json_response({"ok": True, **answer(args)})
        except FakeError as exc:  # what Slack answers when the call is fine but names nothing it knows
            self.calls[-1].ok = False
            return web.json_response({"ok": False, "error": exc.error})

    async def _late(self, method: str, args: dict[str, Any], auth: str, seconds: float) -> web.Response:
        """Do the call now (it counts as delivered) and answer after `seconds`, unless closing."""
        answer = getattr(self, "_m_" + method.replace(".", "_"))
        result = {"ok": True, **answer(args)}
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)
        return web.json_response(result)

    async def _response_url(self, request: web.Request) -> web.Response:
        arrived = time.time()
        body = await request.json()
        self.responses.append({"key": request.match_info["key"], **body})
        self.responded_at.append(arrived)
        return web.Response(text="ok")

    async def _upload(self, request: web.Request) -> web.Response:
        self.uploads[request.match_info["file_id"]] = await request.read()
        return web.Response(text="OK - 0")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._ws = ws
        await ws.send_json({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0INTAKE"}})
        async for msg in ws:
            if msg.type == web.WSMsgType.TEXT:
                self.socket_acks.append(json.loads(msg.data))
        return ws

    async def send_envelope(self, envelope: dict[str, Any]) -> None:
        """Push a Socket Mode envelope to the connected app, as Slack does."""
        assert self._ws is not None, "no Socket Mode connection"
        await self._ws.send_json(envelope)

    @property
    def socket_connected(self) -> bool:
        return self._ws is not None and not self._ws.closed

    def ts(self, n: int) -> str:
        """The ts of the `n`-th message this fake posted (1, 2, …); for one not posted (yet), a ts of the
        same form."""
        return self.assigned[n - 1] if n <= len(self.assigned) else f"{int(time.time())}.{n:06d}"

    def _next_ts(self) -> str:
        """Slack's form: the seconds since the epoch when it was posted, and a counter (unique, increasing)."""
        ts = f"{int(time.time())}.{next(self._ts):06d}"
        self.assigned.append(ts)
        return ts

    # --- method answers -------------------------------------------------------------------------

    def _m_apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"url": self.base.replace("http://", "ws://") + "/socket"}

    def _m_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": "https://acme.example.slack.com/",
            "team": "Acme",
            "user": "intake",
            "team_id": "T0ACME",
            "user_id": BOT_USER,
            "bot_id": "B0BOT",
        }

    def _m_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        ts = self._next_ts()
        channel = str(args.get("channel"))
        metadata = args.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        thread = str(args["thread_ts"]) if args.get("thread_ts") else None
        message = Message(ts, channel, str(args.get("text") or ""), thread, metadata, args.get("blocks"))
        self.messages.setdefault(channel, []).append(message)
        return {"channel": channel, "ts": ts, "message": {"text": args.get("text"), "ts": ts}}

    def _listing(self, found: list[Message], args: dict[str, Any]) -> dict[str, Any]:
        """One page of messages, as Slack pages them: `limit` per page, a cursor to the next."""
        limit = max(1, min(int(args.get("limit") or 100), 1000))
        start = int(str(args.get("cursor") or "0").removeprefix("next_") or 0)
        page = found[start : start + limit]
        with_metadata = str(args.get("include_all_metadata")).lower() in ("true", "1")
        out = []
        for m in page:
            shown: dict[str, Any] = {"type": "message", "ts": m.ts, "text": m.text, "bot_id": "B0BOT"}
            if m.thread_ts:
                shown["thread_ts"] = m.thread_ts
            if with_metadata and m.metadata:
                shown["metadata"] = m.metadata
            out.append(shown)
        more = start + limit < len(found)
        return {
            "messages": out,
            "has_more": more,
            "response_metadata": {"next_cursor": f"next_{start + limit}" if more else ""},
        }

    @staticmethod
    def _within(m: Message, args: dict[str, Any]) -> bool:
        oldest, latest = args.get("oldest"), args.get("latest")
        return (oldest is None or float(m.ts) >= float(oldest)) and (latest is None or float(m.ts) <= float(latest))

    def _m_conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel"))
        found = [
            m
            for m in reversed(self.messages.get(channel, []))
            if (m.thread_ts is None or m.thread_ts == m.ts) and self._within(m, args)
        ]
        return self._listing(found, args)

    def _m_conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, thread = str(args.get("channel")), str(args.get("ts"))
        found = [m for m in self.messages.get(channel, []) if (m.ts == thread or m.thread_ts == thread)]
        found = [m for m in found if m.ts == thread or self._within(m, args)]
        return self._listing(found, args)

    def posted_in(self, channel: str) -> list[Message]:
        """The messages that really are in `channel` (thread replies included), oldest first."""
        return list(self.messages.get(channel, []))

    def _m_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"message_ts": self._next_ts()}

    def _m_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"channel": args.get("channel"), "ts": args.get("ts"), "text": args.get("text")}

    def _m_chat_getPermalink(self, args: dict[str, Any]) -> dict[str, Any]:
        ts = str(args.get("message_ts", "")).replace(".", "")
        return {
            "channel": args.get("channel"),
            "permalink": f"https://acme.example.slack.com/archives/{args.get('channel')}/p{ts}",
        }

    def _view(self, args: dict[str, Any]) -> dict[str, Any]:
        view = args.get("view") or {}
        if isinstance(view, str):
            view = json.loads(view)
        return {"view": {**view, "id": f"V{len(self.calls):04d}", "hash": "h1"}}

    def _m_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._view(args)

    def _m_views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._view(args)

    def _m_views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._view(args)

    def _m_conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = str(args.get("users", ""))
        return {"channel": {"id": "D" + users.lstrip("UW")}}

    def _m_users_lookupByEmail(self, args: dict[str, Any]) -> dict[str, Any]:
        email = str(args.get("email", "")).lower()
        for user in self.users.values():
            if str((user.get("profile") or {}).get("email", "")).lower() == email:
                return {"user": user}
        raise FakeError("users_not_found")

    def _m_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        uid = str(args.get("user"))
        if uid in self.missing:
            raise FakeError("user_not_found")
        user = dict(self.users.get(uid, {"id": uid, "name": uid.lower(), "profile": {"real_name": uid}}))
        if str(args.get("include_locale")).lower() not in ("true", "1"):
            user.pop("locale", None)  # Slack tells a user's locale only when asked
        return {"user": user}

    def _m_files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        file_id = f"F{len(self.uploads) + len(self.calls):05d}"
        return {"upload_url": f"{self.base}/upload/{file_id}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        files = args.get("files") or []
        if isinstance(files, str):
            files = json.loads(files)
        return {"files": [{"id": f["id"], "title": f.get("title", "")} for f in files]}
