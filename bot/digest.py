"""The regular client update: what the client asked for and where each request stands. Pure.

Built from the record alone, in the project's language. It speaks to the client, so it says only what
the client may already know: a decline whose formal letter has not reached them yet is shown as still
under review (the PM's letter or meeting tells them, not a digest), and no verdict, estimate or
internal note appears.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from .domain import Channel, DecisionKind, Language, Project, RequestRecord, RequestStatus
from .letters.writer import format_date, project_title
from .messages import shorten

MAX_WORDS = 300  # characters of the client's words quoted per request


@dataclass(frozen=True)
class DigestEntry:
    ref: str
    words: str
    raised_on: str
    status: str
    next_step: str


@dataclass(frozen=True)
class ClientDigest:
    project: str
    language: Language
    since: datetime
    until: datetime
    subject: str
    body_text: str
    body_html: str
    open: tuple[DigestEntry, ...]
    decided: tuple[DigestEntry, ...]

    @property
    def empty(self) -> bool:
        return not self.open and not self.decided


# Natively written wording, one table per language. Keys: what the client sees for each situation.
TEXT: dict[Language, dict[str, str]] = {
    Language.EN: {
        "subject": "Update on your requests: {project} ({today})",
        "greeting": "Dear {contact},",
        "intro": "Here is our update on the requests you have raised with us for {project_title}, as of {today}.",
        "open": "Open requests",
        "decided": "Decided since {since}",
        "nothing": "There are no open requests, and none has been decided since {since}.",
        "raised": "raised on {date}",
        "status": "Status",
        "next": "Next step",
        "closing": "If anything here does not match your understanding, or you have a question about any of these requests, please reply to this e-mail; we will be glad to discuss it.",
        "regards": "Kind regards,",
        "signature": "The {project} team",
        # situations
        "in_review": "under review",
        "in_review.next": "We will let you know our answer soon.",
        "clarifying": "we are clarifying some details",
        "clarifying.next": "Once the details are clear, we will complete our review and let you know.",
        "on_hold": "on hold: we are still waiting for some details",
        "on_hold.next": "As soon as we have them, we will complete our review and let you know.",
        "answer_pending": "under review",
        "answer_pending.next": "We will write to you about it separately.",
        "meeting_pending": "under review",
        "meeting_pending.next": "We would like to discuss it with you and will propose a meeting shortly.",
        "approved": "accepted",
        "approved.next": "It is part of the agreed scope, and we are including it in our work.",
        "approved_change": "accepted as a change to the agreed scope",
        "approved_change.next": "We will include it in our plan and confirm the details of the change with you.",
        "answered": "answered in our letter of {date}",
        "answered.next": "Our letter sets out the options; we are happy to talk them through.",
        "meeting_invited": "to be discussed in our meeting",
        "meeting_invited.next": "We have invited you to a meeting on {date} to talk it through.",
        "meeting_held": "discussed in our meeting",
        "meeting_held.next": "We will follow up on what we agreed in the meeting.",
        "closed": "closed",
        "closed.next": "No further action is planned.",
    },
    Language.ZH: {
        "subject": "需求进展汇报：{project}（{today}）",
        "greeting": "尊敬的{contact}：",
        "intro": "您好！现将截至{today}，您就{project_title}向我们提出的各项需求的进展汇报如下。",
        "open": "处理中的需求",
        "decided": "{since}以来已有结论的需求",
        "nothing": "目前没有处理中的需求，{since}以来也没有新的结论。",
        "raised": "提出日期：{date}",
        "status": "状态",
        "next": "下一步",
        "closing": "如以上内容与您的理解有出入，或对任何一项需求有疑问，欢迎直接回复本邮件，我们很乐意与您沟通。",
        "regards": "此致\n敬礼！",
        "signature": "“{project}”项目组",
        "in_review": "评估中",
        "in_review.next": "我们将尽快把评估结果告知您。",
        "clarifying": "正在确认部分细节",
        "clarifying.next": "细节确认后，我们将完成评估并告知您结果。",
        "on_hold": "暂缓：仍在等待部分细节",
        "on_hold.next": "收到相关细节后，我们将尽快完成评估并告知您结果。",
        "answer_pending": "评估中",
        "answer_pending.next": "我们将另行正式答复您。",
        "meeting_pending": "评估中",
        "meeting_pending.next": "我们希望与您当面沟通，近期将向您发出会议邀请。",
        "approved": "已确认",
        "approved.next": "该需求属于双方确认的项目范围，我们已将其纳入工作安排。",
        "approved_change": "已确认，作为项目范围变更",
        "approved_change.next": "我们将把它纳入项目计划，并与您确认变更的具体细节。",
        "answered": "已于{date}去函答复",
        "answered.next": "回函中列出了可选方案，欢迎随时与我们进一步沟通。",
        "meeting_invited": "待会议沟通",
        "meeting_invited.next": "我们已邀请您于{date}开会，届时详细沟通。",
        "meeting_held": "已在会议中沟通",
        "meeting_held.next": "我们将按会议中商定的内容跟进。",
        "closed": "已关闭",
        "closed.next": "无需进一步处理。",
    },
}


# The statuses a digest always shows (as still open to the client, however old): see `_situation`. Any
# other request appears only if it was decided since the last update, which is a change recorded then.
DIGEST_OPEN = (
    RequestStatus.NEEDS_INFO,
    RequestStatus.EXPIRED,
    RequestStatus.SUBMITTED,
    RequestStatus.IN_REVIEW,
    RequestStatus.DECLINED,
    RequestStatus.LETTER_DRAFTED,
)


def _situation(rec: RequestRecord) -> tuple[str, datetime | None, dict[str, str]]:
    """Say, in client terms, where a request stands: a TEXT key, when it was decided (None if open), and values."""
    lang_date: dict[str, str] = {}
    decision = rec.last_decision
    meeting = rec.decline_form is not None and rec.decline_form.channel is Channel.MEETING
    if rec.status is RequestStatus.NEEDS_INFO:
        return "clarifying", None, lang_date
    if rec.status is RequestStatus.EXPIRED:
        # The question inside the team went unanswered; to the client the request is waiting, not closed.
        return "on_hold", None, lang_date
    if rec.status in (RequestStatus.SUBMITTED, RequestStatus.IN_REVIEW):
        return "in_review", None, lang_date
    if rec.status in (RequestStatus.DECLINED, RequestStatus.LETTER_DRAFTED):
        # Declined, but the client has not been told yet: that is the PM's letter or meeting to do.
        return ("meeting_pending" if meeting else "answer_pending"), None, lang_date
    if rec.status is RequestStatus.APPROVED and decision is not None and decision.kind is DecisionKind.APPROVE:
        change = bool((decision.form or {}).get("scope_change"))
        return ("approved_change" if change else "approved"), decision.at, lang_date
    if rec.status is RequestStatus.LETTER_SENT:
        sent = next((e for e in reversed(rec.events) if e.kind == "letter_sent"), None)
        at = (rec.letter.sent_at if rec.letter and rec.letter.sent_at else None) or (sent.at if sent else None)
        if meeting:
            held = next((e for e in reversed(rec.events) if e.kind == "outcome_recorded"), None)
            if held is not None:
                return "meeting_held", held.at, lang_date
            assert rec.decline_form is not None
            if rec.decline_form.meeting is not None:
                lang_date["meeting"] = rec.decline_form.meeting.start.isoformat()
            return "meeting_invited", at, lang_date
        return "answered", at, lang_date
    withdrawn = next((e for e in reversed(rec.events) if e.kind == "withdrawn"), None)
    return "closed", withdrawn.at if withdrawn else rec.created_at, lang_date


def build_digest(
    project: Project, requests: Iterable[RequestRecord], *, since: datetime, now: datetime
) -> ClientDigest:
    """Build the client update: open requests, and those decided since `since`, in the project's language."""
    builder = DigestBuilder(project, since=since)
    builder.add(requests)
    return builder.build(now)


class DigestBuilder:
    """A client update built from requests handed over page by page: it keeps each one's entry (a few
    lines of text), never the requests themselves, so reading a large project costs one page of them."""

    def __init__(self, project: Project, *, since: datetime) -> None:
        self.project = project
        self.since = since
        self.open_entries: list[tuple[int, DigestEntry]] = []
        self.decided_entries: list[tuple[datetime, int, DigestEntry]] = []

    def add(self, requests: Iterable[RequestRecord]) -> None:
        project, since = self.project, self.since
        lang = project.language
        t = TEXT[lang]
        for rec in requests:
            if rec.project != project.slug:
                continue
            key, decided_at, values = _situation(rec)
            if decided_at is not None and decided_at < since:
                continue
            when = format_date(decided_at.date(), lang) if decided_at else ""
            if "meeting" in values:
                when = format_date(datetime.fromisoformat(values["meeting"]).date(), lang)
            entry = DigestEntry(
                ref=rec.ref,
                words=shorten(rec.client_words or rec.text, MAX_WORDS),
                raised_on=format_date(rec.created_at.date(), lang),
                status=t[key].format(date=when),
                next_step=t[f"{key}.next"].format(date=when),
            )
            if decided_at is None:
                self.open_entries.append((rec.number, entry))
            else:
                self.decided_entries.append((decided_at, rec.number, entry))

    def build(self, now: datetime) -> ClientDigest:
        project, since = self.project, self.since
        lang = project.language
        t = TEXT[lang]
        opened = tuple(e for _, e in sorted(self.open_entries, key=lambda x: x[0]))
        decided = tuple(e for _, _, e in sorted(self.decided_entries, key=lambda x: (x[0], x[1])))

        today = format_date(now.date(), lang)
        since_text = format_date(since.date(), lang)
        subject = t["subject"].format(project=project.name, today=today)
        sections: list[tuple[str, tuple[DigestEntry, ...]]] = []
        if opened:
            sections.append((t["open"], opened))
        if decided:
            sections.append((t["decided"].format(since=since_text), decided))
        text = _render_text(project, lang, sections, today=today, since=since_text)
        return ClientDigest(
            project=project.slug,
            language=lang,
            since=since,
            until=now,
            subject=subject,
            body_text=text,
            body_html=_render_html(project, lang, sections, today=today, since=since_text),
            open=opened,
            decided=decided,
        )


def _heading(lang: Language, index: int, title: str, numbered: bool) -> str:
    if not numbered:
        return title
    return f"{'一二三'[index]}、{title}" if lang is Language.ZH else f"{index + 1}. {title}"


def _entry_lines(lang: Language, e: DigestEntry) -> list[str]:
    t = TEXT[lang]
    sep = "：" if lang is Language.ZH else ": "
    quoted = f"“{e.words}”"
    head = (
        f"{e.ref}（{t['raised'].format(date=e.raised_on)}）"
        if lang is Language.ZH
        else f"{e.ref} ({t['raised'].format(date=e.raised_on)})"
    )
    return [head, f"  {quoted}", f"  {t['status']}{sep}{e.status}", f"  {t['next']}{sep}{e.next_step}"]


def _render_text(
    project: Project, lang: Language, sections: list[tuple[str, tuple[DigestEntry, ...]]], *, today: str, since: str
) -> str:
    t = TEXT[lang]
    out = [
        t["greeting"].format(contact=project.client.contact),
        "",
        t["intro"].format(project_title=project_title(project.name, lang), today=today),
        "",
    ]
    if not sections:
        out += [t["nothing"].format(since=since), ""]
    for i, (title, entries) in enumerate(sections):
        out += [_heading(lang, i, title, len(sections) > 1), ""]
        for e in entries:
            out += [*_entry_lines(lang, e), ""]
    out += [t["closing"], "", t["regards"], "", t["signature"].format(project=project.name)]
    if lang is Language.ZH:
        out.append(today)
    return "\n".join(out).strip() + "\n"


def _render_html(
    project: Project, lang: Language, sections: list[tuple[str, tuple[DigestEntry, ...]]], *, today: str, since: str
) -> str:
    t = TEXT[lang]
    esc = html.escape
    parts = [
        f"<p>{esc(t['greeting'].format(contact=project.client.contact))}</p>",
        f"<p>{esc(t['intro'].format(project_title=project_title(project.name, lang), today=today))}</p>",
    ]
    if not sections:
        parts.append(f"<p>{esc(t['nothing'].format(since=since))}</p>")
    for i, (title, entries) in enumerate(sections):
        parts.append(f'<h3 style="font-size:15px">{esc(_heading(lang, i, title, len(sections) > 1))}</h3>')
        rows = []
        for e in entries:
            rows.append(
                "<tr>"
                f'<td style="vertical-align:top;padding:6px 12px 6px 0;white-space:nowrap"><b>{esc(e.ref)}</b><br>'
                f'<span style="color:#666">{esc(t["raised"].format(date=e.raised_on))}</span></td>'
                f'<td style="vertical-align:top;padding:6px 0">“{esc(e.words)}”<br>'
                f"{esc(t['status'])}: <b>{esc(e.status)}</b><br>{esc(t['next'])}: {esc(e.next_step)}</td>"
                "</tr>"
            )
        parts.append('<table style="border-collapse:collapse">' + "".join(rows) + "</table>")
    regards = "<br>".join(esc(x) for x in t["regards"].split("\n"))
    sign = esc(t["signature"].format(project=project.name))
    if lang is Language.ZH:
        sign += f"<br>{esc(today)}"
    parts += [f"<p>{esc(t['closing'])}</p>", f"<p>{regards}</p>", f"<p>{sign}</p>"]
    body = "\n".join(parts)
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head>\n'
        f'<body style="font-family:Arial,Helvetica,sans-serif;font-size:14px;line-height:1.5">\n{body}\n</body></html>\n'
    )
