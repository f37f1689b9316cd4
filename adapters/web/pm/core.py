"""What every page of the web app shares: who is signed in (a session kept in the database by the hash of
its cookie), the form token that every POST must carry, the page's language, and rendering.

Cookies are HttpOnly and SameSite=Lax, and Secure when the request came over HTTPS (directly, or through
a proxy that says so with `X-Forwarded-Proto`). A session idle for longer than INTAKE_WEB_IDLE_MINUTES is
gone: the next page asks to sign in again.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import jinja2
from aiohttp import web
from multidict import MultiDictProxy

from adapters.runtime import Runtime
from adapters.web.keys import RUNTIME, SETTINGS
from bot.domain import Actor, Language, Project
from bot.ports import WebSessionRecord
from bot.text import When, t

SESSION_COOKIE = "intake_session"
ANON_CSRF_COOKIE = "intake_csrf"  # the form token of pages shown before signing in (double submit)
PREFIX = "/app"
TEMPLATES = web.AppKey("web_templates", jinja2.Environment)
VISITOR: web.RequestKey[Visitor | None] = web.RequestKey("intake_visitor")
ANON_CSRF: web.RequestKey[str] = web.RequestKey("intake_anon_csrf")


def digest(token: str) -> str:
    """What the database keeps of a cookie or a link: never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("adapters.web.pm", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["q"] = lambda s: quote(str(s), safe="")
    return env


def runtime(request: web.Request) -> Runtime:
    return request.app[RUNTIME]


def is_https(request: web.Request) -> bool:
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return request.scheme == "https" or forwarded == "https"


def set_cookie(response: web.StreamResponse, request: web.Request, name: str, value: str, **kw: Any) -> None:
    response.set_cookie(name, value, path=PREFIX, httponly=True, samesite="Lax", secure=is_https(request), **kw)


def idle(request: web.Request) -> timedelta:
    return timedelta(minutes=request.app[SETTINGS].web_idle_minutes)


@dataclass(frozen=True)
class Visitor:
    """A signed-in browser."""

    token_hash: str
    session: WebSessionRecord

    @property
    def actor(self) -> Actor:
        return self.session.actor

    @property
    def csrf(self) -> str:
        return self.session.csrf


async def visitor(request: web.Request) -> Visitor | None:
    if VISITOR in request:
        return request[VISITOR]
    token = request.cookies.get(SESSION_COOKIE, "")
    found: Visitor | None = None
    if token:
        rt = runtime(request)
        h = digest(token)
        record = await rt.store.web_session(h, now=rt.service.clock.now(), idle=idle(request))
        found = Visitor(h, record) if record is not None else None
    request[VISITOR] = found
    return found


async def require(request: web.Request) -> Visitor:
    """The signed-in visitor, or a redirect to the sign-in page that comes back here."""
    v = await visitor(request)
    if v is None:
        raise web.HTTPSeeOther(f"{PREFIX}/signin?next={quote(request.path_qs, safe='')}")
    return v


async def start_session(request: web.Request, actor: Actor, response: web.StreamResponse) -> None:
    rt = runtime(request)
    token = new_token()
    await rt.store.add_web_session(digest(token), actor, new_token(), at=rt.service.clock.now())
    set_cookie(response, request, SESSION_COOKIE, token, max_age=30 * 24 * 3600)


def safe_next(value: str | None) -> str:
    """Only a path inside the app: a sign-in must not send anyone to another site."""
    if value and value.startswith(PREFIX + "/") and not value.startswith("//") and "\\" not in value:
        return value
    return f"{PREFIX}/requests"


async def checked_form(request: web.Request, v: Visitor | None) -> MultiDictProxy[str | Any]:
    """The POSTed form, once its token matches the session's (or, before signing in, the cookie's).
    A missing or wrong token is refused with 403."""
    data = await request.post()
    sent = str(data.get("csrf") or request.headers.get("X-CSRF-Token") or "")
    expected = v.csrf if v is not None else request.cookies.get(ANON_CSRF_COOKIE, "")
    if not sent or not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        lang = await page_language(request, v)
        raise web.HTTPForbidden(text=t(lang, "web.err.csrf"), content_type="text/plain")
    return data


async def page_language(request: web.Request, v: Visitor | None, project: Project | None = None) -> Language:
    """The language a person chose on the page, else the project's team language, else the house's."""
    if v is not None and v.session.language in ("en", "zh"):
        return Language(v.session.language)
    if project is not None:
        return project.chat_language
    if v is None:  # before signing in: the language asked for on the page, else the browser's
        asked = request.query.get("lang", "")
        if asked in ("en", "zh"):
            return Language(asked)
        preferred = browser_language(request.headers.get("Accept-Language", ""))
        if preferred is not None:
            return preferred
    return await runtime(request).service.house_language()


def browser_language(header: str) -> Language | None:
    """The first of English or Chinese in an Accept-Language header ("zh-CN,zh;q=0.9,en;q=0.8" → zh)."""
    weighted = []
    for i, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                continue
        primary = tag.strip().lower().split("-")[0]
        if primary in ("en", "zh") and q > 0:
            weighted.append((-q, i, primary))
    return Language(min(weighted)[2]) if weighted else None


def render(
    request: web.Request,
    name: str,
    lang: Language,
    v: Visitor | None,
    *,
    status: int = 200,
    **ctx: Any,
) -> web.Response:
    def tr(key: str, **args: Any) -> str:
        return t(lang, key, **args)

    def when(at: Any, tz: str = "UTC") -> str:
        return When(at, tz).render(lang.value)

    ctx.setdefault("nav", "")
    html = (
        request.app[TEMPLATES]
        .get_template(name)
        .render(
            _=tr,
            when=when,
            lang=lang.value,
            me=v.actor if v else None,
            csrf=v.csrf if v else request.get(ANON_CSRF, ""),
            path=request.path_qs,
            prefix=PREFIX,
            app_name="intake-bot",  # the product's name, the same in every language
            **ctx,
        )
    )
    response = web.Response(text=html, content_type="text/html", status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def anon_csrf(request: web.Request, response: web.StreamResponse | None = None) -> str:
    """The form token of a page shown before signing in: the cookie's, or a new one set on `response`."""
    token = request.cookies.get(ANON_CSRF_COOKIE) or request.get(ANON_CSRF) or new_token()
    request[ANON_CSRF] = token
    if response is not None and request.cookies.get(ANON_CSRF_COOKIE) != token:
        set_cookie(response, request, ANON_CSRF_COOKIE, token)
    return token
