"""shares.token_enc (the link, encrypted, so its owner can see it again) and shares.purpose

Revision ID: 0012_share_tokens
Revises: 0011_indexes
Create Date: 2026-12-02 18:30:00

Public pages are still found by the sha256 of their token (`token_hash`); `token_enc` holds the
token encrypted with WALLET_TOKEN_KEYS (wallet/crypto.py), read only on the owner's own pages.
Shares made before this migration have none: their page says the link cannot be shown again.
`purpose` is "linkedin" for the one permanent link per badge that a LinkedIn certification points
at, "" otherwise.
"""
import sqlalchemy as sa
from alembic import op

revision = '0012_share_tokens'
down_revision = '0011_indexes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('shares', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token_enc', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('purpose', sa.String(length=20), nullable=False, server_default=''))
    with op.batch_alter_table('shares', schema=None) as batch_op:
        batch_op.alter_column('purpose', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('shares', schema=None) as batch_op:
        batch_op.drop_column('purpose')
        batch_op.drop_column('token_enc')
