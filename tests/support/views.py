"""What the tests of views and cards share: a small project, and readers of what a card or message shows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bot.domain import Client, Language, Project, ScopeItem

PROJECT = Project(
    slug="acme-portal",
    name="Acme Customer Portal",
    language=Language.EN,
    client=Client("Acme", "Jane Doe", "jane.doe@acme.example"),
    goals=("A portal",),
    in_scope=(ScopeItem("orders", "Order history"),),
    out_of_scope=(ScopeItem("mobile", "Native iOS and Android apps"),),
    milestones=(),
    capacity="",
    pms=("pm@acme.example",),
    ref_prefix="ACME",
)


def walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every object in a JSON document (a card, a list of blocks), depth first."""
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from walk(v)


def card_inputs(card: dict[str, Any]) -> list[dict[str, Any]]:
    """The input fields of an Adaptive Card, wherever they sit (columns, containers)."""
    return [n for n in walk(card) if str(n.get("type", "")).startswith("Input.")]


def texts(doc: Any) -> list[str]:
    """Every text a person reads in a card or in Block Kit: texts, titles, labels, placeholders."""
    out: list[str] = []
    for n in walk(doc):
        for key in ("text", "title", "label", "placeholder", "errorMessage"):
            if isinstance(n.get(key), str):
                out.append(n[key])
    return out


def card_facts(card: dict[str, Any]) -> dict[str, str]:
    """The labelled values of an Adaptive Card ("From: Sam Reed" rows), label → value."""
    out: dict[str, str] = {}
    for n in walk(card):
        inlines = n.get("inlines") if n.get("type") == "RichTextBlock" else None
        if inlines and len(inlines) == 2 and inlines[0].get("weight") == "bolder":
            label = str(inlines[0]["text"]).rstrip().removesuffix(":").removesuffix("：")
            out[label] = str(inlines[1]["text"])
    return out
