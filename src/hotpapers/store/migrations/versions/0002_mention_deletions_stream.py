"""Deleted mentions, observations counted from a stream, engagements, source cursors.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mentions") as batch:
        batch.add_column(sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True,
                                   comment="when the source said it was deleted"))
    with op.batch_alter_table("observations") as batch:
        batch.add_column(sa.Column(
            "via", sa.String(length=10), nullable=False, server_default="api",
            comment="api: counts read from the source; stream: counted from a live stream"))
    op.create_table(
        "engagements",
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("native_id", sa.String(length=300), nullable=False,
                  comment="the like or repost record"),
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False, comment="like, repost, quote"),
        sa.Column("account", sa.String(length=200), nullable=False,
                  comment="the engaging account's id"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["mention_id"], ["mentions.id"], ondelete="CASCADE",
                                name=op.f("fk_engagements_mention_id_mentions")),
        sa.PrimaryKeyConstraint("source", "native_id", name=op.f("pk_engagements")),
    )
    op.create_index(op.f("ix_engagements_mention_id"), "engagements", ["mention_id"])
    op.create_table(
        "source_cursors",
        sa.Column("name", sa.String(length=100), nullable=False,
                  comment="e.g. bluesky-jetstream"),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_source_cursors")),
    )


def downgrade() -> None:
    op.drop_table("source_cursors")
    op.drop_index(op.f("ix_engagements_mention_id"), table_name="engagements")
    op.drop_table("engagements")
    with op.batch_alter_table("observations") as batch:
        batch.drop_column("via")
    with op.batch_alter_table("mentions") as batch:
        batch.drop_column("deleted_at")
