"""Step 1: `/request` through the real route: ack, ephemeral receipt, review card in the review channel."""

from __future__ import annotations

from tests.support.slack_harness import MEMBER_ID, SlackHarness

IOS = "Please build native iOS and Android apps for the portal"


async def test_request_command_acks_at_once_then_sends_receipt_and_review_card(slack: SlackHarness) -> None:
    resp = await slack.command("/request", IOS)
    assert resp.status == 200
    await slack.settle()
    receipt = slack.fake.responses[-1]
    assert receipt["response_type"] == "ephemeral"
    assert receipt["text"].startswith("Recorded ACME-1: out of scope (mobile)")
    cards = slack.posted("C0REVIEW")
    assert len(cards) == 1
    print(slack.fake.methods())
    print(cards[0])
