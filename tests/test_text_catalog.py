"""The text catalog: both languages have every key with the same placeholders, and every key the code
looks up exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from bot.domain import Language
from bot.text import CATALOGS, Phrase, placeholders, t

ROOT = Path(__file__).resolve().parent.parent


def test_every_key_exists_in_both_languages() -> None:
    en, zh = set(CATALOGS[Language.EN]), set(CATALOGS[Language.ZH])
    assert not en - zh, f"only in English: {sorted(en - zh)}"
    assert not zh - en, f"only in Chinese: {sorted(zh - en)}"


@pytest.mark.parametrize("key", sorted(CATALOGS[Language.EN]))
def test_both_languages_use_the_same_placeholders(key: str) -> None:
    assert placeholders(CATALOGS[Language.EN][key]) == placeholders(CATALOGS[Language.ZH][key]), key


def test_chinese_texts_are_written_in_chinese() -> None:
    """A Chinese entry that is the English one copied over is a translation nobody wrote."""
    copied = [
        k
        for k, v in CATALOGS[Language.ZH].items()
        if v == CATALOGS[Language.EN][k] and re.search(r"[A-Za-z]{4,}", re.sub(r"\{[^}]*\}|`[^`]*`", "", v))
    ]
    assert not copied, copied


def _looked_up_keys() -> set[str]:
    """Every literal key the code passes to `t`, `t_rich`, `Phrase` or a `tr` helper, and every key an
    f-string builds from an enum (expanded over the enum's values)."""
    keys: set[str] = set()
    for path in [*ROOT.glob("bot/**/*.py"), *ROOT.glob("adapters/**/*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name not in ("t", "t_rich", "Phrase", "tr"):
                continue
            for arg in node.args[:2]:
                for const in ast.walk(arg):
                    if isinstance(const, ast.Constant) and isinstance(const.value, str) and "." in const.value:
                        if re.fullmatch(r"[a-z_]+(\.[a-z0-9_]+)+", const.value):
                            keys.add(const.value)
    return keys


def test_every_key_the_code_looks_up_exists() -> None:
    missing = sorted(k for k in _looked_up_keys() if k not in CATALOGS[Language.EN])
    assert not missing, missing


def test_keys_built_from_values_exist() -> None:
    from bot.domain import AlternativeKind, ReasonCategory, RequestStatus, VerdictKind
    from bot.forms import URGENCIES
    from bot.letters.tone import RULES
    from bot.review import Action

    built = [
        *(f"status.{s.value}" for s in RequestStatus),
        *(f"verdict.{v.value}" for v in VerdictKind),
        *(f"reason.{c.value}" for c in ReasonCategory),
        *(f"alternative.{k.value}" for k in AlternativeKind),
        *(f"form.decline.alt_eg.{k.value}" for k in AlternativeKind),
        *(f"action.{a.value}" for a in Action),
        *(f"urgency.{u}" for u in URGENCIES),
        *(f"tone.rule.{r}" for r in RULES),
        *(f"tone.missing.{r}" for r in ("gives_reason", "offers_alternative", "shows_empathy", "invites_discussion")),
        *(f"tone.{kind}.{unit}" for kind in ("too_short", "too_long", "length") for unit in ("words", "chars")),
        *(f"via.{v}" for v in ("smtp", "manual", "meeting", "other")),
        *(f"letter.status.{s}" for s in ("draft", "queued", "sent", "failed")),
        *(
            f"form.{form}.{part}"
            for form in ("approve", "decline", "ask", "answer", "withdraw", "correct", "outcome")
            for part in ("title", "short", "intro", "submit")
        ),
    ]
    missing = [k for k in built if k not in CATALOGS[Language.EN]]
    assert not missing, missing


def test_a_phrase_renders_in_either_language_and_survives_storage() -> None:
    phrase = Phrase("err.request_too_long", n=4500, limit=4000)
    assert phrase.render(Language.EN).startswith("The request is 4,500 characters")
    assert "4,500" in phrase.render(Language.ZH) and "字符" in phrase.render(Language.ZH)
    assert Phrase.from_dict(phrase.to_dict()) == phrase


def test_placeholders_are_filled() -> None:
    assert t(Language.ZH, "card.title", ref="ACME-1") == "客户需求 ACME-1"
