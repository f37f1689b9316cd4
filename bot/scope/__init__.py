"""Scope checking: is a request covered by the agreed scope, excluded by it, or new work?

`ScopeChecker` is the interface the service depends on; `default_checker()` returns the one in use.
"""

from __future__ import annotations

from typing import Protocol

from ..domain import Scope, Verdict


class ScopeChecker(Protocol):
    def check(self, scope: Scope, text: str) -> Verdict:
        """Judge `text` against `scope`. Pure: no I/O, same answer for the same input."""
        ...


def default_checker() -> ScopeChecker:
    from .judge import ScopeJudge

    return ScopeJudge()
