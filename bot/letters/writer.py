"""The letter writer: from a request, its project, the decline form and the PM, a formal letter.

Pure: no I/O beyond reading the templates shipped with the package. The plain text comes from a
Jinja2 template per language; the HTML is derived from that same text, so the two never drift apart.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from ..domain import (
    Actor,
    Channel,
    DeclineForm,
    Language,
    Letter,
    Project,
    ReasonCategory,
    RequestRecord,
    Verdict,
    VerdictKind,
)
from . import phrases
from .tone import check_tone

if TYPE_CHECKING:
    import jinja2

TEMPLATES = Path(__file__).parent / "templates"


@cache
def _env() -> jinja2.Environment:
    import jinja2  # on first use: most commands never write a letter

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # plain text; the HTML is escaped in text_to_html
    )
    env.filters["quote"] = quote_block
    return env


def quote_block(text: str) -> str:
    """Indent a client's words as a quotation block (continuation lines indented too)."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return "\n    ".join(lines)


QUOTE_MAX = 300  # characters of a client's request a letter quotes; a longer one is shortened
QUOTE_MIN = 40  # a first sentence shorter than this ("Hi team.") is quoted with the next


def quote_excerpt(text: str, language: Language, limit: int = QUOTE_MAX) -> tuple[str, bool]:
    """What a letter quotes of a request: all of it when short; else its first sentence (with the next
    ones while it is under a few words, "Hi team.") when that ends within `limit` characters, or its first
    `limit` characters cut at a word; with an ellipsis. Returns the quotation and whether it was shortened."""
    text = text.strip()
    if len(text) <= limit:
        return text, False
    flat = " ".join(text.split())
    ends = [m.end() for m in re.finditer(r"[.!?](?=\s)|[。！？；]", flat)]
    cut = next((e for e in ends if e >= QUOTE_MIN), 0)
    if not cut or cut > limit:  # no sentence ends soon enough: cut at a word (anywhere, in Chinese)
        space = flat.rfind(" ", 0, limit)
        cut = space if space > limit // 2 else limit
    head = flat[:cut].rstrip(" ,，、;；:：")
    if language is Language.ZH:
        return head + "……", True
    return head + (" …" if head[-1:] in ".!?" else "…"), True


def format_date(d: date, language: Language) -> str:
    if language is Language.ZH:
        return f"{d.year}年{d.month}月{d.day}日"
    return f"{d.day} {d.strftime('%B')} {d.year}"


def format_datetime(dt: datetime, language: Language, tz: str) -> str:
    local = dt.astimezone(ZoneInfo(tz)) if dt.tzinfo else dt.replace(tzinfo=ZoneInfo(tz))
    if language is Language.ZH:
        weekday = "一二三四五六日"[local.weekday()]
        return f"{local.year}年{local.month}月{local.day}日（星期{weekday}）{local:%H:%M}（{tz}）"
    return f"{local.strftime('%A')}, {local.day} {local.strftime('%B')} {local.year} at {local:%H:%M} ({tz})"


def project_title(name: str, language: Language) -> str:
    """'the Acme Portal project' / “Acme Portal”项目: how the letter names the project."""
    if language is Language.ZH:
        return f"“{name}”" if name.endswith("项目") else f"“{name}”项目"
    return f"the {name}" if name.lower().endswith("project") else f"the {name} project"


def default_reason(verdict: Verdict, project: Project, language: Language | None = None) -> tuple[ReasonCategory, str]:
    """Pre-fill the decline form's reason from the scope verdict."""
    lang = language or project.language
    table = phrases.DEFAULT_REASON[lang]
    item = None
    for it in (*project.in_scope, *project.out_of_scope):
        if it.id == verdict.item_id:
            item = it
    if verdict.verdict is VerdictKind.OUT_OF_SCOPE and item:
        return ReasonCategory.PROJECT_GOALS, table["excluded"].format(title=item.title)
    if verdict.verdict is VerdictKind.IN_SCOPE and item:
        return ReasonCategory.PROJECT_GOALS, table["item"].format(title=item.title)
    return ReasonCategory.PROJECT_GOALS, table["unlisted"]


def default_empathy(language: Language) -> str:
    return phrases.DEFAULT_EMPATHY[language]


@dataclass(frozen=True)
class DraftedLetter:
    letter: Letter
    talking_points: str  # for a meeting: what the PM says; empty for an email


def write_letter(
    *, request: RequestRecord, project: Project, form: DeclineForm, pm: Actor, today: date
) -> DraftedLetter:
    """Write the formal letter for a declined request (or the meeting invitation, when the PM chose a meeting)."""
    lang = form.language or project.language
    milestone = project.next_milestone(today)
    framing = phrases.framing(
        lang,
        form.reason_category,
        goal=project.goals[0] if project.goals else "",
        milestone=milestone.name if milestone else "",
        due=format_date(milestone.due, lang) if milestone else "",
    )
    reason_text = form.reason_text.strip()
    if lang is Language.ZH and reason_text and reason_text[-1] not in "。！？.!?":
        reason_text += "。"
    if lang is Language.EN and reason_text and reason_text[-1] not in ".!?":
        reason_text += "."
    alternatives = [phrases.alternative(lang, a.kind, a.detail) for a in form.alternatives]
    request_text = request.client_words.strip() or request.text
    quotation, shortened = quote_excerpt(request_text, lang)
    ctx = {
        "client": project.client,
        "project": project,
        "ref": request.ref,
        "asked_on": format_date(request.created_at.date(), lang),
        "today": format_date(today, lang),
        "request_text": quotation,
        "request_shortened": shortened,
        "empathy": form.empathy.strip() or default_empathy(lang),
        "framing": framing,
        "reason_text": reason_text,
        "alternatives": alternatives,
        "pm_name": pm.name or "",
        "category_label": phrases.CATEGORY_LABEL[lang][form.reason_category],
        "project_title": project_title(project.name, lang),
        "capacity": project.capacity,
    }
    kind = "decline"
    talking_points = ""
    if form.channel is Channel.MEETING and form.meeting is not None:
        kind = "meeting_invite"
        ctx["meeting"] = form.meeting
        ctx["meeting_when"] = format_datetime(form.meeting.start, lang, project.timezone)
        body = _render(lang, "meeting.txt.j2", ctx)
        talking_points = _render(lang, "talking_points.txt.j2", ctx)
    else:
        body = _render(lang, "decline.txt.j2", ctx)
    subject = phrases.SUBJECT[lang][kind].format(ref=request.ref, project=project.name)
    letter = Letter(
        subject=subject,
        body_text=body,
        body_html=text_to_html(body),
        language=lang,
        tone=check_tone(body, lang, quoted=[request_text, quotation, *project.goals], kind=kind),
        kind=kind,
        talking_points=talking_points,
    )
    return DraftedLetter(letter, talking_points)


def revise_letter(
    letter: Letter, *, body_text: str, subject: str | None, quoted: str, goals: tuple[str, ...] = ()
) -> Letter:
    """Return the letter with the PM's edited text, its HTML rebuilt and its tone checked again
    (`quoted`: the client's request; `goals`: the project's, which the letter may quote)."""
    body = body_text.strip()
    excerpt, _ = quote_excerpt(quoted, letter.language)
    return Letter(
        subject=(subject or letter.subject).strip(),
        body_text=body,
        body_html=text_to_html(body),
        language=letter.language,
        tone=check_tone(body, letter.language, quoted=[quoted, excerpt, *goals], kind=letter.kind),
        kind=letter.kind,
        edited=True,
        talking_points=letter.talking_points,
    )


def _render(lang: Language, name: str, ctx: dict[str, object]) -> str:
    text = _env().get_template(f"{lang.value}/{name}").render(**ctx)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip() + "\n"


_LIST_ITEM = re.compile(r"^(?:- |\d+\. )")


def text_to_html(text: str) -> str:
    """Turn the letter's plain text into simple, mail-client-safe HTML: paragraphs, quotes and lists."""
    blocks = re.split(r"\n\s*\n", text.strip())
    out = []
    for block in blocks:
        lines = block.splitlines()
        if all(ln.startswith("    ") for ln in lines):
            inner = "<br>\n".join(html.escape(ln.strip()) for ln in lines)
            out.append(
                f'<blockquote style="margin:0 0 0 1em;padding-left:1em;border-left:3px solid #ccc">{inner}</blockquote>'
            )
            continue
        head = [ln for ln in lines if not _LIST_ITEM.match(ln)]
        items = [ln for ln in lines if _LIST_ITEM.match(ln)]
        if items and lines[len(head) :] == items:
            if head:
                out.append("<p>" + "<br>\n".join(html.escape(h) for h in head) + "</p>")
            tag = "ol" if items[0][0].isdigit() else "ul"
            lis = "\n".join(f"<li>{html.escape(_LIST_ITEM.sub('', it, count=1))}</li>" for it in items)
            out.append(f"<{tag}>\n{lis}\n</{tag}>")
            continue
        out.append("<p>" + "<br>\n".join(html.escape(ln) for ln in lines) + "</p>")
    body = "\n".join(out)
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head>\n'
        f'<body style="font-family:Arial,Helvetica,sans-serif;font-size:14px;line-height:1.5">\n{body}\n</body></html>\n'
    )
