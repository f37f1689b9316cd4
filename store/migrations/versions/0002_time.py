"""Time: due dates on requests, decisions made on an away PM's behalf, scheduled steps, absences.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable columns: SQLite adds them in place, and requests recorded before this have no due date.
    op.add_column("requests", sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("decisions", sa.Column("on_behalf_of", sa.JSON(), nullable=True))
    op.create_table(
        "schedule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ref", sa.String(length=32), nullable=True),
        sa.Column("project", sa.String(length=64), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("dedupe_key", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key"),
    )
    op.create_index("ix_schedule_due", "schedule", ["status", "due_at"], unique=False)
    op.create_index(op.f("ix_schedule_ref"), "schedule", ["ref"], unique=False)
    op.create_index(op.f("ix_schedule_project"), "schedule", ["project"], unique=False)
    op.create_table(
        "absences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person", sa.JSON(), nullable=False),
        sa.Column("delegate", sa.JSON(), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("set_by", sa.JSON(), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_absences_ends_at"), "absences", ["ends_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_absences_ends_at"), table_name="absences")
    op.drop_table("absences")
    op.drop_index(op.f("ix_schedule_project"), table_name="schedule")
    op.drop_index(op.f("ix_schedule_ref"), table_name="schedule")
    op.drop_index("ix_schedule_due", table_name="schedule")
    op.drop_table("schedule")
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("on_behalf_of")
    with op.batch_alter_table("requests") as batch:
        batch.drop_column("due_at")
