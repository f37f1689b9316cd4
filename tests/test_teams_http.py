"""Teams at the HTTP level: what /api/messages answers to malformed, duplicate and unauthenticated
input, and how delivery copes with a connector that fails or a review channel the bot is not in yet."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest

from adapters.web.app import DISPATCHER
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
    resp = await teams.client.post(
        "/api/messages", data=b'{"type": "message",', headers={"Content-Type": "application/json"}
    )
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
    teams.connector.fail_next(503, conversation=REVIEW_CHANNEL)
    teams.connector.fail_next(429, conversation=REVIEW_CHANNEL, **{"Retry-After": "0.1"})
    await teams.say_in_channel(MEMBER, "request Please add a live chat with our service team")
    cards = await teams.connector.wait_for(lambda: [c for c in teams.connector.posts(REVIEW_CHANNEL) if c.card])
    assert len(cards) == 1
    assert teams.connector.failures == []
    assert teams.app[DISPATCHER].stats.retried == 2


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
        lambda: (
            len([c for c in teams.connector.posts(REVIEW_CHANNEL) if c.card]) == 2
            and [c for c in teams.connector.posts(REVIEW_CHANNEL) if c.card]
        )
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


async def test_a_retried_invoke_is_processed_once(teams: Harness) -> None:
    await teams.add_to_channel(REVIEW_CHANNEL)
    await teams.say_in_channel(MEMBER, "request Can the order history export to PDF?")
    card = (await teams.connector.wait_for(lambda: [c for c in teams.connector.posts(REVIEW_CHANNEL) if c.card]))[0]
    payload = load_payload(
        "invoke_adaptive_card_action", teams.connector.url, id="f:retried-click", replyToId=card.posted_id
    )
    payload["from"] = PM
    payload["conversation"]["id"] = f"{REVIEW_CHANNEL};messageid={card.posted_id}"
    first = await teams.send(payload)
    again = await teams.send(payload)
    assert (first.status, again.status) == (200, 200)
    assert (await first.json())["type"] == "application/vnd.microsoft.card.adaptive"
    rec = await teams.service.get_request("ACME-1")
    assert [d.kind.value for d in rec.decisions] == ["approve"]
    assert not [e for e in rec.events if e.kind == "denied"]


async def test_a_refused_post_is_not_retried(teams: Harness) -> None:
    await teams.add_to_channel(REVIEW_CHANNEL)
    teams.connector.fail_next(403, conversation=REVIEW_CHANNEL)
    await teams.say_in_channel(MEMBER, "request Can the order history export to PDF?")

    async def failed_rows() -> list[str]:
        import sqlalchemy as sa

        async with teams.service.store.session() as s:
            rows = (await s.exec(sa.text("SELECT status FROM outbox WHERE kind = 'review_card'"))).all()  # type: ignore[call-overload]
        return [r[0] for r in rows]

    for _ in range(100):
        if await failed_rows() == ["failed"]:
            break
        await asyncio.sleep(0.02)
    assert await failed_rows() == ["failed"]
    assert not [c for c in teams.connector.posts(REVIEW_CHANNEL) if c.card]


async def test_without_a_linked_channel_the_bot_asks_which_project(sqlite_url: str) -> None:
    from tests.conftest import PROJECT_YAML
    from tests.support.teams import TEAMS_PROJECT_YAML

    async with running(sqlite_url) as teams:
        other = PROJECT_YAML.replace("project: acme-portal", "project: acme-intranet").replace(
            "name: Acme Customer Portal", "name: Acme Intranet"
        )
        from bot.projectfile import load_project_text

        await teams.service.load_project(load_project_text(other + "ref_prefix: INTRA\n", "intranet.yaml"))
        await teams.say_personal(MEMBER, "request Can we pay by credit card?")
        asked = teams.connector.posts("a:personal-member-sam")[-1].text
        assert asked.startswith("Which project is this for?") and "@acme-intranet" in asked
        await teams.say_personal(MEMBER, "request @acme-intranet Can we pay by credit card?")
        assert teams.connector.posts("a:personal-member-sam")[-1].text.startswith("Recorded INTRA-1")
        # In a channel linked to a project, no question is needed.
        await teams.say_in_channel(MEMBER, "request Can we pay by credit card?")
        assert teams.connector.posts(INTAKE_CHANNEL)[-1].text.startswith("Recorded ACME-1")
        assert TEAMS_PROJECT_YAML


async def test_adding_the_bot_to_the_team_makes_every_channel_reachable(teams: Harness) -> None:
    """Teams only announces the team (its General channel); the bot lists the channels itself."""
    from tests.support.teams import TEAM

    assert (await teams.add_to_team()).status == 200
    assert [c.path for c in teams.connector.calls if c.method == "GET" and "/teams/" in c.path] == [
        f"/v3/teams/{TEAM}/conversations"
    ]
    await teams.say_personal(MEMBER, "request Can we pay by credit card?")
    cards = await teams.connector.wait_for(lambda: [c for c in teams.connector.posts(REVIEW_CHANNEL) if c.card])
    assert cards[0].conversation_id == REVIEW_CHANNEL
