"""badges.reverify_lease_until: the lease a worker holds while it re-verifies a badge

Revision ID: 0010_badge_reverify_lease
Revises: 0009_mail_tokens_outbox
Create Date: 2026-12-16 10:00:00

Several `wallet worker --reverify-only` processes share the re-verifications: each takes due badges
with SELECT … FOR UPDATE SKIP LOCKED (PostgreSQL) and a conditional UPDATE of this column, so two
workers never re-verify the same badge (wallet/services/reverification.py). A nullable column
without a default: adding it to a large PostgreSQL table rewrites nothing.
"""
import sqlalchemy as sa
from alembic import op

import wallet.models

revision = '0010_badge_reverify_lease'
down_revision = '0009_mail_tokens_outbox'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('badges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reverify_lease_until', wallet.models.UTCDateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('badges', schema=None) as batch_op:
        batch_op.drop_column('reverify_lease_until')
