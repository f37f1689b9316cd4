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
from datetime import datetime
from email.utils import parseaddr
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot import messages
from bot.domain import (
    Actor,
    Alternative,
    AlternativeKind,
    Channel,
    DeclineForm,
    Language,
    MeetingProposal,
    Notice,
    Project,
    ReasonCategory,
    ScopeChange,
    VerdictKind,
)
from bot.errors import IntakeError, InvalidInput
from bot.mailing import Mailbox
from bot.outbox import Dispatcher
from bot.ports import NoticeSink, Outbox
from bot.service import IntakeService

if TYPE_CHECKING:
    from adapters.email.sink import EmailConfig

PLATFORM = "console"

HELP = """\
Commands (REF looks like ACME-12):
  /request TEXT          record a client request (/request @project-slug TEXT names the project)
  /scope                 show the project's agreed scope
  /requests [all]        list open requests (or all of them)
  /show REF              show a request and its record
  /approve REF [NOTE]    approve (PMs only); out-of-scope work asks for estimate and schedule impact
  /decline REF           decline with the decline form, then draft the letter (PMs only)
  /ask REF QUESTION      ask the requester for details (PMs only)
  /answer REF TEXT       answer a PM's question
  /withdraw REF [WHY]    withdraw an open request
  /correct REF VERDICT [ITEM]  correct the scope verdict (in_scope ITEM | out_of_scope ITEM | unlisted)
  /letter REF            show the letter and its tone check (PMs only)
  /letter REF edit       edit the letter ($EDITOR, or type it and end with a line holding only '.')
  /letter REF sent       record that the letter has been sent to the client
  /letter REF send [again] [ADDRESS...]
                         e-mail it to the client contact (or to ADDRESS) after confirming the recipients
  /letter REF eml [FILE] save it as an .eml file to send from your own mail program
  /outcome REF TEXT      record what was agreed in the meeting about REF (PMs only)
  /project SLUG          switch project
  /as EMAIL [NAME]       act as someone else (a PM is anyone listed in the project's pms)
  /help                  this list
  /quit                  leave"""


class ConsoleSink(NoticeSink):
    """Delivers the console's notices by printing them, with a header naming who would see them."""

    platform = PLATFORM

    def __init__(self, out: IO[str]) -> None:
        self.out = out

    async def deliver(self, notice: Notice, *, outbox: Outbox) -> dict[str, Any] | None:
        if notice.audience == "review":
            head = "review channel" + (" (card updated)" if notice.kind == "card_update" else "")
        elif notice.recipient is not None:
            private = " (privately)" if notice.kind == "letter_draft" else ""
            head = f"to {notice.recipient.display}{private}"
        else:
            head = notice.audience
        self.out.write(f"\n┌─ {head}\n")
        for line in notice.text.rstrip().splitlines():
            self.out.write(f"│ {line}\n")
        self.out.write("└─\n")
        self.out.flush()
        return {"printed": True}


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
        raise InvalidInput(f"'{text}' is not an e-mail address. Use /as name@company.example [Your Name].")
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
        sinks: list[NoticeSink] = [ConsoleSink(self.out)]
        if email is not None:
            from adapters.email.sink import EmailSink

            sinks.append(EmailSink(service, email))
        self.dispatcher = Dispatcher(service.store, sinks, poll_interval=0.05)
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
                self.say("(input ended in the middle of a form; nothing was changed)")
                break
        await self.dispatcher.drain()
        self.say("Bye.")
        return 0

    async def start(self) -> None:
        projects = await self.service.projects()
        if not projects:
            self.say("No project is loaded yet. Load one with `intake project load FILE` (see examples/).")
        elif self.project_slug is None:
            self.project_slug = projects[0].slug
        if self.project_slug:
            project = await self.service.project(self.project_slug)
            self.say(f"intake-bot: terminal mode, project {project.name} ({project.slug}).")
            role = "a PM" if project.is_pm(self.actor) else "a team member"
            self.say(f"You are {self.actor.display} ({role}). PMs of this project: {', '.join(project.pms)}.")
            self.say("Record a request with /request TEXT; switch to a PM with /as EMAIL; /help lists everything.")
        await self.dispatcher.drain()

    async def handle(self, line: str) -> None:
        line = line.strip()
        if not line or line.startswith("#"):
            return
        if not line.startswith("/"):
            self.say("Commands start with '/'. To record a client request: /request TEXT. /help lists the commands.")
            return
        name, _, rest = line[1:].partition(" ")
        handler = self.commands.get(name.lower())
        if handler is None:
            self.say(f"Unknown command '/{name}'. Try /help.")
            return
        try:
            await handler(rest.strip())
        except IntakeError as exc:
            self.say(f"! {exc}")
        await self.dispatcher.drain()

    async def _project(self) -> Project:
        if not self.project_slug:
            raise InvalidInput("No project is selected. Load one with `intake project load FILE`, then /project SLUG.")
        return await self.service.project(self.project_slug)

    # --- commands -----------------------------------------------------------------------------

    async def cmd_help(self, _: str) -> None:
        self.say(HELP)

    async def cmd_as(self, rest: str) -> None:
        if not rest:
            self.say(f"You are {self.actor.display}.")
            return
        self.actor = actor_from(rest)
        role = ""
        if self.project_slug:
            project = await self.service.project(self.project_slug)
            role = " (a PM of this project)" if project.is_pm(self.actor) else " (not a PM of this project)"
        self.say(f"You are now {self.actor.display}{role}.")

    async def cmd_project(self, rest: str) -> None:
        if not rest:
            for p in await self.service.projects():
                mark = "*" if p.slug == self.project_slug else " "
                self.say(f" {mark} {p.slug}  {p.name}")
            return
        project = await self.service.project(rest.lstrip("@"))
        self.project_slug = project.slug
        self.say(f"Project is now {project.name} ({project.slug}).")

    async def cmd_request(self, rest: str) -> None:
        slug = self.project_slug
        m = re.match(r"^@([a-z0-9][a-z0-9-]*)\s*(.*)$", rest, re.S)
        if m:
            slug, rest = m.group(1), m.group(2)
        if not slug:
            raise InvalidInput("No project is selected: name it with /request @project-slug TEXT.")
        rec = await self.service.submit_request(project=slug, actor=self.actor, text=rest, source=None)
        self.say(messages.receipt(rec))

    async def cmd_scope(self, _: str) -> None:
        self.say(messages.scope_summary(await self._project()))

    async def cmd_requests(self, rest: str) -> None:
        project = await self._project()
        recs = await self.service.list_requests(project=project.slug, open_only=rest.strip() != "all")
        if not recs:
            self.say("No open requests." if rest.strip() != "all" else "No requests yet.")
        for rec in recs:
            self.say(messages.request_line(rec))

    async def cmd_show(self, rest: str) -> None:
        ref = _one_ref(rest, "/show REF")
        rec = await self.service.get_request(ref, actor=self.actor)
        project = await self.service.project(rec.project)
        self.say(messages.timeline(rec, show_letter=project.is_pm(self.actor)))
        if project.is_pm(self.actor) and messages.awaits_meeting_outcome(rec):
            self.say(f"After the meeting, record what was agreed: /outcome {rec.ref} TEXT")

    async def cmd_approve(self, rest: str) -> None:
        ref, note = _ref_and_text(rest, "/approve REF [NOTE]")
        rec = await self.service.get_request(ref, actor=self.actor)
        project = await self.service.project(rec.project)
        change = None
        if rec.verdict.verdict is not VerdictKind.IN_SCOPE and project.is_pm(self.actor) and rec.status.is_open:
            self.say(
                f"{ref} is {rec.verdict.verdict.label}: approving it changes the scope. A few details for the record:"
            )
            change = ScopeChange(
                estimate=await self.ask("Effort estimate (e.g. 3 person-days)"),
                schedule_impact=await self.ask("Schedule impact", "none"),
                note=note or await self.ask("Note"),
            )
        rec = await self.service.approve(ref, actor=self.actor, change=change, note=note)
        self.say(f"{ref} approved.")

    async def cmd_decline(self, rest: str) -> None:
        ref = _one_ref(rest, "/decline REF")
        rec = await self.service.get_request(ref, actor=self.actor)
        project = await self.service.project(rec.project)
        if not project.is_pm(self.actor) or not rec.status.is_open:
            # Let the service refuse (and record the attempt) before asking a single question.
            await self.service.decline(ref, actor=self.actor, form=await self.service.decline_form_defaults(ref))
            return
        form = await self.decline_form(ref, project)
        rec = await self.service.decline(ref, actor=self.actor, form=form)
        how = "a meeting invitation" if form.channel is Channel.MEETING else "a letter"
        self.say(
            f"{ref} declined. The requester is told the client will be answered {'in a meeting' if form.channel is Channel.MEETING else 'by email'}; {how} is drafted for you below."
        )

    async def decline_form(self, ref: str, project: Project) -> DeclineForm:
        defaults = await self.service.decline_form_defaults(ref)
        self.say(f"Declining {ref}. Press Enter to keep the value in [brackets].")
        cats = list(ReasonCategory)
        self.say("  Reason: " + ", ".join(f"{i}) {c.label.lower()}" for i, c in enumerate(cats, 1)))
        category = _pick(await self.ask("Reason category", defaults.reason_category.value), cats, "reason category")
        reason = await self.ask("The reason, in a sentence or two", defaults.reason_text)
        kinds = list(AlternativeKind)
        self.say("  Alternatives: " + ", ".join(f"{i}) {k.label.lower()}" for i, k in enumerate(kinds, 1)))
        chosen = await self.ask("Which alternatives (e.g. 1,2; Enter for none)")
        alternatives = []
        for token in [t for t in re.split(r"[,\s]+", chosen) if t]:
            kind = _pick(token, kinds, "alternative")
            detail = await self.ask(f"Detail for '{kind.label.lower()}' (optional)")
            alternatives.append(Alternative(kind, detail))
        empathy = await self.ask("Empathy line", defaults.empathy)
        channel = _pick(await self.ask("Answer by email or in a meeting", "email"), list(Channel), "channel")
        meeting = None
        if channel is Channel.MEETING:
            meeting = await self.meeting_form(project)
        language = _pick(
            await self.ask("Letter language (en or zh)", project.language.value), list(Language), "language"
        )
        return DeclineForm(category, reason, tuple(alternatives), empathy, channel, language, meeting)

    async def meeting_form(self, project: Project) -> MeetingProposal:
        while True:
            when = await self.ask(f"Proposed time (YYYY-MM-DD HH:MM, {project.timezone})")
            try:
                start = datetime.strptime(when, "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo(project.timezone))
                break
            except ValueError:
                self.say("  ! Write the time as YYYY-MM-DD HH:MM, e.g. 2026-12-03 10:00.")
        minutes = await self.ask("Duration in minutes", "30")
        if not minutes.isdigit():
            raise InvalidInput("The duration is a number of minutes.")
        place = await self.ask("Place or video link (optional)")
        return MeetingProposal(start, int(minutes), place)

    async def cmd_ask(self, rest: str) -> None:
        ref, question = _ref_and_text(rest, "/ask REF QUESTION")
        await self.service.ask_details(ref, actor=self.actor, question=question)
        self.say(f"Asked the requester of {ref}.")

    async def cmd_answer(self, rest: str) -> None:
        ref, text = _ref_and_text(rest, "/answer REF TEXT")
        await self.service.answer(ref, actor=self.actor, text=text)
        self.say(f"Thanks: {ref} is back in review.")

    async def cmd_withdraw(self, rest: str) -> None:
        ref, reason = _ref_and_text(rest, "/withdraw REF [REASON]")
        await self.service.withdraw(ref, actor=self.actor, reason=reason)
        self.say(f"{ref} withdrawn.")

    async def cmd_correct(self, rest: str) -> None:
        parts = rest.split()
        if len(parts) < 2:
            raise InvalidInput("Usage: /correct REF in_scope ITEM | out_of_scope ITEM | unlisted")
        verdict = _pick(parts[1], list(VerdictKind), "verdict")
        item = parts[2] if len(parts) > 2 else None
        rec = await self.service.correct_verdict(parts[0], actor=self.actor, verdict=verdict, item_id=item)
        self.say(f"{rec.ref} is now {rec.verdict.one_line()}; similar requests will be judged with it.")

    async def cmd_letter(self, rest: str) -> None:
        parts = rest.split()
        if not parts:
            raise InvalidInput("Usage: /letter REF [edit|sent|send|eml]")
        ref, action = parts[0], (parts[1].lower() if len(parts) > 1 else "show")
        rec = await self.service.get_request(ref, actor=self.actor)
        project = await self.service.project(rec.project)
        if not project.is_pm(self.actor):
            raise InvalidInput(f"Only the PMs of {project.name} can read the letter for {rec.ref}.")
        if rec.letter is None:
            raise InvalidInput(
                f"{rec.ref} has no letter yet; a letter is drafted when a PM declines with /decline {rec.ref}."
            )
        if action == "show":
            self.say(messages.letter_text(rec, rec.letter))
        elif action == "edit":
            text = await self.edit_text(rec.letter.body_text)
            if text is None or text.strip() == rec.letter.body_text.strip():
                self.say("No change.")
                return
            rec = await self.service.edit_letter(rec.ref, actor=self.actor, body_text=text)
            assert rec.letter is not None
            self.say(messages.letter_text(rec, rec.letter))
        elif action == "sent":
            rec = await self.service.mark_letter_sent(rec.ref, actor=self.actor, via="manual")
            self.say(f"Recorded: the letter for {rec.ref} has been sent to the client.")
        elif action == "send":
            await self.send_letter(rec.ref, parts[2:])
        elif action == "eml":
            await self.save_eml(rec.ref, parts[2:])
        else:
            raise InvalidInput("Usage: /letter REF [edit|sent|send|eml]")

    async def send_letter(self, ref: str, args: list[str]) -> None:
        if self.email is None:
            self.say(messages.EMAIL_OFF + f" (/letter {ref} eml saves it.)")
            return
        again = "again" in (a.lower() for a in args)
        typed = [a for a in args if a.lower() != "again"] or None
        recipients = await self.service.letter_email_recipients(ref, actor=self.actor, recipients=typed, again=again)
        rec = await self.service.get_request(ref, actor=self.actor)
        assert rec.letter is not None
        self.say(messages.send_confirmation(rec, rec.letter, recipients.summary()))
        if (await self.ask("Send it now? (yes/no)", "no")).lower() not in ("y", "yes"):
            self.say(messages.NOTHING_SENT)
            return
        await self.service.send_letter_email(ref, actor=self.actor, recipients=typed, again=again, confirmed=recipients)
        await self.dispatcher.drain()  # the outcome reaches you as a notice, printed by the drain
        rec = await self.service.get_request(ref, actor=self.actor)
        assert rec.letter is not None
        if rec.letter.status == "queued":
            self.say(messages.send_status_line(rec.letter) + " The mail server did not take it yet; it is retried.")

    async def save_eml(self, ref: str, args: list[str]) -> None:
        from adapters.email.actions import letter_eml

        name, data = await letter_eml(self.service, ref, actor=self.actor, sender=self.eml_sender)
        path = Path(args[0] if args else name)
        await asyncio.to_thread(path.write_bytes, data)
        self.say(f"Saved the letter as {path}: open it in your mail program to send it yourself.")

    async def cmd_outcome(self, rest: str) -> None:
        ref, text = _ref_and_text(rest, "/outcome REF TEXT")
        rec = await self.service.record_outcome(ref, actor=self.actor, text=text)
        self.say(messages.outcome_recorded(rec))

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
        self.say("Type the new letter; end with a line holding only '.'")
        lines = []
        while True:
            line = await self.readline("")
            if line is None or line.strip() == ".":
                break
            lines.append(line)
        return "\n".join(lines) if lines else None


def _one_ref(rest: str, usage: str) -> str:
    parts = rest.split()
    if len(parts) != 1:
        raise InvalidInput(f"Usage: {usage}")
    return parts[0]


def _ref_and_text(rest: str, usage: str) -> tuple[str, str]:
    ref, _, text = rest.strip().partition(" ")
    if not ref:
        raise InvalidInput(f"Usage: {usage}")
    return ref, text.strip()


def _pick(value: str, options: list[Any], what: str) -> Any:
    value = value.strip().lower().replace(" ", "_")
    if value.isdigit() and 1 <= int(value) <= len(options):
        return options[int(value) - 1]
    for opt in options:
        if value in (opt.value, opt.value.replace("_", "")):
            return opt
    names = ", ".join(o.value for o in options)
    raise InvalidInput(f"'{value}' is not a {what} (choose one of: {names}).")
