"""Signing in and out: a one-time link by e-mail, Slack or Entra ID (OpenID Connect); the language switch."""

from __future__ import annotations

import base64
import json
import logging
import secrets
from urllib.parse import quote, urlencode

import aiohttp
from aiohttp import web

from adapters.email.config import email_config
from adapters.identity import email_for
from adapters.web.keys import SETTINGS
from bot.domain import Actor, Language
from bot.errors import DeliveryError, InvalidInput
from bot.projectfile import is_email
from bot.text import t

from . import oidc
from .core import (
    PREFIX,
    anon_csrf,
    checked_form,
    page_language,
    render,
    runtime,
    safe_next,
    set_cookie,
    start_session,
    visitor,
)
from .links import LINK_LIFETIME, link_actor, new_signin_link, signin_mail

log = logging.getLogger("intake.web.signin")

OIDC_COOKIE = "intake_oidc"  # state, nonce and where to go back to, for the few minutes a sign-in takes
BRANDS = {"slack": "Slack", "entra": "Microsoft"}  # names, the same in every language
MAX_LINKS = 3  # sign-in links e-mailed to one address per LINK_LIFETIME
PROVIDERS: web.AppKey[dict[str, oidc.Provider]] = web.AppKey("web_oidc_providers")


def provider_names(request: web.Request) -> list[str]:
    found: dict[str, oidc.Provider] = request.app[PROVIDERS]
    return sorted(found)


def base_url(request: web.Request) -> str:
    """Where this app is reached from outside: INTAKE_PUBLIC_URL, else the address the request came to."""
    public = request.app[SETTINGS].public_url
    if public:
        return public.rstrip("/")
    scheme = "https" if request.headers.get("X-Forwarded-Proto", "").lower() == "https" else request.scheme
    return f"{scheme}://{request.host}"


async def signin_page(request: web.Request) -> web.Response:
    v = await visitor(request)
    nxt = safe_next(request.query.get("next"))
    if v is not None:
        raise web.HTTPSeeOther(nxt)
    lang = await page_language(request, None)
    anon_csrf(request)
    response = render(
        request,
        "signin.html",
        lang,
        None,
        next=nxt,
        providers=provider_names(request),
        email_on=email_config(request.app[SETTINGS]) is not None,
        notice=request.query.get("notice", ""),
    )
    anon_csrf(request, response)
    return response


async def send_link(request: web.Request) -> web.Response:
    """E-mail a sign-in link to an address on a project's team. The answer is the same whether or not it
    is, so the page does not tell who is on which team."""
    data = await checked_form(request, None)
    lang = await page_language(request, None)
    email = str(data.get("email") or "").strip().lower()
    nxt = safe_next(str(data.get("next") or ""))
    if not is_email(email) or len(email) > 320:
        response = render(
            request,
            "signin.html",
            lang,
            None,
            status=400,
            next=nxt,
            providers=provider_names(request),
            email_on=True,
            notice="bad_email",
        )
        return response
    config = email_config(request.app[SETTINGS])
    if config is None:
        raise web.HTTPBadRequest(text=t(lang, "web.err.email_off"))
    rt = runtime(request)
    now = rt.service.clock.now()
    if not await rt.service.visible_projects(link_actor(email)):
        log.info("a sign-in link was asked for an address on no project's team")
    elif await rt.store.signin_links_since(email, now - LINK_LIFETIME) >= MAX_LINKS:
        # Nobody can make the server flood someone's mailbox: a few links per address per quarter hour.
        log.warning("not e-mailing another sign-in link: %d were made in the last 15 minutes", MAX_LINKS)
    else:
        link = await new_signin_link(rt.store, email, now=now, base_url=base_url(request))
        link += "&next=" + quote(nxt, safe="")
        try:
            from adapters.email.smtp import send_message

            await send_message(config.smtp, signin_mail(to=email, link=link, sender=config.sender, lang=lang))
        except (DeliveryError, InvalidInput) as exc:
            log.warning("could not e-mail a sign-in link: %s", exc)
            raise web.HTTPServiceUnavailable(text=t(lang, "web.err.link_not_sent", reason=str(exc))) from None
    raise web.HTTPSeeOther(f"{PREFIX}/signin?notice=sent")


async def link_page(request: web.Request) -> web.Response:
    """The link from the e-mail shows a button: mail scanners that open links must not use it up."""
    token = request.query.get("token", "")
    lang = await page_language(request, None)
    anon_csrf(request)
    response = render(request, "link.html", lang, None, token=token, next=safe_next(request.query.get("next")))
    anon_csrf(request, response)
    return response


async def use_link(request: web.Request) -> web.Response:
    data = await checked_form(request, None)
    rt = runtime(request)
    from .core import digest

    email = await rt.store.use_signin_link(digest(str(data.get("token") or "")), now=rt.service.clock.now())
    if email is None:
        lang = await page_language(request, None)
        return render(
            request,
            "signin.html",
            lang,
            None,
            status=400,
            next=f"{PREFIX}/requests",
            providers=provider_names(request),
            email_on=email_config(request.app[SETTINGS]) is not None,
            notice="link_used",
        )
    response = web.HTTPSeeOther(safe_next(str(data.get("next") or "")))
    await start_session(request, link_actor(email), response)
    raise response


async def signout(request: web.Request) -> web.Response:
    v = await visitor(request)
    await checked_form(request, v)
    if v is not None:
        await runtime(request).store.end_web_session(v.token_hash)
    response = web.HTTPSeeOther(f"{PREFIX}/signin?notice=signed_out")
    response.del_cookie("intake_session", path=PREFIX)
    raise response


async def set_language(request: web.Request) -> web.Response:
    v = await visitor(request)
    if v is None:
        raise web.HTTPSeeOther(f"{PREFIX}/signin")
    data = await checked_form(request, v)
    lang = str(data.get("language") or "")
    if lang not in ("en", "zh", ""):
        shown = await page_language(request, v)
        raise web.HTTPBadRequest(text=t(shown, "web.err.bad_language", language=lang[:20]))
    await runtime(request).store.set_web_language(v.token_hash, lang or None)
    raise web.HTTPSeeOther(safe_next(str(data.get("next") or "")))


# --- OpenID Connect ----------------------------------------------------------------------------


async def _provider(request: web.Request) -> tuple[oidc.Provider, Language]:
    lang = await page_language(request, None)
    provider = request.app[PROVIDERS].get(request.match_info["provider"])
    if provider is None:
        raise web.HTTPNotFound(text=t(lang, "web.err.no_provider"))
    return provider, lang


def _redirect_uri(request: web.Request, provider: oidc.Provider) -> str:
    return f"{base_url(request)}{PREFIX}/signin/{provider.name}/callback"


async def oidc_start(request: web.Request) -> web.Response:
    provider, lang = await _provider(request)
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    async with aiohttp.ClientSession(timeout=oidc.TIMEOUT) as http:
        try:
            config = await oidc.discover(http, provider)
        except oidc.SignInFailed as exc:
            log.warning("%s sign-in: %s", provider.name, exc)
            text = t(lang, "web.err.provider_down", provider=BRANDS[provider.name], reason=str(exc))
            raise web.HTTPBadGateway(text=text) from None
    query = urlencode(
        {
            "response_type": "code",
            "client_id": provider.client_id,
            "redirect_uri": _redirect_uri(request, provider),
            "scope": "openid email profile",
            "state": state,
            "nonce": nonce,
        }
    )
    response = web.HTTPSeeOther(f"{config['authorization_endpoint']}?{query}")
    kept = {"p": provider.name, "s": state, "n": nonce, "next": safe_next(request.query.get("next"))}
    cookie = base64.urlsafe_b64encode(json.dumps(kept).encode()).decode()
    set_cookie(response, request, OIDC_COOKIE, cookie, max_age=600)
    raise response


async def oidc_callback(request: web.Request) -> web.Response:
    provider, lang = await _provider(request)
    try:
        kept = json.loads(base64.urlsafe_b64decode(request.cookies.get(OIDC_COOKIE, "").encode()))
    except ValueError:
        kept = {}
    if not isinstance(kept, dict) or kept.get("p") != provider.name or not kept.get("s"):
        raise web.HTTPBadRequest(text=t(lang, "web.err.signin_not_started"))
    if not secrets.compare_digest(str(request.query.get("state", "")), str(kept["s"])):
        raise web.HTTPBadRequest(text=t(lang, "web.err.signin_state"))
    if "error" in request.query or not request.query.get("code"):
        reason = request.query.get("error", "no code")[:100]
        raise web.HTTPBadRequest(text=t(lang, "web.err.signin_incomplete", reason=reason))
    rt = runtime(request)
    try:
        async with aiohttp.ClientSession(timeout=oidc.TIMEOUT) as http:
            config = await oidc.discover(http, provider)
            token = await oidc.exchange_code(
                http, provider, config, code=request.query["code"], redirect_uri=_redirect_uri(request, provider)
            )
            claims = await oidc.verify_id_token(http, provider, config, token, nonce=str(kept.get("n", "")))
        who = oidc.identity(provider, claims)
    except oidc.SignInFailed as exc:
        log.warning("%s sign-in refused: %s", provider.name, exc)
        raise web.HTTPForbidden(text=t(lang, "web.err.signin_refused", reason=str(exc))) from None
    email = await email_for(
        rt.store, rt.store, platform=who.platform, email=who.email, account=who.user_id, at=rt.service.clock.now()
    )
    response = web.HTTPSeeOther(safe_next(str(kept.get("next") or "")))
    response.del_cookie(OIDC_COOKIE, path=PREFIX)
    await start_session(request, Actor(who.platform, who.user_id, email=email, name=who.name), response)
    raise response


def add_routes(app: web.Application) -> None:
    app[PROVIDERS] = oidc.providers(app[SETTINGS])
    app.router.add_get(f"{PREFIX}/signin", signin_page)
    app.router.add_post(f"{PREFIX}/signin/email", send_link)
    app.router.add_get(f"{PREFIX}/signin/link", link_page)
    app.router.add_post(f"{PREFIX}/signin/link", use_link)
    app.router.add_post(f"{PREFIX}/signout", signout)
    app.router.add_post(f"{PREFIX}/language", set_language)
    app.router.add_get(f"{PREFIX}/signin/{{provider}}", oidc_start)
    app.router.add_get(f"{PREFIX}/signin/{{provider}}/callback", oidc_callback)
