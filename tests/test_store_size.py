"""What the record keeps, kept once: each letter version in one row that the letter and its events refer
to, the HTML made from the text, JSON without padding or what reading it back restores, no payload of a
delivered notice, only the posted messages a later update needs, and no index another one serves.
Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import SQLModel

from bot.domain import Actor, DeclineForm, Notice, Source, Verdict, VerdictKind
from bot.letters.writer import text_to_html
from bot.phrase import Phrase
from bot.service import IntakeService
from store.compact import tone_in, tone_out, verdict_in
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


async def written_before(
    s: Any, request_id: int, kind: str, actor: Actor, text: str, data: dict[str, Any], *, at: datetime | None = None
) -> None:
    """An event row as an earlier version wrote it: the text, data and actor in the row itself."""
    await s.exec(
        sa.text(
            "INSERT INTO events (project, request_id, kind, at, actor, platform, text, data) VALUES"
            " ('acme-portal', :id, :kind, :at, :actor, 'console', :text, :data)"
        ),
        params={
            "id": request_id,
            "kind": kind,
            "at": at or datetime.now(UTC),
            "actor": json.dumps(actor.to_dict()),
            "text": text,
            "data": json.dumps(data),
        },
    )


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
        await written_before(s, request_id, "letter_drafted", PM, first.body_text, drafted)

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


async def test_stored_json_leaves_out_what_reading_it_back_restores(service: IntakeService, store: SqlStore) -> None:
    nameless = Actor("slack", "U0NONAME")  # no e-mail, no name
    rec = await service.submit_request(
        project="acme-portal", actor=nameless, text="Can we get a native iPhone app?", source=Source("slack", "C0IN")
    )
    declined = await service.decline(rec.ref, actor=PM, form=FORM)
    assert declined.letter is not None and declined.letter.tone

    [(verdict, source)] = await rows(store, "SELECT verdict, source FROM requests")
    assert as_dict(source) == {"platform": "slack", "channel": "C0IN"}
    stored = as_dict(verdict)
    assert not {k for k, v in rec.verdict.to_dict().items() if v in ([], "", None)} & set(stored)
    actors = [as_dict(a) for (a,) in await rows(store, "SELECT actor FROM events WHERE kind = 'submitted'")]
    assert actors == [{"user_id": "U0NONAME"}]  # the platform is the event's own column
    [(tone,)] = await rows(store, "SELECT tone FROM letter_versions")
    assert all(
        "detail" not in t and "offending" not in t for t in as_dict(tone) if t.get("why") and not t.get("offending")
    )

    # Read back, every value is what was given.
    again = await service.get_request(rec.ref, actor=PM)
    assert again.verdict.to_dict() == rec.verdict.to_dict() and again.source == Source("slack", "C0IN")
    assert again.events[0].actor.to_dict() == nameless.to_dict()
    assert again.letter is not None
    assert [t.to_dict() for t in again.letter.tone] == [t.to_dict() for t in declined.letter.tone]
    [drafted] = [e for e in again.events if e.kind == "letter_drafted"]
    assert drafted.data["tone"] == [t.to_dict() for t in declined.letter.tone]


def test_a_value_that_would_not_read_back_the_same_is_stored_as_given() -> None:
    why = Phrase("tone.none_found").to_dict()
    rendered = Phrase("tone.none_found").render("en")
    assert tone_in([{"rule": "no_promises", "passed": True, "detail": rendered, "offending": [], "why": why}]) == [
        {"rule": "no_promises", "passed": True, "why": why}
    ]
    # A detail in other words (an earlier wording) stays; so do the words a rule found fault with.
    worded = {"rule": "no_promises", "passed": True, "detail": "nothing found", "offending": [], "why": why}
    assert tone_in([worded]) == [{"rule": "no_promises", "passed": True, "detail": "nothing found", "why": why}]
    faulted = {"rule": "says_we", "passed": False, "detail": "x", "offending": ["I will"]}
    assert tone_in([faulted]) == [faulted] and tone_out(tone_in([faulted])) == [faulted]
    for given in (worded, faulted):
        assert tone_out(tone_in([given])) == [given]
    # A key its reader does not know stays; a verdict its reader cannot read is kept whole.
    odd = {"verdict": "in_scope", "item": "orders", "score": 0.9, "clause": "", "parts": [], "future": 1}
    assert verdict_in(odd) == {"verdict": "in_scope", "item": "orders", "score": 0.9, "future": 1}
    unread = {"kind": "in_scope", "clause": "", "parts": []}
    assert verdict_in(unread) == unread
    plain = {"verdict": "unlisted", "item": None, "score": 0.1, "clause": "", "parts": [], "extras": []}
    assert verdict_in(plain) == {"verdict": "unlisted", "score": 0.1}


async def test_a_delivered_notice_keeps_no_payload(store: SqlStore) -> None:
    letter = "Dear Jane, thank you for asking. " + "We understand how much this matters to you. " * 40
    for key in ("sent", "waiting"):
        async with store.transaction() as tx:
            await tx.add_notice(
                Notice(
                    kind="letter_draft",
                    platform="slack",
                    audience="x",
                    text=letter,
                    data={"blocks": [1]},
                    dedupe_key=key,
                )
            )
    [row, _] = await store.outbox.claim(["slack"], worker="w", limit=2, lease_seconds=60)
    assert await store.outbox.mark_sent(row.id, worker="w", result={"channel": "C1", "ts": "1.1"})
    kept = await rows(store, "SELECT text, status, data IS NULL, result IS NULL FROM outbox ORDER BY id")
    assert [tuple(r) for r in kept] == [(letter, "sent", True, False), (letter, "sending", False, True)]


async def test_the_upgraded_schema_has_exactly_the_indexes_the_models_declare(fresh_url: str) -> None:
    await upgrade(fresh_url)
    engine = make_engine(fresh_url)
    try:
        async with engine.connect() as conn:

            def names(sync: Any) -> dict[str, set[str]]:
                inspector = sa.inspect(sync)
                return {t: {i["name"] for i in inspector.get_indexes(t)} for t in SQLModel.metadata.tables}

            found = await conn.run_sync(names)
    finally:
        await engine.dispose()
    declared = {name: {i.name for i in t.indexes} for name, t in SQLModel.metadata.tables.items()}
    assert {t: {n for n in found[t] if n.startswith("ix_")} for t in declared} == declared
    assert "ix_requests_status" not in found["requests"] and "ix_events_project_at" in found["events"]


async def test_a_new_requests_first_events_are_one_row_that_reads_its_verdict_from_the_request(
    service: IntakeService, store: SqlStore
) -> None:
    rec = await service.submit_request(project="acme-portal", actor=MEMBER, text="Could we get a native Android app?")
    [(text, data)] = await rows(store, "SELECT text, data FROM events WHERE request_id IS NOT NULL")
    assert text == "" and as_dict(data) == {"from_request": 1, "check": {"scope_version": 1}}
    first = await service.get_request(rec.ref, actor=PM)
    assert [(e.kind, e.text) for e in first.events] == [(e.kind, e.text) for e in rec.events]
    assert [e.data for e in first.events] == [e.data for e in rec.events]
    assert first.events[1].data["verdict"] == rec.verdict.to_dict() and rec.verdict.clause in first.events[1].text

    # The verdict changes: the record still shows the one the request was recorded with.
    await service.correct_verdict(rec.ref, actor=PM, verdict=VerdictKind.UNLISTED, note="Let us look at it")
    await service.correct_verdict(rec.ref, actor=PM, verdict=VerdictKind.IN_SCOPE, item_id="orders")
    again = await service.get_request(rec.ref, actor=PM)
    assert again.verdict.verdict is VerdictKind.IN_SCOPE and again.verdict.item_id == "orders"
    assert [e.data for e in again.events[:2]] == [e.data for e in rec.events]
    assert [e.text for e in again.events[:2]] == [e.text for e in rec.events]
    [(kept,)] = await rows(store, "SELECT recorded_verdict FROM requests")
    assert Verdict.from_dict(as_dict(kept)).to_dict() == rec.verdict.to_dict()
    exported = [e.to_dict() for e in again.events]
    assert [e["kind"] for e in exported] == ["submitted", "scope_checked", "verdict_corrected", "verdict_corrected"]


async def test_a_request_recorded_before_keeps_its_two_events_as_written(
    service: IntakeService, store: SqlStore
) -> None:
    rec = await service.submit_request(project="acme-portal", actor=MEMBER, text="Could we get a native Android app?")
    old = "A native Android app (as an earlier version wrote it)"
    columns = (
        "project, text, client_words, urgency, requester_platform, requester_id, status, verdict, verdict_kind,"
        " scope_version, created_at, updated_at"
    )
    async with store.session() as s:
        await s.exec(  # type: ignore[call-overload]
            sa.text(
                f"INSERT INTO requests (id, ref, number, {columns}) SELECT 99, 'ACME-99', 99, {columns} FROM requests"
            )
        )
        for kind, text, data in (
            ("submitted", old, {"source": None}),
            ("scope_checked", "out of scope (mobile)", {"verdict": rec.verdict.to_dict(), "scope_version": 1}),
        ):
            await written_before(s, 99, kind, MEMBER, text, data, at=rec.created_at)
    await service.correct_verdict("ACME-99", actor=PM, verdict=VerdictKind.UNLISTED)
    again = await service.get_request("ACME-99", actor=PM)
    assert [(e.kind, e.text) for e in again.events[:2]] == [
        ("submitted", old),
        ("scope_checked", "out of scope (mobile)"),
    ]
    assert again.events[1].data["verdict"] == rec.verdict.to_dict()
    assert await rows(store, "SELECT recorded_verdict IS NULL FROM requests WHERE id = 99") == [(True,)]


async def test_a_decline_event_reads_its_reason_and_form_from_the_decision(
    service: IntakeService, store: SqlStore
) -> None:
    ref = await submit(service)
    declined = await service.decline(ref, actor=PM, form=FORM)
    [event] = [e for e in declined.events if e.kind == "declined"]
    [(text, data)] = await rows(store, "SELECT text, data FROM events WHERE kind = 'declined'")
    assert text == "" and as_dict(data) == {"from_decision": 1}  # the request's first decision
    again = await service.get_request(ref, actor=PM)
    [read] = [e for e in again.events if e.kind == "declined"]
    assert read == event and read.actor == PM and (read.text, read.data) == (FORM.reason_text.strip(), FORM.to_dict())
    assert [e.to_dict() for e in again.events] == [e.to_dict() for e in declined.events]


async def test_a_declined_requests_form_is_its_decisions_and_nothing_is_stored_as_json_null(
    service: IntakeService, store: SqlStore
) -> None:
    ref = await submit(service)
    await service.decline(ref, actor=PM, form=FORM)
    [(form,)] = await rows(store, "SELECT decline_form FROM requests")
    assert as_dict(form) == {"from_decision": 1}
    rec = await service.get_request(ref, actor=PM)
    assert rec.decline_form == FORM and rec.decline_form.to_dict() == FORM.to_dict()
    # A new form for the letter is the request's own from then on; the decision keeps the first.
    other = DeclineForm.from_dict(FORM.to_dict() | {"reason_text": "Our budget for this phase is spent."})
    await service.draft_letter(ref, actor=PM, form=other)
    rec = await service.get_request(ref, actor=PM)
    assert rec.decline_form == other and rec.decisions[0].form == FORM.to_dict()
    for table, column in (("requests", "recorded_verdict"), ("decisions", "on_behalf_of"), ("events", "data")):
        assert await rows(store, f"SELECT count(*) FROM {table} WHERE CAST({column} AS TEXT) = 'null'") == [(0,)]


async def test_a_delegates_decline_keeps_its_own_event_which_names_the_away_pm(
    service: IntakeService, store: SqlStore
) -> None:
    ref = await submit(service)  # recorded by Sam, who is on the team from then on
    delegate = Actor("console", MEMBER.user_id, email=MEMBER.email, name="Sam Reed")
    await service.set_away(PM, until=(service.clock.now() + timedelta(days=5)).date(), delegate=delegate)
    await service.decline(ref, actor=delegate, form=FORM)
    [(text, data)] = await rows(store, "SELECT text, data FROM events WHERE kind = 'declined'")
    assert text == f"{FORM.reason_text.strip()} (on behalf of Pat Morgan)" and as_dict(data) == FORM.to_dict() | {
        "on_behalf_of": PM.to_dict()
    }
    rec = await service.get_request(ref, actor=PM)
    [event] = [e for e in rec.events if e.kind == "declined"]
    assert (event.actor, event.text) == (delegate, text) and rec.decline_form == FORM
    assert rec.decisions[0].on_behalf_of == PM
