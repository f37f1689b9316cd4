"""Only a project's PMs decide, whatever the route (button, modal submission, text command, App Home), and
a letter (its text, its .eml file, its download link) never reaches anyone who is not a PM of the project.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from adapters.teams.download import sign_token
from bot.domain import Actor, RequestStatus
from tests.conftest import TestBot
from tests.support.slack_harness import MEMBER_ID, OTHER_ID, PM_ID, SlackHarness, text_value
from tests.support.teams import MEMBER, OTHER, PM, REVIEW_CHANNEL, Call, Harness, running

IOS = "Please build native iOS and Android apps for the portal"
IN_SCOPE = "Customers should be able to filter the order history by date"
SECRET_KEY = "a-long-random-test-secret-for-signing-links"


def dumps(x: object) -> str:
    return json.dumps(x, ensure_ascii=False)


# --- Slack --------------------------------------------------------------------------------------


async def test_a_non_pm_cannot_decide_through_any_slack_route(slack: SlackHarness) -> None:
    for text in (IOS, IN_SCOPE):
        await slack.command("/request", text, user=MEMBER_ID)
        await slack.settle()
    # The PM opens each decision form (which decides nothing); someone else then submits them.
    await slack.click("decline_request", "ACME-1", user=PM_ID)
    await slack.click("approve_request", "ACME-1", user=PM_ID)
    await slack.click("ask_details", "ACME-2", user=PM_ID)
    await slack.settle()
    views = {v["view"]["callback_id"]: v["view"] for v in slack.fake.calls_to("views.open")}
    assert set(views) == {"form:decline", "form:approve", "form:ask"}
    updates_before = len(slack.fake.calls_to("chat.update"))

    for ref in ("ACME-1", "ACME-2"):
        for action in ("approve_request", "decline_request", "ask_details"):
            assert (await slack.click(action, ref, user=OTHER_ID)).status == 200  # on the review card
            assert (await slack.click(action, ref, user=OTHER_ID, home=True)).status == 200  # from App Home
    answers = [
        await slack.submit(views["form:decline"], user=OTHER_ID),
        await slack.submit(
            views["form:approve"],
            user=OTHER_ID,
            values={"estimate": text_value("3 days"), "schedule_impact": text_value("none")},
        ),
        await slack.submit(views["form:ask"], user=OTHER_ID, values={"question": text_value("Which devices?")}),
    ]
    await slack.settle()

    for answer in answers:
        assert answer.status == 200
        errors = (await answer.json())["errors"]
        assert "Only the PMs of Acme Customer Portal" in dumps(errors)
    for ref in ("ACME-1", "ACME-2"):
        rec = await slack.service.get_request(ref)
        assert rec.status is RequestStatus.IN_REVIEW and rec.decisions == ()
        assert {e.actor.user_id for e in rec.events if e.kind == "denied"} == {OTHER_ID}
    assert len(slack.fake.calls_to("chat.update")) == updates_before
    assert not [c for c in slack.posted() if c["channel"] in ("D0PMSLACK", "D0SAM")], "no letter, no notice"
    assert len(slack.fake.calls_to("views.open")) == 3, "no form was opened for them"


async def declined_with_letter(slack: SlackHarness) -> tuple[str, str]:
    """ACME-1 declined by the PM; return its ref and a line of the letter's body to look for."""
    await slack.command("/request", IOS, user=MEMBER_ID)
    await slack.settle()
    await slack.click("decline_request", "ACME-1", user=PM_ID)
    await slack.settle()
    resp = await slack.submit(slack.opened_view(), user=PM_ID)
    assert await resp.text() == ""
    await slack.settle()
    rec = await slack.service.get_request("ACME-1")
    assert rec.letter is not None
    line = max(rec.letter.body_text.splitlines(), key=len)
    return rec.ref, line


async def test_a_slack_letter_never_reaches_anyone_but_the_pms(slack: SlackHarness) -> None:
    ref, line = await declined_with_letter(slack)
    for user, channel in ((OTHER_ID, "D0LEE"), (MEMBER_ID, "D0SAM")):  # a colleague, and the requester
        for action in ("letter_download_eml", "letter_edit", "letter_mark_sent", "letter_send_email"):
            await slack.click(action, ref, user=user, channel=channel, message_ts=slack.fake.ts(9))
        await slack.click("decline_request", ref, user=user)
        await slack.command("/requests", "", user=user)
        await slack.event(
            {
                "type": "event_callback",
                "team_id": "T0ACME",
                "event_id": f"Ev{user}",
                "event": {"type": "app_home_opened", "user": user, "tab": "home"},
            }
        )
    await slack.settle()

    assert slack.fake.uploads == {}, "no .eml was uploaded for them"
    assert slack.fake.calls_to("views.open") == [slack.fake.calls_to("views.open")[0]], "no form but the PM's"
    rec = await slack.service.get_request(ref)
    assert rec.status is RequestStatus.LETTER_DRAFTED and rec.letter is not None
    assert line in rec.letter.body_text, "the letter is unchanged"
    for call in slack.fake.calls:
        if call.args.get("channel") == "D0PMSLACK":
            continue  # the PM's own DM is where the letter belongs
        assert line not in dumps(call.args), f"the letter leaked through {call.method} to {call.args.get('channel')}"
    assert all(line not in dumps(r) for r in slack.fake.responses)
    published = {v["user_id"]: dumps(v["view"]) for v in slack.fake.calls_to("views.publish")}
    assert set(published) == {OTHER_ID, MEMBER_ID} and all(line not in v for v in published.values())
    for who in (OTHER_ID, MEMBER_ID):
        seen = await slack.service.get_request(ref, actor=Actor("slack", who))
        assert seen.letter is None


# --- the terminal bot's text commands -----------------------------------------------------------


async def test_a_non_pm_cannot_decide_by_text_command(testbot: TestBot) -> None:
    await testbot.say("/request Please build native iOS and Android apps for the portal")
    for command in ("/approve ACME-1", "/decline ACME-1", "/ask ACME-1 Which devices?"):
        out = await testbot.say(command, "", "", "", "", "", "", "", "")
        assert "Only the PMs of Acme Customer Portal can decide on ACME-1" in out, out
    rec = await testbot.bot.service.get_request("ACME-1")
    assert rec.status is RequestStatus.IN_REVIEW and rec.decisions == ()
    assert [e.kind for e in rec.events].count("denied") == 3


# --- Teams --------------------------------------------------------------------------------------


@pytest.fixture
async def teams(sqlite_url: str) -> AsyncIterator[Harness]:
    async with running(sqlite_url, secret_key=SECRET_KEY) as h:
        await h.add_to_channel(REVIEW_CHANNEL)
        await h.install_personal(PM)
        yield h


async def review_card(teams: Harness, text: str) -> Call:
    before = len([c for c in teams.connector.posts(REVIEW_CHANNEL) if c.card])
    await teams.say_in_channel(MEMBER, f"request {text}")
    cards: list[Call] = await teams.connector.wait_for(
        lambda: (
            len([c for c in teams.connector.posts(REVIEW_CHANNEL) if c.card]) > before
            and [c for c in teams.connector.posts(REVIEW_CHANNEL) if c.card]
        )
    )
    return cards[-1]


DECISIONS: list[dict[str, Any]] = [
    {"intake": "approve"},
    {"intake": "approve_submit", "estimate": "3 days", "schedule_impact": "none"},
    {"intake": "decline"},
    {"intake": "decline_submit", "reason_category": "project_goals", "reason_text": "Outside the scope."},
    {"intake": "ask"},
    {"intake": "ask_submit", "question": "Which devices?"},
]


async def test_a_non_pm_cannot_decide_through_any_teams_route(teams: Harness) -> None:
    card = await review_card(teams, "We need a native iOS app for the portal")
    for data in DECISIONS:
        data = {**data, "ref": "ACME-1"}
        assert (await teams.click(OTHER, card, data)).status == 200  # Action.Execute (invoke)
        assert (await teams.submit(OTHER, card, data)).status == 200  # Action.Submit (a message)
    for text in ("approve ACME-1", "decline ACME-1", "ask ACME-1 Which devices?"):
        assert (await teams.say_personal(OTHER, text)).status == 200  # typed commands
        assert (await teams.say_in_channel(OTHER, text, channel=REVIEW_CHANNEL)).status == 200
    rec = await teams.service.get_request("ACME-1")
    assert rec.status is RequestStatus.IN_REVIEW and rec.decisions == ()
    assert teams.connector.updates() == []
    assert {e.actor.user_id for e in rec.events if e.kind == "denied"} == {OTHER["id"]}


async def test_a_teams_letter_and_its_download_link_never_reach_anyone_but_the_pms(teams: Harness) -> None:
    card = await review_card(teams, "We need a native iOS app for the portal")
    form = {"intake": "decline_submit", "ref": "ACME-1", "reason_category": "project_goals", "reason_text": "No."}
    await teams.click(PM, card, form)
    rec = await teams.service.get_request("ACME-1")
    assert rec.letter is not None
    line = max(rec.letter.body_text.splitlines(), key=len)
    await teams.connector.wait_for(
        lambda: [c for c in teams.connector.posts("a:personal-pm-pat") if c.card and "ACME-1" in dumps(c.card)]
    )

    for who in (OTHER, MEMBER):
        for verb in ("letter_show", "letter_edit", "letter_send", "letter_sent"):
            resp = await teams.click(who, card, {"intake": verb, "ref": "ACME-1"})
            assert resp.status == 200
            body = await resp.text()
            assert line not in body and "/teams/letters/" not in body
        await teams.say_personal(who, "requests")
    for call in teams.connector.calls:
        if call.conversation_id and call.conversation_id.startswith("a:personal-pm-pat"):
            continue
        assert line not in dumps(call.body), f"the letter leaked into {call.conversation_id}"
        assert "/teams/letters/" not in dumps(call.body), f"a download link leaked into {call.conversation_id}"

    now = teams.service.clock.now()
    pm = Actor("teams", PM["id"], email="pm@acme.example", name=PM["name"])
    good = sign_token(SECRET_KEY, "ACME-1", pm=pm, now=now)
    assert (await teams.client.get(f"/teams/letters/{good}")).status == 200
    refused = {
        "made for a non-PM": sign_token(SECRET_KEY, "ACME-1", pm=Actor("teams", OTHER["id"]), now=now),
        "signed with another key": sign_token("another-key-another-key-another-key", "ACME-1", pm=pm, now=now),
        "expired": sign_token(SECRET_KEY, "ACME-1", pm=pm, now=now - timedelta(days=4)),
        "tampered": good.split(".")[0][:-2] + "xx." + good.split(".")[1],
        "garbage": "not-a-token",
    }
    for why, token in refused.items():
        resp = await teams.client.get(f"/teams/letters/{token}")
        assert resp.status == 403, why
        assert line not in await resp.text(), why
