"""A day's hot or trending post: as published (its stored ranking and post), else the
ranking made now; each paper with its per-source summary and its best mentions from every
source as of the ranking's time. Read in one go, X embeds fetched with no transaction
open, assembled purely; publishing stores the ranking and the post (format = method)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from sqlalchemy import Connection, Engine

from hotpapers.config import Settings
from hotpapers.jobs.post import DayPost, Fetch, fetch_embeds
from hotpapers.jobs.ranking import Method, Window, rank_papers, ranked_rows
from hotpapers.jobs.window_rankings import fill_window_rankings, keep_window_rankings
from hotpapers.models import Mention, Paper, Post, ShownMention, SourceSummary
from hotpapers.rank.rows import HotParts, RankedRow
from hotpapers.render.assemble import PostRow, assemble_post
from hotpapers.render.cards import best_mentions, source_counts
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

__all__ = ["RankedInputs", "make_ranked_post", "pin_facts", "post_method", "post_rows",
           "read_ranked_day", "with_pinned_facts"]


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
    post: Post | None = None  # the published post, as published


def pin_facts(post: Post) -> dict:
    """What a hot or trending post shows beyond its papers and embeds (scores, per-source
    summaries, the cards' author, text, time and counts), as the stored post's layout, so
    the published day renders the same bytes whatever the store learns later."""
    cards = {f"{m.source} {m.native_id}": {
        "name": m.name, "handle": m.handle, "text": m.text, "counts": [list(c) for c in m.counts],
        "created_at": m.created_at.isoformat() if m.created_at else None}
        for e in post.entries for m in e.shown}
    entries = {e.paper.id: {"score": e.score, "sources": [
        [s.source, s.people, s.posts, [list(c) for c in s.counts]] for s in e.sources]}
        for e in post.entries}
    return {**post.layout, "entries": entries, "cards": cards}


def with_pinned_facts(post: Post, method: str) -> Post:
    """A stored hot or trending post with the facts `pin_facts` kept put back."""
    entries, cards = post.layout.get("entries", {}), post.layout.get("cards", {})
    for entry in post.entries:
        facts = entries.get(entry.paper.id, {})
        entry.score = facts.get("score")
        entry.sources = [SourceSummary(name, people, posts, tuple(map(tuple, counts)))
                         for name, people, posts, counts in facts.get("sources", [])]
        for i, shown in enumerate(entry.shown):
            card = cards.get(f"{shown.source} {shown.native_id}", {})
            created = card.get("created_at")
            entry.shown[i] = replace(
                shown, name=card.get("name"), handle=card.get("handle"), text=card.get("text"),
                counts=tuple(map(tuple, card.get("counts", []))),
                created_at=datetime.fromisoformat(created) if created else None)
    post.method = method
    return post


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


def _mentions_by_paper(conn: Connection, ids: list[str]) -> dict[str, list[Mention]]:
    by_paper: dict[str, list[Mention]] = {}
    for mention in load_mentions(conn, ids):
        for paper_id in mention.paper_ids:
            by_paper.setdefault(paper_id, []).append(mention)
    return by_paper


def read_ranked_day(conn: Connection, day: date, method: Method, settings: Settings,
                    now: datetime) -> RankedInputs:
    """The day's published post by `method`, else its ranking (the stored one, else one as
    of `now`) with the best mentions as of the ranking's time."""
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
    if published is not None:
        return RankedInputs(stored, True, post=with_pinned_facts(published, method.value))
    ids = [r.paper_id for r in rows]
    shown, cards = post_rows(rows, _mentions_by_paper(conn, ids), stored.as_of,
                             settings.post_mentions_per_source)
    embeds = {key: (card.permalink, card.embed_html) for key, card in cards.items()}
    return RankedInputs(stored, stored.id is not None, shown, load_papers(conn, ids), cards,
                        embeds)


def _keep(conn: Connection, made: DayPost, fetched: dict[tuple[str, str], str], keep: bool,
          settings: Settings, now: datetime) -> bool:
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
    pinned = replace(post, layout=pin_facts(post))
    save_post(conn, pinned, ranking.method, mention_ids(conn, keys), ranking.id)
    keep_window_rankings(conn, post.day, settings, ranking.as_of, now)
    made.kept = True
    return True


def make_ranked_post(engine: Engine, day: date, method: Method, settings: Settings,
                     now: datetime, *, keep: bool = False, embed: Fetch | None = None,
                     warn: Callable[[str], None] = lambda _: None) -> DayPost:
    """The day's post by hot or trending: as published (the stored post: its papers,
    scores, summaries, mentions and embeds as published, less mentions deleted since),
    else ranked now; with `keep`, the ranking and the post are stored as the day's published
    ones. `embed` fetches the embed HTML of shown X posts that have none, with no
    transaction open; what it returns is cached in the store."""
    with engine.connect() as conn:
        inputs = read_ranked_day(conn, day, method, settings, now)
    if inputs.post is not None:
        if keep:
            fill_window_rankings(engine, day, method.value, settings, now)
        return DayPost(inputs.post, inputs.ranking)
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
            ours = _keep(conn, made, fetched, keep, settings, now)
        if not ours:  # another run published the day meanwhile: its post is the day's
            return make_ranked_post(engine, day, method, settings, now, embed=embed, warn=warn)
    return made


def post_method(engine: Engine, day: date, settings: Settings) -> Method:
    """The method a day's post is by when none is asked for: the one it was published by
    (`daily_method` first, then hot, trending, classic: a hot or trending day also keeps
    its classic post), else `daily_method`; so a published day renders as published."""
    preferred = Method(settings.daily_method)
    order = dict.fromkeys([preferred, Method.hot, Method.trending, Method.classic])
    with engine.connect() as conn:
        for method in order:
            if (post_generated_at(conn, day, "lumen") is not None if method is Method.classic
                    else load_ranking(conn, day, method.value) is not None):
                return method
    return preferred
