"""A day's hot or trending post: as published (its stored ranking and post), else the
ranking made now; each paper with its per-source summary and its best mentions from every
source as of the ranking's time. Read in one go, X embeds fetched with no transaction
open, assembled purely; publishing stores the ranking and the post (format = method)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Connection, Engine

from hotpapers.config import Settings
from hotpapers.jobs.post import DayPost, Fetch, fetch_embeds
from hotpapers.jobs.ranking import Method, Window, rank_papers, ranked_rows
from hotpapers.models import Mention, Paper, ShownMention, SourceSummary
from hotpapers.rank.rows import HotParts, RankedRow
from hotpapers.render.assemble import PostRow, assemble_post
from hotpapers.render.cards import best_mentions, shown_of, source_counts
from hotpapers.store.mentions import load_mentions, mention_ids, save_embed
from hotpapers.store.papers import load_papers
from hotpapers.store.posts import (
    RankingRow,
    StoredRanking,
    load_post,
    load_ranking,
    post_generated_at,
    save_post,
    save_ranking,
)

__all__ = ["RankedInputs", "make_ranked_post", "post_method", "post_rows", "read_ranked_day"]


@dataclass
class RankedInputs:
    """What a hot or trending post is made from: its ranking (`published`: the stored one),
    per paper the rows and papers, the cards of the mentions shown, and their embeds (for
    a published day: as published)."""

    ranking: StoredRanking
    published: bool
    rows: list[PostRow] = field(default_factory=list)
    papers: dict[str, Paper] = field(default_factory=dict)
    cards: dict[tuple[str, str], ShownMention] = field(default_factory=dict)
    embeds: dict[tuple[str, str], tuple[str | None, str | None]] = field(default_factory=dict)


Keys = Mapping[str, Sequence[tuple[str, str]]]


def post_rows(rows: Iterable[RankedRow], mentions: Mapping[str, list[Mention]],
              as_of: datetime, per_source: int, pinned: Keys | None = None
              ) -> tuple[list[PostRow], dict[tuple[str, str], ShownMention]]:
    """The post's rows of a hot or trending ranking: each paper's score, a summary per
    source it scored on, the largest share first (people and posts as counted, counts of
    its mentions as of `as_of`), and its best mentions, sources in that order (or the
    `pinned` ones, as published); and the cards of those mentions by key. Pure."""
    out, cards = [], {}
    for row in rows:
        named = mentions.get(row.paper_id, [])
        counts = source_counts(named, as_of)
        parts = row.parts.sources if isinstance(row.parts, HotParts) else {}
        order = sorted(parts, key=lambda name: (-parts[name].contribution, name))
        sources = tuple(SourceSummary(name, parts[name].people, parts[name].posts,
                                      counts.get(name, ())) for name in order)
        if pinned is None:
            shown = best_mentions(named, as_of, per_source, order)
        else:
            known = {(m.source, m.native_id): m for m in named}
            shown = [shown_of(known[key], as_of) for key in pinned.get(row.paper_id, ())
                     if key in known]
        cards.update((m.key, m) for m in shown)
        out.append(PostRow(row.paper_id, 0, 0, tuple(m.key for m in shown), row.score,
                           sources))
    return out, cards


def _mentions_by_paper(conn: Connection, ids: list[str]) -> dict[str, list[Mention]]:
    by_paper: dict[str, list[Mention]] = {}
    for mention in load_mentions(conn, ids):
        for paper_id in mention.paper_ids:
            by_paper.setdefault(paper_id, []).append(mention)
    return by_paper


def read_ranked_day(conn: Connection, day: date, method: Method, settings: Settings,
                    now: datetime) -> RankedInputs:
    """The day's published post by `method` (its stored ranking and the mentions it
    showed, embeds as published), else its ranking as of `now` with the best mentions."""
    stored = load_ranking(conn, day, method.value)
    published = load_post(conn, day, method.value) if stored is not None else None
    if stored is not None:
        rows = ranked_rows(stored)
    else:
        ranked = rank_papers(conn, day, method, Window.day, settings, now)
        rows = ranked.rows
        stored_rows = [RankingRow(r.paper_id, r.score, r.parts.to_json()) for r in rows]
        stored = StoredRanking(day=day, method=method.value, as_of=ranked.as_of,
                               rows=stored_rows, settings={"window": "day"})
    ids = [r.paper_id for r in rows]
    pinned = embeds = None
    if published is not None:
        pinned = {e.paper.id: [m.key for m in e.shown] for e in published.entries}
        embeds = {m.key: (m.permalink, m.embed_html) for e in published.entries for m in e.shown}
    shown, cards = post_rows(rows, _mentions_by_paper(conn, ids), stored.as_of,
                             settings.post_mentions_per_source, pinned)
    papers = load_papers(conn, ids)
    if published is not None:  # the paper fields as published
        papers.update((e.paper.id, e.paper) for e in published.entries)
    if embeds is None:
        embeds = {key: (card.permalink, card.embed_html) for key, card in cards.items()}
    return RankedInputs(stored, stored.id is not None, shown, papers, cards, embeds)


def _keep(conn: Connection, made: DayPost, fetched: dict[tuple[str, str], str], keep: bool,
          now: datetime) -> bool:
    """Cache the fetched embeds; with `keep`, store the ranking and the post as the day's
    published ones unless another run published the day meanwhile (False then)."""
    for key, html in fetched.items():
        save_embed(conn, key, html)
    if not keep:
        return True
    post, ranking = made.post, made.ranking
    if load_ranking(conn, post.day, ranking.method) is not None:
        return False
    ranking.id = save_ranking(conn, ranking, now)
    keys = [m.key for e in post.entries for m in e.shown]
    save_post(conn, post, ranking.method, mention_ids(conn, keys), ranking.id)
    made.kept = True
    return True


def make_ranked_post(engine: Engine, day: date, method: Method, settings: Settings,
                     now: datetime, *, keep: bool = False, embed: Fetch | None = None,
                     warn: Callable[[str], None] = lambda _: None) -> DayPost:
    """The day's post by hot or trending: as published (the stored ranking, its as-of
    time, the mentions it showed with their embeds as published, counts as of then), else
    ranked now; with `keep`, the ranking and the post are stored as the day's published
    ones. `embed` fetches the embed HTML of shown X posts that have none, with no
    transaction open; what it returns is cached in the store."""
    with engine.connect() as conn:
        inputs = read_ranked_day(conn, day, method, settings, now)
    embeds = inputs.embeds
    fetched = fetch_embeds(embeds, embed, warn) if embed is not None else {}
    embeds.update({key: (embeds[key][0], html) for key, html in fetched.items()})
    post = assemble_post(inputs.rows, inputs.papers, embeds, day=day,
                         written_at=inputs.ranking.as_of, method=method.value,
                         cards=inputs.cards)
    made = DayPost(post, inputs.ranking)
    keep = keep and not inputs.published
    if fetched or keep:
        with engine.begin() as conn:
            ours = _keep(conn, made, fetched, keep, now)
        if not ours:  # another run published the day meanwhile: its post is the day's
            return make_ranked_post(engine, day, method, settings, now, embed=embed, warn=warn)
    return made


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
