"""public_pages: public share pages kept as rendered, so that a first view need not render again

Revision ID: 0013_public_pages
Revises: 0012_share_tokens
Create Date: 2026-12-03 16:20:00

One row per (share, badge position — 0 for a collection's own page, language). The html holds
slots instead of the token, the visitor's CSRF token and the last verification date; the
fingerprint says what it was rendered from. Rows go with their share (ON DELETE CASCADE).
"""
import sqlalchemy as sa
from alembic import op

import wallet.models

revision = '0013_public_pages'
down_revision = '0012_share_tokens'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'public_pages',
        sa.Column('share_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('lang', sa.String(length=8), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('html', sa.Text(), nullable=False),
        sa.Column('rendered_at', wallet.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['share_id'], ['shares.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('share_id', 'position', 'lang', name='pk_public_pages'),
    )


def downgrade() -> None:
    op.drop_table('public_pages')
