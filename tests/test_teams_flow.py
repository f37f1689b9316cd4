"""The whole Teams flow over real HTTP: a request in a channel, the review card, a PM's decline through
the card form (with an input error first), the card updated for everyone, the letter in the PM's
private chat with its .eml download, and the letter marked sent."""

from __future__ import annotations

import email
from collections.abc import AsyncIterator
from email import policy
from typing import Any

import pytest

from bot.domain import RequestStatus
from tests.support.teams import (
    INTAKE_CHANNEL,
    MEMBER,
    PM,
    REVIEW_CHANNEL,
    Call,
    Harness,
    running,
)


@pytest.fixture
async def teams(db_url: str) -> AsyncIterator[Harness]:
    """The whole flow runs on SQLite and on PostgreSQL."""
    async with running(db_url) as h:
        yield h


def invoke_card(body: dict[str, Any]) -> dict[str, Any]:
    assert body["statusCode"] == 200 and body["type"] == "application/vnd.microsoft.card.adaptive", body
    card: dict[str, Any] = body["value"]
    return card


def action_titles(card: dict[str, Any]) -> list[str]:
    return [a["title"] for a in card.get("actions", [])]


def all_text(card: dict[str, Any]) -> str:
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k in ("text", "value", "title") and isinstance(v, str):
                    out.append(v)
                else:
                    walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(card)
    return "\n".join(out)


async def test_request_review_decline_letter_and_mark_sent(teams: Harness) -> None:
    # The bot is installed: by the PM personally, and in the team's review channel.
    await teams.install_personal(PM)
    await teams.add_to_channel(REVIEW_CHANNEL)

    # A team member records a request in the intake channel, @mentioning the bot.
    await teams.say_in_channel(MEMBER, "request We need a native iOS app for the portal")
    receipt = teams.connector.posts(INTAKE_CHANNEL)[-1]
    assert receipt.text == (
        "Recorded ACME-1: out of scope (mobile): “Native iOS and Android apps”. The PMs will review it."
    )

    # The review card arrives in the review channel, with the three buttons.
    posted: list[Call] = await teams.connector.wait_for(
        lambda: [c for c in teams.connector.posts(REVIEW_CHANNEL) if c.card]
    )
    review = posted[0]
    assert review.card is not None
    assert action_titles(review.card) == ["Approve", "Decline", "Ask for details", "Correct the verdict", "Withdraw"]
    assert [a.get("mode") for a in review.card["actions"]][3:] == ["secondary", "secondary"]  # in the "…" menu
    assert "Sam Reed" in all_text(review.card) and "We need a native iOS app" in all_text(review.card)
    assert "“Native iOS and Android apps”" in all_text(review.card)

    # The PM clicks Decline: the decline form replaces the card for them, pre-filled.
    resp = await teams.click(PM, review, {"intake": "decline", "ref": "ACME-1"})
    assert resp.status == 200
    form = invoke_card(await resp.json())
    inputs = {b["id"]: b for b in form["body"] if b["type"].startswith("Input.")}
    assert inputs["reason_category"]["value"] == "project_goals"
    assert inputs["reason_text"]["value"]

    # An empty reason is shown back on the form, not swallowed.
    resp = await teams.click(
        PM,
        review,
        {"intake": "decline_submit", "ref": "ACME-1", "reason_category": "project_goals", "reason_text": "  "},
    )
    form = invoke_card(await resp.json())
    assert "the client deserves a clear one" in all_text(form)
    assert (await teams.service.get_request("ACME-1")).status is RequestStatus.IN_REVIEW

    # The PM submits the form properly: the card comes back decided, without buttons.
    resp = await teams.click(
        PM,
        review,
        {
            "intake": "decline_submit",
            "ref": "ACME-1",
            "reason_category": "project_goals",
            "reason_text": "Native apps are outside the agreed scope of the portal.",
            "alternatives": "change_request,revisit_later",
            "alt_detail_change_request": "about 20 person-days",
            "empathy": "We understand why an app appeals to your buyers.",
            "language": "en",
        },
    )
    decided = invoke_card(await resp.json())
    assert [a["title"] for a in decided.get("actions", []) if a.get("mode") != "secondary"] == []
    assert "answering the client by email" in all_text(decided)

    # Everyone's card is updated in place (PUT on the posted card), buttons removed.
    updates: list[Call] = await teams.connector.wait_for(teams.connector.updates)
    assert updates[0].conversation_id == REVIEW_CHANNEL and updates[0].activity_id == review.posted_id
    assert updates[0].card is not None
    assert [a["title"] for a in updates[0].card.get("actions", [])] == ["Correct the verdict"]
    assert "answering the client by email" in all_text(updates[0].card)

    # The letter goes to the PM's personal chat only.
    letters: list[Call] = await teams.connector.wait_for(
        lambda: [
            c
            for c in teams.connector.posts("a:personal-pm-pat")
            if c.card and "Letter to the client" in all_text(c.card)
        ]
    )
    letter = letters[0].card
    assert letter is not None
    rec = await teams.service.get_request("ACME-1")
    assert rec.letter is not None
    assert rec.letter.subject in all_text(letter)
    assert "Tone check" in all_text(letter)
    assert action_titles(letter) == ["Edit", "Download .eml", "Mark as sent"]
    first_paragraph = rec.letter.body_text.strip().split("\n\n")[1]
    for call in teams.connector.calls:
        if call.conversation_id and not call.conversation_id.startswith("a:personal-pm-pat"):
            assert first_paragraph not in str(call.body), f"the letter leaked into {call.conversation_id}"

    # The requester hears, in their thread, that the client is being answered by email.
    told = await teams.connector.wait_for(
        lambda: [c for c in teams.connector.posts(INTAKE_CHANNEL) if "will answer the client by email" in c.text]
    )
    assert told[0].conversation_id.startswith(INTAKE_CHANNEL + ";messageid=")

    # Download .eml: the signed link serves the letter as the message e-mail would send.
    url = next(a["url"] for a in letter["actions"] if a["title"] == "Download .eml")
    path = url[len(str(teams.client.make_url("")).rstrip("/")) :]
    resp = await teams.client.get(path)
    assert resp.status == 200 and resp.content_type == "message/rfc822"
    msg = email.message_from_bytes(await resp.read(), policy=policy.default)
    assert msg["Subject"] == rec.letter.subject
    assert msg["To"] == "Jane Doe <jane.doe@acme.example>"
    assert msg["X-Intake-Request"] == "ACME-1" and msg["Message-ID"].startswith("<acme-1.draft.")
    assert first_paragraph.split()[0] in msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    forged = await teams.client.get(path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB"))
    assert forged.status == 403

    # The PM edits the letter from the card, then marks it sent.
    resp = await teams.click(PM, letters[0], {"intake": "letter_edit", "ref": "ACME-1"})
    edit_form = invoke_card(await resp.json())
    body_input = next(b for b in edit_form["body"] if b.get("id") == "body")
    new_body = body_input["value"].replace("Kind regards", "Warm regards")
    resp = await teams.click(
        PM, letters[0], {"intake": "letter_edit_submit", "ref": "ACME-1", "subject": rec.letter.subject, "body": ""}
    )
    assert "The letter cannot be empty." in all_text(invoke_card(await resp.json()))
    resp = await teams.click(
        PM,
        letters[0],
        {"intake": "letter_edit_submit", "ref": "ACME-1", "subject": rec.letter.subject, "body": new_body},
    )
    assert "edited" in all_text(invoke_card(await resp.json()))
    resp = await teams.click(PM, letters[0], {"intake": "letter_sent", "ref": "ACME-1"})
    sent = invoke_card(await resp.json())
    assert "Recorded: the client has been answered." in all_text(sent)
    assert "Mark as sent" not in action_titles(sent)
    rec = await teams.service.get_request("ACME-1")
    assert rec.status is RequestStatus.LETTER_SENT
    kinds = [e.kind for e in rec.events]
    assert "letter_edited" in kinds and kinds[-1] == "letter_sent"
    final = await teams.connector.wait_for(
        lambda: [
            u
            for u in teams.connector.updates()
            if u.card and "the client has been answered by email" in all_text(u.card)
        ]
    )
    assert final[-1].activity_id == review.posted_id
