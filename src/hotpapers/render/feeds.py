"""Feeds of the published days: RSS 2.0 and Atom (Jinja2 XML templates, autoescaped) and
JSON Feed 1.1.

`feed_documents(posts, site_url)` gives the three documents of one feed, as bytes keyed by
file name (`rss.xml`, `atom.xml`, `feed.json`): one entry per day, newest first, the newest
`limit` days. With `category` ("cs.LG", or an archive such as "cs" for every `cs.*`), each
day lists only its papers having that category (primary or cross-list) and days with none
are left out.

Where things are (URLs under `site_url`, without a trailing slash):

- a day's page: `{site_url}/{day}/`, also the entry's id (`#{category}` appended in a
  category's feed, so that a day's entry in two feeds is two entries);
- the feeds of all days: `{site_url}/` (`feed_url(site_url)`), linking to the home page;
- a category's feeds: `{site_url}/categories/{category}/`, linking to that directory (the
  category's page).

An entry's content is HTML: an ordered list of the day's papers in rank order (`value` keeps
each paper's rank on the day when a category leaves some out), each with its title linked to
its abs page, its authors, the counts line (`retweets: N, favorites: M`) and its abstract.
Every text from the store is escaped (`html.escape`) before it goes into that HTML, which
the feed then carries as text (escaped again by the XML writer, or as a JSON string): no
markup of a title, author or abstract reaches a reader as markup. Links are http(s) only
(else the paper's arXiv abs URL). Characters XML 1.0 cannot hold (controls, lone surrogates)
become U+FFFD. RSS items carry that HTML as `description`; Atom entries as
`content type="html"` plus a plain text `summary`; JSON Feed items as `content_html` plus
`summary`.

Output is deterministic: times come from the posts (`generated_at`; a naive time is taken as
UTC; seconds precision), never from the clock. The feed's update time is its newest entry's
time, or 1970-01-01T00:00:00Z for a feed with no entries.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from hotpapers.models import Paper, Post, PostEntry, WindowRanking
from hotpapers.render.links import http_url
from hotpapers.render.lumen import label_of

__all__ = [
    "FEED_FILES", "JSON_FEED_VERSION", "FeedDay", "FeedWindow", "category_slugs", "day_url",
    "documents", "feed_documents", "feed_url", "matches_category", "window_documents",
]

FEED_FILES = ("rss.xml", "atom.xml", "feed.json")
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
GENERATOR = "hotpapers"
LANGUAGE = "en"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SUMMARY_TITLES = 3
SUMMARY_LENGTH = 300

# An arXiv category or archive usable as a path segment: "cs.LG", "hep-th", "q-bio.NC".
_CATEGORY = re.compile(r"[A-Za-z][A-Za-z0-9-]*(?:\.[A-Za-z0-9-]+)*")
# Characters XML 1.0 cannot carry (besides tab, LF, CR), lone surrogates, U+FFFE/U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


# -- text and URLs -----------------------------------------------------------------------

def _clean(text: str | None) -> str:
    """Text on one line (whitespace runs become one space), XML-safe."""
    return " ".join(_NOT_XML.sub("\ufffd", text or "").split())


def _html(text: str | None) -> str:
    return escape(_clean(text), quote=True)


def _http_url(url: str | None) -> str | None:
    """An http(s) URL as is (spaces and quotes percent-encoded), else None; XML-safe."""
    return http_url(_NOT_XML.sub("\ufffd", url or ""))


def _abs_url(paper: Paper) -> str:
    return _http_url(paper.abs_url) or f"https://arxiv.org/abs/{quote(_clean(paper.id))}"


def _moment(moment: datetime) -> datetime:
    """An aware UTC time to the second (a naive time is taken as UTC)."""
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.replace(microsecond=0)


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


# -- places ----------------------------------------------------------------------------

def _site(site_url: str) -> str:
    return site_url.rstrip("/")


def day_url(site_url: str, post: Post) -> str:
    """The URL of a day's page."""
    return f"{_site(site_url)}/{post.day.isoformat()}/"


def feed_url(site_url: str, category: str | None = None) -> str:
    """The URL of the directory holding a feed's files (ending with `/`)."""
    if category is None:
        return f"{_site(site_url)}/"
    return f"{_site(site_url)}/categories/{_checked(category)}/"


def _checked(category: str) -> str:
    if not _CATEGORY.fullmatch(category):
        raise ValueError(f"not an arXiv category: {category!r}")
    return category


# -- categories --------------------------------------------------------------------------

def matches_category(categories: Sequence[str], category: str) -> bool:
    """Whether a paper's categories hold `category`, or one of its archive (`cs` → `cs.*`)."""
    return any(c == category or c.startswith(category + ".") for c in categories)


def category_slugs(posts: Sequence[Post]) -> list[str]:
    """The arXiv categories of the posts' papers (primary and cross-lists), sorted; a value
    that is not a category name (nothing a path segment could not hold) is left out."""
    found = {c for post in posts for e in post.entries for c in e.paper.categories
             if isinstance(c, str) and _CATEGORY.fullmatch(c)}
    return sorted(found)


# -- entries ---------------------------------------------------------------------------

def _summary(papers: Sequence[Paper]) -> str:
    """An entry's plain text summary: how many papers, the first titles."""
    count = len(papers)
    titles = [_clean(paper.title) for paper in papers[:SUMMARY_TITLES]]
    text = f"{count} paper{'' if count == 1 else 's'}: " + "; ".join(titles)
    if count > SUMMARY_TITLES:
        text += "…"
    if len(text) > SUMMARY_LENGTH:
        text = text[:SUMMARY_LENGTH - 1].rstrip() + "…"
    return text


class FeedDay:
    """One entry of a feed: a day and its papers (ranks kept), as the three formats show it.
    `items` may be shared between feeds: a paper's list item is made once per day and rank."""

    def __init__(self, post: Post, ranked: list[tuple[int, PostEntry]], site_url: str,
                 category: str | None, items: dict | None = None):
        self.post = post
        self.ranked = ranked
        self.url = day_url(site_url, post)
        self.id = self.url if category is None else f"{self.url}#{category}"
        self.title = f"Hot Papers {_clean(label_of(post))}"
        self.moment = _moment(post.generated_at)
        self._items = {} if items is None else items
        self._content: str | None = None

    def _item(self, rank: int, entry: PostEntry) -> str:
        key = (self.post.day, rank)
        found = self._items.get(key)
        if found is None:
            paper = entry.paper
            found = self._items[key] = (
                f'<li value="{rank}">'
                f'<p><a href="{escape(_abs_url(paper), quote=True)}">{_html(paper.title)}</a></p>'
                f"<p>{_html(', '.join(paper.authors))}</p>"
                f"<p>retweets: {int(entry.reposts)}, favorites: {int(entry.likes)}</p>"
                f"<p>{_html(paper.abstract)}</p>"
                "</li>")
        return found

    def inputs(self) -> tuple:
        """Everything this entry is made from, for a fingerprint (kept beside the code that
        uses it: a field shown must be listed here)."""
        return (self.url, self.id, self.title, self.moment, [
            (rank, e.reposts, e.likes, e.paper.id, e.paper.title, e.paper.authors,
             e.paper.abstract, e.paper.abs_url) for rank, e in self.ranked])

    def content_html(self) -> str:
        if self._content is None:
            items = [self._item(rank, entry) for rank, entry in self.ranked]
            self._content = "<ol>\n" + "\n".join(items) + "\n</ol>"
        return self._content

    def summary(self) -> str:
        return _summary([e.paper for _, e in self.ranked])


def _days(posts: Sequence[Post], site_url: str, category: str | None,
          limit: int) -> list[FeedDay]:
    newest: dict = {}
    for post in posts:  # one post per day: the latest generated
        kept = newest.get(post.day)
        if kept is None or _moment(post.generated_at) > _moment(kept.generated_at):
            newest[post.day] = post
    days = []
    for day in sorted(newest, reverse=True):
        if len(days) >= limit:
            break
        post = newest[day]
        ranked = [(rank, entry) for rank, entry in enumerate(post.entries, start=1)
                  if category is None or matches_category(entry.paper.categories, category)]
        if category is not None and not ranked:
            continue
        days.append(FeedDay(post, ranked, site_url, category))
    return days


class FeedWindow:
    """The entry of a week's or month's feed: the newest published day's hot ranking of that
    window, a new entry (new id) with each published day."""

    def __init__(self, ranking: WindowRanking, site_url: str):
        self.ranking = ranking
        self.url = f"{_site(site_url)}/{ranking.window}/"
        self.id = f"{self.url}#{ranking.day.isoformat()}"
        start = ranking.start.isoformat() if ranking.start else "?"
        self.title = (f"Hot papers of the {ranking.window}, {start} to "
                      f"{ranking.day.isoformat()}")
        self.moment = _moment(ranking.as_of)

    def inputs(self) -> tuple:
        """Everything the entry is made from, for a fingerprint."""
        return (self.url, self.id, self.title, self.moment, [
            (e.paper.id, e.paper.title, e.paper.authors, e.paper.abs_url, e.score)
            for e in self.ranking.entries])

    def content_html(self) -> str:
        items = [f'<li value="{rank}">'
                 f'<p><a href="{escape(_abs_url(e.paper), quote=True)}">'
                 f"{_html(e.paper.title)}</a></p>"
                 f"<p>{_html(', '.join(e.paper.authors))}</p>"
                 f"<p>score {round(float(e.score), 4)}</p></li>"
                 for rank, e in enumerate(self.ranking.entries, start=1)]
        return "<ol>\n" + "\n".join(items) + "\n</ol>"

    def summary(self) -> str:
        return _summary([e.paper for e in self.ranking.entries])


# -- documents -------------------------------------------------------------------------

_TEMPLATES = Path(__file__).with_name("templates")


@functools.cache
def _template(name: str):
    """A feed's XML template; Jinja's autoescape is XML's escaping (& < > " ')."""
    env = Environment(loader=FileSystemLoader(_TEMPLATES), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True, auto_reload=False)
    env.filters["rfc822"] = format_datetime  # RSS: "Mon, 04 Mar 2024 09:00:00 +0000"
    env.filters["rfc3339"] = _rfc3339
    return env.get_template(name)


def _xml(name: str, days: list[FeedDay], meta: dict, **extra) -> bytes:
    return _template(name).render(days=days, generator=GENERATOR, language=LANGUAGE,
                                  **meta, **extra).encode("utf-8")


def _rss(days: list[FeedDay], meta: dict, site_category: str | None) -> bytes:
    # An entry of a category's feed is not a page of its own: its guid is no permalink.
    return _xml("rss.xml", days, meta, permalinks="true" if site_category is None else "false")


def _atom(days: list[FeedDay], meta: dict) -> bytes:
    return _xml("atom.xml", days, meta)


def _json_feed(days: list[FeedDay], meta: dict) -> bytes:
    feed = {
        "version": JSON_FEED_VERSION,
        "title": meta["title"],
        "home_page_url": meta["home"],
        "feed_url": meta["base"] + "feed.json",
        "description": meta["description"],
        "language": LANGUAGE,
        "items": [
            {"id": day.id, "url": day.url, "title": day.title,
             "content_html": day.content_html(), "summary": day.summary(),
             "date_published": _rfc3339(day.moment), "date_modified": _rfc3339(day.moment)}
            for day in days],
    }
    text = json.dumps(feed, ensure_ascii=False, separators=(",", ":")) + "\n"
    return text.encode("utf-8")


def feed_documents(posts: Sequence[Post], site_url: str, title: str = "Hot Papers",
                   category: str | None = None, limit: int = 30) -> dict[str, bytes]:
    """The RSS 2.0, Atom and JSON Feed 1.1 documents of the newest `limit` days of `posts`
    (of those having papers of `category`, when given), keyed by file name."""
    if limit < 0:
        raise ValueError("limit must not be negative")
    if category is not None:
        _checked(category)
    return documents(_days(posts, site_url, category, limit), site_url, title, category)


def documents(days: list[FeedDay], site_url: str, title: str = "Hot Papers",
              category: str | None = None) -> dict[str, bytes]:
    """The three documents of a feed whose entries are `days` (newest first, one per day)."""
    base = feed_url(site_url, category)
    home = base if category is not None else f"{_site(site_url)}/"
    feed_title = _clean(title) if category is None else f"{_clean(title)}: {category}"
    what = "arXiv papers" if category is None else f"arXiv papers in {category}"
    meta = {
        "title": feed_title,
        "description": f"The most talked-about {what}, day by day",
        "home": home,
        "base": base,
        "updated": max((day.moment for day in days), default=EPOCH),
    }
    return {
        "rss.xml": _rss(days, meta, category),
        "atom.xml": _atom(days, meta),
        "feed.json": _json_feed(days, meta),
    }


def window_documents(entries: list[FeedWindow], site_url: str, window: str,
                     title: str = "Hot Papers") -> dict[str, bytes]:
    """The three documents of a week's or month's feed (`window`: "week" or "month"),
    which live in that page's folder."""
    base = f"{_site(site_url)}/{window}/"
    span = "7" if window == "week" else "30"
    meta = {
        "title": f"{_clean(title)}: this {window}",
        "description": f"The most talked-about arXiv papers of the last {span} announcement "
                       "days, with each published day",
        "home": base,
        "base": base,
        "updated": max((entry.moment for entry in entries), default=EPOCH),
    }
    # its entries' ids are the page's address and the day: no permalink of their own
    return {"rss.xml": _rss(entries, meta, window), "atom.xml": _atom(entries, meta),
            "feed.json": _json_feed(entries, meta)}
