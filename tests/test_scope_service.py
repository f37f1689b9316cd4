"""Learning from PMs through the service: a corrected verdict changes the next similar one. SQLite and PostgreSQL."""

from __future__ import annotations

from bot.domain import VerdictKind
from bot.review import Action
from bot.scope.judge import ScopeJudge
from bot.service import IntakeService
from tests.conftest import MEMBER, PM


async def test_default_checker_in_the_service(service: IntakeService) -> None:
    assert isinstance(service.checker, ScopeJudge)
    rec = await service.submit_request(
        project="acme-portal", actor=MEMBER, text="Could the order history also be in an iPhone app?"
    )
    assert (rec.verdict.verdict, rec.verdict.item_id) == (VerdictKind.OUT_OF_SCOPE, "mobile")
    rec = await service.submit_request(
        project="acme-portal", actor=MEMBER, text="Can the low-stock alerts also go out by SMS?"
    )
    assert rec.verdict.verdict is VerdictKind.UNLISTED
    assert any(e.startswith("SMS") for e in rec.verdict.extras)


async def test_a_correction_changes_the_next_similar_verdict(service: IntakeService) -> None:
    first_text = "Buyers want to see the carrier's delivery photo on the order page."
    similar = "Could buyers see the delivery photo from the carrier on the order page?"
    before = await service.check_scope("acme-portal", similar)
    assert before.verdict is not VerdictKind.IN_SCOPE

    rec = await service.submit_request(project="acme-portal", actor=MEMBER, text=first_text)
    assert rec.verdict.verdict is not VerdictKind.IN_SCOPE
    await service.correct_verdict(
        rec.ref, actor=PM, verdict=VerdictKind.IN_SCOPE, item_id="orders", note="Tracking covers it."
    )

    after = await service.check_scope("acme-portal", similar)
    assert (after.verdict, after.item_id) == (VerdictKind.IN_SCOPE, "orders")
    nxt = await service.submit_request(project="acme-portal", actor=MEMBER, text=similar)
    assert (nxt.verdict.verdict, nxt.verdict.item_id) == (VerdictKind.IN_SCOPE, "orders")
    # A request on something else is still judged on its own.
    other = await service.check_scope("acme-portal", "Can we pay by credit card?")
    assert other.verdict is VerdictKind.OUT_OF_SCOPE


async def test_the_correction_form_offers_the_closest_candidates_first(service: IntakeService) -> None:
    # A covered ask the checker was unsure of: the PM who corrects it finds the items it was closest to at the
    # top of the list, in the checker's order, then the rest of the scope as the project file lists it.
    rec = await service.submit_request(
        project="acme-portal", actor=MEMBER, text="Buyers want to see the carrier's delivery photo on the order page."
    )
    assert rec.verdict.verdict is VerdictKind.UNLISTED and rec.verdict.candidates
    _, spec = await service.open_form(rec.ref, Action.CORRECT, actor=PM)
    assert spec is not None
    ids = [c.value for c in next(f for f in spec.fields if f.id == "item").choices]
    k = len(rec.verdict.candidates)
    assert ids[:k] == list(rec.verdict.candidates)
    project = await service.project("acme-portal")
    rest = [it.id for it in (*project.in_scope, *project.out_of_scope) if it.id not in rec.verdict.candidates]
    assert ids[k:] == rest
    hint = next(f for f in spec.fields if f.id == "item").hint
    assert "closest to this request are listed first: " + ", ".join(rec.verdict.candidates) in hint
    # A verdict without candidates keeps the project file's order.
    inside = await service.submit_request(
        project="acme-portal", actor=MEMBER, text="Could the order history also be in an iPhone app?"
    )
    _, spec = await service.open_form(inside.ref, Action.CORRECT, actor=PM)
    assert spec is not None
    ids = [c.value for c in next(f for f in spec.fields if f.id == "item").choices]
    assert ids == [it.id for it in (*project.in_scope, *project.out_of_scope)]
    assert "closest" not in next(f for f in spec.fields if f.id == "item").hint
