"""badges.rules_version: which verifier rules each stored verdict was judged under

Revision ID: 0008_badge_rules_version
Revises: 0007_host
Create Date: 2026-12-02 13:20:00

Every badge stored before this migration was judged under rules version 1 (the first wave) and is
re-verified once by `wallet worker` (wallet/services/upgrade.py): the turn-2 rules change OB 1.x/2.0
(authority of nodes, JSON-LD reading) and OB 3.0 too (a key naming the issuer as controller must be
listed by the issuer; status lists count only at their own id). The number is written out here,
not imported: a migration records history and must not move when RULES_VERSION does.
"""
import sqlalchemy as sa
from alembic import op

revision = '0008_badge_rules_version'
down_revision = '0007_host'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('badges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rules_version', sa.Integer(), nullable=False, server_default='1'))
        batch_op.create_index(batch_op.f('ix_badges_rules_version'), ['rules_version'], unique=False)
    with op.batch_alter_table('badges', schema=None) as batch_op:
        batch_op.alter_column('rules_version', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('badges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_badges_rules_version'))
        batch_op.drop_column('rules_version')
