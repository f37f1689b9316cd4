"""`make screenshots`: run the example flow on both example projects and draw every Teams card it shows.

A throwaway SQLite database gets the projects in `examples/`; a requester records requests (an ordinary
one, one of several parts, a 4,000-character one, one full of markdown), and the PM answers them through
the service, as the Teams bot does: asks, approves as a scope change, declines by e-mail and by meeting,
sends a letter (queued, then sent), and a send fails. At every step the cards the bot would post or show
are built with `adapters.teams.cards` and drawn with Microsoft's renderer in the system's Chromium
(`tools.cardrender`), in English (brightpath-booking) and Chinese (lanting-crm), into `build/screenshots/`
(ignored by git). `--docs` also copies a few chosen ones into `docs/screenshots/` for the README.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.runtime import open_runtime
from adapters.teams import cards
from bot.domain import (
    Actor,
    Alternative,
    AlternativeKind,
    Channel,
    DeclineForm,
    Language,
    MeetingProposal,
    ReasonCategory,
)
from bot.forms import answer_form, intake_form, letter_edit_form
from bot.messages import email_outcome_for_sender
from bot.ports import Clock
from bot.projectfile import load_project_file
from bot.review import Action, Viewer, review_view
from bot.service import IntakeService, open_question
from bot.text import language_for, t

from .cardrender import CardRenderer, missing

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "screenshots"
DOCS = ROOT / "docs" / "screenshots"
# The few pictures the README shows.
CHOSEN = (
    "en-02-review-card.png",
    "en-13-letter-draft.png",
    "zh-13-letter-draft.png",
    "en-05-long-request-folded.png",
)

PM = Actor("teams", "29:pm-dana", email="dana.lee@northbeam.example", name="Dana Lee")
START = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)


class Steps(Clock):
    """A clock that moves a few minutes at each look: the same pictures on every run."""

    def __init__(self) -> None:
        self.at = START

    def now(self) -> datetime:
        self.at += timedelta(minutes=3)
        return self.at


@dataclass
class Example:
    slug: str
    file: str
    requester: Actor
    ordinary: str
    several: str
    long_text: str
    markdown: str
    question: str
    answer: str
    reason: str  # why the ordinary request is declined (by e-mail)
    meeting_reason: str  # why the markdown one is declined (in a meeting)
    cards: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


EXAMPLES = {
    "en": Example(
        slug="brightpath-booking",
        file="examples/brightpath-booking.yaml",
        requester=Actor("teams", "29:sam", email="sam.okafor@brightpath.example", name="Sam Okafor"),
        ordinary="Could patients also get their appointment reminders by SMS?",
        several=(
            "Three things: 1. patients should pay a deposit online when they book; 2. could we also get an "
            "Android app; 3. the reminder e-mail should show the clinic's phone number; 4. patients should pay a "
            "deposit online when they book; 5. video consultations for follow-ups; 6. could we also get an "
            "Android app; 7. rate their physio after a visit."
        ),
        long_text=(
            "We would like the booking site to show every appointment a patient ever had, including those from "
            "before the move to Cliniko, with the practitioner's notes attached to each of them. "
            + "Reception keeps being asked for old appointment details, and it takes hours every week. "
            * 45
        )[:4000],
        markdown="*urgent* **please**: 1. move the button 2. bigger font — see [this](https://example.com) <b>now</b>",
        question="Which clinics would need it first, and is it for all treatment types?",
        answer="The two pilot clinics first; all treatment types.",
        reason="The agreed reminders are sent by e-mail only; text messages are not part of this project.",
        meeting_reason="Layout changes now would move the launch date we agreed on.",
    ),
    "zh": Example(
        slug="lanting-crm",
        file="examples/lanting-crm.yaml",
        requester=Actor("teams", "29:zhou", email="zhouwenjing@lanting-tea.example", name="周文静", locale="zh-CN"),
        ordinary="会员积分能不能也在抖音小店里用？",
        several="三个问题：一是会员生日要发短信；二是积分要能在抖音小店抵现；三是会员等级页面的字太小了。另外，能不能做一个安卓App？",
        long_text=(
            "我们希望会员系统能显示每位会员以前所有的消费记录，包括系统上线之前门店手工登记的，每一笔都要能查到。"
            + "门店店长每周都要花好几个小时帮会员查以前的消费记录，大家都很头疼。" * 120
        )[:4000],
        markdown="**急**：1. 改一下按钮 2. 字体大一点 *谢谢* [链接](https://example.com)",
        question="需要覆盖哪些门店？是否包括加盟店？",
        answer="先覆盖苏州的六家直营店，不包括加盟店。",
        reason="抖音小店不在本期项目范围之内。",
        meeting_reason="现在改界面会影响我们约定的上线日期。",
    ),
}


class Shots:
    """The cards of the flow, in order, to be drawn once the flow has run."""

    def __init__(self) -> None:
        self.cards: list[tuple[str, dict[str, Any], str | None]] = []

    def draw(self, name: str, card: dict[str, Any], *, click: str | None = None) -> None:
        self.cards.append((name, card, click))

    def render(self, renderer: CardRenderer, out: Path) -> list[Path]:
        written = []
        for name, card, click in self.cards:
            path = out / f"{name}.png"
            renderer.draw(card, png=path)
            written.append(path)
            if click:  # the same card after pressing its button ("Show all")
                pressed = out / f"{name.replace('folded', 'unfolded')}.png"
                renderer.click(click, png=pressed)
                written.append(pressed)
        return written


async def flow(lang: str, ex: Example, service: IntakeService, shots: Shots) -> None:
    project = load_project_file(str(ROOT / ex.file))
    await service.load_project(project, loaded_by="screenshots")
    project = await service.project(ex.slug)
    language = Language(lang)
    n = iter(range(1, 100))

    def name(what: str) -> str:
        return f"{lang}-{next(n):02d}-{what}"

    async def review(ref: str, viewer: Actor | None = None) -> dict[str, Any]:
        rec, proj, who = await service.view(ref, actor=viewer or PM)
        return cards.request_card(review_view(rec, proj, Viewer.review_channel() if viewer is None else who))

    async def submit(text: str) -> str:
        return (await service.submit_request(project=ex.slug, actor=ex.requester, text=text)).ref

    shots.draw(name("intake-form"), cards.form_card(intake_form(language, projects=[project], chosen=ex.slug)))
    ordinary = await submit(ex.ordinary)
    shots.draw(name("review-card"), await review(ordinary))
    several = await submit(ex.several)
    shots.draw(name("several-parts"), await review(several))
    markdown = await submit(ex.markdown)
    shots.draw(name("markdown-typed"), await review(markdown))
    long_ref = await submit(ex.long_text)
    shots.draw(name("long-request-folded"), await review(long_ref), click=t(language, "card.show_all"))

    # The PM's forms.
    for action in (Action.APPROVE, Action.DECLINE, Action.ASK, Action.CORRECT, Action.WITHDRAW):
        _, spec = await service.open_form(ordinary, action, actor=PM)
        if spec is not None:
            shots.draw(name(f"form-{action.value}"), cards.form_card(spec))

    # A question to the requester, answered on the card.
    rec = await service.ask_details(several, actor=PM, question=ex.question)
    view = review_view(rec, project, Viewer.of(ex.requester, rec, project))
    question = cards.question_card(
        view, ex.question, PM.display, form=answer_form(rec, open_question(rec), view.language)
    )
    shots.draw(name("question-card"), question)
    rec = await service.answer(several, actor=ex.requester, text=ex.answer)
    shots.draw(name("answered-review"), await review(several))

    # Declined by e-mail: the letter in the PM's chat, the confirmation, queued, sent.
    form = DeclineForm(
        ReasonCategory.PROJECT_GOALS,
        ex.reason,
        (Alternative(AlternativeKind.CHANGE_REQUEST, ""), Alternative(AlternativeKind.REVISIT_LATER)),
        "",
        Channel.EMAIL,
        language,
    )
    rec = await service.decline(ordinary, actor=PM, form=form)
    rec = await service.get_request(ordinary)
    assert rec.letter is not None
    tz = project.timezone
    pm_lang = language_for(project, PM)

    def letter(note: str | None = None) -> dict[str, Any]:
        assert rec.letter is not None
        return cards.letter_card(
            rec.ref,
            rec.letter.to_dict(),
            pm_lang,
            tz=tz,
            by=PM,
            download_url="https://intake.example.com/teams/letter.eml",
            can_send_email=True,
            talking_points=rec.letter.talking_points,
            note=note,
        )

    shots.draw(name("letter-draft"), letter())
    shots.draw(
        name("letter-edit"),
        cards.form_card(letter_edit_form(rec.ref, rec.letter.subject, rec.letter.body_text, pm_lang)),
    )
    rcpt = await service.letter_email_recipients(rec.ref, actor=PM)
    shots.draw(name("send-confirm"), cards.send_confirm_card(rec.ref, rec.letter.to_dict(), rcpt, pm_lang))
    rec = await service.send_letter_email(rec.ref, actor=PM, confirmed=rcpt)
    to = ", ".join(str(m) for m in rcpt.to)
    shots.draw(name("letter-queued"), letter(t(pm_lang, "send.queued_to", to=to)))
    send_id = next(e for e in rec.events if e.kind == "letter_queued").data["send_id"]
    rec = await service.record_email_sent(rec.ref, send_id=send_id, message_id=f"<{send_id}@intake.example>")
    assert rec.letter is not None
    shots.draw(name("letter-sent"), letter(email_outcome_for_sender(rec, rec.letter, pm_lang, tz)))
    shots.draw(name("review-answered-by-email"), await review(ordinary))

    # A long request declined: the letter quotes its beginning; a send that fails.
    rec = await service.decline(long_ref, actor=PM, form=replace_alts(form, ()))
    rec = await service.get_request(long_ref)
    shots.draw(name("letter-long-request"), letter())
    rcpt = await service.letter_email_recipients(rec.ref, actor=PM)
    rec = await service.send_letter_email(rec.ref, actor=PM, confirmed=rcpt)
    send_id = next(e for e in rec.events if e.kind == "letter_queued").data["send_id"]
    rec = await service.record_email_failed(rec.ref, send_id=send_id, reason="554 5.7.1 Message rejected by policy")
    assert rec.letter is not None
    shots.draw(name("letter-failed"), letter(email_outcome_for_sender(rec, rec.letter, pm_lang, tz)))

    # Declined with a meeting: the invitation and the PM's talking points; the outcome form.
    meeting = DeclineForm(
        ReasonCategory.TIMELINE,
        ex.meeting_reason,
        (Alternative(AlternativeKind.PHASED),),
        "",
        Channel.MEETING,
        language,
        meeting=MeetingProposal(START.replace(hour=9, minute=0) + timedelta(days=7)),
    )
    rec = await service.decline(markdown, actor=PM, form=meeting)
    rec = await service.get_request(markdown)
    shots.draw(name("meeting-invitation"), letter())
    _, spec = await service.open_form(markdown, Action.OUTCOME, actor=PM)
    if spec is not None:
        shots.draw(name("form-outcome"), cards.form_card(spec))

    # Approved as a scope change, and withdrawn by the requester.
    approve = await submit(ex.ordinary + " " + ex.answer)
    _, spec = await service.open_form(approve, Action.APPROVE, actor=PM)
    values = {"estimate": "3 days" if lang == "en" else "3 人天", "schedule_impact": "none" if lang == "en" else "无"}
    if spec is not None:
        rec = await service.act(
            approve,
            Action.APPROVE,
            actor=PM,
            values={f.id: values.get(f.id, f.default or "") for f in spec.fields if f.required or f.id in values},
        )
    shots.draw(name("approved-change"), await review(approve))
    await service.withdraw(several, actor=ex.requester, reason="")
    shots.draw(name("withdrawn"), await review(several))
    shots.draw(name("message"), cards.message_card(t(language, "teams.welcome") + "\n\n" + t(language, "teams.help")))


def replace_alts(form: DeclineForm, alts: tuple[Alternative, ...]) -> DeclineForm:
    from dataclasses import replace

    return replace(form, alternatives=alts)


async def run() -> Shots:
    shots = Shots()
    with tempfile.TemporaryDirectory() as tmp:
        rt = await open_runtime(f"sqlite+aiosqlite:///{tmp}/screenshots.db", migrate=True, clock=Steps())
        try:
            for lang, ex in EXAMPLES.items():
                await flow(lang, ex, rt.service, shots)
        finally:
            await rt.close()
    return shots


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.screenshots", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"where the PNGs go (default {OUT.relative_to(ROOT)})")
    parser.add_argument("--docs", action="store_true", help="also copy the README's pictures into docs/screenshots")
    args = parser.parse_args(argv)
    reason = missing()
    if reason:
        print(f"screenshots: cannot draw cards here: {reason}", file=sys.stderr)
        return 2
    if args.out.exists():
        shutil.rmtree(args.out)
    shots = asyncio.run(run())
    with CardRenderer() as renderer:
        written = shots.render(renderer, args.out)
    for path in written:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    if args.docs:
        DOCS.mkdir(parents=True, exist_ok=True)
        for chosen in CHOSEN:
            shutil.copyfile(args.out / chosen, DOCS / chosen)
    print(f"{len(written)} screenshots in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
