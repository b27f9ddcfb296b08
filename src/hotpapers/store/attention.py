"""The papers of a window of announcement dates and their attention, aggregated in SQL per
paper, source and account (the rankers do the rest in Python)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    Connection,
    Integer,
    String,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    type_coerce,
    union,
)
from sqlalchemy.sql import Select

from hotpapers.models import AccountAttention
from hotpapers.store.schema import (
    accounts,
    listings,
    mention_papers,
    mentions,
    observations,
    paper_attention,
    papers,
)

__all__ = ["TOTALS", "account_attention", "published_totals", "window_ids", "window_paper_ids"]

TOTALS = "(published totals)"
DAY_KINDS = ("new", "cross")


def window_ids(start: date, end: date) -> Select:
    """Ids of the papers announced (new or cross-listed) from `start` to `end` inclusive."""
    listed = select(listings.c.paper_id.label("id")).where(
        listings.c.day.between(start, end), listings.c.announce_type.in_(DAY_KINDS))
    dated = select(papers.c.id).where(papers.c.announced_on.between(start, end))
    return select(union(listed, dated).subquery().c.id)


def window_paper_ids(conn: Connection, start: date, end: date) -> list[str]:
    """The window's papers in crawl order: listed ones by day and position, then papers
    dated to the window without a stored listing, by date and id."""
    listed = conn.execute(
        select(listings.c.paper_id).where(listings.c.day.between(start, end),
                                          listings.c.announce_type.in_(DAY_KINDS))
        .order_by(listings.c.day, listings.c.position, listings.c.paper_id)).scalars().all()
    dated = conn.execute(
        select(papers.c.id).where(papers.c.announced_on.between(start, end))
        .order_by(papers.c.announced_on, papers.c.id)).scalars().all()
    return list(dict.fromkeys([*listed, *dated]))


def _utc(value: datetime | str | None) -> datetime | None:
    """A time read raw: SQLite gives the stored text, PostgreSQL an aware datetime."""
    if value is None or isinstance(value, datetime):
        return value.astimezone(UTC) if value is not None else None
    return datetime.fromisoformat(f"{value}+00:00")


def account_attention(conn: Connection, start: date, end: date, as_of: datetime,
                      repost_ratio: float, sources: list[str] | None = None
                      ) -> list[AccountAttention]:
    """Per paper of the window, source and author account: the live posts (not deleted,
    not reposts, created by `as_of`) and the sums of their last counts at or before
    `as_of`, each post's reposts also capped at `repost_ratio` x (likes + 1).

    One pass: each post's last observation is found through the observations' primary key
    (a correlated max), posts are grouped by the integer account id (a post without an
    author stands alone), the accounts are joined to the groups only, and times are read
    raw and parsed here (SQLAlchemy's generic SQLite datetime parsing cost as much as the
    query). benchmarks/ranking_eval.py times it."""
    query = _account_attention_sql(conn.dialect.name, start, end, as_of, repost_ratio, sources)
    born: dict = {}  # an account's creation time, parsed once
    found = []
    for (paper, source, _, native, posts, first, likes, reposts, kept, quotes, replies,
         points, account, handle, created) in conn.execute(query).all():
        if created not in born:
            born[created] = _utc(created)
        found.append(AccountAttention(
            paper, source, account if account is not None else f"post:{native}", posts,
            likes, reposts, kept, quotes, replies, points, _utc(first), born[created],
            handle))
    return found


def _account_attention_sql(dialect: str, start: date, end: date, as_of: datetime,
                           repost_ratio: float, sources: list[str] | None) -> Select:
    """The query of `account_attention`: the posts grouped, then their accounts joined,
    in the order of the author ids (PostgreSQL may hash the groups: unordered, equal values
    would sum and be named in a different order from one read to the next)."""
    groups = _post_groups(dialect, start, end, as_of, repost_ratio, sources).subquery()
    return (select(groups, accounts.c.native_id.label("account"), accounts.c.handle,
                   type_coerce(accounts.c.created_at, String).label("created"))
            .outerjoin(accounts, accounts.c.id == groups.c.who)
            .order_by(groups.c.paper_id, groups.c.source, groups.c.who))


def _post_groups(dialect: str, start: date, end: date, as_of: datetime, repost_ratio: float,
                 sources: list[str] | None) -> Select:
    """The live posts about the window's papers grouped per paper, source and author (`who`:
    the account id, or minus the post's id for a post without one), with the sums of each
    post's last counts at or before `as_of`."""
    latest = (select(func.max(observations.c.observed_at))
              .where(observations.c.mention_id == mentions.c.id,
                     observations.c.observed_at <= as_of)
              .correlate(mentions).scalar_subquery())
    obs = observations.alias("obs")
    likes, reposts = func.coalesce(obs.c.likes, 0), func.coalesce(obs.c.reposts, 0)
    limit = literal(repost_ratio) * (likes + 1)
    # whole reposts: CAST truncates on SQLite but rounds on PostgreSQL, so cut first there
    cap = cast(func.trunc(limit) if dialect == "postgresql" else limit, Integer)
    who = func.coalesce(mentions.c.account_id, -mentions.c.id)
    grouped = (
        select(mention_papers.c.paper_id, mentions.c.source, who.label("who"),
               func.max(mentions.c.native_id).label("native_id"),
               func.count().label("posts"),
               type_coerce(func.min(mentions.c.created_at), String).label("first_at"),
               func.sum(likes).label("likes"), func.sum(reposts).label("reposts"),
               func.sum(case((reposts > cap, cap), else_=reposts)).label("kept"),
               func.sum(func.coalesce(obs.c.quotes, 0)).label("quotes"),
               func.sum(func.coalesce(obs.c.replies, 0)).label("replies"),
               func.sum(func.coalesce(obs.c.points, 0)).label("points"))
        .select_from(
            mention_papers.join(mentions, mentions.c.id == mention_papers.c.mention_id)
            .outerjoin(obs, (obs.c.mention_id == mentions.c.id) & (obs.c.observed_at == latest)))
        .where(mention_papers.c.paper_id.in_(window_ids(start, end)),
               mentions.c.deleted_at.is_(None), mentions.c.kind != "repost",
               or_(mentions.c.created_at.is_(None), mentions.c.created_at <= as_of))
        .group_by(mention_papers.c.paper_id, mentions.c.source, who)
    )
    if sources is not None:
        grouped = grouped.where(mentions.c.source.in_(sources))
    return grouped


def published_totals(conn: Connection, start: date, end: date, as_of: datetime,
                     sources: list[str] | None = None) -> list[AccountAttention]:
    """The paper-level totals that imported posts carry (source `legacy`), as one
    pseudo-account per paper and source: the last totals at or before `as_of`. Most
    stores have none (only imported posts carry them): that is found first, cheaply."""
    if conn.execute(select(paper_attention.c.paper_id).limit(1)).first() is None:
        return []
    last = (select(paper_attention.c.paper_id, paper_attention.c.source,
                   func.max(paper_attention.c.observed_at).label("at"))
            .where(paper_attention.c.observed_at <= as_of,
                   paper_attention.c.paper_id.in_(window_ids(start, end)))
            .group_by(paper_attention.c.paper_id, paper_attention.c.source).subquery())
    query = select(paper_attention).join(last, (last.c.paper_id == paper_attention.c.paper_id)
                                         & (last.c.source == paper_attention.c.source)
                                         & (last.c.at == paper_attention.c.observed_at))
    if sources is not None:
        query = query.where(paper_attention.c.source.in_(sources))
    return [AccountAttention(
        paper_id=r.paper_id, source=r.source, account=TOTALS, posts=r.mentions or 1,
        likes=r.likes or 0, reposts=r.reposts or 0, quotes=r.quotes or 0,
        replies=r.replies or 0, points=r.points or 0, first_at=r.observed_at)
        for r in conn.execute(query)]
