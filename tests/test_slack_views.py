"""Step 7: `/scope`, `/requests` and App Home; Events API retries are handled once."""

from __future__ import annotations

import json
from typing import Any

import pytest

from adapters.slack import handlers
from tests.support.slack_harness import MEMBER_ID, OTHER_ID, PM_ID, SlackHarness, payload

IOS = "Please build native iOS and Android apps for the portal"
IN_SCOPE = "Customers should be able to filter the order history by date"


async def test_scope_is_shown_to_the_asker_only(slack: SlackHarness) -> None:
    resp = await slack.command("/scope", "", user=OTHER_ID)
    assert resp.status == 200
    await slack.settle()
    answer = slack.fake.responses[-1]
    assert answer["response_type"] == "ephemeral"
    text = json.dumps(answer["blocks"], ensure_ascii=False)
    for part in ("Goals", "In scope", "Not in scope", "Milestones", "Native iOS and Android apps", "2027-03-31"):
        assert part in text
    assert slack.posted() == []


async def test_requests_lists_the_open_ones(slack: SlackHarness) -> None:
    await slack.command("/request", IOS)
    await slack.settle()  # numbered in the order they were recorded
    await slack.command("/request", IN_SCOPE)
    await slack.settle()
    await slack.click("approve_request", "ACME-2", user=PM_ID)
    await slack.settle()
    await slack.command("/requests", "")
    await slack.settle()
    text = json.dumps(slack.fake.responses[-1]["blocks"], ensure_ascii=False)
    assert "ACME-1" in text and "ACME-2" not in text


async def test_app_home_shows_a_pm_the_queue_with_buttons_and_everyone_their_own(slack: SlackHarness) -> None:
    await slack.command("/request", IOS, user=MEMBER_ID)
    await slack.settle()  # numbered in the order they were recorded
    await slack.command("/request", IN_SCOPE, user=OTHER_ID)
    await slack.settle()
    resp = await slack.event(payload("app_home_opened.json"))
    assert resp.status == 200
    await slack.settle()
    home = slack.fake.calls_to("views.publish")[-1]
    assert home["user_id"] == PM_ID and home["view"]["type"] == "home"
    blocks = home["view"]["blocks"]
    actions = [b for b in blocks if b["type"] == "actions"]
    assert [b["block_id"] for b in actions] == ["queue:ACME-1", "queue:ACME-2"]
    assert [e["text"]["text"] for e in actions[0]["elements"] if e["type"] == "button"] == [
        "Approve",
        "Decline",
        "Ask for details",
    ]

    event = payload("app_home_opened.json")
    event["event"]["user"] = MEMBER_ID
    event["event_id"] = "Ev0HOME0002"
    await slack.event(event)
    await slack.settle()
    mine = slack.fake.calls_to("views.publish")[-1]
    assert mine["user_id"] == MEMBER_ID
    text = json.dumps(mine["view"]["blocks"], ensure_ascii=False)
    assert "Your requests (1)" in text and "ACME-1" in text and "ACME-2" not in text
    # The requester decides nothing; they may withdraw their own open request.
    actions = [b for b in mine["view"]["blocks"] if b["type"] == "actions"]
    assert [b["block_id"] for b in actions] == ["mine:ACME-1"]
    assert [e["type"] for e in actions[0]["elements"]] == ["overflow"]
    assert [o["value"] for o in actions[0]["elements"][0]["options"]] == ["withdraw:ACME-1"]


async def test_event_retries_are_handled_once(slack: SlackHarness) -> None:
    event = payload("app_home_opened.json")
    for retry in (None, 1, 2):
        resp = await slack.event(event, retry=retry)
        assert resp.status == 200
    await slack.settle()
    assert len(slack.fake.calls_to("views.publish")) == 1


async def test_the_messages_tab_does_not_publish_home(slack: SlackHarness) -> None:
    event = payload("app_home_opened.json")
    event["event"]["tab"] = "messages"
    await slack.event(event)
    await slack.settle()
    assert slack.fake.calls_to("views.publish") == []


async def test_url_verification_is_answered(slack: SlackHarness) -> None:
    resp = await slack.event(
        {"type": "url_verification", "token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}
    )
    assert resp.status == 200
    assert (await resp.json())["challenge"].startswith("3eZbrw")


async def test_app_home_is_read_without_taking_the_write_lock(
    slack: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """However many projects there are, App Home reads in one transaction that only reads: it never
    queues behind writers nor holds one up."""
    await slack.command("/request", IN_SCOPE, user=MEMBER_ID)
    await slack.settle()
    writes: list[int] = []
    reads: list[int] = []
    monkeypatch.setattr(slack.store, "transaction", _counting(slack.store.transaction, writes))
    monkeypatch.setattr(slack.store, "reading", _counting(slack.store.reading, reads))
    await slack.event(payload("app_home_opened.json"))
    await slack.settle()
    assert "queue:ACME-1" in json.dumps(slack.fake.calls_to("views.publish")[-1]["view"]["blocks"])
    assert writes == [] and len(reads) == 1


async def test_requests_is_read_in_transactions_that_only_read(
    slack: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await slack.command("/request", IN_SCOPE, user=MEMBER_ID)
    await slack.settle()
    writes: list[int] = []
    reads: list[int] = []
    monkeypatch.setattr(slack.store, "transaction", _counting(slack.store.transaction, writes))
    monkeypatch.setattr(slack.store, "reading", _counting(slack.store.reading, reads))
    await slack.command("/requests", "", user=MEMBER_ID, channel="C0ELSEWHERE")
    await slack.settle()
    assert "ACME-1" in json.dumps(slack.fake.responses[-1]["blocks"])
    assert writes == [] and len(reads) == 2  # which project, then what it lists


def _counting(open_transaction: Any, opened: list[int]) -> Any:
    def counted() -> Any:
        opened.append(1)
        return open_transaction()

    return counted


async def test_lists_read_only_what_they_show_and_count_the_rest(
    slack: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(handlers, "HOME_QUEUE", 2)
    monkeypatch.setattr(handlers, "HOME_MINE", 2)
    monkeypatch.setattr(handlers, "LIST_SHOWN", 3)
    for i in range(5):
        await slack.command("/request", f"{IN_SCOPE}, change {i}", user=MEMBER_ID)
        await slack.settle()
    await slack.command("/requests", "")
    await slack.settle()
    text = json.dumps(slack.fake.responses[-1]["blocks"], ensure_ascii=False)
    assert [ref in text for ref in ("ACME-1", "ACME-2", "ACME-3", "ACME-4", "ACME-5")] == [True] * 3 + [False] * 2
    assert "and 2 more" in text

    await slack.event(payload("app_home_opened.json"))
    await slack.settle()
    blocks = slack.fake.calls_to("views.publish")[-1]["view"]["blocks"]
    assert [b["block_id"] for b in blocks if b["type"] == "actions"] == ["queue:ACME-1", "queue:ACME-2"]
    assert "Showing 2 of 5" in json.dumps(blocks)

    event = payload("app_home_opened.json")
    event["event"]["user"] = MEMBER_ID
    event["event_id"] = "Ev0HOME0003"
    await slack.event(event)
    await slack.settle()
    blocks = slack.fake.calls_to("views.publish")[-1]["view"]["blocks"]
    assert [b["block_id"] for b in blocks if b["type"] == "actions"] == ["mine:ACME-5", "mine:ACME-4"]
    assert "Your requests (5)" in json.dumps(blocks) and "Showing 2 of 5" in json.dumps(blocks)
