"""A day's post assembled from plain data, with no I/O: the ranked papers with their totals
(or, by hot and trending, their scores and per-source summaries), the papers' records and
the shown mentions in, a `Post` out (which render/lumen.py and render/markdown.py then
write in their formats)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime

from hotpapers.models import Paper, Post, PostEntry, ShownMention, SourceSummary
from hotpapers.render.lumen import tweet_embed

__all__ = ["Embeds", "PostRow", "assemble_post"]

# (source, native id) of a mention -> (its permalink, its embed HTML when known)
Embeds = Mapping[tuple[str, str], tuple[str | None, str | None]]


@dataclass(frozen=True)
class PostRow:
    """One ranked paper as a post shows it: its totals and the (source, native id) keys of
    the mentions shown under it, best first; by hot or trending, its score and per-source
    summary (the totals are then 0: not shown)."""

    paper_id: str
    reposts: int
    likes: int
    shown: tuple[tuple[str, str], ...] = ()
    score: float | None = None
    sources: tuple[SourceSummary, ...] = ()


def shown_mention(key: tuple[str, str], embed: tuple[str | None, str | None],
                  card: ShownMention | None = None) -> ShownMention:
    """A shown mention with the HTML the post prints: its embed HTML, or else the bare
    blockquote that X's widget expands (kept so, as the post was published). With `card`
    (what a card of it shows), only an X post gets embed HTML: the others show as cards."""
    source, native_id = key
    permalink, html = embed
    if card is None:
        mention = ShownMention(native_id, html, permalink, source)
    else:
        mention = replace(card, embed_html=html, permalink=permalink or card.permalink)
    if card is None or source == "x":
        mention.embed_html = tweet_embed(mention)
    return mention


def assemble_post(ranking: Iterable[PostRow], papers: Mapping[str, Paper], embeds: Embeds,
                  *, day: date, written_at: datetime, method: str = "classic",
                  cards: Mapping[tuple[str, str], ShownMention] | None = None) -> Post:
    """The post of `day` by `method`, written at `written_at`: one entry per row of
    `ranking`, in its order, each with its paper from `papers` and its shown mentions from
    `embeds` (every shown key must be in it) and, when given, `cards`. The inputs are not
    changed."""
    cards = cards or {}
    entries = [PostEntry(paper=papers[row.paper_id], reposts=row.reposts, likes=row.likes,
                         written_at=written_at, score=row.score, sources=list(row.sources),
                         shown=[shown_mention(key, embeds[key], cards.get(key))
                                for key in row.shown])
               for row in ranking]
    return Post(day=day, generated_at=written_at, entries=entries, method=method)
