"""Block Kit builders (`slack_sdk.models`): the review card, the letter DM, the modals and the App Home.

Every builder takes core values and returns blocks or a `View`; texts are cut to Slack's limits here, so
a long request or letter never makes a Slack call fail.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    DatePickerElement,
    DateTimePickerElement,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot import messages as core_messages
from bot.domain import (
    AlternativeKind,
    Channel,
    DeclineForm,
    Language,
    Project,
    ReasonCategory,
    RequestRecord,
    RequestStatus,
    ToneResult,
)
from bot.letters.tone import format_report

from . import messages
from .messages import cut, escape, who
from .translate import ALTERNATIVE_DETAIL_BLOCK, dump_metadata

# action_id / callback_id values: the handlers' table in `handlers.py` routes on these.
APPROVE = "approve_request"
DECLINE = "decline_request"
ASK = "ask_details"
ANSWER = "answer_question"
LETTER_EDIT = "letter_edit"
LETTER_EML = "letter_download_eml"
LETTER_SENT = "letter_mark_sent"
LETTER_SEND_EMAIL = "letter_send_email"
INTAKE_VIEW = "intake_modal"
SCOPE_CHANGE_VIEW = "scope_change_modal"
ASK_VIEW = "ask_modal"
ANSWER_VIEW = "answer_modal"
DECLINE_VIEW = "decline_modal"
LETTER_EDIT_VIEW = "letter_edit_modal"
SEND_EMAIL_VIEW = "send_email_modal"
RECORD_SHORTCUT = "record_client_request"

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
INPUT_MAX = 3000  # plain_text_input max_length

URGENCIES = (("low", "Low"), ("normal", "Normal"), ("high", "High"), ("urgent", "Urgent: blocks the client"))


def _md(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=cut(text, messages.SECTION_LIMIT))


def _plain(text: str, limit: int = messages.SECTION_LIMIT) -> PlainTextObject:
    return PlainTextObject(text=cut(text, limit) or " ", emoji=False)


def _button(text: str, action_id: str, value: str, style: str | None = None) -> ButtonElement:
    return ButtonElement(text=cut(text, messages.BUTTON_LIMIT), action_id=action_id, value=value, style=style)


def _quote(text: str) -> str:
    return "\n".join("> " + line for line in escape(text).splitlines() or [""])


def _chunks(text: str, size: int) -> list[str]:
    """Split a long text at line breaks into pieces of at most `size` characters."""
    out: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line) > size:
            if current:
                out.append(current)
                current = ""
            out.append(line[:size])
            line = line[size:]
        if len(current) + len(line) > size:
            out.append(current)
            current = ""
        current += line
    if current.strip():
        out.append(current)
    return out or [" "]


def verdict_text(rec: RequestRecord) -> str:
    v = rec.verdict
    icon = {"in_scope": ":large_green_circle:", "out_of_scope": ":red_circle:", "unlisted": ":large_yellow_circle:"}[
        v.verdict.value
    ]
    line = f"{icon} *Scope check:* {escape(v.one_line())}"
    if v.clause:
        line += f"\n{_quote(core_messages.shorten(v.clause, 400))}"
    if len(v.parts) > 1:
        for p in v.parts:
            line += f"\n• {p.verdict.value}{f' ({p.item_id})' if p.item_id else ''}: {escape(core_messages.shorten(p.text, 120))}"
    return line


def decision_buttons(ref: str) -> ActionsBlock:
    return ActionsBlock(
        block_id=f"decide:{ref}",
        elements=[
            _button("Approve", APPROVE, ref, "primary"),
            _button("Decline", DECLINE, ref, "danger"),
            _button("Ask for details", ASK, ref),
        ],
    )


def can_decide(rec: RequestRecord) -> bool:
    return rec.status in (RequestStatus.SUBMITTED, RequestStatus.IN_REVIEW)


def review_card(rec: RequestRecord, *, project_name: str | None = None) -> list[Block]:
    """The card in the review channel: buttons while a decision is due, the outcome once it is made."""
    facts = [f"*From* {who(rec.requester)}", f"*Recorded* {core_messages.when(rec.created_at)}"]
    if project_name:
        facts.insert(0, f"*Project* {escape(project_name)}")
    if rec.source and rec.source.permalink:
        facts.append(f"*Source* <{rec.source.permalink}|original message>")
    blocks: list[Block] = [
        HeaderBlock(text=_plain(f"Client request {rec.ref}", messages.HEADER_LIMIT)),
        SectionBlock(text=_md(" · ".join(facts))),
        SectionBlock(text=_md(_quote(cut(rec.text, 2900)))),
    ]
    extra = []
    if rec.client_words and rec.client_words != rec.text:
        extra.append(f"*Client's words:* {escape(core_messages.shorten(rec.client_words, 1500))}")
    if rec.urgency:
        extra.append(f"*Urgency:* {escape(rec.urgency)}")
    if rec.requested_date:
        extra.append(f"*Wanted by:* {rec.requested_date.isoformat()}")
    if extra:
        blocks.append(SectionBlock(text=_md("\n".join(extra))))
    blocks.append(SectionBlock(text=_md(verdict_text(rec))))
    if can_decide(rec):
        blocks.append(ContextBlock(elements=[_md(messages.status_line(rec))]))
        blocks.append(decision_buttons(rec.ref))
    else:
        blocks.append(SectionBlock(text=_md(f"*{messages.status_line(rec)}*")))
    return blocks


def letter_message(
    rec: RequestRecord,
    letter: dict[str, Any],
    *,
    can_send_email: bool = False,
    sent_by: Any = None,
    talking_points: str = "",
) -> list[Block]:
    """The letter as the PM sees it in their DM: subject, text, tone check and what to do next.

    `can_send_email` adds the Send email button, for servers that can send mail themselves.
    """
    kind = "Meeting invitation" if letter.get("kind") == "meeting_invite" else "Letter to the client"
    blocks: list[Block] = [
        HeaderBlock(text=_plain(f"{kind} for {rec.ref}", messages.HEADER_LIMIT)),
        ContextBlock(elements=[_md(messages.letter_state_line(letter, sent_by))]),
        SectionBlock(text=_md(f"*Subject:* {escape(str(letter.get('subject', '')))}")),
    ]
    body = str(letter.get("body_text", ""))
    pieces = _chunks(body, messages.SECTION_LIMIT)
    room = MAX_MESSAGE_BLOCKS - 8
    if len(pieces) > room:
        pieces = [*pieces[: room - 1], cut(pieces[room - 1], messages.SECTION_LIMIT - 1) + "…"]
    blocks += [SectionBlock(text=_plain(p)) for p in pieces]
    if talking_points.strip():
        blocks.append(DividerBlock())
        blocks.append(SectionBlock(text=_md("*Your talking points* (for you only; never sent to the client)")))
        points = _chunks(talking_points, messages.SECTION_LIMIT)[:6]
        blocks += [SectionBlock(text=_plain(p)) for p in points]
    blocks.append(DividerBlock())
    tone = letter.get("tone") or []
    results = [
        ToneResult(t["rule"], bool(t["passed"]), t.get("detail", ""), tuple(t.get("offending", ()))) for t in tone
    ]
    ok = all(r.passed for r in results)
    head = "*Tone check:* all rules pass" if ok else "*Tone check:* some rules fail; consider editing"
    blocks.append(SectionBlock(text=_md(head + "\n" + escape(format_report(results)))))
    status = letter.get("status")
    if status == "queued":  # on its way: only the file, for the PM's own records
        blocks.append(
            ActionsBlock(block_id=f"letter:{rec.ref}", elements=[_button("Download .eml", LETTER_EML, rec.ref)])
        )
    elif status != "sent":
        buttons = [
            _button("Edit", LETTER_EDIT, rec.ref),
            _button("Download .eml", LETTER_EML, rec.ref),
            _button("Mark as sent", LETTER_SENT, rec.ref, "primary"),
        ]
        if can_send_email:
            buttons.insert(2, _button("Send email", LETTER_SEND_EMAIL, rec.ref))
        blocks.append(ActionsBlock(block_id=f"letter:{rec.ref}", elements=buttons))
    return blocks


def receipt_blocks(rec: RequestRecord) -> list[Block]:
    return [SectionBlock(text=_md(f":inbox_tray: {escape(core_messages.receipt(rec))}"))]


def requester_blocks(text: str) -> list[Block]:
    return [SectionBlock(text=_md(escape(text)))]


def question_blocks(rec: RequestRecord, question: str, asker: str) -> list[Block]:
    return [
        SectionBlock(
            text=_md(
                f":question: {asker} needs more details about *{rec.ref}* "
                f"(“{escape(core_messages.shorten(rec.text, 80))}”):\n{_quote(cut(question, 2500))}"
            )
        ),
        ActionsBlock(block_id=f"answer:{rec.ref}", elements=[_button("Answer", ANSWER, rec.ref, "primary")]),
    ]


# --- modals -------------------------------------------------------------------------------------


def _text_input(
    block_id: str,
    label: str,
    *,
    initial: str = "",
    multiline: bool = False,
    optional: bool = False,
    placeholder: str | None = None,
    hint: str | None = None,
    max_length: int = INPUT_MAX,
) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=_plain(label, 2000),
        optional=optional,
        hint=_plain(hint, 2000) if hint else None,
        element=PlainTextInputElement(
            action_id="value",
            initial_value=cut(initial, max_length) if initial else None,
            multiline=multiline,
            max_length=max_length,
            placeholder=_plain(placeholder, 150) if placeholder else None,
        ),
    )


def _select(
    block_id: str, label: str, options: Sequence[tuple[str, str]], *, initial: str | None = None, optional: bool = False
) -> InputBlock:
    opts = [Option(value=v, text=_plain(t, 75)) for v, t in options]
    chosen = next((o for o in opts if o.value == initial), None)
    return InputBlock(
        block_id=block_id,
        label=_plain(label, 2000),
        optional=optional,
        element=StaticSelectElement(action_id="value", options=opts, initial_option=chosen),
    )


def _modal(callback_id: str, title: str, submit: str, blocks: list[Block], metadata: dict[str, Any]) -> View:
    return View(
        type="modal",
        callback_id=callback_id,
        title=_plain(title, messages.TITLE_LIMIT),
        submit=_plain(submit, messages.TITLE_LIMIT),
        close=_plain("Cancel", messages.TITLE_LIMIT),
        blocks=blocks[:MAX_VIEW_BLOCKS],
        private_metadata=dump_metadata(metadata),
    )


def intake_modal(
    *, metadata: dict[str, Any], text: str = "", projects: Iterable[Project] = (), project: str | None = None
) -> View:
    """The intake form: what the client asked, their words, urgency, wanted-by date (and which project)."""
    blocks: list[Block] = []
    choices = [(p.slug, p.name) for p in projects]
    if len(choices) > 1:
        blocks.append(_select("project", "Project", choices, initial=project))
    blocks += [
        _text_input(
            "what",
            "What did the client ask for?",
            initial=text,
            multiline=True,
            placeholder="In a sentence or two, e.g. Could the portal also export invoices as PDF?",
        ),
        _text_input(
            "client_words",
            "The client's own words",
            initial=text,
            multiline=True,
            optional=True,
            hint="Quoted in the letter if the request is declined.",
        ),
        _select("urgency", "Urgency", URGENCIES, initial="normal", optional=True),
        InputBlock(
            block_id="requested_date",
            label=_plain("Wanted by", 2000),
            optional=True,
            element=DatePickerElement(action_id="value"),
        ),
    ]
    return _modal(INTAKE_VIEW, "Record a client request", "Record", blocks, metadata)


def scope_change_modal(rec: RequestRecord, *, metadata: dict[str, Any]) -> View:
    blocks: list[Block] = [
        SectionBlock(
            text=_md(
                f"*{rec.ref}* is {escape(rec.verdict.verdict.label)}: approving it records a scope change.\n"
                f"{_quote(cut(rec.text, 1500))}"
            )
        ),
        _text_input("estimate", "Effort estimate", placeholder="e.g. 5 person-days", max_length=500),
        _text_input("schedule_impact", "Schedule impact", placeholder="e.g. Beta moves by a week", max_length=500),
        _text_input("note", "Note", multiline=True, optional=True, max_length=2000),
    ]
    return _modal(SCOPE_CHANGE_VIEW, f"Approve {rec.ref}", "Approve", blocks, metadata)


def ask_modal(rec: RequestRecord, *, metadata: dict[str, Any]) -> View:
    blocks: list[Block] = [
        SectionBlock(text=_md(f"*{rec.ref}* from {who(rec.requester)}\n{_quote(cut(rec.text, 1500))}")),
        _text_input("question", "Your question to the requester", multiline=True, max_length=INPUT_MAX),
    ]
    return _modal(ASK_VIEW, f"Ask about {rec.ref}", "Ask", blocks, metadata)


def answer_modal(rec: RequestRecord, question: str, *, metadata: dict[str, Any]) -> View:
    blocks: list[Block] = [
        SectionBlock(text=_md(f"{escape(messages.answer_prompt(rec))}\n{_quote(cut(question, 2000))}")),
        _text_input("answer", "Your answer", multiline=True, max_length=INPUT_MAX),
    ]
    return _modal(ANSWER_VIEW, f"Answer about {rec.ref}", "Send answer", blocks, metadata)


def decline_modal(rec: RequestRecord, defaults: DeclineForm, *, metadata: dict[str, Any]) -> View:
    """The decline form, pre-filled from the verdict: reason, alternatives, empathy, email or meeting, language."""
    chosen = {a.kind.value for a in defaults.alternatives}
    alt_options = [Option(value=k.value, text=_plain(k.label, 75)) for k in AlternativeKind]
    blocks: list[Block] = [
        SectionBlock(text=_md(f"*{rec.ref}*: {escape(core_messages.shorten(rec.text, 300))}\n{verdict_text(rec)}")),
        _select(
            "reason_category",
            "Reason",
            [(c.value, c.label) for c in ReasonCategory],
            initial=defaults.reason_category.value,
        ),
        _text_input(
            "reason_text", "The reason, for the client", initial=defaults.reason_text, multiline=True, max_length=2000
        ),
        InputBlock(
            block_id="alternatives",
            label=_plain("Alternatives to offer", 2000),
            optional=True,
            element=CheckboxesElement(
                action_id="value",
                options=alt_options,
                initial_options=[o for o in alt_options if o.value in chosen] or None,
            ),
        ),
    ]
    for k in AlternativeKind:
        detail = next((a.detail for a in defaults.alternatives if a.kind is k), "")
        blocks.append(
            _text_input(
                ALTERNATIVE_DETAIL_BLOCK + k.value,
                f"Details: {k.label.lower()}",
                initial=detail,
                optional=True,
                max_length=500,
            )
        )
    blocks += [
        _text_input(
            "empathy",
            "A line of understanding",
            initial=defaults.empathy,
            multiline=True,
            optional=True,
            max_length=1000,
        ),
        InputBlock(
            block_id="channel",
            label=_plain("How will you answer the client?", 2000),
            element=RadioButtonsElement(
                action_id="value",
                options=[
                    Option(value=Channel.EMAIL.value, text=_plain("By email (a formal letter)")),
                    Option(value=Channel.MEETING.value, text=_plain("In a meeting (an invitation and talking points)")),
                ],
                initial_option=Option(
                    value=defaults.channel.value,
                    text=_plain(
                        "By email (a formal letter)"
                        if defaults.channel is Channel.EMAIL
                        else "In a meeting (an invitation and talking points)"
                    ),
                ),
            ),
        ),
        InputBlock(
            block_id="meeting_start",
            label=_plain("Meeting time (for a meeting)", 2000),
            optional=True,
            element=DateTimePickerElement(action_id="value"),
        ),
        _text_input("meeting_minutes", "Meeting length in minutes", initial="30", optional=True, max_length=3),
        _text_input("meeting_location", "Meeting room or link", optional=True, max_length=300),
        _select(
            "language",
            "Letter language",
            [(Language.EN.value, "English"), (Language.ZH.value, "Chinese (中文)")],
            initial=(defaults.language or Language.EN).value,
        ),
    ]
    return _modal(DECLINE_VIEW, f"Decline {rec.ref}", "Draft the letter", blocks, metadata)


def letter_edit_modal(rec: RequestRecord, letter: dict[str, Any], *, metadata: dict[str, Any]) -> View:
    blocks: list[Block] = [
        ContextBlock(elements=[_md("The tone check runs again when you save.")]),
        _text_input("subject", "Subject", initial=str(letter.get("subject", "")), max_length=250),
        _text_input("body", "Letter", initial=str(letter.get("body_text", "")), multiline=True, max_length=INPUT_MAX),
    ]
    return _modal(LETTER_EDIT_VIEW, f"Edit letter {rec.ref}", "Save", blocks, metadata)


def send_email_modal(rec: RequestRecord, recipients: str, *, metadata: dict[str, Any]) -> View:
    """The PM's explicit confirmation before the letter leaves: who it goes to."""
    blocks: list[Block] = [
        SectionBlock(text=_md(escape(messages.send_email_intro(rec.ref)))),
        SectionBlock(text=_md("```" + cut(escape(recipients), 2900) + "```")),
    ]
    return _modal(SEND_EMAIL_VIEW, f"Send {rec.ref}", "Send", blocks, metadata)


def message_modal(title: str, text: str) -> View:
    """A modal with only a message (e.g. why a form cannot open)."""
    return View(
        type="modal",
        title=_plain(title, messages.TITLE_LIMIT),
        close=_plain("Close", messages.TITLE_LIMIT),
        blocks=[SectionBlock(text=_md(escape(text)))],
    )


# --- read-only views ----------------------------------------------------------------------------


def scope_blocks(project: Project) -> list[Block]:
    """The project's scope for `/scope`: goals, in scope, exclusions, milestones."""
    blocks: list[Block] = [
        HeaderBlock(text=_plain(f"{project.name}: agreed scope", messages.HEADER_LIMIT)),
        ContextBlock(
            elements=[_md(f"{escape(project.slug)} · for {escape(project.client.name)} · version {project.version}")]
        ),
    ]

    def section(title: str, lines: list[str]) -> None:
        if not lines:
            return
        for i, piece in enumerate(_chunks("\n".join(lines), messages.SECTION_LIMIT - 40)):
            blocks.append(SectionBlock(text=_md((f"*{title}*\n" if i == 0 else "") + piece)))

    section("Goals", [f"• {escape(g)}" for g in project.goals])
    section(
        "In scope",
        [f"• `{it.id}` {escape(it.title)}" + (f": {escape(it.notes)}" if it.notes else "") for it in project.in_scope],
    )
    section(
        "Not in scope",
        [
            f"• `{it.id}` {escape(it.title)}" + (f": {escape(it.notes)}" if it.notes else "")
            for it in project.out_of_scope
        ],
    )
    section("Milestones", [f"• {m.due.isoformat()}  {escape(m.name)}" for m in project.milestones])
    return blocks[:MAX_MESSAGE_BLOCKS]


def request_list_blocks(title: str, recs: Sequence[RequestRecord]) -> list[Block]:
    blocks: list[Block] = [SectionBlock(text=_md(f"*{escape(title)}*"))]
    if not recs:
        blocks.append(SectionBlock(text=_md(messages.NO_OPEN_REQUESTS)))
        return blocks
    lines = [escape(core_messages.request_line(r)) for r in recs]
    for piece in _chunks("\n".join(lines), messages.SECTION_LIMIT)[: MAX_MESSAGE_BLOCKS - 1]:
        blocks.append(SectionBlock(text=_md(piece)))
    return blocks


def home_view(*, queue: Sequence[RequestRecord], mine: Sequence[RequestRecord], is_pm: bool) -> View:
    """App Home: a PM's review queue with the decision buttons, and everyone's own requests."""
    blocks: list[Block] = [
        HeaderBlock(text=_plain("Client requests", messages.HEADER_LIMIT)),
        ContextBlock(elements=[_md(messages.home_intro(is_pm))]),
    ]
    if is_pm:
        blocks.append(HeaderBlock(text=_plain(f"Waiting for a decision ({len(queue)})")))
        if not queue:
            blocks.append(SectionBlock(text=_md("Nothing is waiting for you.")))
        for rec in queue:
            if len(blocks) > MAX_VIEW_BLOCKS - 12:
                blocks.append(ContextBlock(elements=[_md("More requests are waiting; `/requests` lists them all.")]))
                break
            blocks.append(DividerBlock())
            blocks.append(
                SectionBlock(
                    text=_md(
                        f"*{rec.ref}* from {who(rec.requester)} · {escape(rec.status.label)}\n"
                        f"{_quote(cut(rec.text, 600))}\n{verdict_text(rec)}"
                    )
                )
            )
            if can_decide(rec):
                blocks.append(decision_buttons(rec.ref))
    blocks.append(HeaderBlock(text=_plain(f"Your requests ({len(mine)})")))
    if not mine:
        blocks.append(SectionBlock(text=_md("You have not recorded any request yet.")))
    lines = [escape(core_messages.request_line(r)) for r in mine]
    room = MAX_VIEW_BLOCKS - len(blocks)
    for piece in _chunks("\n".join(lines), messages.SECTION_LIMIT)[: max(0, room)] if lines else []:
        blocks.append(SectionBlock(text=_md(piece)))
    return View(type="home", blocks=blocks[:MAX_VIEW_BLOCKS])


def to_dicts(blocks: Sequence[Block]) -> list[dict[str, Any]]:
    return [b.to_dict() for b in blocks]
