"""The days the store holds papers for (listed, or dated by their announcement), newest
first, and the days one paper was announced or listed on."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, func, select, union_all

from hotpapers.store.attention import DAY_KINDS
from hotpapers.store.schema import listings, papers

__all__ = ["paper_days", "stored_days"]


def stored_days(conn: Connection, limit: int | None = None) -> list[tuple[date, int]]:
    """(day, papers) for each day with papers, newest first: a day's listed papers (new or
    cross-listed), else the papers dated to it without a listing."""
    listed = (select(listings.c.day.label("day"), listings.c.paper_id.label("id"))
              .where(listings.c.announce_type.in_(DAY_KINDS)))
    dated = (select(papers.c.announced_on.label("day"), papers.c.id.label("id"))
             .where(papers.c.announced_on.is_not(None)))
    both = union_all(listed, dated).subquery()
    query = (select(both.c.day, func.count(func.distinct(both.c.id)))
             .group_by(both.c.day).order_by(both.c.day.desc()))
    if limit is not None:
        query = query.limit(limit)
    return [(_date(day), count) for day, count in conn.execute(query)]


def paper_days(conn: Connection, paper_id: str) -> list[date]:
    """The days `paper_id` was listed on (new or cross-listed) or is dated to, newest first."""
    listed = conn.execute(select(listings.c.day).where(
        listings.c.paper_id == paper_id, listings.c.announce_type.in_(DAY_KINDS))).scalars()
    dated = conn.execute(select(papers.c.announced_on).where(
        papers.c.id == paper_id, papers.c.announced_on.is_not(None))).scalars()
    return sorted({_date(d) for d in (*listed, *dated)}, reverse=True)


def _date(value: date | str) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value
