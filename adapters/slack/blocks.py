"""Block Kit rendering (`slack_sdk.models`): the core's views and forms in Slack's format, and nothing more.

What a card shows, which buttons it offers and how everything is worded come from the core
(`bot.review`, `bot.forms`, `bot.text`); this module turns them into blocks and modals. User text is
escaped for Slack (`&`, `<`, `>`), so a mention or a link in a request is shown, never acted on, and
every text is cut to Slack's limits here, so a long request or letter never makes a Slack call fail.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
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
    OverflowMenuElement,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.domain import Actor, Language, Project, RequestRecord
from bot.domain import Letter as LetterModel
from bot.forms import Field, FieldKind, FormSpec, moment_of
from bot.messages import letter_state_line, tone_marks
from bot.review import Action, Fact, RequestView, is_overdue, request_line
from bot.text import Segment, t

from .translate import dump_metadata

SECTION_LIMIT = 3000  # characters in a section's text
BUTTON_LIMIT = 75
HEADER_LIMIT = 150
TITLE_LIMIT = 24  # modal title, submit and close
FALLBACK_LIMIT = 3000  # our own cap on a message's notification text
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
INPUT_MAX = 3000  # plain_text_input max_length
REQUEST_SHOWN = 2900  # characters of a request's text on a card

# action_id of each action's button: the handlers' table in `handlers.py` routes on these.
ACTION_IDS: dict[Action, str] = {
    Action.APPROVE: "approve_request",
    Action.DECLINE: "decline_request",
    Action.ASK: "ask_details",
    Action.ANSWER: "answer_question",
    Action.WITHDRAW: "withdraw_request",
    Action.CORRECT: "correct_verdict",
    Action.OUTCOME: "record_outcome",
}
ACTIONS_BY_ID = {v: k for k, v in ACTION_IDS.items()}
MORE = "more_actions"  # the overflow menu of secondary actions; each option's value is "<action>:<ref>"
LETTER_EDIT = "letter_edit"
LETTER_EML = "letter_download_eml"
LETTER_SENT = "letter_mark_sent"
LETTER_SEND_EMAIL = "letter_send_email"
FORM_VIEW = "form:"  # + the form's id (an Action value): a request action's form
INTAKE_VIEW = "intake_modal"
LETTER_EDIT_VIEW = "letter_edit_modal"
SEND_EMAIL_VIEW = "send_email_modal"
RECORD_SHORTCUT = "record_client_request"


# --- text ---------------------------------------------------------------------------------------


def slack_len(text: str) -> int:
    """Characters as Slack's limits count them, at their strictest: UTF-16 code units (an emoji is two)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def cut(text: str, limit: int) -> str:
    """Cut text to `limit` characters as Slack counts them (`slack_len`), with a "…", keeping line breaks;
    never inside an escaped `&amp;`, `&lt;` or `&gt;`."""
    text = text.strip()
    if slack_len(text) <= limit:
        return text
    room, end = limit - 1, 0
    for ch in text:
        room -= 2 if ord(ch) > 0xFFFF else 1
        if room < 0:
            break
        end += 1
    head = text[:end]
    amp = head.rfind("&")
    if amp != -1 and ";" not in head[amp:]:
        head = head[:amp]  # an entity cut in half would show as "&am"
    return head.rstrip() + "…"


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as markup: mentions and links show as typed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def notification_text(text: str) -> str:
    """A message's top-level `text` (what notifications and screen readers show): plain text escaped,
    within our cap, so it can mention nobody and link nowhere."""
    return cut(escape(text), FALLBACK_LIMIT)


_USER_ID = re.compile(r"[UW][A-Z0-9]{2,40}")
_URL_UNSAFE = re.compile(r"[\s<>|]")


def who(actor: Actor) -> str:
    """A Slack user as a mention (shown as their name); anyone else, or an id that is not one, as text."""
    if actor.platform == "slack" and _USER_ID.fullmatch(actor.user_id):
        return f"<@{actor.user_id}>"
    return escape(actor.display)


def link(url: str, label: str) -> str:
    """`<url|label>`, for an http(s) address: the label escaped, and the characters that would end the
    link or start another (`<`, `>`, `|`, spaces) percent-encoded in the address. Anything else is
    shown as text."""
    if not url.lower().startswith(("https://", "http://")):
        return escape(label)
    safe = _URL_UNSAFE.sub(lambda m: f"%{ord(m.group(0)):02X}", url).replace("&", "&amp;")
    return f"<{safe}|{escape(label)}>"


def rich(segments: Sequence[Segment]) -> str:
    """Rich text (`bot.text.t_rich`) as mrkdwn: Slack users mentioned, every other text escaped."""
    return "".join(who(s) if isinstance(s, Actor) else escape(s) for s in segments)


def _md(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=cut(text, SECTION_LIMIT))


def _plain(text: str, limit: int = SECTION_LIMIT) -> PlainTextObject:
    return PlainTextObject(text=cut(text, limit) or " ", emoji=False)


def _button(text: str, action_id: str, value: str, style: str | None = None) -> ButtonElement:
    return ButtonElement(text=_plain(text, BUTTON_LIMIT), action_id=action_id, value=value, style=style)


def quote(text: str) -> str:
    return "\n".join("> " + line for line in escape(text).splitlines() or [""])


def chunks(text: str, size: int) -> list[str]:
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


def modal_title(spec_title: str, ref: str | None) -> str:
    """A modal title within Slack's 24 characters that never loses the request's ref."""
    if len(spec_title) <= TITLE_LIMIT:
        return spec_title
    return ref if ref and len(ref) <= TITLE_LIMIT else cut(spec_title, TITLE_LIMIT)


# --- a request ----------------------------------------------------------------------------------

VERDICT_ICONS = {
    "in_scope": ":large_green_circle:",
    "out_of_scope": ":red_circle:",
    "unlisted": ":large_yellow_circle:",
}


def verdict_mrkdwn(view: RequestView) -> str:
    v = view.verdict
    line = f"{VERDICT_ICONS[v.kind.value]} *{escape(t(view.language, 'card.scope_check_label'))}* {escape(v.headline)}"
    if v.confidence:
        line += f" · {escape(v.confidence)}"
    if v.clause:
        line += "\n" + quote(v.clause)
    if v.explanation:
        line += "\n_" + escape(v.explanation) + "_"
    if v.candidates:
        line += "\n" + escape(v.candidates)
    for p in v.parts:
        line += "\n• " + escape(p)
    if v.second:
        line += "\n" + "\n".join(f"_{escape(s)}_" if i == 0 else escape(s) for i, s in enumerate(v.second))
    return line


def action_elements(view: RequestView) -> list[Any]:
    """The view's actions: a button for each primary one, an overflow menu ("More") for the rest."""
    elements: list[Any] = [_button(a.label, ACTION_IDS[a.action], view.ref, a.style) for a in view.actions if a.primary]
    secondary = [a for a in view.actions if not a.primary]
    if secondary:
        elements.append(
            OverflowMenuElement(
                action_id=MORE,
                options=[Option(value=f"{a.action.value}:{view.ref}", text=_plain(a.label, 75)) for a in secondary],
            )
        )
    return elements


def fact_mrkdwn(f: Fact) -> str:
    """A fact as mrkdwn: a link when it is one, in bold when it needs attention now (overdue)."""
    if f.link:
        value = link(f.link, "".join(map(str, f.value)))
    else:
        value = rich(f.value)
    return f"*{escape(f.label)}* " + (f"*{value}*" if f.strong else value)


def request_blocks(view: RequestView, *, limit: int = REQUEST_SHOWN) -> list[Block]:
    """The request as a card: the review card in its channel, or one person's view of it (App Home)."""
    facts = [fact_mrkdwn(f) for f in view.facts]
    blocks: list[Block] = [
        HeaderBlock(text=_plain(view.title, HEADER_LIMIT)),
        SectionBlock(text=_md(" · ".join(facts))),
        SectionBlock(text=_md(quote(cut(view.text, limit)))),
        SectionBlock(text=_md(verdict_mrkdwn(view))),
    ]
    status = rich(view.status)
    if view.actions:
        blocks.append(ContextBlock(elements=[_md(status)]))
        blocks.append(ActionsBlock(block_id=f"act:{view.ref}", elements=action_elements(view)))
    else:
        blocks.append(SectionBlock(text=_md(f"*{status}*")))
    return blocks


def home_item(view: RequestView, *, section: str) -> list[Block]:
    """A request in App Home: its line, its status and the viewer's buttons. Block ids are unique per
    `section` of the tab (a PM's own request can be in both)."""
    head = f"*{escape(view.ref)}* · {escape(view.verdict.headline)}\n{quote(cut(view.text, 600))}\n{rich(view.status)}"
    due = [f for f in view.facts if f.key in ("due", "escalated")]
    if due:
        head += "\n" + " · ".join(fact_mrkdwn(f) for f in due)
    blocks: list[Block] = [SectionBlock(text=_md(head))]
    if view.actions:
        blocks.append(ActionsBlock(block_id=f"{section}:{view.ref}", elements=action_elements(view)))
    return blocks


def receipt_blocks(text: str) -> list[Block]:
    return [SectionBlock(text=_md(f":inbox_tray: {escape(text)}"))]


def text_blocks(text: str) -> list[Block]:
    return [SectionBlock(text=_md(escape(piece))) for piece in chunks(text, SECTION_LIMIT - 200)[:MAX_MESSAGE_BLOCKS]]


def question_blocks(view: RequestView, question: str, asker: Actor | None) -> list[Block]:
    lang = view.language
    head = t(lang, "question.head", ref=view.ref)
    who_asks = who(asker) if asker else escape(t(lang, "word.a_pm"))
    blocks: list[Block] = [
        SectionBlock(
            text=_md(
                f":question: {who_asks} {escape(head)}\n“{escape(cut(' '.join(view.text.split()), 80))}”\n"
                f"{quote(cut(question, 2500))}"
            )
        )
    ]
    if view.actions:
        blocks.append(ActionsBlock(block_id=f"act:{view.ref}", elements=action_elements(view)))
    return blocks


# --- forms --------------------------------------------------------------------------------------


def _option(value: str, label: str) -> Option:
    return Option(value=value, text=_plain(label, 75))


def _input(f: Field, spec: FormSpec) -> InputBlock:
    label = _plain(f.label, 2000)
    hint = _plain(f.hint, 2000) if f.hint else None
    element: Any
    if f.kind in (FieldKind.TEXT, FieldKind.LONG_TEXT, FieldKind.NUMBER):
        limit = min(f.max_length or INPUT_MAX, INPUT_MAX)
        default = str(f.default) if isinstance(f.default, str) else ""
        element = PlainTextInputElement(
            action_id="value",
            initial_value=cut(default, limit) if default else None,
            multiline=f.kind is FieldKind.LONG_TEXT,
            max_length=limit if f.kind is not FieldKind.NUMBER else 4,
            placeholder=_plain(f.placeholder, 150) if f.placeholder else None,
        )
    elif f.kind is FieldKind.CHOICE:
        options = [_option(c.value, c.label) for c in f.choices]
        chosen = next((o for o in options if o.value == f.default), None)
        if len(options) <= 3 and f.required:
            element = RadioButtonsElement(action_id="value", options=options, initial_option=chosen)
        else:
            element = StaticSelectElement(action_id="value", options=options[:100], initial_option=chosen)
    elif f.kind is FieldKind.MULTI_CHOICE:
        options = [_option(c.value, c.label) for c in f.choices]
        given = set(f.default or ())
        element = CheckboxesElement(
            action_id="value", options=options, initial_options=[o for o in options if o.value in given] or None
        )
    elif f.kind is FieldKind.DATE:
        element = DatePickerElement(action_id="value", initial_date=f.default if isinstance(f.default, str) else None)
    else:  # a date and time: Slack's picker works in epoch seconds
        initial = None
        if isinstance(f.default, str) and f.default:
            try:
                initial = int(moment_of(f.default, spec.timezone).timestamp())
            except ValueError:
                initial = None
        element = DateTimePickerElement(action_id="value", initial_date_time=initial)
    return InputBlock(block_id=f.id, label=label, hint=hint, optional=not f.required, element=element)


def form_modal(spec: FormSpec, *, callback_id: str, metadata: dict[str, Any]) -> View:
    """A form as a modal: its intro and the text it is about, then one input per field (block id = field id)."""
    blocks: list[Block] = []
    head = escape(spec.intro)
    if spec.quote:
        head = (head + "\n" if head else "") + quote(cut(spec.quote, 1500))
    if head:
        blocks.append(SectionBlock(text=_md(head)))
    blocks += [_input(f, spec) for f in spec.fields]
    lang = spec.language
    return View(
        type="modal",
        callback_id=callback_id,
        title=_plain(modal_title(spec.short_title, spec.ref), TITLE_LIMIT),
        submit=_plain(spec.submit, TITLE_LIMIT),
        close=_plain(t(lang, "button.cancel"), TITLE_LIMIT),
        blocks=blocks[:MAX_VIEW_BLOCKS],
        private_metadata=dump_metadata(metadata),
    )


def message_modal(title: str, text: str, lang: Language) -> View:
    """A modal with only a message (e.g. why a form cannot open)."""
    return View(
        type="modal",
        title=_plain(title, TITLE_LIMIT),
        close=_plain(t(lang, "button.close"), TITLE_LIMIT),
        blocks=[SectionBlock(text=_md(escape(text)))],
    )


def send_email_modal(ref: str, recipients: str, lang: Language, *, metadata: dict[str, Any]) -> View:
    """The PM's explicit confirmation before the letter leaves: who it goes to."""
    blocks: list[Block] = [
        SectionBlock(text=_md(escape(t(lang, "send.intro", ref=ref)))),
        SectionBlock(text=_md("```" + cut(escape(recipients), 2900) + "```")),
    ]
    return View(
        type="modal",
        callback_id=SEND_EMAIL_VIEW,
        title=_plain(modal_title(t(lang, "send.short", ref=ref), ref), TITLE_LIMIT),
        submit=_plain(t(lang, "send.submit"), TITLE_LIMIT),
        close=_plain(t(lang, "button.cancel"), TITLE_LIMIT),
        blocks=blocks,
        private_metadata=dump_metadata(metadata),
    )


# --- the letter, in the PM's DM -----------------------------------------------------------------


def letter_message(
    ref: str,
    letter_data: dict[str, Any],
    lang: Language,
    *,
    tz: str = "UTC",
    by: Actor | None = None,
    can_send_email: bool = False,
    talking_points: str = "",
) -> list[Block]:
    """The letter as the PM sees it in their DM: subject, text, tone check and what to do next."""
    letter = LetterModel.from_dict(letter_data)
    state_line = letter_state_line(letter, lang, tz, by)
    tone_lines = tone_marks(letter, lang)
    key = "letter.title_meeting" if letter.kind == "meeting_invite" else "letter.title"
    blocks: list[Block] = [
        HeaderBlock(text=_plain(t(lang, key, ref=ref), HEADER_LIMIT)),
        ContextBlock(elements=[_md(escape(state_line))]),
        SectionBlock(text=_md("*" + escape(t(lang, "letter.subject", subject=letter.subject)) + "*")),
    ]
    body = letter.body_text
    pieces = chunks(body, SECTION_LIMIT)
    room = MAX_MESSAGE_BLOCKS - 8
    if len(pieces) > room:
        pieces = [*pieces[: room - 1], cut(pieces[room - 1], SECTION_LIMIT - 1) + "…"]
    blocks += [SectionBlock(text=_plain(p)) for p in pieces]
    if talking_points.strip():
        blocks.append(DividerBlock())
        blocks.append(SectionBlock(text=_md("*" + escape(t(lang, "letter.talking_points")) + "*")))
        blocks += [SectionBlock(text=_plain(p)) for p in chunks(talking_points, SECTION_LIMIT)[:6]]
    blocks.append(DividerBlock())
    ok = all(passed for passed, _ in tone_lines)
    head = t(lang, "letter.tone_ok" if ok else "letter.tone_some_fail")
    # A failing rule is what the PM must act on: bold, not faint.
    lines = [escape(line) if passed else f"*{escape(line)}*" for passed, line in tone_lines]
    blocks.append(SectionBlock(text=_md(f"*{escape(head)}*\n" + "\n".join(lines))))
    status = letter.status
    if status == "queued":  # on its way: only the file, for the PM's own records
        blocks.append(
            ActionsBlock(block_id=f"letter:{ref}", elements=[_button(t(lang, "button.eml"), LETTER_EML, ref)])
        )
    elif status != "sent":
        buttons = [
            _button(t(lang, "button.edit"), LETTER_EDIT, ref),
            _button(t(lang, "button.eml"), LETTER_EML, ref),
            _button(t(lang, "button.mark_sent"), LETTER_SENT, ref, "primary"),
        ]
        if can_send_email:
            buttons.insert(2, _button(t(lang, "button.send_email"), LETTER_SEND_EMAIL, ref))
        blocks.append(ActionsBlock(block_id=f"letter:{ref}", elements=buttons))
    return blocks


# --- read-only views ----------------------------------------------------------------------------


def scope_blocks(project: Project, lang: Language) -> list[Block]:
    """The project's scope for `/scope`: goals, in scope, exclusions, milestones."""
    blocks: list[Block] = [
        HeaderBlock(text=_plain(t(lang, "scope.title", name=project.name), HEADER_LIMIT)),
        ContextBlock(
            elements=[
                _md(escape(t(lang, "scope.context", slug=project.slug, client=project.client.name, v=project.version)))
            ]
        ),
    ]

    def section(title: str, lines: list[str]) -> None:
        if not lines:
            return
        for i, piece in enumerate(chunks("\n".join(lines), SECTION_LIMIT - 40)):
            blocks.append(SectionBlock(text=_md((f"*{escape(title)}*\n" if i == 0 else "") + piece)))

    def item(it: Any) -> str:
        return f"• `{escape(it.id)}` {escape(it.title)}" + (f": {escape(it.notes)}" if it.notes else "")

    section(t(lang, "scope.goals"), [f"• {escape(g)}" for g in project.goals])
    section(t(lang, "scope.in_scope"), [item(it) for it in project.in_scope])
    section(t(lang, "scope.out_of_scope"), [item(it) for it in project.out_of_scope])
    section(t(lang, "scope.milestones"), [f"• {m.due.isoformat()}  {escape(m.name)}" for m in project.milestones])
    return blocks[:MAX_MESSAGE_BLOCKS]


def request_list_blocks(
    title: str,
    recs: Sequence[RequestRecord],
    lang: Language,
    *,
    now: datetime | None = None,
    zones: Mapping[str, str] | None = None,
    more: int = 0,
) -> list[Block]:
    """Requests one line each, with their due dates (`zones`: each project's time zone); an overdue one
    in bold; `more`: how many more there are than listed."""
    blocks: list[Block] = [SectionBlock(text=_md(f"*{escape(title)}*"))]
    if not recs:
        blocks.append(SectionBlock(text=_md(escape(t(lang, "list.none_open")))))
        return blocks
    lines = []
    for r in recs:
        tz = (zones or {}).get(r.project, "UTC")
        line = escape(request_line(r, lang, tz=tz, now=now))
        lines.append(f"*{line}*" if is_overdue(r, now) else line)
    for piece in chunks("\n".join(lines), SECTION_LIMIT)[: MAX_MESSAGE_BLOCKS - 2]:
        blocks.append(SectionBlock(text=_md(piece)))
    if more > 0:
        blocks.append(ContextBlock(elements=[_md(escape(t(lang, "list.more", n=more)))]))
    return blocks


def home_view(
    lang: Language,
    *,
    queue: Sequence[RequestView],
    queue_total: int,
    mine: Sequence[RequestView],
    mine_total: int,
    is_pm: bool,
) -> View:
    """App Home: a PM's review queue with the decision buttons, and everyone's own requests, with the true
    counts and where to find the rest when not all of them fit."""
    blocks: list[Block] = [
        HeaderBlock(text=_plain(t(lang, "home.title"), HEADER_LIMIT)),
        ContextBlock(elements=[_md(escape(t(lang, "home.intro_pm" if is_pm else "home.intro")))]),
    ]
    if is_pm:
        blocks.append(HeaderBlock(text=_plain(t(lang, "home.waiting", n=queue_total))))
        if not queue:
            blocks.append(SectionBlock(text=_md(escape(t(lang, "home.nothing_waiting")))))
        shown = 0
        for view in queue:
            if len(blocks) > MAX_VIEW_BLOCKS // 2:
                break
            blocks.append(DividerBlock())
            blocks += home_item(view, section="queue")
            shown += 1
        if shown < queue_total:
            blocks.append(ContextBlock(elements=[_md(escape(t(lang, "home.more", shown=shown, n=queue_total)))]))
    blocks.append(HeaderBlock(text=_plain(t(lang, "home.mine", n=mine_total))))
    if not mine:
        blocks.append(SectionBlock(text=_md(escape(t(lang, "home.none_mine")))))
    shown = 0
    for view in mine:
        if len(blocks) + 3 > MAX_VIEW_BLOCKS - 1:
            break
        blocks += home_item(view, section="mine")
        shown += 1
    if shown < mine_total:
        blocks.append(ContextBlock(elements=[_md(escape(t(lang, "home.more", shown=shown, n=mine_total)))]))
    return View(type="home", blocks=blocks[:MAX_VIEW_BLOCKS])


def to_dicts(blocks: Sequence[Block]) -> list[dict[str, Any]]:
    return [b.to_dict() for b in blocks]


# --- time: reminders, escalations, expiries, follow-ups and the daily summary ---------------------


def timely_blocks(headline: str, view: RequestView) -> list[Block]:
    """A reminder (or escalation, follow-up, expiry notice) to one person: what it is about, then the
    request as a card with the buttons that person may use."""
    return [SectionBlock(text=_md(f"*{escape(headline)}*")), *request_blocks(view, limit=1500)]


def requester_reminder_blocks(headline: str, view: RequestView, question: str) -> list[Block]:
    """The requester's reminder or expiry notice: the question again, with the Answer button."""
    blocks: list[Block] = [
        SectionBlock(
            text=_md(
                f":hourglass_flowing_sand: {escape(headline)}\n“{escape(cut(' '.join(view.text.split()), 80))}”\n"
                f"{quote(cut(question, 2500))}"
            )
        )
    ]
    if view.actions:
        blocks.append(ActionsBlock(block_id=f"act:{view.ref}", elements=action_elements(view)))
    return blocks


SUMMARY_SHOWN = 12  # requests shown with their buttons in one summary (two blocks each, within 50)


def summary_blocks(title: str, sections: Sequence[tuple[str, str, Sequence[RequestView], int]]) -> list[Block]:
    """The daily summary: per section (its key, heading, views and how many more there are), each request
    with its line, status, due date and the recipient's buttons."""
    blocks: list[Block] = [HeaderBlock(text=_plain(title, HEADER_LIMIT))]
    shown = 0
    for key, heading, views, more in sections:
        if not views:
            continue
        blocks.append(SectionBlock(text=_md(f"*{escape(heading)}*")))
        for view in views:
            if shown >= SUMMARY_SHOWN:
                more += 1
                continue
            blocks += home_item(view, section=f"summary-{key}")
            shown += 1
        if more:
            lang = views[0].language
            blocks.append(ContextBlock(elements=[_md(escape(t(lang, "summary.more", n=more)))]))
    return blocks[:MAX_MESSAGE_BLOCKS]
