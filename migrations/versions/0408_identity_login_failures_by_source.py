"""identity: failed logins counted by network address

A wrong password locks one account after five tries, but a person trying one common password on
many NRIC/FINs never trips any account's lock. Failures are now also counted per source address
in 15-minute windows, and a source past the limit waits for the next window.

Revision ID: 0408
Revises: 0407
Create Date: 2026-12-03 05:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import smartnation.core.db

revision = "0408"
down_revision = "0407"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_login_failures",
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("window_start", smartnation.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("source", "window_start", name=op.f("pk_identity_login_failures")),
    )
    op.create_index(
        op.f("ix_identity_login_failures_window_start"),
        "identity_login_failures",
        ["window_start"],
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_identity_login_failures_window_start"), table_name="identity_login_failures"
    )
    op.drop_table("identity_login_failures")
