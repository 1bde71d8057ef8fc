"""Indexes that pay at region scale (issue 17: 100 000 learners, 2 million badges)

Revision ID: 0011_indexes
Revises: 0010_badge_reverify_lease
Create Date: 2026-12-02 18:00:00

Measured with bench/region (README "Production"): the Region's figures page counts badges by
status (`SELECT status, count(id) FROM badges GROUP BY status`). On the status-only index that is
a sequential scan of the badges' heap (about 0.6 s for 100 000 badges, about 10 s for 2 million);
on (status, id) it is an index-only scan, about 12 times faster. The new index serves every
status lookup the old one did, so the old one goes.

Every other hot query of the load bench (wallet, regional page, public page, claims, imports)
already runs on an index in well under a millisecond of execution: no index was added for them.
"""
from alembic import op

revision = '0011_indexes'
down_revision = '0010_badge_reverify_lease'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('badges', schema=None) as batch_op:
        batch_op.create_index('ix_badges_status_id', ['status', 'id'], unique=False)
        batch_op.drop_index(batch_op.f('ix_badges_status'))


def downgrade() -> None:
    with op.batch_alter_table('badges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_badges_status'), ['status'], unique=False)
        batch_op.drop_index('ix_badges_status_id')
