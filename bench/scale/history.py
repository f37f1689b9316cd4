"""A year of an agency's requests: who asks what in which of 200 projects, and what happens to it.

`plan(n)` draws the history (the same for every run of the same size); `Recorder` plays one planned
request through the real Slack route (signed `/request`, button clicks, modal submissions, the outbox
delivered by the Slack sink to a fake Web API), so what it leaves in the database is what the product
writes. `bench/scale/seed.py` copies what it wrote, in bulk, for the other requests.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bot.projectfile import load_project_text

PROJECTS = 200
REQUESTERS = 4  # per project
YEAR_START = datetime(2025, 12, 1, tzinfo=UTC)  # a Monday
WEEKS = 52
PROJECTS_LOADED_AT = YEAR_START - timedelta(days=3)
TEMPLATE_PROJECT = 999  # the project the copied requests are first recorded in (never one of the 200)

REQUESTER_NAMES = ("Sam Reed", "Lee Chen", "Ana Silva", "Omar Haddad")
PM_NAME = "Pat Morgan"

IN_SCOPE = (
    "Customers should be able to filter the order history by date",
    "Please add a lockout after five failed login attempts",
)
OUT_OF_SCOPE = (
    "Please build native iOS and Android apps for the portal",
    "Let customers pay by credit card online",
)
UNLISTED = ("Add a dark mode to the customer portal",)
ANY = IN_SCOPE + OUT_OF_SCOPE + UNLISTED

# What happens to a request, with its share of the year (60% decided; 40% open or withdrawn) and the
# texts it fits (an in-scope request is approved as it is; a decline has a reason to decline).
SHAPES: dict[str, tuple[float, tuple[str, ...]]] = {
    "open": (0.30, ANY),
    "asked": (0.04, ANY),
    "answered": (0.03, ANY),
    "withdrawn": (0.03, ANY),
    "approved": (0.28, IN_SCOPE),
    "scope_change": (0.07, OUT_OF_SCOPE + UNLISTED),
    "declined": (0.08, OUT_OF_SCOPE + UNLISTED),
    "letter_sent": (0.14, OUT_OF_SCOPE + UNLISTED),
    "answered_approved": (0.03, IN_SCOPE),
}
DECIDED = ("approved", "scope_change", "declined", "letter_sent", "answered_approved")

# When a request arrives in its week (Monday 00:00 UTC + this), and how long each later step takes:
# both drawn from a few variants, so a copied request falls on the same weekday and hour as the one
# recorded (due dates count working days in the project's time zone).
STARTS = tuple(timedelta(days=d, hours=(8, 14)[d % 2], minutes=7 * d) for d in range(5))
PACES = (timedelta(hours=3), timedelta(days=2, hours=1))


def project_slug(p: int) -> str:
    return f"client{p:03d}-portal"


def project_yaml(p: int) -> str:
    """Project `p`'s file: the same scope for all, its own names, PM, channels and client."""
    return f"""
project: {project_slug(p)}
name: Customer Portal {p:03d}
language: en
timezone: Europe/Berlin
client: {{name: Client{p:03d} Ltd, contact: Jane Doe, email: jane.doe@client{p:03d}.example}}
pms: ["pm@client{p:03d}.example"]
goals:
  - "Launch a self-service order portal for the client's B2B customers"
in_scope:
  - {{id: login, title: "Customer login with email and password", notes: "Password reset by e-mail, lockout after 5 failed attempts."}}
  - {{id: orders, title: "Order history and live order status tracking", notes: "Status from SAP, filter by date, CSV export."}}
  - {{id: alerts, title: "Low-stock alerts by push notification", notes: "Push only."}}
out_of_scope:
  - {{id: mobile, title: "Native iOS and Android apps"}}
  - {{id: payments, title: "Online payment by credit card or PayPal", notes: "All orders are paid on account."}}
milestones:
  - {{name: Beta, due: 2027-01-15}}
  - {{name: Go-live, due: 2027-03-31}}
capacity: "Team of 4, fully allocated until launch"
slack:
  intake_channels: [C0IN{p:03d}]
  review_channel: C0RV{p:03d}
  pms: [U0PM{p:03d}]
"""


def load_project(p: int) -> Any:
    return load_project_text(project_yaml(p), f"{project_slug(p)}.yaml")


def pm_id(p: int) -> str:
    return f"U0PM{p:03d}"


def requester_id(p: int, j: int) -> str:
    return f"U0RQ{p:03d}{j}"


def requester_email(p: int, j: int) -> str:
    return f"rq{j}@client{p:03d}.example"


@dataclass(frozen=True)
class Planned:
    """One request of the year: where, by whom, what, what happens to it and when."""

    index: int
    project: int
    requester: int
    shape: str
    text: str
    week: int
    start: int  # index into STARTS
    pace: int  # index into PACES

    @property
    def key(self) -> tuple[str, str, int, int]:
        """What a recorded request must share with this one for its rows to be copied for it."""
        return (self.shape, self.text, self.start, self.pace)

    @property
    def at(self) -> datetime:
        return YEAR_START + timedelta(weeks=self.week) + STARTS[self.start]


def project_weights(projects: int = PROJECTS) -> list[float]:
    """Project sizes fall off as 1/rank: with 200 projects the largest has 17% of all requests."""
    w = [1.0 / (k + 1) for k in range(projects)]
    total = sum(w)
    return [x / total for x in w]


def plan(n: int, *, projects: int = PROJECTS, seed: int = 18) -> list[Planned]:
    """`n` requests over `projects` projects, spread over a year, in the order they arrive."""
    rng = random.Random(seed)
    names = list(SHAPES)
    shape_w = [SHAPES[s][0] for s in names]
    proj_w = project_weights(projects)
    drawn = []
    for i in range(n):
        shape = rng.choices(names, shape_w)[0]
        drawn.append(
            (
                rng.randrange(WEEKS),
                rng.randrange(len(STARTS)),
                rng.choices(range(projects), proj_w)[0],
                rng.randrange(REQUESTERS),
                shape,
                rng.choice(SHAPES[shape][1]),
                rng.randrange(len(PACES)),
                i,
            )
        )
    drawn.sort()
    return [
        Planned(i, p, j, shape, text, week, start, pace)
        for i, (week, start, p, j, shape, text, pace, _) in enumerate(drawn)
    ]


def by_project(plans: list[Planned]) -> dict[int, int]:
    out: dict[int, int] = {}
    for pl in plans:
        out[pl.project] = out.get(pl.project, 0) + 1
    return out


# --- playing one request through the Slack route ------------------------------------------------------


def text_value(value: str) -> dict[str, Any]:
    return {"value": {"type": "plain_text_input", "value": value}}


class Recorder:
    """Plays planned requests through a running Slack harness (tests/support/slack_harness.py)."""

    def __init__(self, harness: Any, clock: Any) -> None:
        self.h = harness
        self.clock = clock
        self.loaded: set[int] = set()
        # (wall clock, fake clock) at each step: the outbox and the schedule stamp some rows with the wall
        # clock, which `seed.py` maps back to the step's time.
        self.marks: list[tuple[datetime, datetime]] = []

    def _at(self, when: datetime) -> None:
        self.clock.t = when
        self.marks.append((datetime.now(UTC), when))

    async def ensure_project(self, p: int) -> None:
        if p in self.loaded:
            return
        self.clock.t = PROJECTS_LOADED_AT
        await self.h.service.load_project(load_project(p))
        self.h.fake.add_user(pm_id(p), name=PM_NAME)
        for j in range(REQUESTERS):
            self.h.fake.add_user(requester_id(p, j), name=REQUESTER_NAMES[j], email=requester_email(p, j))
        self.loaded.add(p)

    async def _last_ref(self) -> str:
        async with self.h.store.session() as s:
            row = (await s.exec(sa.text("SELECT ref FROM requests ORDER BY id DESC LIMIT 1"))).one()  # type: ignore[call-overload]
        return str(row[0])

    async def _posted_ts(self, ref: str, kind: str) -> str:
        async with self.h.store.session() as s:
            q = sa.text("SELECT result FROM outbox WHERE ref = :r AND kind = :k ORDER BY id DESC LIMIT 1")
            row = (await s.exec(q.bindparams(r=ref, k=kind))).one()  # type: ignore[call-overload]
        result = row[0] if isinstance(row[0], dict) else json.loads(row[0])
        return str(result.get("ts") or "1700000000.000001")

    async def _click(self, action: str, ref: str, *, user: str, channel: str, ts: str) -> None:
        resp = await self.h.click(action, ref, user=user, channel=channel, message_ts=ts)
        assert resp.status == 200, await resp.text()
        await self.h.settle()

    async def _submit(self, *, user: str, values: dict[str, Any] | None = None) -> None:
        resp = await self.h.submit(self.h.opened_view(), user=user, values=values)
        body = await resp.text()
        assert resp.status == 200 and body == "", body
        await self.h.settle()

    def _later(self, pl: Planned) -> None:
        self._at(self.clock.t + PACES[pl.pace])

    async def play(self, pl: Planned, *, at: datetime | None = None) -> str:
        """Record `pl` and take its steps, the clock moving as its pace says; return its ref."""
        p, pm = pl.project, pm_id(pl.project)
        rq = requester_id(p, pl.requester)
        await self.ensure_project(p)
        self._at(at or pl.at)
        resp = await self.h.command("/request", pl.text, user=rq, channel=f"C0IN{p:03d}")
        assert resp.status == 200, await resp.text()
        await self.h.settle()
        ref = await self._last_ref()
        if pl.shape == "open":
            return ref
        self._later(pl)
        card = await self._posted_ts(ref, "review_card")
        review = f"C0RV{p:03d}"
        if pl.shape == "withdrawn":
            data = self.h_payload_more(rq, f"withdraw:{ref}")
            resp = await self.h.post_payload(data)
            assert resp.status == 200, await resp.text()
            await self.h.settle()
            await self._submit(user=rq, values={"reason": text_value("We solved it another way.")})
            return ref
        if pl.shape in ("asked", "answered", "answered_approved"):
            await self._click("ask_details", ref, user=pm, channel=review, ts=card)
            await self._submit(user=pm, values={"question": text_value("Which of their customers asked for this?")})
            if pl.shape == "asked":
                return ref
            self._later(pl)
            dm = await self._posted_ts(ref, "question")
            await self._click("answer_question", ref, user=rq, channel="D" + rq.lstrip("U"), ts=dm)
            await self._submit(user=rq, values={"answer": text_value("Their buyers in the warehouse, mostly.")})
            if pl.shape == "answered":
                return ref
            self._later(pl)
        if pl.shape in ("approved", "answered_approved"):
            await self._click("approve_request", ref, user=pm, channel=review, ts=card)
        elif pl.shape == "scope_change":
            await self._click("approve_request", ref, user=pm, channel=review, ts=card)
            await self._submit(
                user=pm,
                values={
                    "estimate": text_value("12 person-days"),
                    "schedule_impact": text_value("Go-live moves by one week"),
                    "note": text_value("Billed as a change request"),
                },
            )
        else:  # declined, letter_sent
            await self._click("decline_request", ref, user=pm, channel=review, ts=card)
            await self._submit(user=pm)
            if pl.shape == "letter_sent":
                self._later(pl)
                dm = await self._posted_ts(ref, "letter_draft")
                await self._click("letter_mark_sent", ref, user=pm, channel="D" + pm.lstrip("U"), ts=dm)
        return ref

    def h_payload_more(self, user: str, choice: str) -> dict[str, Any]:
        """A choice in a message's overflow menu ("More"), as Slack sends it."""
        from tests.support.slack_harness import payload

        data = payload("block_actions.json")
        data["user"]["id"] = user
        data["actions"] = [
            {
                "action_id": "more_actions",
                "block_id": f"more:{choice}",
                "type": "overflow",
                "selected_option": {"text": {"type": "plain_text", "text": "Withdraw"}, "value": choice},
                "action_ts": "1700000010.000100",
            }
        ]
        return data
