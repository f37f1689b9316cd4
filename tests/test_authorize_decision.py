"""`IntakeService.open_form`: the check every platform makes before showing an action's form."""

from __future__ import annotations

import pytest

from bot.domain import ScopeChange
from bot.errors import AlreadyDecided, PermissionDenied
from bot.review import Action
from bot.service import IntakeService
from tests.conftest import MEMBER, PM

CHANGE = ScopeChange("3 person-days", "none")


async def test_a_pm_may_open_the_form_and_nothing_is_recorded(service: IntakeService) -> None:
    rec = await service.submit_request(project="acme-portal", actor=MEMBER, text="Please add a live chat")
    allowed, spec = await service.open_form(rec.ref, Action.DECLINE, actor=PM)
    assert allowed.ref == rec.ref and spec is not None and spec.id == "decline"
    assert [e.kind for e in (await service.get_request(rec.ref)).events] == ["submitted", "scope_checked"]


async def test_a_non_pm_is_refused_and_the_attempt_is_recorded(service: IntakeService) -> None:
    rec = await service.submit_request(project="acme-portal", actor=MEMBER, text="Please add a live chat")
    with pytest.raises(PermissionDenied, match="Only the PMs of Acme Customer Portal"):
        await service.open_form(rec.ref, Action.DECLINE, actor=MEMBER)
    events = (await service.get_request(rec.ref)).events
    assert events[-1].kind == "denied" and events[-1].actor == MEMBER


async def test_a_decided_request_cannot_be_decided_again(service: IntakeService) -> None:
    rec = await service.submit_request(project="acme-portal", actor=MEMBER, text="Please add a live chat")
    await service.approve(rec.ref, actor=PM, change=CHANGE)
    with pytest.raises(AlreadyDecided, match="already approved by Pat Morgan"):
        await service.open_form(rec.ref, Action.DECLINE, actor=PM)


async def test_the_requester_opens_the_withdraw_form_and_another_member_is_refused(service: IntakeService) -> None:
    from tests.conftest import OTHER

    rec = await service.submit_request(project="acme-portal", actor=MEMBER, text="Please add a live chat")
    _, spec = await service.open_form(rec.ref, Action.WITHDRAW, actor=MEMBER)
    assert spec is not None and spec.id == "withdraw"
    with pytest.raises(PermissionDenied, match="who recorded"):
        await service.open_form(rec.ref, Action.WITHDRAW, actor=OTHER)
