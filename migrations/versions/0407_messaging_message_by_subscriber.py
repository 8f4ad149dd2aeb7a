"""messaging: find a subscriber's messages by index

STOP cancels the subscriber's queued messages, and a subscriber's data export and deletion read
and remove all of their messages. Without an index on `subscriber_id`, each of these scanned the
whole message table, millions of rows in the middle of a national broadcast.

Revision ID: 0407
Revises: 0406
Create Date: 2026-11-27 01:55:00
"""

from __future__ import annotations

from alembic import op

revision = "0407"
down_revision = "0406"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_messaging_message_subscriber", "messaging_message", ["subscriber_id"])


def downgrade() -> None:
    op.drop_index("ix_messaging_message_subscriber", table_name="messaging_message")
