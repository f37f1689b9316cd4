"""The request lifecycle and who may move it: every legal move, every refused one. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from bot.domain import (
    Alternative,
    AlternativeKind,
    Channel,
    DeclineForm,
    ReasonCategory,
    RequestStatus,
    ScopeChange,
    VerdictKind,
)
from bot.errors import AlreadyDecided, IllegalMove, InvalidInput, PermissionDenied, ProjectNotFound, RequestNotFound
from bot.service import IntakeService
from store.repo import SqlStore
from tests.conftest import MEMBER, OTHER, PM

CHANGE = ScopeChange("2 person-days", "none")
FORM = DeclineForm(
    ReasonCategory.PROJECT_GOALS,
    "Native apps are outside the agreed scope.",
    (Alternative(AlternativeKind.CHANGE_REQUEST, "about 20 person-days"),),
    "We understand why a native app appeals to your buyers.",
    Channel.EMAIL,
)


async def submit(service: IntakeService, text: str = "Could the order history also be in an iPhone app?") -> str:
    rec = await service.submit_request(project="acme-portal", actor=MEMBER, text=text)
    return rec.ref


async def outbox_kinds(store: SqlStore) -> list[tuple[str, str]]:
    import sqlalchemy as sa

    async with store.session() as s:
        rows = (await s.exec(sa.text("SELECT kind, audience FROM outbox ORDER BY id"))).all()  # type: ignore[call-overload]
    return [(r[0], r[1]) for r in rows]


async def test_submit_numbers_requests_per_project_and_sends_a_review_card(
    service: IntakeService, store: SqlStore
) -> None:
    first = await service.submit_request(
        project="acme-portal", actor=MEMBER, text="Customers get locked out after two tries"
    )
    second = await service.submit_request(project="acme-portal", actor=MEMBER, text="Can we pay by credit card?")
    assert (first.ref, second.ref) == ("ACME-1", "ACME-2")
    assert first.status is RequestStatus.IN_REVIEW
    assert first.scope_version == 1
    assert [e.kind for e in first.events] == ["submitted", "scope_checked"]
    assert await outbox_kinds(store) == [("review_card", "review"), ("review_card", "review")]


async def test_approve_moves_to_approved_and_tells_the_requester(service: IntakeService, store: SqlStore) -> None:
    ref = await submit(service, "Customers get locked out after two wrong passwords")
    rec = await service.approve(ref, actor=PM, note="bug, fix in sprint 12")
    assert rec.status is RequestStatus.APPROVED
    assert rec.decisions[-1].actor == PM
    assert ("requester_notice", "requester") in await outbox_kinds(store)
    assert ("card_update", "review") in await outbox_kinds(store)


async def test_approving_unlisted_work_records_a_scope_change(service: IntakeService) -> None:
    ref = await submit(service, "Please add a live chat with our service team")
    rec = await service.get_request(ref)
    assert rec.verdict.verdict is not VerdictKind.IN_SCOPE
    rec = await service.approve(ref, actor=PM, change=ScopeChange("5 person-days", "Beta slips a week", "worth it"))
    form = rec.decisions[-1].form
    assert form == {
        "scope_change": True,
        "estimate": "5 person-days",
        "schedule_impact": "Beta slips a week",
        "note": "worth it",
    }
    assert rec.events[-1].kind == "approved" and rec.events[-1].text == "approved as a scope change"


async def test_decline_drafts_the_letter_and_tells_requester_it_goes_by_email(
    service: IntakeService, store: SqlStore
) -> None:
    ref = await submit(service)
    rec = await service.decline(ref, actor=PM, form=FORM)
    assert rec.status is RequestStatus.LETTER_DRAFTED
    assert rec.letter is not None and "Jane Doe" in rec.letter.body_text
    assert [e.kind for e in rec.events][-2:] == ["declined", "letter_drafted"]
    kinds = await outbox_kinds(store)
    assert ("letter_draft", "person") in kinds
    notices = await _notices(store)
    requester_note = next(n for n in notices if n["kind"] == "requester_notice")
    assert "by email" in requester_note["text"]
    # The letter's text goes to the PM privately, never onto the review card.
    card = next(n for n in notices if n["kind"] == "card_update")
    assert "Dear Jane" not in card["text"] and "letter" not in card["data"]["request"]


async def _notices(store: SqlStore) -> list[dict]:
    import sqlalchemy as sa

    from store.models import OutboxEntry

    async with store.session() as s:
        rows = (await s.exec(sa.select(OutboxEntry.__table__).order_by(OutboxEntry.__table__.c.id))).mappings().all()  # type: ignore[call-overload]
    return [dict(r) for r in rows]


async def test_ask_for_details_then_answer_returns_to_review(service: IntakeService, store: SqlStore) -> None:
    ref = await submit(service)
    rec = await service.ask_details(ref, actor=PM, question="Which customers asked for this?")
    assert rec.status is RequestStatus.NEEDS_INFO
    rec = await service.answer(ref, actor=MEMBER, text="Brenner and Kolb, both big accounts.")
    assert rec.status is RequestStatus.IN_REVIEW
    notices = await _notices(store)
    question = next(n for n in notices if n["kind"] == "question")
    assert question["recipient"]["user_id"] == MEMBER.user_id
    answer = next(n for n in notices if n["kind"] == "answer")
    assert answer["recipient"]["user_id"] == PM.user_id and "Brenner" in answer["text"]
    # Back in review, a PM can now decide.
    assert (await service.approve(ref, actor=PM, change=CHANGE)).status is RequestStatus.APPROVED


async def test_withdraw_by_the_requester(service: IntakeService) -> None:
    ref = await submit(service)
    rec = await service.withdraw(ref, actor=MEMBER, reason="client changed their mind")
    assert rec.status is RequestStatus.WITHDRAWN
    with pytest.raises(IllegalMove, match="withdrawn"):
        await service.approve(ref, actor=PM)


async def test_mark_letter_sent_completes_the_decline(service: IntakeService) -> None:
    ref = await submit(service)
    await service.decline(ref, actor=PM, form=FORM)
    rec = await service.mark_letter_sent(ref, actor=PM, via="manual")
    assert rec.status is RequestStatus.LETTER_SENT
    assert rec.letter is not None and rec.letter.status == "sent" and rec.letter.sent_at is not None
    with pytest.raises(IllegalMove, match="already marked sent"):
        await service.mark_letter_sent(ref, actor=PM)


async def test_a_second_decision_changes_nothing_and_says_who_decided(service: IntakeService) -> None:
    ref = await submit(service)
    await service.approve(ref, actor=PM, change=CHANGE)
    before = await service.get_request(ref)
    with pytest.raises(AlreadyDecided, match=r"already approved by Pat Morgan at 2026-11-03 10:30 CET"):
        await service.decline(ref, actor=PM, form=FORM)
    after = await service.get_request(ref)
    assert after.status is RequestStatus.APPROVED
    assert len(after.decisions) == len(before.decisions) and len(after.events) == len(before.events)


async def test_a_non_pm_cannot_decide_and_the_attempt_is_recorded(service: IntakeService) -> None:
    ref = await submit(service)
    for attempt in (
        service.approve(ref, actor=MEMBER),
        service.decline(ref, actor=MEMBER, form=FORM),
        service.ask_details(ref, actor=MEMBER, question="why?"),
    ):
        with pytest.raises(PermissionDenied, match="Only the PMs of Acme Customer Portal"):
            await attempt
    rec = await service.get_request(ref)
    assert rec.status is RequestStatus.IN_REVIEW
    denied = [e for e in rec.events if e.kind == "denied"]
    assert [e.data["action"] for e in denied] == ["approve", "decline", "ask"]
    assert all(e.actor == MEMBER for e in denied)


async def test_pm_is_recognised_by_platform_user_id(service: IntakeService) -> None:
    from bot.domain import Actor

    ref = await submit(service)
    slack_pm = Actor("slack", "U0PMSLACK", name="Pat on Slack")
    assert (await service.approve(ref, actor=slack_pm, change=CHANGE)).status is RequestStatus.APPROVED


async def test_only_the_requester_or_a_pm_may_withdraw_or_answer(service: IntakeService) -> None:
    ref = await submit(service)
    with pytest.raises(PermissionDenied):
        await service.withdraw(ref, actor=OTHER)
    await service.ask_details(ref, actor=PM, question="Which customers?")
    with pytest.raises(PermissionDenied):
        await service.answer(ref, actor=OTHER, text="me")


async def test_answer_when_no_question_is_open_is_refused(service: IntakeService) -> None:
    ref = await submit(service)
    with pytest.raises(IllegalMove, match="not waiting for details"):
        await service.answer(ref, actor=MEMBER, text="here you go")


async def test_letters_only_for_declined_requests_and_only_for_pms(service: IntakeService) -> None:
    ref = await submit(service)
    with pytest.raises(IllegalMove):
        await service.draft_letter(ref, actor=PM, form=FORM)
    await service.decline(ref, actor=PM, form=FORM)
    with pytest.raises(PermissionDenied):
        await service.edit_letter(ref, actor=MEMBER, body_text="Dear Jane, no.")
    with pytest.raises(PermissionDenied):
        await service.mark_letter_sent(ref, actor=MEMBER)
    # The letter is not shown to someone who is not a PM.
    assert (await service.get_request(ref, actor=MEMBER)).letter is None
    assert (await service.get_request(ref, actor=PM)).letter is not None


async def test_edit_letter_reruns_the_tone_check_and_records_the_text(service: IntakeService) -> None:
    ref = await submit(service)
    await service.decline(ref, actor=PM, form=FORM)
    rec = await service.edit_letter(ref, actor=PM, body_text="Dear Jane,\n\nI can't do this. Impossible.\n\nPat")
    assert rec.letter is not None and rec.letter.edited
    failed = {t.rule for t in rec.letter.tone if not t.passed}
    assert {"no_blunt_phrases", "says_we", "gives_reason", "offers_alternative"} <= failed
    assert rec.events[-1].kind == "letter_edited" and "Impossible" in rec.events[-1].text


async def test_redraft_in_another_language(service: IntakeService) -> None:
    from bot.domain import Language

    ref = await submit(service)
    await service.decline(ref, actor=PM, form=FORM)
    rec = await service.draft_letter(ref, actor=PM, form=DeclineForm(**{**FORM.__dict__, "language": Language.ZH}))
    assert rec.letter is not None and rec.letter.language is Language.ZH and "尊敬的Jane Doe" in rec.letter.body_text


async def test_bad_input_is_refused_and_nothing_is_stored(service: IntakeService) -> None:
    for text in ("", "   \n\t"):
        with pytest.raises(InvalidInput, match="empty"):
            await service.submit_request(project="acme-portal", actor=MEMBER, text=text)
    with pytest.raises(InvalidInput, match="4,000"):
        await service.submit_request(project="acme-portal", actor=MEMBER, text="x" * 4001)
    with pytest.raises(ProjectNotFound, match="Known projects: acme-portal"):
        await service.submit_request(project="nope", actor=MEMBER, text="hello")
    with pytest.raises(RequestNotFound):
        await service.approve("ACME-99", actor=PM)
    assert await service.list_requests(project="acme-portal") == []
    # The next accepted request still gets number 1: refused ones used no number.
    assert (await submit(service)) == "ACME-1"


async def test_decline_form_is_validated(service: IntakeService) -> None:
    ref = await submit(service)
    with pytest.raises(InvalidInput, match="reason"):
        await service.decline(ref, actor=PM, form=DeclineForm(ReasonCategory.BUDGET, "  "))
    with pytest.raises(InvalidInput, match="meeting needs a proposed date and time"):
        await service.decline(
            ref, actor=PM, form=DeclineForm(ReasonCategory.BUDGET, "Over budget.", channel=Channel.MEETING)
        )
    assert (await service.get_request(ref)).status is RequestStatus.IN_REVIEW


async def test_decline_form_defaults_come_from_the_verdict(service: IntakeService) -> None:
    ref = await submit(service, "We'd like buyers to pay by credit card at checkout.")
    rec = await service.get_request(ref)
    defaults = await service.decline_form_defaults(ref)
    if rec.verdict.verdict is VerdictKind.OUT_OF_SCOPE:
        assert "Online payment by credit card or PayPal" in defaults.reason_text
    assert defaults.empathy and defaults.language is not None


async def test_refs_are_found_however_they_are_typed(service: IntakeService) -> None:
    ref = await submit(service, "Customers get locked out after two tries")
    await service.ask_details(ref.lower(), actor=PM, question="Which customers?")
    await service.answer(f"  {ref.lower()} ", actor=MEMBER, text="All of them.")
    rec = await service.approve(ref.lower(), actor=PM, change=CHANGE)
    assert rec.ref == ref and rec.status is RequestStatus.APPROVED
    assert [e.kind for e in rec.events][-3:] == ["asked", "answered", "approved"]
