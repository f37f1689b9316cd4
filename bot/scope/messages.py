"""Every sentence the scope checker says (verdict explanations and extras), in one place."""

from __future__ import annotations

from ..messages import shorten


def like_corrected(text: str) -> str:
    return f"Judged like an earlier request a PM corrected: “{shorten(text, 120)}”."


def no_words() -> str:
    return "The request has no words to match."


def no_item() -> str:
    return "No item matches the request."


def excluded(title: str) -> str:
    return f"Asks for what the scope excludes: {title}."


def not_sure(title: str) -> str:
    return f"Not sure: the closest item, “{title}”, explains too little of the request."


def unsure_which(titles: list[str]) -> str:
    if not titles:
        return "Not sure which item or exclusion this is about."
    return "Not sure which item or exclusion this is about; the closest: " + "; ".join(f"“{t}”" for t in titles) + "."


def extends(title: str, extras: list[str]) -> str:
    return f"Extends “{title}” ({'; '.join(extras) if extras else 'asks for more than the item names'})."


def extra_beyond(label: str, covered: list[str]) -> str:
    return f"{label}: the item covers {', '.join(covered)} only"


def extra_unnamed(label: str) -> str:
    return f"{label}: not named in the item"


def extra_new(word: str) -> str:
    return f"{word}: named by no item"


def extra_instead(word: str, old: str) -> str:
    return f"{word}: in place of {old}, which the item names"


def extra_self_service() -> str:
    return "done by the users themselves: the item has staff do it"


def extra_quantity(amount: str) -> str:
    return f"{amount}: a quantity the item does not name"


def extra_period(year: str, covered: list[str]) -> str:
    return f"{year}: the item covers {', '.join(covered)}"


def extra_limit(asked: str, limit: str) -> str:
    return f"{asked}: past the item's own limit ({limit})"


def extra_audience(who: str) -> str:
    return f"{who}: people the item does not give access to"
