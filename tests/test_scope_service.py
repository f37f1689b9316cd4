"""Learning from PMs through the service: a corrected verdict changes the next similar one. SQLite and PostgreSQL."""

from __future__ import annotations

from bot.domain import VerdictKind
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
