"""Steps 3–5: the review card's buttons. Only PMs decide; the card is updated in place after a decision."""

from __future__ import annotations

import json

import sqlalchemy as sa

from bot.domain import RequestStatus
from tests.support.slack_harness import MEMBER_ID, OTHER_ID, PM_ID, PM_MAIL_ID, SlackHarness, text_value

IN_SCOPE = "Customers should be able to filter the order history by date"
IOS = "Please build native iOS and Android apps for the portal"


async def record(slack: SlackHarness, text: str) -> str:
    await slack.command("/request", text, user=MEMBER_ID)
    await slack.settle()
    return await slack.ref_of_last_request()


def buttons(blocks: list[dict]) -> list[str]:
    """The buttons of a message (its overflow menu of secondary actions aside)."""
    return [e["text"]["text"] for b in blocks if b["type"] == "actions" for e in b["elements"] if e["type"] == "button"]


def menu(blocks: list[dict]) -> list[str]:
    """The secondary actions in a message's overflow menu."""
    return [
        o["text"]["text"]
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["type"] == "overflow"
        for o in e["options"]
    ]


def card_text(blocks: list[dict]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


async def test_review_card_shows_ref_requester_text_verdict_and_the_three_buttons(slack: SlackHarness) -> None:
    ref = await record(slack, IOS)
    card = slack.posted("C0REVIEW")[0]["blocks"]
    text = card_text(card)
    assert ref in text and "<@U0SAM>" in text and IOS in text
    assert "Out of scope (mobile)" in text and "Native iOS and Android apps" in text
    assert buttons(card) == ["Approve", "Decline", "Ask for details"]
    assert menu(card) == ["Correct the verdict", "Withdraw"]


async def test_pm_approves_in_scope_work_and_the_card_loses_its_buttons(slack: SlackHarness) -> None:
    ref = await record(slack, IN_SCOPE)
    assert len(slack.posted("C0REVIEW")) == 1  # the fake's first post
    resp = await slack.click("approve_request", ref, user=PM_ID, message_ts=slack.fake.ts(1))
    assert resp.status == 200
    await slack.settle()
    rec = await slack.service.get_request(ref)
    assert rec.status is RequestStatus.APPROVED
    update = slack.fake.calls_to("chat.update")[-1]
    assert update["channel"] == "C0REVIEW" and update["ts"] == slack.fake.ts(1)
    assert buttons(update["blocks"]) == []
    assert "Approved by <@U0PMSLACK> at 2026-11-03 10:30 CET" in card_text(update["blocks"])
    # the requester hears about it by DM (a slash command has no thread)
    dm = [c for c in slack.posted() if c["channel"] == "D0SAM"]
    assert dm and "approved ACME-1" in dm[-1]["text"]


async def test_a_pm_by_profile_email_may_decide(slack: SlackHarness) -> None:
    ref = await record(slack, IN_SCOPE)
    await slack.click("approve_request", ref, user=PM_MAIL_ID)
    await slack.settle()
    rec = await slack.service.get_request(ref)
    assert rec.status is RequestStatus.APPROVED
    assert rec.decisions[-1].actor.email == "pm@acme.example"


async def test_a_non_pm_click_is_refused_privately_and_recorded(slack: SlackHarness) -> None:
    ref = await record(slack, IN_SCOPE)
    for action in ("approve_request", "decline_request", "ask_details"):
        await slack.click(action, ref, user=OTHER_ID)
    await slack.settle()
    rec = await slack.service.get_request(ref)
    assert rec.status is RequestStatus.IN_REVIEW
    ephemerals = slack.fake.calls_to("chat.postEphemeral")
    assert len(ephemerals) == 3
    assert all(e["user"] == OTHER_ID and e["channel"] == "C0REVIEW" for e in ephemerals)
    assert all("Only the PMs of Acme Customer Portal can decide" in e["text"] for e in ephemerals)
    assert [e.kind for e in rec.events].count("denied") == 3
    assert slack.fake.calls_to("views.open") == []
    assert slack.fake.calls_to("chat.update") == []


async def test_a_second_decision_changes_nothing_and_says_who_decided(slack: SlackHarness) -> None:
    ref = await record(slack, IN_SCOPE)
    await slack.click("approve_request", ref, user=PM_ID)
    await slack.settle()
    await slack.click("decline_request", ref, user=PM_MAIL_ID)
    await slack.settle()
    text = slack.fake.calls_to("chat.postEphemeral")[-1]["text"]
    assert "already approved by Pat Morgan" in text
    assert slack.fake.calls_to("views.open") == []


async def test_approving_out_of_scope_work_opens_the_scope_change_modal(slack: SlackHarness) -> None:
    """Step 4: estimate, schedule impact and note are recorded with the approval."""
    ref = await record(slack, IOS)
    await slack.click("approve_request", ref, user=PM_ID)
    await slack.settle()
    view = slack.opened_view()
    assert view["callback_id"] == "form:approve"
    assert (await slack.service.get_request(ref)).status is RequestStatus.IN_REVIEW
    resp = await slack.submit(
        view,
        user=PM_ID,
        values={
            "estimate": text_value("20 person-days"),
            "schedule_impact": text_value("Go-live moves by two weeks"),
            "note": text_value("Client pays as a change request"),
        },
    )
    assert resp.status == 200 and (await resp.text()) == ""
    await slack.settle()
    rec = await slack.service.get_request(ref)
    assert rec.status is RequestStatus.APPROVED
    assert rec.decisions[-1].form == {
        "scope_change": True,
        "estimate": "20 person-days",
        "schedule_impact": "Go-live moves by two weeks",
        "note": "Client pays as a change request",
    }
    update = slack.fake.calls_to("chat.update")[-1]
    assert "Approved as a scope change by <@U0PMSLACK>" in card_text(update["blocks"])
    dm = [c for c in slack.posted() if c["channel"] == "D0SAM"][-1]
    assert "as a scope change" in dm["text"]


async def test_scope_change_modal_requires_estimate(slack: SlackHarness) -> None:
    ref = await record(slack, IOS)
    await slack.click("approve_request", ref, user=PM_ID)
    await slack.settle()
    resp = await slack.submit(slack.opened_view(), user=PM_ID, values={"estimate": text_value("")})
    # Slack itself refuses an empty required input; a crafted one gets an inline error, not a decision.
    body = await resp.json()
    assert body["response_action"] == "errors" and "estimate" in body["errors"]
    assert (await slack.service.get_request(ref)).status is RequestStatus.IN_REVIEW


async def test_ask_for_details_question_answer_and_back_to_review(slack: SlackHarness) -> None:
    """Step 5: question to the requester with an Answer button; the answer returns the request to review."""
    ref = await record(slack, IOS)
    await slack.click("ask_details", ref, user=PM_ID)
    await slack.settle()
    ask = slack.opened_view()
    assert ask["callback_id"] == "form:ask"
    await slack.submit(ask, user=PM_ID, values={"question": text_value("Which devices do their buyers use?")})
    await slack.settle()
    rec = await slack.service.get_request(ref)
    assert rec.status is RequestStatus.NEEDS_INFO
    card = slack.fake.calls_to("chat.update")[-1]["blocks"]
    # While the requester is asked, the PMs may still decide (but not ask a second question).
    assert buttons(card) == ["Approve", "Decline"] and "Waiting for details: <@U0PMSLACK> asked" in card_text(card)
    question = [c for c in slack.posted() if c["channel"] == "D0SAM"][-1]
    assert "Which devices do their buyers use?" in card_text(question["blocks"])
    assert buttons(question["blocks"]) == ["Answer"]

    # the requester clicks Answer in the DM and answers in the modal
    await slack.click("answer_question", ref, user=MEMBER_ID, channel="D0SAM", message_ts=slack.fake.ts(9))
    await slack.settle()
    answer = slack.opened_view()
    assert answer["callback_id"] == "form:answer"
    resp = await slack.submit(answer, user=MEMBER_ID, values={"answer": text_value("Mostly iPads in the warehouse.")})
    assert (await resp.text()) == ""
    await slack.settle()
    rec = await slack.service.get_request(ref)
    assert rec.status is RequestStatus.IN_REVIEW
    card = slack.fake.calls_to("chat.update")[-1]["blocks"]
    assert buttons(card) == ["Approve", "Decline", "Ask for details"]
    assert "Back in review" in card_text(card)
    to_pm = [c for c in slack.posted() if c["channel"] == "D0PMSLACK"][-1]
    assert "Mostly iPads in the warehouse." in to_pm["text"]


async def test_someone_else_cannot_answer_the_question(slack: SlackHarness) -> None:
    ref = await record(slack, IOS)
    await slack.click("ask_details", ref, user=PM_ID)
    await slack.settle()
    await slack.submit(slack.opened_view(), user=PM_ID, values={"question": text_value("Which devices?")})
    await slack.settle()
    opened = len(slack.fake.calls_to("views.open"))
    await slack.click("answer_question", ref, user=OTHER_ID, channel="D0LEE")
    await slack.settle()
    assert len(slack.fake.calls_to("views.open")) == opened  # refused before any form
    assert "Only Sam Reed, who recorded ACME-1, can do that." in slack.fake.calls_to("chat.postMessage")[-1]["text"]
    # Nor can they submit the requester's own form.
    await slack.click("answer_question", ref, user=MEMBER_ID, channel="D0SAM")
    await slack.settle()
    resp = await slack.submit(slack.opened_view(), user=OTHER_ID, values={"answer": text_value("Whatever")})
    body = await resp.json()
    assert body["response_action"] == "errors" and "Only Sam Reed" in body["errors"]["answer"]
    assert (await slack.service.get_request(ref)).status is RequestStatus.NEEDS_INFO


async def test_decisions_from_app_home_refresh_the_home_tab(slack: SlackHarness) -> None:
    ref = await record(slack, IN_SCOPE)
    await slack.click("approve_request", ref, user=PM_ID, home=True)
    await slack.settle()
    assert (await slack.service.get_request(ref)).status is RequestStatus.APPROVED
    published = slack.fake.calls_to("views.publish")[-1]
    assert published["user_id"] == PM_ID
    assert "Waiting for a decision (0)" in card_text(published["view"]["blocks"])


async def test_denied_attempts_are_in_the_record(slack: SlackHarness) -> None:
    ref = await record(slack, IN_SCOPE)
    await slack.click("approve_request", ref, user=OTHER_ID)
    await slack.settle()
    async with slack.store.session() as s:
        rows = (await s.exec(sa.text("SELECT kind, actor FROM events WHERE kind = 'denied'"))).all()  # type: ignore[call-overload]
    assert len(rows) == 1


async def test_an_unexpected_error_in_a_modal_shows_inline_not_a_500(slack: SlackHarness, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ref = await record(slack, IOS)
    await slack.click("ask_details", ref, user=PM_ID)
    await slack.settle()

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(slack.service, "ask_details", broken)
    resp = await slack.submit(slack.opened_view(), user=PM_ID, values={"question": text_value("Which devices?")})
    assert resp.status == 200
    body = await resp.json()
    assert body["response_action"] == "errors" and "went wrong" in body["errors"]["question"]


async def test_an_unexpected_error_after_a_click_is_told_to_the_clicker(slack: SlackHarness, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ref = await record(slack, IN_SCOPE)

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(slack.service, "approve", broken)
    resp = await slack.click("approve_request", ref, user=PM_ID)
    assert resp.status == 200
    await slack.settle()
    assert "went wrong" in slack.fake.calls_to("chat.postEphemeral")[-1]["text"]
