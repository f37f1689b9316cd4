"""Scale: indexes for what the lists, digests and /metrics read, and the posted messages kept apart
from the outbox, so that delivered outbox rows can be pruned.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A project's (open) requests and their count; a person's requests and the projects they asked in;
    # overdue requests (/metrics); the requests of a project with an event since the last digest.
    op.create_index("ix_requests_project_status_id", "requests", ["project", "status", "id"])
    op.create_index("ix_requests_requester", "requests", ["requester_id", "requester_platform", "project", "id"])
    op.create_index("ix_requests_status_due", "requests", ["status", "due_at"])
    op.create_index("ix_events_project_at", "events", ["project", "at"])
    # Delivered outbox rows by age, for pruning.
    op.create_index("ix_outbox_status_sent", "outbox", ["status", "sent_at"])

    # /metrics' counts, kept up to date by the store from now on; counted once here.
    op.create_table(
        "counts",
        sa.Column("metric", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("metric", "key"),
    )
    for metric, key, source in (
        ("requests", "requester_platform || ':' || verdict_kind", "requests"),
        ("statuses", "status", "requests"),
        ("decisions", "kind", "decisions"),
        ("letters", "status", "letters"),
    ):
        op.execute(
            f"INSERT INTO counts (metric, key, n) SELECT '{metric}', {key}, count(*) FROM {source} GROUP BY {key}"
        )

    op.create_table(
        "posted_messages",
        sa.Column("ref", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("ref", "kind", "platform"),
    )
    # Where every message delivered so far was posted: the latest delivery of each kind per request.
    op.execute(
        """
        INSERT INTO posted_messages (ref, kind, platform, result, posted_at)
        SELECT o.ref, o.kind, o.platform, o.result, COALESCE(o.sent_at, o.created_at)
        FROM outbox o
        WHERE o.id IN (
            SELECT max(id) FROM outbox
            WHERE status = 'sent' AND ref IS NOT NULL AND result IS NOT NULL AND CAST(result AS TEXT) <> 'null'
            GROUP BY ref, kind, platform
        )
        """
    )


def downgrade() -> None:
    op.drop_table("posted_messages")
    op.drop_table("counts")
    for name, table in (
        ("ix_outbox_status_sent", "outbox"),
        ("ix_events_project_at", "events"),
        ("ix_requests_status_due", "requests"),
        ("ix_requests_requester", "requests"),
        ("ix_requests_project_status_id", "requests"),
    ):
        op.drop_index(name, table_name=table)
