"""Time in Slack, through the real route and the fake Web API: the review card shows the decision's due
date; at the due time each PM gets a reminder in a DM with the decide buttons (the PM named by e-mail
is found by it), and the card turns overdue; `/intake away` hands a PM's reminders and decisions to a
delegate until the PM is back."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.domain import RequestStatus
from tests.support.clock import FakeClock
from tests.support.slack_harness import MEMBER_ID, OTHER_ID, PM_ID, PM_MAIL_ID, SlackHarness, payload

IN_SCOPE = "Customers should be able to filter the order history by date"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 12, 3, 9, 30, tzinfo=UTC))  # a Thursday; Berlin is UTC+1


async def record(slack: SlackHarness, text: str, *, user: str = MEMBER_ID) -> str:
    await slack.command("/request", text, user=user)
    await slack.settle()
    return await slack.ref_of_last_request()


def dms(slack: SlackHarness, *, starting: str = "") -> list[dict[str, Any]]:
    return [
        c
        for c in slack.fake.delivered("chat.postMessage")
        if str(c.get("channel", "")).startswith("D") and str(c.get("text", "")).startswith(starting)
    ]


def reminders(slack: SlackHarness) -> list[dict[str, Any]]:
    return dms(slack, starting="⏰")


def buttons(blocks: list[dict[str, Any]]) -> list[str]:
    return [e["text"]["text"] for b in blocks if b["type"] == "actions" for e in b["elements"] if e["type"] == "button"]


def facts(blocks: list[dict[str, Any]]) -> str:
    """The card's line of facts (its second block)."""
    return str(blocks[1]["text"]["text"])


async def test_the_card_shows_the_due_date_and_each_pm_gets_one_reminder_with_the_decide_buttons(
    slack: SlackHarness, clock: FakeClock
) -> None:
    ref = await record(slack, IN_SCOPE)
    card = slack.posted("C0REVIEW")[0]["blocks"]
    assert "*Decision due* Mon 7 Dec" in facts(card)  # two working days after a Thursday: over the weekend

    clock.advance(days=3, hours=23)  # Sunday night: nothing is due yet (Friday's summary went out)
    await slack.tick()
    assert reminders(slack) == []

    clock.advance(hours=1)  # Monday 10:30 Berlin, the due time
    await slack.tick()
    sent = reminders(slack)
    # Pat by Slack id (slack.pms), Priya by the e-mail in `pms`, looked up with users.lookupByEmail.
    assert sorted(r["channel"] for r in sent) == ["D0PMSLACK", "D0PRIYA"]
    assert [c["email"] for c in slack.fake.delivered("users.lookupByEmail")] == ["pm@acme.example"]
    for dm in sent:
        assert dm["text"] == f"⏰ {ref} is waiting for your decision: it was due Mon 7 Dec."
        assert buttons(dm["blocks"]) == ["Approve", "Decline", "Ask for details"]
        assert "*Decision due* *Mon 7 Dec, overdue*" in facts(dm["blocks"][1:])
    # The review card is updated in place: the due date is now bold and says so.
    update = slack.fake.delivered("chat.update")[-1]
    assert "*Decision due* *Mon 7 Dec, overdue*" in facts(update["blocks"])

    # Priya decides from her reminder; the card is updated and nothing more is sent, however time moves.
    await slack.click("approve_request", ref, user=PM_MAIL_ID, channel="D0PRIYA", message_ts="1700000000.000009")
    await slack.settle()
    assert (await slack.service.get_request(ref)).status is RequestStatus.APPROVED
    clock.advance(days=30)
    await slack.tick()
    assert len(reminders(slack)) == 2


async def test_a_request_decided_just_before_its_due_time_gets_no_reminder(
    slack: SlackHarness, clock: FakeClock
) -> None:
    ref = await record(slack, IN_SCOPE)
    clock.advance(days=4, seconds=-1)
    await slack.click("approve_request", ref, user=PM_ID)
    await slack.settle()
    clock.advance(seconds=1)
    await slack.tick()
    assert reminders(slack) == []
    clock.advance(days=10)
    await slack.tick()
    assert reminders(slack) == []


async def test_a_pm_away_hands_reminders_and_decisions_to_a_delegate_until_the_day_they_are_back(
    slack: SlackHarness, clock: FakeClock
) -> None:
    slack.fake.add_user(OTHER_ID, name="Lee Chen", email="lee@acme-team.example")
    await record(slack, "Can we get a dark mode?", user=OTHER_ID)  # Lee is on the team: a requester
    ref = await record(slack, IN_SCOPE)

    # Pat is away until Wednesday 9 Dec; Lee stands in.
    await slack.command("/intake", "away 2026-12-09 <@U0LEE|lee.chen>", user=PM_ID)
    await slack.settle()
    reply = slack.fake.responses[-1]["text"]
    assert reply.startswith("You are away until 2026-12-09. <@U0LEE> stands in for you on Acme Customer Portal")
    assert "`/intake back`" in reply
    told = [d for d in dms(slack) if d["channel"] == "D0LEE"]
    assert told and "Pat Morgan is away until 2026-12-09 and has asked you to stand in" in told[0]["text"]
    await slack.command("/intake", "", user=PM_ID)
    await slack.settle()
    assert slack.fake.responses[-1]["text"].startswith("You are away until 2026-12-09; <@U0LEE> stands in")

    # The reminders: Priya's to Priya, Pat's to Lee, with the buttons Lee may use for Pat.
    clock.advance(days=4)
    await slack.tick()
    to_lee = [d for d in dms(slack) if d["channel"] == "D0LEE"][-1]
    assert to_lee["text"].endswith("You are standing in for Pat Morgan, who is away.")
    assert buttons(to_lee["blocks"]) == ["Approve", "Decline", "Ask for details"]
    assert not [d for d in dms(slack) if d["channel"] == "D0PMSLACK"]

    # Lee approves; the record says on whose behalf.
    await slack.click("approve_request", ref, user=OTHER_ID, channel="D0LEE", message_ts="1700000000.000019")
    await slack.settle()
    rec = await slack.service.get_request(ref)
    assert rec.status is RequestStatus.APPROVED
    d = rec.last_decision
    assert d is not None and d.actor.user_id == OTHER_ID and d.on_behalf_of is not None
    assert d.on_behalf_of.user_id == PM_ID
    card = slack.fake.delivered("chat.update")[-1]["blocks"]
    assert "Approved by <@U0LEE>" in json.dumps(card) and "(on behalf of <@U0PMSLACK>)" in json.dumps(card)

    # Wednesday 9 Dec: Pat is back by themself; Lee no longer decides.
    clock.t = datetime(2026, 12, 8, 23, 0, 1, tzinfo=UTC)  # midnight in Berlin
    await slack.tick()
    assert any("Welcome back" in d["text"] for d in dms(slack) if d["channel"] == "D0PMSLACK")
    assert any("Pat Morgan is back" in d["text"] for d in dms(slack) if d["channel"] == "D0LEE")
    ref2 = await record(slack, "Filter the order history by status too")
    await slack.click("approve_request", ref2, user=OTHER_ID)
    await slack.settle()
    assert (await slack.service.get_request(ref2)).status is RequestStatus.IN_REVIEW


async def test_a_delegate_s_app_home_shows_the_away_pm_s_queue_with_the_decide_buttons(slack: SlackHarness) -> None:
    slack.fake.add_user(OTHER_ID, name="Lee Chen", email="lee@acme-team.example")
    await record(slack, "Can we get a dark mode?", user=OTHER_ID)  # Lee is on the team: a requester
    ref = await record(slack, IN_SCOPE)

    def home_of(user: str, n: int) -> dict[str, Any]:
        event = payload("app_home_opened.json")
        event["event"]["user"], event["event_id"] = user, f"Ev0HOMEDELEGATE{n}"
        return event

    await slack.event(home_of(OTHER_ID, 1))
    await slack.settle()
    before = slack.fake.calls_to("views.publish")[-1]["view"]["blocks"]
    assert f"queue:{ref}" not in json.dumps(before)

    await slack.command("/intake", "away 2026-12-09 <@U0LEE|lee.chen>", user=PM_ID)
    await slack.settle()
    await slack.event(home_of(OTHER_ID, 2))
    await slack.settle()
    blocks = slack.fake.calls_to("views.publish")[-1]["view"]["blocks"]
    queue = [b for b in blocks if b["type"] == "actions" and b["block_id"] == f"queue:{ref}"]
    assert queue and buttons(queue) == ["Approve", "Decline", "Ask for details"]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("away 2026-12-01 <@U0LEE|lee.chen>", "2026-12-01 is not after today (2026-12-03)"),
        ("away next-week <@U0LEE|lee.chen>", "'next-week' is not a date"),
        ("away 2026-12-20 @lee", "I cannot find @lee"),
        # escaped once for Slack, not twice: it reads as typed
        ("away 2026-12-20 <!here>&co", "I cannot find &lt;!here&gt;&amp;co."),
        ("away 2026-12-20 <@U0GONE|gone>", "I cannot find @gone"),
        ("away 2026-12-20 <@U0BOTTY|botty>", "is not on the team of Acme Customer Portal"),
        ("away 2026-12-20 <@U0NEW|new.person>", "New Person is not on the team of Acme Customer Portal"),
        ("away 2026-12-20 <@U0PMSLACK|pat>", "You cannot stand in for yourself"),
        ("away 2026-12-20", "Write `/intake away YYYY-MM-DD @someone`"),
        ("back", "You are not away, so there is nothing to end."),
    ],
)
async def test_intake_away_refuses_bad_input_with_a_clear_message_and_changes_nothing(
    slack: SlackHarness, text: str, says: str
) -> None:
    slack.fake.missing.add("U0GONE")
    slack.fake.add_user("U0BOTTY", name="Botty", is_bot=True)
    slack.fake.add_user("U0NEW", name="New Person", email="new@acme-team.example")
    await slack.command("/intake", text, user=PM_ID)
    await slack.settle()
    assert says in slack.fake.responses[-1]["text"]
    assert await slack.service.absences() == []


async def test_someone_who_is_not_a_pm_cannot_go_away(slack: SlackHarness) -> None:
    await slack.command("/intake", "away 2026-12-20 <@U0PMSLACK|pat>", user=MEMBER_ID)
    await slack.settle()
    assert "Sam Reed is not a PM of any project" in slack.fake.responses[-1]["text"]


async def test_requests_and_app_home_show_the_due_date_and_overdue(slack: SlackHarness, clock: FakeClock) -> None:
    await record(slack, IN_SCOPE)
    clock.advance(days=5)
    await slack.command("/requests", "", user=PM_ID)
    await slack.settle()
    listing = json.dumps(slack.fake.responses[-1]["blocks"], ensure_ascii=False)
    assert (
        "*ACME-1 · in review · In scope (orders) · “Customers should be able to filter the order history by date” · OVERDUE since Mon 7 Dec*"
        in listing
    )
    await slack.event(payload("app_home_opened.json"))  # Pat opens App Home
    await slack.settle()
    published = json.dumps(slack.fake.delivered("views.publish")[-1]["view"], ensure_ascii=False)
    assert "*Decision due* *Mon 7 Dec, overdue*" in published


async def test_the_daily_summary_lists_what_waits_and_what_is_overdue_with_the_buttons(
    slack: SlackHarness, clock: FakeClock
) -> None:
    old = await record(slack, IN_SCOPE)
    clock.advance(days=4)  # Monday 10:30: the first request is due, and reminded
    await slack.tick()
    new = await record(slack, "Customers want to filter the order history by status")
    clock.t = datetime(2026, 12, 8, 8, 0, tzinfo=UTC)  # Tuesday 09:00 in Berlin: summary time
    await slack.tick()
    summaries = dms(slack, starting="Your daily summary: Acme Customer Portal")
    assert sorted(s["channel"] for s in summaries) == ["D0PMSLACK", "D0PRIYA"]
    blocks = summaries[0]["blocks"]
    text = json.dumps(blocks, ensure_ascii=False)
    assert text.index("*Overdue (1)*") < text.index(old) < text.index("*Waiting for your decision (1)*")
    assert text.index("*Waiting for your decision (1)*") < text.index(new)
    assert "*Decision due* *Mon 7 Dec, overdue*" in text and "*Decision due* Wed 9 Dec" in text
    assert buttons(blocks) == ["Approve", "Decline", "Ask for details"] * 2


async def test_after_a_letter_the_pm_is_asked_whether_the_client_replied_and_records_it(
    slack: SlackHarness, clock: FakeClock
) -> None:
    ref = await record(slack, "Please build native iOS and Android apps for the portal")
    await slack.click("decline_request", ref, user=PM_ID)
    await slack.settle()
    await slack.submit(slack.opened_view(), user=PM_ID)
    await slack.settle()
    await slack.service.mark_letter_sent(ref, actor=(await slack.ctx.actor(PM_ID)), via="manual")
    await slack.settle()
    rec = await slack.service.get_request(ref)
    assert rec.due_at == datetime(2026, 12, 10, 9, 30, tzinfo=UTC)  # five working days after Thursday

    clock.t = datetime(2026, 12, 10, 9, 30, tzinfo=UTC)
    await slack.tick()
    [asked] = dms(slack, starting="Did the client reply")
    assert asked["channel"] == "D0PMSLACK"  # the PM who declined
    assert asked["text"] == f"Did the client reply about {ref}? Record the outcome."
    assert buttons(asked["blocks"]) == ["Record the outcome"]

    await slack.click("record_outcome", ref, user=PM_ID, channel="D0PMSLACK", message_ts="1700000000.000031")
    await slack.settle()
    form = slack.opened_view()
    assert form["title"]["text"] == f"Outcome {ref}"
    from tests.support.slack_harness import text_value

    await slack.submit(form, user=PM_ID, values={"outcome": text_value("They accept phase 2 in March.")})
    await slack.settle()
    rec = await slack.service.get_request(ref)
    assert rec.last_event("outcome_recorded") is not None and rec.due_at is None
    clock.advance(days=20)
    await slack.tick()
    assert len(dms(slack, starting="Did the client reply")) == 1


async def test_a_pm_listed_by_e_mail_and_by_slack_id_is_reminded_once(slack: SlackHarness, clock: FakeClock) -> None:
    from bot.projectfile import load_project_text
    from tests.support.slack_harness import SLACK_PROJECT_YAML

    both = SLACK_PROJECT_YAML.replace("pms: [U0PMSLACK]", "pms: [U0PMSLACK, U0PRIYA]")
    await slack.service.load_project(load_project_text(both, "acme.yaml"))
    await record(slack, IN_SCOPE)
    clock.t = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)  # Friday 09:00 in Berlin: the summary
    await slack.tick()
    assert sorted(s["channel"] for s in dms(slack, starting="Your daily summary")) == ["D0PMSLACK", "D0PRIYA"]
    clock.t = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)  # Monday: the reminder
    await slack.tick()
    assert sorted(r["channel"] for r in reminders(slack)) == ["D0PMSLACK", "D0PRIYA"]


async def test_a_question_is_reminded_expires_and_the_requesters_answer_reopens_it(
    slack: SlackHarness, clock: FakeClock
) -> None:
    from tests.support.slack_harness import text_value

    ref = await record(slack, IN_SCOPE)
    await slack.click("ask_details", ref, user=PM_ID)
    await slack.settle()
    await slack.submit(slack.opened_view(), user=PM_ID, values={"question": text_value("By which date?")})
    await slack.settle()
    assert (await slack.service.get_request(ref)).status is RequestStatus.NEEDS_INFO

    clock.t = datetime(2026, 12, 10, 9, 30, tzinfo=UTC)  # five working days: half-way
    await slack.tick()
    [reminded] = dms(slack, starting="Pat Morgan is still waiting for your answer about ACME-1.")
    assert reminded["channel"] == "D0SAM"  # the requester's DM: /request was a command, not a message
    assert "By which date?" in json.dumps(reminded["blocks"]) and buttons(reminded["blocks"]) == ["Answer"]

    clock.t = datetime(2026, 12, 17, 9, 30, tzinfo=UTC)  # ten working days: expired
    await slack.tick()
    rec = await slack.service.get_request(ref)
    assert rec.status is RequestStatus.EXPIRED
    to_sam = [d for d in dms(slack) if d["channel"] == "D0SAM" and "has expired" in d["text"]]
    assert len(to_sam) == 1 and buttons(to_sam[0]["blocks"]) == ["Answer"]
    to_pms = [d for d in dms(slack) if d["channel"] in ("D0PMSLACK", "D0PRIYA") and "has expired" in d["text"]]
    assert sorted(d["channel"] for d in to_pms) == ["D0PMSLACK", "D0PRIYA"]
    card = slack.fake.delivered("chat.update")[-1]["blocks"]
    assert "Expired at 2026-12-17 10:30 CET" in json.dumps(card)

    await slack.click("answer_question", ref, user=MEMBER_ID, channel="D0SAM", message_ts="1700000000.000041")
    await slack.settle()
    await slack.submit(slack.opened_view(), user=MEMBER_ID, values={"answer": text_value("By March.")})
    await slack.settle()
    rec = await slack.service.get_request(ref)
    assert rec.status is RequestStatus.IN_REVIEW and rec.due_at == datetime(2026, 12, 21, 9, 30, tzinfo=UTC)
