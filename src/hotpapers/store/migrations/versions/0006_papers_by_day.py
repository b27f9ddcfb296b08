"""An index on the papers' announcement date: a window's papers are found by it, which
otherwise reads every paper (millions after a snapshot import).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_papers_announced_on"), "papers", ["announced_on"])


def downgrade() -> None:
    op.drop_index(op.f("ix_papers_announced_on"), table_name="papers")
