"""Adaptive Cards (version 1.5) for Teams: the core's views and forms as card JSON, and nothing more.

Buttons are `Action.Execute` (Universal Actions: the click arrives as an `adaptiveCard/action` invoke,
answered within Teams' deadline) with an `Action.Submit` fallback for clients without Universal Actions
(the click then arrives as a message whose `value` holds the data). Both carry the same data,
`{"intake": VERB, "ref": REF}`, merged with the card's inputs, so one handler serves both. A request
action's button has the action as its verb ("approve"); its form's button `<action>_submit`.

People's words (a request, a question, a letter, a name, an address, a mail server's reason) go into
`RichTextBlock`s of `TextRun`s, which Teams shows as typed: no markdown, no links made from them. That
includes every text with anything filled in (a form's intro naming the requester, the letter's state
naming the PM) and every label-and-value line, which are `TextRun`s too rather than a `FactSet`, whose
values Teams reads as markdown. `TextBlock`s carry only the bot's own fixed words. Inputs' values,
labels and choices are plain text in Teams already.
"""

from __future__ import annotations

from typing import Any

from bot.domain import Actor, Language, Letter
from bot.forms import Field, FieldKind, FormSpec
from bot.mailing import LetterRecipients
from bot.messages import letter_state_line, letter_status, tone_marks
from bot.review import RequestView
from bot.text import Segment, plain, t

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
SHOWN = 500  # characters of a long request shown before "Show all"

Card = dict[str, Any]
SUBMIT = "_submit"  # a form's button: `<form id>_submit`


def card(body: list[dict[str, Any]], actions: list[dict[str, Any]] | None = None) -> Card:
    out: Card = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION, "body": body}
    if actions:
        out["actions"] = actions
    return out


def attachment(c: Card) -> dict[str, Any]:
    return {"contentType": CARD_CONTENT_TYPE, "content": c}


def action(
    title: str, verb: str, ref: str | None = None, *, style: str | None = None, secondary: bool = False, **extra: Any
) -> dict[str, Any]:
    """An Action.Execute with an Action.Submit fallback carrying the same data."""
    data: dict[str, Any] = {"intake": verb, **extra}
    if ref:
        data["ref"] = ref
    submit: dict[str, Any] = {"type": "Action.Submit", "title": title, "data": data}
    execute: dict[str, Any] = {"type": "Action.Execute", "title": title, "verb": verb, "data": data, "fallback": submit}
    if style:
        execute["style"] = submit["style"] = style
    if secondary:
        execute["mode"] = submit["mode"] = "secondary"  # in the card's "…" menu
    return execute


def text(value: str, **props: Any) -> dict[str, Any]:
    """The bot's own words (markdown is not used in them)."""
    return {"type": "TextBlock", "text": value, "wrap": True, **props}


def literal(value: str, **props: Any) -> dict[str, Any]:
    """People's words, shown exactly as typed: a TextRun parses no markdown and makes no links."""
    run: dict[str, Any] = {"type": "TextRun", "text": value}
    for key in ("weight", "color", "size", "isSubtle", "italic"):
        if key in props:
            run[key] = props.pop(key)
    return {"type": "RichTextBlock", "inlines": [run], **props}


def lines(value: str, **props: Any) -> list[dict[str, Any]]:
    """A text of several lines and paragraphs, kept as written: one block per line, lines of a paragraph
    together, a space between paragraphs (a single TextBlock loses line breaks in Teams)."""
    out: list[dict[str, Any]] = []
    first_of_paragraph = True
    for line in value.rstrip().splitlines():
        if not line.strip():
            first_of_paragraph = True
            continue
        spacing = "medium" if first_of_paragraph and out else "none"
        if line.startswith("    "):  # a quotation (the client's words in a letter): set apart, in italics
            out.append(literal(line.strip(), spacing=spacing, italic=True, **props))
        else:
            out.append(literal(line, spacing=spacing, **props))
        first_of_paragraph = False
    return out or [literal(" ")]


def facts(pairs: list[tuple[str, str]] | list[tuple[str, str, str | None, bool]], lang: Language) -> dict[str, Any]:
    """Labelled values ("From: Sam Reed"), one per line, looking like a FactSet. Not a FactSet: Teams reads
    markdown in a FactSet's values, and these are people's words (a name, the client's own wording, a
    subject, an address), so each value is a TextRun. A value with a link opens it when clicked; a value
    that needs attention now (an overdue decision) is in bold in the attention colour."""
    rows: list[dict[str, Any]] = []
    for pair in pairs:
        label, value = pair[0], pair[1]
        link = pair[2] if len(pair) > 2 else None
        strong = bool(pair[3]) if len(pair) > 3 else False
        run: dict[str, Any] = {"type": "TextRun", "text": value}
        if link and link.lower().startswith(("https://", "http://")):  # nothing else opens from a card
            run.update(color="accent", selectAction={"type": "Action.OpenUrl", "url": link})
        if strong:
            run.update(weight="bolder", color="attention")
        label_run = {"type": "TextRun", "text": t(lang, "card.label", label=label), "weight": "bolder"}
        row: dict[str, Any] = {"type": "RichTextBlock", "inlines": [label_run, run]}
        if rows:
            row["spacing"] = "none"
        rows.append(row)
    return {"type": "Container", "items": rows}


def rich(segments: tuple[Segment, ...]) -> str:
    return plain(segments)


def error_block(error: str | None) -> list[dict[str, Any]]:
    return [literal(f"⚠ {error}", color="attention", weight="bolder")] if error else []


def long_text(value: str, lang: Language, *, block_id: str) -> list[dict[str, Any]]:
    """A person's text, in a shaded box; a long one shows its beginning with "Show all"."""
    if len(value) <= SHOWN:
        return [{"type": "Container", "style": "emphasis", "items": lines(value)}]
    head = value[:SHOWN].rstrip() + "…"
    return [
        {"type": "Container", "style": "emphasis", "id": f"{block_id}-short", "items": lines(head)},
        {"type": "Container", "style": "emphasis", "id": f"{block_id}-full", "isVisible": False, "items": lines(value)},
        {
            "type": "ActionSet",
            "actions": [
                {
                    "type": "Action.ToggleVisibility",
                    "title": t(lang, "card.show_all"),
                    "targetElements": [f"{block_id}-short", f"{block_id}-full"],
                }
            ],
        },
    ]


# --- a request ----------------------------------------------------------------------------------


def request_card(view: RequestView) -> Card:
    """The request as a card: the review card in its channel, or one person's view of it."""
    lang = view.language
    body: list[dict[str, Any]] = [
        text(view.title, size="medium", weight="bolder"),
        facts([(f.label, rich(f.value), f.link, f.strong) for f in view.facts], lang),
        *long_text(view.text, lang, block_id=f"req-{view.ref}"),
        literal(
            t(lang, "card.scope_check", verdict=view.verdict.headline)
            + (f" · {view.verdict.confidence}" if view.verdict.confidence else ""),
            weight="bolder",
        ),
    ]
    v = view.verdict
    if v.clause:
        body.append(literal(f"“{v.clause}”", spacing="none"))
    if v.explanation:
        body.append(literal(v.explanation, spacing="none"))
    if v.candidates:
        body.append(literal(v.candidates, spacing="none"))
    body += [literal(f"• {p}", spacing="none") for p in v.parts]
    body += [literal(line, spacing="small" if i == 0 else "none") for i, line in enumerate(v.second)]
    status = t(lang, "card.status", status=rich(view.status))
    body.append(literal(status, weight="bolder") if not view.actions else literal(status))
    actions = [
        action(a.label, a.action.value, view.ref, style=_STYLES.get(a.style or ""), secondary=not a.primary)
        for a in view.actions
    ]
    return card(body, actions or None)


_STYLES = {"primary": "positive", "danger": "destructive"}


# --- forms --------------------------------------------------------------------------------------


def _input(f: Field, timezone: str) -> list[dict[str, Any]]:
    base: dict[str, Any] = {"id": f.id, "label": f.label, "isRequired": f.required}
    if f.required:
        base["errorMessage"] = f.label
    default = f.default
    if f.kind in (FieldKind.TEXT, FieldKind.LONG_TEXT):
        el = {"type": "Input.Text", **base, "isMultiline": f.kind is FieldKind.LONG_TEXT}
        if isinstance(default, str) and default:
            el["value"] = default
        if f.max_length:
            el["maxLength"] = f.max_length
        if f.placeholder:
            el["placeholder"] = f.placeholder
        out = [el]
    elif f.kind is FieldKind.NUMBER:
        el = {"type": "Input.Number", **base}
        if isinstance(default, str) and default.strip().lstrip("-").isdigit():
            el["value"] = int(default)
        if f.minimum is not None:
            el["min"] = f.minimum
        if f.maximum is not None:
            el["max"] = f.maximum
        out = [el]
    elif f.kind in (FieldKind.CHOICE, FieldKind.MULTI_CHOICE):
        el = {
            "type": "Input.ChoiceSet",
            **base,
            "choices": [{"title": c.label, "value": c.value} for c in f.choices],
        }
        if f.kind is FieldKind.MULTI_CHOICE:
            el.update(isMultiSelect=True, style="expanded")
            if default:
                el["value"] = ",".join(default if isinstance(default, tuple) else (default,))
        else:
            if len(f.choices) <= 3:
                el["style"] = "expanded"
            if isinstance(default, str) and default:
                el["value"] = default
        out = [el]
    elif f.kind is FieldKind.DATE:
        el = {"type": "Input.Date", **base}
        if isinstance(default, str) and default:
            el["value"] = default
        out = [el]
    else:  # a date and a time, side by side, in the project's time zone
        day, _, at = (default if isinstance(default, str) else "").partition(" ")
        date_el: dict[str, Any] = {"type": "Input.Date", "id": f"{f.id}__date", "label": f.label}
        time_el: dict[str, Any] = {"type": "Input.Time", "id": f"{f.id}__time", "label": timezone}
        if day:
            date_el["value"] = day
        if at:
            time_el["value"] = at[:5]
        out = [
            {
                "type": "ColumnSet",
                "columns": [
                    {"type": "Column", "width": "stretch", "items": [date_el]},
                    {"type": "Column", "width": "stretch", "items": [time_el]},
                ],
            }
        ]
    if f.hint:
        out.append(text(f.hint, isSubtle=True, size="small", spacing="none"))
    return out


def form_card(spec: FormSpec, *, error: str | None = None, errors: dict[str, str] | None = None) -> Card:
    """A form as a card: title, the text it is about, the fields, then its button and Cancel."""
    body: list[dict[str, Any]] = [text(spec.title, size="medium", weight="bolder")]
    if spec.intro:
        body.append(literal(spec.intro))  # it may name a person (“Ask Sam_Reed …”): never markdown
    if spec.quote:
        body += long_text(spec.quote, spec.language, block_id=f"form-{spec.id}")
    body += error_block(error)
    for f in spec.fields:
        body += _input(f, spec.timezone)
        if errors and f.id in errors:
            body += error_block(errors[f.id])
    actions = [action(spec.submit, spec.id + SUBMIT, spec.ref, style="positive")]
    cancel = "show" if spec.ref and spec.id not in ("letter_edit",) else None
    if spec.id == "letter_edit":
        cancel = "letter_show"
    if cancel:
        actions.append(action(t(spec.language, "button.cancel"), cancel, spec.ref))
    return card(body, actions)


def values_from(data: dict[str, Any]) -> dict[str, Any]:
    """What was typed into a form card, as `bot.forms` reads it: a date and a time side by side become
    one `YYYY-MM-DD HH:MM` (with one of them missing, it does not read as a time, and the form says so)."""
    values = {k: v for k, v in data.items() if not k.endswith(("__date", "__time"))}
    for key in [k for k in data if k.endswith("__date")]:
        field_id = key[: -len("__date")]
        day = str(data.get(key) or "").strip()
        at = str(data.get(field_id + "__time") or "").strip()[:5]
        values[field_id] = f"{day} {at}".strip()
    return values


def question_card(
    view: RequestView, question: str, asker: str, *, form: FormSpec | None = None, answered: bool = False
) -> Card:
    """A PM's question, in the requester's chat with the bot: answered right on the card (`form`, the
    core's answer form), with the requester's other actions beside it."""
    lang = view.language
    body: list[dict[str, Any]] = [
        literal(t(lang, "question.card_head", who=asker or t(lang, "word.a_pm"), ref=view.ref), weight="bolder"),
        literal(f"“{' '.join(view.text.split())[:200]}”", isSubtle=True),
        *lines(question),
    ]
    if answered:
        body.append(text(t(lang, "question.answered"), isSubtle=True))
        return card(body)
    actions: list[dict[str, Any]] = []
    if form is not None:
        for f in form.fields:
            body += _input(f, form.timezone)
        actions.append(action(form.submit, form.id + SUBMIT, view.ref, style="positive"))
    for a in view.actions:
        if form is not None and a.action.value == form.id:
            continue  # answered on the card itself
        actions.append(action(a.label, a.action.value, view.ref, secondary=not a.primary))
    return card(body, actions or None)


def message_card(value: str) -> Card:
    return card(lines(value))


# --- the letter, in the PM's personal chat -----------------------------------------------------


def letter_card(
    ref: str,
    letter_data: dict[str, Any],
    lang: Language,
    *,
    tz: str = "UTC",
    by: Actor | None = None,
    download_url: str | None = None,
    can_send_email: bool = False,
    talking_points: str = "",
    note: str | None = None,
) -> Card:
    """The drafted letter for the PM: its state, subject, text (each paragraph and line as in the
    e-mail), the tone check, and Edit, Download .eml, Send email (when e-mail is set up) and Mark as sent
    while it is a draft; Send again once sent."""
    letter = Letter.from_dict(letter_data)
    status = letter.status
    key = "letter.title_meeting" if letter.kind == "meeting_invite" else "letter.title"
    body: list[dict[str, Any]] = [text(t(lang, key, ref=ref), size="medium", weight="bolder")]
    # It names the PM, or quotes the mail server's refusal: never markdown. A note (how the sending just
    # ended) already carries the state, so it takes the state line's place rather than repeat it.
    if note:
        body.append(literal(note, weight="bolder", color="attention" if status == "failed" else "default"))
    else:
        state = letter_state_line(letter, lang, tz, by)
        body.append(literal(state, color="attention" if status == "failed" else "default"))
    body.append(
        facts(
            [
                (t(lang, "letter.fact_subject"), letter.subject),
                (t(lang, "letter.fact_language"), "中文" if letter.language.value == "zh" else "English"),
                (t(lang, "letter.fact_status"), letter_status(letter, lang)),
            ],
            lang,
        )
    )
    body.append({"type": "Container", "style": "emphasis", "items": lines(letter.body_text)})
    body.append(text(t(lang, "letter.tone_check"), weight="bolder"))
    for passed, line in tone_marks(letter, lang):
        # Default colour throughout (readable on white); a failing rule, the one to act on, in bold.
        body.append(literal(line, spacing="none", weight="default" if passed else "bolder"))
    if talking_points:
        body.append(text(t(lang, "letter.talking_points"), weight="bolder"))
        body += lines(talking_points)
    download = [{"type": "Action.OpenUrl", "title": t(lang, "button.eml"), "url": download_url}] if download_url else []
    actions: list[dict[str, Any]] = []
    if status == "sent":
        actions += download
        if can_send_email:
            actions.append(action(t(lang, "button.send_again"), "letter_send", ref, again=True))
    elif status == "queued":
        # Waiting for the mail server: nothing to change until it has gone or failed.
        actions += [*download, action(t(lang, "button.refresh"), "letter_show", ref)]
    else:
        actions.append(action(t(lang, "button.edit"), "letter_edit", ref))
        # Four buttons do not fit a chat column: the download goes in the card's "…" menu.
        actions += [{**d, "mode": "secondary"} for d in download]
        if can_send_email:
            actions.append(action(t(lang, "button.send_email"), "letter_send", ref, style="positive"))
        actions.append(action(t(lang, "button.mark_sent"), "letter_sent", ref))
    return card(body, actions or None)


def send_confirm_card(
    ref: str,
    letter_data: dict[str, Any],
    recipients: LetterRecipients,
    lang: Language,
    *,
    typed: list[str] | None = None,
    again: bool = False,
    error: str | None = None,
) -> Card:
    """Ask the PM to confirm an e-mail to the client, showing exactly who gets it (To, Cc, Reply-To).

    "Send" carries the list shown here (`confirmed`) and the addresses it was made from (`typed`), so
    the service can refuse if the recipients changed in between. The PM may type other addresses: they
    are shown here for confirmation first ("Check these addresses"), never sent to unseen.
    """
    what = t(lang, "word.invitation" if letter_data.get("kind") == "meeting_invite" else "word.letter")
    key = "send.title_again" if again else "send.title"
    body: list[dict[str, Any]] = [
        text(t(lang, key, what=what, ref=ref), size="medium", weight="bolder"),
        *error_block(error),
        facts(
            [
                (t(lang, "letter.fact_subject"), str(letter_data.get("subject") or "")),
                *(
                    (name, value)
                    for name, _, value in (line.partition(": ") for line in recipients.summary().splitlines())
                ),
            ],
            lang,
        ),
    ]
    if typed:
        body.append(text(t(lang, "send.typed_note"), isSubtle=True))
    body += [
        {
            "type": "Input.Text",
            "id": "other_recipients",
            "label": t(lang, "send.other_label"),
            "placeholder": t(lang, "send.other_eg"),
            "value": ", ".join(typed or []),
            "maxLength": 1000,
        },
        text(t(lang, "send.nothing_until"), isSubtle=True, size="small"),
    ]
    data: dict[str, Any] = {"confirmed": recipients.to_dict(), "typed": list(typed or []), "again": again}
    return card(
        body,
        [
            action(t(lang, "send.submit"), "letter_send_confirm", ref, style="positive", **data),
            action(t(lang, "send.check"), "letter_send_check", ref, again=again),
            action(t(lang, "button.cancel"), "letter_send_cancel", ref),
        ],
    )


# --- time: reminders, escalations, expiries, follow-ups and the daily summary ---------------------


def timely_card(headline: str, view: RequestView) -> Card:
    """A reminder (or escalation, follow-up, expiry notice) in one person's chat: what it is about, then
    the request with the buttons that person may use."""
    inner = request_card(view)
    body = [text(headline, weight="bolder", color="attention"), *inner["body"]]
    return card(body, inner.get("actions"))


def summary_item(view: RequestView) -> dict[str, Any]:
    """One request in a summary: its ref and verdict, its words, its status and due date, its buttons."""
    items: list[dict[str, Any]] = [
        text(f"{view.ref} · {view.verdict.headline}", weight="bolder"),
        literal(view.text if len(view.text) <= 200 else view.text[:199] + "…", isSubtle=True, spacing="none"),
        literal(rich(view.status), spacing="none"),
    ]
    due = [f for f in view.facts if f.key in ("due", "escalated")]
    if due:
        items.append(facts([(f.label, rich(f.value), f.link, f.strong) for f in due], view.language))
    actions = [
        action(a.label, a.action.value, view.ref, style=_STYLES.get(a.style or ""), secondary=not a.primary)
        for a in view.actions
        if a.primary
    ]
    if actions:
        items.append({"type": "ActionSet", "actions": actions})
    return {"type": "Container", "separator": True, "items": items}


def summary_card(title: str, sections: list[tuple[str, str, list[RequestView], int]]) -> Card:
    """The daily summary: per section (its key, heading, views and how many more), each request with its
    buttons."""
    body: list[dict[str, Any]] = [text(title, size="medium", weight="bolder")]
    for _, heading, views, more in sections:
        if not views:
            continue
        body.append(text(heading, weight="bolder", spacing="large"))
        body += [summary_item(v) for v in views]
        if more:
            body.append(text(t(views[0].language, "summary.more", n=more), isSubtle=True))
    return card(body)
