"""Time in the core, with a clock the tests move, on SQLite and PostgreSQL: the decision's reminder and its
escalation, the question's reminder and expiry (and the answer that reopens it), the follow-up after a
letter and after a meeting, a PM away with a delegate from start to automatic end, the daily summary,
and each scheduled step run once however many workers try."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from bot.domain import Actor, Channel, DeclineForm, MeetingProposal, ReasonCategory, RequestStatus, ScopeChange
from bot.errors import InvalidInput, PermissionDenied
from bot.messages import timeline
from bot.projectfile import load_project_text
from bot.review import Action, Role, Viewer, offered, review_view
from bot.service import IntakeService
from bot.text import plain
from bot.timekeeping import Timekeeper
from store.models import OutboxEntry, ScheduledStep, table
from store.repo import SqlStore
from tests.conftest import MEMBER, OTHER, PM, PROJECT_YAML
from tests.support.clock import FakeClock

IN_SCOPE = "Customers should be able to filter the order history by date"
START = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)  # Tuesday, 10:30 in Berlin
DUE = datetime(2026, 11, 5, 9, 30, tzinfo=UTC)  # two working days later


async def load(service: IntakeService, extra: str) -> None:
    await service.load_project(load_project_text(PROJECT_YAML + extra, "acme.yaml"))


async def notices(store: SqlStore, kind: str | None = None) -> list[dict[str, Any]]:
    o = table(OutboxEntry)
    stmt = sa.select(o.c.kind, o.c.recipient, o.c.text, o.c.data, o.c.ref).order_by(o.c.id)
    async with store.session() as s:
        rows = [dict(r._mapping) for r in (await s.exec(stmt)).all()]  # type: ignore[call-overload]
    return [r for r in rows if kind is None or r["kind"] == kind]


def to(rows: list[dict[str, Any]]) -> list[str]:
    return [r["recipient"]["user_id"] for r in rows]


async def test_a_decision_is_reminded_at_its_due_time_and_escalated_later_each_once(
    service: IntakeService, store: SqlStore, clock: FakeClock
) -> None:
    await load(service, "escalate_to: [boss@acme.example]\ndaily_summary: off\n")
    keeper = Timekeeper(service)
    rec = await service.submit_request(project="acme-portal", actor=MEMBER, text=IN_SCOPE)
    assert rec.due_at == DUE

    clock.t = DUE - timedelta(seconds=1)
    await keeper.run_due()
    assert await notices(store, "reminder") == []

    clock.t = DUE
    await keeper.run_due()
    clock.advance(hours=3)
    await keeper.run_due()
    [reminder] = await notices(store, "reminder")
    assert to([reminder]) == ["pm@acme.example"]  # the PM the terminal reaches (by e-mail)
    assert reminder["text"].startswith("⏰ ACME-1 is waiting for your decision: it was due Thu 5 Nov.")
    assert "Decision due: Thu 5 Nov, overdue" in reminder["text"]
    rec = await service.get_request(rec.ref)
    assert [e.kind for e in rec.events].count("reminded") == 1

    # Escalation: two more working days after the due date (the weekend in between).
    clock.t = datetime(2026, 11, 9, 9, 29, tzinfo=UTC)
    await keeper.run_due()
    assert await notices(store, "escalation") == []
    clock.t = datetime(2026, 11, 9, 9, 30, tzinfo=UTC)
    await keeper.run_due()
    clock.advance(days=30)
    await keeper.run_due()
    [escalation] = await notices(store, "escalation")
    assert to([escalation]) == ["boss@acme.example"]
    assert escalation["text"].startswith(
        "⚠️ ACME-1 in Acme Customer Portal has had no decision since it was due Thu 5 Nov"
    )
    assert len(await notices(store, "reminder")) == 1
    rec = await service.get_request(rec.ref)
    view = review_view(rec, await service.project("acme-portal"), Viewer.review_channel(), now=clock.now())
    escalated = view.fact("escalated")
    assert escalated is not None and escalated.strong
    assert plain(escalated.value) == "to boss@acme.example at 2026-11-09 10:30 CET"
    card_updates = await notices(store, "card_update")
    assert "Escalated: to boss@acme.example" in card_updates[-1]["text"]


async def test_without_escalate_to_nothing_is_escalated(
    service: IntakeService, store: SqlStore, clock: FakeClock
) -> None:
    keeper = Timekeeper(service)
    await service.submit_request(project="acme-portal", actor=MEMBER, text=IN_SCOPE)
    clock.advance(days=60)
    await keeper.run_due()
    assert len(await notices(store, "reminder")) == 1 and await notices(store, "escalation") == []


async def test_a_request_decided_a_second_before_its_reminder_gets_none(
    service: IntakeService, store: SqlStore, clock: FakeClock
) -> None:
    await load(service, "escalate_to: [boss@acme.example]\n")
    keeper = Timekeeper(service)
    rec = await service.submit_request(project="acme-portal", actor=MEMBER, text=IN_SCOPE)
    clock.t = DUE - timedelta(seconds=1)
    await service.approve(rec.ref, actor=PM)
    clock.t = DUE
    await keeper.run_due()
    clock.advance(days=30)
    await keeper.run_due()
    assert await notices(store, "reminder") == [] and await notices(store, "escalation") == []
    assert (await service.get_request(rec.ref)).due_at is None


async def test_a_question_is_reminded_half_way_expires_at_the_end_and_an_answer_reopens_it(
    service: IntakeService, store: SqlStore, clock: FakeClock
) -> None:
    await load(service, "needs_info_expires_days: 4\ndaily_summary: off\n")
    keeper = Timekeeper(service)
    rec = await service.submit_request(project="acme-portal", actor=MEMBER, text=IN_SCOPE)
    rec = await service.ask_details(rec.ref, actor=PM, question="Which dates: created or delivered?")
    assert rec.due_at == datetime(2026, 11, 9, 9, 30, tzinfo=UTC)  # four working days: Tue → Mon
    assert await notices(store, "reminder") == []

    clock.t = datetime(2026, 11, 5, 9, 30, tzinfo=UTC)  # half-way: two working days
    await keeper.run_due()
    await keeper.run_due()
    [reminder] = await notices(store, "info_reminder")
    assert reminder["recipient"]["user_id"] == MEMBER.user_id
    assert reminder["text"].startswith(
        "Pat Morgan is still waiting for your answer about ACME-1. Without one, the request expires Mon 9 Nov."
    )

    clock.t = datetime(2026, 11, 9, 9, 30, tzinfo=UTC)
    await keeper.run_due()
    rec = await service.get_request(rec.ref)
    assert rec.status is RequestStatus.EXPIRED and rec.due_at is None
    [requester] = await notices(store, "expired")
    assert requester["recipient"]["user_id"] == MEMBER.user_id
    assert requester["text"].startswith("ACME-1 has expired: no answer to the question came by Mon 9 Nov.")
    [pm] = await notices(store, "expired_pm")
    assert to([pm]) == ["pm@acme.example"]
    project = await service.project("acme-portal")
    assert offered(rec, frozenset({Role.REQUESTER})) == [Action.ANSWER, Action.WITHDRAW]
    assert offered(rec, frozenset({Role.PM})) == [Action.CORRECT, Action.WITHDRAW]
    line = plain(review_view(rec, project, Viewer.review_channel()).status)
    assert line == "Expired at 2026-11-09 10:30 CET: Sam Reed did not answer the question; an answer reopens it"
    clock.advance(days=30)
    await keeper.run_due()
    assert len(await notices(store, "expired")) == 1 and len(await notices(store, "info_reminder")) == 1

    # The answer comes after all: back in review, with a new decision due.
    rec = await service.answer(rec.ref, actor=MEMBER, text="Delivered.")
    assert rec.status is RequestStatus.IN_REVIEW
    assert rec.last_event("answered") is not None and rec.last_event("answered").data == {"reopened": True}  # type: ignore[union-attr]
    assert rec.due_at == datetime(2026, 12, 11, 9, 30, tzinfo=UTC)  # Wed 9 Dec 10:30 + two working days


async def test_after_a_letter_is_sent_the_pm_is_asked_once_what_the_client_replied(
    service: IntakeService, store: SqlStore, clock: FakeClock
) -> None:
    await load(service, "follow_up_days: 3\ndaily_summary: off\n")
    keeper = Timekeeper(service)
    rec = await service.submit_request(project="acme-portal", actor=MEMBER, text="Native iOS and Android apps please")
    await service.decline(rec.ref, actor=PM, form=DeclineForm(ReasonCategory.PROJECT_GOALS, "Not in this phase."))
    rec = await service.get_request(rec.ref)
    assert rec.due_at is None  # the letter is a draft: nothing to follow up yet
    project = await service.project("acme-portal")
    assert Action.OUTCOME not in offered(rec, frozenset({Role.PM}))

    clock.advance(days=1)  # Wednesday
    rec = await service.mark_letter_sent(rec.ref, actor=PM)
    assert rec.due_at == datetime(2026, 11, 9, 9, 30, tzinfo=UTC)  # three working days: Wed → Mon
    # The outcome may be recorded at once, before any follow-up.
    assert Action.OUTCOME in offered(rec, frozenset({Role.PM}))
    assert plain(review_view(rec, project, Viewer.review_channel(), now=clock.now()).facts[-1].value) == "Mon 9 Nov"

    clock.t = datetime(2026, 11, 9, 9, 30, tzinfo=UTC)
    await keeper.run_due()
    clock.advance(days=10)
    await keeper.run_due()
    [asked] = await notices(store, "follow_up")
    assert to([asked]) == [PM.user_id] and asked["text"].startswith(
        "Did the client reply about ACME-1? Record the outcome."
    )
    rec = await service.record_outcome(rec.ref, actor=PM, text="They will wait for phase 2.")
    assert rec.due_at is None and rec.last_event("outcome_recorded") is not None
    assert plain(review_view(rec, project, Viewer.review_channel()).status).endswith(
        "the client has been answered and the outcome recorded"
    )
    assert "Recorded what the client replied about ACME-1." in __import__("bot.messages").messages.outcome_recorded(
        rec, project.chat_language
    )


async def test_after_a_meeting_the_pm_is_asked_once_how_it_went(
    service: IntakeService, store: SqlStore, clock: FakeClock
) -> None:
    await load(service, "daily_summary: off\n")
    keeper = Timekeeper(service)
    rec = await service.submit_request(project="acme-portal", actor=MEMBER, text="Native iOS and Android apps please")
    meeting = MeetingProposal(datetime(2026, 11, 10, 14, 0, tzinfo=UTC), 30, "Room 2")
    form = DeclineForm(ReasonCategory.PROJECT_GOALS, "Not in this phase.", channel=Channel.MEETING, meeting=meeting)
    rec = await service.decline(rec.ref, actor=PM, form=form)
    # Five working days after the meeting (Tue 10 Nov), not after the decline.
    assert rec.due_at == datetime(2026, 11, 17, 14, 0, tzinfo=UTC)
    assert Action.OUTCOME in offered(rec, frozenset({Role.PM}))

    clock.t = datetime(2026, 11, 17, 13, 59, tzinfo=UTC)
    await keeper.run_due()
    assert await notices(store, "follow_up") == []
    clock.t = datetime(2026, 11, 17, 14, 0, tzinfo=UTC)
    await keeper.run_due()
    clock.advance(days=10)
    await keeper.run_due()
    [asked] = await notices(store, "follow_up")
    assert asked["text"].startswith("How did the meeting about ACME-1 go? Record the outcome.")


async def test_a_pm_away_hands_over_to_a_delegate_whose_decisions_are_on_their_behalf_until_the_day_they_are_back(
    service: IntakeService, store: SqlStore, clock: FakeClock
) -> None:
    await load(service, "daily_summary: off\n")
    keeper = Timekeeper(service)
    first = await service.submit_request(project="acme-portal", actor=MEMBER, text=IN_SCOPE)  # Sam is on the team
    delegate = Actor("console", MEMBER.user_id, email=MEMBER.email, name="Sam Reed")
    until = datetime(2026, 11, 9).date()

    # Refused, changing nothing: a past date, oneself, someone off the team, someone who is not a PM.
    for who, day, message in [
        (delegate, datetime(2026, 11, 3).date(), "2026-11-03 is not after today (2026-11-03)"),
        (PM, until, "You cannot stand in for yourself"),
        (OTHER, until, "Lee Chen is not on the team of Acme Customer Portal"),
    ]:
        with pytest.raises(InvalidInput, match=message.replace("(", r"\(").replace(")", r"\)")):
            await service.set_away(PM, until=day, delegate=who)
    with pytest.raises(InvalidInput, match="Sam Reed is not a PM of any project"):
        await service.set_away(MEMBER, until=until, delegate=PM)
    assert await service.absences() == []

    absence = await service.set_away(PM, until=until, delegate=delegate)
    assert absence.ends_at == datetime(2026, 11, 8, 23, 0, tzinfo=UTC)  # midnight in Berlin
    [told] = await notices(store, "away")
    assert to([told]) == [MEMBER.user_id] and told["text"].startswith("Pat Morgan is away until 2026-11-09")
    project = await service.project("acme-portal")
    assert await service.acting_for(delegate, project) == PM

    # The reminder goes to the delegate, not the away PM.
    clock.t = DUE
    await keeper.run_due()
    [reminder] = await notices(store, "reminder")
    assert to([reminder]) == [MEMBER.user_id]
    assert reminder["data"]["on_behalf_of"]["user_id"] == PM.user_id
    assert "You are standing in for Pat Morgan, who is away." in reminder["text"]

    # The delegate decides: the record says on whose behalf.
    second = await service.submit_request(project="acme-portal", actor=OTHER, text=IN_SCOPE + " and status")
    rec = await service.approve(first.ref, actor=delegate)
    d = rec.last_decision
    assert d is not None and d.actor == delegate and d.on_behalf_of == PM
    assert rec.last_event("approved").text == "approved (on behalf of Pat Morgan)"  # type: ignore[union-attr]
    line = plain(review_view(rec, project, Viewer.review_channel()).status)
    assert line == "Approved by Sam Reed at 2026-11-05 10:30 CET (on behalf of Pat Morgan)"
    viewer = Viewer.of(delegate, second, project, on_behalf_of=PM)
    assert Role.DELEGATE in viewer.roles
    assert offered(second, viewer.roles) == [Action.APPROVE, Action.DECLINE, Action.ASK]
    assert "approved (on behalf of Pat Morgan)" in timeline(rec, show_letter=False)

    # At midnight before the day they are back, the absence ends by itself, once.
    clock.t = absence.ends_at - timedelta(seconds=1)
    await keeper.run_due()
    assert len(await notices(store, "away")) == 1
    clock.t = absence.ends_at
    await keeper.run_due()
    await keeper.run_due()
    ended = (await notices(store, "away"))[1:]
    assert sorted(to(ended)) == sorted([MEMBER.user_id, PM.user_id])
    assert await service.absences() == [] and await service.acting_for(delegate, project) is None
    with pytest.raises(PermissionDenied):
        await service.approve(second.ref, actor=delegate)
    events = [e.kind for e in await _project_events(service)]
    assert events.count("pm_away") == 1 and events.count("pm_back") == 1


async def _project_events(service: IntakeService) -> list[Any]:
    async with service.store.transaction() as tx:
        return await tx.project_events("acme-portal")


async def test_back_early_ends_the_absence_and_the_delegate_hears_it(
    service: IntakeService, store: SqlStore, clock: FakeClock
) -> None:
    await service.submit_request(project="acme-portal", actor=MEMBER, text=IN_SCOPE)
    with pytest.raises(InvalidInput, match="You are not away"):
        await service.end_away(PM)
    other_pm = Actor("slack", "U0PMSLACK", name="Robin Fox")  # the project's other PM, by Slack id
    await service.set_away(other_pm, until=datetime(2026, 11, 12).date(), delegate=MEMBER)
    with pytest.raises(InvalidInput, match=r"Robin Fox is away too \(until 2026-11-12\)"):
        await service.set_away(PM, until=datetime(2026, 11, 20).date(), delegate=other_pm)
    await service.set_away(PM, until=datetime(2026, 11, 20).date(), delegate=MEMBER)
    clock.advance(days=1)
    absence = await service.end_away(PM)
    assert absence.ended_at == clock.now() and await service.away(PM) is None
    told = [n["text"] for n in await notices(store, "away") if "Pat Morgan" in n["text"]]
    assert [x.split(":")[0] for x in told] == [
        "Pat Morgan is away until 2026-11-20 and has asked you to stand in on Acme Customer Portal",
        "Pat Morgan is back",
    ]
    keeper = Timekeeper(service)
    clock.t = datetime(2026, 11, 25, tzinfo=UTC)
    await keeper.run_due()
    # Robin's absence ended by itself (Robin hears nothing: the terminal cannot reach a Slack id, but the
    # delegate does); Pat's automatic end finds it ended already.
    told = [n["text"] for n in await notices(store, "away")]
    assert sum("Pat Morgan" in x for x in told) == 2 and sum("Robin Fox is back" in x for x in told) == 1


async def test_the_daily_summary_lists_what_is_overdue_what_waits_and_what_needs_a_follow_up(
    service: IntakeService, store: SqlStore, clock: FakeClock
) -> None:
    await load(service, "follow_up_days: 1\n")
    keeper = Timekeeper(service)
    # Nothing waits on Wednesday morning: no summary at all.
    clock.t = datetime(2026, 11, 4, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
    await keeper.run_due()
    assert await notices(store, "daily_summary") == []

    old = await service.submit_request(project="acme-portal", actor=MEMBER, text=IN_SCOPE)
    declined = await service.submit_request(project="acme-portal", actor=MEMBER, text="Native apps for iOS please")
    await service.decline(declined.ref, actor=PM, form=DeclineForm(ReasonCategory.PROJECT_GOALS, "Not now."))
    await service.mark_letter_sent(declined.ref, actor=PM)
    clock.t = datetime(2026, 11, 6, 12, 0, tzinfo=UTC)  # Friday noon: the first request is overdue (due 09:00)
    await keeper.run_due()
    new = await service.submit_request(project="acme-portal", actor=MEMBER, text="Filter orders by status too")
    approved = await service.submit_request(project="acme-portal", actor=MEMBER, text="Filter orders by customer")
    await service.approve(approved.ref, actor=PM)

    clock.t = datetime(2026, 11, 7, 8, 0, tzinfo=UTC)  # Saturday 09:00: not a working day
    await keeper.run_due()
    saturday = len(await notices(store, "daily_summary"))
    clock.t = datetime(2026, 11, 9, 8, 0, tzinfo=UTC)  # Monday 09:00 in Berlin
    await keeper.run_due()
    clock.advance(hours=1)
    await keeper.run_due()
    summaries = await notices(store, "daily_summary")
    assert saturday == len(summaries) - 1
    summary = summaries[-1]
    assert to([summary]) == ["pm@acme.example"]
    assert summary["data"]["counts"] == {"overdue": 1, "waiting": 1, "follow_up": 1}
    sections = {k: [d["ref"] for d in v] for k, v in summary["data"]["sections"].items()}
    assert sections == {"overdue": [old.ref], "waiting": [new.ref], "follow_up": [declined.ref]}
    assert summary["text"].splitlines() == [
        "Your daily summary: Acme Customer Portal",
        "",
        "Overdue (1)",
        f"  {old.ref} · in review · In scope (orders) · “{IN_SCOPE}” · OVERDUE since Fri 6 Nov",
        "",
        "Waiting for your decision (1)",
        f"  {new.ref} · in review · In scope (orders) · “Filter orders by status too” · decision due Tue 10 Nov",
        "",
        "Needs a follow-up (1)",
        f"  {declined.ref} · declined, client answered · Out of scope (mobile) · “Native apps for iOS please” · "
        "OVERDUE since Thu 5 Nov",
    ]
    # The next one is Tuesday's.
    st = table(ScheduledStep)
    async with store.session() as s:
        pending = (
            await s.exec(sa.select(st.c.due_at).where(st.c.kind == "daily_summary", st.c.status == "pending"))  # type: ignore[call-overload]
        ).all()
    assert [p[0].replace(tzinfo=UTC) for p in pending] == [datetime(2026, 11, 10, 8, 0, tzinfo=UTC)]


async def test_loading_a_new_summary_time_moves_the_next_summary(
    service: IntakeService, store: SqlStore, clock: FakeClock
) -> None:
    await load(service, 'daily_summary: "16:00"\n')
    await load(service, "daily_summary: off\n")
    await load(service, 'daily_summary: "07:45"\n')
    st = table(ScheduledStep)
    async with store.session() as s:
        rows = (
            await s.exec(sa.select(st.c.due_at, st.c.status).where(st.c.kind == "daily_summary").order_by(st.c.id))  # type: ignore[call-overload]
        ).all()
    pending = [r[0].replace(tzinfo=UTC) for r in rows if r[1] == "pending"]
    assert pending == [datetime(2026, 11, 4, 6, 45, tzinfo=UTC)]  # Wednesday 07:45 in Berlin


async def test_each_step_runs_once_while_several_workers_claim_at_the_same_time(db_url: str, clock: FakeClock) -> None:
    stores = [SqlStore.from_url(db_url) for _ in range(3)]
    try:
        services = [IntakeService(s, clock=clock) for s in stores]
        await services[0].load_project(load_project_text(PROJECT_YAML + "escalate_to: [boss@acme.example]\n"))
        refs = [
            (await services[0].submit_request(project="acme-portal", actor=MEMBER, text=f"{IN_SCOPE} #{i}")).ref
            for i in range(30)
        ]
        keepers = [Timekeeper(svc, worker=f"w{i}", batch=4) for i, svc in enumerate(services)]
        clock.t = DUE
        await asyncio.gather(*(k.run_due() for k in keepers))
        clock.advance(days=7)
        await asyncio.gather(*(k.run_due() for k in keepers))
        reminders = await notices(stores[0], "reminder")
        escalations = await notices(stores[0], "escalation")
        assert sorted(r["ref"] for r in reminders) == sorted(refs)
        assert sorted(r["ref"] for r in escalations) == sorted(refs)
        assert sum(k.ran.get("decision_due:done", 0) for k in keepers) == 30
        assert sum(k.ran.get("escalate:done", 0) for k in keepers) == 30
        assert sum(1 for k in keepers if k.ran) >= 2 or "sqlite" in db_url  # the work was shared
    finally:
        for s in stores:
            await s.close()


async def test_a_step_whose_worker_died_is_run_by_another_once_its_lease_runs_out(
    service: IntakeService, store: SqlStore, clock: FakeClock
) -> None:
    await load(service, "daily_summary: off\n")
    await service.submit_request(project="acme-portal", actor=MEMBER, text=IN_SCOPE)
    clock.t = DUE
    [claimed] = await store.schedule.claim_steps(now=clock.now(), worker="dead", limit=5, lease_seconds=60)
    alive = Timekeeper(service, worker="alive")
    await alive.run_due()
    assert await notices(store, "reminder") == []  # still leased to the dead worker
    clock.advance(seconds=61)
    await alive.run_due()
    assert len(await notices(store, "reminder")) == 1
    # The dead worker coming back finishes nothing: its lease is gone.
    async with store.transaction() as tx:
        assert not await tx.finish_step(claimed.id, worker="dead", status="done", at=clock.now())


async def test_a_step_that_fails_is_tried_again_later_and_its_effects_are_all_or_nothing(
    service: IntakeService, store: SqlStore, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await load(service, "daily_summary: off\n")
    rec = await service.submit_request(project="acme-portal", actor=MEMBER, text=IN_SCOPE)
    keeper = Timekeeper(service)
    real = service._card_update
    calls = {"n": 0}

    async def flaky(*args: Any, **kw: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("the database hiccuped")
        await real(*args, **kw)

    monkeypatch.setattr(service, "_card_update", flaky)
    clock.t = DUE
    await keeper.run_due()
    assert await notices(store, "reminder") == []  # rolled back with the failure: no half-written reminder
    assert [e.kind for e in (await service.get_request(rec.ref)).events].count("reminded") == 0
    clock.advance(seconds=29)
    await keeper.run_due()
    assert await notices(store, "reminder") == []  # not before its retry time
    clock.advance(seconds=2)
    await keeper.run_due()
    assert len(await notices(store, "reminder")) == 1


async def test_an_out_of_scope_approval_stops_the_clock_too(service: IntakeService, clock: FakeClock) -> None:
    rec = await service.submit_request(project="acme-portal", actor=MEMBER, text="Native iOS and Android apps")
    rec = await service.approve(rec.ref, actor=PM, change=ScopeChange("20 days", "Beta moves a month"))
    assert rec.due_at is None and rec.status is RequestStatus.APPROVED


async def test_a_server_sends_no_daily_summary_to_the_terminal_nobody_may_be_running(
    service: IntakeService, store: SqlStore, clock: FakeClock
) -> None:
    await service.submit_request(project="acme-portal", actor=MEMBER, text=IN_SCOPE)
    server = Timekeeper(service, platforms=["slack", "teams", "email"])
    clock.t = datetime(2026, 11, 4, 8, 0, tzinfo=UTC)  # Wednesday 09:00 in Berlin
    await server.run_due()
    assert await notices(store, "daily_summary") == [] and server.ran.get("daily_summary:skipped") == 1
    terminal = Timekeeper(service)
    clock.t = datetime(2026, 11, 5, 8, 0, tzinfo=UTC)
    await terminal.run_due()
    assert to(await notices(store, "daily_summary")) == ["pm@acme.example"]


async def test_replanning_the_same_moment_after_a_cancel_still_plans_it(
    service: IntakeService, store: SqlStore, clock: FakeClock
) -> None:
    """A file loaded again plans the same next summary; a question answered at once restarts the same
    decision clock: neither is lost to the step it replaces."""
    await load(service, "cc: [office@acme.example]\n")  # a change that has nothing to do with time
    keeper = Timekeeper(service)
    rec = await service.submit_request(project="acme-portal", actor=MEMBER, text=IN_SCOPE)
    await service.ask_details(rec.ref, actor=PM, question="Which date?")
    await service.answer(rec.ref, actor=MEMBER, text="Delivery date.")
    clock.t = datetime(2026, 11, 4, 8, 0, tzinfo=UTC)  # Wednesday 09:00 in Berlin
    await keeper.run_due()
    assert len(await notices(store, "daily_summary")) == 1
    clock.t = DUE
    await keeper.run_due()
    assert len(await notices(store, "reminder")) == 1


async def test_with_a_moving_clock_the_reminder_keeps_the_wall_time_across_a_dst_change_and_skips_holidays(
    service: IntakeService, store: SqlStore, clock: FakeClock
) -> None:
    await load(service, "holidays: [2026-10-26]\ndaily_summary: off\n")
    keeper = Timekeeper(service)
    clock.t = datetime(2026, 10, 23, 8, 0, tzinfo=UTC)  # Friday 10:00 CEST; clocks go back on Sunday
    rec = await service.submit_request(project="acme-portal", actor=MEMBER, text=IN_SCOPE)
    # Monday 26 Oct is a holiday: two working days are Tuesday and Wednesday, at 10:00 CET (09:00 UTC).
    assert rec.due_at == datetime(2026, 10, 28, 9, 0, tzinfo=UTC)
    clock.t = datetime(2026, 10, 28, 8, 0, tzinfo=UTC)  # 09:00 CET: an hour early by the summer offset
    await keeper.run_due()
    assert await notices(store, "reminder") == []
    clock.advance(hours=1)
    await keeper.run_due()
    [reminder] = await notices(store, "reminder")
    assert reminder["text"].startswith("⏰ ACME-1 is waiting for your decision: it was due Wed 28 Oct.")
