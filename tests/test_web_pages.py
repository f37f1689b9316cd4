"""The web page for PMs, through real HTTP: signing in, sessions and form tokens, who sees what, the list's
filters and pages, the request page's actions, letter and sending, the change register, both languages."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from adapters.cli.main import cli
from bot.domain import Actor, ScopeChange
from bot.projectfile import load_project_file
from bot.service import IntakeService
from store.repo import SqlStore
from tests.conftest import EXAMPLES, MEMBER, OTHER, PM
from tests.email_support import EMAIL_FORM, smtp_server_fixture  # noqa: F401  (a fixture)
from tests.support.smtp import SmtpServer
from tests.web_support import csrf_of, sign_in, web_client

IPHONE = "Could the order history also be in an iPhone app?"
CARD = "Can we pay by credit card?"


async def two_requests(service: IntakeService) -> tuple[str, str]:
    a = await service.submit_request(project="acme-portal", actor=MEMBER, text=IPHONE)
    b = await service.submit_request(project="acme-portal", actor=OTHER, text=CARD)
    return a.ref, b.ref


# --- signing in --------------------------------------------------------------------------------


async def test_pages_ask_to_sign_in_and_a_link_signs_in_once(service: IntakeService, db_url: str) -> None:
    ref, _ = await two_requests(service)
    client = await web_client(service, db_url)
    try:
        resp = await client.get(f"/app/r/{ref}", allow_redirects=False)
        assert resp.status == 303 and resp.headers["Location"].startswith("/app/signin?next=")
        from adapters.web.pm.links import new_signin_link

        link = await new_signin_link(service.store, "PM@acme.example", now=service.clock.now(), base_url="http://x")  # type: ignore[arg-type]
        token = link.split("token=")[1]
        # Only the hash is kept: the token itself is nowhere in the database.
        store = service.store
        assert isinstance(store, SqlStore)
        async with store.session() as s:
            rows = (await s.exec(sa.text("SELECT token_hash, email FROM web_signin_links"))).all()  # type: ignore[call-overload]
        assert rows and all(token not in str(r) for r in rows) and rows[0][1] == "pm@acme.example"
        page = await client.get(f"/app/signin/link?token={token}")
        html = await page.text()
        assert page.status == 200 and "intake_csrf" in page.cookies
        first = await client.post(
            "/app/signin/link", data={"csrf": csrf_of(html), "token": token, "next": f"/app/r/{ref}"}
        )
        assert first.status == 200 and ref in await first.text()
        session = first.history[0].cookies["intake_session"]
        assert session["httponly"] and session["samesite"] == "Lax" and not session["secure"]
        client.session.cookie_jar.clear()
        page = await client.get(f"/app/signin/link?token={token}")
        again = await client.post("/app/signin/link", data={"csrf": csrf_of(await page.text()), "token": token})
        assert again.status == 400 and "expired or was already used" in await again.text()
    finally:
        await client.close()


async def test_a_link_expires_after_15_minutes(service: IntakeService, db_url: str, clock) -> None:  # type: ignore[no-untyped-def]
    from adapters.web.pm.links import new_signin_link

    client = await web_client(service, db_url)
    try:
        link = await new_signin_link(service.store, "pm@acme.example", now=clock.now(), base_url="http://x")  # type: ignore[arg-type]
        clock.advance(minutes=15, seconds=1)
        page = await client.get("/app/signin/link?" + link.split("?")[1])
        resp = await client.post(
            "/app/signin/link", data={"csrf": csrf_of(await page.text()), "token": link.split("token=")[1]}
        )
        assert resp.status == 400
    finally:
        await client.close()


async def test_a_session_ends_when_idle_and_on_sign_out(service: IntakeService, db_url: str, clock) -> None:  # type: ignore[no-untyped-def]
    client = await web_client(service, db_url, INTAKE_WEB_IDLE_MINUTES=30)
    try:
        csrf = await sign_in(client, service, "pm@acme.example")
        clock.advance(minutes=29)
        assert (await client.get("/app/requests", allow_redirects=False)).status == 200
        clock.advance(minutes=29)  # used 29 minutes ago: still alive
        assert (await client.get("/app/requests", allow_redirects=False)).status == 200
        clock.advance(minutes=31)
        assert (await client.get("/app/requests", allow_redirects=False)).status == 303
        csrf = await sign_in(client, service, "pm@acme.example")
        out = await client.post("/app/signout", data={"csrf": csrf}, allow_redirects=False)
        assert out.status == 303
        assert (await client.get("/app/requests", allow_redirects=False)).status == 303
    finally:
        await client.close()


async def test_cookies_are_secure_behind_an_https_proxy(service: IntakeService, db_url: str) -> None:
    client = await web_client(service, db_url)
    try:
        resp = await client.get("/app/signin", headers={"X-Forwarded-Proto": "https"})
        assert resp.cookies["intake_csrf"]["secure"]
        assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
    finally:
        await client.close()


async def test_a_link_is_emailed_only_to_someone_on_a_team(
    service: IntakeService, db_url: str, smtp_server: SmtpServer
) -> None:
    await two_requests(service)
    client = await web_client(
        service, db_url, SMTP_URL=smtp_server.url, INTAKE_MAIL_FROM="Projects <p@northbeam.example>"
    )
    try:
        for email in ("stranger@else.example", "sam@acme-team.example"):
            page = await client.get("/app/signin")
            resp = await client.post("/app/signin/email", data={"csrf": csrf_of(await page.text()), "email": email})
            assert resp.status == 200 and "a sign-in link is on its way" in await resp.text()
        assert [r.rcpt_tos for r in smtp_server.received] == [["sam@acme-team.example"]]
        body = smtp_server.received[0].message.get_content()
        link = re.search(r"http://\S+", body)
        assert link and "15 minutes" in body
        page = await client.get(link.group(0).split(str(client.make_url("")).rstrip("/"))[1])
        html = await page.text()
        token = re.search(r'name="token" value="([^"]+)"', html)
        assert token
        done = await client.post("/app/signin/link", data={"csrf": csrf_of(html), "token": token.group(1)})
        assert done.status == 200 and "sam@acme-team.example" in await done.text()
        client.session.cookie_jar.clear()
        for _ in range(4):  # nobody can make the server flood a mailbox: 3 links per 15 minutes
            page = await client.get("/app/signin")
            resp = await client.post(
                "/app/signin/email", data={"csrf": csrf_of(await page.text()), "email": "sam@acme-team.example"}
            )
            assert resp.status == 200
        assert len(smtp_server.received) == 3
    finally:
        await client.close()


def test_the_command_line_prints_a_link(service: IntakeService, sqlite_url: str) -> None:
    result = CliRunner().invoke(
        cli,
        ["web", "link", "pm@acme.example", "--base-url", "https://intake.example"],
        env={"DATABASE_URL": sqlite_url},
    )
    assert result.exit_code == 0, result.output
    assert re.fullmatch(r"https://intake\.example/app/signin/link\?token=[\w-]+\n", result.stdout)
    bad = CliRunner().invoke(cli, ["web", "link", "not-an-address"], env={"DATABASE_URL": sqlite_url})
    assert bad.exit_code == 2 and "not an e-mail address" in bad.output


# --- form tokens and permissions ---------------------------------------------------------------


async def test_a_post_without_the_right_form_token_is_refused(service: IntakeService, db_url: str) -> None:
    ref, _ = await two_requests(service)
    client = await web_client(service, db_url)
    try:
        await sign_in(client, service, "pm@acme.example")
        form = {"reason_category": "project_goals", "reason_text": "Not now.", "channel": "email"}
        for token in (None, "forged"):
            data = dict(form, **({"csrf": token} if token else {}))
            resp = await client.post(f"/app/r/{ref}/act/decline", data=data)
            assert resp.status == 403 and "security token" in await resp.text()
        assert (await service.get_request(ref)).last_decision is None
        assert (await client.post("/app/language", data={"language": "zh"})).status == 403
    finally:
        await client.close()


async def test_a_team_member_sees_no_decide_buttons_and_a_forged_decision_is_refused_and_recorded(
    service: IntakeService, db_url: str
) -> None:
    ref, other_ref = await two_requests(service)
    client = await web_client(service, db_url)
    try:
        csrf = await sign_in(client, service, "sam@acme-team.example")
        html = await (await client.get(f"/app/r/{ref}")).text()
        assert 'data-action="approve"' not in html and 'data-action="decline"' not in html
        assert 'data-action="withdraw"' in html  # their own request: they may withdraw it, as in chat
        other = await (await client.get(f"/app/r/{other_ref}")).text()  # a colleague's request on the team
        assert CARD in other and "data-action" not in other
        resp = await client.post(
            f"/app/r/{ref}/act/decline",
            data={"csrf": csrf, "reason_category": "project_goals", "reason_text": "No.", "channel": "email"},
        )
        assert resp.status == 403 and "Only" in await resp.text()
        rec = await service.get_request(ref)
        assert rec.last_decision is None
        denied = [e for e in rec.events if e.kind == "denied"]
        assert len(denied) == 1 and denied[0].actor.email == "sam@acme-team.example"
        assert (await client.get(f"/app/r/{ref}/act/approve")).status == 403
        tone = await client.post(f"/app/r/{ref}/tone", data={"csrf": csrf, "body": "x"})
        assert tone.status == 403
    finally:
        await client.close()


async def test_nobody_sees_another_project(service: IntakeService, db_url: str) -> None:
    await service.load_project(load_project_file(str(EXAMPLES / "lanting-crm.yaml")))
    stranger = Actor("console", "wu@lanting.example", email="wu@lanting.example", name="吴")
    theirs = await service.submit_request(project="lanting-crm", actor=stranger, text="能不能加一个会员积分功能？")
    ours, _ = await two_requests(service)
    client = await web_client(service, db_url)
    try:
        await sign_in(client, service, "sam@acme-team.example")
        assert (await client.get(f"/app/r/{theirs.ref}")).status == 404
        assert (await client.get("/app/projects/lanting-crm")).status == 404
        listing = await (await client.get("/app/requests")).text()
        assert ours in listing and theirs.ref not in listing
        assert (await client.get("/app/requests?project=lanting-crm")).status == 404
        assert (await client.get("/app/changes?project=lanting-crm")).status == 404
        projects = await (await client.get("/app/projects")).text()
        assert "Acme Customer Portal" in projects and "lanting" not in projects
    finally:
        await client.close()


# --- the list ------------------------------------------------------------------------------------


async def test_the_list_filters_searches_sorts_and_pages(service: IntakeService, db_url: str, clock) -> None:  # type: ignore[no-untyped-def]
    refs = []
    for i in range(7):
        rec = await service.submit_request(
            project="acme-portal", actor=MEMBER if i % 2 else OTHER, text=f"Report number {i} as PDF export"
        )
        refs.append(rec.ref)
        clock.advance(days=1)
    iphone = await service.submit_request(project="acme-portal", actor=MEMBER, text=IPHONE)
    await service.approve(refs[0], actor=PM, change=ScopeChange("2 days", "none"))
    client = await web_client(service, db_url)
    try:
        await sign_in(client, service, "pm@acme.example")

        async def refs_of(query: str) -> list[str]:
            resp = await client.get("/app/requests?" + query)
            assert resp.status == 200, await resp.text()
            return re.findall(r'<td><a href="/app/r/([A-Z]+-\d+)">', await resp.text())

        assert await refs_of("q=iphone") == [iphone.ref]
        assert await refs_of("q=" + iphone.ref.lower()) == [iphone.ref]
        assert await refs_of("q=report+pdf&sort=ref&dir=asc") == refs
        assert await refs_of("status=approved") == [refs[0]]
        assert await refs_of(f"verdict={iphone.verdict.verdict.value}&q=iphone") == [iphone.ref]
        assert set(await refs_of("requester=lee")) == {refs[0], refs[2], refs[4], refs[6]}
        day = (clock.now() - timedelta(days=3)).date().isoformat()
        assert set(await refs_of(f"since={day}")) == {refs[4], refs[5], refs[6], iphone.ref}
        page1 = await refs_of("per_page=3&sort=ref&dir=asc")
        page3 = await refs_of("per_page=3&sort=ref&dir=asc&page=3")
        assert page1 == refs[:3] and page3 == [refs[6], iphone.ref]
        by_due = await refs_of("sort=due&dir=asc")
        assert by_due == [*refs[1:], iphone.ref, refs[0]]  # the approved one has nothing due: last
        assert await refs_of("sort=due&dir=asc&per_page=3&page=3") == by_due[6:]  # across the two parts
        assert await refs_of("sort=due&per_page=3") == [iphone.ref, refs[6], refs[5]]
        html = await (await client.get("/app/requests?per_page=3")).text()
        assert "8 requests · page 1 of 3" in html and 'rel="next"' in html
        clock.advance(days=30)  # every open decision is past due now (and the session has timed out)
        await sign_in(client, service, "pm@acme.example")
        overdue = await refs_of("due=overdue")
        assert refs[0] not in overdue and iphone.ref in overdue and len(overdue) == 7
        for bad in ("page=0", "page=x", "status=lost", "since=yesterday", "sort=colour", "per_page=100000"):
            resp = await client.get("/app/requests?" + bad)
            assert resp.status == 400, bad
    finally:
        await client.close()


# --- a request: deciding, the letter, sending -----------------------------------------------------


async def test_decline_edit_and_send_the_letter(service: IntakeService, db_url: str, smtp_server: SmtpServer) -> None:
    ref, _ = await two_requests(service)
    client = await web_client(
        service, db_url, SMTP_URL=smtp_server.url, INTAKE_MAIL_FROM="Projects <p@northbeam.example>"
    )
    try:
        csrf = await sign_in(client, service, "pm@acme.example")
        page = await (await client.get(f"/app/r/{ref}/act/decline")).text()
        assert 'name="reason_text"' in page and "data-tone-url" in page
        blunt = {
            "csrf": csrf,
            "reason_category": "project_goals",
            "channel": "email",
            "language": "en",
            "reason_text": "No. Impossible.",
            "empathy": "",
        }
        tone = await (await client.post(f"/app/r/{ref}/tone", data=blunt)).json()
        assert tone["marks"] and not tone["ok"]
        empty = await client.post(f"/app/r/{ref}/act/decline", data=dict(blunt, reason_text=""))
        assert empty.status == 400 and 'class="error"' in await empty.text()
        resp = await client.post(
            f"/app/r/{ref}/act/decline",
            data={
                **blunt,
                "reason_text": EMAIL_FORM.reason_text,
                "empathy": EMAIL_FORM.empathy,
                "alternatives": "change_request",
                "alt_detail_change_request": "about 20 person-days",
            },
        )
        html = await resp.text()
        assert resp.status == 200 and "letter was" not in html and 'id="l-body"' in html
        rec = await service.get_request(ref)
        assert rec.status.value == "letter_drafted" and rec.letter is not None
        edited = rec.letter.body_text.replace("Kind regards", "We look forward to hearing from you.\n\nKind regards")
        tone2 = await (await client.post(f"/app/r/{ref}/tone", data={"csrf": csrf, "body": edited})).json()
        assert tone2["marks"]
        saved = await client.post(
            f"/app/r/{ref}/letter", data={"csrf": csrf, "subject": rec.letter.subject, "body": edited}
        )
        assert saved.status == 200 and "Letter saved" in await saved.text()
        assert (await service.get_request(ref)).letter.edited  # type: ignore[union-attr]
        eml = await client.get(f"/app/r/{ref}/letter.eml")
        assert (
            eml.status == 200 and eml.content_type == "message/rfc822" and b"jane.doe@acme.example" in await eml.read()
        )
        confirm = await (await client.get(f"/app/r/{ref}/send")).text()
        assert "Jane Doe &lt;jane.doe@acme.example&gt;" in confirm and "pm@acme.example" in confirm
        seen = re.search(r'name="seen" value="(\w+)"', confirm)
        assert seen
        wrong = await client.post(f"/app/r/{ref}/send", data={"csrf": csrf, "seen": "0" * 32})
        assert wrong.status == 409
        sent = await client.post(f"/app/r/{ref}/send", data={"csrf": csrf, "seen": seen.group(1)})
        assert sent.status == 200 and "queued" in await sent.text()
        assert (await service.get_request(ref)).letter.status == "queued"  # type: ignore[union-attr]
    finally:
        await client.close()


async def test_approving_out_of_scope_work_lands_in_the_change_register(service: IntakeService, db_url: str) -> None:
    ref, card = await two_requests(service)
    client = await web_client(service, db_url)
    try:
        csrf = await sign_in(client, service, "pm@acme.example")
        form = await (await client.get(f"/app/r/{card}/act/approve")).text()
        assert 'name="estimate"' in form
        missing = await client.post(f"/app/r/{card}/act/approve", data={"csrf": csrf})
        assert missing.status == 400
        done = await client.post(
            f"/app/r/{card}/act/approve",
            data={"csrf": csrf, "estimate": "3 person-days", "schedule_impact": "Beta +2 days"},
        )
        assert done.status == 200 and "on the record" in await done.text()
        login = await service.submit_request(
            project="acme-portal", actor=MEMBER, text="Password reset by e-mail, please"
        )
        assert login.verdict.verdict.value == "in_scope"
        await service.approve(login.ref, actor=PM)  # in scope: no scope change, not in the register
        register = await (await client.get("/app/changes")).text()
        assert "1 approved scope changes" in register and login.ref not in register
        assert card in register and "3 person-days" in register and "Beta +2 days" in register and ref not in register
        resp = await client.get("/app/changes.csv")
        rows = list(csv.reader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
        assert rows[0][:3] == ["ref", "project", "request"] and rows[1][0] == card and rows[1][5] == "3 person-days"
        assert rows[1][8] == "pm@acme.example" and rows[1][11] == "1"
        # The item or exclusion the verdict named is shown with it, in the register and in the list.
        approved = await service.get_request(card, actor=PM)
        assert approved.verdict.item_id and rows[1][3:5] == [approved.verdict.verdict.value, approved.verdict.item_id]
        listed = await (await client.get("/app/requests?q=password")).text()
        assert login.verdict.item_id and f"In scope ({login.verdict.item_id})" in listed
    finally:
        await client.close()


async def test_the_page_follows_the_team_language_and_switches(service: IntakeService, db_url: str) -> None:
    await service.load_project(load_project_file(str(EXAMPLES / "lanting-crm.yaml")))
    zh_pm = Actor("console", "dana.lee@northbeam.example", email="dana.lee@northbeam.example", name="李丹")
    rec = await service.submit_request(
        project="lanting-crm", actor=MEMBER, text="能不能做一个微信小程序，让会员在线下单？"
    )
    client = await web_client(service, db_url)
    try:
        csrf = await sign_in(client, service, zh_pm.email or "")
        html = await (await client.get(f"/app/r/{rec.ref}")).text()
        assert 'lang="zh-CN"' in html and "经过" in html and "婉拒" in html
        await client.post("/app/language", data={"csrf": csrf, "language": "en", "next": f"/app/r/{rec.ref}"})
        html = await (await client.get(f"/app/r/{rec.ref}")).text()
        assert 'lang="en"' in html and "Timeline" in html
        assert (await client.post("/app/language", data={"csrf": csrf, "language": "fr"})).status == 400
        await client.post("/app/language", data={"csrf": csrf, "language": "zh"})
        bad = await client.get("/app/requests?page=x")
        assert bad.status == 400 and "页码必须是 1 到 1,000,000 之间的整数" in await bad.text()
    finally:
        await client.close()


async def test_mark_the_letter_sent_then_record_the_outcome(service: IntakeService, db_url: str) -> None:
    ref, _ = await two_requests(service)
    await service.decline(ref, actor=PM, form=EMAIL_FORM)
    client = await web_client(service, db_url)
    try:
        csrf = await sign_in(client, service, "pm@acme.example")
        html = await (await client.get(f"/app/r/{ref}")).text()
        assert "Send by e-mail" not in html  # no SMTP_URL here: the .eml and "I sent it myself" remain
        assert 'data-action="outcome"' not in html
        sent = await client.post(f"/app/r/{ref}/sent", data={"csrf": csrf})
        html = await sent.text()
        assert sent.status == 200 and "Recorded as sent" in html and 'data-action="outcome"' in html
        form = await (await client.get(f"/app/r/{ref}/act/outcome")).text()
        assert 'name="outcome"' in form
        done = await client.post(
            f"/app/r/{ref}/act/outcome", data={"csrf": csrf, "outcome": "The client agreed to a change request."}
        )
        assert done.status == 200 and "The client agreed to a change request." in await done.text()
        rec = await service.get_request(ref)
        assert rec.last_event("outcome_recorded") is not None
        again = await client.post(f"/app/r/{ref}/act/outcome", data={"csrf": csrf, "outcome": "Twice?"})
        assert again.status == 409
    finally:
        await client.close()


async def test_a_long_list_counts_up_to_a_cap_and_still_pages_on(
    service: IntakeService, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import store.webstore

    monkeypatch.setattr(store.webstore, "COUNT_CAP", 3)
    refs = [
        (await service.submit_request(project="acme-portal", actor=MEMBER, text=f"Report {i} as PDF")).ref
        for i in range(5)
    ]
    client = await web_client(service, sqlite_url)
    try:
        await sign_in(client, service, "pm@acme.example")
        html = await (await client.get("/app/requests?per_page=2&sort=ref&dir=asc")).text()
        assert "More than 3 requests · page 1" in html and 'rel="next"' in html
        last = await (await client.get("/app/requests?per_page=2&sort=ref&dir=asc&page=3")).text()
        assert refs[4] in last and 'rel="next"' not in last
        monkeypatch.setattr(store.webstore, "SEARCH_COUNT_CAP", 2)  # a search counts fewer
        searched = await (await client.get("/app/requests?q=pdf&per_page=10")).text()
        assert "More than 2 requests · page 1" in searched and all(ref in searched for ref in refs)
    finally:
        await client.close()


async def test_only_those_who_decide_see_the_letter(service: IntakeService, db_url: str) -> None:
    ref, _ = await two_requests(service)
    await service.decline(ref, actor=PM, form=EMAIL_FORM)
    letter = (await service.get_request(ref)).letter
    assert letter is not None
    opening = letter.body_text.strip().splitlines()[0]
    client = await web_client(service, db_url)
    try:
        csrf = await sign_in(client, service, "sam@acme-team.example")
        html = await (await client.get(f"/app/r/{ref}")).text()
        assert opening not in html and 'id="letter"' not in html and "Letter drafted" in html
        assert (await client.get(f"/app/r/{ref}/letter.eml")).status == 403
        assert (await client.get(f"/app/r/{ref}/send")).status in (403, 409)
        edit = await client.post(f"/app/r/{ref}/letter", data={"csrf": csrf, "subject": "x", "body": "Hijacked"})
        assert edit.status == 403
        assert (await service.get_request(ref)).letter.body_text == letter.body_text  # type: ignore[union-attr]
    finally:
        await client.close()


async def test_the_sign_in_page_speaks_the_browsers_language_or_the_one_asked(
    service: IntakeService, sqlite_url: str
) -> None:
    client = await web_client(service, sqlite_url)
    try:
        zh = await (await client.get("/app/signin", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})).text()
        assert "<h1>登录</h1>" in zh and ">English</a>" in zh
        en = await (await client.get("/app/signin?lang=en", headers={"Accept-Language": "zh-CN"})).text()
        assert "<h1>Sign in</h1>" in en and ">中文</a>" in en
        fr = await (await client.get("/app/signin", headers={"Accept-Language": "fr-FR,en;q=0.5,zh;q=0.7"})).text()
        assert "<h1>登录</h1>" in fr  # Chinese is preferred over English there
    finally:
        await client.close()


# --- reports -------------------------------------------------------------------------------------


async def test_reports_show_the_periods_figures_and_charts_with_their_numbers(
    service: IntakeService, db_url: str
) -> None:
    await service.load_project(load_project_file(str(EXAMPLES / "lanting-crm.yaml")))
    stranger = Actor("console", "wu@lanting.example", email="wu@lanting.example", name="吴")
    await service.submit_request(project="lanting-crm", actor=stranger, text="能不能加一个会员积分功能？")
    _ref, card = await two_requests(service)
    client = await web_client(service, db_url)
    try:
        csrf = await sign_in(client, service, "pm@acme.example")
        await client.post(
            f"/app/r/{card}/act/approve",
            data={"csrf": csrf, "estimate": "3 person-days", "schedule_impact": "Beta +2 days"},
        )
        page = await client.get("/app/reports?project=acme-portal")
        html = await page.text()
        assert page.status == 200 and 'aria-current="page">Reports' in html
        assert "<h1>Reports: Acme Customer Portal," in html  # the project's name, not its slug
        figures = dict(re.findall(r'<th scope="row">([^<]+)</th><td>([^<]+)', html))
        assert figures["Requests recorded"] == "2" and figures["Decisions made"] == "1"
        # every chart is inline SVG a screen reader can name, with its description as the caption
        assert html.count('role="img"') == 4 and html.count("<desc") == 4 and html.count("<figcaption>") == 4
        csv_links = re.findall(r'href="(/app/reports/[a-z_]+\.csv\?[^"]+)"', html)
        assert len(csv_links) == 4
        resp = await client.get(csv_links[0].replace("&amp;", "&"))
        rows = list(csv.reader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
        assert resp.status == 200 and sum(float(c) for row in rows[1:] for c in row[1:]) == 2
        # the same person over every project they see: lanting-crm is not theirs, so still two
        everything = await (await client.get("/app/reports")).text()
        assert dict(re.findall(r'<th scope="row">([^<]+)</th><td>([^<]+)', everything))["Requests recorded"] == "2"
        assert (await client.get("/app/reports?project=lanting-crm")).status == 404
        assert (await client.get("/app/reports?from=2026-13-01")).status == 400
        backwards = await client.get("/app/reports?from=2026-12-01&to=2026-11-01")
        assert backwards.status == 400 and "must not be after its end" in await backwards.text()
        assert (await client.get("/app/reports/nothing.csv")).status == 404
        await client.post("/app/language", data={"csrf": csrf, "language": "zh"})
        zh = await (await client.get("/app/reports?project=acme-portal")).text()
        assert "报表" in zh and "关键数字" in zh and "下载数据（CSV）" in zh
    finally:
        await client.close()


async def test_peoples_words_are_shown_as_typed_never_as_markup(service: IntakeService, db_url: str) -> None:
    hostile = (
        "<script>alert(1)</script> **bold** [Approve here](https://evil.example/phish) <img src=x onerror=alert(2)>"
    )
    rec = await service.submit_request(project="acme-portal", actor=MEMBER, text=hostile)
    client = await web_client(service, db_url)
    try:
        await sign_in(client, service, "pm@acme.example")
        for path in (f"/app/r/{rec.ref}", "/app/requests", "/app/requests?q=script", "/app/reports"):
            html = await (await client.get(path)).text()
            assert "<script>alert(1)</script>" not in html and "<img src=x" not in html, path
            assert 'href="https://evil.example' not in html, path
        page = await (await client.get(f"/app/r/{rec.ref}")).text()
        assert "&lt;script&gt;alert(1)&lt;/script&gt; **bold** [Approve here](https://evil.example/phish)" in page
    finally:
        await client.close()
