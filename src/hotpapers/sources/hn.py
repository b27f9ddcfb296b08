"""Hacker News through its Algolia API: stories that link or name arXiv papers, newest first
(`search_by_date`), with their points and comment counts, and stories looked up again by id."""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from hotpapers.config import Secrets, Settings
from hotpapers.errors import SourceError
from hotpapers.http import Clock
from hotpapers.models import Account, Mention, Observation
from hotpapers.resolve import paper_ids
from hotpapers.sources.base import Refreshed, Span
from hotpapers.sources.common import HttpSource, count, json_body, parse_time, plural

__all__ = [
    "HackerNewsSource", "SearchPage", "count_comments", "parse_hit", "parse_item",
    "parse_search_page", "window_filter",
]

QUERY = "arxiv.org"
HITS_PER_PAGE = 100
MAX_PAGES = 50  # Algolia stops at 1,000 hits (10 pages of 100); this only guards a loop
_HREF = re.compile(r"""<a\s[^>]*?href\s*=\s*["']([^"']+)["']""", re.I)
_TAG = re.compile(r"<[^>]+>")


@dataclass
class SearchPage:
    """One page of an Algolia search answer."""

    hits: list[Any]
    page: int
    nb_pages: int
    nb_hits: int
    hits_per_page: int

    @property
    def reachable(self) -> int:
        """How many hits paging can reach: Algolia caps nbPages (1,000 hits per query)."""
        return self.nb_pages * self.hits_per_page


def _epoch(when: datetime) -> int:
    """Whole seconds, rounded up: `created_at_i` counts whole seconds, so a story stamped
    with second s lies in [since, until) exactly when ceil(since) <= s < ceil(until)."""
    return math.ceil(when.timestamp())


def window_filter(window: Span) -> str:
    """Algolia's numericFilters for the half-open window."""
    return f"created_at_i>={_epoch(window.since)},created_at_i<{_epoch(window.until)}"


def _whole_number(body: Mapping[str, Any], key: str, default: int | None = None) -> int:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise SourceError(f"hn: search answer: {key!r} is not a whole number")
    return value


def parse_search_page(body: Any) -> SearchPage:
    """The hits and paging of a search answer; SourceError when it is not that shape."""
    if not isinstance(body, dict):
        raise SourceError(f"hn: search answer is a JSON {type(body).__name__}, not an object")
    hits = body.get("hits")
    if not isinstance(hits, list):
        raise SourceError("hn: search answer: 'hits' is not a list")
    return SearchPage(hits=hits, page=_whole_number(body, "page", 0),
                      nb_pages=_whole_number(body, "nbPages"),
                      nb_hits=_whole_number(body, "nbHits", len(hits)),
                      hits_per_page=_whole_number(body, "hitsPerPage", HITS_PER_PAGE))


def _created(body: Mapping[str, Any]) -> datetime:
    """The UTC time of a hit or item, from `created_at_i` or else `created_at`."""
    stamp = body.get("created_at_i")
    if count(stamp) is not None:
        return datetime.fromtimestamp(stamp, UTC)
    text = body.get("created_at")
    if not isinstance(text, str):
        raise ValueError("no creation time")
    return parse_time(text)


def _links_and_text(story_html: str | None) -> tuple[list[str], str]:
    """The link targets and the plain text of an HN story text (HTML with entities)."""
    if not story_html:
        return [], ""
    links = [html.unescape(href) for href in _HREF.findall(story_html)]
    return links, html.unescape(_TAG.sub(" ", story_html))


def _story(native_id: str, body: Mapping[str, Any], story_html: str | None, points: Any,
           replies: int | None, observed_at: datetime) -> Mention:
    """A story mention from the fields hits and items share."""
    title = body.get("title") if isinstance(body.get("title"), str) else None
    url = body.get("url") if isinstance(body.get("url"), str) else None
    links, plain = _links_and_text(story_html)
    text = "\n".join(part for part in (title, plain) if part)
    author = body.get("author") if isinstance(body.get("author"), str) else None
    return Mention(
        source="hn",
        native_id=native_id,
        paper_ids=paper_ids(text, [url, *links]),
        permalink=f"https://news.ycombinator.com/item?id={native_id}",
        account=Account("hn", author, author) if author else None,
        text=title,
        created_at=_created(body),
        kind="story",
        observations=[Observation(observed_at=observed_at, points=count(points),
                                  replies=replies)],
    )


def _native_id(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).isdigit():
        raise ValueError(f"bad id {value!r}")
    return str(value)


def parse_hit(hit: Any, observed_at: datetime) -> Mention | None:
    """The mention a search hit makes, or None when it names no paper. ValueError when the
    hit lacks an id or a time."""
    if not isinstance(hit, dict):
        raise ValueError("a hit is not an object")
    mention = _story(_native_id(hit.get("objectID")), hit, hit.get("story_text"),
                     hit.get("points"), count(hit.get("num_comments")), observed_at)
    return mention if mention.paper_ids else None


def count_comments(children: Any) -> int:
    """Comments under an item, at every depth; deleted ones (no author, no text) left out."""
    if not isinstance(children, list):
        return 0
    total = 0
    for child in children:
        if not isinstance(child, dict):
            continue
        if child.get("author") is not None or child.get("text") is not None:
            total += 1
        total += count_comments(child.get("children"))
    return total


def parse_item(body: Any, observed_at: datetime) -> Mention | None:
    """The mention an `items/<id>` answer makes (paper ids as it names them now), or None
    for a deleted story (no author and no title). ValueError when it is not an item."""
    if not isinstance(body, dict):
        raise ValueError(f"the answer is a JSON {type(body).__name__}, not an object")
    native_id = _native_id(body.get("id"))
    if body.get("author") is None and body.get("title") is None:
        return None
    return _story(native_id, body, body.get("text"), body.get("points"),
                  count_comments(body.get("children")), observed_at)


class HackerNewsSource(HttpSource):
    """Hacker News stories naming arXiv papers, read from hn.algolia.com (no credentials)."""

    name = "hn"
    refresh_batch = 10  # one request per story: small batches keep what was read if one fails

    def __init__(self, settings: Settings, secrets: Secrets, clock: Clock | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        super().__init__(settings, clock, transport, headers={"Accept": "application/json"})
        self.base = settings.hn_api_url.rstrip("/")
        self._seen: set[str] = set()

    def mentions(self, window: Span) -> Iterator[Mention]:
        """Each story of the window naming a paper, once per run, newest first."""
        params = {"query": QUERY, "tags": "story", "numericFilters": window_filter(window),
                  "hitsPerPage": HITS_PER_PAGE}
        bad = 0
        try:
            for number in range(MAX_PAGES):
                what = f"hn: search page {number}"
                response = self._request("GET", f"{self.base}/search_by_date", what,
                                         params={**params, "page": number})
                page = parse_search_page(json_body(response, what))
                if number == 0 and page.nb_hits > page.reachable:
                    self.report.notes.append(
                        f"hn: {page.nb_hits} stories match but Algolia pages reach only "
                        f"{page.reachable}; the oldest of the window were not read "
                        f"(a shorter window avoids this)")
                for hit in page.hits:
                    try:
                        mention = parse_hit(hit, self.clock.now())
                    except (ValueError, OverflowError, OSError):
                        bad += 1
                        continue
                    if (mention is None or mention.native_id in self._seen
                            or mention.created_at not in window):
                        continue
                    self._seen.add(mention.native_id)
                    yield mention
                if not page.hits or number >= page.nb_pages - 1:
                    break
        finally:
            if bad:
                self.report.notes.append(f"hn: skipped {plural(bad, 'malformed search hit')}")

    def refresh(self, native_ids: Sequence[str]) -> Refreshed:
        """Points and comment counts of stored stories, one `items/<id>` call each; a 404
        or a deleted story is reported gone."""
        ids = [native_id for native_id in native_ids if native_id.isdigit()]
        result = self._look_up_each(ids, f"{self.base}/items", "item", parse_item)
        if bad := len(native_ids) - len(ids):
            self.report.notes.append(
                f"hn: skipped {plural(bad, 'stored id')} that are not HN item ids")
        return result
