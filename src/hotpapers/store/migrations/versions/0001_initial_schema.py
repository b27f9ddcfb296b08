"""Initial schema: papers, accounts, mentions, observations, rankings, posts, runs.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column(
            "native_id",
            sa.String(length=200),
            nullable=False,
            comment="the source's account id; '@handle' when only the handle is known",
        ),
        sa.Column("handle", sa.String(length=200), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("followers", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("source", "native_id", name=op.f("uq_accounts_source_native_id")),
    )
    op.create_table(
        "papers",
        sa.Column("id", sa.String(length=40), nullable=False, comment="versionless arXiv id"),
        sa.Column("latest_version", sa.Integer(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("abstract", sa.Text(), nullable=False),
        sa.Column("comments", sa.Text(), nullable=True),
        sa.Column("journal_ref", sa.Text(), nullable=True),
        sa.Column("doi", sa.Text(), nullable=True),
        sa.Column("primary_category", sa.String(length=40), nullable=True),
        sa.Column("abs_url", sa.Text(), nullable=True),
        sa.Column("pdf_url", sa.Text(), nullable=True, comment="NULL when arXiv offers no PDF"),
        sa.Column(
            "submitted_at", sa.DateTime(timezone=True), nullable=True, comment="first version"
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=True, comment="latest version"
        ),
        sa.Column(
            "announced_on",
            sa.Date(),
            nullable=True,
            comment="arXiv listing date of the first version",
        ),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_papers")),
    )
    op.create_table(
        "rankings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("window", sa.String(length=10), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rankings")),
        sa.UniqueConstraint("day", "method", "window", name=op.f("uq_rankings_day_method_window")),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("command", sa.String(length=80), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "status",
            sa.String(length=20),
            nullable=False,
            comment="running, ok, failed, partial, nothing",
        ),
        sa.Column("counts", sa.JSON(), nullable=True),
        sa.Column("cursors", sa.JSON(), nullable=True),
        sa.Column("errors", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
    )
    op.create_table(
        "listings",
        sa.Column("day", sa.Date(), nullable=False, comment="arXiv listing date"),
        sa.Column("paper_id", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False, comment="crawl order within the day"),
        sa.Column(
            "announce_type",
            sa.String(length=20),
            nullable=False,
            comment="new, cross, replace, replace-cross",
        ),
        sa.Column(
            "category",
            sa.String(length=40),
            nullable=True,
            comment="listing the paper was crawled from",
        ),
        sa.ForeignKeyConstraint(
            ["paper_id"],
            ["papers.id"],
            name=op.f("fk_listings_paper_id_papers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("day", "paper_id", name=op.f("pk_listings")),
    )
    op.create_table(
        "mentions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("native_id", sa.String(length=200), nullable=False),
        sa.Column("permalink", sa.Text(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "kind",
            sa.String(length=20),
            nullable=False,
            comment="post, quote, reply, story, upvote-page",
        ),
        sa.Column(
            "parent_native_id",
            sa.String(length=200),
            nullable=True,
            comment="quoted or replied-to post",
        ),
        sa.Column("embed_html", sa.Text(), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_mentions_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mentions")),
        sa.UniqueConstraint("source", "native_id", name=op.f("uq_mentions_source_native_id")),
    )
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mentions_account_id"), ["account_id"], unique=False)

    op.create_table(
        "paper_attention",
        sa.Column("paper_id", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("likes", sa.Integer(), nullable=True),
        sa.Column("reposts", sa.Integer(), nullable=True),
        sa.Column("quotes", sa.Integer(), nullable=True),
        sa.Column("replies", sa.Integer(), nullable=True),
        sa.Column("points", sa.Integer(), nullable=True),
        sa.Column("mentions", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["paper_id"],
            ["papers.id"],
            name=op.f("fk_paper_attention_paper_id_papers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "paper_id", "source", "observed_at", name=op.f("pk_paper_attention")
        ),
    )
    op.create_table(
        "paper_authors",
        sa.Column("paper_id", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["paper_id"],
            ["papers.id"],
            name=op.f("fk_paper_authors_paper_id_papers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("paper_id", "position", name=op.f("pk_paper_authors")),
    )
    op.create_table(
        "paper_categories",
        sa.Column("paper_id", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False, comment="0 is the primary category"),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["paper_id"],
            ["papers.id"],
            name=op.f("fk_paper_categories_paper_id_papers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("paper_id", "position", name=op.f("pk_paper_categories")),
    )
    with op.batch_alter_table("paper_categories", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_paper_categories_category"), ["category"], unique=False
        )

    op.create_table(
        "paper_versions",
        sa.Column("paper_id", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("size", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["paper_id"],
            ["papers.id"],
            name=op.f("fk_paper_versions_paper_id_papers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("paper_id", "version", name=op.f("pk_paper_versions")),
    )
    op.create_table(
        "posts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("format", sa.String(length=20), nullable=False),
        sa.Column("ranking_id", sa.Integer(), nullable=True),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "layout", sa.JSON(), nullable=True, comment="layout facts a faithful re-render needs"
        ),
        sa.ForeignKeyConstraint(
            ["ranking_id"],
            ["rankings.id"],
            name=op.f("fk_posts_ranking_id_rankings"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_posts")),
        sa.UniqueConstraint("day", "format", name=op.f("uq_posts_day_format")),
    )
    op.create_table(
        "ranking_entries",
        sa.Column("ranking_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.String(length=40), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("parts", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["papers.id"], name=op.f("fk_ranking_entries_paper_id_papers")
        ),
        sa.ForeignKeyConstraint(
            ["ranking_id"],
            ["rankings.id"],
            name=op.f("fk_ranking_entries_ranking_id_rankings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ranking_id", "position", name=op.f("pk_ranking_entries")),
    )
    with op.batch_alter_table("ranking_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ranking_entries_paper_id"), ["paper_id"], unique=False)

    op.create_table(
        "mention_papers",
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.Column(
            "paper_id",
            sa.String(length=40),
            nullable=False,
            comment="no foreign key: a mention may name a paper not yet stored",
        ),
        sa.ForeignKeyConstraint(
            ["mention_id"],
            ["mentions.id"],
            name=op.f("fk_mention_papers_mention_id_mentions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("mention_id", "paper_id", name=op.f("pk_mention_papers")),
    )
    with op.batch_alter_table("mention_papers", schema=None) as batch_op:
        batch_op.create_index("ix_mention_papers_paper_id", ["paper_id"], unique=False)

    op.create_table(
        "observations",
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("likes", sa.Integer(), nullable=True),
        sa.Column("reposts", sa.Integer(), nullable=True),
        sa.Column("quotes", sa.Integer(), nullable=True),
        sa.Column("replies", sa.Integer(), nullable=True),
        sa.Column("points", sa.Integer(), nullable=True, comment="points or upvotes"),
        sa.ForeignKeyConstraint(
            ["mention_id"],
            ["mentions.id"],
            name=op.f("fk_observations_mention_id_mentions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("mention_id", "observed_at", name=op.f("pk_observations")),
    )
    op.create_table(
        "post_entries",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.String(length=40), nullable=False),
        sa.Column(
            "written_at", sa.DateTime(timezone=True), nullable=True, comment="the per-paper stamp"
        ),
        sa.Column(
            "paper_shown",
            sa.JSON(),
            nullable=True,
            comment="the paper's title, authors, ... as published, when they differ from papers",
        ),
        sa.Column("reposts", sa.Integer(), nullable=True),
        sa.Column("likes", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["papers.id"], name=op.f("fk_post_entries_paper_id_papers")
        ),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_post_entries_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("post_id", "position", name=op.f("pk_post_entries")),
    )
    op.create_table(
        "post_entry_mentions",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False, comment="order under the paper"),
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.Column("embed_html", sa.Text(), nullable=True, comment="the embed as published"),
        sa.Column("permalink", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["mention_id"], ["mentions.id"], name=op.f("fk_post_entry_mentions_mention_id_mentions")
        ),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_post_entry_mentions_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("post_id", "position", "rank", name=op.f("pk_post_entry_mentions")),
    )
    op.create_table(
        "publications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("target", sa.String(length=40), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("remote_id", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_publications_post_id_posts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publications")),
        sa.UniqueConstraint("day", "target", name=op.f("uq_publications_day_target")),
    )


def downgrade() -> None:

    op.drop_table("publications")
    op.drop_table("post_entry_mentions")
    op.drop_table("post_entries")
    op.drop_table("observations")
    with op.batch_alter_table("mention_papers", schema=None) as batch_op:
        batch_op.drop_index("ix_mention_papers_paper_id")

    op.drop_table("mention_papers")
    with op.batch_alter_table("ranking_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ranking_entries_paper_id"))

    op.drop_table("ranking_entries")
    op.drop_table("posts")
    op.drop_table("paper_versions")
    with op.batch_alter_table("paper_categories", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_paper_categories_category"))

    op.drop_table("paper_categories")
    op.drop_table("paper_authors")
    op.drop_table("paper_attention")
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mentions_account_id"))

    op.drop_table("mentions")
    op.drop_table("listings")
    op.drop_table("runs")
    op.drop_table("rankings")
    op.drop_table("papers")
    op.drop_table("accounts")
