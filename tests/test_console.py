"""The terminal bot, read as transcripts: what a person types and what the bot answers."""

from __future__ import annotations

from bot.domain import RequestStatus
from bot.service import IntakeService
from tests.conftest import MEMBER, PM, TestBot


async def test_approving_new_work_asks_for_the_scope_change(testbot: TestBot, service: IntakeService) -> None:
    out = await testbot.say("/request Please add a live chat with our service team")
    assert "Recorded ACME-1:" in out and "┌─ review channel" in out
    testbot.become(PM)
    out = await testbot.say("/approve ACME-1", "4 person-days", "Beta moves by two days", "client pays")
    assert "approving it records a scope change" in out and "ACME-1 approved." in out
    assert "┌─ to Sam Reed\n│ Pat Morgan approved ACME-1 as a scope change" in out
    rec = await service.get_request("ACME-1")
    assert rec.decisions[-1].form == {
        "scope_change": True,
        "estimate": "4 person-days",
        "schedule_impact": "Beta moves by two days",
        "note": "client pays",
    }


async def test_ask_answer_and_withdraw(testbot: TestBot, service: IntakeService) -> None:
    await testbot.say("/request Could the order history also be in an iPhone app?")
    testbot.become(PM)
    out = await testbot.say("/ask ACME-1 Which customers asked for it, and for which devices?")
    assert "┌─ to Sam Reed\n│ Pat Morgan needs more details about ACME-1" in out and "/answer ACME-1" in out
    testbot.become(MEMBER)
    out = await testbot.say("/answer ACME-1 Brenner and Kolb; iPhones only.")
    assert (
        "ACME-1 is back in review" in out and "┌─ to Pat Morgan\n│ Sam Reed answered your question about ACME-1" in out
    )
    out = await testbot.say("/withdraw ACME-1 they will use the website")
    assert "ACME-1 withdrawn." in out
    assert (await service.get_request("ACME-1")).status is RequestStatus.WITHDRAWN


async def test_a_member_cannot_read_or_decide_and_is_told_so(testbot: TestBot, service: IntakeService) -> None:
    await testbot.say("/request Could the order history also be in an iPhone app?")
    out = await testbot.say("/decline ACME-1")
    assert "Only the PMs of Acme Customer Portal can decide on ACME-1" in out
    assert "Reason category" not in out  # refused before the form is asked
    testbot.become(PM)
    await testbot.say("/decline ACME-1", "", "", "", "", "", "")
    testbot.become(MEMBER)
    assert "Only the PMs of Acme Customer Portal can see the letter" in await testbot.say("/letter ACME-1")
    shown = await testbot.say("/show ACME-1")
    assert "only the project's PMs can read it" in shown and "Dear Jane" not in shown


async def test_letter_edit_reads_the_new_text_and_reruns_the_tone_check(testbot: TestBot) -> None:
    await testbot.say("/request Could the order history also be in an iPhone app?")
    testbot.become(PM)
    await testbot.say("/decline ACME-1", "", "", "", "", "", "")
    out = await testbot.say(
        "/letter ACME-1 edit", "Dear Jane,", "", "I can't do this, it is impossible.", "", "Pat", "."
    )
    assert "edited" in out and "✗ No blunt phrases" in out and "“impossible”" in out


async def test_decline_with_a_meeting_asks_for_time_and_place(testbot: TestBot, service: IntakeService) -> None:
    await testbot.say("/request Could the order history also be in an iPhone app?")
    testbot.become(PM)
    answers = [
        "",
        "",
        "4",
        "after go-live",
        "",
        "meeting",
        "next tuesday",
        "2026-11-10 10:00",
        "45",
        "https://meet.example/acme",
        "",
    ]
    out = await testbot.say("/decline ACME-1", *answers)
    assert "Give the meeting's date and time, e.g. 2026-12-08 10:00." in out
    assert "a meeting invitation is drafted" in out and "Talking points for ACME-1" in out
    rec = await service.get_request("ACME-1")
    assert rec.letter is not None and rec.letter.kind == "meeting_invite"
    assert "Tuesday, 10 November 2026 at 10:00 (Europe/Berlin)" in rec.letter.body_text


async def test_correcting_a_verdict(testbot: TestBot, service: IntakeService) -> None:
    await testbot.say("/request Reception wants a wallboard of today's orders")
    testbot.become(PM)
    out = await testbot.say("/correct ACME-1 in_scope orders")
    assert "ACME-1 is now in scope (orders)" in out
    rec = await service.get_request("ACME-1")
    assert rec.verdict.item_id == "orders" and rec.events[-1].kind == "verdict_corrected"
    out = await testbot.say("/correct ACME-1 in_scope mobile")
    assert "An in-scope verdict needs an in-scope item." in out
