"""Steps 1–2: `/request`, the intake modal and the "Record as client request" shortcut, through the real route."""

from __future__ import annotations

import json
import os

from bot.domain import RequestStatus
from bot.projectfile import load_project_text
from tests.support.slack_harness import (
    MEMBER_ID,
    PM_ID,
    SECOND_PROJECT_YAML,
    SlackHarness,
    date_value,
    select_value,
    text_value,
)

IOS = "Please build native iOS and Android apps for the portal"


async def test_request_command_acks_at_once_then_sends_receipt_and_review_card(slack: SlackHarness) -> None:
    resp = await slack.command("/request", IOS)
    assert resp.status == 200 and (await resp.text()) == ""
    await slack.settle()
    receipt = slack.fake.responses[-1]
    assert receipt["response_type"] == "ephemeral"
    assert (
        receipt["text"]
        == "Recorded ACME-1: out of scope (mobile): “Native iOS and Android apps”. The PMs will review it."
    )
    (card,) = slack.posted("C0REVIEW")
    assert "ACME-1" in json.dumps(card["blocks"])
    rec = await slack.service.get_request("ACME-1")
    assert rec.requester.user_id == MEMBER_ID and rec.requester.email == "sam@acme-team.example"
    assert rec.source is not None and rec.source.platform == "slack" and rec.source.channel == "C0INTAKE"
    assert rec.status is RequestStatus.IN_REVIEW


async def test_outside_an_intake_channel_the_only_project_is_used(slack: SlackHarness) -> None:
    await slack.command("/request", IOS, channel="C0RANDOM")
    await slack.settle()
    assert (await slack.service.get_request("ACME-1")).project == "acme-portal"


async def test_with_two_projects_the_bot_asks_which_unless_named(slack: SlackHarness) -> None:
    await slack.service.load_project(load_project_text(SECOND_PROJECT_YAML, "beta.yaml"))
    await slack.command("/request", "Add gift wrapping to the cart", channel="C0RANDOM")
    await slack.settle()
    assert "Which project is this for?" in slack.fake.responses[-1]["text"]
    assert await slack.service.list_requests() == []
    await slack.command("/request", "@beta-shop Add gift wrapping to the cart", channel="C0RANDOM")
    await slack.command("/request", "Add gift wrapping to the cart", channel="C0BETA")
    await slack.settle()
    recs = await slack.service.list_requests()
    assert [r.project for r in recs] == ["beta-shop", "beta-shop"]
    assert recs[0].text == "Add gift wrapping to the cart"
    assert len(slack.posted("C0BETAREV")) == 2


async def test_database_down_tells_the_user_nothing_was_recorded(slack: SlackHarness) -> None:
    # The database file disappears under the running server (as when a volume is lost).
    await slack.store.engine.dispose()
    path = str(slack.store.engine.url.database)
    os.rename(path, path + ".gone")
    try:
        resp = await slack.command("/request", IOS)
        assert resp.status == 200
        await slack.ctx.settle()
        assert "not* recorded" in slack.fake.responses[-1]["text"]
    finally:
        await slack.store.engine.dispose()
        os.rename(path + ".gone", path)
    assert slack.posted("C0REVIEW") == []


async def test_request_without_text_opens_the_intake_modal(slack: SlackHarness) -> None:
    resp = await slack.command("/request", "")
    assert resp.status == 200
    await slack.settle()
    view = slack.opened_view()
    assert view["callback_id"] == "intake_modal"
    assert {b.get("block_id") for b in view["blocks"]} >= {"what", "client_words", "urgency", "requested_date"}
    resp = await slack.submit(view, user=MEMBER_ID, values={"what": text_value("")})
    assert (await resp.json())["errors"] == {"what": "Write what the client asked for."}
    resp = await slack.submit(
        view,
        user=MEMBER_ID,
        values={
            "what": text_value(IOS),
            "client_words": text_value("Our buyers want an app, can you do one?"),
            "urgency": select_value("high"),
            "requested_date": date_value("2027-02-01"),
        },
    )
    assert resp.status == 200 and (await resp.text()) == ""
    await slack.settle()
    rec = await slack.service.get_request("ACME-1")
    assert rec.client_words == "Our buyers want an app, can you do one?"
    assert rec.urgency == "high" and str(rec.requested_date) == "2027-02-01"
    receipt = slack.fake.calls_to("chat.postEphemeral")[-1]
    assert receipt["channel"] == "C0INTAKE" and receipt["user"] == MEMBER_ID
    assert receipt["text"].startswith("Recorded ACME-1")
    assert len(slack.posted("C0REVIEW")) == 1


async def test_intake_modal_offers_a_project_choice_when_several_are_loaded(slack: SlackHarness) -> None:
    await slack.service.load_project(load_project_text(SECOND_PROJECT_YAML, "beta.yaml"))
    await slack.command("/request", "", channel="C0BETA")
    await slack.settle()
    view = slack.opened_view()
    project = next(b for b in view["blocks"] if b.get("block_id") == "project")
    assert project["element"]["initial_option"]["value"] == "beta-shop"
    await slack.submit(
        view, user=MEMBER_ID, values={"what": text_value("Gift wrapping"), "project": select_value("acme-portal")}
    )
    await slack.settle()
    assert (await slack.service.list_requests())[0].project == "acme-portal"


async def test_message_shortcut_prefills_the_modal_and_keeps_the_permalink(slack: SlackHarness) -> None:
    """Step 2: a client's message in a shared channel becomes a request that links back to it."""
    resp = await slack.shortcut(user=MEMBER_ID)
    assert resp.status == 200
    await slack.settle()
    view = slack.opened_view()
    by_id = {b.get("block_id"): b for b in view["blocks"]}
    assert by_id["what"]["element"]["initial_value"] == "Hi team, could the portal also send order updates by SMS?"
    assert by_id["client_words"]["element"]["initial_value"] == by_id["what"]["element"]["initial_value"]
    await slack.submit(view, user=MEMBER_ID, values={"what": text_value("Order updates by SMS")})
    await slack.settle()
    rec = await slack.service.get_request("ACME-1")
    assert rec.text == "Order updates by SMS"
    assert rec.client_words == "Hi team, could the portal also send order updates by SMS?"
    assert rec.source is not None
    assert rec.source.permalink == "https://acme.example.slack.com/archives/C0SHARED/p1699999000000300"
    assert (rec.source.channel, rec.source.message_id) == ("C0SHARED", "1699999000.000300")
    assert slack.fake.calls_to("chat.getPermalink")[-1] == {"channel": "C0SHARED", "message_ts": "1699999000.000300"}
    card = json.dumps(slack.posted("C0REVIEW")[-1]["blocks"])
    assert "https://acme.example.slack.com/archives/C0SHARED/p1699999000000300" in card
    # the shared channel may hold the client: the requester hears back by DM, never in that thread
    await slack.click("approve_request", "ACME-1", user=PM_ID)
    await slack.settle()
    await slack.submit(
        slack.opened_view(),
        user=PM_ID,
        values={"estimate": text_value("2 days"), "schedule_impact": text_value("none")},
    )
    await slack.settle()
    assert all(c["channel"] != "C0SHARED" for c in slack.posted())
    assert any(c["channel"] == "D0SAM" and "approved ACME-1" in c["text"] for c in slack.posted())


async def test_shortcut_in_an_intake_channel_answers_in_the_thread(slack: SlackHarness) -> None:
    await slack.shortcut(user=MEMBER_ID, channel="C0INTAKE")
    await slack.settle()
    await slack.submit(slack.opened_view(), user=MEMBER_ID)
    await slack.settle()
    await slack.click("ask_details", "ACME-1", user=PM_ID)
    await slack.settle()
    await slack.submit(slack.opened_view(), user=PM_ID, values={"question": text_value("Which carrier?")})
    await slack.settle()
    question = slack.posted("C0INTAKE")[-1]
    assert question["thread_ts"] == "1699999000.000300"
    assert "Which carrier?" in json.dumps(question["blocks"])


async def test_long_request_is_refused_with_the_reason_not_cut(slack: SlackHarness) -> None:
    await slack.command("/request", "x" * 4001)
    await slack.settle()
    assert "the limit is 4,000" in slack.fake.responses[-1]["text"]


async def test_words_that_look_like_slack_field_names_are_just_words(slack: SlackHarness) -> None:
    """A form body is read field by field, whatever the words in it: the word "payload" in a request, or
    in a /scope argument, is text, not the JSON envelope that clicks and form submissions come in."""
    text = "Raise the upload payload limit to 200 MB, e.g. payload=big"
    resp = await slack.command("/request", text)
    assert resp.status == 200
    await slack.settle()
    assert (await slack.service.get_request("ACME-1")).text == text
    resp = await slack.command("/scope", "payload")
    assert resp.status == 200
    await slack.settle()
    assert "could not" not in slack.fake.responses[-1]["text"]
