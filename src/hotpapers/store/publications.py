"""What was published where: one row per day and target, so publishing is done once."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Connection, select

from hotpapers.store.schema import posts, publications
from hotpapers.store.upsert import upsert

__all__ = ["load_publication", "save_publication"]


def load_publication(conn: Connection, day: date, target: str) -> dict | None:
    """The publication of `day` to `target` (published_at, remote_id), or None."""
    row = conn.execute(select(publications).where(publications.c.day == day,
                                                  publications.c.target == target)
                       ).mappings().first()
    return dict(row) if row else None


def save_publication(conn: Connection, day: date, target: str, remote_id: str,
                     published_at: datetime, fmt: str = "lumen") -> None:
    """Record that `day` was published to `target` (replacing an earlier record)."""
    post_id = conn.execute(select(posts.c.id).where(posts.c.day == day, posts.c.format == fmt)
                           ).scalar()
    upsert(conn, publications, {"day": day, "target": target, "post_id": post_id,
                                "published_at": published_at, "remote_id": remote_id},
           keys=["day", "target"], keep_stored=False)
