"""Each day's listing: the papers announced on a listing date, in crawl order."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import Connection, delete, select

from hotpapers.store.schema import listings
from hotpapers.store.upsert import upsert

__all__ = ["ListingRow", "clear_listing", "load_listing", "reorder_listing", "save_listing"]

ListingRow = tuple[str, str]  # (paper id, announce type)


def save_listing(conn: Connection, day: date, rows: Sequence[ListingRow],
                 category: str | None = None, start: int = 0) -> None:
    """Store papers of `day` in crawl order, positions counted from `start`."""
    upsert(conn, listings, [
        {"day": day, "paper_id": paper_id, "position": start + i,
         "announce_type": announce_type, "category": category}
        for i, (paper_id, announce_type) in enumerate(rows)
    ], keys=["day", "paper_id"], keep_stored=False)


def load_listing(conn: Connection, day: date) -> list[ListingRow]:
    query = (select(listings.c.paper_id, listings.c.announce_type)
             .where(listings.c.day == day).order_by(listings.c.position))
    return [(paper_id, kind) for paper_id, kind in conn.execute(query)]


def reorder_listing(conn: Connection, day: date, kinds: Sequence[str]) -> None:
    """Number the day's papers again: by announce type in the order of `kinds`, then by id."""
    rows = sorted(load_listing(conn, day),
                  key=lambda row: (kinds.index(row[1]) if row[1] in kinds else len(kinds), row[0]))
    save_listing(conn, day, rows)


def clear_listing(conn: Connection, day: date) -> None:
    """Forget the day's listing, before it is made anew."""
    conn.execute(delete(listings).where(listings.c.day == day))
