"""Teams at the HTTP level: what /api/messages answers to malformed, duplicate and unauthenticated
input, and how delivery copes with a connector that fails or a review channel the bot is not in yet."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from tests.support.teams import (
    INTAKE_CHANNEL,
    MEMBER,
    PM,
    REVIEW_CHANNEL,
    Harness,
    load_payload,
    running,
)


@pytest.fixture
async def teams(sqlite_url: str) -> AsyncIterator[Harness]:
    async with running(sqlite_url) as h:
        yield h


async def test_wrong_content_type_is_415(teams: Harness) -> None:
    resp = await teams.client.post("/api/messages", data="type=message", headers={"Content-Type": "text/plain"})
    assert resp.status == 415
    assert "application/json" in (await resp.json())["error"]


async def test_malformed_json_is_400(teams: Harness) -> None:
    resp = await teams.client.post("/api/messages", data=b'{"type": "message",', headers={"Content-Type": "application/json"})
    assert resp.status == 400
    assert "not valid JSON" in (await resp.json())["error"]


@pytest.mark.parametrize("body", [{}, {"type": ""}, {"type": 7}, [], "message"])
async def test_an_activity_without_a_type_is_400(teams: Harness, body: object) -> None:
    resp = await teams.client.post("/api/messages", data=json.dumps(body), headers={"Content-Type": "application/json"})
    assert resp.status == 400
    assert "type" in (await resp.json())["error"]


async def test_an_activity_without_a_conversation_is_400(teams: Harness) -> None:
    payload = load_payload("message_personal", teams.connector.url)
    del payload["conversation"]
    resp = await teams.send(payload)
    assert resp.status == 400


async def test_a_request_in_an_intake_channel_is_recorded_and_its_card_posted_to_review(teams: Harness) -> None:
    await teams.add_to_channel(REVIEW_CHANNEL)
    resp = await teams.say_in_channel(MEMBER, "request We need a native iOS app for the portal")
    assert resp.status == 200
    receipt = teams.connector.posts(INTAKE_CHANNEL)[-1]
    assert receipt.text.startswith("Recorded ACME-1: out of scope (mobile)")
    card = await teams.connector.wait_for(lambda: [c for c in teams.connector.posts(REVIEW_CHANNEL) if c.card])
    assert card[0].path.endswith("/activities")  # a new post at the channel's top level, not a reply
    rec = await teams.service.get_request("ACME-1")
    assert rec.requester.user_id == MEMBER["id"] and rec.requester.email == "sam@acme-team.example"
    assert rec.source is not None and rec.source.channel == INTAKE_CHANNEL and rec.source.thread


async def test_a_retried_activity_is_processed_once(teams: Harness) -> None:
    payload = load_payload("message_channel_mention", teams.connector.url, id="1762162299999")
    first = await teams.send(payload)
    again = await teams.send(payload)
    assert (first.status, again.status) == (200, 200)
    recs = await teams.service.list_requests(project="acme-portal")
    assert [r.ref for r in recs] == ["ACME-1"]
    assert len([c for c in teams.connector.posts(INTAKE_CHANNEL) if c.text.startswith("Recorded")]) == 1


async def test_connector_failures_are_retried_through_the_outbox(teams: Harness) -> None:
    await teams.add_to_channel(REVIEW_CHANNEL)
    teams.connector.fail_next(503)
    teams.connector.fail_next(429, **{"Retry-After": "0.1"})
    await teams.say_in_channel(MEMBER, "request Please add a live chat with our service team")
    cards = await teams.connector.wait_for(lambda: [c for c in teams.connector.posts(REVIEW_CHANNEL) if c.card])
    assert len(cards) == 1
    assert teams.connector.failures == []


async def test_a_review_card_waits_for_the_bot_to_join_the_review_channel(teams: Harness) -> None:
    await teams.say_in_channel(MEMBER, "request Please add a live chat with our service team")
    told = await teams.connector.wait_for(
        lambda: [c for c in teams.connector.posts(INTAKE_CHANNEL) if "add me to that channel" in c.text]
    )
    await teams.say_in_channel(MEMBER, "request Can we pay by credit card?")
    await teams.connector.wait_for(
        lambda: len([c for c in teams.connector.posts(INTAKE_CHANNEL) if "add me to that channel" in c.text]) == 2
    )
    assert told[0].conversation_id.startswith(INTAKE_CHANNEL + ";messageid=")  # in the request's thread
    assert not teams.connector.posts(REVIEW_CHANNEL)
    await teams.add_to_channel(REVIEW_CHANNEL)
    cards = await teams.connector.wait_for(
        lambda: len([c for c in teams.connector.posts(REVIEW_CHANNEL) if c.card]) == 2
        and [c for c in teams.connector.posts(REVIEW_CHANNEL) if c.card]
    )
    assert [c.card["body"][0]["text"] for c in cards] == ["Client request ACME-1", "Client request ACME-2"]
    # Each requester was told once, however many times the card was retried.
    assert len([c for c in teams.connector.posts(INTAKE_CHANNEL) if "add me to that channel" in c.text]) == 2


async def test_welcome_in_personal_chat_once(teams: Harness) -> None:
    await teams.install_personal(PM)
    payload = load_payload("installation_update_personal", teams.connector.url, id="f:another-id")
    payload["type"] = "conversationUpdate"
    payload.pop("action")
    payload["membersAdded"] = [{"id": "28:intake-bot"}]
    await teams.send(payload)
    welcomes = [c for c in teams.connector.posts("a:personal-pm-pat") if c.text.startswith("Hello! I'm intake-bot")]
    assert len(welcomes) == 1
    assert "request TEXT" in welcomes[0].text
