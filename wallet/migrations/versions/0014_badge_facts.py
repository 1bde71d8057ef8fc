"""badge_facts: beside each verdict, the few fields the eligibility rules read

Revision ID: 0014_badge_facts
Revises: 0013_public_pages
Create Date: 2026-12-04 05:30:00

A regional page reads every badge of the wallet; parsing 500 whole verdicts (880 KB) cost more than
the rules. `facts` holds `wallet.eligibility.eligibility_facts(verdict)` (a tenth of the size).
Existing rows are filled here, in batches; a row left empty is read from its verdict.
"""
import json

import sqlalchemy as sa
from alembic import op

revision = '0014_badge_facts'
down_revision = '0013_public_pages'
branch_labels = None
depends_on = None

BATCH = 2000


def upgrade() -> None:
    from wallet.eligibility import eligibility_facts

    op.add_column('badges', sa.Column('facts', sa.Text(), nullable=True))
    badges = sa.table('badges', sa.column('id', sa.Integer()), sa.column('verdict', sa.Text()),
                      sa.column('facts', sa.Text()))
    fill = sa.update(badges).where(badges.c.id == sa.bindparam('b_id')).values(facts=sa.bindparam('b_facts'))
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(sa.select(badges.c.id, badges.c.verdict).where(badges.c.id > last)
                                  .order_by(badges.c.id).limit(BATCH)).all()
        if not rows:
            break
        values = []
        for badge_id, verdict in rows:
            try:
                values.append({'b_id': badge_id, 'b_facts': json.dumps(eligibility_facts(json.loads(verdict)))})
            except (TypeError, ValueError, AttributeError):
                continue   # not a verdict dict: the row stays empty and its verdict is read
        if values:
            connection.execute(fill, values)
        last = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table('badges') as batch:
        batch.drop_column('facts')
