"""Two indexes: the papers' announcement date (a window's papers are found by it, which
otherwise reads every paper: millions after a snapshot import), and the change stamps'
counter (the latest stamp, read by every write that bumps one, and "what changed since",
otherwise read from every stamped paper).

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
    op.create_index(op.f("ix_change_stamps_stamp"), "change_stamps", ["stamp"])


def downgrade() -> None:
    op.drop_index(op.f("ix_change_stamps_stamp"), table_name="change_stamps")
    op.drop_index(op.f("ix_papers_announced_on"), table_name="papers")
