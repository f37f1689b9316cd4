"""The pages: projects, a project, requests, a request (with its forms, letter and sending), and the change
register. Each is a fourth renderer of what chat shows: `bot.review`'s `RequestView` and `bot.forms`'
`FormSpec`, in the catalog's words; who may do what is the service's to say, here as in chat."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import date
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from multidict import MultiDictProxy, MultiMapping

from adapters.email.actions import letter_eml
from adapters.email.config import eml_sender
from adapters.email.platform import email_for as email_sending
from adapters.web.keys import SETTINGS, wake_dispatcher
from bot import forms
from bot.browse import MAX_PER_PAGE, MAX_SEARCH_CHARS, Due, RequestQuery, Sort, scope_diff
from bot.domain import Language, Project, RequestRecord, RequestStatus, ToneResult, VerdictKind
from bot.errors import FormInvalid, IllegalMove, IntakeError, InvalidInput, NotFound, PermissionDenied
from bot.letters import write_letter
from bot.messages import letter_state_line, tone_lines
from bot.review import DECIDERS, Action, Viewer, day_label, review_view, shorten, verdict_headline
from bot.text import CATALOGS, plain, t

from .core import PREFIX, Visitor, checked_form, page_language, render, require, runtime

PROJECTS: web.RequestKey[list[Project]] = web.RequestKey("intake_projects")

# --- shared -------------------------------------------------------------------------------------


async def visible(request: web.Request, v: Visitor) -> list[Project]:
    if PROJECTS not in request:
        request[PROJECTS] = await runtime(request).service.visible_projects(v.actor)
    return request[PROJECTS]


def error_page(request: web.Request, lang: Language, v: Visitor | None, status: int, message: str) -> web.Response:
    return render(request, "error.html", lang, v, status=status, message=message)


def refusal(request: web.Request, lang: Language, v: Visitor, exc: IntakeError) -> web.Response:
    """A core refusal as a page: not allowed 403, not found 404, not now 409, bad input 400."""
    if isinstance(exc, PermissionDenied):
        status = 403
    elif isinstance(exc, NotFound):
        status = 404
    elif isinstance(exc, IllegalMove):
        status = 409
    elif isinstance(exc, InvalidInput):
        status = 400
    else:
        status = 503
    return error_page(request, lang, v, status, exc.say(lang))


def label(lang: Language, key: str, fallback: str) -> str:
    return t(lang, key) if key in CATALOGS[lang] else fallback


def marks(tone: tuple[ToneResult, ...], lang: Language) -> list[dict[str, Any]]:
    return [{"passed": r.passed, "line": line} for r, line in zip(tone, tone_lines(tone, lang), strict=False)]


# --- projects -----------------------------------------------------------------------------------


async def projects_page(request: web.Request) -> web.Response:
    v = await require(request)
    rt = runtime(request)
    projects = await visible(request, v)
    lang = await page_language(request, v, projects[0] if len(projects) == 1 else None)
    now = rt.service.clock.now()
    rows = []
    for p in projects:
        every = await rt.store.search_requests(RequestQuery((p.slug,), per_page=1), now=now)
        overdue = await rt.store.search_requests(RequestQuery((p.slug,), due=Due.OVERDUE, per_page=1), now=now)
        rows.append(
            {
                "project": p,
                "total": f"{every.total}+" if every.more else str(every.total),
                "overdue": f"{overdue.total}+" if overdue.more else str(overdue.total),
                "any_overdue": overdue.total > 0,
            }
        )
    return render(request, "projects.html", lang, v, nav="projects", rows=rows)


async def project_page(request: web.Request) -> web.Response:
    v = await require(request)
    slug = request.match_info["slug"]
    project = next((p for p in await visible(request, v) if p.slug == slug), None)
    if project is None:
        lang = await page_language(request, v)
        return error_page(request, lang, v, 404, t(lang, "web.err.no_project", slug=slug))
    lang = await page_language(request, v, project)
    history = await runtime(request).service.project_history(slug)
    versions = []
    for i, (info, version) in enumerate(history):
        diff = scope_diff(history[i - 1][1], version) if i > 0 else []
        versions.append({"info": info, "diff": diff, "first": i == 0})
    versions.reverse()
    return render(request, "project.html", lang, v, nav="projects", project=project, versions=versions)


# --- requests -----------------------------------------------------------------------------------


def _enum(cls: Any, value: str, what: str, lang: Language) -> Any:
    if not value:
        return None
    try:
        return cls(value)
    except ValueError:
        choices = ", ".join(m.value for m in cls if m.value)
        text = t(lang, "web.err.bad_choice", what=t(lang, what), value=value[:40], choices=choices)
        raise web.HTTPBadRequest(text=text) from None


def _day(value: str, what: str, lang: Language) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise web.HTTPBadRequest(text=t(lang, "web.err.bad_date", what=t(lang, what), value=value[:40])) from None


def _int(value: str, what: str, default: int, low: int, high: int, lang: Language) -> int:
    if not value:
        return default
    if not value.isdigit() or not low <= int(value) <= high:
        text = t(lang, "web.err.bad_number", what=t(lang, what), low=low, high=high, value=value[:40])
        raise web.HTTPBadRequest(text=text)
    return int(value)


def parse_query(q: MultiMapping[str], slugs: tuple[str, ...], lang: Language) -> RequestQuery:
    """The list's filters from the address; a value that makes no sense is a 400 that says which."""
    project = q.get("project", "")
    if project and project not in slugs:
        raise web.HTTPNotFound(text=t(lang, "web.err.no_project", slug=project[:64]))
    text = q.get("q", "")
    if len(text) > MAX_SEARCH_CHARS:
        raise web.HTTPBadRequest(text=t(lang, "web.err.search_too_long", limit=MAX_SEARCH_CHARS))
    return RequestQuery(
        projects=(project,) if project else slugs,
        status=_enum(RequestStatus, q.get("status", ""), "web.col.status", lang),
        verdict=_enum(VerdictKind, q.get("verdict", ""), "web.col.verdict", lang),
        requester=q.get("requester", "")[:200],
        since=_day(q.get("since", ""), "web.filter.since", lang),
        until=_day(q.get("until", ""), "web.filter.until", lang),
        due=_enum(Due, q.get("due", ""), "web.col.due", lang) or Due.ANY,
        text=text,
        sort=_enum(Sort, q.get("sort", ""), "web.what.sort", lang) or Sort.RECORDED,
        descending=q.get("dir", "desc") != "asc",
        page=_int(q.get("page", ""), "web.what.page", 1, 1, 1_000_000, lang),
        per_page=_int(q.get("per_page", ""), "web.what.per_page", 50, 1, MAX_PER_PAGE, lang),
    )


async def requests_page(request: web.Request) -> web.Response:
    v = await require(request)
    rt = runtime(request)
    projects = await visible(request, v)
    by_slug = {p.slug: p for p in projects}
    lang = await page_language(request, v, by_slug.get(request.query.get("project", "")))
    query = parse_query(request.query, tuple(by_slug) or ("",), lang)
    now = rt.service.clock.now()
    page = await rt.store.search_requests(query, now=now)
    rows = []
    for r in page.rows:
        p = by_slug[r.project]
        overdue = r.due_at is not None and r.due_at <= now and r.status is not RequestStatus.NEEDS_INFO
        rows.append(
            {
                "r": r,
                "text": shorten(r.text, 90),
                "status": t(lang, f"status.{r.status.value}"),
                "verdict": label(lang, f"verdict.{r.verdict.value}", r.verdict.value)
                + (f" ({r.verdict_item})" if r.verdict_item and r.verdict is not VerdictKind.UNLISTED else ""),
                "recorded": day_label(r.created_at, p.timezone, lang),
                "due": day_label(r.due_at, p.timezone, lang) if r.due_at else "",
                "overdue": overdue,
            }
        )
    args = {
        k: request.query.get(k, "")
        for k in ("project", "status", "verdict", "requester", "since", "until", "due", "q", "sort", "dir")
    }

    def link(**change: Any) -> str:
        merged = {**args, **{k: str(val) for k, val in change.items()}}
        return f"{PREFIX}/requests?" + urlencode({k: val for k, val in merged.items() if val})

    return render(
        request,
        "requests.html",
        lang,
        v,
        nav="requests",
        rows=rows,
        page=page,
        args=args,
        link=link,
        projects=projects,
        statuses=[s.value for s in RequestStatus],
        verdicts=[k.value for k in VerdictKind],
        sorts=[s.value for s in Sort],
    )


# --- one request --------------------------------------------------------------------------------

LETTER_EVENTS = ("letter_", "email", "digest")


async def _load(request: web.Request, v: Visitor) -> tuple[RequestRecord, Project, Viewer, Language]:
    """The request in the address, if the visitor may see its project (else 404, as for no request)."""
    rt = runtime(request)
    ref = request.match_info["ref"]
    slugs = {p.slug for p in await visible(request, v)}
    try:
        rec, project, viewer = await rt.service.view(ref, actor=v.actor)
    except NotFound:
        rec = None
    if rec is None or rec.project not in slugs:
        lang = await page_language(request, v)
        raise web.HTTPNotFound(text=t(lang, "web.err.no_request", ref=ref[:40]))
    return rec, project, viewer, await page_language(request, v, project)


async def request_page(request: web.Request) -> web.Response:
    v = await require(request)
    rec, project, viewer, lang = await _load(request, v)
    return show_request(request, v, rec, project, viewer, lang, notice=request.query.get("notice", ""))


def show_request(
    request: web.Request,
    v: Visitor,
    rec: RequestRecord,
    project: Project,
    viewer: Viewer,
    lang: Language,
    *,
    status: int = 200,
    notice: str = "",
    letter_errors: dict[str, str] | None = None,
    letter_values: dict[str, str] | None = None,
) -> web.Response:
    now = runtime(request).service.clock.now()
    view = review_view(rec, project, viewer, language=lang, now=now)
    decides = bool(viewer.roles & DECIDERS)
    timeline = []
    for e in rec.events:
        hidden = not decides and e.kind.startswith(LETTER_EVENTS)
        timeline.append(
            {
                "at": e.at,
                "who": e.actor.display,
                "kind": label(lang, f"web.event.{e.kind}", e.kind.replace("_", " ")),
                "text": "" if hidden else e.text,
            }
        )
    letter = rec.letter if decides else None
    return render(
        request,
        "request.html",
        lang,
        v,
        status=status,
        nav="requests",
        view=view,
        rec=rec,
        project=project,
        status_line=plain(view.status),
        timeline=timeline,
        letter=letter,
        letter_state=letter_state_line(letter, lang, project.timezone) if letter else "",
        tone=marks(letter.tone, lang) if letter else [],
        letter_errors=letter_errors or {},
        letter_values=letter_values or {},
        editable=letter is not None and rec.status is RequestStatus.LETTER_DRAFTED and letter.status != "queued",
        sendable=letter is not None
        and email_sending(request.app) is not None
        and rec.status is RequestStatus.LETTER_DRAFTED
        and letter.status in ("draft", "failed"),
        notice=notice,
    )


def _action(request: web.Request, lang: Language) -> Action:
    try:
        return Action(request.match_info["action"])
    except ValueError:
        raise web.HTTPNotFound(text=t(lang, "web.err.no_action", action=request.match_info["action"][:40])) from None


async def action_form(request: web.Request) -> web.Response:
    """The form an action asks for, from `bot.forms` as chat shows it. Asking for a PM's form without being
    one is refused and recorded, as a refused click is."""
    v = await require(request)
    rec, project, _viewer, lang = await _load(request, v)
    action = _action(request, lang)
    try:
        rec, spec = await runtime(request).service.open_form(rec.ref, action, actor=v.actor)
    except IntakeError as exc:
        return refusal(request, lang, v, exc)
    if spec is not None and spec.language is not lang:
        spec = _in_language(
            spec, rec, project, action, lang, await runtime(request).service.decline_form_defaults(rec.ref)
        )
    return render(
        request,
        "form.html",
        lang,
        v,
        nav="requests",
        rec=rec,
        action=action,
        spec=spec,
        errors={},
        tone_live=action is Action.DECLINE,
    )


def _in_language(
    spec: forms.FormSpec, rec: RequestRecord, project: Project, action: Action, lang: Language, defaults: Any
) -> forms.FormSpec:
    """The same form in the page's language (the service gives it in the person's chat language)."""
    tz = project.timezone
    if action is Action.APPROVE:
        return forms.scope_change_form(rec, lang, timezone=tz)
    if action is Action.DECLINE:
        return forms.decline_form(rec, defaults, lang, timezone=tz)
    if action is Action.ASK:
        return forms.ask_form(rec, lang)
    if action is Action.CORRECT:
        return forms.correct_form(rec, project, lang)
    if action is Action.WITHDRAW:
        return forms.withdraw_form(rec, lang)
    if action is Action.OUTCOME:
        return forms.outcome_form(rec, lang)
    return spec


def form_values(spec: forms.FormSpec | None, data: MultiDictProxy[Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for f in spec.fields if spec else ():
        if f.kind is forms.FieldKind.MULTI_CHOICE:
            values[f.id] = [str(x) for x in data.getall(f.id, [])]
        elif f.id in data:
            values[f.id] = str(data[f.id])
    if spec is None and "note" in data:
        values["note"] = str(data["note"])
    return values


async def act(request: web.Request) -> web.Response:
    """Take an action with what was typed. The service checks who may first: a forged POST for an action
    this person may not take is refused with 403 and recorded, whatever it carries."""
    v = await require(request)
    data = await checked_form(request, v)
    rec, project, _viewer, lang = await _load(request, v)
    action = _action(request, lang)
    service = runtime(request).service
    spec: forms.FormSpec | None = None
    try:
        if action is Action.DECLINE:
            spec = forms.decline_form(
                rec, await service.decline_form_defaults(rec.ref), lang, timezone=project.timezone
            )
        else:
            spec = _spec_for(rec, project, action, lang)
        await service.act(rec.ref, action, actor=v.actor, values=form_values(spec, data))
    except FormInvalid as exc:
        if spec is None:
            return refusal(request, lang, v, exc)
        return render(
            request,
            "form.html",
            lang,
            v,
            status=400,
            nav="requests",
            rec=rec,
            action=action,
            spec=forms.with_values(spec, form_values(spec, data)),
            errors=exc.errors_in(lang),
            tone_live=action is Action.DECLINE,
        )
    except IntakeError as exc:
        return refusal(request, lang, v, exc)
    wake_dispatcher(request.app)
    raise web.HTTPSeeOther(f"{PREFIX}/r/{rec.ref}?notice=done")


def _spec_for(rec: RequestRecord, project: Project, action: Action, lang: Language) -> forms.FormSpec | None:
    from bot.review import needs_scope_change
    from bot.service import open_question

    tz = project.timezone
    if action is Action.APPROVE:
        return forms.scope_change_form(rec, lang, timezone=tz) if needs_scope_change(rec) else None
    if action is Action.ASK:
        return forms.ask_form(rec, lang)
    if action is Action.ANSWER:
        return forms.answer_form(rec, open_question(rec), lang)
    if action is Action.WITHDRAW:
        return forms.withdraw_form(rec, lang)
    if action is Action.CORRECT:
        return forms.correct_form(rec, project, lang)
    return forms.outcome_form(rec, lang)


async def tone(request: web.Request) -> web.Response:
    """The tone check of what is being typed (the decline form, or the letter's text), as JSON, for the
    page to update as the PM types. Only those who decide may ask."""
    v = await require(request)
    data = await checked_form(request, v)
    rec, project, viewer, lang = await _load(request, v)
    if not viewer.roles & DECIDERS:
        return web.json_response({"error": t(lang, "web.err.only_deciders")}, status=403)
    if "body" in data:
        if rec.letter is None:
            return web.json_response({"error": t(lang, "web.err.no_letter")}, status=409)
        from bot.letters import revise_letter

        body = str(data["body"]).strip()[: forms.MAX_LETTER_CHARS]
        if not body:
            return web.json_response({"marks": [], "ok": False, "note": t(lang, "form.err.letter_empty")})
        letter = revise_letter(
            rec.letter, body_text=body, subject=None, quoted=rec.client_words or rec.text, goals=project.goals
        )
    else:
        spec = forms.decline_form(
            rec, await runtime(request).service.decline_form_defaults(rec.ref), lang, timezone=project.timezone
        )
        try:
            form = forms.parse_decline(spec, form_values(spec, data))
        except FormInvalid as exc:
            return web.json_response({"marks": [], "ok": False, "note": next(iter(exc.errors_in(lang).values()))})
        now = runtime(request).service.clock.now()
        letter = write_letter(request=rec, project=project, form=form, pm=v.actor, today=now.date()).letter
    found = marks(letter.tone, lang)
    ok = all(m["passed"] for m in found)
    return web.json_response(
        {"marks": found, "ok": ok, "note": t(lang, "letter.tone_ok" if ok else "letter.tone_some_fail")}
    )


# --- the letter -----------------------------------------------------------------------------------


async def edit_letter(request: web.Request) -> web.Response:
    v = await require(request)
    data = await checked_form(request, v)
    rec, project, viewer, lang = await _load(request, v)
    body, subject = str(data.get("body") or ""), str(data.get("subject") or "")
    try:
        await runtime(request).service.edit_letter(rec.ref, actor=v.actor, body_text=body, subject=subject or None)
    except FormInvalid as exc:
        return show_request(
            request,
            v,
            rec,
            project,
            viewer,
            lang,
            status=400,
            letter_errors=exc.errors_in(lang),
            letter_values={"body": body, "subject": subject},
        )
    except IntakeError as exc:
        return refusal(request, lang, v, exc)
    raise web.HTTPSeeOther(f"{PREFIX}/r/{rec.ref}?notice=letter_saved#letter")


def _seen(summary: str) -> str:
    return hashlib.sha256(summary.encode()).hexdigest()[:32]


async def send_confirm(request: web.Request) -> web.Response:
    """Who the letter would go to, for the PM to confirm before anything is sent."""
    v = await require(request)
    rec, _project, _viewer, lang = await _load(request, v)
    if email_sending(request.app) is None:
        return error_page(request, lang, v, 409, t(lang, "web.err.no_email"))
    try:
        rcpt = await runtime(request).service.letter_email_recipients(rec.ref, actor=v.actor)
    except IntakeError as exc:
        return refusal(request, lang, v, exc)
    return render(
        request, "send.html", lang, v, nav="requests", rec=rec, rcpt=rcpt, seen=_seen(rcpt.summary()), letter=rec.letter
    )


async def send(request: web.Request) -> web.Response:
    v = await require(request)
    data = await checked_form(request, v)
    rec, _project, _viewer, lang = await _load(request, v)
    if email_sending(request.app) is None:
        return error_page(request, lang, v, 409, t(lang, "web.err.no_email"))
    service = runtime(request).service
    try:
        rcpt = await service.letter_email_recipients(rec.ref, actor=v.actor)
        if _seen(rcpt.summary()) != str(data.get("seen") or ""):
            return error_page(
                request, lang, v, 409, t(lang, "err.recipients_changed", ref=rec.ref, summary=rcpt.summary())
            )
        await service.send_letter_email(rec.ref, actor=v.actor, confirmed=rcpt)
    except IntakeError as exc:
        return refusal(request, lang, v, exc)
    wake_dispatcher(request.app)
    raise web.HTTPSeeOther(f"{PREFIX}/r/{rec.ref}?notice=queued#letter")


async def mark_sent(request: web.Request) -> web.Response:
    v = await require(request)
    await checked_form(request, v)
    rec, _project, _viewer, lang = await _load(request, v)
    try:
        await runtime(request).service.mark_letter_sent(rec.ref, actor=v.actor, via="manual")
    except IntakeError as exc:
        return refusal(request, lang, v, exc)
    raise web.HTTPSeeOther(f"{PREFIX}/r/{rec.ref}?notice=marked_sent#letter")


async def eml(request: web.Request) -> web.Response:
    v = await require(request)
    rec, _project, _viewer, lang = await _load(request, v)
    try:
        name, body = await letter_eml(
            runtime(request).service, rec.ref, actor=v.actor, sender=eml_sender(request.app[SETTINGS])
        )
    except IntakeError as exc:
        return refusal(request, lang, v, exc)
    return web.Response(
        body=body,
        content_type="message/rfc822",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


# --- the change register --------------------------------------------------------------------------


CHANGES_PER_PAGE = 100
CSV_CHUNK = 1000


async def _register_scope(request: web.Request, v: Visitor) -> tuple[list[str], dict[str, Project]]:
    projects = {p.slug: p for p in await visible(request, v)}
    only = request.query.get("project", "")
    if only and only not in projects:
        lang = await page_language(request, v)
        raise web.HTTPNotFound(text=t(lang, "web.err.no_project", slug=only[:64]))
    return ([only] if only else list(projects)), projects


async def changes_page(request: web.Request) -> web.Response:
    v = await require(request)
    slugs, projects = await _register_scope(request, v)
    lang = await page_language(request, v, projects.get(request.query.get("project", "")))
    page = _int(request.query.get("page", ""), "web.what.page", 1, 1, 1_000_000, lang)
    entries, total = await runtime(request).store.change_register(
        slugs, limit=CHANGES_PER_PAGE, offset=(page - 1) * CHANGES_PER_PAGE
    )
    rows = [
        {
            "e": e,
            "verdict": verdict_headline_of(e, lang),
            "approved_at": day_label(e.approved_at, projects[e.project].timezone, lang),
            "text": shorten(e.text, 120),
        }
        for e in entries
    ]
    pages = max(1, -(-total // CHANGES_PER_PAGE))
    only = request.query.get("project", "")

    def link(n: int) -> str:
        return f"{PREFIX}/changes?" + urlencode({k: val for k, val in (("project", only), ("page", str(n))) if val})

    return render(
        request,
        "changes.html",
        lang,
        v,
        nav="changes",
        rows=rows,
        projects=list(projects.values()),
        project=only,
        total=total,
        page=page,
        pages=pages,
        link=link,
    )


def verdict_headline_of(e: Any, lang: Language) -> str:
    from bot.domain import Verdict

    return verdict_headline(Verdict(e.verdict, e.verdict_item, 0.0, ""), lang)


async def changes_csv(request: web.Request) -> web.StreamResponse:
    """The change register as CSV (UTF-8 with a byte-order mark, so spreadsheets read Chinese right),
    streamed a thousand rows at a time."""
    v = await require(request)
    slugs, _ = await _register_scope(request, v)
    store = runtime(request).store
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": 'attachment; filename="change-register.csv"',
            "Cache-Control": "no-store",
        }
    )
    await response.prepare(request)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(
        [
            "ref",
            "project",
            "request",
            "verdict",
            "item",
            "estimate",
            "schedule_impact",
            "note",
            "approved_by",
            "on_behalf_of",
            "approved_at",
            "scope_version",
        ]
    )
    await response.write(("\ufeff" + buf.getvalue()).encode())
    offset = 0
    while True:
        entries, _total = await store.change_register(slugs, limit=CSV_CHUNK, offset=offset)
        buf.seek(0)
        buf.truncate()
        for e in entries:
            writer.writerow(
                [
                    e.ref,
                    e.project,
                    e.text,
                    e.verdict.value,
                    e.verdict_item or "",
                    e.estimate,
                    e.schedule_impact,
                    e.note,
                    e.approved_by.display,
                    e.on_behalf_of.display if e.on_behalf_of else "",
                    e.approved_at.isoformat(timespec="seconds"),
                    e.scope_version,
                ]
            )
        await response.write(buf.getvalue().encode())
        if len(entries) < CSV_CHUNK:
            break
        offset += CSV_CHUNK
    await response.write_eof()
    return response


async def home(request: web.Request) -> web.Response:
    await require(request)
    raise web.HTTPSeeOther(f"{PREFIX}/requests")


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get(PREFIX, home)
    r.add_get(f"{PREFIX}/", home)
    r.add_get(f"{PREFIX}/projects", projects_page)
    r.add_get(f"{PREFIX}/projects/{{slug}}", project_page)
    r.add_get(f"{PREFIX}/requests", requests_page)
    r.add_get(f"{PREFIX}/r/{{ref}}", request_page)
    r.add_get(f"{PREFIX}/r/{{ref}}/act/{{action}}", action_form)
    r.add_post(f"{PREFIX}/r/{{ref}}/act/{{action}}", act)
    r.add_post(f"{PREFIX}/r/{{ref}}/tone", tone)
    r.add_post(f"{PREFIX}/r/{{ref}}/letter", edit_letter)
    r.add_get(f"{PREFIX}/r/{{ref}}/letter.eml", eml)
    r.add_get(f"{PREFIX}/r/{{ref}}/send", send_confirm)
    r.add_post(f"{PREFIX}/r/{{ref}}/send", send)
    r.add_post(f"{PREFIX}/r/{{ref}}/sent", mark_sent)
    r.add_get(f"{PREFIX}/changes", changes_page)
    r.add_get(f"{PREFIX}/changes.csv", changes_csv)


__all__ = ["add_routes"]
