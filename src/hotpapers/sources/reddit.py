"""Reddit: link posts naming papers in the configured subreddits, read through the OAuth API
with app-only credentials (scores and comment counts), else from the public Atom feeds."""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from hotpapers.config import Secrets, Settings
from hotpapers.errors import MissingCredentials, SourceError
from hotpapers.http import Clock
from hotpapers.models import Account, Mention, Observation
from hotpapers.resolve import paper_ids
from hotpapers.secrets import register
from hotpapers.sources.base import Refreshed, Span
from hotpapers.sources.common import (
    HttpSource,
    NewMentions,
    count,
    html_text_and_links,
    json_body,
    utc_time,
)
from hotpapers.sources.safe_xml import parse_xml

__all__ = ["NO_CREDENTIALS_NOTE", "RedditSource", "is_gone", "parse_feed", "parse_post"]

PAGE_SIZE = 100
MAX_PAGES = 50  # per subreddit: a guard against a listing that never ends
NO_CREDENTIALS_NOTE = ("reddit: no credentials (HOTPAPERS_REDDIT_CLIENT_ID/_SECRET): read the "
                       "public feeds, which carry no counts")
_ATOM = "{http://www.w3.org/2005/Atom}"
_GONE_TEXT = frozenset({"[deleted]", "[removed]"})


def parse_post(data: dict[str, Any], observed_at: datetime) -> Mention:
    """The mention a post (the `data` of a t3 Thing) makes; paper_ids may be empty. Raises
    KeyError, TypeError or ValueError on a post of the wrong shape."""
    selftext = data.get("selftext") or ""
    title = str(data["title"])
    urls = [data.get("url"), data.get("url_overridden_by_dest")]
    author = data.get("author")
    created = data["created_utc"]
    if isinstance(created, bool) or not isinstance(created, int | float):
        raise TypeError("created_utc is not a number")
    return Mention(
        source="reddit",
        native_id=str(data["name"]),
        paper_ids=paper_ids(f"{title}\n{selftext}", [u for u in urls if isinstance(u, str)]),
        permalink="https://www.reddit.com" + str(data["permalink"]),
        account=(Account("reddit", author, author)
                 if isinstance(author, str) and author != "[deleted]" else None),
        text=title,
        created_at=datetime.fromtimestamp(created, UTC),
        kind="story",
        observations=[Observation(observed_at=observed_at, points=count(data.get("score")),
                                  replies=count(data.get("num_comments")))],
    )


def is_gone(data: dict[str, Any]) -> bool:
    """True for a post deleted by its author or removed by moderators or admins."""
    return ((data.get("author") == "[deleted]" and bool(data.get("removed_by_category")))
            or data.get("selftext") in _GONE_TEXT)


def listing_posts(body: Any, what: str) -> tuple[list[Any], str | None]:
    """The post datas of a Listing and its `after` cursor; SourceError in one line when the
    body is not a Listing."""
    data = body.get("data") if isinstance(body, dict) else None
    children = data.get("children") if isinstance(data, dict) else None
    if not isinstance(children, list):
        raise SourceError(f"{what}: expected a Listing with data.children")
    after = data.get("after")
    posts = [child.get("data") if isinstance(child, dict) and child.get("kind") == "t3"
             else None for child in children]
    return posts, after if isinstance(after, str) and after else None


def parse_feed(xml_text: str | bytes, what: str = "reddit feed") -> list[Mention | None]:
    """The mentions of a subreddit's Atom feed, without counts (the feed has none); None for
    an entry of the wrong shape. SourceError in one line when the body is not an Atom feed
    (or carries a DTD: it is parsed with defusedxml, as the arXiv bodies are)."""
    root = parse_xml(xml_text.encode() if isinstance(xml_text, str) else xml_text, what)
    if root.tag != f"{_ATOM}feed":
        raise SourceError(f"{what}: not an Atom feed (root element {root.tag})")
    return [_feed_entry(entry) for entry in root.iter(f"{_ATOM}entry")]


def _feed_entry(entry: ET.Element) -> Mention | None:
    native_id = (entry.findtext(f"{_ATOM}id") or "").strip()
    when = (entry.findtext(f"{_ATOM}published") or entry.findtext(f"{_ATOM}updated") or "")
    link = entry.find(f"{_ATOM}link")
    created = utc_time(when.strip(), naive="none")
    if not native_id.startswith("t3_") or created is None:
        return None
    body, links = html_text_and_links(entry.findtext(f"{_ATOM}content"))
    title = html.unescape(entry.findtext(f"{_ATOM}title") or "").strip()  # escaped twice
    author = (entry.findtext(f"{_ATOM}author/{_ATOM}name") or "").strip().removeprefix("/u/")
    return Mention(
        source="reddit",
        native_id=native_id,
        paper_ids=paper_ids(f"{title}\n{body}", links),
        permalink=link.get("href") if link is not None else None,
        account=Account("reddit", author, author) if author else None,
        text=title,
        created_at=created,
        kind="story",
    )


class RedditSource(HttpSource):
    """Posts naming papers in `settings.reddit_subreddits`: through the OAuth API with
    HOTPAPERS_REDDIT_CLIENT_ID and _SECRET (app-only), else from the public Atom feeds."""

    name = "reddit"

    def __init__(self, settings: Settings, secrets: Secrets, clock: Clock | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        client_id = secrets.reddit_client_id or ""
        secret = (secrets.reddit_client_secret.get_secret_value()
                  if secrets.reddit_client_secret else "")
        if bool(client_id) != bool(secret):
            raise MissingCredentials("reddit needs both HOTPAPERS_REDDIT_CLIENT_ID and "
                                     "HOTPAPERS_REDDIT_CLIENT_SECRET (only one is set)")
        self._credentials = (client_id, secret) if client_id else None
        self._token: str | None = None
        super().__init__(settings, clock, transport)
        self.settings = settings

    def mentions(self, window: Span) -> Iterator[Mention]:
        """Each post created in the window that names a paper, once."""
        keep = NewMentions(window)
        try:
            if self._credentials is None:
                self.report.notes.append(NO_CREDENTIALS_NOTE)
            for sub in self.settings.reddit_subreddits:
                pages = (self._api_pages(sub, window) if self._credentials
                         else self._feed_pages(sub, window))
                yield from keep(mention for page in pages for mention in page)
        finally:
            if keep.malformed:
                self.report.notes.append(f"reddit: skipped {keep.malformed} malformed posts")

    def refresh(self, native_ids: Sequence[str]) -> Refreshed:
        """New scores and comment counts of stored posts (t3_ ids), 100 per request; posts
        missing, deleted or removed are gone. Without credentials: nothing (the feeds carry
        no counts)."""
        if self._credentials is None or not native_ids:
            return Refreshed()
        result = Refreshed()
        ids = list(dict.fromkeys(native_ids))
        for start in range(0, len(ids), PAGE_SIZE):
            batch = ids[start:start + PAGE_SIZE]
            what = "reddit: api/info"
            response = self._request("GET", f"{self._api}/api/info", what,
                                     params={"id": ",".join(batch), "raw_json": 1},
                                     headers=self._bearer())
            posts, _ = listing_posts(json_body(response, what), what)
            found: set[str] = set()
            for data in posts:
                name = data.get("name") if isinstance(data, dict) else None
                if name not in batch or name in found:
                    continue
                found.add(name)
                mention = self._post(data)
                if is_gone(data):
                    result.gone.append(name)
                elif mention is not None:
                    result.mentions.append(mention)
            result.gone.extend(i for i in batch if i not in found)
        return result

    @property
    def _api(self) -> str:
        return self.settings.reddit_api_url.rstrip("/")

    def _post(self, data: Any) -> Mention | None:
        try:
            return parse_post(data, self.clock.now())
        except (KeyError, TypeError, ValueError, AttributeError):
            return None

    def _bearer(self) -> dict[str, str]:
        """The Authorization header, asking for an app-only token the first time."""
        if self._token is None:
            assert self._credentials is not None
            what = "reddit: access token"
            response = self._request(
                "POST", self.settings.reddit_auth_url, what,
                data={"grant_type": "client_credentials"},
                auth=httpx.BasicAuth(*self._credentials))
            body = json_body(response, what)
            token = body.get("access_token") if isinstance(body, dict) else None
            if not isinstance(token, str) or not token:
                raise SourceError(f"{what}: the answer holds no access_token")
            register(token)
            self._token = token
        return {"Authorization": f"bearer {self._token}"}

    def _api_pages(self, sub: str, window: Span) -> Iterator[list[Mention | None]]:
        """Pages of r/SUB/new through the API, newest first, down to the window's start."""
        url = f"{self._api}/r/{quote(sub, safe='')}/new"
        what = f"reddit: r/{sub}"
        after: str | None = None
        for _ in range(MAX_PAGES):
            params = {"limit": PAGE_SIZE, "raw_json": 1} | ({"after": after} if after else {})
            response = self._request("GET", url, what, params=params, headers=self._bearer())
            posts, following = listing_posts(json_body(response, what), what)
            self.report.reads += len(posts)
            mentions = [self._post(data) for data in posts]
            yield mentions
            if not following or following == after or _reaches(mentions, window.since):
                return
            after = following
        self.report.notes.append(f"{what}: stopped after {MAX_PAGES} pages")

    def _feed_pages(self, sub: str, window: Span) -> Iterator[list[Mention | None]]:
        """Pages of the public feed r/SUB/new/.rss, paged by the last entry's id."""
        url = f"{self.settings.reddit_feed_url.rstrip('/')}/r/{quote(sub, safe='')}/new/.rss"
        what = f"reddit: r/{sub} feed"
        after: str | None = None
        for _ in range(MAX_PAGES):
            params = {"limit": PAGE_SIZE} | ({"after": after} if after else {})
            response = self._request("GET", url, what, params=params)
            mentions = parse_feed(response.content, what)
            self.report.reads += len(mentions)
            yield mentions
            last = next((m.native_id for m in reversed(mentions) if m is not None), None)
            if len(mentions) < PAGE_SIZE or not last or last == after \
                    or _reaches(mentions, window.since):
                return
            after = last
        self.report.notes.append(f"{what}: stopped after {MAX_PAGES} pages")


def _reaches(mentions: Sequence[Mention | None], since: datetime) -> bool:
    """True when a page of a newest-first listing holds a post older than `since`: the
    pages after it hold older posts only."""
    return any(m is not None and m.created_at is not None and m.created_at < since
               for m in mentions)
