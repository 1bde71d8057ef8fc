"""partner backpacks: the latest sync problem (for the admin), failures in a row (for the backoff)

Revision ID: 0006_partner_sync_problems
Revises: 0005_counsellors
Create Date: 2026-12-02 12:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0006_partner_sync_problems'
down_revision = '0005_counsellors'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('partner_backpacks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sync_problem', sa.Text(), nullable=True))
    with op.batch_alter_table('connections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failures', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('connections', schema=None) as batch_op:
        batch_op.drop_column('failures')
    with op.batch_alter_table('partner_backpacks', schema=None) as batch_op:
        batch_op.drop_column('sync_problem')
