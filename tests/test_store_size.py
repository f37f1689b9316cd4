"""What the record keeps, kept once: each letter version in one row that the letter and its events refer
to, the HTML made from the text, JSON without padding, and only the posted messages a later update needs.
Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from bot.domain import Notice
from bot.letters.writer import text_to_html
from bot.service import IntakeService
from store.db import make_engine
from store.migrate import upgrade
from store.repo import SqlStore
from tests.conftest import MEMBER, PM
from tests.test_lifecycle import FORM, submit

EDIT = "Dear Jane,\n\nWe understand; it is out of scope for now.\n\n- a change request\n- a later phase\n\nKind regards"


async def rows(store: SqlStore, sql: str, **params: Any) -> list[Any]:
    async with store.session() as s:
        return list((await s.exec(sa.text(sql), params=params)).all())  # type: ignore[call-overload]


def as_dict(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


async def test_each_letter_version_is_stored_once_and_its_events_read_it_back(
    service: IntakeService, store: SqlStore
) -> None:
    ref = await submit(service)
    drafted = await service.decline(ref, actor=PM, form=FORM)
    first = drafted.letter
    assert first is not None
    await service.edit_letter(ref, actor=PM, body_text=EDIT, subject="About your request")
    await service.mark_letter_sent(ref, actor=PM)  # a change of status: no new version

    versions = await rows(store, "SELECT version, subject, body_text FROM letter_versions ORDER BY version")
    assert [(v, s) for v, s, _ in versions] == [(1, first.subject), (2, "About your request")]
    assert versions[0][2] == first.body_text and versions[1][2] == EDIT
    [(letter_text, html, version)] = await rows(store, "SELECT body_text, body_html, version FROM letters")
    assert (letter_text, html, version) == ("", "", 2)
    stored = await rows(store, "SELECT kind, text, data FROM events WHERE kind IN ('letter_drafted', 'letter_edited')")
    assert [(k, t) for k, t, _ in stored] == [("letter_drafted", ""), ("letter_edited", "")]
    assert [as_dict(d)["letter_version"] for _, _, d in stored] == [1, 2]

    rec = await service.get_request(ref, actor=PM)
    assert rec.letter is not None and rec.letter.status == "sent"
    assert rec.letter.body_text == EDIT and rec.letter.subject == "About your request"
    assert rec.letter.body_html == text_to_html(EDIT)
    events = {e.kind: e for e in rec.events}
    assert events["letter_drafted"].text == first.body_text
    assert events["letter_drafted"].data == {
        "subject": first.subject,
        "language": first.language.value,
        "kind": first.kind,
        "tone": [t.to_dict() for t in first.tone],
    }
    assert events["letter_edited"].text == EDIT
    assert events["letter_edited"].data["subject"] == "About your request"


async def test_a_letter_written_before_versions_reads_as_it_was_and_its_edit_adds_a_version(
    service: IntakeService, store: SqlStore
) -> None:
    # A letter drafted elsewhere, as a database upgraded from before migration 0010 holds it: the text in
    # the letter (with its HTML) and in its event.
    first = (await service.decline(await submit(service, "An Android app, please"), actor=PM, form=FORM)).letter
    assert first is not None
    ref = await submit(service)
    drafted = {
        "subject": first.subject,
        "language": "en",
        "kind": first.kind,
        "tone": [t.to_dict() for t in first.tone],
    }
    async with store.session() as s:
        request_id = (await s.exec(sa.text("SELECT max(id) FROM requests"))).scalar_one()  # type: ignore[call-overload]
        await s.exec(sa.text("UPDATE requests SET status = 'letter_drafted' WHERE id = :id"), params={"id": request_id})  # type: ignore[call-overload]
        await s.exec(  # type: ignore[call-overload]
            sa.text(
                "INSERT INTO letters (request_id, subject, body_text, body_html, language, kind, tone, edited, status,"
                " talking_points, updated_at) VALUES (:id, :subject, :text, '<p>as sent</p>', 'en', 'decline',"
                " :tone, false, 'draft', '', :at)"
            ),
            params={
                "id": request_id,
                "subject": first.subject,
                "text": first.body_text,
                "tone": json.dumps(drafted["tone"]),
                "at": datetime.now(UTC),
            },
        )
        await s.exec(  # type: ignore[call-overload]
            sa.text(
                "INSERT INTO events (project, request_id, kind, at, actor, platform, text, data) VALUES"
                " ('acme-portal', :id, 'letter_drafted', :at, :actor, 'console', :text, :data)"
            ),
            params={
                "id": request_id,
                "at": datetime.now(UTC),
                "actor": json.dumps(PM.to_dict()),
                "text": first.body_text,
                "data": json.dumps(drafted),
            },
        )

    rec = await service.get_request(ref, actor=PM)
    assert rec.letter is not None and rec.letter.body_html == "<p>as sent</p>"
    assert [e.text for e in rec.events if e.kind == "letter_drafted"][-1] == first.body_text
    versions = "SELECT version FROM letter_versions WHERE request_id = :id"
    await service.edit_letter(ref, actor=PM, body_text=EDIT)
    await service.mark_letter_sent(ref, actor=PM)  # its status alone: no second version
    assert [v for (v,) in await rows(store, versions, id=request_id)] == [1]
    rec = await service.get_request(ref, actor=PM)
    assert rec.letter is not None and rec.letter.body_text == EDIT and rec.letter.body_html == text_to_html(EDIT)
    texts = [(e.kind, e.text) for e in rec.events if e.kind.startswith("letter_")]
    assert texts == [("letter_drafted", first.body_text), ("letter_edited", EDIT), ("letter_sent", "")]


async def test_only_the_messages_updated_later_keep_where_they_were_posted(store: SqlStore) -> None:
    for key, kind in (("a", "review_card"), ("b", "requester_notice"), ("c", "letter_draft"), ("d", "card_update")):
        async with store.transaction() as tx:
            await tx.add_notice(
                Notice(kind=kind, platform="slack", audience="x", text="t", ref="ACME-1", dedupe_key=key)
            )
        [row] = await store.outbox.claim(["slack"], worker="w", limit=1, lease_seconds=60)
        assert await store.outbox.mark_sent(row.id, worker="w", result={"channel": "C1", "ts": f"{key}.1"})
    kept = await rows(store, "SELECT kind FROM posted_messages ORDER BY kind")
    assert [k for (k,) in kept] == ["letter_draft", "review_card"]


async def test_json_is_stored_without_padding(service: IntakeService, store: SqlStore) -> None:
    await service.submit_request(project="acme-portal", actor=MEMBER, text="Customers get locked “out”")
    sql = "SELECT CAST(e.actor AS TEXT), CAST(r.verdict AS TEXT) FROM events e JOIN requests r ON r.id = e.request_id"
    for actor, verdict in await rows(store, sql):
        for text in (actor, verdict):
            assert '": ' not in text and '", "' not in text and "\\u" not in text
            assert json.loads(text)


async def test_upgrading_leaves_the_letters_already_written_as_they_were(fresh_url: str) -> None:
    await upgrade(fresh_url, "0009")
    engine = make_engine(fresh_url)
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO projects (slug, ref_prefix, current_version, next_number, created_at, updated_at)"
                " VALUES ('acme-portal', 'ACME', 1, 1, :at, :at)"
            ),
            {"at": now},
        )
        await conn.execute(
            sa.text(
                "INSERT INTO requests (id, ref, project, number, text, client_words, urgency, requester_platform,"
                " requester_id, status, verdict, verdict_kind, scope_version, created_at, updated_at) VALUES"
                " (1, 'ACME-1', 'acme-portal', 1, 'An app', '', '', 'console', 'sam', 'letter_drafted', :verdict,"
                " 'out_of_scope', 1, :at, :at)"
            ),
            {"at": now, "verdict": json.dumps({"verdict": "out_of_scope", "item": None, "score": 0.9, "clause": ""})},
        )
        await conn.execute(
            sa.text(
                "INSERT INTO letters (request_id, subject, body_text, body_html, language, kind, tone, edited, status,"
                " talking_points, updated_at) VALUES (1, 'Your request', 'Dear Jane', '<p>Dear Jane</p>', 'en',"
                " 'decline', '[]', false, 'draft', '', :at)"
            ),
            {"at": now},
        )
        await conn.execute(
            sa.text(
                "INSERT INTO events (project, request_id, kind, at, actor, platform, text, data) VALUES ('acme-portal',"
                " 1, 'letter_drafted', :at, :actor, 'console', 'Dear Jane', :data)"
            ),
            {"at": now, "actor": json.dumps(PM.to_dict()), "data": json.dumps({"subject": "Your request", "tone": []})},
        )
    await engine.dispose()

    await upgrade(fresh_url)
    store = SqlStore.from_url(fresh_url)
    try:
        async with store.reading() as tx:
            rec = await tx.get_request("ACME-1")
        assert rec is not None and rec.letter is not None
        assert (rec.letter.subject, rec.letter.body_text, rec.letter.body_html) == (
            "Your request",
            "Dear Jane",
            "<p>Dear Jane</p>",
        )
        [event] = [e for e in rec.events if e.kind == "letter_drafted"]
        assert (event.text, event.data) == ("Dear Jane", {"subject": "Your request", "tone": []})
        assert await rows(store, "SELECT body_text, version FROM letters") == [("Dear Jane", None)]
        assert await rows(store, "SELECT version FROM letter_versions") == []
    finally:
        await store.close()
