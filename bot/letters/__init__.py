"""Formal letters to the client: the writer (templates per language) and the tone check."""

from .tone import check_tone, format_report
from .writer import DraftedLetter, default_empathy, default_reason, revise_letter, write_letter

__all__ = [
    "DraftedLetter",
    "check_tone",
    "default_empathy",
    "default_reason",
    "format_report",
    "revise_letter",
    "write_letter",
]
