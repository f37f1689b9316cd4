"""A leaner record: fewer and smaller indexes, and the verdict a request was recorded with kept once.

Drops six indexes that a wider index starting with the same column already serves, and replaces the
index of every event by kind with one of the only two kinds the reports count.

`requests (project)`, `(status)`, `(requester_id)`, `(created_at)`, `events (project)` and
`outbox (ref)` each repeat the first column of another index (`uq_request_number` and
`ix_requests_project_status_id`, `ix_requests_status_due`, `ix_requests_requester`,
`ix_requests_report`, `ix_events_project_at`, `ix_outbox_order`), which both databases use for the same
lookups. Only indexes go: no row or column of the record changes.

Adds `requests.recorded_verdict`. A request recorded from now on keeps its first events in one row that
refers to the request for its text, source and verdict instead of copying them; should its verdict
change later, the verdict it was recorded with is moved here first. Requests recorded before keep their
own events as written and are read as before.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

DROPPED = {
    "ix_requests_project": ("requests", "project"),
    "ix_requests_status": ("requests", "status"),
    "ix_requests_requester_id": ("requests", "requester_id"),
    "ix_requests_created_at": ("requests", "created_at"),
    "ix_events_project": ("events", "project"),
    "ix_outbox_ref": ("outbox", "ref"),
}


# The reports count two kinds of event, a small share of the record: a partial index of those replaces
# the index of every event by kind.
LETTER_EVENT_KINDS = "kind IN ('letter_sent', 'outcome_recorded')"


def upgrade() -> None:
    for name, (table, _) in DROPPED.items():
        op.drop_index(name, table_name=table, if_exists=True)
    op.create_index(
        "ix_events_letters",
        "events",
        ["at", "project", "kind"],
        sqlite_where=sa.text(LETTER_EVENT_KINDS),
        postgresql_where=sa.text(LETTER_EVENT_KINDS),
    )
    op.drop_index("ix_events_report", table_name="events", if_exists=True)
    # A plain ADD COLUMN: neither SQLite nor PostgreSQL rewrites the table for it.
    op.add_column("requests", sa.Column("recorded_verdict", sa.JSON(), nullable=True))


def downgrade() -> None:
    # Not a batch (a copy of the table): other tables' foreign keys refer to `requests`. Both databases
    # drop a plain column in place (SQLite since 3.35).
    op.execute("ALTER TABLE requests DROP COLUMN recorded_verdict")
    op.create_index("ix_events_report", "events", ["kind", "at", "project", "request_id"], if_not_exists=True)
    op.drop_index("ix_events_letters", table_name="events", if_exists=True)
    for name, (table, column) in DROPPED.items():
        op.create_index(name, table, [column], if_not_exists=True)
