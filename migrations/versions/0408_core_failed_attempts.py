"""core: failed attempts counted per key in fixed windows; identity counts logins by address

A wrong password locks one account after five tries, but a person trying one common password on
many NRIC/FINs never trips any account's lock. Failures are now also counted per source address
in 15-minute windows (key `login-address:<address>`), and a source past the limit waits for the
next window. The table is core's: any limit on failed attempts can count in it.

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
        "core_failed_attempts",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("window_start", smartnation.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("window_end", smartnation.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "window_start", name=op.f("pk_core_failed_attempts")),
    )
    op.create_index(
        op.f("ix_core_failed_attempts_window_end"), "core_failed_attempts", ["window_end"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_core_failed_attempts_window_end"), table_name="core_failed_attempts")
    op.drop_table("core_failed_attempts")
