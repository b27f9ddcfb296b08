"""The site's data in two parts for an incremental build: an outline read whole (the posts,
their papers' ids and categories, the newest windows, the change stamps), and the rest read
only for the days and papers whose pages are made: their papers' other fields, the mentions
the days showed, live mentions, observations, totals."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from hotpapers.models import Paper, SiteData, SiteDetails, SiteStamps
from hotpapers.store.columns import SCALARS
from hotpapers.store.site_data import (
    _WINDOW_QUERIES,
    _by_paper,
    _date,
    _json,
    _mentions,
    _paper,
    _paper_fields,
    _posts,
    _queries,
    _shown,
    _snapshot,
    _totals,
    _windows,
)

__all__ = ["SiteReader", "site_reader"]

_OUTLINE = ("posts", "entries", "categories")
_FIELDS = ("papers", "authors", "categories", "versions")  # of the papers shown
_DETAILS = ("shown", "mentions", "links", "observations", "attention")
_MOST_IDS = 500  # more days or papers than this: their details are read for all
_FIELDS_OF = {  # the fields of some papers: {} is their ids' placeholders
    "papers": f"SELECT id, {', '.join(SCALARS)} FROM papers WHERE id IN ({{}})",
    "authors": "SELECT paper_id, name FROM paper_authors WHERE paper_id IN ({}) "
               "ORDER BY paper_id, position",
    "categories": "SELECT paper_id, category FROM paper_categories WHERE paper_id IN ({}) "
                  "ORDER BY paper_id, position",
    "versions": "SELECT paper_id, version, submitted_at, size FROM paper_versions "
                "WHERE paper_id IN ({}) ORDER BY paper_id, version",
}
# a paper before its fields are read: Paper's defaults (its lists are made for each one)
_BLANK = {name: value for name, value in vars(Paper(id="", title="")).items()
          if not isinstance(value, list)}
_new = object.__new__
_SHOWN_PAPERS = ("SELECT e.paper_id FROM post_entries e JOIN posts p ON p.id = e.post_id "
                 "WHERE p.format = {0}")


@contextmanager
def site_reader(store: Any, fmt: str = "lumen") -> Iterator[SiteReader]:
    """A reader of the site's data of format `fmt`, every read in one snapshot."""
    with _snapshot(store) as cursor:
        yield SiteReader(cursor, store.placeholder, fmt)


class SiteReader:
    def __init__(self, cursor: Any, placeholder: str, fmt: str):
        self.cursor, self.ph, self.fmt = cursor, placeholder, fmt
        self.post_ids: dict[date, int] = {}
        self.shown_papers: set[str] = set()
        self._posts: dict[date, Any] = {}
        # each entry's paper (only its id and categories until filled) and pinned fields
        self._papers: dict[str, list[tuple[Paper, Any]]] = {}
        self._filled: set[str] = set()

    def _rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        self.cursor.execute(sql, params)
        return self.cursor.fetchall()

    def latest(self) -> int:
        """The store's change counter (0 before any change)."""
        return self._rows("SELECT max(stamp) FROM change_stamps")[0][0] or 0

    def outline(self) -> tuple[SiteData, SiteStamps]:
        """The posts, the newest windows, and the stamps: everything but the details. The
        entries' papers have only their id and categories until `details` fills them, and
        show no mentions yet."""
        queries = _queries(self.ph)
        rows = {name: self._rows(queries[name], (self.fmt,)) for name in _OUTLINE}
        rows |= {name: self._rows(sql) for name, sql in _WINDOW_QUERIES.items()}
        categories: dict[str, list[str]] = {}
        for paper_id, category in rows["categories"]:
            categories.setdefault(paper_id, []).append(category)
        posts = _posts(rows["posts"], rows["entries"], {},
                       lambda paper_id, pinned: self._outlined(paper_id, pinned, categories))
        self.post_ids = {_date(day): post_id for post_id, day, *_ in rows["posts"]}
        self._posts = {post.day: post for post in posts}
        self.shown_papers = set(self._papers)
        stamps = SiteStamps(latest=self.latest())
        shown = _SHOWN_PAPERS.format(self.ph)
        for scope, key, stamp in self._rows(
                "SELECT scope, key, stamp FROM change_stamps WHERE scope IN ('day', 'store') "
                f"OR (scope = 'paper' AND key IN ({shown}))", (self.fmt,)):
            if scope == "store":
                stamps.everything = max(stamps.everything, stamp)
            else:
                (stamps.days if scope == "day" else stamps.papers)[key] = stamp
        return SiteData(posts, {}, {}, _windows(rows)), stamps

    def _outlined(self, paper_id: str, pinned: Any, categories: dict[str, list[str]]
                  ) -> Paper:
        shown = _json(pinned) if pinned is not None else None
        paper = _new(Paper)  # a thousand days make ten thousand: __init__ was most of it
        paper.__dict__.update(_BLANK, id=paper_id, authors=[], versions=[], categories=list(
            shown["categories"] if shown and "categories" in shown
            else categories.get(paper_id, ())))
        self._papers.setdefault(paper_id, []).append((paper, pinned))
        return paper

    def details(self, days: list[date], paper_ids: list[str], titled: list[str] = ()
                ) -> SiteDetails:
        """The details of these days (their papers' fields, their entries' shown mentions)
        and papers (their fields, live mentions and totals), and the fields of the `titled`
        papers (those pages list). Call `outline` first."""
        self._fill([e.paper.id for d in days if d in self._posts
                    for e in self._posts[d].entries] + list(paper_ids) + list(titled))
        post_ids = [self.post_ids[d] for d in days if d in self.post_ids]
        paper_ids = list(dict.fromkeys(paper_ids))
        if len(post_ids) > _MOST_IDS or len(paper_ids) > _MOST_IDS:
            queries = _queries(self.ph)
            rows = {name: self._rows(queries[name], (self.fmt,)) for name in _DETAILS}
        else:
            rows = self._some(post_ids, paper_ids)
        by_id = _mentions(rows["mentions"], rows["links"], rows["observations"])
        day_of = {post_id: day for day, post_id in self.post_ids.items()}
        wanted = dict.fromkeys(paper_ids)
        return SiteDetails(
            shown={(day_of[post_id], position): found
                   for (post_id, position), found in _shown(rows["shown"]).items()},
            mentions=_by_paper(by_id, wanted),
            by_key={(m.source, m.native_id): m for m in by_id.values()
                    if any(p in self.shown_papers for p in m.paper_ids)},
            totals={p: t for p, t in _totals(rows["attention"]).items() if p in wanted})

    def _fill(self, paper_ids: list[str]) -> None:
        """Give every entry's paper of these ids its fields (pinned ones as the entry showed
        them), as the full read (site_data's _paper) makes them; each paper once."""
        todo = [p for p in dict.fromkeys(paper_ids) if p in self._papers and p not in self._filled]
        if not todo:
            return
        if len(todo) > _MOST_IDS:
            queries = _queries(self.ph)
            rows = {name: self._rows(queries[name], (self.fmt,)) for name in _FIELDS}
        else:
            marks = ", ".join([self.ph] * len(todo))
            rows = {name: self._rows(sql.format(marks), tuple(todo))
                    for name, sql in _FIELDS_OF.items()}
        fields = _paper_fields(rows["papers"], rows["authors"], rows["categories"],
                               rows["versions"])
        for paper_id in todo:
            for paper, pinned in self._papers[paper_id]:
                paper.__dict__.update(_paper(fields[paper_id], paper_id, pinned).__dict__)
        self._filled.update(todo)

    def _some(self, post_ids: list[int], paper_ids: list[str]) -> dict[str, list[tuple]]:
        """The details' rows of these posts and papers only (as many parameters as ids)."""
        posts = ", ".join([self.ph] * len(post_ids)) or "NULL"
        papers = ", ".join([self.ph] * len(paper_ids)) or "NULL"
        ids = (f"(SELECT mention_id FROM mention_papers WHERE paper_id IN ({papers}) "
               f"UNION SELECT mention_id FROM post_entry_mentions WHERE post_id IN ({posts}))")
        both = (*paper_ids, *post_ids)
        return {
            "shown": self._rows(
                "SELECT pm.post_id, pm.position, m.source, m.native_id, pm.embed_html, "
                "pm.permalink FROM post_entry_mentions pm JOIN mentions m ON m.id = "
                f"pm.mention_id WHERE pm.post_id IN ({posts}) AND m.deleted_at IS NULL "
                "ORDER BY pm.post_id, pm.position, pm.rank", tuple(post_ids)),
            "mentions": self._rows(
                "SELECT m.id, m.source, m.native_id, m.permalink, m.text, m.created_at, "
                "m.kind, m.embed_html, m.parent_native_id, a.source, a.native_id, "
                "a.handle, a.name, a.created_at FROM mentions m "
                "LEFT JOIN accounts a ON a.id = m.account_id "
                f"WHERE m.deleted_at IS NULL AND m.id IN {ids} ORDER BY m.id", both),
            "links": self._rows("SELECT mention_id, paper_id FROM mention_papers "
                                f"WHERE mention_id IN {ids} ORDER BY mention_id, paper_id", both),
            "observations": self._rows(
                "SELECT mention_id, observed_at, likes, reposts, quotes, replies, points, via "
                f"FROM observations WHERE mention_id IN {ids} "
                "ORDER BY mention_id, observed_at", both),
            "attention": self._rows(
                "SELECT paper_id, source, observed_at, likes, reposts, quotes, replies, "
                f"points, mentions FROM paper_attention WHERE paper_id IN ({papers}) "
                "ORDER BY paper_id, source, observed_at", tuple(paper_ids)),
        }
