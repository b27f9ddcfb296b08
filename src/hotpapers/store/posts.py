"""Rankings and posts as published: entries in order, totals, stamps and shown mentions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Connection, delete, select

from hotpapers.models import Paper, Post, PostEntry, ShownMention
from hotpapers.store.papers import load_papers, shown_fields
from hotpapers.store.schema import (
    mentions,
    post_entries,
    post_entry_mentions,
    posts,
    ranking_entries,
    rankings,
)
from hotpapers.store.stamps import bump
from hotpapers.store.upsert import upsert

__all__ = [
    "RankingRow", "StoredRanking", "load_post", "load_ranking", "post_generated_at", "save_post",
    "save_ranking",
]


@dataclass
class RankingRow:
    paper_id: str
    score: float
    parts: dict = field(default_factory=dict)


@dataclass
class StoredRanking:
    day: date
    method: str
    as_of: datetime
    rows: list[RankingRow]
    window: str = "day"
    settings: dict = field(default_factory=dict)
    id: int | None = None


def save_ranking(conn: Connection, ranking: StoredRanking, now: datetime) -> int:
    """Store a ranking, replacing the one of the same day, method and window."""
    ranking_id = upsert(
        conn, rankings,
        {"day": ranking.day, "method": ranking.method, "window": ranking.window,
         "as_of": ranking.as_of, "created_at": now, "settings": ranking.settings},
        keys=["day", "method", "window"], update=["as_of", "settings"], returning="id",
        keep_stored=False,
    )
    conn.execute(delete(ranking_entries).where(ranking_entries.c.ranking_id == ranking_id))
    bump(conn, days=[ranking.day])
    if ranking.rows:
        conn.execute(ranking_entries.insert(), [
            {"ranking_id": ranking_id, "position": i, "paper_id": row.paper_id,
             "score": row.score, "parts": row.parts}
            for i, row in enumerate(ranking.rows, start=1)])
    return ranking_id


def load_ranking(conn: Connection, day: date, method: str, window: str = "day"
                 ) -> StoredRanking | None:
    head = conn.execute(select(rankings).where(
        rankings.c.day == day, rankings.c.method == method, rankings.c.window == window
    )).mappings().first()
    if head is None:
        return None
    rows = [RankingRow(r.paper_id, r.score, r.parts or {}) for r in conn.execute(
        select(ranking_entries).where(ranking_entries.c.ranking_id == head["id"])
        .order_by(ranking_entries.c.position))]
    return StoredRanking(day=day, method=method, window=window, as_of=head["as_of"],
                         rows=rows, settings=head["settings"] or {}, id=head["id"])


def save_post(conn: Connection, post: Post, fmt: str,
              mention_ids: dict[tuple[str, str], int], ranking_id: int | None = None) -> int:
    """Store a post (replacing the day's post of that format). `mention_ids` maps each
    shown mention's (source, native id) to its row id. What the post shows is kept with it:
    paper fields that differ from the stored paper, and each mention's embed HTML and
    permalink, so the post renders as published whatever changes later."""
    post_id = upsert(
        conn, posts,
        {"day": post.day, "format": fmt, "ranking_id": ranking_id,
         "generated_at": post.generated_at, "layout": post.layout},
        keys=["day", "format"], returning="id", keep_stored=False,
    )
    conn.execute(delete(post_entry_mentions).where(post_entry_mentions.c.post_id == post_id))
    bump(conn, days=[post.day])
    conn.execute(delete(post_entries).where(post_entries.c.post_id == post_id))
    stored = load_papers(conn, [e.paper.id for e in post.entries])
    for position, entry in enumerate(post.entries, start=1):
        conn.execute(post_entries.insert().values(
            post_id=post_id, position=position, paper_id=entry.paper.id,
            written_at=entry.written_at, reposts=entry.reposts, likes=entry.likes,
            paper_shown=_pinned(entry.paper, stored.get(entry.paper.id))))
        if entry.shown:
            conn.execute(post_entry_mentions.insert(), [
                {"post_id": post_id, "position": position, "rank": rank,
                 "mention_id": mention_ids[m.key], "embed_html": m.embed_html,
                 "permalink": m.permalink}
                for rank, m in enumerate(entry.shown, start=1)])
    return post_id


def _pinned(shown: Paper, stored: Paper | None) -> dict | None:
    fields = shown_fields(shown)
    return None if stored is not None and shown_fields(stored) == fields else fields


def load_post(conn: Connection, day: date, fmt: str) -> Post | None:
    """The stored post of `day` in format `fmt`, ready to render, or None. Mentions that were
    deleted at their source since are left out (their totals stay as published)."""
    head = conn.execute(select(posts).where(posts.c.day == day, posts.c.format == fmt)
                        ).mappings().first()
    if head is None:
        return None
    rows = conn.execute(select(post_entries).where(post_entries.c.post_id == head["id"])
                        .order_by(post_entries.c.position)).mappings().all()
    papers = load_papers(conn, [r["paper_id"] for r in rows])
    shown: dict[int, list[ShownMention]] = {}
    query = (select(post_entry_mentions.c.position, mentions.c.source, mentions.c.native_id,
                    post_entry_mentions.c.embed_html, post_entry_mentions.c.permalink)
             .join(mentions, mentions.c.id == post_entry_mentions.c.mention_id)
             .where(post_entry_mentions.c.post_id == head["id"], mentions.c.deleted_at.is_(None))
             .order_by(post_entry_mentions.c.position, post_entry_mentions.c.rank))
    for position, source, native_id, embed_html, permalink in conn.execute(query):
        shown.setdefault(position, []).append(
            ShownMention(native_id, embed_html, permalink, source))
    entries = []
    for r in rows:
        paper = papers[r["paper_id"]]
        if r["paper_shown"]:
            paper = Paper(**{**paper.__dict__, **r["paper_shown"]})
        entries.append(PostEntry(paper=paper, reposts=r["reposts"], likes=r["likes"],
                                 written_at=r["written_at"], shown=shown.get(r["position"], [])))
    return Post(day=day, generated_at=head["generated_at"], entries=entries,
                layout=head["layout"] or {})


def post_generated_at(conn: Connection, day: date, fmt: str) -> datetime | None:
    """When the stored post of `day` in `fmt` was generated, or None when there is none."""
    return conn.execute(select(posts.c.generated_at).where(
        posts.c.day == day, posts.c.format == fmt)).scalar()
