"""Storage: one transaction per use case, the outbox written with the state change, an append-only record,
scope versions, and clear errors when the database is away. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from bot.domain import Notice, RequestStatus
from bot.errors import StorageUnavailable
from bot.ports import Transaction
from bot.projectfile import load_project_text
from bot.service import IntakeService
from store.repo import SqlStore, SqlTransaction
from tests.conftest import MEMBER, PM, PROJECT_YAML
from tests.support.clock import FakeClock
from tests.test_lifecycle import FORM


class Boom(Exception):
    pass


class FailingNoticeStore(SqlStore):
    """A real store whose transactions fail when the use case writes its notice (after the state change)."""

    fail_on: str = "review_card"

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with self.session() as session:
            tx = SqlTransaction(session, self.dialect)
            original = tx.add_notice
            kind = self.fail_on

            async def add_notice(notice: Notice, *, available_at=None):  # type: ignore[no-untyped-def]
                if notice.kind == kind:
                    raise Boom(kind)
                await original(notice, available_at=available_at)

            async def add_notices(notices: Sequence[Notice]) -> None:
                for notice in notices:
                    if notice.kind == kind:
                        raise Boom(kind)
                await original_many(notices)

            original_many = tx.add_notices
            tx.add_notice = add_notice  # type: ignore[method-assign]
            tx.add_notices = add_notices  # type: ignore[method-assign]
            yield tx


async def count(store: SqlStore, table: str) -> int:
    async with store.session() as s:
        return int((await s.exec(sa.text(f"SELECT count(*) FROM {table}"))).one()[0])  # type: ignore[call-overload]


async def test_a_failure_after_the_state_change_leaves_neither_state_nor_notice(db_url: str, clock: FakeClock) -> None:
    store = FailingNoticeStore.from_url(db_url)
    try:
        service = IntakeService(store, clock=clock)
        await service.load_project(load_project_text(PROJECT_YAML))
        with pytest.raises(Boom):
            await service.submit_request(project="acme-portal", actor=MEMBER, text="Can we pay by credit card?")
        assert (
            await count(store, "requests"),
            await count(store, "events WHERE request_id IS NOT NULL"),
            await count(store, "outbox"),
        ) == (0, 0, 0)

        # A decision whose notices fail leaves the request as it was.
        store.fail_on = "never"
        rec = await service.submit_request(project="acme-portal", actor=MEMBER, text="Can we pay by credit card?")
        events_before = await count(store, "events")
        store.fail_on = "letter_draft"
        with pytest.raises(Boom):
            await service.decline(rec.ref, actor=PM, form=FORM)
        after = await service.get_request(rec.ref)
        assert after.status is RequestStatus.IN_REVIEW and after.decisions == () and after.letter is None
        assert await count(store, "events") == events_before
        assert await count(store, "letters") == 0
        # The request number was not used up by the failed attempt either.
        store.fail_on = "never"
        assert (await service.submit_request(project="acme-portal", actor=MEMBER, text="again")).ref == "ACME-2"
    finally:
        await store.close()


async def test_events_are_append_only_in_the_database(service: IntakeService, store: SqlStore) -> None:
    await service.submit_request(project="acme-portal", actor=MEMBER, text="Can we pay by credit card?")
    for stmt in ("UPDATE events SET text = 'rewritten'", "DELETE FROM events"):
        with pytest.raises((sa_exc.DBAPIError, sa_exc.IntegrityError), match="append-only"):
            async with store.session() as s:
                await s.exec(sa.text(stmt))  # type: ignore[call-overload]
    assert await count(store, "events WHERE request_id IS NOT NULL") == 1  # submitted, with its scope check
    rec = await service.get_request("ACME-1")
    assert [e.kind for e in rec.events] == ["submitted", "scope_checked"]


async def test_reloading_a_changed_file_keeps_the_old_scope_as_a_version(
    service: IntakeService, store: SqlStore
) -> None:
    first = await service.submit_request(
        project="acme-portal", actor=MEMBER, text="Could the order history also be in an iPhone app?"
    )
    unchanged = await service.load_project(load_project_text(PROJECT_YAML))
    assert (unchanged.version, unchanged.changed) == (1, False)
    changed_yaml = PROJECT_YAML.replace('  - {id: mobile, title: "Native iOS and Android apps"}\n', "")
    res = await service.load_project(load_project_text(changed_yaml))
    assert (res.version, res.changed, res.created) == (2, True, False)
    second = await service.submit_request(
        project="acme-portal", actor=MEMBER, text="Could the order history also be in an iPhone app?"
    )
    assert (first.scope_version, second.scope_version) == (1, 2)
    async with store.transaction() as tx:
        old = await tx.get_project_version("acme-portal", 1)
        versions = await tx.project_versions("acme-portal")
    assert old is not None and "mobile" in [i.id for i in old.out_of_scope]
    assert [v.version for v in versions] == [1, 2]
    assert (await service.project("acme-portal")).version == 2


async def test_request_numbers_are_unique_under_concurrent_submissions(service: IntakeService) -> None:
    recs = await asyncio.gather(
        *(service.submit_request(project="acme-portal", actor=MEMBER, text=f"request {i}") for i in range(12))
    )
    assert sorted(r.number for r in recs) == list(range(1, 13))


async def test_two_concurrent_decisions_one_wins(service: IntakeService) -> None:
    rec = await service.submit_request(
        project="acme-portal", actor=MEMBER, text="Customers get locked out after two tries"
    )
    results = await asyncio.gather(
        service.approve(rec.ref, actor=PM), service.decline(rec.ref, actor=PM, form=FORM), return_exceptions=True
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    final = await service.get_request(rec.ref)
    assert len(final.decisions) == 1


async def test_a_ref_prefix_belongs_to_one_project(service: IntakeService) -> None:
    from bot.errors import InvalidInput

    other = PROJECT_YAML.replace("project: acme-portal", "project: acme-web")
    with pytest.raises(InvalidInput, match="ref_prefix"):
        await service.load_project(load_project_text(other))
    ok = await service.load_project(
        load_project_text(other.replace("name: Acme Customer Portal", "ref_prefix: ACMEWEB\nname: Acme Web"))
    )
    assert ok.project.ref_prefix == "ACMEWEB"


async def test_idempotency_keys_give_one_effect(service: IntakeService) -> None:
    from bot.errors import Duplicate

    await service.submit_request(project="acme-portal", actor=MEMBER, text="hello", idempotency_key="slack:event:Ev1")
    with pytest.raises(Duplicate):
        await service.submit_request(
            project="acme-portal", actor=MEMBER, text="hello", idempotency_key="slack:event:Ev1"
        )
    assert len(await service.list_requests(project="acme-portal")) == 1


async def test_an_unreachable_database_is_a_clear_error_naming_database_url() -> None:
    store = SqlStore.from_url("postgresql+asyncpg://intake:secret@127.0.0.1:1/nowhere")
    try:
        with pytest.raises(StorageUnavailable) as info:
            await store.ping()
        message = str(info.value)
        assert "DATABASE_URL" in message and "127.0.0.1:1" in message and "secret" not in message
    finally:
        await store.close()


async def test_a_database_without_tables_says_to_run_the_migrations(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = SqlStore.from_url(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    try:
        service = IntakeService(store)
        with pytest.raises(StorageUnavailable, match="intake db upgrade"):
            await service.projects()
    finally:
        await store.close()
