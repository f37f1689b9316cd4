"""`IntakeService.authorize_decision`: the check a chat adapter makes before showing a decision form."""

from __future__ import annotations

import pytest

from bot.errors import AlreadyDecided, PermissionDenied
from bot.service import IntakeService
from tests.conftest import MEMBER, PM


async def test_a_pm_may_open_the_form_and_nothing_is_recorded(service: IntakeService) -> None:
    rec = await service.submit_request(project="acme-portal", actor=MEMBER, text="Please add a live chat")
    allowed = await service.authorize_decision(rec.ref, actor=PM, what="decline")
    assert allowed.ref == rec.ref
    assert [e.kind for e in (await service.get_request(rec.ref)).events] == ["submitted", "scope_checked"]


async def test_a_non_pm_is_refused_and_the_attempt_is_recorded(service: IntakeService) -> None:
    rec = await service.submit_request(project="acme-portal", actor=MEMBER, text="Please add a live chat")
    with pytest.raises(PermissionDenied, match="Only the PMs of Acme Customer Portal"):
        await service.authorize_decision(rec.ref, actor=MEMBER, what="decline")
    events = (await service.get_request(rec.ref)).events
    assert events[-1].kind == "denied" and events[-1].actor == MEMBER


async def test_a_decided_request_cannot_be_decided_again(service: IntakeService) -> None:
    rec = await service.submit_request(project="acme-portal", actor=MEMBER, text="Please add a live chat")
    await service.approve(rec.ref, actor=PM)
    with pytest.raises(AlreadyDecided, match="already approved by Pat Morgan"):
        await service.authorize_decision(rec.ref, actor=PM, what="decline")
