"""A day's hot or trending post: the day's stored ranking by that method (as published),
else the ranking made now; each paper with its per-source summary and its best mentions
from every source as of the ranking's time. Read in one go, X embeds fetched with no
transaction open, assembled purely; publishing stores the ranking, which fixes the post."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Connection, Engine

from hotpapers.config import Settings
from hotpapers.jobs.post import DayPost, Fetch, fetch_embeds
from hotpapers.jobs.ranking import Method, Window, rank_papers, ranked_rows
from hotpapers.models import Mention, Paper, ShownMention, SourceSummary
from hotpapers.rank.rows import HotParts, RankedRow
from hotpapers.render.assemble import PostRow, assemble_post
from hotpapers.render.cards import best_mentions, source_counts
from hotpapers.store.mentions import load_mentions, save_embed
from hotpapers.store.papers import load_papers
from hotpapers.store.posts import (
    RankingRow,
    StoredRanking,
    load_ranking,
    post_generated_at,
    save_ranking,
)

__all__ = ["RankedInputs", "make_ranked_post", "post_method", "post_rows", "read_ranked_day"]


@dataclass
class RankedInputs:
    """What a hot or trending post is made from: its ranking (stored: the published one)
    and, per paper, the rows, papers and cards of the mentions shown."""

    ranking: StoredRanking
    published: bool
    rows: list[PostRow] = field(default_factory=list)
    papers: dict[str, Paper] = field(default_factory=dict)
    cards: dict[tuple[str, str], ShownMention] = field(default_factory=dict)


def post_rows(rows: Iterable[RankedRow], mentions: Mapping[str, list[Mention]],
              as_of: datetime, per_source: int
              ) -> tuple[list[PostRow], dict[tuple[str, str], ShownMention]]:
    """The post's rows of a hot or trending ranking: each paper's score, a summary per
    source it scored on, the largest share first (people and posts as counted, counts of
    its mentions as of `as_of`), and its best mentions, sources in that order; and the
    cards of those mentions by key. Pure."""
    out, cards = [], {}
    for row in rows:
        named = mentions.get(row.paper_id, [])
        counts = source_counts(named, as_of)
        parts = row.parts.sources if isinstance(row.parts, HotParts) else {}
        order = sorted(parts, key=lambda name: (-parts[name].contribution, name))
        sources = tuple(SourceSummary(name, parts[name].people, parts[name].posts,
                                      counts.get(name, ())) for name in order)
        shown = best_mentions(named, as_of, per_source, order)
        cards.update((m.key, m) for m in shown)
        out.append(PostRow(row.paper_id, 0, 0, tuple(m.key for m in shown), row.score,
                           sources))
    return out, cards


def read_ranked_day(conn: Connection, day: date, method: Method, settings: Settings,
                    now: datetime) -> RankedInputs:
    """The day's published ranking by `method`, else its ranking as of `now`, with what
    the post shows of each paper."""
    stored = load_ranking(conn, day, method.value)
    if stored is not None:
        rows = ranked_rows(stored)
    else:
        ranked = rank_papers(conn, day, method, Window.day, settings, now)
        rows = ranked.rows
        stored_rows = [RankingRow(r.paper_id, r.score, r.parts.to_json()) for r in rows]
        stored = StoredRanking(day=day, method=method.value, as_of=ranked.as_of,
                               rows=stored_rows, settings={"window": "day"})
    ids = [r.paper_id for r in rows]
    by_paper: dict[str, list[Mention]] = {}
    for mention in load_mentions(conn, ids):
        for paper_id in mention.paper_ids:
            by_paper.setdefault(paper_id, []).append(mention)
    shown, cards = post_rows(rows, by_paper, stored.as_of, settings.post_mentions_per_source)
    return RankedInputs(stored, stored.id is not None, shown, load_papers(conn, ids), cards)


def make_ranked_post(engine: Engine, day: date, method: Method, settings: Settings,
                     now: datetime, *, keep: bool = False, embed: Fetch | None = None,
                     warn: Callable[[str], None] = lambda _: None) -> DayPost:
    """The day's post by hot or trending: as published (the stored ranking, its as-of
    time, the mentions as of then), else ranked now; with `keep`, the ranking is stored as
    the day's published one. `embed` fetches the embed HTML of shown X posts that have none,
    with no transaction open; what it returns is cached in the store."""
    with engine.connect() as conn:
        inputs = read_ranked_day(conn, day, method, settings, now)
    embeds = {key: (card.permalink, card.embed_html) for key, card in inputs.cards.items()}
    fetched = fetch_embeds(embeds, embed, warn) if embed is not None else {}
    embeds.update({key: (embeds[key][0], html) for key, html in fetched.items()})
    ranking = inputs.ranking
    post = assemble_post(inputs.rows, inputs.papers, embeds, day=day, written_at=ranking.as_of,
                         method=method.value, cards=inputs.cards)
    save = keep and not inputs.published
    if fetched or save:
        with engine.begin() as conn:
            for key, html in fetched.items():
                save_embed(conn, key, html)
            if save and load_ranking(conn, day, method.value) is None:
                ranking.id = save_ranking(conn, ranking, now)
                return DayPost(post, ranking, kept=True)
        if save:  # another run published the day meanwhile: its ranking is the day's
            return make_ranked_post(engine, day, method, settings, now, embed=embed, warn=warn)
    return DayPost(post, ranking, kept=False)


def post_method(engine: Engine, day: date, settings: Settings) -> Method:
    """The method a day's post is by when none is asked for: `daily_method`, unless the
    day was published by classic only (an imported original post, or a day published
    before hot was the default): then classic, so a published day renders as published."""
    method = Method(settings.daily_method)
    if method is Method.classic:
        return method
    with engine.connect() as conn:
        if load_ranking(conn, day, method.value) is not None:
            return method
        return Method.classic if post_generated_at(conn, day, "lumen") else method
