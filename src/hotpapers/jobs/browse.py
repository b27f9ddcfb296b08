"""What the web server reads: the store opened read-only at this code's revision (never
migrated), rankings and explanations kept in a cache keyed by the query and the store's
change stamp, a paper with its mentions and attention, and the stored days."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Engine

from hotpapers.config import Settings
from hotpapers.errors import InputError, NothingToDo
from hotpapers.jobs.ranking import (
    Explanation,
    Method,
    Ranked,
    Window,
    explain_paper,
    filters_from,
    rank_papers,
)
from hotpapers.models import Mention, Paper
from hotpapers.rank.filters import Filters
from hotpapers.render.view_feed import FeedPaper, FeedView, view_documents
from hotpapers.store.days import paper_days, stored_days
from hotpapers.store.db import connect, current_revision, shown_url
from hotpapers.store.fulltext import search_papers
from hotpapers.store.mentions import counts_over_time, load_mentions
from hotpapers.store.papers import load_attention, load_papers
from hotpapers.store.revision import HEAD_REVISION
from hotpapers.store.stamps import latest_stamp

__all__ = ["Cache", "PaperRecord", "Query", "Reader", "feed_of", "open_reader"]

CACHE_SIZE = 512  # entries
CACHE_SECONDS = 300.0  # a cached ranking is made again after this, changes or not (trending
# decays with time even when nothing is written)


def open_reader(url: str) -> Engine:
    """The store at `url`, read-only; InputError when it does not exist or is not at this
    code's revision, naming the command that migrates it."""
    engine = connect(url, read_only=True)
    found = current_revision(engine)
    if found == HEAD_REVISION:
        return engine
    engine.dispose()
    shown = shown_url(url)
    if found is None:
        raise InputError(f"--db {shown}: not a hotpapers store (create it with "
                         f"`hotpapers --db {shown} init`)")
    if found < HEAD_REVISION:
        raise InputError(f"--db {shown}: the store is at revision {found}, this hotpapers "
                         f"reads {HEAD_REVISION}; the server never migrates: run "
                         f"`hotpapers --db {shown} init` first")
    raise InputError(f"--db {shown}: the store is at revision {found}, newer than this "
                     f"hotpapers ({HEAD_REVISION}): upgrade hotpapers")


def _words(values: Iterable[str]) -> tuple[str, ...]:
    """Values stripped, empty ones dropped, duplicates removed, sorted: one cache key for
    one set of conditions."""
    return tuple(sorted({" ".join(v.split()) for v in values} - {""}))


@dataclass(frozen=True)
class Query:
    """A ranking asked for: the day (None: the newest stored day), method, window and
    filters (a condition not given takes the `filter_*` setting, as `hotpapers rank`).
    Categories may come several to a value, apart by spaces or commas."""

    day: date | None
    method: Method
    window: Window
    categories: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    primary_only: bool = False

    @classmethod
    def of(cls, day: date | None, method: Method, window: Window,
           categories: Iterable[str] = (), keywords: Iterable[str] = (),
           authors: Iterable[str] = (), primary_only: bool = False) -> Query:
        categories = [c for text in categories for c in text.replace(",", " ").split()]
        return cls(day, Method(method), Window(window), _words(categories), _words(keywords),
                   _words(authors), primary_only)

    def filters(self, settings: Settings) -> Filters:
        base = filters_from(settings)
        return Filters(self.categories or base.categories, base.exclude_categories,
                       self.primary_only or base.primary_only,
                       self.keywords or base.keywords, self.authors or base.authors)


class Cache:
    """At most `size` values, each kept for `seconds` and under the store stamp it was
    made at (a newer stamp misses); least recently used out first. Thread-safe;
    `made` counts the values made (misses)."""

    def __init__(self, size: int = CACHE_SIZE, seconds: float = CACHE_SECONDS,
                 clock: Callable[[], float] = time.monotonic):
        self.size, self.seconds, self.clock = size, seconds, clock
        self.made = 0
        self._values: OrderedDict[Hashable, tuple[float, object]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> object | None:
        with self._lock:
            found = self._values.get(key)
            if found is None:
                return None
            if self.clock() - found[0] > self.seconds:
                del self._values[key]
                return None
            self._values.move_to_end(key)
            return found[1]

    def put(self, key: Hashable, value: object) -> object:
        with self._lock:
            self.made += 1
            self._values[key] = (self.clock(), value)
            self._values.move_to_end(key)
            while len(self._values) > self.size:
                self._values.popitem(last=False)
        return value


@dataclass
class PaperRecord:
    """A paper as its page shows it: its record, live mentions, stored paper-level totals
    and the days it was announced or listed on (newest first)."""

    paper: Paper
    mentions: list[Mention] = field(default_factory=list)
    totals: list[dict] = field(default_factory=list)
    days: list[date] = field(default_factory=list)


@dataclass
class Reader:
    """The web server's reads, each in a short read of its own; rankings and explanations
    come from `cache` when the store has not changed since they were made."""

    engine: Engine
    settings: Settings
    now: Callable[[], datetime]
    cache: Cache = field(default_factory=Cache)

    def stamp(self) -> int:
        """The store's change stamp: one cheap query, made for every request."""
        with self.engine.connect() as conn:
            return latest_stamp(conn)

    def days(self, limit: int | None = None) -> list[tuple[date, int]]:
        with self.engine.connect() as conn:
            return stored_days(conn, limit)

    def latest_day(self) -> date | None:
        found = self.days(limit=1)
        return found[0][0] if found else None

    def ranking(self, query: Query) -> Ranked:
        """The query's ranking (NothingToDo: no papers stored for its day or window)."""
        with self.engine.connect() as conn:
            stamp = latest_stamp(conn)
            key = ("ranking", query, stamp)
            found = self.cache.get(key)
            if found is None:
                day = query.day or self._latest(conn)
                found = self.cache.put(key, rank_papers(
                    conn, day, query.method, query.window, self.settings, self.now(),
                    query.filters(self.settings)))
        return found  # type: ignore[return-value]

    def explanation(self, paper_id: str, day: date | None, method: Method,
                    window: Window) -> Explanation:
        """Why the paper ranks where it does (InputError: no such paper stored)."""
        with self.engine.connect() as conn:
            key = ("explain", paper_id, day, method, window, latest_stamp(conn))
            found = self.cache.get(key)
            if found is None:
                found = self.cache.put(key, explain_paper(
                    conn, paper_id, day, method, window, self.settings, self.now()))
        return found  # type: ignore[return-value]

    def search(self, words: str, limit: int, offset: int = 0
               ) -> list[tuple[Paper, float]]:
        """The papers matching `words` (title, abstract, authors, id), best first, with
        their relevance; cached like rankings, as the store changes rarely."""
        with self.engine.connect() as conn:
            key = ("search", words, limit, offset, latest_stamp(conn))
            found = self.cache.get(key)
            if found is None:
                hits = search_papers(conn, words, limit, offset)
                papers = load_papers(conn, [paper_id for paper_id, _ in hits])
                found = self.cache.put(key, [(papers[paper_id], relevance)
                                             for paper_id, relevance in hits
                                             if paper_id in papers])
        return found  # type: ignore[return-value]

    def paper(self, paper_id: str) -> PaperRecord | None:
        with self.engine.connect() as conn:
            paper = load_papers(conn, [paper_id]).get(paper_id)
            if paper is None:
                return None
            return PaperRecord(paper, load_mentions(conn, [paper_id]),
                               load_attention(conn, [paper_id]), paper_days(conn, paper_id))

    def counts_of(self, paper_ids: Iterable[str], until: datetime
                  ) -> dict[str, list[tuple[int, datetime, int]]]:
        """Each paper's mentions' summed counts over time up to `until` (one lean read for
        a board page's sparklines)."""
        with self.engine.connect() as conn:
            return counts_over_time(conn, paper_ids, until)

    def _latest(self, conn) -> date:
        found = stored_days(conn, limit=1)
        if not found:
            raise NothingToDo("no papers stored yet: fetch or import a day first")
        return found[0][0]


def feed_of(ranked: Ranked, url_of: Callable[[str], str], limit: int,
            sources_of: Callable[[object], tuple[str, ...]] = lambda _: (), **view: str
            ) -> dict[str, bytes]:
    """The Atom, RSS and JSON Feed documents of a ranking's first `limit` papers, each
    linked to `url_of(paper id)`; `view` names the feed (title, description, home, and the
    URLs atom, rss, json)."""
    entries = [FeedPaper(rank, ranked.papers[row.paper_id], row.score, url_of(row.paper_id),
                         ranked.as_of, sources_of(row.parts))
               for rank, row in enumerate(ranked.rows[:limit], start=1)]
    return view_documents(entries, FeedView(**view), updated=ranked.as_of)
