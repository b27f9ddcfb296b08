"""Bulk upserts of papers for large imports: a few statements per batch instead of a few
per paper."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, delete, select

from hotpapers.models import Paper, strip_controls
from hotpapers.store.columns import SCALARS
from hotpapers.store.papers import save_paper
from hotpapers.store.schema import (
    paper_authors,
    paper_categories,
    paper_versions,
    papers,
    post_entries,
)
from hotpapers.store.upsert import bulk_execute, upsert_statement

__all__ = ["save_papers_bulk"]


def save_papers_bulk(conn: Connection, batch: Sequence[Paper], now: datetime) -> None:
    """Insert or update many papers. Papers that published posts show go through
    `save_paper`, which keeps what those posts showed."""
    batch = list({p.id: strip_controls(p) for p in batch}.values())  # the last of an id wins
    ids = [p.id for p in batch]
    newer = dict(conn.execute(select(papers.c.id, papers.c.latest_version).where(
        papers.c.id.in_(ids), papers.c.latest_version.is_not(None))).all())
    batch = [p for p in batch  # an older record never replaces a newer version
             if p.id not in newer or (p.latest_version or 0) >= newer[p.id]]
    ids = [p.id for p in batch]
    shown = set(conn.execute(select(post_entries.c.paper_id).where(
        post_entries.c.paper_id.in_(ids))).scalars())
    for paper in (p for p in batch if p.id in shown):
        save_paper(conn, paper, now)
    rest = [p for p in batch if p.id not in shown]
    if not rest:
        return
    rows = [{"id": p.id, **{name: getattr(p, name) for name in SCALARS},
             "primary_category": p.categories[0] if p.categories else None, "stored_at": now}
            for p in rest]
    columns = tuple(c for c in rows[0] if c != "id")
    bulk_execute(conn, upsert_statement(conn.dialect.name, papers, ("id",), columns, False,
                                        None), rows)
    rest_ids = [p.id for p in rest]
    conn.execute(delete(paper_authors).where(paper_authors.c.paper_id.in_(rest_ids)))
    conn.execute(delete(paper_categories).where(paper_categories.c.paper_id.in_(rest_ids)))
    _insert(conn, paper_authors, [{"paper_id": p.id, "position": i, "name": name}
                                  for p in rest for i, name in enumerate(p.authors)])
    _insert(conn, paper_categories, [{"paper_id": p.id, "position": i, "category": c}
                                     for p in rest for i, c in enumerate(p.categories)])
    versions = [{"paper_id": p.id, "version": v.number, "submitted_at": v.submitted_at,
                 "size": v.size} for p in rest for v in p.versions]
    if versions:
        bulk_execute(conn, upsert_statement(conn.dialect.name, paper_versions,
                                            ("paper_id", "version"), ("submitted_at", "size"),
                                            True, None), versions)


def _insert(conn: Connection, table, rows: list[dict]) -> None:
    bulk_execute(conn, table.insert(), rows)
