"""People's words never become markup: in Slack no mention, channel ping or disguised link comes from
them, in anything the bot posts (cards and their notification text, receipts, private answers, direct
messages, App Home, modals, errors that repeat what was sent); in Teams no markdown link or formatting
comes from them, in any card or message."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from adapters.teams import cards
from bot.domain import Language
from bot.mailing import LetterRecipients, Mailbox
from tests.support.slack_harness import MEMBER_ID, PM_ID, SlackHarness, payload, text_value
from tests.support.teams import MEMBER, PM, REVIEW_CHANNEL, Call, Harness, running
from tests.test_teams_flow import all_text

# --- Slack --------------------------------------------------------------------------------------

MARKUP = "Ping <!channel> <!here> <!subteam^S0ALL> <@U0VICTIM> and <https://evil.example/phish|click here> & more"
RAW = ("<!channel>", "<!here>", "<!subteam", "<@U0VICTIM>", "<https://evil.example", "|click here>")


def slack_texts(node: Any, *, top: bool = True) -> list[str]:
    """Every text Slack reads as markup in a call or a response_url answer: its top-level `text` (the
    notification), mrkdwn text objects, and a file's comment. Plain-text objects and inputs' values
    are never parsed, so they may hold anything."""
    out: list[str] = []
    if isinstance(node, dict):
        if top:
            for key in ("text", "initial_comment"):
                if isinstance(node.get(key), str):
                    out.append(node[key])
        if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
            out.append(node["text"])
        for key, value in node.items():
            if isinstance(value, str) and key in ("blocks", "view"):
                try:
                    value = json.loads(value)
                except ValueError:
                    continue
            if isinstance(value, dict | list):
                out += slack_texts(value, top=False)
    elif isinstance(node, list):
        for item in node:
            out += slack_texts(item, top=False)
    return out


def everything_posted(slack: SlackHarness) -> list[tuple[str, str]]:
    found = [(call.method, text) for call in slack.fake.calls for text in slack_texts(call.args)]
    found += [(f"response_url {r['key']}", text) for r in slack.fake.responses for text in slack_texts(r)]
    return found


async def test_slack_posts_nothing_that_mentions_or_links_from_peoples_words(slack: SlackHarness) -> None:
    # A request full of mentions and a disguised link: its receipt (through response_url, right after the
    # ack), its review card, and the listing of open requests.
    await slack.command("/request", f"Reports as PDF. {MARKUP}", user=MEMBER_ID)
    await slack.settle()
    ref = await slack.ref_of_last_request()
    await slack.command("/requests", "", user=MEMBER_ID)
    # A button whose value carries the markup: the error repeats what was sent, privately.
    await slack.click("approve_request", MARKUP, user=PM_ID)
    # The PM asks with the markup; the requester answers with it; the PM sees the answer.
    await slack.click("ask_details", ref, user=PM_ID)
    await slack.settle()
    await slack.submit(slack.opened_view(), user=PM_ID, values={"question": text_value(MARKUP)})
    await slack.settle()
    await slack.click("answer_question", ref, user=MEMBER_ID, channel="D0SAM", message_ts=slack.fake.ts(9))
    await slack.settle()
    await slack.submit(slack.opened_view(), user=MEMBER_ID, values={"answer": text_value(MARKUP)})
    await slack.settle()
    # The decline form quotes the request; the letter and the requester's notice follow.
    await slack.click("decline_request", ref, user=PM_ID)
    await slack.settle()
    await slack.submit(slack.opened_view(), user=PM_ID, values={"reason_text": text_value(f"No. {MARKUP}")})
    await slack.settle()
    # App Home lists the PM's queue and the requester's own requests.
    for user in (PM_ID, MEMBER_ID):
        event = payload("app_home_opened.json")
        event["event"]["user"] = user
        event["event_id"] = f"EvHome{user}"
        await slack.event(event)
    await slack.settle()

    posted = everything_posted(slack)
    leaks = [(where, text) for where, text in posted if any(raw in text for raw in RAW)]
    assert leaks == []
    # The words themselves are all there, shown as typed.
    shown = {where.split(" ")[0] for where, text in posted if "&lt;!channel&gt;" in text}
    assert {"chat.postMessage", "chat.update", "chat.postEphemeral", "views.open", "views.publish"} <= shown
    assert "response_url" in shown
    card = slack.posted("C0REVIEW")[0]
    assert "&lt;https://evil.example/phish|click here&gt;" in card["text"]


async def test_a_link_to_the_original_message_cannot_be_bent_into_another(slack: SlackHarness) -> None:
    """The review card links the message a request was recorded from (`<url|label>`): an address with the
    characters that would end the link or start another is percent-encoded, so the link goes where it
    says and nothing else is made of it."""
    slack.fake._m_chat_getPermalink = lambda args: {  # type: ignore[method-assign]
        "permalink": "https://acme.example.slack.com/archives/C0SHARED/p1|<!channel> <https://evil.example|x>"
    }
    await slack.shortcut(user=MEMBER_ID, text="Could the portal export invoices as PDF?", channel="C0INTAKE")
    await slack.settle()
    await slack.submit(slack.opened_view(), user=MEMBER_ID)
    await slack.settle()
    card_texts = slack_texts(slack.posted("C0REVIEW")[0])
    link = next(t for t in card_texts if "<https://acme.example.slack.com" in t)
    assert (
        "<https://acme.example.slack.com/archives/C0SHARED/p1%7C%3C!channel%3E%20%3Chttps://evil.example%7Cx%3E|"
        in link
    )
    assert not any(raw in t for t in card_texts for raw in ("<!channel>", "<https://evil.example"))


# --- Teams --------------------------------------------------------------------------------------

LINK = "[Approve here](https://evil.example/phish)"
MD = f"**Urgent** {LINK} _now_"
MAL = {"id": "29:member-mal", "name": f"**Boss** {LINK}", "aadObjectId": "aad-mal"}


def markdown_leaks(node: Any, where: str = "") -> list[str]:
    """Where people's markdown could render in a card: a TextBlock's text, a FactSet's titles and values,
    a link's address. TextRuns and inputs show their text as it is."""
    out: list[str] = []
    if isinstance(node, dict):
        kind = node.get("type")
        if kind == "TextBlock" and "evil.example" in str(node.get("text")):
            out.append(f"{where} TextBlock: {node['text']}")
        if kind == "FactSet":
            out += [f"{where} FactSet: {f}" for f in node.get("facts", []) if "evil.example" in json.dumps(f)]
        if kind == "Action.OpenUrl" and "evil.example" in str(node.get("url")):
            out.append(f"{where} link: {node['url']}")
        for value in node.values():
            out += markdown_leaks(value, where)
    elif isinstance(node, list):
        for item in node:
            out += markdown_leaks(item, where)
    return out


@pytest.fixture
async def teams(sqlite_url: str) -> AsyncIterator[Harness]:
    async with running(sqlite_url) as h:
        h.connector.roster[MAL["id"]] = {**MAL, "email": "mal@acme-team.example"}
        await h.add_to_channel(REVIEW_CHANNEL)
        for user in (PM, MAL, MEMBER):
            await h.install_personal(user)
        yield h


async def test_teams_shows_peoples_markdown_as_typed_in_every_card_and_message(teams: Harness) -> None:
    answers: list[dict[str, Any]] = []

    async def click(user: dict[str, Any], call: Call, data: dict[str, Any]) -> None:
        resp = await teams.click(user, call, data)
        assert resp.status == 200
        answers.append(await resp.json())

    await teams.say_in_channel(MAL, f"request Reports as PDF {MD}")
    review = (await teams.connector.wait_for(lambda: [c for c in teams.connector.posts(REVIEW_CHANNEL) if c.card]))[0]
    # The intake form's client words, typed by a member into the form card.
    form_chat = f"a:personal-{MEMBER['id'].split(':', 1)[1]}"
    await teams.say_personal(MEMBER, "request")
    form = [c for c in teams.connector.posts(form_chat) if c.card][-1]
    resp = await teams.click(
        MEMBER,
        form,
        {"intake": "intake_submit", "what": f"Export as PDF {MD}", "client_words": MD, "urgency": "high"},
        conversation=form_chat,
    )
    answers.append(await resp.json())
    # The PM opens the ask form (it names the requester), asks with markdown; the requester answers.
    await click(PM, review, {"intake": "ask", "ref": "ACME-1"})
    await click(PM, review, {"intake": "ask_submit", "ref": "ACME-1", "question": MD})
    question = await teams.connector.wait_for(
        lambda: [c for c in teams.connector.posts("a:personal-member-mal") if c.card and "Urgent" in all_text(c.card)]
    )
    await teams.submit(MAL, question[0], {"intake": "answer_submit", "ref": "ACME-1", "answer": MD})
    await teams.connector.wait_for(
        lambda: [c for c in teams.connector.posts("a:personal-pm-pat") if "Urgent" in c.text]
    )
    # The PM declines with markdown in the reason and the empathy line; the letter comes to them; they edit it.
    await click(PM, review, {"intake": "decline", "ref": "ACME-1"})
    await click(
        PM,
        review,
        {
            "intake": "decline_submit",
            "ref": "ACME-1",
            "reason_category": "project_goals",
            "reason_text": f"Outside the scope. {MD}",
            "alternatives": "change_request",
            "alt_detail_change_request": MD,
            "empathy": f"We understand. {MD}",
            "language": "en",
        },
    )
    letter = await teams.connector.wait_for(
        lambda: [
            c
            for c in teams.connector.posts("a:personal-pm-pat")
            if c.card and "Letter to the client" in all_text(c.card)
        ]
    )
    await click(PM, letter[0], {"intake": "letter_edit", "ref": "ACME-1"})
    await click(
        PM,
        letter[0],
        {"intake": "letter_edit_submit", "ref": "ACME-1", "subject": f"Re: {MD}", "body": f"Dear Jane,\n{MD}"},
    )
    await teams.settle()

    cards_seen = [(c.path, c.card) for c in teams.connector.calls if c.card]
    cards_seen += [("invoke answer", a["value"]) for a in answers if a.get("type") == cards.CARD_CONTENT_TYPE]
    leaks = [leak for where, card in cards_seen for leak in markdown_leaks(card, where)]
    assert leaks == []
    # Messages that repeat people's words are sent as plain text, where markdown is not read.
    texts = [c.body for c in teams.connector.calls if c.method == "POST" and "evil.example" in c.text]
    assert texts and all(t.get("textFormat") == "plain" for t in texts), texts
    # And the words are all shown, as typed.
    shown = "\n".join(json.dumps(card) for _, card in cards_seen)
    assert shown.count(LINK.replace('"', '\\"')) >= 8


def test_the_letter_and_confirmation_cards_show_names_subjects_and_reasons_as_typed() -> None:
    """Cards built from data the other tests cannot reach through chat: a mail server's reason for a
    failed send, a client contact's name from the project file, a recipient's name."""
    failed = {
        "subject": f"Your request {MD}",
        "body_text": f"Dear Jane,\n{MD}",
        "body_html": "",
        "language": "en",
        "tone": [],
        "status": "failed",
        "send_error": f"550 mailbox unavailable {LINK}",
    }
    letter = cards.letter_card("ACME-1", failed, Language.EN, can_send_email=True, note=MD, talking_points=MD)
    recipients = LetterRecipients(
        to=(Mailbox("jane@acme.example", f"Jane {LINK}"),),
        cc=(Mailbox("pm@acme.example", f"Pat {LINK}"),),
        reply_to=(Mailbox("pm@acme.example"),),
    )
    confirm = cards.send_confirm_card("ACME-1", failed, recipients, Language.EN, typed=["x@acme.example"])
    assert markdown_leaks(letter) == [] and markdown_leaks(confirm) == []
    assert "evil.example" in json.dumps(letter) and "evil.example" in json.dumps(confirm)
