"""Text decided now and rendered later, in whichever language its reader reads (see `bot.text`).

Kept apart from `bot.text` (and free of the domain's imports) so that the domain's own values, such as
a verdict's explanation, can hold one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ZH = "zh"  # the languages are `bot.domain.Language` values, which compare equal to these strings


class Phrase:
    """A message decided now and rendered later, in whichever language its reader reads."""

    __slots__ = ("args", "key")

    def __init__(self, key: str, /, **args: Any) -> None:
        self.key = key
        self.args = args

    def render(self, language: str = "en") -> str:
        from .text import t  # the catalog imports the domain, which holds phrases

        return t(language, self.key, **self.args)  # type: ignore[arg-type]

    def __str__(self) -> str:
        return self.render("en")

    def __repr__(self) -> str:
        return f"Phrase({self.key!r}, {self.args!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Phrase) and (self.key, self.args) == (other.key, other.args)

    def __hash__(self) -> int:
        return hash(self.key)

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "args": {k: _dump(v) for k, v in self.args.items()}}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Phrase:
        return cls(str(d["key"]), **{k: _load(v) for k, v in (d.get("args") or {}).items()})


class When:
    """A moment, shown in the project's time zone with the zone named ("2026-12-08 09:30 CET")."""

    __slots__ = ("at", "tz")

    def __init__(self, at: datetime, tz: str = "UTC") -> None:
        self.at = at
        self.tz = tz

    def render(self, language: str) -> str:
        try:
            zone = ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError):
            zone, self.tz = ZoneInfo("UTC"), "UTC"
        local = self.at.astimezone(zone)
        name = local.tzname() or self.tz
        if name[:1] in "+-" or name[:1].isdigit():  # zones without an abbreviation: name the zone itself
            name = self.tz
        if language == ZH:
            return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}（{name}）"
        return f"{local:%Y-%m-%d %H:%M} {name}"


class Day:
    """A calendar day ("2026-12-08" / "2026年12月8日")."""

    __slots__ = ("day",)

    def __init__(self, day: date) -> None:
        self.day = day

    def render(self, language: str) -> str:
        if language == ZH:
            return f"{self.day.year}年{self.day.month}月{self.day.day}日"
        return self.day.isoformat()


class Items:
    """A list, joined as the language joins lists ("a, b" / "a、b")."""

    __slots__ = ("items",)

    def __init__(self, items: Iterable[Any]) -> None:
        self.items = tuple(items)

    def render(self, language: str) -> str:
        sep = "、" if language == ZH else ", "
        return sep.join(_arg(i, language) for i in self.items)


def _arg(value: Any, language: str) -> str:
    if isinstance(value, Phrase | When | Day | Items):
        return value.render(language)
    display = getattr(value, "display", None)  # a person (`bot.domain.Actor`): their name
    if isinstance(display, str):
        return display
    if isinstance(value, datetime):
        return When(value).render(language)
    if isinstance(value, date):
        return Day(value).render(language)
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _dump(value: Any) -> Any:
    if isinstance(value, Phrase):
        return {"$phrase": value.to_dict()}
    if isinstance(value, Items):
        return {"$items": [_dump(v) for v in value.items]}
    if isinstance(value, When):
        return {"$when": value.at.isoformat(), "tz": value.tz}
    if isinstance(value, Day):
        return {"$day": value.day.isoformat()}
    if isinstance(value, datetime):
        return {"$when": value.isoformat(), "tz": "UTC"}
    display = getattr(value, "display", None)
    if isinstance(display, str):
        return display
    return value


def _load(value: Any) -> Any:
    if isinstance(value, dict):
        if "$phrase" in value:
            return Phrase.from_dict(value["$phrase"])
        if "$items" in value:
            return Items(_load(v) for v in value["$items"])
        if "$when" in value:
            return When(datetime.fromisoformat(value["$when"]), value.get("tz") or "UTC")
        if "$day" in value:
            return Day(date.fromisoformat(value["$day"]))
    return value
