"""Reports: each decision carries its project, the verdict it was made on and, for a request's first
decision, how long the request waited for it; and narrow indexes that the reports read instead of the
wide rows, so a report over 100,000 requests reads indexes only.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("decisions", sa.Column("project", sa.String(length=64), nullable=True))
    op.add_column("decisions", sa.Column("verdict_kind", sa.String(length=16), nullable=True))
    op.add_column("decisions", sa.Column("waited_seconds", sa.Float(), nullable=True))
    # Decisions made before this: their request's project and its verdict now (the one they were made on,
    # unless a PM corrected it afterwards), and the wait before each request's first decision.
    op.execute(
        "UPDATE decisions SET "
        "project = (SELECT r.project FROM requests r WHERE r.id = decisions.request_id), "
        "verdict_kind = (SELECT r.verdict_kind FROM requests r WHERE r.id = decisions.request_id)"
    )
    if op.get_bind().dialect.name == "postgresql":
        waited = "EXTRACT(EPOCH FROM decisions.at - r.created_at)"
    else:
        waited = "(julianday(decisions.at) - julianday(r.created_at)) * 86400.0"
    op.execute(
        f"UPDATE decisions SET waited_seconds = (SELECT {waited} FROM requests r WHERE r.id = decisions.request_id) "
        "WHERE NOT EXISTS (SELECT 1 FROM decisions d2 WHERE d2.request_id = decisions.request_id AND d2.id < decisions.id)"
    )
    op.create_index("ix_requests_report", "requests", ["created_at", "project", "verdict_kind", "status", "due_at"])
    op.create_index("ix_decisions_report", "decisions", ["at", "project", "kind", "verdict_kind", "waited_seconds"])
    op.create_index(
        "ix_decisions_waited",
        "decisions",
        ["waited_seconds", "at", "project"],
        sqlite_where=sa.text("waited_seconds IS NOT NULL"),
        postgresql_where=sa.text("waited_seconds IS NOT NULL"),
    )
    op.create_index("ix_events_report", "events", ["kind", "at", "project", "request_id"])


def downgrade() -> None:
    op.drop_index("ix_events_report", table_name="events")
    op.drop_index("ix_decisions_waited", table_name="decisions")
    op.drop_index("ix_decisions_report", table_name="decisions")
    op.drop_index("ix_requests_report", table_name="requests")
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("waited_seconds")
        batch.drop_column("verdict_kind")
        batch.drop_column("project")
