"""Papers: upsert with authors, categories and versions in order; load by id."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Text, cast, delete, or_, select

from hotpapers.models import Paper, Version, strip_controls
from hotpapers.store.columns import SCALARS
from hotpapers.store.fulltext import index_papers
from hotpapers.store.schema import (
    paper_attention,
    paper_authors,
    paper_categories,
    paper_versions,
    papers,
    post_entries,
)
from hotpapers.store.stamps import bump_for_papers
from hotpapers.store.upsert import upsert

__all__ = [
    "SHOWN_FIELDS", "load_attention", "load_papers", "save_attention", "save_paper", "shown_fields",
]

# The fields a published post shows; posts keep them as published when they change.
SHOWN_FIELDS = ("title", "authors", "categories", "abstract", "abs_url", "pdf_url")


def shown_fields(paper: Paper) -> dict:
    return {name: getattr(paper, name) for name in SHOWN_FIELDS}


_UNREAD = object()


def save_paper(conn: Connection, paper: Paper, now: datetime, stored: Any = _UNREAD,
               verbatim: bool = False) -> None:
    """Insert or update a paper, its texts without control characters (`strip_controls`)
    unless `verbatim` (imported posts, kept byte for byte). When the fields a post shows
    change, every post entry that showed the old ones keeps them, so published posts render
    as published. Pass `stored` (the stored paper, or None) when the caller has read it."""
    paper = paper if verbatim else strip_controls(paper)
    old = load_papers(conn, [paper.id]).get(paper.id) if stored is _UNREAD else stored
    if old is not None and shown_fields(old) != shown_fields(paper):
        _pin_shown(conn, old)
    row = {name: getattr(paper, name) for name in SCALARS}
    row["primary_category"] = paper.categories[0] if paper.categories else None
    upsert(conn, papers, {"id": paper.id, **row, "stored_at": now}, keys=["id"],
           update=[*row, "primary_category", "stored_at"], keep_stored=False)
    if paper.versions:
        upsert(conn, paper_versions, [
            {"paper_id": paper.id, "version": v.number, "submitted_at": v.submitted_at,
             "size": v.size} for v in paper.versions], keys=["paper_id", "version"])
    conn.execute(delete(paper_authors).where(paper_authors.c.paper_id == paper.id))
    conn.execute(delete(paper_categories).where(paper_categories.c.paper_id == paper.id))
    if paper.authors:
        conn.execute(paper_authors.insert(), [
            {"paper_id": paper.id, "position": i, "name": name}
            for i, name in enumerate(paper.authors)])
    if paper.categories:
        conn.execute(paper_categories.insert(), [
            {"paper_id": paper.id, "position": i, "category": category}
            for i, category in enumerate(paper.categories)])
    if old is None or old != paper:
        index_papers(conn, [paper.id])
        bump_for_papers(conn, [paper.id])


def _pin_shown(conn: Connection, old: Paper) -> None:
    shown = post_entries.c.paper_shown
    conn.execute(
        post_entries.update()
        # "nothing pinned" is SQL NULL, or JSON null in stores written before it was NULL
        .where(post_entries.c.paper_id == old.id,
               or_(shown.is_(None), cast(shown, Text) == "null"))
        .values(paper_shown=_json_ready(shown_fields(old)))
    )


def _json_ready(fields: dict) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in fields.items()}


def load_papers(conn: Connection, ids: Iterable[str]) -> dict[str, Paper]:
    """The stored papers among `ids`, by id, in the order of `ids`."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return {}
    rows = {row["id"]: row for row in
            conn.execute(select(papers).where(papers.c.id.in_(ids))).mappings()}
    found = {i: Paper(id=i, **{name: rows[i][name] for name in SCALARS}) for i in ids
             if i in rows}  # in the order asked
    for table, attr, column in ((paper_authors, "authors", "name"),
                                (paper_categories, "categories", "category")):
        query = (select(table.c.paper_id, table.c[column])
                 .where(table.c.paper_id.in_(list(found)))
                 .order_by(table.c.paper_id, table.c.position))
        for paper_id, value in conn.execute(query):
            getattr(found[paper_id], attr).append(value)
    query = (select(paper_versions).where(paper_versions.c.paper_id.in_(list(found)))
             .order_by(paper_versions.c.paper_id, paper_versions.c.version))
    for row in conn.execute(query).mappings():
        found[row["paper_id"]].versions.append(
            Version(row["version"], row["submitted_at"], row["size"]))
    return found



def save_attention(conn: Connection, paper_id: str, source: str, observed_at: datetime,
                   **counts: int | None) -> None:
    """Paper-level totals seen at a time (imported days know only these)."""
    upsert(conn, paper_attention,
           {"paper_id": paper_id, "source": source, "observed_at": observed_at, **counts},
           keys=["paper_id", "source", "observed_at"], keep_stored=False)
    bump_for_papers(conn, [paper_id])


def load_attention(conn: Connection, paper_ids: Iterable[str]) -> list[dict]:
    """The paper-level totals stored for `paper_ids`, oldest first."""
    query = (select(paper_attention).where(paper_attention.c.paper_id.in_(list(paper_ids)))
             .order_by(paper_attention.c.paper_id, paper_attention.c.source,
                       paper_attention.c.observed_at))
    return [dict(r) for r in conn.execute(query).mappings()]
