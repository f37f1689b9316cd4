"""Step 6: the formal decline. Form with inline errors, the letter by DM to the PM only, Edit (tone check
reruns), Download .eml, Mark as sent, and the card's "answering the client by email"."""

from __future__ import annotations

import email
import json
from datetime import UTC, datetime
from email import policy

from bot.domain import RequestStatus
from tests.support.slack_harness import (
    MEMBER_ID,
    OTHER_ID,
    PM_ID,
    SlackHarness,
    datetime_value,
    radio_value,
    text_value,
)
from tests.support.smtp import SmtpServer

IOS = "Please build native iOS and Android apps for the portal"


def dumps(x: object) -> str:
    return json.dumps(x, ensure_ascii=False)


def buttons(blocks: list[dict]) -> list[str]:
    """The buttons of a message (its overflow menu of secondary actions aside)."""
    return [e["text"]["text"] for b in blocks if b["type"] == "actions" for e in b["elements"] if e["type"] == "button"]


async def declined(slack: SlackHarness) -> tuple[str, dict]:
    """Record a request, decline it with the pre-filled form; return the ref and the letter DM."""
    await slack.command("/request", IOS, user=MEMBER_ID)
    await slack.settle()
    ref = await slack.ref_of_last_request()
    await slack.click("decline_request", ref, user=PM_ID)
    await slack.settle()
    resp = await slack.submit(slack.opened_view(), user=PM_ID)
    assert (await resp.text()) == ""
    await slack.settle()
    letter_dm = [c for c in slack.posted() if c["channel"] == "D0PMSLACK"][-1]
    return ref, letter_dm


async def test_decline_modal_is_prefilled_from_the_verdict(slack: SlackHarness) -> None:
    await slack.command("/request", IOS, user=MEMBER_ID)
    await slack.settle()
    await slack.click("decline_request", "ACME-1", user=PM_ID)
    await slack.settle()
    view = slack.opened_view()
    assert view["callback_id"] == "form:decline"
    by_id = {b.get("block_id"): b for b in view["blocks"]}
    assert by_id["reason_category"]["element"]["initial_option"]["value"] == "project_goals"
    assert "Native iOS and Android apps" in by_id["reason_text"]["element"]["initial_value"]
    assert by_id["empathy"]["element"]["initial_value"]
    assert by_id["channel"]["element"]["initial_option"]["value"] == "email"
    assert by_id["language"]["element"]["initial_option"]["value"] == "en"
    assert {"alternatives", "alt_detail_phased", "meeting_start"} <= set(by_id)


async def test_decline_form_errors_show_inline_and_nothing_is_decided(slack: SlackHarness) -> None:
    await slack.command("/request", IOS, user=MEMBER_ID)
    await slack.settle()
    await slack.click("decline_request", "ACME-1", user=PM_ID)
    await slack.settle()
    view = slack.opened_view()
    resp = await slack.submit(view, user=PM_ID, values={"reason_text": text_value("   ")})
    body = await resp.json()
    assert body["response_action"] == "errors"
    assert "reason" in body["errors"]["reason_text"]
    resp = await slack.submit(view, user=PM_ID, values={"channel": radio_value("meeting")})
    body = await resp.json()
    assert body["errors"] == {"meeting_start": "A meeting needs a proposed date and time."}
    assert (await slack.service.get_request("ACME-1")).status is RequestStatus.IN_REVIEW


async def test_decline_sends_the_letter_to_the_pm_privately_and_updates_the_card(slack: SlackHarness) -> None:
    ref, dm = await declined(slack)
    rec = await slack.service.get_request(ref)
    assert rec.status is RequestStatus.LETTER_DRAFTED and rec.letter is not None
    text = dumps(dm["blocks"])
    assert rec.letter.subject in text
    assert rec.letter.body_text.splitlines()[0] in text
    assert "Tone check" in text and "✓" in text
    assert buttons(dm["blocks"]) == ["Edit", "Download .eml", "Mark as sent"]
    card = slack.fake.calls_to("chat.update")[-1]
    assert card["channel"] == "C0REVIEW"
    assert "Declined by <@U0PMSLACK> at 2026-11-03 10:30 CET: answering the client by email" in dumps(card["blocks"])
    assert buttons(card["blocks"]) == []
    told = [c for c in slack.posted() if c["channel"] == "D0SAM"][-1]
    assert "will answer the client by email" in told["text"]
    # the letter's text appears nowhere but the PM's DM
    body_line = rec.letter.body_text.strip().splitlines()[2]
    for call in slack.fake.calls:
        if call.method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            if not str(call.args.get("channel", "")).startswith("D0PM"):
                assert body_line not in dumps(call.args), call.method
    assert all(body_line not in dumps(r) for r in slack.fake.responses)


async def test_edit_reruns_the_tone_check_and_updates_the_dm(slack: SlackHarness) -> None:
    ref, _ = await declined(slack)
    dm_ts = slack.fake.ts(5)  # the letter DM the PM clicks in
    await slack.click("letter_edit", ref, user=PM_ID, channel="D0PMSLACK", message_ts=dm_ts)
    await slack.settle()
    view = slack.opened_view()
    assert view["callback_id"] == "letter_edit_modal"
    blunt = "Dear Jane,\n\nNo. I can't do that. Impossible.\n\nPat"
    resp = await slack.submit(view, user=PM_ID, values={"body": text_value(blunt)})
    assert (await resp.text()) == ""
    await slack.settle()
    rec = await slack.service.get_request(ref)
    assert rec.letter is not None and rec.letter.edited and not rec.letter.tone_ok
    update = slack.fake.calls_to("chat.update")[-1]
    assert update["channel"] == "D0PMSLACK" and update["ts"] == dm_ts
    text = dumps(update["blocks"])
    assert "I can't do that" in text and "✗" in text and "some rules fail" in text


async def test_download_eml_uploads_the_letter_to_the_dm(slack: SlackHarness) -> None:
    ref, _ = await declined(slack)
    await slack.click("letter_download_eml", ref, user=PM_ID, channel="D0PMSLACK", message_ts=slack.fake.ts(5))
    await slack.settle()
    assert slack.fake.calls_to("files.getUploadURLExternal")[-1]["filename"] == "ACME-1.eml"
    complete = slack.fake.calls_to("files.completeUploadExternal")[-1]
    assert complete["channel_id"] == "D0PMSLACK"
    (data,) = slack.fake.uploads.values()
    msg = email.message_from_bytes(data, policy=policy.default)
    rec = await slack.service.get_request(ref)
    assert rec.letter is not None
    assert msg["Subject"] == rec.letter.subject
    assert msg["To"] == "Jane Doe <jane.doe@acme.example>"
    assert msg["X-Intake-Request"] == "ACME-1"
    assert rec.letter.body_text.strip().splitlines()[0] in msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]


async def test_mark_as_sent_records_it_and_closes_the_card(slack: SlackHarness) -> None:
    ref, _ = await declined(slack)
    await slack.click("letter_mark_sent", ref, user=PM_ID, channel="D0PMSLACK", message_ts=slack.fake.ts(5))
    await slack.settle()
    rec = await slack.service.get_request(ref)
    assert rec.status is RequestStatus.LETTER_SENT
    updates = slack.fake.calls_to("chat.update")
    card = [u for u in updates if u["channel"] == "C0REVIEW"][-1]
    assert "the client has been answered by email" in dumps(card["blocks"])
    dm = [u for u in updates if u["channel"] == "D0PMSLACK"][-1]
    assert buttons(dm["blocks"]) == [] and "Marked as sent by Pat Morgan (by hand)" in dumps(dm["blocks"])


async def test_letter_buttons_are_for_pms_only(slack: SlackHarness) -> None:
    ref, _ = await declined(slack)
    await slack.click("letter_download_eml", ref, user=OTHER_ID, channel="D0LEE")
    await slack.click("letter_mark_sent", ref, user=OTHER_ID, channel="D0LEE")
    await slack.settle()
    assert slack.fake.uploads == {}
    assert (await slack.service.get_request(ref)).status is RequestStatus.LETTER_DRAFTED
    told = [c for c in slack.posted() if c["channel"] == "D0LEE"]
    assert len(told) == 2 and all("Only the PMs of Acme Customer Portal" in c["text"] for c in told)


async def test_send_email_button_is_offered_only_when_mail_is_set_up(slack: SlackHarness) -> None:
    ref, dm = await declined(slack)
    assert "Send email" not in buttons(dm["blocks"])
    await slack.click("letter_send_email", ref, user=PM_ID, channel="D0PMSLACK")
    await slack.settle()
    told = [c for c in slack.posted() if c["channel"] == "D0PMSLACK"][-1]
    assert "not set up" in told["text"]


async def test_declining_in_a_meeting_sends_the_invitation_and_talking_points_privately(slack: SlackHarness) -> None:
    await slack.command("/request", IOS, user=MEMBER_ID)
    await slack.settle()
    await slack.click("decline_request", "ACME-1", user=PM_ID)
    await slack.settle()
    start = int(datetime(2026, 11, 18, 9, 0, tzinfo=UTC).timestamp())
    resp = await slack.submit(
        slack.opened_view(),
        user=PM_ID,
        values={
            "channel": radio_value("meeting"),
            "meeting_start": datetime_value(start),
            "meeting_minutes": text_value("45"),
            "meeting_location": text_value("https://meet.acme.example/portal"),
        },
    )
    assert (await resp.text()) == ""
    await slack.settle()
    rec = await slack.service.get_request("ACME-1")
    assert rec.letter is not None and rec.letter.kind == "meeting_invite"
    form = rec.decisions[-1].form or {}
    assert form["meeting"]["duration_minutes"] == 45
    assert form["meeting"]["start"] == "2026-11-18T10:00:00+01:00"  # in the project's time zone (Berlin)
    dm = [c for c in slack.posted() if c["channel"] == "D0PMSLACK"][-1]
    text = dumps(dm["blocks"])
    assert "Meeting invitation for ACME-1" in text and "Your talking points" in text
    card = slack.fake.calls_to("chat.update")[-1]
    assert "Declined by <@U0PMSLACK> at 2026-11-03 10:30 CET: answering the client in a meeting" in dumps(
        card["blocks"]
    )
    assert "talking points" not in dumps(card["blocks"]).lower()


async def test_send_email_confirms_recipients_then_mails_the_client(
    slack_with_email: tuple[SlackHarness, SmtpServer],
) -> None:
    """With mail set up: Send email shows who gets it; after the PM confirms, the client gets the letter by SMTP."""
    slack, smtp = slack_with_email
    ref, dm = await declined(slack)
    assert buttons(dm["blocks"]) == ["Edit", "Download .eml", "Send email", "Mark as sent"]
    dm_ts = slack.fake.ts(5)
    await slack.click("letter_send_email", ref, user=PM_ID, channel="D0PMSLACK", message_ts=dm_ts)
    await slack.settle()
    confirm = slack.opened_view()
    assert confirm["callback_id"] == "send_email_modal"
    assert "To: Jane Doe &lt;jane.doe@acme.example&gt;" in dumps(confirm["blocks"])  # escaped for mrkdwn
    assert smtp.received == []  # nothing leaves before the PM confirms
    resp = await slack.submit(confirm, user=PM_ID)
    assert resp.status == 200 and (await resp.text()) == ""
    await slack.settle_until(lambda: _letter_sent(slack, ref))
    (mail,) = smtp.received
    rec = await slack.service.get_request(ref)
    assert rec.letter is not None
    assert mail.message["Subject"] == rec.letter.subject
    assert "jane.doe@acme.example" in mail.rcpt_tos
    card = [u for u in slack.fake.calls_to("chat.update") if u["channel"] == "C0REVIEW"][-1]
    assert "the client has been answered by email" in dumps(card["blocks"])
    letter_dm = [u for u in slack.fake.calls_to("chat.update") if u["channel"] == "D0PMSLACK"][-1]
    assert "Send status: sent by e-mail" in dumps(letter_dm["blocks"]) and buttons(letter_dm["blocks"]) == []
    # a second send is refused, saying it was already sent
    await slack.click("letter_send_email", ref, user=PM_ID, channel="D0PMSLACK", message_ts=dm_ts)
    await slack.settle()
    told = [c for c in slack.posted() if c["channel"] == "D0PMSLACK"][-1]
    assert "already sent" in told["text"]
    assert len(smtp.received) == 1


async def _letter_sent(slack: SlackHarness, ref: str) -> bool:
    rec = await slack.service.get_request(ref)
    return rec.status is RequestStatus.LETTER_SENT


async def test_send_email_refuses_when_recipients_changed_after_the_pm_saw_them(
    slack_with_email: tuple[SlackHarness, SmtpServer],
) -> None:
    slack, smtp = slack_with_email
    ref, _ = await declined(slack)
    await slack.click("letter_send_email", ref, user=PM_ID, channel="D0PMSLACK")
    await slack.settle()
    confirm = slack.opened_view()
    project = await slack.service.project("acme-portal")
    from dataclasses import replace

    from bot.domain import Client

    await slack.service.load_project(replace(project, client=Client("Acme Corp", "John Roe", "john.roe@acme.example")))
    resp = await slack.submit(confirm, user=PM_ID)
    body = await resp.json()
    assert body["response_action"] == "update"
    assert "changed" in dumps(body["view"]) and "john.roe@acme.example" in dumps(body["view"])
    await slack.settle()
    assert smtp.received == []
