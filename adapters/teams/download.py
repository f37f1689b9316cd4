"""Download the drafted letter as an .eml file, behind a signed, expiring link.

The link carries the request ref and an expiry, signed with HMAC-SHA256 under `INTAKE_SECRET_KEY`;
whoever holds a valid link can download that one letter until it expires, so links go only to the
PM's private chat. `build_eml` is the one place that turns a letter into a message: the email
adapter can replace it with its own builder.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from aiohttp import web

from adapters.web.app import RUNTIME, SETTINGS
from bot.domain import Letter, Project
from bot.errors import NotFound

TOKEN_TTL_SECONDS = 3 * 24 * 3600
ROUTE = "/teams/letters/{token}"


class BadToken(Exception):
    """The link is malformed, forged or expired; the message says which, for the person holding it."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_token(secret: str, ref: str, *, now: datetime, ttl: int = TOKEN_TTL_SECONDS) -> str:
    payload = _b64(
        json.dumps({"p": "eml", "ref": ref, "exp": int(now.timestamp()) + ttl}, separators=(",", ":")).encode()
    )
    mac = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()
    return f"{payload}.{_b64(mac)}"


def verify_token(secret: str, token: str, *, now: datetime) -> str:
    """Return the ref the token grants, or raise `BadToken`."""
    payload, _, mac = token.partition(".")
    if not payload or not mac:
        raise BadToken("This download link is malformed.")
    expected = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()
    try:
        given = _unb64(mac)
        data = json.loads(_unb64(payload))
    except (ValueError, UnicodeDecodeError):
        raise BadToken("This download link is malformed.") from None
    if not hmac.compare_digest(expected, given):
        raise BadToken("This download link is not valid.")
    if not isinstance(data, dict) or data.get("p") != "eml" or not isinstance(data.get("ref"), str):
        raise BadToken("This download link is not valid.")
    if int(data.get("exp", 0)) < now.timestamp():
        raise BadToken("This download link has expired. Open the letter in Teams again for a fresh one.")
    return str(data["ref"])


def download_url(public_url: str, secret: str, ref: str, *, now: datetime) -> str:
    return public_url.rstrip("/") + ROUTE.format(token=sign_token(secret, ref, now=now))


def _one_line(value: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError("a header value holds a line break")
    return value


def build_eml(project: Project, letter: Letter, *, sender: str | None, now: datetime) -> bytes:
    """Build the letter as an unsent RFC 5322 message (mail clients open it as a draft to send)."""
    msg = EmailMessage()
    msg["Subject"] = _one_line(letter.subject)
    msg["To"] = Address(display_name=_one_line(project.client.contact), addr_spec=project.client.email)
    if project.cc:
        msg["Cc"] = ", ".join(_one_line(a) for a in project.cc)
    if sender:
        name, addr = parseaddr(_one_line(sender))
        msg["From"] = Address(display_name=name, addr_spec=addr) if name else addr
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = make_msgid(domain=(sender or project.client.email).rpartition("@")[2] or None)
    msg["X-Unsent"] = "1"
    msg.set_content(letter.body_text)
    if letter.body_html:
        msg.add_alternative(letter.body_html, subtype="html")
    return msg.as_bytes()


async def serve_letter(request: web.Request) -> web.Response:
    """GET /teams/letters/{token}: the letter as an .eml attachment, or 403/404 with a reason."""
    settings = request.app[SETTINGS]
    runtime = request.app[RUNTIME]
    if not settings.secret_key:
        raise web.HTTPNotFound(text="Letter downloads are not set up on this server.")
    now = runtime.service.clock.now()
    try:
        ref = verify_token(settings.secret_key, request.match_info["token"], now=now)
    except BadToken as exc:
        raise web.HTTPForbidden(text=str(exc)) from None
    try:
        rec = await runtime.service.get_request(ref)
        project = await runtime.service.project(rec.project)
    except NotFound:
        raise web.HTTPNotFound(text="That letter no longer exists.") from None
    if rec.letter is None:
        raise web.HTTPNotFound(text=f"{ref} has no letter.")
    body = build_eml(project, rec.letter, sender=settings.mail_from, now=now)
    return web.Response(
        body=body,
        content_type="message/rfc822",
        headers={"Content-Disposition": f'attachment; filename="{rec.ref}.eml"', "Cache-Control": "no-store"},
    )
