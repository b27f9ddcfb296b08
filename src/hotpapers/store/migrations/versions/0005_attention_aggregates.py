"""Attention aggregates kept up to date on write: each mention's counted contribution,
per (paper, source, author) totals and values, per (paper, source) sums, and their state;
and the change stamps of days and papers.

An empty store starts with them built (under the default hot rules); a store that holds
mentions already has them built by `hotpapers store rebuild-aggregates` (until then,
rankings take the exact path over observations).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# the default hot rules (Settings' hot_* defaults; tests check they agree)
DEFAULT_RULES = {"kind_weights": {"likes": 1.0, "reposts": 1.0, "quotes": 2.0, "replies": 1.0,
                                  "points": 1.0},
                 "repost_ratio": 3.0, "new_account_days": 30.0, "new_account_weight": 0.25}
COUNTS = ("likes", "reposts", "kept", "quotes", "replies", "points")


def _counts() -> list[sa.Column]:
    return [sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS]


def upgrade() -> None:
    when = sa.DateTime(timezone=True)
    op.create_table(
        "mention_totals",
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("who", sa.Integer(), nullable=False,
                  comment="the author's account id, or minus the mention's id when it has none"),
        sa.Column("live", sa.Boolean(), nullable=False,
                  comment="counted: not deleted, not a repost"),
        sa.Column("created_at", when, nullable=True),
        sa.Column("papers", sa.JSON(), nullable=False,
                  comment="the paper ids it was counted for"),
        *[sa.Column(name, sa.Integer(), nullable=False,
                    comment="reposts after the per-post cap" if name == "kept" else None)
          for name in COUNTS],
        sa.ForeignKeyConstraint(["mention_id"], ["mentions.id"], ondelete="CASCADE",
                                name=op.f("fk_mention_totals_mention_id_mentions")),
        sa.PrimaryKeyConstraint("mention_id", name=op.f("pk_mention_totals")),
        comment="each mention's contribution to account_totals as last counted (latest counts)",
    )
    op.create_table(
        "account_totals",
        sa.Column("paper_id", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("who", sa.Integer(), nullable=False),
        sa.Column("posts", sa.Integer(), nullable=False),
        *_counts(),
        sa.Column("first_at", when, nullable=True),
        sa.Column("account_created_at", when, nullable=True),
        sa.Column("value", sa.Float(), nullable=False,
                  comment="the account's hot value for the paper"),
        sa.PrimaryKeyConstraint("paper_id", "source", "who", name=op.f("pk_account_totals")),
        comment="per paper, source and author: the live posts' latest counts and hot value",
    )
    op.create_index(op.f("ix_account_totals_who"), "account_totals", ["who"])
    op.create_index(op.f("ix_account_totals_top"), "account_totals",
                    ["paper_id", "source", "value"])
    op.create_table(
        "paper_source_totals",
        sa.Column("paper_id", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("raw", sa.Float(), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.Column("posts", sa.Integer(), nullable=False),
        sa.Column("reposts_capped", sa.Integer(), nullable=False),
        sa.Column("new_accounts", sa.Integer(), nullable=False),
        sa.Column("first_at", when, nullable=True),
        sa.PrimaryKeyConstraint("paper_id", "source", name=op.f("pk_paper_source_totals")),
        comment="per paper and source: the sums hot and trending read",
    )
    state = op.create_table(
        "aggregate_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False,
                  comment="the hot rules the values were made with"),
        sa.Column("data_until", when, nullable=True,
                  comment="the latest post or observation time counted"),
        sa.Column("built_at", when, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_aggregate_state")),
        comment="one row when the aggregates are built; none: rank by the exact path",
    )
    op.create_table(
        "change_stamps",
        sa.Column("scope", sa.String(length=10), nullable=False,
                  comment="day, paper, or store (everything)"),
        sa.Column("key", sa.String(length=40), nullable=False,
                  comment="the day (ISO), the paper id, or *"),
        sa.Column("stamp", sa.Integer(), nullable=False,
                  comment="the store's change counter then"),
        sa.Column("changed_at", when, nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_change_stamps")),
        comment="bumped in the transaction of any write that changes what a day or paper "
        "shows",
    )
    if op.get_bind().execute(sa.text("SELECT count(*) FROM mentions")).scalar() == 0:
        op.bulk_insert(state, [{"id": 1, "rules": DEFAULT_RULES, "data_until": None,
                                "built_at": datetime.now(UTC)}])


def downgrade() -> None:
    op.drop_table("change_stamps")
    op.drop_table("aggregate_state")
    op.drop_table("paper_source_totals")
    op.drop_index(op.f("ix_account_totals_top"), table_name="account_totals")
    op.drop_index(op.f("ix_account_totals_who"), table_name="account_totals")
    op.drop_table("account_totals")
    op.drop_table("mention_totals")
