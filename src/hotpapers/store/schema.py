"""The database schema of the whole product, as SQLAlchemy Core tables.

Natural keys are unique so every stage can upsert and be re-run; times are UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

__all__ = ["metadata"]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)



class UtcDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: store times in UTC with a zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


papers = Table(
    "papers", metadata,
    Column("id", String(40), primary_key=True, comment="versionless arXiv id"),
    Column("latest_version", Integer),
    Column("title", Text, nullable=False),
    Column("abstract", Text, nullable=False, default=""),
    Column("comments", Text),
    Column("journal_ref", Text),
    Column("doi", Text),
    Column("primary_category", String(40)),
    Column("abs_url", Text),
    Column("pdf_url", Text, comment="NULL when arXiv offers no PDF"),
    Column("submitted_at", UtcDateTime(), comment="first version"),
    Column("updated_at", UtcDateTime(), comment="latest version"),
    Column("announced_on", Date, index=True, comment="arXiv listing date of the first version"),
    Column("withdrawn", Boolean, nullable=False, default=False),
    Column("stored_at", UtcDateTime(), nullable=False),
)

paper_authors = Table(
    "paper_authors", metadata,
    Column("paper_id", ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("name", Text, nullable=False),
)

paper_categories = Table(
    "paper_categories", metadata,
    Column("paper_id", ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True, comment="0 is the primary category"),
    Column("category", String(40), nullable=False, index=True),
)

paper_versions = Table(
    "paper_versions", metadata,
    Column("paper_id", ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("submitted_at", UtcDateTime()),
    Column("size", Text),
)

listings = Table(
    "listings", metadata,
    Column("day", Date, primary_key=True, comment="arXiv listing date"),
    Column("paper_id", ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, nullable=False, comment="crawl order within the day"),
    Column("announce_type", String(20), nullable=False, default="new",
           comment="new, cross, replace, replace-cross"),
    Column("category", String(40), comment="listing the paper was crawled from"),
)

listing_staging = Table(
    "listing_staging", metadata,
    Column("harvest", String(32), primary_key=True,
           comment="the harvest: begun by one run, carried on by the runs resuming it"),
    Column("paper_id", ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("day", Date, nullable=False, comment="the listing date harvested"),
    Column("announce_type", String(20), nullable=False),
    Column("staged_at", UtcDateTime(), nullable=False),
)

accounts = Table(
    "accounts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(20), nullable=False),
    Column("native_id", String(200), nullable=False,
           comment="the source's account id; '@handle' when only the handle is known"),
    Column("handle", String(200)),
    Column("name", Text),
    Column("created_at", UtcDateTime()),
    Column("followers", Integer),
    UniqueConstraint("source", "native_id"),
)

mentions = Table(
    "mentions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(20), nullable=False),
    Column("native_id", String(200), nullable=False),
    Column("permalink", Text),
    Column("account_id", ForeignKey("accounts.id"), index=True),
    Column("text", Text),
    Column("created_at", UtcDateTime()),
    Column("kind", String(20), nullable=False, default="post",
           comment="post, quote, reply, story, upvote-page"),
    Column("parent_native_id", String(200), comment="quoted or replied-to post"),
    Column("embed_html", Text),
    Column("first_seen_at", UtcDateTime(), nullable=False),
    Column("deleted_at", UtcDateTime(), comment="when the source said it was deleted"),
    UniqueConstraint("source", "native_id"),
)

mention_papers = Table(
    "mention_papers", metadata,
    Column("mention_id", ForeignKey("mentions.id", ondelete="CASCADE"), primary_key=True),
    Column("paper_id", String(40), primary_key=True,
           comment="no foreign key: a mention may name a paper not yet stored"),
    Index("ix_mention_papers_paper_id", "paper_id"),
)

observations = Table(
    "observations", metadata,
    Column("mention_id", ForeignKey("mentions.id", ondelete="CASCADE"), primary_key=True),
    Column("observed_at", UtcDateTime(), primary_key=True),
    Column("likes", Integer),
    Column("reposts", Integer),
    Column("quotes", Integer),
    Column("replies", Integer),
    Column("points", Integer, comment="points or upvotes"),
    Column("via", String(10), nullable=False, default="api", server_default="api",
           comment="api: counts read from the source; stream: counted from a live stream"),
)

# -- attention aggregates, kept up to date on write (store/totals.py) ----------------

mention_totals = Table(
    "mention_totals", metadata,
    Column("mention_id", ForeignKey("mentions.id", ondelete="CASCADE"), primary_key=True),
    Column("source", String(20), nullable=False),
    Column("who", Integer, nullable=False,
           comment="the author's account id, or minus the mention's id when it has none"),
    Column("live", Boolean, nullable=False, comment="counted: not deleted, not a repost"),
    Column("created_at", UtcDateTime()),
    Column("papers", JSON, nullable=False, comment="the paper ids it was counted for"),
    Column("likes", Integer, nullable=False),
    Column("reposts", Integer, nullable=False),
    Column("kept", Integer, nullable=False, comment="reposts after the per-post cap"),
    Column("quotes", Integer, nullable=False),
    Column("replies", Integer, nullable=False),
    Column("points", Integer, nullable=False),
    comment="each mention's contribution to account_totals as last counted (latest counts)",
)

account_totals = Table(
    "account_totals", metadata,
    Column("paper_id", String(40), primary_key=True),
    Column("source", String(20), primary_key=True),
    Column("who", Integer, primary_key=True),
    Column("posts", Integer, nullable=False),
    Column("likes", Integer, nullable=False),
    Column("reposts", Integer, nullable=False),
    Column("kept", Integer, nullable=False),
    Column("quotes", Integer, nullable=False),
    Column("replies", Integer, nullable=False),
    Column("points", Integer, nullable=False),
    Column("first_at", UtcDateTime()),
    Column("account_created_at", UtcDateTime()),
    Column("value", Float, nullable=False, comment="the account's hot value for the paper"),
    Index("ix_account_totals_who", "who"),
    Index("ix_account_totals_top", "paper_id", "source", "value"),
    comment="per paper, source and author: the live posts' latest counts and hot value",
)

paper_source_totals = Table(
    "paper_source_totals", metadata,
    Column("paper_id", String(40), primary_key=True),
    Column("source", String(20), primary_key=True),
    Column("raw", Float, nullable=False),
    Column("people", Integer, nullable=False),
    Column("posts", Integer, nullable=False),
    Column("reposts_capped", Integer, nullable=False),
    Column("new_accounts", Integer, nullable=False),
    Column("first_at", UtcDateTime()),
    comment="per paper and source: the sums hot and trending read",
)

aggregate_state = Table(
    "aggregate_state", metadata,
    Column("id", Integer, primary_key=True),
    Column("rules", JSON, nullable=False, comment="the hot rules the values were made with"),
    Column("data_until", UtcDateTime(), comment="the latest post or observation time counted"),
    Column("built_at", UtcDateTime(), nullable=False),
    comment="one row when the aggregates are built; none: rank by the exact path",
)

# -- change stamps: what changed since a consumer last looked (store/stamps.py) -----------

change_stamps = Table(
    "change_stamps", metadata,
    Column("scope", String(10), primary_key=True, comment="day, paper, or store (everything)"),
    Column("key", String(40), primary_key=True, comment="the day (ISO), the paper id, or *"),
    Column("stamp", Integer, nullable=False, index=True,
           comment="the store's change counter then"),
    Column("changed_at", UtcDateTime(), nullable=False),
    comment="bumped in the transaction of any write that changes what a day or paper shows",
)

engagements = Table(
    "engagements", metadata,
    Column("source", String(20), primary_key=True),
    Column("native_id", String(300), primary_key=True, comment="the like or repost record"),
    Column("mention_id", ForeignKey("mentions.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("kind", String(20), nullable=False, comment="like, repost, quote"),
    Column("account", String(200), nullable=False, comment="the engaging account's id"),
    Column("created_at", UtcDateTime(), nullable=False),
)

source_cursors = Table(
    "source_cursors", metadata,
    Column("name", String(100), primary_key=True, comment="e.g. bluesky-jetstream"),
    Column("value", JSON, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

paper_attention = Table(
    "paper_attention", metadata,
    Column("paper_id", ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("source", String(20), primary_key=True),
    Column("observed_at", UtcDateTime(), primary_key=True),
    Column("likes", Integer),
    Column("reposts", Integer),
    Column("quotes", Integer),
    Column("replies", Integer),
    Column("points", Integer),
    Column("mentions", Integer),
)

rankings = Table(
    "rankings", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("day", Date, nullable=False),
    Column("method", String(20), nullable=False),
    Column("window", String(10), nullable=False, default="day"),
    Column("as_of", UtcDateTime(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("settings", JSON),
    UniqueConstraint("day", "method", "window"),
)

ranking_entries = Table(
    "ranking_entries", metadata,
    Column("ranking_id", ForeignKey("rankings.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("paper_id", ForeignKey("papers.id"), nullable=False, index=True),
    Column("score", Float, nullable=False),
    Column("parts", JSON),
)

posts = Table(
    "posts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("day", Date, nullable=False),
    Column("format", String(20), nullable=False),
    Column("ranking_id", ForeignKey("rankings.id", ondelete="SET NULL")),
    Column("generated_at", UtcDateTime(), nullable=False),
    Column("layout", JSON, comment="layout facts a faithful re-render needs"),
    UniqueConstraint("day", "format"),
)

post_entries = Table(
    "post_entries", metadata,
    Column("post_id", ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("paper_id", ForeignKey("papers.id"), nullable=False),
    Column("written_at", UtcDateTime(), comment="the per-paper stamp"),
    Column("paper_shown", JSON(none_as_null=True),
           comment="the paper's title, authors, ... as published, when they differ from papers"),
    Column("reposts", Integer),
    Column("likes", Integer),
)

post_entry_mentions = Table(
    "post_entry_mentions", metadata,
    Column("post_id", ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("rank", Integer, primary_key=True, comment="order under the paper"),
    Column("mention_id", ForeignKey("mentions.id"), nullable=False),
    Column("embed_html", Text, comment="the embed as published"),
    Column("permalink", Text),
)

publications = Table(
    "publications", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("day", Date, nullable=False),
    Column("target", String(40), nullable=False),
    Column("post_id", ForeignKey("posts.id", ondelete="SET NULL")),
    Column("published_at", UtcDateTime(), nullable=False),
    Column("remote_id", Text),
    UniqueConstraint("day", "target"),
)

runs = Table(
    "runs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("command", String(80), nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime()),
    Column("status", String(20), nullable=False, default="running",
           comment="running, ok, failed, partial, nothing"),
    Column("counts", JSON),
    Column("cursors", JSON),
    Column("errors", JSON),
    Column("pid", Integer, comment="the process that records the run"),
    Column("host", String(255), comment="the host of that process"),
    Column("process_start", String(80),
           comment="when that process started (boot id and clock ticks), to tell a reused pid"),
)
