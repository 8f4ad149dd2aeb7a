"""messaging: queueing in steps without per-row checks

Broadcast rows carry their campaign id without a foreign key, and campaigns record how far
their audience has been queued (`queued_through`, the last subscriber id of a committed step).

Queueing a national audience inserts 1.2 million rows in a few statements; the foreign key's
check runs once per row and was a fifth to a third of that time. Campaigns are never deleted
(they are cancelled or completed), and message rows leave by retention, so nothing relied on
the key's cascade. With its progress on the campaign, a step never overlaps a committed one, so
the insert needs no ON CONFLICT clause (another quarter of the time a row).

Revision ID: 0406
Revises: 0402
Create Date: 2026-11-27 00:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0406"
down_revision = "0402"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messaging_message", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_messaging_message_campaign_id_messaging_campaign"), type_="foreignkey"
        )
    with op.batch_alter_table("messaging_campaign", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "queued_through",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("messaging_campaign", schema=None) as batch_op:
        batch_op.drop_column("queued_through")
    with op.batch_alter_table("messaging_message", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_messaging_message_campaign_id_messaging_campaign"),
            "messaging_campaign",
            ["campaign_id"],
            ["id"],
            ondelete="CASCADE",
        )
