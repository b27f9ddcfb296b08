"""Each day's listing: the papers announced on a listing date, in crawl order; and the
staging area where a harvest keeps its pages until the new listing is complete."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import Connection, delete, func, select

from hotpapers.store.schema import listing_staging, listings
from hotpapers.store.stamps import bump
from hotpapers.store.upsert import upsert

__all__ = ["ListingRow", "clear_listing", "count_staged", "drop_stale_staging",
           "load_listing", "save_listing", "stage_listing", "swap_listing"]

ListingRow = tuple[str, str]  # (paper id, announce type)


def save_listing(conn: Connection, day: date, rows: Sequence[ListingRow],
                 category: str | None = None, start: int = 0) -> None:
    """Store papers of `day` in crawl order, positions counted from `start`."""
    upsert(conn, listings, [
        {"day": day, "paper_id": paper_id, "position": start + i,
         "announce_type": announce_type, "category": category}
        for i, (paper_id, announce_type) in enumerate(rows)
    ], keys=["day", "paper_id"], keep_stored=False)
    bump(conn, days=[day])


def load_listing(conn: Connection, day: date) -> list[ListingRow]:
    query = (select(listings.c.paper_id, listings.c.announce_type)
             .where(listings.c.day == day)
             .order_by(listings.c.position, listings.c.paper_id))
    return [(paper_id, kind) for paper_id, kind in conn.execute(query)]


def _in_order(rows: Sequence[ListingRow], kinds: Sequence[str]) -> list[ListingRow]:
    """By announce type in the order of `kinds`, then by id."""
    return sorted(rows, key=lambda row: (kinds.index(row[1]) if row[1] in kinds else len(kinds),
                                         row[0]))


def clear_listing(conn: Connection, day: date) -> None:
    """Forget the day's listing, before it is made anew."""
    conn.execute(delete(listings).where(listings.c.day == day))
    bump(conn, days=[day])


def stage_listing(conn: Connection, harvest: str, day: date, rows: Sequence[ListingRow],
                  now: datetime) -> None:
    """Keep papers a harvest found for `day` until it is complete (a paper found twice,
    e.g. in two sets, is kept once)."""
    upsert(conn, listing_staging, [
        {"harvest": harvest, "paper_id": paper_id, "day": day, "announce_type": kind,
         "staged_at": now} for paper_id, kind in rows
    ], keys=["harvest", "paper_id"], keep_stored=False)


def swap_listing(conn: Connection, harvest: str, day: date, kinds: Sequence[str]) -> int:
    """Replace the day's listing by what `harvest` staged, numbered in the order of `kinds`
    then by id, and forget the staged rows; returns how many papers it listed. A harvest
    that staged nothing leaves the stored listing as it is. Call it in one transaction."""
    query = (select(listing_staging.c.paper_id, listing_staging.c.announce_type)
             .where(listing_staging.c.harvest == harvest, listing_staging.c.day == day))
    rows = [(paper_id, kind) for paper_id, kind in conn.execute(query)]
    if rows:
        clear_listing(conn, day)
        save_listing(conn, day, _in_order(rows, kinds))
    conn.execute(delete(listing_staging).where(listing_staging.c.harvest == harvest))
    return len(rows)


def drop_stale_staging(conn: Connection, before: datetime) -> int:
    """Forget the pages of harvests abandoned before `before` (none staged since then)."""
    recent = select(listing_staging.c.harvest).where(listing_staging.c.staged_at >= before)
    return conn.execute(delete(listing_staging).where(
        listing_staging.c.harvest.not_in(recent))).rowcount


def count_staged(conn: Connection, harvest: str) -> int:
    """How many papers `harvest` has staged."""
    return conn.execute(select(func.count()).select_from(listing_staging)
                        .where(listing_staging.c.harvest == harvest)).scalar_one()
