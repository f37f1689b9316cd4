"""The bot in a terminal: the whole flow with no Slack or Teams account.

It runs on the same service and outbox as the server. Notices the core queues for the `console`
platform (review cards, the requester's notices, the PM's letter) are printed after each command, each
with a header saying who would see it. It reads commands from a person at a prompt or from piped stdin
(then each command is echoed, so a scripted session reads as a transcript).
"""

from __future__ import annotations

import asyncio
import getpass
import os
import re
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from email.utils import parseaddr
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from bot import messages
from bot.domain import Absence, Actor, Language, Notice, Project, RequestRecord, VerdictKind
from bot.errors import FormInvalid, IntakeError, InvalidInput
from bot.forms import Field, FieldKind, FormSpec, moment_of
from bot.mailing import Mailbox
from bot.modeljobs import model_dispatcher
from bot.outbox import Dispatcher
from bot.ports import Attempt, NoticeSink, Outbox
from bot.review import Action, Viewer, review_view
from bot.service import IntakeService
from bot.text import Phrase, plain, t
from bot.timekeeping import Timekeeper, away_phrase

if TYPE_CHECKING:
    from adapters.email.sink import EmailConfig

PLATFORM = "console"


class ConsoleSink(NoticeSink):
    """Delivers the console's notices by printing them, with a header naming who would see them. A review
    card is the core's view of the request, with the commands a PM would use on it."""

    platform = PLATFORM

    def __init__(self, out: IO[str], service: IntakeService) -> None:
        self.out = out
        self.service = service

    async def deliver(self, notice: Notice, *, outbox: Outbox, attempt: Attempt | None = None) -> dict[str, Any] | None:
        text = notice.text
        lang = Language.EN
        now = self.service.clock.now()
        if notice.project:
            project = await self.service.project(notice.project)
            lang = project.chat_language
            if notice.kind in ("review_card", "card_update") and "request" in notice.data:
                rec = RequestRecord.from_snapshot(notice.data["request"])
                text = messages.view_text(review_view(rec, project, Viewer.review_channel(), now=now), commands=True)
            elif notice.kind in messages.TIMELY_KINDS and notice.recipient is not None:
                text = self.timely(notice, project, notice.recipient, now)
            elif notice.kind == "daily_summary" and notice.recipient is not None:
                text = self.summary(notice, project, notice.recipient, now)
            elif notice.kind == "away":
                text = Phrase.from_dict(notice.data["phrase"]).render(lang)
        if notice.audience == "review":
            head = t(lang, "console.to_review_updated" if notice.kind == "card_update" else "console.to_review")
        elif notice.recipient is not None:
            key = "console.to_privately" if notice.kind == "letter_draft" else "console.to_person"
            head = t(lang, key, who=notice.recipient.display)
        else:
            head = notice.audience
        self.out.write(f"\n┌─ {head}\n")
        for line in text.rstrip().splitlines():
            self.out.write(f"│ {line}\n")
        self.out.write("└─\n")
        self.out.flush()
        return {"printed": True}

    @staticmethod
    def timely(notice: Notice, project: Project, reader: Actor, now: datetime) -> str:
        """A reminder (or escalation, follow-up, expiry notice): its line, then the request as the reader
        sees it, with the commands they may use."""
        rec = RequestRecord.from_snapshot(notice.data["request"])
        for_pm = messages.notice_on_behalf(notice.data)
        lang = project.chat_language
        view = review_view(rec, project, Viewer.of(reader, rec, project, on_behalf_of=for_pm), language=lang, now=now)
        head = messages.timely_headline(
            notice.kind, rec, project, lang, on_behalf_of=for_pm, due=messages.notice_due(notice.data)
        )
        return head + "\n\n" + messages.view_text(view, commands=True)

    @staticmethod
    def summary(notice: Notice, project: Project, reader: Actor, now: datetime) -> str:
        """The daily summary: each section's requests, one line each, with the reader's commands."""
        lang = project.chat_language
        lines = [messages.summary_title(project, lang)]
        for _, heading, views, more in messages.summary_views(notice.data, project, reader, lang, now):
            if not views:
                continue
            lines += ["", heading]
            for view in views:
                due = view.fact("due")
                lines.append(f"  {view.ref} · {view.verdict.headline} · “{messages.shorten(view.text, 60)}”")
                if due is not None:
                    lines.append(f"    {due.label}: {plain(due.value)}")
                if view.actions:
                    lines.append("    " + "  ".join(f"/{a.action.value} {view.ref}" for a in view.actions))
            if more:
                lines.append("  " + t(lang, "summary.more", n=more))
        return "\n".join(lines)


def actor_from(text: str) -> Actor:
    """Parse `dana@x.example`, `Dana Lee <dana@x.example>` or `dana@x.example Dana Lee` into a console actor."""
    text = text.strip()
    name, addr = parseaddr(text)
    if not addr or "@" not in addr:
        parts = text.split(maxsplit=1)
        addr = parts[0] if parts else ""
        name = parts[1] if len(parts) > 1 else ""
    elif not name and " " in text and "<" not in text:
        addr, _, name = text.partition(" ")
    if "@" not in addr:
        raise InvalidInput(Phrase("console.not_an_email", text=text))
    return Actor(PLATFORM, addr.lower(), email=addr.lower(), name=name.strip() or None)


def default_actor() -> Actor:
    user = getpass.getuser() or "you"
    return Actor(PLATFORM, f"{user}@localhost", email=f"{user}@localhost", name=user)


class ConsoleBot:
    def __init__(
        self,
        service: IntakeService,
        *,
        actor: Actor | None = None,
        project: str | None = None,
        stdin: IO[str] | None = None,
        stdout: IO[str] | None = None,
        interactive: bool | None = None,
        email: EmailConfig | None = None,
        eml_sender: Mailbox | None = None,
    ) -> None:
        self.service = service
        self.email = email
        self.eml_sender = eml_sender or (email.sender if email else Mailbox("intake-bot@localhost", "intake-bot"))
        self.actor = actor or default_actor()
        self.project_slug = project
        self.stdin = stdin or sys.stdin
        self.out = stdout or sys.stdout
        self.interactive = self.stdin.isatty() if interactive is None else interactive
        sinks: list[NoticeSink] = [ConsoleSink(self.out, service)]
        if email is not None:
            from adapters.email.sink import EmailSink

            sinks.append(EmailSink(service, email))
        self.dispatcher = Dispatcher(service.store, sinks, poll_interval=0.05)
        # With a language model configured, it is asked after each command that recorded a request (after
        # the receipt and the card are printed), and the card is printed again with its answer. Without
        # one, questions another process queued are left to that process.
        self.model_dispatcher = model_dispatcher(service) if service.model is not None else None
        # Scheduled steps that fell due (reminders, summaries…) run before each command's notices go out.
        self.timekeeper = Timekeeper(service)
        self.commands: dict[str, Callable[[str], Awaitable[None]]] = {
            "request": self.cmd_request,
            "scope": self.cmd_scope,
            "requests": self.cmd_requests,
            "show": self.cmd_show,
            "approve": self.cmd_approve,
            "decline": self.cmd_decline,
            "ask": self.cmd_ask,
            "answer": self.cmd_answer,
            "withdraw": self.cmd_withdraw,
            "correct": self.cmd_correct,
            "letter": self.cmd_letter,
            "outcome": self.cmd_outcome,
            "away": self.cmd_away,
            "back": self.cmd_back,
            "project": self.cmd_project,
            "as": self.cmd_as,
            "help": self.cmd_help,
        }

    # --- I/O ----------------------------------------------------------------------------------

    def say(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    async def readline(self, prompt: str) -> str | None:
        if self.interactive:
            self.out.write(prompt)
            self.out.flush()
        line = await asyncio.to_thread(self.stdin.readline)
        if line == "":
            return None
        line = line.rstrip("\n")
        if not self.interactive:
            self.say(f"{prompt}{line}")
        return line

    async def ask(self, question: str, default: str = "") -> str:
        shown = f" [{messages.shorten(default, 60)}]" if default else ""
        line = await self.readline(f"  {question}{shown}: ")
        if line is None:
            raise EOFError
        return line.strip() or default

    @property
    def lang(self) -> Language:
        """The language of this terminal: the current project's team language."""
        return self._lang

    _lang: Language = Language.EN
    timezone = "UTC"  # of the form being filled in

    async def _set_language(self) -> None:
        if self.project_slug:
            try:
                self._lang = (await self.service.project(self.project_slug)).chat_language
                return
            except IntakeError:
                pass
        self._lang = await self.service.house_language()

    def tr(self, key: str, **args: Any) -> str:
        return t(self.lang, key, **args)

    async def settle(self) -> None:
        """Print every notice that is due, asking the language model (when there is one) in between."""
        for _ in range(20):
            n = await self.dispatcher.drain()
            if self.model_dispatcher is not None:
                n += await self.model_dispatcher.drain()
            if n == 0:
                return

    # --- main loop ----------------------------------------------------------------------------

    async def run(self) -> int:
        await self.start()
        while True:
            line = await self.readline(f"{self.actor.display}> ")
            if line is None:
                break
            if line.strip() in ("/quit", "/exit", "quit", "exit"):
                break
            try:
                await self.handle(line)
            except EOFError:
                self.say(self.tr("console.eof_in_form"))
                break
        await self.deliver()
        self.say(self.tr("console.bye"))
        return 0

    async def deliver(self) -> None:
        """Run the scheduled steps that are due, then print every notice waiting for this terminal (asking
        the language model in between, when there is one)."""
        await self.timekeeper.run_due()
        await self.settle()

    async def start(self) -> None:
        projects = await self.service.projects()
        if self.project_slug is None and projects:
            self.project_slug = projects[0].slug
        await self._set_language()
        if not projects:
            self.say(self.tr("console.no_projects"))
        if self.project_slug:
            project = await self.service.project(self.project_slug)
            self.say(self.tr("console.hello", name=project.name, slug=project.slug))
            role = Phrase("console.role_pm" if project.is_pm(self.actor) else "console.role_member")
            self.say(self.tr("console.you_are", who=self.actor.display, role=role, pms=", ".join(project.pms)))
            self.say(self.tr("console.try"))
        await self.deliver()

    async def handle(self, line: str) -> None:
        line = line.strip()
        if not line or line.startswith("#"):
            return
        await self._set_language()  # the project file may have been reloaded with another team language
        if not line.startswith("/"):
            self.say(self.tr("console.commands_start_with_slash"))
            return
        name, _, rest = line[1:].partition(" ")
        handler = self.commands.get(name.lower())
        if handler is None:
            self.say(self.tr("console.unknown_command", name=name))
            return
        try:
            await handler(rest.strip())
        except FormInvalid as exc:
            for message in exc.errors_in(self.lang).values():
                self.say(f"! {message}")
        except IntakeError as exc:
            self.say(f"! {exc.say(self.lang)}")
        await self.deliver()

    async def _project(self) -> Project:
        if not self.project_slug:
            raise InvalidInput(Phrase("console.no_project_selected"))
        return await self.service.project(self.project_slug)

    # --- forms --------------------------------------------------------------------------------

    async def fill(self, spec: FormSpec, given: dict[str, Any] | None = None) -> dict[str, Any]:
        """Ask a form's questions one at a time (Enter keeps the value in brackets); fields already
        `given` on the command line are not asked. A field shown only for another field's value is asked
        only when that value was chosen."""
        values: dict[str, Any] = dict(given or {})
        self.timezone = spec.timezone
        self.say(spec.title + (f": {spec.intro}" if spec.intro else ""))
        self.say(self.tr("console.form_hint"))
        for f in spec.fields:
            if f.id in values:
                continue
            if f.only_if is not None:
                other, wanted = f.only_if
                chosen = values.get(other)
                if not (chosen == wanted or (isinstance(chosen, list) and wanted in chosen)):
                    continue
            values[f.id] = await self._ask_field(f)
        return values

    async def _ask_field(self, f: Field) -> Any:
        label = f.label + ("" if f.required else self.tr("console.optional"))
        default = f.default
        if f.kind in (FieldKind.CHOICE, FieldKind.MULTI_CHOICE):
            self.say("  " + "  ".join(f"{i}) {c.label}" for i, c in enumerate(f.choices, 1)))
            shown = ",".join(default) if isinstance(default, tuple) else (default or "")
            while True:
                answer = await self.ask(label, shown)
                picked = [_pick_choice(tok, f) for tok in re.split(r"[,\s]+", answer) if tok]
                if None not in picked and (f.kind is FieldKind.MULTI_CHOICE or len(picked) <= 1):
                    break
                self.say("  ! " + self.tr("console.pick_from", choices=", ".join(c.value for c in f.choices)))
            values = [p for p in picked if p is not None]
            return values if f.kind is FieldKind.MULTI_CHOICE else (values[0] if values else "")
        shown = default if isinstance(default, str) else ""
        if f.kind is FieldKind.DATETIME:
            while True:  # a time that does not read is asked again, not found out after the whole form
                answer = await self.ask(self.tr("console.datetime_label", label=f.label), shown)
                try:
                    if answer:
                        moment_of(answer, self.timezone)
                    return answer
                except ValueError:
                    self.say("  ! " + self.tr("form.err.meeting_time_format"))
        if f.kind is FieldKind.DATE:
            label = self.tr("console.date_label", label=f.label)
        return await self.ask(label, shown)

    async def _act(self, ref: str, action: Action, given: dict[str, Any] | None = None) -> RequestRecord:
        """Take a request action as every platform does: the core checks it may be taken (a refused PM
        action is recorded) and says which form it asks for; the form is asked here, then acted on."""
        rec, spec = await self.service.open_form(ref, action, actor=self.actor)
        values = dict(given or {})
        if spec is not None:
            required = [f for f in spec.fields if f.required and f.id not in values]
            if required:
                values = await self.fill(spec, values)
        return await self.service.act(rec.ref, action, actor=self.actor, values=values)

    # --- commands -----------------------------------------------------------------------------

    async def cmd_help(self, _: str) -> None:
        self.say(self.tr("console.help"))
        self.say(self.tr("console.help_time"))

    async def cmd_as(self, rest: str) -> None:
        if not rest:
            self.say(self.tr("console.you_are_now", who=self.actor.display, role=""))
            return
        self.actor = actor_from(rest)
        role: Any = ""
        if self.project_slug:
            project = await self.service.project(self.project_slug)
            role = Phrase("console.as_pm" if project.is_pm(self.actor) else "console.as_member")
        self.say(self.tr("console.you_are_now", who=self.actor.display, role=role))

    async def cmd_project(self, rest: str) -> None:
        if not rest:
            for p in await self.service.projects():
                mark = "*" if p.slug == self.project_slug else " "
                self.say(f" {mark} {p.slug}  {p.name}")
            return
        project = await self.service.project(rest.lstrip("@"))
        self.project_slug = project.slug
        await self._set_language()
        self.say(self.tr("console.project_now", name=project.name, slug=project.slug))

    async def cmd_request(self, rest: str) -> None:
        slug = self.project_slug
        m = re.match(r"^@([a-z0-9][a-z0-9-]*)\s*(.*)$", rest, re.S)
        if m:
            slug, rest = m.group(1), m.group(2)
        if not slug:
            raise InvalidInput(Phrase("console.name_the_project"))
        rec = await self.service.submit_request(project=slug, actor=self.actor, text=rest, source=None)
        self.say(messages.receipt(rec, self.lang))

    async def cmd_scope(self, _: str) -> None:
        self.say(messages.scope_summary(await self._project(), self.lang))

    async def cmd_requests(self, rest: str) -> None:
        project = await self._project()
        everything = rest.strip() == "all"
        recs = await self.service.list_requests(project=project.slug, open_only=not everything)
        if not recs:
            self.say(self.tr("list.none_yet" if everything else "list.none_open"))
        now = self.service.clock.now()
        for rec in recs:
            self.say(messages.request_line(rec, self.lang, tz=project.timezone, now=now))

    async def cmd_show(self, rest: str) -> None:
        ref = _one_ref(rest, "/show REF")
        rec, project, viewer = await self.service.view(ref, actor=self.actor)
        now = self.service.clock.now()
        show_letter = await self.service.may_decide(self.actor, project)
        self.say(messages.timeline(rec, show_letter=show_letter, lang=self.lang, tz=project.timezone, now=now))
        view = review_view(rec, project, viewer, language=self.lang, now=now)
        if view.actions:
            commands = ", ".join(f"/{a.action.value} {rec.ref}" for a in view.actions)
            self.say(self.tr("console.you_can", commands=commands))

    async def cmd_approve(self, rest: str) -> None:
        ref, note = _ref_and_text(rest, "/approve REF [NOTE]")
        rec = await self._act(ref, Action.APPROVE, {"note": note} if note else None)
        self.say(self.tr("console.approved", ref=rec.ref))

    async def cmd_decline(self, rest: str) -> None:
        ref = _one_ref(rest, "/decline REF")
        rec = await self._act(ref, Action.DECLINE)
        key = "console.declined_meeting" if rec.answered_by_meeting else "console.declined_email"
        self.say(self.tr(key, ref=rec.ref))

    async def cmd_ask(self, rest: str) -> None:
        ref, question = _ref_and_text(rest, "/ask REF QUESTION")
        rec = await self._act(ref, Action.ASK, {"question": question} if question else None)
        self.say(self.tr("console.asked", ref=rec.ref))

    async def cmd_answer(self, rest: str) -> None:
        ref, text = _ref_and_text(rest, "/answer REF TEXT")
        rec = await self._act(ref, Action.ANSWER, {"answer": text} if text else None)
        self.say(self.tr("notice.answer_thanks", ref=rec.ref))

    async def cmd_withdraw(self, rest: str) -> None:
        ref, reason = _ref_and_text(rest, "/withdraw REF [WHY]")
        rec = await self._act(ref, Action.WITHDRAW, {"reason": reason})
        self.say(self.tr("console.withdrawn", ref=rec.ref))

    async def cmd_correct(self, rest: str) -> None:
        parts = rest.split()
        if len(parts) < 2:
            raise InvalidInput(Phrase("console.correct_usage"))
        verdict = _pick(parts[1], list(VerdictKind), "verdict")
        given = {"verdict": verdict.value, "item": parts[2] if len(parts) > 2 else "", "note": " ".join(parts[3:])}
        rec = await self._act(parts[0], Action.CORRECT, given)
        from bot.review import verdict_headline

        self.say(self.tr("console.corrected", ref=rec.ref, verdict=verdict_headline(rec.verdict, self.lang, word=True)))

    async def cmd_letter(self, rest: str) -> None:
        parts = rest.split()
        if not parts:
            raise InvalidInput(Phrase("console.letter_usage"))
        ref, action = parts[0], (parts[1].lower() if len(parts) > 1 else "show")
        rec = await self.service.get_request(ref, actor=self.actor)
        project = await self.service.project(rec.project)
        if not await self.service.may_decide(self.actor, project):
            raise InvalidInput(Phrase("letter.pms_only", project=project.name, ref=rec.ref))
        if rec.letter is None:
            raise InvalidInput(Phrase("console.no_letter_yet", ref=rec.ref))
        tz = project.timezone
        if action == "show":
            self.say(messages.letter_text(rec, rec.letter, self.lang, tz))
        elif action == "edit":
            text = await self.edit_text(rec.letter.body_text)
            if text is None or text.strip() == rec.letter.body_text.strip():
                self.say(self.tr("console.no_change"))
                return
            rec = await self.service.edit_letter(rec.ref, actor=self.actor, body_text=text)
            assert rec.letter is not None
            self.say(messages.letter_text(rec, rec.letter, self.lang, tz))
        elif action == "sent":
            rec = await self.service.mark_letter_sent(rec.ref, actor=self.actor, via="manual")
            self.say(self.tr("console.letter_marked_sent", ref=rec.ref))
        elif action == "send":
            await self.send_letter(rec.ref, parts[2:])
        elif action == "eml":
            await self.save_eml(rec.ref, parts[2:])
        else:
            raise InvalidInput(Phrase("console.letter_usage"))

    async def send_letter(self, ref: str, args: list[str]) -> None:
        if self.email is None:
            self.say(self.tr("console.email_off", ref=ref))
            return
        again = "again" in (a.lower() for a in args)
        typed = [a for a in args if a.lower() != "again"] or None
        recipients = await self.service.letter_email_recipients(ref, actor=self.actor, recipients=typed, again=again)
        rec = await self.service.get_request(ref, actor=self.actor)
        assert rec.letter is not None
        self.say(messages.send_confirmation(rec, rec.letter, recipients.summary(), self.lang))
        if (await self.ask(self.tr("console.send_now"), self.tr("console.no"))).lower() not in _YES:
            self.say(self.tr("send.nothing_sent"))
            return
        await self.service.send_letter_email(ref, actor=self.actor, recipients=typed, again=again, confirmed=recipients)
        await self.settle()  # the outcome reaches you as a notice, printed by the drain
        rec = await self.service.get_request(ref, actor=self.actor)
        assert rec.letter is not None
        if rec.letter.status == "queued":
            self.say(messages.send_status_line(rec.letter, self.lang) + " " + self.tr("console.not_taken_yet"))

    async def save_eml(self, ref: str, args: list[str]) -> None:
        from adapters.email.actions import letter_eml

        name, data = await letter_eml(self.service, ref, actor=self.actor, sender=self.eml_sender)
        path = Path(args[0] if args else name)
        await asyncio.to_thread(path.write_bytes, data)
        self.say(self.tr("console.eml_saved", path=str(path)))

    async def cmd_outcome(self, rest: str) -> None:
        ref, text = _ref_and_text(rest, "/outcome REF TEXT")
        rec = await self._act(ref, Action.OUTCOME, {"outcome": text} if text else None)
        self.say(messages.outcome_recorded(rec, self.lang))

    async def cmd_away(self, rest: str) -> None:
        """/away YYYY-MM-DD EMAIL: you (a PM) are away until that day, and EMAIL stands in for you."""
        parts = rest.split(maxsplit=1)
        if len(parts) != 2:
            raise InvalidInput(Phrase("away.usage.console"))
        day, who = parts
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
                raise ValueError(day)
            until = date.fromisoformat(day)
        except ValueError:
            raise InvalidInput(Phrase("err.away_bad_date", text=day)) from None
        try:
            delegate = actor_from(who)
        except InvalidInput:
            raise InvalidInput(Phrase("err.away_unknown_delegate", who=who)) from None
        absence = await self.service.set_away(self.actor, until=until, delegate=delegate)
        self.say(await self._away_text("away.set", absence))
        self.say(self.tr("away.back_hint", command="/back"))

    async def cmd_back(self, _: str) -> None:
        absence = await self.service.end_away(self.actor)
        self.say(await self._away_text("away.back", absence))

    async def _away_text(self, key: str, absence: Absence) -> str:
        projects = [p for p in await self.service.projects() if p.is_pm(absence.person)]
        return away_phrase(key, absence, projects).render(self.lang)

    async def edit_text(self, current: str) -> str | None:
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
        if self.interactive and editor:
            with tempfile.NamedTemporaryFile("w+", suffix=".txt", delete=False, encoding="utf-8") as fh:
                fh.write(current)
                path = fh.name
            try:
                await asyncio.to_thread(subprocess.call, [*shlex.split(editor), path])
                return await asyncio.to_thread(Path(path).read_text, encoding="utf-8")
            finally:
                os.unlink(path)
        self.say(self.tr("console.type_letter"))
        lines = []
        while True:
            line = await self.readline("")
            if line is None or line.strip() == ".":
                break
            lines.append(line)
        return "\n".join(lines) if lines else None


_YES = ("y", "yes", "是", "好", "确认", "发送")


def _pick_choice(token: str, f: Field) -> str | None:
    token = token.strip().lower()
    if token.isdigit() and 1 <= int(token) <= len(f.choices):
        return f.choices[int(token) - 1].value
    for c in f.choices:
        if token in (c.value.lower(), c.value.replace("_", "").lower(), c.label.lower()):
            return c.value
    return None


def _one_ref(rest: str, usage: str) -> str:
    parts = rest.split()
    if len(parts) != 1:
        raise InvalidInput(Phrase("console.usage", usage=usage))
    return parts[0]


def _ref_and_text(rest: str, usage: str) -> tuple[str, str]:
    ref, _, text = rest.strip().partition(" ")
    if not ref:
        raise InvalidInput(Phrase("console.usage", usage=usage))
    return ref, text.strip()


def _pick(value: str, options: list[Any], what: str) -> Any:
    value = value.strip().lower().replace(" ", "_")
    if value.isdigit() and 1 <= int(value) <= len(options):
        return options[int(value) - 1]
    for opt in options:
        if value in (opt.value, opt.value.replace("_", "")):
            return opt
    names = ", ".join(o.value for o in options)
    raise InvalidInput(Phrase("console.not_a_choice", value=value, choices=names))
