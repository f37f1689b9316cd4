"""Every sentence the scope checker says (verdict explanations and extras), in one place: phrases of the
text catalog (`bot.text`, keys `scope.*`), shown in the reader's language."""

from __future__ import annotations

from ..phrase import Items, Phrase


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + "…"


def like_corrected(text: str) -> Phrase:
    return Phrase("scope.like_corrected", text=_short(text, 120))


def no_words() -> Phrase:
    return Phrase("scope.no_words")


def no_item() -> Phrase:
    return Phrase("scope.no_item")


def excluded(title: str) -> Phrase:
    return Phrase("scope.excluded", title=title)


def not_sure(title: str) -> Phrase:
    return Phrase("scope.not_sure", title=title)


def unsure_which(titles: list[str]) -> Phrase:
    if not titles:
        return Phrase("scope.unsure")
    return Phrase("scope.unsure_which", titles=Items(f"“{t}”" for t in titles))


def extends(title: str, extras: list[Phrase]) -> Phrase:
    if not extras:
        return Phrase("scope.extends_more", title=title)
    return Phrase("scope.extends", title=title, extras=Items(extras))


def extra_beyond(label: str, covered: list[str]) -> Phrase:
    return Phrase("scope.extra_beyond", word=label, covered=Items(covered))


def extra_unnamed(label: str) -> Phrase:
    return Phrase("scope.extra_unnamed", word=label)


def extra_new(word: str) -> Phrase:
    return Phrase("scope.extra_new", word=word)


def extra_instead(word: str, old: str) -> Phrase:
    return Phrase("scope.extra_instead", word=word, old=old)


def extra_self_service() -> Phrase:
    return Phrase("scope.extra_self_service")


def extra_quantity(amount: str) -> Phrase:
    return Phrase("scope.extra_quantity", amount=amount)


def extra_period(year: str, covered: list[str]) -> Phrase:
    return Phrase("scope.extra_period", year=year, covered=Items(covered))


def extra_audience(who: str) -> Phrase:
    return Phrase("scope.extra_audience", who=who)


def extra_limit(asked: str, limit: str) -> Phrase:
    return Phrase("scope.extra_limit", asked=asked, limit=limit)
