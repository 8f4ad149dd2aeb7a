"""identity: seal authenticator-app (TOTP) secrets at rest

Widens identity_factor.totp_secret for the sealed form and encrypts the keys stored in plain
text before, with the key configured now (SMARTNATION_IDENTITY_TOTP_KEY, or the demo's default).

Revision ID: 0402
Revises: 0401
Create Date: 2026-11-27 00:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from smartnation.identity import sealing

revision = "0402"
down_revision = "0401"
branch_labels = None
depends_on = None

_ROWS = sa.text(
    "SELECT id, account_id, totp_secret FROM identity_factor WHERE totp_secret IS NOT NULL"
)
_UPDATE = sa.text("UPDATE identity_factor SET totp_secret = :secret WHERE id = :id")


def _cipher() -> object:
    return sealing.cipher_for(sealing.SealingSettings().totp_key.get_secret_value())


def upgrade() -> None:
    with op.batch_alter_table("identity_factor") as batch:
        batch.alter_column(
            "totp_secret",
            existing_type=sa.String(length=64),
            type_=sa.String(length=128),
            existing_nullable=True,
        )
    connection = op.get_bind()
    cipher = _cipher()
    for factor_id, account_id, secret in connection.execute(_ROWS).all():
        if secret.startswith(sealing.PREFIX):
            continue  # already sealed: running twice is harmless
        sealed = sealing.seal(secret, account_id, cipher=cipher)  # type: ignore[arg-type]
        connection.execute(_UPDATE, {"secret": sealed, "id": factor_id})


def downgrade() -> None:
    connection = op.get_bind()
    cipher = _cipher()
    for factor_id, account_id, secret in connection.execute(_ROWS).all():
        if secret.startswith(sealing.PREFIX):
            opened = sealing.unseal(secret, account_id, cipher=cipher)  # type: ignore[arg-type]
            connection.execute(_UPDATE, {"secret": opened, "id": factor_id})
    with op.batch_alter_table("identity_factor") as batch:
        batch.alter_column(
            "totp_secret",
            existing_type=sa.String(length=128),
            type_=sa.String(length=64),
            existing_nullable=True,
        )
