"""The process of a run (pid, host, start time), so that a killed run can be told apart.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("pid", sa.Integer(), nullable=True,
                                   comment="the process that records the run"))
        batch.add_column(sa.Column("host", sa.String(length=255), nullable=True,
                                   comment="the host of that process"))
        batch.add_column(sa.Column("process_start", sa.String(length=80), nullable=True,
                                   comment="when that process started (boot id and clock "
                                   "ticks), to tell a reused pid"))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("process_start")
        batch.drop_column("host")
        batch.drop_column("pid")
