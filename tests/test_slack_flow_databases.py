"""The whole Slack flow on each database (SQLite and PostgreSQL): record, ask, answer, decline, mark sent."""

from __future__ import annotations

import json

from bot.domain import RequestStatus
from tests.support.clock import FakeClock
from tests.support.slack_harness import MEMBER_ID, OTHER_ID, PM_ID, payload, running_slack, text_value


async def test_whole_flow(db_url: str, clock: FakeClock) -> None:
    async with running_slack(db_url, clock) as slack:
        await slack.command("/request", "Please build native iOS and Android apps for the portal", user=MEMBER_ID)
        await slack.settle()
        await slack.click("approve_request", "ACME-1", user=OTHER_ID)  # refused and recorded
        await slack.click("ask_details", "ACME-1", user=PM_ID)
        await slack.settle()
        await slack.submit(slack.opened_view(), user=PM_ID, values={"question": text_value("Which devices?")})
        await slack.settle()
        await slack.click("answer_question", "ACME-1", user=MEMBER_ID, channel="D0SAM")
        await slack.settle()
        await slack.submit(slack.opened_view(), user=MEMBER_ID, values={"answer": text_value("iPads")})
        await slack.settle()
        await slack.click("decline_request", "ACME-1", user=PM_ID)
        await slack.settle()
        await slack.submit(slack.opened_view(), user=PM_ID)
        await slack.settle()
        await slack.click("letter_mark_sent", "ACME-1", user=PM_ID, channel="D0PMSLACK", message_ts=slack.fake.ts(9))
        event = payload("app_home_opened.json")
        await slack.event(event)
        await slack.event(event, retry=1)
        await slack.settle()

        rec = await slack.service.get_request("ACME-1")
        assert rec.status is RequestStatus.LETTER_SENT
        assert [e.kind for e in rec.events] == [
            "submitted",
            "scope_checked",
            "denied",
            "asked",
            "answered",
            "declined",
            "letter_drafted",
            "letter_sent",
        ]
        card = [u for u in slack.fake.calls_to("chat.update") if u["channel"] == "C0REVIEW"][-1]
        assert "the client has been answered by email" in json.dumps(card["blocks"], ensure_ascii=False)
        assert len(slack.fake.calls_to("views.publish")) == 1
