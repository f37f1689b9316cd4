"""Who may decide in Teams, and what each decision does to the card, the requester and the record."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.domain import RequestStatus
from tests.support.teams import (
    INTAKE_CHANNEL,
    MEMBER,
    OTHER,
    PM,
    PM2,
    REVIEW_CHANNEL,
    Call,
    Harness,
    running,
)
from tests.support.views import card_inputs
from tests.test_teams_flow import all_text, invoke_card


@pytest.fixture
async def teams(sqlite_url: str) -> AsyncIterator[Harness]:
    async with running(sqlite_url) as h:
        await h.add_to_channel(REVIEW_CHANNEL)
        yield h


async def review_card(teams: Harness, text: str, *, by: dict[str, Any] = MEMBER) -> Call:
    before = len([c for c in teams.connector.posts(REVIEW_CHANNEL) if c.card])
    await teams.say_in_channel(by, f"request {text}")
    cards: list[Call] = await teams.connector.wait_for(
        lambda: (
            len([c for c in teams.connector.posts(REVIEW_CHANNEL) if c.card]) > before
            and [c for c in teams.connector.posts(REVIEW_CHANNEL) if c.card]
        )
    )
    return cards[-1]


def invoke_message(body: dict[str, Any]) -> str:
    assert body["type"] == "application/vnd.microsoft.activity.message", body
    return str(body["value"])


def primary(card: dict) -> list[str]:
    """A card's buttons (the "…" menu of secondary actions aside)."""
    return [a["title"] for a in card.get("actions", []) if a.get("mode") != "secondary"]


async def test_a_non_pm_cannot_decide_is_told_so_and_the_attempt_is_recorded(teams: Harness) -> None:
    card = await review_card(teams, "Customers get locked out after two wrong passwords")
    for verb in ("approve", "decline", "ask"):
        resp = await teams.click(OTHER, card, {"intake": verb, "ref": "ACME-1"})
        assert resp.status == 200
        assert "Only the PMs of Acme Customer Portal" in invoke_message(await resp.json())
    rec = await teams.service.get_request("ACME-1")
    assert rec.status is RequestStatus.IN_REVIEW
    denied = [e for e in rec.events if e.kind == "denied"]
    assert len(denied) == 3 and {e.actor.user_id for e in denied} == {OTHER["id"]}
    assert teams.connector.updates() == []


async def test_a_pm_named_by_aad_object_id_in_teams_pms_can_approve(teams: Harness) -> None:
    card = await review_card(teams, "Can the order history export to PDF?")
    resp = await teams.click(PM2, card, {"intake": "approve", "ref": "ACME-1"})
    updated = invoke_card(await resp.json())
    assert primary(updated) == [] and "Approved by Robin Fox" in all_text(updated)
    rec = await teams.service.get_request("ACME-1")
    assert rec.status is RequestStatus.APPROVED and rec.decisions[-1].actor.user_id == "aad-robin"
    put = await teams.connector.wait_for(teams.connector.updates)
    assert put[0].activity_id == card.posted_id and primary(put[0].card or {}) == []
    told = await teams.connector.wait_for(
        lambda: [c for c in teams.connector.posts(INTAKE_CHANNEL) if "Robin Fox approved ACME-1" in c.text]
    )
    assert told


async def test_a_second_click_on_a_decided_card_changes_nothing_and_says_who_decided(teams: Harness) -> None:
    card = await review_card(teams, "Can the order history export to PDF?")
    await teams.click(PM, card, {"intake": "approve", "ref": "ACME-1"})
    resp = await teams.click(PM2, card, {"intake": "decline", "ref": "ACME-1"})
    assert "ACME-1 was already approved by Pat Morgan" in invoke_message(await resp.json())


async def test_approving_unlisted_work_asks_for_estimate_and_schedule_impact(teams: Harness) -> None:
    card = await review_card(teams, "Please add a live chat with our service team")
    resp = await teams.click(PM, card, {"intake": "approve", "ref": "ACME-1"})
    form = invoke_card(await resp.json())
    assert {b.get("id") for b in form["body"]} >= {"estimate", "schedule_impact", "note"}
    resp = await teams.click(
        PM, card, {"intake": "approve_submit", "ref": "ACME-1", "estimate": " ", "schedule_impact": "none"}
    )
    assert "Give an effort estimate, e.g. 5 person-days." in all_text(invoke_card(await resp.json()))
    resp = await teams.click(
        PM,
        card,
        {
            "intake": "approve_submit",
            "ref": "ACME-1",
            "estimate": "5 person-days",
            "schedule_impact": "Beta slips a week",
            "note": "worth it",
        },
    )
    assert primary(invoke_card(await resp.json())) == []
    rec = await teams.service.get_request("ACME-1")
    assert rec.decisions[-1].form == {
        "scope_change": True,
        "estimate": "5 person-days",
        "schedule_impact": "Beta slips a week",
        "note": "worth it",
    }


async def test_ask_for_details_reaches_the_requester_privately_and_their_answer_returns_it_to_review(
    teams: Harness,
) -> None:
    await teams.install_personal(MEMBER)
    await teams.install_personal(PM)
    card = await review_card(teams, "Please add a live chat with our service team")
    resp = await teams.click(PM, card, {"intake": "ask", "ref": "ACME-1"})
    assert any(b.get("id") == "question" for b in invoke_card(await resp.json())["body"])
    resp = await teams.click(
        PM, card, {"intake": "ask_submit", "ref": "ACME-1", "question": "Which hours should the chat be staffed?"}
    )
    assert "Waiting for details" in all_text(invoke_card(await resp.json()))

    questions: list[Call] = await teams.connector.wait_for(
        lambda: [
            c for c in teams.connector.posts("a:personal-member-sam") if c.card and "Which hours" in all_text(c.card)
        ]
    )
    assert primary(questions[0].card or {}) == ["Send answer"]

    # The requester answers with the card's button (an Action.Submit message, as older clients send).
    resp = await teams.submit(
        MEMBER, questions[0], {"intake": "answer_submit", "ref": "ACME-1", "answer": "Office hours, 9 to 5."}
    )
    assert resp.status == 200
    rec = await teams.service.get_request("ACME-1")
    assert rec.status is RequestStatus.IN_REVIEW
    assert rec.events[-1].kind == "answered" and rec.events[-1].text == "Office hours, 9 to 5."
    replaced = [u for u in teams.connector.updates() if u.activity_id == questions[0].posted_id]
    assert replaced and "Answered, thank you." in all_text(replaced[0].card or {})
    to_pm = await teams.connector.wait_for(
        lambda: [c for c in teams.connector.posts("a:personal-pm-pat") if "Office hours, 9 to 5." in c.text]
    )
    assert "back in review" in to_pm[0].text
    # The review card is live again: buttons back, status says the requester answered.
    live = await teams.connector.wait_for(
        lambda: [
            u for u in teams.connector.updates() if u.activity_id == card.posted_id and u.card and u.card.get("actions")
        ]
    )
    assert "the requester answered" in all_text(live[-1].card or {})


async def test_a_question_opens_a_personal_chat_when_there_is_none(teams: Harness) -> None:
    card = await review_card(teams, "Please add a live chat with our service team")
    await teams.click(PM, card, {"intake": "ask_submit", "ref": "ACME-1", "question": "Which hours?"})
    created = await teams.connector.wait_for(
        lambda: [c for c in teams.connector.calls if c.path == "/v3/conversations"]
    )
    assert created[0].body["members"] == [{"id": MEMBER["id"]}] and created[0].body["isGroup"] is False
    asked = await teams.connector.wait_for(lambda: [c for c in teams.connector.posts("a:created-member-sam") if c.card])
    assert "Which hours?" in all_text(asked[0].card or {})


async def test_decline_with_action_submit_posts_the_form_and_shows_errors_in_place(teams: Harness) -> None:
    await teams.install_personal(PM)
    card = await review_card(teams, "We need a native iOS app for the portal")
    await teams.submit(PM, card, {"intake": "decline", "ref": "ACME-1"})
    form_post = [c for c in teams.connector.posts(REVIEW_CHANNEL) if c.card and "Decline ACME-1" in all_text(c.card)]
    assert form_post, "the form is posted as a new message on the Action.Submit path"
    await teams.submit(
        PM,
        form_post[0],
        {"intake": "decline_submit", "ref": "ACME-1", "reason_category": "nonsense", "reason_text": "x"},
    )
    shown = [u for u in teams.connector.updates() if u.activity_id == form_post[0].posted_id]
    assert shown and "Pick a reason from the list." in all_text(shown[-1].card or {})
    await teams.submit(
        PM,
        form_post[0],
        {
            "intake": "decline_submit",
            "ref": "ACME-1",
            "reason_category": "project_goals",
            "reason_text": "Apps are outside the scope.",
        },
    )
    assert (await teams.service.get_request("ACME-1")).status is RequestStatus.LETTER_DRAFTED


async def test_text_commands_scope_requests_help_and_unknown(teams: Harness) -> None:
    await review_card(teams, "Can the order history export to PDF?")
    await teams.say_personal(MEMBER, "scope")
    await teams.say_personal(MEMBER, "requests")
    await teams.say_personal(MEMBER, "help")
    await teams.say_personal(MEMBER, "hello there")
    texts = [c.text for c in teams.connector.posts("a:personal-member-sam")]
    assert texts[0].startswith("Acme Customer Portal (acme-portal)")
    assert texts[1].startswith("ACME-1 · in review")
    assert "`request TEXT`" in texts[2]
    assert texts[3].startswith("I didn't understand that.")


async def test_request_alone_opens_a_form_and_records_from_it(teams: Harness) -> None:
    await teams.say_personal(MEMBER, "request")
    form = [c for c in teams.connector.posts("a:personal-member-sam") if c.card][-1]
    assert any(b.get("id") == "what" for b in (form.card or {})["body"])
    resp = await teams.click(
        MEMBER, form, {"intake": "intake_submit", "what": ""}, conversation="a:personal-member-sam"
    )
    assert "Write what the client asked for." in all_text(invoke_card(await resp.json()))
    resp = await teams.click(
        MEMBER,
        form,
        {"intake": "intake_submit", "what": "Can we pay by credit card?"},
        conversation="a:personal-member-sam",
    )
    assert "Recorded ACME-1: out of scope (payments)" in all_text(invoke_card(await resp.json()))


async def test_declining_into_a_meeting_drafts_an_invitation_and_keeps_what_was_typed_on_error(teams: Harness) -> None:
    await teams.install_personal(PM)
    card = await review_card(teams, "We need a native iOS app for the portal")
    typed = {
        "intake": "decline_submit",
        "ref": "ACME-1",
        "reason_category": "project_goals",
        "reason_text": "Native apps are outside the agreed scope.",
        "alternatives": "phased",
        "channel": "meeting",
        "meeting_start__date": "2026-11-10",
        "meeting_start__time": "",
        "meeting_minutes": "45",
        "meeting_location": "Room 4",
    }
    resp = await teams.click(PM, card, typed)
    form = invoke_card(await resp.json())
    assert "Give the meeting's date and time, e.g. 2026-12-08 10:00." in all_text(form)
    inputs = {b["id"]: b for b in card_inputs(form)}
    assert inputs["reason_text"]["value"] == "Native apps are outside the agreed scope."
    assert inputs["alternatives"]["value"] == "phased" and inputs["channel"]["value"] == "meeting"

    resp = await teams.click(PM, card, {**typed, "meeting_start__time": "10:30"})
    decided = invoke_card(await resp.json())
    assert "answering the client in a meeting" in all_text(decided)
    rec = await teams.service.get_request("ACME-1")
    assert rec.letter is not None and rec.letter.kind == "meeting_invite"
    assert rec.decline_form is not None and rec.decline_form.meeting is not None
    assert rec.decline_form.meeting.start.isoformat() == "2026-11-10T10:30:00+01:00"  # the project's time zone
    invite = await teams.connector.wait_for(
        lambda: [
            c for c in teams.connector.posts("a:personal-pm-pat") if c.card and "Meeting invitation" in all_text(c.card)
        ]
    )
    assert "Talking points" in all_text(invite[0].card or {})
