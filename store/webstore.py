"""The web page's storage: sessions and one-time sign-in links (kept by hash only), and the list and
change-register queries. A mixin of `SqlStore` (`WebAccess` in `bot.ports`)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.browse import COUNT_CAP, SEARCH_COUNT_CAP, ChangeEntry, Due, RequestPage, RequestQuery, RequestSummary, Sort
from bot.domain import Actor, RequestStatus, VerdictKind
from bot.ports import WebSessionRecord

from .models import DecisionRow, RequestRow, SignInLinkRow, WebSessionRow, as_utc, table

# A session's last use is written at most this often: a page view is then a read, not a write.
TOUCH_EVERY = timedelta(minutes=1)
# A due date that has passed is overdue for these (an unanswered question expires instead).
OVERDUE_STATUSES = tuple(s.value for s in RequestStatus if s is not RequestStatus.NEEDS_INFO)


def _like(term: str) -> str:
    escaped = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class WebTables:
    """`WebAccess` on SQL. Expects `session()`, `read_session()` and `dialect` from `SqlStore`; lists and
    counts only read, so they do not queue for the writer (see `SqlStore.reading`)."""

    dialect: str

    def _contains(self, column: Any, word: str) -> Any:
        """`column` contains `word`, ignoring case. SQLite's LIKE already ignores ASCII case (and Chinese
        has none), so it needs no lower() on every row; PostgreSQL has ILIKE."""
        pattern = _like(word)
        if self.dialect == "postgresql":
            return column.ilike(pattern, escape="\\")
        return column.like(pattern, escape="\\")

    def session(self, *, urgent: bool = False) -> AbstractAsyncContextManager[AsyncSession]:
        raise NotImplementedError  # SqlStore's

    def read_session(self) -> AbstractAsyncContextManager[AsyncSession]:
        raise NotImplementedError  # SqlStore's

    async def add_web_session(self, token_hash: str, actor: Actor, csrf: str, *, at: datetime) -> None:
        s_ = table(WebSessionRow)
        async with self.session() as s:
            await s.exec(  # type: ignore[call-overload]
                sa.insert(s_).values(
                    token_hash=token_hash,
                    actor=actor.to_dict(),
                    csrf=csrf,
                    language=None,
                    created_at=at,
                    last_seen_at=at,
                )
            )

    async def web_session(self, token_hash: str, *, now: datetime, idle: timedelta) -> WebSessionRecord | None:
        s_ = table(WebSessionRow)
        async with self.session() as s:
            row = (await s.exec(sa.select(s_).where(s_.c.token_hash == token_hash))).mappings().first()  # type: ignore[call-overload]
            if row is None:
                return None
            last = as_utc(row["last_seen_at"])
            if now - last > idle:
                await s.exec(sa.delete(s_).where(s_.c.token_hash == token_hash))  # type: ignore[call-overload]
                return None
            if now - last >= TOUCH_EVERY:
                await s.exec(sa.update(s_).where(s_.c.token_hash == token_hash).values(last_seen_at=now))  # type: ignore[call-overload]
                last = now
                # Sessions idle for long are cleared as others are used, so the table keeps only live ones.
                await s.exec(sa.delete(s_).where(s_.c.last_seen_at < now - idle))  # type: ignore[call-overload]
        return WebSessionRecord(
            Actor.from_dict(row["actor"]), row["csrf"], row["language"], as_utc(row["created_at"]), last
        )

    async def end_web_session(self, token_hash: str) -> None:
        s_ = table(WebSessionRow)
        async with self.session() as s:
            await s.exec(sa.delete(s_).where(s_.c.token_hash == token_hash))  # type: ignore[call-overload]

    async def set_web_language(self, token_hash: str, language: str | None) -> None:
        s_ = table(WebSessionRow)
        async with self.session() as s:
            await s.exec(sa.update(s_).where(s_.c.token_hash == token_hash).values(language=language))  # type: ignore[call-overload]

    async def add_signin_link(self, token_hash: str, email: str, *, at: datetime, expires_at: datetime) -> None:
        link = table(SignInLinkRow)
        async with self.session() as s:
            await s.exec(sa.delete(link).where(link.c.expires_at < at))  # type: ignore[call-overload]
            await s.exec(  # type: ignore[call-overload]
                sa.insert(link).values(token_hash=token_hash, email=email, created_at=at, expires_at=expires_at)
            )

    async def signin_links_since(self, email: str, since: datetime) -> int:
        link = table(SignInLinkRow)
        stmt = sa.select(sa.func.count()).where(link.c.email == email, link.c.created_at >= since)
        async with self.read_session() as s:
            return int((await s.exec(stmt)).scalar_one())  # type: ignore[call-overload]

    async def use_signin_link(self, token_hash: str, *, now: datetime) -> str | None:
        link = table(SignInLinkRow)
        # One UPDATE that only an unused, unexpired link matches: of two uses at once, one changes the row.
        stmt = (
            sa.update(link)
            .where(link.c.token_hash == token_hash, link.c.used_at.is_(None), link.c.expires_at > now)
            .values(used_at=now)
            .returning(link.c.email)
        )
        async with self.session() as s:
            row = (await s.exec(stmt)).first()  # type: ignore[call-overload]
        return str(row[0]) if row else None

    async def search_requests(self, query: RequestQuery, *, now: datetime) -> RequestPage:
        r = table(RequestRow)
        where: list[Any] = [r.c.project.in_(query.projects)]
        if query.status is not None:
            where.append(r.c.status == query.status.value)
        if query.verdict is not None:
            where.append(r.c.verdict_kind == query.verdict.value)
        if query.requester.strip():
            who = query.requester.strip()
            # A platform id (U0123…, an Entra id) has a digit; names and addresses are looked for as typed.
            people = [r.c.requester_name, r.c.requester_email]
            if any(ch.isdigit() for ch in who):
                people.append(r.c.requester_id)
            where.append(sa.or_(*(self._contains(c, who) for c in people)))
        if query.since is not None:
            where.append(r.c.created_at >= datetime.combine(query.since, time(), UTC))
        if query.until is not None:
            where.append(r.c.created_at < datetime.combine(query.until + timedelta(days=1), time(), UTC))
        if query.due is Due.DUE:
            where.append(r.c.due_at.is_not(None))
        elif query.due is Due.OVERDUE:
            where += [r.c.due_at.is_not(None), r.c.due_at <= now, r.c.status.in_(OVERDUE_STATUSES)]
        for word in query.text.split():
            # A request number has a digit; other words are looked for in the words alone.
            searched = (
                (r.c.text, r.c.client_words, r.c.ref)
                if any(ch.isdigit() for ch in word)
                else (r.c.text, r.c.client_words)
            )
            where.append(sa.or_(*(self._contains(c, word) for c in searched)))
        # Counting the matches of words reads every row it counts: such a list counts fewer before "more than".
        cap = SEARCH_COUNT_CAP if query.text.strip() or query.requester.strip() else COUNT_CAP
        columns = (
            r.c.ref,
            r.c.project,
            r.c.status,
            r.c.verdict_kind,
            r.c.verdict,
            r.c.requester_platform,
            r.c.requester_id,
            r.c.requester_email,
            r.c.requester_name,
            r.c.created_at,
            r.c.due_at,
            r.c.text,
        )
        tie = r.c.id.desc() if query.descending else r.c.id.asc()
        async with self.read_session() as s:
            capped = sa.select(r.c.id).where(*where).limit(cap + 1).subquery()
            total = (await s.exec(sa.select(sa.func.count()).select_from(capped))).scalar_one()  # type: ignore[call-overload]
            if query.sort is not Sort.DUE:
                stmt = sa.select(*columns).where(*where).order_by(*_order(r, query.sort, query.descending))
                found = list((await s.exec(stmt.limit(query.per_page).offset(query.offset))).mappings().all())  # type: ignore[call-overload]
            else:
                # What is due comes first (soonest or latest first), then the rest by number. Two queries,
                # each able to use an index, instead of sorting every row on an expression.
                due = [*where, r.c.due_at.is_not(None)]
                first = r.c.due_at.desc() if query.descending else r.c.due_at.asc()
                stmt = sa.select(*columns).where(*due).order_by(first, tie)
                found = list((await s.exec(stmt.limit(query.per_page).offset(query.offset))).mappings().all())  # type: ignore[call-overload]
                if len(found) < query.per_page:
                    n_due = (await s.exec(sa.select(sa.func.count()).select_from(r).where(*due))).scalar_one()  # type: ignore[call-overload]
                    rest = sa.select(*columns).where(*where, r.c.due_at.is_(None)).order_by(tie)
                    rest = rest.limit(query.per_page - len(found)).offset(max(0, query.offset - int(n_due)))
                    found += list((await s.exec(rest)).mappings().all())  # type: ignore[call-overload]
        rows = tuple(
            RequestSummary(
                ref=x["ref"],
                project=x["project"],
                status=RequestStatus(x["status"]),
                verdict=VerdictKind(x["verdict_kind"]),
                verdict_item=(x["verdict"] or {}).get("item"),
                requester=Actor(x["requester_platform"], x["requester_id"], x["requester_email"], x["requester_name"]),
                created_at=as_utc(x["created_at"]),
                due_at=as_utc(x["due_at"]) if x["due_at"] else None,
                text=x["text"],
            )
            for x in found
        )
        more = int(total) > cap
        return RequestPage(rows, min(int(total), cap), query.page, query.per_page, more)

    async def change_register(
        self, projects: Sequence[str], *, limit: int = 100, offset: int = 0
    ) -> tuple[list[ChangeEntry], int]:
        r, d = table(RequestRow), table(DecisionRow)
        where = (
            r.c.project.in_(list(projects)),
            d.c.kind == "approve",
            r.c.status == RequestStatus.APPROVED.value,
            d.c.form["scope_change"].as_boolean().is_(True),
        )
        stmt = (
            sa.select(
                r.c.ref,
                r.c.project,
                r.c.text,
                r.c.verdict_kind,
                r.c.verdict,
                r.c.scope_version,
                d.c.actor,
                d.c.at,
                d.c.form,
                d.c.note,
                d.c.on_behalf_of,
            )
            .join(r, r.c.id == d.c.request_id)
            .where(*where)
            .order_by(d.c.at.desc(), d.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        count = sa.select(sa.func.count()).select_from(d.join(r, r.c.id == d.c.request_id)).where(*where)
        async with self.read_session() as s:
            total = int((await s.exec(count)).scalar_one())  # type: ignore[call-overload]
            found = (await s.exec(stmt)).mappings().all()  # type: ignore[call-overload]
        out = []
        for x in found:
            form = x["form"] or {}
            out.append(
                ChangeEntry(
                    ref=x["ref"],
                    project=x["project"],
                    text=x["text"],
                    verdict=VerdictKind(x["verdict_kind"]),
                    verdict_item=(x["verdict"] or {}).get("item"),
                    estimate=str(form.get("estimate") or ""),
                    schedule_impact=str(form.get("schedule_impact") or ""),
                    note=str(form.get("note") or x["note"] or ""),
                    approved_by=Actor.from_dict(x["actor"]),
                    on_behalf_of=Actor.from_dict(x["on_behalf_of"]) if x["on_behalf_of"] else None,
                    approved_at=as_utc(x["at"]),
                    scope_version=int(x["scope_version"]),
                )
            )
        return out, total


def _order(r: sa.Table, sort: Sort, descending: bool) -> list[Any]:
    column = {Sort.RECORDED: r.c.id, Sort.REF: r.c.id, Sort.STATUS: r.c.status, Sort.VERDICT: r.c.verdict_kind}[sort]
    first = column.desc() if descending else column.asc()
    tie = r.c.id.desc() if descending else r.c.id.asc()
    return [first] if column is r.c.id else [first, tie]
