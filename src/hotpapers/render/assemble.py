"""A day's post assembled from plain data, with no I/O: the ranked papers with their totals,
the papers' records and the shown mentions' embed HTML in, a `Post` out (which
render/lumen.py and render/markdown.py then write in their formats)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from hotpapers.models import Paper, Post, PostEntry, ShownMention
from hotpapers.render.lumen import tweet_embed

__all__ = ["Embeds", "PostRow", "assemble_post"]

# (source, native id) of a mention -> (its permalink, its embed HTML when known)
Embeds = Mapping[tuple[str, str], tuple[str | None, str | None]]


@dataclass(frozen=True)
class PostRow:
    """One ranked paper as a post shows it: its totals and the (source, native id) keys of
    the mentions shown under it, best first."""

    paper_id: str
    reposts: int
    likes: int
    shown: tuple[tuple[str, str], ...] = ()


def shown_mention(key: tuple[str, str], embed: tuple[str | None, str | None]) -> ShownMention:
    """A shown mention with the HTML the post prints: its embed HTML, or else the bare
    blockquote that X's widget expands (kept so, as the post was published)."""
    source, native_id = key
    permalink, html = embed
    mention = ShownMention(native_id, html, permalink, source)
    mention.embed_html = tweet_embed(mention)
    return mention


def assemble_post(ranking: Iterable[PostRow], papers: Mapping[str, Paper], embeds: Embeds,
                  *, day: date, written_at: datetime) -> Post:
    """The post of `day`, written at `written_at`: one entry per row of `ranking`, in its
    order, each with its paper from `papers` and its shown mentions from `embeds` (every
    shown key must be in it). The inputs are not changed."""
    entries = [PostEntry(paper=papers[row.paper_id], reposts=row.reposts, likes=row.likes,
                         written_at=written_at,
                         shown=[shown_mention(key, embeds[key]) for key in row.shown])
               for row in ranking]
    return Post(day=day, generated_at=written_at, entries=entries)
