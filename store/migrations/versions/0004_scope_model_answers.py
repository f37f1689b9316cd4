"""The language model's answers, kept per question so every server process asks each one once.

Revision ID: 0004
Revises: 0001
Create Date: 2026-12-14
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scope_model_answers",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("project", sa.String(length=64), nullable=False),
        sa.Column("scope_version", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=255), nullable=False),
        sa.Column("answer", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index(op.f("ix_scope_model_answers_project"), "scope_model_answers", ["project"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_scope_model_answers_project"), table_name="scope_model_answers")
    op.drop_table("scope_model_answers")
