"""What the bot says in chat as plain text, in the reader's language (the words are in `bot.text`).

The terminal prints these; Slack and Teams use them as the notification text of their richer cards
(which they build from `bot.review` views with the same words). Letters to clients live in
`bot/letters/` instead.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .domain import Actor, Language, Letter, Project, RequestRecord, RequestStatus, ToneResult
from .letters.tone import format_report
from .review import (
    RequestView,
    awaits_meeting_outcome,
    request_line,
    second_opinion_lines,
    shorten,
    status_label,
    status_line,
    time_facts,
    verdict_line,
)
from .text import Items, Phrase, When, plain, t

__all__ = [
    "awaits_meeting_outcome",
    "request_line",
    "shorten",
    "status_line",
    "verdict_line",
]


def when(dt: datetime, lang: Language = Language.EN, tz: str = "UTC") -> str:
    return When(dt, tz).render(lang)


def receipt(rec: RequestRecord, lang: Language) -> str:
    return t(lang, "receipt", ref=rec.ref, verdict=verdict_line(rec.verdict, lang))


def view_text(view: RequestView, *, commands: bool = False) -> str:
    """A request view as plain text: the terminal's card, and every platform's notification text."""
    lang = view.language
    lines = [
        view.title,
        " · ".join(t(lang, "card.fact", label=f.label, value=plain(f.value)) for f in view.facts if f.link is None),
        f"“{view.text}”",
        t(lang, "card.scope_check", verdict=view.verdict.headline)
        + (f" · {view.verdict.confidence}" if view.verdict.confidence else ""),
    ]
    if view.verdict.clause:
        lines.append(f"  “{view.verdict.clause}”")
    if view.verdict.explanation:
        lines.append(f"  {view.verdict.explanation}")
    if view.verdict.candidates:
        lines.append(f"  {view.verdict.candidates}")
    lines += [f"  · {p}" for p in view.verdict.parts]
    lines += [f"  {line}" for line in view.verdict.second]
    links = [f for f in view.facts if f.link]
    lines += [t(lang, "card.fact", label=f.label, value=f.link) for f in links]
    lines.append(t(lang, "card.status", status=plain(view.status)))
    if commands and view.actions:
        lines.append(t(lang, "card.commands", commands=Items(f"/{a.action.value} {view.ref}" for a in view.actions)))
    return "\n".join(lines)


def decided_for_requester(rec: RequestRecord, lang: Language) -> str:
    d = rec.last_decision
    assert d is not None
    if d.kind.value == "approve":
        key = "notice.approved_change" if (d.form or {}).get("scope_change") else "notice.approved"
        return t(lang, key, who=d.actor, ref=rec.ref, text=shorten(rec.text, 90))
    key = "notice.declined_meeting" if rec.answered_by_meeting else "notice.declined_email"
    return t(lang, key, who=d.actor, ref=rec.ref)


def question_for_requester(rec: RequestRecord, question: str, asker: str, lang: Language) -> str:
    return t(lang, "notice.question", who=asker, ref=rec.ref, text=shorten(rec.text, 80), question=question)


def answer_for_pm(rec: RequestRecord, answer: str, who: str, lang: Language) -> str:
    return t(lang, "notice.answered", who=who, ref=rec.ref, answer=answer)


def answer_notice(rec: RequestRecord, answer: str, lang: Language) -> str:
    """The requester's answer, for the PM who asked (the answerer is on the record)."""
    who = rec.last_event("answered")
    return answer_for_pm(rec, answer, who.actor.display if who else rec.requester.display, lang)


def withdrawn_for_pm(rec: RequestRecord, who: str, lang: Language) -> str:
    return t(lang, "notice.withdrawn", who=who, ref=rec.ref, text=shorten(rec.text, 90))


def letter_status(letter: Letter, lang: Language) -> str:
    label = t(lang, f"letter.status.{letter.status}") if letter.status in _LETTER_STATUSES else letter.status
    return t(lang, "letter.status.edited", status=label) if letter.edited else label


_LETTER_STATUSES = ("draft", "queued", "sent", "failed")


def letter_title(rec_ref: str, letter: Letter, lang: Language) -> str:
    key = "letter.title_meeting" if letter.kind == "meeting_invite" else "letter.title"
    return t(lang, key, ref=rec_ref)


def tone_lines(tone: tuple[ToneResult, ...], lang: Language) -> list[str]:
    return format_report(tone, lang).splitlines()


def letter_text(rec: RequestRecord, letter: Letter, lang: Language, tz: str = "UTC") -> str:
    lines = [
        t(
            lang,
            "letter.header",
            title=letter_title(rec.ref, letter, lang),
            language=Phrase(f"language.{letter.language.value}"),
            status=letter_status(letter, lang),
        ),
        t(lang, "letter.subject", subject=letter.subject),
        "",
        letter.body_text.rstrip(),
        "",
        t(lang, "letter.tone_check"),
        format_report(letter.tone, lang),
    ]
    if letter.talking_points:
        lines += ["", t(lang, "letter.talking_points"), letter.talking_points.rstrip()]
    if letter.status in ("queued", "sent", "failed"):
        lines += ["", send_status_line(letter, lang, tz)]
    elif letter.send_error:
        lines += ["", t(lang, "letter.last_send_failed", reason=letter.send_error)]
    return "\n".join(lines)


def send_status_line(letter: Letter, lang: Language, tz: str = "UTC") -> str:
    """Where the letter's sending stands: queued, sent (when, how) or failed (why). The Message-ID is
    for the mail logs, not for people: it is not shown."""
    if letter.status == "queued":
        return t(lang, "letter.send.queued")
    if letter.status == "sent":
        how = Phrase(f"via.{letter.sent_via}") if letter.sent_via in _VIAS else Phrase("via.other")
        if letter.sent_at:
            return t(lang, "letter.send.sent_at", how=how, at=When(letter.sent_at, tz))
        return t(lang, "letter.send.sent", how=how)
    if letter.status == "failed":
        return t(lang, "letter.send.failed", reason=letter.send_error or t(lang, "letter.send.no_reason"))
    return t(lang, "letter.send.not_yet")


_VIAS = ("smtp", "manual", "meeting")


def letter_state_line(letter: Letter, lang: Language, tz: str = "UTC", by: Actor | None = None) -> str:
    """Where the letter stands, at the top of the PM's private letter message."""
    if letter.status == "sent" and letter.sent_via == "smtp":
        return "✅ " + send_status_line(letter, lang, tz)
    if letter.status == "sent":
        how = Phrase(f"via.{letter.sent_via}") if letter.sent_via in _VIAS else Phrase("via.other")
        at = When(letter.sent_at, tz) if letter.sent_at else ""
        key = "letter.state.marked_sent_by" if by is not None else "letter.state.marked_sent"
        return "✅ " + t(lang, key, who=by.display if by else "", how=how, at=at)
    if letter.status == "queued":
        return "📤 " + send_status_line(letter, lang, tz)
    if letter.status == "failed":
        return "⚠️ " + t(lang, "letter.state.failed", reason=letter.send_error or t(lang, "letter.send.no_reason"))
    return t(lang, "letter.state.draft_edited" if letter.edited else "letter.state.draft")


def tone_marks(letter: Letter, lang: Language) -> list[tuple[bool, str]]:
    """The tone check, one (passed, line) per rule."""
    lines = format_report(letter.tone, lang).splitlines()
    return [(r.passed, line) for r, line in zip(letter.tone, lines, strict=True)]


def letter_ready(rec: RequestRecord, letter: Letter, lang: Language, tz: str = "UTC") -> str:
    return t(lang, "letter.ready", ref=rec.ref) + "\n\n" + letter_text(rec, letter, lang, tz)


def scope_summary(project: Project, lang: Language) -> str:
    def heading(key: str) -> str:
        return t(lang, "scope.heading", title=t(lang, key))

    lines = [t(lang, "scope.head", name=project.name, slug=project.slug, client=project.client.name, v=project.version)]
    if project.goals:
        lines.append(heading("scope.goals"))
        lines += [f"  • {g}" for g in project.goals]
    lines.append(heading("scope.in_scope"))
    for it in project.in_scope:
        lines.append(f"  • [{it.id}] {it.title}" + (f": {it.notes}" if it.notes else ""))
    if project.out_of_scope:
        lines.append(heading("scope.out_of_scope"))
        for it in project.out_of_scope:
            lines.append(f"  • [{it.id}] {it.title}" + (f": {it.notes}" if it.notes else ""))
    if project.milestones:
        lines.append(heading("scope.milestones"))
        lines += [f"  • {m.due.isoformat()}  {m.name}" for m in project.milestones]
    if project.capacity:
        lines.append(t(lang, "scope.capacity", capacity=project.capacity))
    lines.append(t(lang, "scope.pms", pms=Items(project.pms)))
    return "\n".join(lines)


def timeline(
    rec: RequestRecord,
    *,
    show_letter: bool,
    lang: Language = Language.EN,
    tz: str = "UTC",
    now: datetime | None = None,
) -> str:
    lines = [
        f"{rec.ref} · {rec.project} · {status_label(rec.status).render(lang)}",
        f"“{rec.text}”",
        t(lang, "timeline.requested", who=rec.requester, at=When(rec.created_at, tz), v=rec.scope_version),
        t(lang, "card.scope_check", verdict=verdict_line(rec.verdict, lang)),
    ]
    explanation = rec.verdict.why.render(lang) if rec.verdict.why is not None else rec.verdict.explanation
    if explanation:
        lines.append(f"  {explanation}")
    lines += [f"  {line}" for line in second_opinion_lines(rec.verdict, lang)]
    if rec.source and rec.source.permalink:
        lines.append(t(lang, "timeline.source", link=rec.source.permalink))
    lines.append(t(lang, "card.status", status=plain(status_line(rec, lang, tz))))
    lines += [f"{f.label}: {plain(f.value)}" for f in time_facts(rec, lang, tz, now)]
    lines.append(t(lang, "timeline.record"))
    for e in rec.events:
        text = f": {shorten(e.text, 100)}" if e.text and e.kind not in ("letter_drafted", "letter_edited") else ""
        at = When(e.at, tz).render(lang)
        lines.append(f"  {at}  {e.kind:<17} {t(lang, 'timeline.by', who=e.actor, via=e.actor.platform)}{text}")
    if rec.letter and show_letter:
        lines += ["", letter_text(rec, rec.letter, lang, tz)]
    elif rec.letter or rec.status in (RequestStatus.LETTER_DRAFTED, RequestStatus.LETTER_SENT):
        lines.append(t(lang, "timeline.letter_hidden"))
    return "\n".join(lines)


def send_confirmation(rec: RequestRecord, letter: Letter, recipients_summary: str, lang: Language) -> str:
    """Ask the PM to confirm an e-mail to the client, showing exactly who will get it."""
    what = Phrase("word.invitation" if letter.kind == "meeting_invite" else "word.letter")
    key = "send.confirm_again" if letter.status == "sent" else "send.confirm"
    return t(lang, key, what=what, ref=rec.ref, subject=letter.subject) + "\n" + recipients_summary


def email_outcome_for_sender(rec: RequestRecord, letter: Letter, lang: Language, tz: str = "UTC") -> str:
    """Tell the PM who sent the letter how the sending ended."""
    what = Phrase("word.invitation" if letter.kind == "meeting_invite" else "word.letter")
    status = send_status_line(letter, lang, tz)
    if letter.status == "sent":
        return t(lang, "send.gone", what=what, ref=rec.ref, status=status)
    return t(lang, "send.not_gone", what=what, ref=rec.ref, status=status)


def outcome_recorded(rec: RequestRecord, lang: Language) -> str:
    key = "notice.outcome_recorded" if rec.answered_by_meeting else "notice.outcome_recorded_letter"
    return t(lang, key, ref=rec.ref)


def digest_queued(subject: str, open_count: int, decided_count: int, lang: Language = Language.EN) -> str:
    return t(lang, "digest.queued", subject=subject, open=open_count, decided=decided_count)


# --- time: reminders, escalations, expiries, follow-ups, the daily summary ------------------------

# What each timely notice is, as its kind names it.
TIMELY_KINDS = ("reminder", "escalation", "info_reminder", "expired", "expired_pm", "follow_up")


def timely_headline(
    kind: str,
    rec: RequestRecord,
    project: Project,
    lang: Language,
    *,
    on_behalf_of: Actor | None = None,
    due: datetime | None = None,
) -> str:
    """The line above the request in a reminder, an escalation, an expiry notice or a follow-up."""
    from .review import day_label

    when = due or rec.due_at
    day = day_label(when, project.timezone, lang) if when else ""
    d = rec.last_decision
    if kind == "reminder":
        text = t(lang, "notice.reminder", ref=rec.ref, day=day)
    elif kind == "escalation":
        text = t(lang, "notice.escalation", ref=rec.ref, project=project.name, day=day)
    elif kind == "info_reminder":
        text = t(lang, "notice.info_reminder", who=d.actor if d else t(lang, "word.a_pm"), ref=rec.ref, day=day)
    elif kind == "expired":
        text = t(lang, "notice.expired", ref=rec.ref, day=day)
    elif kind == "expired_pm":
        text = t(lang, "notice.expired_pm", ref=rec.ref, who=rec.requester, day=day)
    elif kind == "follow_up":
        text = t(lang, "notice.follow_up_meeting" if rec.answered_by_meeting else "notice.follow_up", ref=rec.ref)
    else:
        text = rec.ref
    if on_behalf_of is not None:
        text += " " + t(lang, "notice.standing_in", pm=on_behalf_of)
    return text


def timely_text(
    kind: str,
    rec: RequestRecord,
    project: Project,
    lang: Language,
    *,
    on_behalf_of: Actor | None = None,
    now: datetime | None = None,
    due: datetime | None = None,
) -> str:
    """A timely notice as plain text: its line, then the request as the review card shows it."""
    from .review import Viewer, review_view

    view = review_view(rec, project, Viewer.review_channel(), language=lang, now=now)
    head = timely_headline(kind, rec, project, lang, on_behalf_of=on_behalf_of, due=due)
    return head + "\n\n" + view_text(view)


def summary_title(project: Project, lang: Language) -> str:
    return t(lang, "summary.title", project=project.name)


def summary_heading(section: str, n: int, lang: Language) -> str:
    return t(lang, f"summary.{section}", n=n)


def summary_text(
    project: Project, sections: dict[str, list[RequestRecord]], lang: Language, *, now: datetime | None = None
) -> str:
    """The daily summary as plain text: what is overdue, what waits, what needs a follow-up."""
    lines = [summary_title(project, lang)]
    for key, recs in sections.items():
        if not recs:
            continue
        lines += ["", summary_heading(key, len(recs), lang)]
        lines += [f"  {request_line(r, lang, tz=project.timezone, now=now)}" for r in recs[:10]]
        if len(recs) > 10:
            lines.append("  " + t(lang, "summary.more", n=len(recs) - 10))
    return "\n".join(lines)


def notice_on_behalf(data: dict[str, Any]) -> Actor | None:
    """The away PM a timely notice's recipient stands in for (None: for themselves)."""
    d = data.get("on_behalf_of")
    return Actor.from_dict(d) if d else None


def notice_due(data: dict[str, Any]) -> datetime | None:
    """The due time a notice is about when the request no longer carries it (an expired question)."""
    due = data.get("due")
    return datetime.fromisoformat(due) if due else None


def summary_views(
    data: dict[str, Any], project: Project, reader: Actor, lang: Language, now: datetime
) -> list[tuple[str, str, list[RequestView], int]]:
    """A daily summary notice's sections as its reader sees them: (key, heading, each request's view with
    the reader's buttons, how many more there are than it lists)."""
    from .review import Viewer, review_view

    for_pm = notice_on_behalf(data)
    counts = data.get("counts") or {}
    out = []
    for key, snapshots in (data.get("sections") or {}).items():
        recs = [RequestRecord.from_snapshot(d) for d in snapshots]
        views = [
            review_view(r, project, Viewer.of(reader, r, project, on_behalf_of=for_pm), language=lang, now=now)
            for r in recs
        ]
        n = int(counts.get(key, len(views)))
        out.append((key, summary_heading(key, n, lang), views, max(0, n - len(views))))
    return out
