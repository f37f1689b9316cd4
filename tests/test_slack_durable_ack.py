"""A `/request` acknowledged to Slack is never lost: the command is in the database before the ack goes out,
and is recorded exactly once, by the acking process or, if that one died, by the outbox after a restart."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa

from adapters.slack.intake import COMMAND, record_command
from bot.domain import Actor, Notice
from tests.support.slack_harness import MEMBER_ID, SlackHarness

IOS = "Please build native iOS and Android apps for the portal"


async def command_rows(slack: SlackHarness) -> list[dict[str, Any]]:
    async with slack.store.session() as s:
        res = await s.exec(  # type: ignore[call-overload]
            sa.text("SELECT id, status, data, dedupe_key FROM outbox WHERE kind = :k ORDER BY id"),
            params={"k": COMMAND},
        )
        return [dict(r) for r in res.mappings().all()]


def die_after_ack(slack: SlackHarness, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make the server drop everything it would do after the ack, as if the process were killed right then."""
    dropped: list[str] = []

    def spawn(coro: Any, *, name: str = "slack") -> Any:
        dropped.append(name)
        coro.close()
        return None

    monkeypatch.setattr(slack.ctx, "spawn", spawn)
    return dropped


async def grace_has_passed(slack: SlackHarness) -> None:
    """Move the accepted commands' hand-over time into the past (as if the restart came after the grace period)."""
    async with slack.store.session() as s:
        await s.exec(  # type: ignore[call-overload]
            sa.text("UPDATE outbox SET available_at = :t WHERE kind = :k"),
            params={"t": "2000-01-01 00:00:00", "k": COMMAND},
        )


async def test_the_command_is_in_the_database_when_the_ack_is_sent(
    slack: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    dropped = die_after_ack(slack, monkeypatch)
    resp = await slack.command("/request", IOS)
    assert resp.status == 200 and (await resp.text()) == ""
    assert "request" in dropped  # the recording never ran in this process
    (row,) = await command_rows(slack)
    assert row["status"] == "pending"
    data = row["data"] if isinstance(row["data"], dict) else json.loads(row["data"])
    assert data["text"] == IOS and data["user_id"] == MEMBER_ID and data["channel_id"] == "C0INTAKE"
    assert data["response_url"].startswith(slack.fake.base)
    assert await slack.service.list_requests() == []


async def test_after_a_crash_the_outbox_records_the_acknowledged_request_once(
    slack: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    die_after_ack(slack, monkeypatch)
    await slack.command("/request", IOS)
    await slack.command("/request", "Add a CSV export to the order history")
    monkeypatch.undo()  # the "restarted" process works normally
    accepted = (await command_rows(slack))[0]  # the command as the acking process holds it
    assert await slack.dispatcher.drain() == 0  # the acking process still has its grace period
    await grace_has_passed(slack)
    await slack.settle()
    recs = await slack.service.list_requests()
    assert [r.ref for r in recs] == ["ACME-1", "ACME-2"]
    assert recs[0].text == IOS and recs[0].requester.email == "sam@acme-team.example"
    assert [r["text"].split(":")[0] for r in slack.fake.responses] == ["Recorded ACME-1", "Recorded ACME-2"]
    assert len(slack.posted("C0REVIEW")) == 2
    assert [r["status"] for r in await command_rows(slack)] == ["sent", "sent"]

    # The process that acked was only slow, not dead: its late recording changes nothing.
    row = (await command_rows(slack))[0]
    assert row["data"] is None and row["dedupe_key"] == accepted["dedupe_key"]  # delivered: the payload went
    data = accepted["data"] if isinstance(accepted["data"], dict) else json.loads(accepted["data"])
    late = Notice(
        COMMAND, "slack", "person", IOS, recipient=Actor("slack", MEMBER_ID), data=data, dedupe_key=row["dedupe_key"]
    )
    result, reply = await record_command(slack.ctx, late, in_process=True)
    assert result == {"duplicate": True} and reply is None
    await slack.settle()
    assert len(await slack.service.list_requests()) == 2
    assert len(slack.fake.responses) == 2 and len(slack.posted("C0REVIEW")) == 2


async def test_a_recorded_command_leaves_nothing_behind_for_the_outbox(slack: SlackHarness) -> None:
    await slack.command("/request", IOS)
    await slack.settle()
    assert await command_rows(slack) == []
    await grace_has_passed(slack)
    assert await slack.dispatcher.drain() == 0
    assert len(await slack.service.list_requests()) == 1


async def test_requests_are_numbered_in_the_order_they_were_acknowledged(slack: SlackHarness) -> None:
    for i in range(6):
        await slack.command("/request", f"Request number {i + 1}: add report {i + 1}", user=f"U0USER{i}")
    await slack.settle()
    recs = await slack.service.list_requests()
    assert [r.text.split(":")[0] for r in recs] == [f"Request number {i + 1}" for i in range(6)]
    assert [r.ref for r in recs] == [f"ACME-{i + 1}" for i in range(6)]


async def test_a_burst_is_recorded_in_batches_in_order_with_every_receipt(
    slack: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches: list[int] = []
    submit_requests = slack.service.submit_requests

    ahead: list[int] = []

    async def spy(batch: Any, **kw: Any) -> Any:
        batches.append(len(batch))
        ahead.append(slack.ctx.pacer().ahead_running)
        return await submit_requests(batch, **kw)

    resolved: list[int] = []
    resolve_projects = slack.service.resolve_projects

    async def resolve_spy(asks: Any) -> Any:
        resolved.append(len(asks))
        return await resolve_projects(asks)

    monkeypatch.setattr(slack.service, "submit_requests", spy)
    monkeypatch.setattr(slack.service, "resolve_projects", resolve_spy)
    texts = [f"Request number {i + 1}: add report {i + 1}" for i in range(12)]
    texts[5] = "@nope Request number 6: for a project that does not exist"
    for i, text in enumerate(texts):
        await slack.command("/request", text, user=f"U0USER{i}")
    await slack.settle()
    recs = await slack.service.list_requests()
    assert [r.text.split(":")[0] for r in recs] == [f"Request number {i + 1}" for i in range(12) if i != 5]
    assert [r.ref for r in recs] == [f"ACME-{i + 1}" for i in range(11)]
    assert sum(batches) == 11 and max(batches) > 1  # recorded together, around the one refused
    assert max(resolved) > 1  # the projects are read once for a batch, not once per command
    assert set(ahead) == {1}  # while recording, the review cards wait for it (adapters/web/pace.py)
    assert await command_rows(slack) == []  # every accepted command's row went with its recording
    replies = [r.get("text", "") for r in slack.fake.responses]
    assert sum("ACME-" in r for r in replies) == 11
    assert any("nope" in r for r in replies)
