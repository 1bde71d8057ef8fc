"""badges.verdict kept in the row (PostgreSQL storage MAIN), not in the TOAST table

Revision ID: 0014_verdict_in_row
Revises: 0013_public_pages
Create Date: 2026-12-04 03:40:00

A badge row holds its payload (several KiB), so PostgreSQL moved the verdict too out of the row
into the TOAST table: reading a learner's verdicts (the regional page, eligibility) cost four
buffer reads a badge — 2 100 for a wallet of 500 badges, 7 ms — where the rows themselves take
88. With storage MAIN the verdict stays in the row, compressed, and only the payload (read by no
page) goes to the TOAST table. Rows written from now on are stored so; older rows move when their
verdict is next written (re-verification). Nothing to do on SQLite.
"""
from alembic import op

revision = '0014_verdict_in_row'
down_revision = '0013_public_pages'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE badges ALTER COLUMN verdict SET STORAGE MAIN")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE badges ALTER COLUMN verdict SET STORAGE EXTENDED")
