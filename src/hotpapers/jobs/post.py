"""A day's post: the published post of a day as it was published, else the day's classic
ranking with its shown tweets, their embed HTML fetched (and cached) where missing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy import Connection

from hotpapers.config import Settings
from hotpapers.errors import SourceError
from hotpapers.jobs.ranking import classic_ranking
from hotpapers.models import Post, PostEntry, ShownMention
from hotpapers.render.lumen import tweet_embed
from hotpapers.store.mentions import load_embeds, mention_ids, save_embed
from hotpapers.store.papers import load_papers
from hotpapers.store.posts import load_post, save_post, save_ranking

__all__ = ["build_post", "fill_embeds"]


def fill_embeds(conn: Connection, embeds: dict[tuple[str, str], tuple[str | None, str | None]],
                fetch: Callable[[str], str | None], warn: Callable[[str], None]) -> None:
    """Fetch the embed HTML of the X posts in `embeds` that have none yet, and cache it in
    the store. The first failure is reported through `warn` and ends the fetching: the
    posts left get the bare blockquote that X's widget expands."""
    for (source, native_id), (permalink, html) in embeds.items():
        if html is not None or source != "x" or not permalink:
            continue
        try:
            html = fetch(permalink)
        except SourceError as exc:
            warn(f"tweet embeds: {exc}; the remaining tweets are shown as bare links")
            return
        if html is not None:
            html = save_embed(conn, (source, native_id), html)
            embeds[(source, native_id)] = (permalink, html)


def build_post(conn: Connection, day: date, settings: Settings, now: datetime,
               keep: bool = False, embed: Callable[[str], str | None] | None = None,
               warn: Callable[[str], None] = lambda _: None) -> Post:
    """The day's lumen post: as stored when the day was published (same as-of, same
    bytes), else ranked now; with `keep`, that post is stored as the day's published one.
    `embed` fetches the embed HTML of a tweet URL for shown tweets that have none."""
    stored = load_post(conn, day, "lumen")
    if stored is not None:
        return stored
    ranking, shown = classic_ranking(conn, day, settings, now)
    papers = load_papers(conn, [r.paper_id for r in ranking.rows])
    embeds = load_embeds(conn, [key for keys in shown.values() for key in keys])
    if embed is not None:
        fill_embeds(conn, embeds, embed, warn)
    entries = []
    for row in ranking.rows:
        tweets = []
        for source, native_id in shown.get(row.paper_id, []):
            permalink, html = embeds[(source, native_id)]
            mention = ShownMention(native_id, html, permalink, source)
            mention.embed_html = tweet_embed(mention)  # kept as published
            tweets.append(mention)
        entries.append(PostEntry(paper=papers[row.paper_id], reposts=row.parts["reposts"],
                                 likes=row.parts["likes"], written_at=now, shown=tweets))
    post = Post(day=day, generated_at=now, entries=entries)
    if keep:
        ranking_id = save_ranking(conn, ranking, now)
        keys = [m.key for e in entries for m in e.shown]
        save_post(conn, post, "lumen", mention_ids(conn, keys), ranking_id)
    return post
