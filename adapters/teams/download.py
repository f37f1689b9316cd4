"""Download the drafted letter as an .eml file, behind a signed, expiring link.

The link carries the request ref, the PM it was made for and an expiry, signed with HMAC-SHA256
under `INTAKE_SECRET_KEY`; whoever holds a valid link can download that one letter until it expires,
so links go only to the PM's private chat. The file is built by the e-mail adapter
(`adapters.email.actions.letter_eml`), as that PM: the same message the SMTP path sends, and a PM
who is no longer one of the project's PMs gets nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from datetime import datetime

from aiohttp import web

from adapters.email.actions import letter_eml
from adapters.email.config import eml_sender
from adapters.settings import ConfigError
from adapters.web.keys import RUNTIME, SETTINGS
from bot.domain import Actor
from bot.errors import IllegalMove, InvalidInput, NotFound, PermissionDenied

log = logging.getLogger("intake.teams")

TOKEN_TTL_SECONDS = 3 * 24 * 3600
ROUTE = "/teams/letters/{token}"


class BadToken(Exception):
    """The link is malformed, forged or expired; the message says which, for the person holding it."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_token(secret: str, ref: str, *, pm: Actor, now: datetime, ttl: int = TOKEN_TTL_SECONDS) -> str:
    claims = {"p": "eml", "ref": ref, "by": pm.to_dict(), "exp": int(now.timestamp()) + ttl}
    payload = _b64(json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode())
    mac = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()
    return f"{payload}.{_b64(mac)}"


def verify_token(secret: str, token: str, *, now: datetime) -> tuple[str, Actor]:
    """Return the ref the token grants and the PM it was made for, or raise `BadToken`."""
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
    exp = data.get("exp")
    if not isinstance(exp, int) or exp < now.timestamp():
        raise BadToken("This download link has expired. Open the letter in Teams again for a fresh one.")
    by = data.get("by")
    if not isinstance(by, dict) or not by.get("platform") or not by.get("user_id"):
        raise BadToken("This download link is from an older version. Open the letter in Teams again for a fresh one.")
    return str(data["ref"]), Actor.from_dict(by)


def download_url(public_url: str, secret: str, ref: str, *, pm: Actor, now: datetime) -> str:
    return public_url.rstrip("/") + ROUTE.format(token=sign_token(secret, ref, pm=pm, now=now))


async def serve_letter(request: web.Request) -> web.Response:
    """GET /teams/letters/{token}: the letter as an .eml attachment, or 403/404/409 with a reason."""
    settings = request.app[SETTINGS]
    runtime = request.app[RUNTIME]
    if not settings.secret_key:
        raise web.HTTPNotFound(text="Letter downloads are not set up on this server.")
    now = runtime.service.clock.now()
    try:
        ref, pm = verify_token(settings.secret_key, request.match_info["token"], now=now)
    except BadToken as exc:
        raise web.HTTPForbidden(text=str(exc)) from None
    try:
        sender = eml_sender(settings)
    except ConfigError as exc:
        log.error("teams: cannot offer letters as .eml files: %s", exc)
        raise web.HTTPServiceUnavailable(text=str(exc)) from None
    try:
        name, body = await letter_eml(runtime.service, ref, actor=pm, sender=sender)
    except NotFound:
        raise web.HTTPNotFound(text="That letter no longer exists.") from None
    except PermissionDenied as exc:
        raise web.HTTPForbidden(text=str(exc)) from None
    except IllegalMove as exc:  # no letter (any more)
        raise web.HTTPNotFound(text=str(exc)) from None
    except InvalidInput as exc:  # e.g. a client contact in the project file that cannot go into a header
        raise web.HTTPConflict(text=str(exc)) from None
    return web.Response(
        body=body,
        content_type="message/rfc822",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )
