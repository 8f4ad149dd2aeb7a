"""messaging: broadcast rows carry their campaign id without a foreign key

Queueing a national audience inserts 1.2 million rows in a few statements; the foreign key's
check runs once per row and was a fifth to a third of that time. Campaigns are never deleted
(they are cancelled or completed), and message rows leave by retention, so nothing relied on
the key's cascade.

Revision ID: 0406
Revises: 0401
Create Date: 2026-11-27 00:45:00
"""

from __future__ import annotations

from alembic import op

revision = "0406"
down_revision = "0401"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messaging_message", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_messaging_message_campaign_id_messaging_campaign"), type_="foreignkey"
        )


def downgrade() -> None:
    with op.batch_alter_table("messaging_message", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_messaging_message_campaign_id_messaging_campaign"),
            "messaging_campaign",
            ["campaign_id"],
            ["id"],
            ondelete="CASCADE",
        )
