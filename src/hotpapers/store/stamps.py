"""Change stamps: one counter for the whole store, and per day and per paper the counter's
value at their last change, bumped in the transaction of any write that changes what they
show. A consumer (the site's incremental build, the web server's ranking cache) keeps the
stamps it built from and rebuilds what has a newer one; scope `store` (key `*`) changes
everything (a bulk load)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime

from sqlalchemy import Connection, func, select, text

from hotpapers.store.schema import (
    change_stamps,
    listings,
    mention_papers,
    papers,
    post_entries,
    post_entry_mentions,
    posts,
)
from hotpapers.store.upsert import bulk_execute, upsert_statement

__all__ = ["EVERYTHING", "bump", "bump_for_mentions", "bump_for_papers", "latest_stamp",
           "load_stamps",
           "one_writer_at_a_time"]

EVERYTHING = ("store", "*")
_CHUNK = 500
_WRITERS_LOCK = 727_001  # the advisory lock of the writers that count and stamp


def one_writer_at_a_time(conn: Connection) -> None:
    """Until this transaction ends, other writers that count attention or bump stamps
    wait: their read-modify-writes of the totals and the counter stay whole, and stamps
    grow in commit order. SQLite has one writer at a time already; PostgreSQL takes a
    transaction-scoped advisory lock."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _WRITERS_LOCK})


def latest_stamp(conn: Connection) -> int:
    """The store's change counter: 0 before any change; it only grows."""
    return conn.execute(select(func.max(change_stamps.c.stamp))).scalar() or 0


def bump(conn: Connection, days: Iterable[date] = (), paper_ids: Iterable[str] = (),
         everything: bool = False) -> int:
    """Give these days and papers (or, with `everything`, the whole store) the next value
    of the counter; returns it. Call it in the transaction of the write."""
    keys = [("day", d.isoformat()) for d in dict.fromkeys(days)]
    keys += [("paper", p) for p in dict.fromkeys(paper_ids)]
    if everything:
        keys.append(EVERYTHING)
    if not keys:
        return latest_stamp(conn)
    one_writer_at_a_time(conn)
    stamp = latest_stamp(conn) + 1
    now = datetime.now(UTC)
    stmt = upsert_statement(conn.dialect.name, change_stamps, ("scope", "key"),
                            ("stamp", "changed_at"), False, None)
    bulk_execute(conn, stmt, [{"scope": scope, "key": key, "stamp": stamp, "changed_at": now}
                              for scope, key in keys])
    return stamp


def bump_for_papers(conn: Connection, paper_ids: Iterable[str]) -> int:
    """Bump these papers and the days they are listed or announced on, or whose posts show
    them (their rankings and posts show them)."""
    ids = list(dict.fromkeys(paper_ids))
    days: set[date] = set()
    for i in range(0, len(ids), _CHUNK):
        part = ids[i:i + _CHUNK]
        days.update(conn.execute(select(listings.c.day).where(
            listings.c.paper_id.in_(part)).distinct()).scalars())
        days.update(d for d in conn.execute(select(papers.c.announced_on).where(
            papers.c.id.in_(part), papers.c.announced_on.is_not(None)).distinct()).scalars())
        days.update(conn.execute(select(posts.c.day).join(
            post_entries, post_entries.c.post_id == posts.c.id).where(
            post_entries.c.paper_id.in_(part)).distinct()).scalars())
    return bump(conn, days=sorted(days), paper_ids=ids)


def bump_for_mentions(conn: Connection, mention_ids: Iterable[int]) -> int:
    """Bump the papers these mentions name (and their days), and the days whose posts show
    these mentions (under whichever paper)."""
    ids = list(dict.fromkeys(mention_ids))
    named: set[str] = set()
    days: set[date] = set()
    for i in range(0, len(ids), _CHUNK):
        part = ids[i:i + _CHUNK]
        named.update(conn.execute(select(mention_papers.c.paper_id).where(
            mention_papers.c.mention_id.in_(part)).distinct()).scalars())
        days.update(conn.execute(select(posts.c.day).join(
            post_entry_mentions, post_entry_mentions.c.post_id == posts.c.id).where(
            post_entry_mentions.c.mention_id.in_(part)).distinct()).scalars())
    if days:
        bump(conn, days=sorted(days))
    return bump_for_papers(conn, named)


def load_stamps(conn: Connection, scope: str, keys: Iterable[str] | None = None
                ) -> dict[str, int]:
    """The stamps of `scope` (`day`, `paper`), of these keys or of all."""
    query = select(change_stamps.c.key, change_stamps.c.stamp).where(
        change_stamps.c.scope == scope)
    if keys is None:
        return dict(conn.execute(query).all())
    keys = list(keys)
    found: dict[str, int] = {}
    for i in range(0, len(keys), _CHUNK):
        found |= dict(conn.execute(query.where(change_stamps.c.key.in_(keys[i:i + _CHUNK]))
                                   ).all())
    return found
