"""Staged listings: the pages of a harvest in progress, swapped in when it is complete.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "listing_staging",
        sa.Column("harvest", sa.String(length=32), nullable=False,
                  comment="the harvest: begun by one run, carried on by the runs resuming it"),
        sa.Column("paper_id", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False, comment="the listing date harvested"),
        sa.Column("announce_type", sa.String(length=20), nullable=False),
        sa.Column("staged_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["paper_id"], ["papers.id"], ondelete="CASCADE",
                                name=op.f("fk_listing_staging_paper_id_papers")),
        sa.PrimaryKeyConstraint("harvest", "paper_id", name=op.f("pk_listing_staging")),
    )


def downgrade() -> None:
    op.drop_table("listing_staging")
