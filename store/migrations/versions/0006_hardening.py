"""Hardening: which deliveries may already have reached their platform, refused payloads, and the
account each e-mail address was first seen with.

Revision ID: 0006
Revises: 0001
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # An earlier attempt may have reached the platform (it timed out, its connection dropped, or its
    # process died mid-call): look for the message before posting it again.
    op.add_column("outbox", sa.Column("uncertain", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "refusals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("origin", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_refusals_at", "refusals", ["at"])
    op.create_table(
        "identity_bindings",
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "email"),
    )


def downgrade() -> None:
    op.drop_table("identity_bindings")
    op.drop_index("ix_refusals_at", table_name="refusals")
    op.drop_table("refusals")
    op.drop_column("outbox", "uncertain")
