"""The scale benchmark's bulk seed writes what the product writes: a sample of requests is played through
the real Slack route into one database and seeded in bulk into another, and the rows are compared column
by column (ids and timestamps aside; dates and times inside texts and keys are compared as written)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from adapters.slack.replay import COMMAND_PREFIX
from bench.scale.history import PROJECTS_LOADED_AT, SHAPES, Planned, Recorder
from bench.scale.seed import FORGOTTEN, TABLES, seed
from store.models import CountRow, IdentityBinding, ProjectRow, ProjectVersionRow, table
from store.repo import SqlStore
from tests.support.clock import FakeClock
from tests.support.databases import copy_sqlite
from tests.support.slack_harness import running_slack

# Every kind of request, in two projects, by several requesters, in winter and in summer time.
SAMPLE = [
    Planned(i, project, i % 4, shape, SHAPES[shape][1][i % len(SHAPES[shape][1])], week, i % 5, i % 2)
    for i, (shape, project, week) in enumerate(
        [(shape, 3, 12) for shape in SHAPES] + [(shape, 7, 30) for shape in SHAPES] + [("open", 3, 31)]
    )
]

STAMP = re.compile(r"\d{10}\.\d{6}")
HEX = re.compile(r"(?<![0-9a-f])(?:[0-9a-f]{64}|[0-9a-f]{32})(?![0-9a-f])")
FINISHED_STEP = re.compile(r"(:[a-z]+:)\d+$")
OTHER_TABLES = {
    "identity_bindings": table(IdentityBinding),
    "projects": table(ProjectRow),
    "project_versions": table(ProjectVersionRow),
    "counts": table(CountRow),  # /metrics' counts: the seed counts them again after copying
}


def normal(value: Any) -> Any:
    """A value as compared: Slack message stamps and random keys (ids of other systems) blanked."""
    if isinstance(value, str):
        return HEX.sub("<key>", STAMP.sub("<ts>", value))
    if isinstance(value, dict):
        return {k: normal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normal(v) for v in value]
    return value


async def dump(url: str) -> dict[str, list[str]]:
    """Every row of the tables a request touches, without ids and timestamps, request ids as refs."""
    store = SqlStore.from_url(url)
    out: dict[str, list[str]] = {}
    try:
        async with store.engine.connect() as conn:
            refs = dict((await conn.execute(sa.text("SELECT id, ref FROM requests"))).all())
            for name, tbl in {**TABLES, **OTHER_TABLES}.items():
                rows = []
                for row in (await conn.execute(sa.select(tbl))).mappings():
                    if "acme-portal" in (row.get("project"), row.get("slug")):
                        continue  # the Slack test harness's own project
                    if name == "processed_keys" and row["key"].startswith(FORGOTTEN):
                        continue  # forgotten a few minutes later, so never copied
                    if name == "processed_keys" and row["key"].startswith(COMMAND_PREFIX):
                        continue  # forgotten a week later: the route, its clock moving on, forgot the first ones
                    d = {}
                    for col, v in row.items():
                        if col == "id" or (hasattr(v, "isoformat") and col != "requested_date"):
                            continue
                        if col == "dedupe_key" and name == "schedule":
                            v = FINISHED_STEP.sub(r"\1<id>", v)  # a finished step's key ends with its row id
                        d[col] = refs[v] if col == "request_id" and v is not None else normal(v)
                    rows.append(json.dumps(d, sort_keys=True, ensure_ascii=False, default=str))
                out[name] = sorted(rows)
    finally:
        await store.close()
    return out


async def test_the_bulk_seed_writes_what_the_slack_route_writes(
    tmp_path: Path, sqlite_template: Path, db_url: str
) -> None:
    route_url = copy_sqlite(sqlite_template, tmp_path / "route.db")
    clock = FakeClock(PROJECTS_LOADED_AT)
    async with running_slack(route_url, clock) as harness:
        recorder = Recorder(harness, clock)
        refs = [await recorder.play(pl) for pl in SAMPLE]
    assert refs[:2] == ["CLIENT003-1", "CLIENT003-2"] and refs[9] == "CLIENT007-1"

    report = await seed(db_url, SAMPLE, workdir=tmp_path)
    assert report.requests == len(SAMPLE)

    route, bulk = await dump(route_url), await dump(db_url)
    assert len(route["requests"]) == len(SAMPLE)
    assert {name: len(rows) for name, rows in bulk.items()} == {name: len(rows) for name, rows in route.items()}
    for name in route:
        assert [r for r in bulk[name] if r not in route[name]] == [], name
    # And each request reads back as the route recorded it: what a row refers to (the request, its
    # decisions, its letter's versions) is copied with it.
    assert await records(db_url) == await records(route_url)


async def records(url: str) -> dict[str, list[str]]:
    """Each request's record as the store reads it back: its events' kinds, texts and data."""
    store = SqlStore.from_url(url)
    try:
        async with store.reading() as tx:
            recs = await tx.list_requests(with_events=True)
    finally:
        await store.close()
    return {
        r.ref: [json.dumps(normal([e.kind, e.text, e.data]), sort_keys=True, default=str) for e in r.events]
        for r in recs
        if r.project != "acme-portal"
    }
