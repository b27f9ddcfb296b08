"""The feed of a live view (`hotpapers serve`'s /feed.atom, /feed.rss, /feed.json with the
board's parameters): one entry per paper of the ranking, its id the paper's page, so a
reader subscribed to a field sees each paper once, when it enters the list. Pure."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from html import escape

from hotpapers.models import Paper
from hotpapers.render.feeds import (
    EPOCH,
    JSON_FEED_VERSION,
    LANGUAGE,
    SUMMARY_LENGTH,
    _abs_url,
    _clean,
    _html,
    _moment,
    _rfc3339,
    _xml,
)

__all__ = ["FeedPaper", "FeedView", "view_documents"]


@dataclass(frozen=True)
class FeedView:
    """The view a feed follows: its title and description, its page, and the URLs of its
    three documents (each with the view's query)."""

    title: str
    description: str
    home: str
    atom: str
    rss: str
    json: str


class FeedPaper:
    """A paper of the view's ranking as an entry."""

    def __init__(self, rank: int, paper: Paper, score: float, url: str, moment: datetime,
                 sources: tuple[str, ...] = ()):
        self.paper, self.rank, self.url, self.id = paper, rank, url, url
        self.title = _clean(paper.title)
        self.moment = _moment(moment)
        self.score, self.sources = score, sources

    def content_html(self) -> str:
        lines = " · ".join([f"#{self.rank}", f"score {round(float(self.score), 4)}",
                            *self.sources])
        return (f"<p>{_html(', '.join(self.paper.authors))}</p><p>{_html(lines)}</p>"
                f"<p>{_html(self.paper.abstract)}</p>"
                f'<p><a href="{escape(_abs_url(self.paper), quote=True)}">arXiv</a></p>')

    def summary(self) -> str:
        text = _clean(self.paper.abstract)
        return text if len(text) <= SUMMARY_LENGTH else \
            text[:SUMMARY_LENGTH - 1].rstrip() + "…"


def view_documents(entries: list[FeedPaper], view: FeedView, updated: datetime | None = None
                   ) -> dict[str, bytes]:
    """The Atom, RSS 2.0 and JSON Feed 1.1 documents, keyed "atom", "rss", "json"; updated
    when their newest entry is, or at `updated` (the ranking's time) when none is newer."""
    moments = [e.moment for e in entries] + ([_moment(updated)] if updated else [])
    meta = {"title": _clean(view.title), "description": _clean(view.description),
            "home": view.home, "base": view.home, "updated": max(moments, default=EPOCH)}
    feed = {"version": JSON_FEED_VERSION, "title": meta["title"], "home_page_url": view.home,
            "feed_url": view.json, "description": meta["description"], "language": LANGUAGE,
            "items": [{"id": e.id, "url": e.url, "title": e.title,
                       "content_html": e.content_html(), "summary": e.summary(),
                       "date_published": _rfc3339(e.moment),
                       "date_modified": _rfc3339(e.moment)} for e in entries]}
    return {"atom": _xml("atom.xml", entries, meta, self_url=view.atom),
            "rss": _xml("rss.xml", entries, meta, permalinks="true", self_url=view.rss),
            "json": (json.dumps(feed, ensure_ascii=False, separators=(",", ":")) + "\n"
                     ).encode("utf-8")}
