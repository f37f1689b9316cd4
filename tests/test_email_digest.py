"""The regular client update: content from the record in English and Chinese, what it must not reveal,
sending it by e-mail, and the schedule that sends it once per period even with several processes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from adapters.email.schedule import DigestScheduler, last_occurrence
from bot.domain import RequestStatus, ScopeChange
from bot.errors import PermissionDenied
from bot.projectfile import load_project_file, load_project_text
from bot.service import IntakeService
from store.repo import SqlStore
from tests.conftest import EXAMPLES, MEMBER, PM, PROJECT_YAML
from tests.email_support import (
    MEETING_FORM,
    ZH_PM,
    declined,
    dispatcher,
    smtp_server_fixture,  # noqa: F401  (fixture)
)
from tests.support.clock import FakeClock
from tests.support.smtp import SmtpServer

WEEKLY_YAML = PROJECT_YAML + "cc: [accounts@acme.example]\ndigest: {every: monday 09:00}\n"


async def weekly_service(store: SqlStore, clock: FakeClock) -> IntakeService:
    svc = IntakeService(store, clock=clock)
    await svc.load_project(load_project_text(WEEKLY_YAML, "acme.yaml"))
    return svc


async def a_mixed_record(service: IntakeService, clock: FakeClock) -> dict[str, str]:
    """One request in each situation the client may hear about; returns ref by situation."""
    refs: dict[str, str] = {}
    old = await service.submit_request(project="acme-portal", actor=MEMBER, text="Export the order history to CSV")
    await service.approve(old.ref, actor=PM)
    refs["approved_long_ago"] = old.ref
    clock.advance(days=10)
    refs["open"] = (
        await service.submit_request(
            project="acme-portal",
            actor=MEMBER,
            text="Customers get locked out after two tries",
            client_words="Our buyers are locked out after only two wrong passwords!",
        )
    ).ref
    asked = await service.submit_request(project="acme-portal", actor=MEMBER, text="Add a live chat")
    await service.ask_details(asked.ref, actor=PM, question="Which hours should it cover?")
    refs["asked"] = asked.ref
    approved = await service.submit_request(project="acme-portal", actor=MEMBER, text="Show the order status from SAP")
    await service.approve(approved.ref, actor=PM)
    refs["approved"] = approved.ref
    refs["declined_unsent"] = await declined(service, text="Could we also pay by credit card?")
    sent = await declined(service)
    await service.mark_letter_sent(sent, actor=PM, via="manual")
    refs["declined_sent"] = sent
    refs["meeting"] = await declined(service, MEETING_FORM, text="We want native iOS and Android apps")
    clock.advance(hours=1)
    return refs


async def test_the_update_lists_open_and_recently_decided_requests_in_the_clients_terms(
    store: SqlStore, clock: FakeClock
) -> None:
    svc = await weekly_service(store, clock)
    refs = await a_mixed_record(svc, clock)
    d = await svc.build_digest("acme-portal")
    assert d.since == clock.now() - timedelta(days=7)
    assert [e.ref for e in d.open] == [refs["open"], refs["asked"], refs["declined_unsent"], refs["meeting"]]
    assert [e.ref for e in d.decided] == [refs["approved"], refs["declined_sent"]]
    by_ref = {e.ref: e for e in (*d.open, *d.decided)}
    assert by_ref[refs["open"]].words == "Our buyers are locked out after only two wrong passwords!"
    assert (by_ref[refs["open"]].status, by_ref[refs["asked"]].status) == (
        "under review",
        "we are clarifying some details",
    )
    # A decline the client has not been told about yet stays "under review": the PM's letter tells them.
    assert by_ref[refs["declined_unsent"]].status == "under review"
    assert by_ref[refs["declined_unsent"]].next_step == "We will write to you about it separately."
    assert by_ref[refs["meeting"]].next_step.startswith("We would like to discuss it with you")
    assert by_ref[refs["approved"]].status == "accepted"
    assert by_ref[refs["declined_sent"]].status == "answered in our letter of 13 November 2026"
    text = d.body_text
    assert d.subject == "Update on your requests: Acme Customer Portal (13 November 2026)"
    assert text.startswith(
        "Dear Jane Doe,\n\nHere is our update on the requests you have raised with us for the Acme Customer Portal project"
    )
    assert "1. Open requests" in text and "2. Decided since 6 November 2026" in text
    assert f"{refs['open']} (raised on 13 November 2026)\n  “Our buyers are locked out" in text
    for secret in ("declined", "out of scope", "not in the scope", "Which hours", "scope_change", "iOS app)"):
        assert secret not in text
    assert refs["approved_long_ago"] not in text  # decided before the period
    assert "<table" in d.body_html and "Our buyers are locked out" in d.body_html


async def test_the_update_lets_each_page_of_requests_go_once_its_entries_are_taken(
    store: SqlStore, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large project's update holds one page of its requests at a time, not all of them."""
    import gc
    import weakref

    from bot.digest import DigestBuilder
    from store.repo import SqlTransaction

    svc = await weekly_service(store, clock)
    refs = await a_mixed_record(svc, clock)
    pages = SqlTransaction.request_pages
    monkeypatch.setattr(SqlTransaction, "request_pages", lambda self, **kw: pages(self, **{**kw, "page_size": 2}))
    seen: list[weakref.ref[object]] = []
    add = DigestBuilder.add

    def add_and_watch(self: DigestBuilder, requests: list[object]) -> None:
        gc.collect()
        assert [r for r in seen if r() is not None] == []  # the pages before are gone
        assert len(requests) <= 2  # one page at a time
        add(self, requests)  # type: ignore[arg-type]
        seen.extend(weakref.ref(r) for r in requests)

    monkeypatch.setattr(DigestBuilder, "add", add_and_watch)
    d = await svc.build_digest("acme-portal")
    assert len(seen) >= 4
    assert [e.ref for e in d.open] == [refs["open"], refs["asked"], refs["declined_unsent"], refs["meeting"]]


async def test_the_update_for_a_chinese_client_is_written_in_chinese(store: SqlStore, clock: FakeClock) -> None:
    svc = IntakeService(store, clock=clock)
    await svc.load_project(load_project_file(str(EXAMPLES / "lanting-crm.yaml")))
    waiting = await svc.submit_request(project="lanting-crm", actor=MEMBER, text="能否增加会员储值卡功能？")
    accepted = await svc.submit_request(project="lanting-crm", actor=MEMBER, text="报表能不能按周统计？")
    await svc.approve(accepted.ref, actor=ZH_PM, change=ScopeChange("2 人天", "无影响"))
    d = await svc.build_digest("lanting-crm")
    assert d.subject == "需求进展汇报：兰亭茶业会员管理系统（2026年11月3日）"
    text = d.body_text
    assert text.startswith(
        "尊敬的周文静：\n\n您好！现将截至2026年11月3日，您就“兰亭茶业会员管理系统”项目向我们提出的各项需求的进展汇报如下。"
    )
    assert "一、处理中的需求" in text and "二、2026年10月27日以来已有结论的需求" in text
    assert f"{waiting.ref}（提出日期：2026年11月3日）\n  “能否增加会员储值卡功能？”\n  状态：评估中" in text
    assert f"{accepted.ref}（提出日期：2026年11月3日）" in text and "状态：已确认，作为项目范围变更" in text
    assert text.rstrip().endswith("此致\n敬礼！\n\n“兰亭茶业会员管理系统”项目组\n2026年11月3日")


async def test_an_update_with_nothing_to_report_says_so(service: IntakeService) -> None:
    d = await service.build_digest("acme-portal")
    assert d.empty
    assert "There are no open requests, and none has been decided since 27 October 2026." in d.body_text


async def test_the_update_is_emailed_to_the_client_and_answers_go_to_the_pms(
    store: SqlStore, clock: FakeClock, smtp_server: SmtpServer
) -> None:
    svc = await weekly_service(store, clock)
    await svc.submit_request(project="acme-portal", actor=MEMBER, text="Customers get locked out after two tries")
    with pytest.raises(PermissionDenied):
        await svc.send_digest("acme-portal", actor=MEMBER)
    d = await svc.send_digest("acme-portal", actor=PM)
    assert d is not None
    await dispatcher(store, svc, smtp_server).drain()
    (got,) = smtp_server.received
    msg = got.message
    assert got.rcpt_tos == ["jane.doe@acme.example", "accounts@acme.example"]
    assert msg["Subject"] == d.subject and msg["Reply-To"] == "pm@acme.example"
    assert msg["Auto-Submitted"] == "auto-generated" and msg["X-Intake-Request"] is None
    assert msg.get_body(("plain",)).get_content().startswith("Dear Jane Doe,")  # type: ignore[union-attr]
    assert msg.get_body(("html",)) is not None
    # The next update starts where this one ended.
    clock.advance(days=3)
    assert (await svc.build_digest("acme-portal")).since == d.until


@pytest.mark.parametrize(
    ("every", "now", "expected"),
    [
        ("monday 09:00", "2026-11-02T08:30:00+00:00", "2026-11-02T09:00:00+01:00"),  # Monday 09:30 in Berlin
        ("monday 09:00", "2026-11-02T07:59:00+00:00", "2026-10-26T09:00:00+01:00"),  # not yet: last week's
        ("weekdays 17:00", "2026-11-08T12:00:00+00:00", "2026-11-06T17:00:00+01:00"),  # Sunday: Friday's
        ("daily 08:30", "2026-03-29T07:00:00+00:00", "2026-03-29T08:30:00+02:00"),  # the day clocks go forward
    ],
)
def test_schedules_find_their_latest_time_in_the_projects_zone(every: str, now: str, expected: str) -> None:
    got = last_occurrence(every, "Europe/Berlin", datetime.fromisoformat(now))
    assert got.isoformat() == expected


async def test_the_schedule_sends_once_per_period_even_with_several_processes(
    store: SqlStore, smtp_server: SmtpServer
) -> None:
    clock = FakeClock(datetime(2026, 11, 2, 8, 0, tzinfo=UTC))  # Monday 09:00 in Berlin
    svc = await weekly_service(store, clock)
    await svc.submit_request(project="acme-portal", actor=MEMBER, text="Customers get locked out after two tries")
    clock.advance(minutes=5)
    woken: list[str] = []
    schedulers = [
        DigestScheduler(svc, store, worker=f"process-{i}", on_queued=lambda i=i: woken.append(f"process-{i}"))
        for i in range(3)
    ]
    results = await asyncio.gather(*(s.run_once() for s in schedulers))
    assert sorted(len(r) for r in results) == [0, 0, 1]
    assert len(woken) == 1
    clock.advance(hours=2)
    assert [await s.run_once() for s in schedulers] == [[], [], []]
    await dispatcher(store, svc, smtp_server).drain()
    assert len(smtp_server.received) == 1
    # Next Monday is a new period.
    clock.advance(days=7)
    assert [p for s in schedulers for p in await s.run_once()] == [("acme-portal", "2026-11-09T09:00+01:00")]


async def test_the_service_queues_one_update_per_period_even_without_the_job_lock(
    store: SqlStore, clock: FakeClock
) -> None:
    svc = await weekly_service(store, clock)
    await svc.submit_request(project="acme-portal", actor=MEMBER, text="Customers get locked out after two tries")
    first, second = await asyncio.gather(
        svc.send_digest("acme-portal", period="2026-11-02T09:00+01:00"),
        svc.send_digest("acme-portal", period="2026-11-02T09:00+01:00"),
    )
    assert (first is None) != (second is None)


async def test_a_missed_window_or_an_empty_update_is_not_sent(store: SqlStore) -> None:
    clock = FakeClock(datetime(2026, 11, 2, 15, 30, tzinfo=UTC))  # Monday, 7.5 hours after 09:00 in Berlin
    svc = await weekly_service(store, clock)
    scheduler = DigestScheduler(svc, store, worker="one")
    await svc.submit_request(project="acme-portal", actor=MEMBER, text="Customers get locked out after two tries")
    assert await scheduler.run_once() == []  # too late for this week's
    empty = await weekly_service(store, FakeClock(datetime(2026, 11, 9, 8, 0, tzinfo=UTC)))
    rec = (await empty.list_requests(project="acme-portal"))[0]
    await empty.withdraw(rec.ref, actor=MEMBER)
    empty.clock = FakeClock(datetime(2026, 11, 16, 8, 5, tzinfo=UTC))  # a week later: nothing open, nothing new
    assert await DigestScheduler(empty, store, worker="two").run_once() == []
    assert (await empty.get_request(rec.ref)).status is RequestStatus.WITHDRAWN
