"""Sending the letter by e-mail from Teams, over real HTTP: the PM's letter card, the confirmation card
with the recipients, a real SMTP server on loopback receiving the message through the outbox, the
outcome back in the PM's chat, and the .eml download being that same message."""

from __future__ import annotations

import asyncio
import email
from collections.abc import AsyncIterator, Callable, Iterator
from email import policy
from email.message import EmailMessage
from typing import Any, cast

import pytest

from adapters.teams.download import sign_token
from bot.domain import Actor, Language, RequestStatus
from bot.text import t
from tests.support.smtp import SmtpServer
from tests.support.teams import (
    MEMBER,
    PM,
    REVIEW_CHANNEL,
    Call,
    Harness,
    personal_conversation,
    running,
)

MAIL_FROM = "Acme Projects <projects@acme.example>"
PM_CHAT = personal_conversation(PM)
MESSAGE_TYPE = "application/vnd.microsoft.activity.message"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def teams(db_url: str, smtp: SmtpServer) -> AsyncIterator[Harness]:
    """Teams and e-mail on, on SQLite and PostgreSQL."""
    async with running(db_url, smtp_url=smtp.url, mail_from=MAIL_FROM) as h:
        yield h


# --- reading cards -----------------------------------------------------------------------------


def invoke_card(body: dict[str, Any]) -> dict[str, Any]:
    assert body["statusCode"] == 200 and body["type"] == "application/vnd.microsoft.card.adaptive", body
    return cast(dict[str, Any], body["value"])


def invoke_text(body: dict[str, Any]) -> str:
    assert body["statusCode"] == 200 and body["type"] == MESSAGE_TYPE, body
    return str(body["value"])


def titles(card: dict[str, Any]) -> list[str]:
    return [a["title"] for a in card.get("actions", [])]


def button(card: dict[str, Any], title: str) -> dict[str, Any]:
    """The data a click on the button sends (what Teams merges the card's inputs into)."""
    found = [a for a in card.get("actions", []) if a["title"] == title]
    assert found, f"no {title!r} button; the card has {titles(card)}"
    return dict(found[0]["data"])


def facts(card: dict[str, Any]) -> dict[str, str]:
    """The card's labelled values ("To: …"): rich text lines whose first run is a bold "Label: "."""
    out: dict[str, str] = {}
    for b in card["body"]:
        for row in b.get("items", []) if b["type"] == "Container" else []:
            runs = row.get("inlines") or []
            if row["type"] == "RichTextBlock" and len(runs) == 2 and runs[0].get("weight") == "bolder":
                out[runs[0]["text"].removesuffix(": ")] = runs[1]["text"]
    return out


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


def pm_cards(teams: Harness, predicate: Callable[[dict[str, Any]], bool]) -> list[Call]:
    return [c for c in teams.connector.posts(PM_CHAT) if c.card and predicate(c.card)]


def pm_updates(teams: Harness, predicate: Callable[[dict[str, Any]], bool]) -> list[Call]:
    return [u for u in teams.connector.updates() if u.conversation_id == PM_CHAT and u.card and predicate(u.card)]


async def until(predicate: Callable[[], Any], within: float = 10.0) -> Any:
    deadline = asyncio.get_running_loop().time() + within
    while not (value := predicate()):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.02)
    return value


async def download(teams: Harness, card: dict[str, Any]) -> Any:
    url = next(a["url"] for a in card["actions"] if a["title"] == "Download .eml")
    return await teams.client.get(url[len(str(teams.client.make_url("")).rstrip("/")) :])


# --- getting to the letter ---------------------------------------------------------------------


async def drafted_letter(teams: Harness) -> Call:
    """A member's request, declined by the PM on the review card: the letter card in the PM's chat."""
    await teams.install_personal(PM)
    await teams.add_to_channel(REVIEW_CHANNEL)
    await teams.say_in_channel(MEMBER, "request We need a native iOS app for the portal")
    review = (await teams.connector.wait_for(lambda: [c for c in teams.connector.posts(REVIEW_CHANNEL) if c.card]))[0]
    resp = await teams.click(
        PM,
        review,
        {
            "intake": "decline_submit",
            "ref": "ACME-1",
            "reason_category": "project_goals",
            "reason_text": "Native apps are outside the agreed scope of the portal.",
            "alternatives": "change_request",
            "alt_detail_change_request": "about 20 person-days",
            "empathy": "We understand why an app appeals to your buyers.",
            "language": "en",
        },
    )
    assert resp.status == 200
    letters: list[Call] = await teams.connector.wait_for(
        lambda: pm_cards(teams, lambda c: "Letter to the client" in all_text(c))
    )
    return letters[0]


# --- tests -------------------------------------------------------------------------------------


async def test_pm_sends_the_letter_after_confirming_the_recipients_and_sees_it_sent(
    teams: Harness, smtp: SmtpServer
) -> None:
    letter = await drafted_letter(teams)
    assert letter.card is not None
    assert titles(letter.card) == ["Edit", "Download .eml", "Send email", "Mark as sent"]

    # Send email asks first: the confirmation card lists who gets it. Nothing is queued yet.
    resp = await teams.click(PM, letter, button(letter.card, "Send email"))
    confirm = invoke_card(await resp.json())
    shown = facts(confirm)
    assert shown["To"] == "Jane Doe <jane.doe@acme.example>"
    assert "pm@acme.example" in shown["Cc"] and "pm@acme.example" in shown["Reply-To"]
    assert titles(confirm) == ["Send", "Check these addresses", "Cancel"]
    rec = await teams.service.get_request("ACME-1")
    assert rec.letter is not None and rec.letter.status == "draft"
    assert "letter_queued" not in [e.kind for e in rec.events]

    # Send (Teams merges the empty address box into the data): queued, and the card says so.
    resp = await teams.click(PM, letter, {**button(confirm, "Send"), "other_recipients": ""})
    queued = invoke_card(await resp.json())
    assert "Queued to send by email to Jane Doe <jane.doe@acme.example>" in all_text(queued)
    assert titles(queued) == ["Download .eml", "Refresh"]

    # The dispatcher hands it to the mail server; the card the PM pressed Send on becomes the sent letter
    # (updated in place: no "queued" card with a Refresh button is left behind).
    outcome: list[Call] = await teams.connector.wait_for(
        lambda: pm_updates(teams, lambda c: "has gone out" in all_text(c)), within=10
    )
    assert outcome[0].activity_id == letter.posted_id
    assert outcome[0].card is not None
    status = outcome[0].card
    assert "Your letter for ACME-1 has gone out. Send status: sent by e-mail at" in all_text(status)
    assert all_text(status).count("Send status:") == 1  # said once, not again in a state line beneath
    assert titles(status) == ["Download .eml", "Send again"]
    assert not pm_cards(teams, lambda c: "has gone out" in all_text(c))  # no second card

    assert len(smtp.received) == 1
    received = smtp.received[0]
    msg = received.message
    assert received.rcpt_tos == ["jane.doe@acme.example", "pm@acme.example"]
    assert msg["To"] == "Jane Doe <jane.doe@acme.example>"
    assert msg["X-Intake-Request"] == "ACME-1"
    rec = await teams.service.get_request("ACME-1")
    assert rec.status is RequestStatus.LETTER_SENT
    assert rec.letter is not None and rec.letter.status == "sent" and rec.letter.sent_via == "smtp"
    assert rec.letter.message_id == msg["Message-ID"]
    assert msg["Subject"] == rec.letter.subject

    # The review card in the channel now says the client has been answered.
    await teams.connector.wait_for(
        lambda: [u for u in teams.connector.updates() if u.card and "answered by email" in all_text(u.card)]
    )

    # Download .eml from the card: the very message the client received.
    resp = await download(teams, status)
    assert resp.status == 200 and resp.content_type == "message/rfc822"
    eml = cast(EmailMessage, email.message_from_bytes(await resp.read(), policy=policy.default))
    for header in ("Message-ID", "Subject", "From", "To", "Cc", "Reply-To", "X-Intake-Request"):
        assert eml[header] == msg[header], header
    sent_text = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")  # type: ignore[union-attr]
    assert eml.get_body(("plain",)).get_content() == sent_text  # type: ignore[union-attr]

    # The old card's Send email is refused with a reason now, not swallowed.
    resp = await teams.click(PM, letter, button(letter.card, "Send email"))
    assert "was already sent" in invoke_text(await resp.json())

    # Send again asks again; Cancel sends nothing.
    resp = await teams.click(PM, outcome[0], button(status, "Send again"))
    again = invoke_card(await resp.json())
    assert "Send the letter for ACME-1 again by e-mail?" in all_text(again)
    resp = await teams.click(PM, outcome[0], button(again, "Cancel"))
    assert t(Language.EN, "send.nothing_sent") in all_text(invoke_card(await resp.json()))
    await teams.settle()
    assert len(smtp.received) == 1
    assert [e.kind for e in (await teams.service.get_request("ACME-1")).events].count("letter_queued") == 1


async def test_a_typed_address_is_confirmed_before_it_is_used_on_the_action_submit_path(
    teams: Harness, smtp: SmtpServer
) -> None:
    letter = await drafted_letter(teams)
    assert letter.card is not None

    # Action.Submit (clients without Universal Actions): the confirmation comes as a new message.
    await teams.submit(PM, letter, button(letter.card, "Send email"))
    confirm_call: Call = (await teams.connector.wait_for(lambda: pm_cards(teams, lambda c: "Send" in titles(c))))[0]
    assert confirm_call.card is not None
    assert facts(confirm_call.card)["To"] == "Jane Doe <jane.doe@acme.example>"

    # An address that does not read is shown on the card.
    await teams.submit(
        PM, confirm_call, {**button(confirm_call.card, "Check these addresses"), "other_recipients": "lee at client"}
    )
    shown = await teams.connector.wait_for(lambda: pm_updates(teams, lambda c: "is not a" in all_text(c)))
    assert shown[-1].activity_id == confirm_call.posted_id  # the confirmation card, updated in place

    # Typing an address and pressing Send straight away does not send: the new list is shown first.
    typed = "Lee Client <lee@client.example>"
    await teams.submit(PM, confirm_call, {**button(confirm_call.card, "Send"), "other_recipients": typed})
    updates = await teams.connector.wait_for(
        lambda: pm_updates(teams, lambda c: t(Language.EN, "send.check_typed") in all_text(c))
    )
    reconfirm = updates[-1].card
    assert reconfirm is not None and facts(reconfirm)["To"] == typed
    assert (await teams.service.get_request("ACME-1")).letter.status == "draft"  # type: ignore[union-attr]

    # Send on the card that shows the typed address: it goes there, not to the client contact.
    await teams.submit(PM, updates[-1], {**button(reconfirm, "Send"), "other_recipients": typed})
    await until(lambda: smtp.received)
    gone = await teams.connector.wait_for(lambda: pm_updates(teams, lambda c: "has gone out" in all_text(c)))
    assert gone[-1].activity_id == updates[-1].activity_id  # the confirmation card the PM pressed Send on
    assert len(smtp.received) == 1
    assert smtp.received[0].rcpt_tos == ["lee@client.example", "pm@acme.example"]
    assert smtp.received[0].message["To"] == typed


async def test_a_deferred_send_stays_queued_and_a_refused_one_shows_failed_with_the_reason(
    teams: Harness, smtp: SmtpServer
) -> None:
    letter = await drafted_letter(teams)
    assert letter.card is not None
    smtp.handler.answers.extend(["451 4.3.0 Try again later"] * 1000)  # deferred until told otherwise
    resp = await teams.click(PM, letter, button(letter.card, "Send email"))
    confirm = invoke_card(await resp.json())
    await teams.click(PM, letter, {**button(confirm, "Send"), "other_recipients": ""})
    await until(lambda: smtp.handler.data_attempts >= 2)  # tried, deferred, retried

    # While the mail server defers it, the letter is queued: Refresh says so, and a second send is refused.
    resp = await teams.click(PM, letter, {"intake": "letter_show", "ref": "ACME-1"})
    queued = invoke_card(await resp.json())
    assert "Send status: queued" in all_text(queued) and titles(queued) == ["Download .eml", "Refresh"]
    resp = await teams.click(PM, letter, button(letter.card, "Send email"))
    assert "already queued" in invoke_text(await resp.json())

    # Then the server refuses it for good: the PM sees "failed" with the server's reason.
    smtp.handler.answers[:] = ["554 5.7.1 Message rejected by policy"]
    outcome: list[Call] = await teams.connector.wait_for(
        lambda: pm_updates(teams, lambda c: "could not be sent" in all_text(c)), within=10
    )
    assert outcome[0].activity_id == letter.posted_id  # the card that said "queued"
    card = outcome[0].card
    assert card is not None
    assert "Send status: failed:" in all_text(card) and "554 5.7.1 Message rejected by policy" in all_text(card)
    assert all_text(card).count("554 5.7.1 Message rejected by policy") == 1  # the reason said once
    assert titles(card) == ["Edit", "Download .eml", "Send email", "Mark as sent"]
    rec = await teams.service.get_request("ACME-1")
    assert rec.letter is not None and rec.letter.status == "failed" and rec.status is RequestStatus.LETTER_DRAFTED
    assert smtp.received == []


async def test_only_a_pm_can_send_and_nothing_is_queued_for_anyone_else(teams: Harness, smtp: SmtpServer) -> None:
    letter = await drafted_letter(teams)
    assert letter.card is not None
    member_chat = personal_conversation(MEMBER)

    resp = await teams.click(MEMBER, letter, button(letter.card, "Send email"), conversation=member_chat)
    assert invoke_text(await resp.json()) == "Only the PMs of Acme Customer Portal can send the letter for ACME-1."

    # Even with a confirmation card's data made up by hand.
    resp = await teams.click(PM, letter, button(letter.card, "Send email"))
    forged = {**button(invoke_card(await resp.json()), "Send"), "other_recipients": ""}
    resp = await teams.click(MEMBER, letter, forged, conversation=member_chat)
    assert "Only the PMs" in invoke_text(await resp.json())
    # And a confirmation that lost its recipient list is refused with a reason.
    resp = await teams.click(PM, letter, {**forged, "confirmed": "everyone"})
    assert invoke_text(await resp.json()) == t(Language.EN, "send.bad_confirmation")

    rec = await teams.service.get_request("ACME-1")
    assert rec.letter is not None and rec.letter.status == "draft"
    assert "letter_queued" not in [e.kind for e in rec.events]
    await teams.settle()
    assert smtp.received == [] and smtp.handler.data_attempts == 0


async def test_without_smtp_there_is_no_send_email_and_downloads_need_a_pm(sqlite_url: str) -> None:
    async with running(sqlite_url) as teams:
        letter = await drafted_letter(teams)
        assert letter.card is not None
        assert titles(letter.card) == ["Edit", "Download .eml", "Mark as sent"]
        # A Send email button from a card made while e-mail was on is answered, not dropped.
        resp = await teams.click(PM, letter, {"intake": "letter_send", "ref": "ACME-1"})
        assert invoke_text(await resp.json()) == t(Language.EN, "letter.email_not_set_up")

        # Without INTAKE_MAIL_FROM the .eml still opens as the letter to the client.
        resp = await download(teams, letter.card)
        assert resp.status == 200
        eml = email.message_from_bytes(await resp.read(), policy=policy.default)
        assert eml["To"] == "Jane Doe <jane.doe@acme.example>" and eml["X-Intake-Request"] == "ACME-1"

        # A link is good only for a PM: one signed for someone else (say, from before they left) is refused.
        member = Actor("teams", MEMBER["id"], name=MEMBER["name"])
        secret = "a-long-random-test-secret-for-signing-links"
        token = sign_token(secret, "ACME-1", pm=member, now=teams.service.clock.now())
        resp = await teams.client.get(f"/teams/letters/{token}")
        assert resp.status == 403 and "Only the PMs" in await resp.text()
