"""Looking back over requests: the query a list page asks (filters, search, sort, one page) and the rows it
gets back, and the change register's entries. Plain data; the store answers the query in SQL, one page at a
time with a count, never by loading every request."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime

from .domain import Actor, Project, RequestStatus, VerdictKind

PER_PAGE = 50
# A list counts its matches up to this many and says "more than" beyond: counting every one of 100,000
# rows on each page view would cost more than the page itself.
COUNT_CAP = 10_000
SEARCH_COUNT_CAP = 1_000  # the same for a search or a requester's name, where each row counted is a row read
MAX_PER_PAGE = 200
MAX_SEARCH_CHARS = 200


class Sort(enum.StrEnum):
    RECORDED = "recorded"
    REF = "ref"
    STATUS = "status"
    VERDICT = "verdict"
    DUE = "due"


class Due(enum.StrEnum):
    ANY = ""
    DUE = "due"  # something is due (a decision, an answer, a follow-up)
    OVERDUE = "overdue"  # a decision whose due time has passed


@dataclass(frozen=True)
class RequestQuery:
    """Which requests a list shows. `projects` is what the viewer may see (never empty: nothing else is
    searched); `text` matches the request's words, the client's words and its number, every word of it."""

    projects: tuple[str, ...]
    status: RequestStatus | None = None
    verdict: VerdictKind | None = None
    requester: str = ""  # part of the requester's name, e-mail or id
    since: date | None = None
    until: date | None = None  # inclusive
    due: Due = Due.ANY
    text: str = ""
    sort: Sort = Sort.RECORDED
    descending: bool = True
    page: int = 1
    per_page: int = PER_PAGE

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


@dataclass(frozen=True)
class RequestSummary:
    """One row of the list: enough to show it, without its decisions, letter or events."""

    ref: str
    project: str
    status: RequestStatus
    verdict: VerdictKind
    verdict_item: str | None
    requester: Actor
    created_at: datetime
    due_at: datetime | None
    text: str


@dataclass(frozen=True)
class RequestPage:
    rows: tuple[RequestSummary, ...]
    total: int  # how many match the query, over every page, up to COUNT_CAP
    page: int
    per_page: int
    more: bool = False  # more than COUNT_CAP match (`total` is then COUNT_CAP)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class ChangeEntry:
    """An approved scope change: what the PMs take to the client's steering meeting."""

    ref: str
    project: str
    text: str
    verdict: VerdictKind
    verdict_item: str | None
    estimate: str
    schedule_impact: str
    note: str
    approved_by: Actor
    on_behalf_of: Actor | None
    approved_at: datetime
    scope_version: int


@dataclass(frozen=True)
class ScopeDiff:
    """One difference between two versions of a project's scope."""

    change: str  # "added" | "removed" | "changed"
    section: str  # "in_scope" | "out_of_scope" | "goals" | "milestones"
    key: str  # the item's id, or the goal or milestone itself
    text: str  # the item's title (the new one when it changed)


def scope_diff(old: Project, new: Project) -> list[ScopeDiff]:
    """What changed in the scope from `old` to `new`: items added, removed or reworded, goals and milestones."""
    out: list[ScopeDiff] = []
    for section in ("in_scope", "out_of_scope"):
        before = {i.id: i for i in getattr(old, section)}
        after = {i.id: i for i in getattr(new, section)}
        for item_id, item in after.items():
            if item_id not in before:
                out.append(ScopeDiff("added", section, item_id, item.title))
            elif (before[item_id].title, before[item_id].notes) != (item.title, item.notes):
                out.append(ScopeDiff("changed", section, item_id, item.title))
        out += [ScopeDiff("removed", section, i, before[i].title) for i in before if i not in after]
    for goal in new.goals:
        if goal not in old.goals:
            out.append(ScopeDiff("added", "goals", goal, goal))
    out += [ScopeDiff("removed", "goals", g, g) for g in old.goals if g not in new.goals]
    old_ms = {(m.name, m.due) for m in old.milestones}
    new_ms = {(m.name, m.due) for m in new.milestones}
    out += [ScopeDiff("added", "milestones", n, f"{n} {d.isoformat()}") for n, d in sorted(new_ms - old_ms)]
    out += [ScopeDiff("removed", "milestones", n, f"{n} {d.isoformat()}") for n, d in sorted(old_ms - new_ms)]
    return out
