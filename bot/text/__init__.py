"""Everything a person reads in chat, in English (`en.py`) and Chinese (`zh.py`): one catalog, two languages.

Adapters never write user-facing text of their own; they look it up here with `t(language, key, **args)`.
Each language file was written in its own language, not translated word for word, and a test keeps the
two in step: the same keys, and the same placeholders in each.

The language is the project's `team_language` (by default its `language`); a person whose platform tells
their own language setting reads private messages, forms and App Home in it (`language_for`). Shared
cards in a project's channels are always in the team's language.

Text decided in the core before anyone knows who will read it (an error, a scope explanation, a tone
check detail) is a `Phrase`: a key and its arguments, rendered in the reader's language when shown.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from typing import Any

from ..domain import Actor, Language, Project
from ..phrase import Day, Items, Phrase, When, _arg
from . import en, zh

CATALOGS: dict[Language, Mapping[str, str]] = {Language.EN: en.TEXT, Language.ZH: zh.TEXT}
_FORMATTER = string.Formatter()


def t(language: Language, key: str, /, **args: Any) -> str:
    """The text `key` in `language`, with its placeholders filled in."""
    template = CATALOGS[language][key]
    if not args:
        return template
    return template.format(**{k: _arg(v, language) for k, v in args.items()})


Segment = str | Actor


def t_rich(language: Language, key: str, /, **args: Any) -> tuple[Segment, ...]:
    """Like `t`, but every `Actor` argument stays a segment of its own, for adapters that mention
    people in their own way (Slack's `<@U123>`); the rest is plain text."""
    template = CATALOGS[language][key]
    out: list[Segment] = []
    for literal, field, spec, _ in _FORMATTER.parse(template):
        if literal:
            out.append(literal)
        if field is None:
            continue
        value = args[field]
        if isinstance(value, Actor):
            out.append(value)
        else:
            rendered = _arg(value, language)
            out.append(_FORMATTER.format_field(rendered, spec or ""))
    return tuple(out)


def plain(segments: Iterable[Segment]) -> str:
    """Rich text as plain text: people by their display names."""
    return "".join(s.display if isinstance(s, Actor) else s for s in segments)


def placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in _FORMATTER.parse(template) if field is not None}


def from_locale(locale: str | None) -> Language | None:
    """The catalog language for a platform locale ("zh-CN" → zh, "en-GB" → en), or None."""
    if not locale:
        return None
    head = locale.replace("_", "-").split("-", 1)[0].lower()
    return {"zh": Language.ZH, "en": Language.EN}.get(head)


def language_for(project: Project | None, reader: Actor | None = None, *, default: Language = Language.EN) -> Language:
    """The language to write to `reader` in: their own setting when their platform tells it, else the
    project's team language, else `default` (for text about no project in particular)."""
    own = from_locale(reader.locale) if reader is not None else None
    if own is not None:
        return own
    return project.chat_language if project is not None else default


def say(exc_or_phrase: Any, language: Language) -> str:
    """An error or a phrase in `language` (anything else: as it is)."""
    message = getattr(exc_or_phrase, "phrase", None) or exc_or_phrase
    if isinstance(message, Phrase):
        return message.render(language)
    return str(exc_or_phrase)


__all__ = [
    "CATALOGS",
    "Day",
    "Items",
    "Phrase",
    "Segment",
    "When",
    "from_locale",
    "language_for",
    "placeholders",
    "plain",
    "say",
    "t",
    "t_rich",
]
