"""mail tokens (opaque links), mail outbox, address throttles (login backstop, reset mails)

Revision ID: 0009_mail_tokens_outbox
Revises: 0008_badge_rules_version
Create Date: 2026-12-10 10:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

import wallet.models

revision = '0009_mail_tokens_outbox'
down_revision = '0008_badge_rules_version'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('address_throttles',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('last_at', wallet.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('next_allowed_at', wallet.models.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('mail_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('email_id', sa.Integer(), nullable=True),
    sa.Column('created_at', wallet.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', wallet.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['email_id'], ['emails.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('mail_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mail_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('outgoing_mails',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('to_address', sa.String(length=320), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', wallet.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('next_at', wallet.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_until', wallet.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('outgoing_mails', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outgoing_mails_next_at'), ['next_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outgoing_mails_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outgoing_mails', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outgoing_mails_user_id'))
        batch_op.drop_index(batch_op.f('ix_outgoing_mails_next_at'))
    op.drop_table('outgoing_mails')
    with op.batch_alter_table('mail_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mail_tokens_user_id'))
    op.drop_table('mail_tokens')
    op.drop_table('address_throttles')
