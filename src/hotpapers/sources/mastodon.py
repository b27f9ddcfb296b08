"""Mastodon: statuses linking papers, read from the public hashtag timelines of the configured
instances (and, with a token, from their status search); a status is keyed by its global URI."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx

from hotpapers.config import Secrets, Settings
from hotpapers.errors import SourceError
from hotpapers.http import Clock
from hotpapers.models import Account, Mention, Observation
from hotpapers.resolve import paper_ids
from hotpapers.sources.base import Refreshed, Span
from hotpapers.sources.common import (
    HttpSource,
    NewMentions,
    count,
    html_text_and_links,
    json_body,
    parse_time,
)

__all__ = ["MastodonSource", "parse_status"]

PAGE_SIZE = 40
MAX_PAGES = 100  # per timeline or search: a guard against a server that never ends a listing
SEARCH_QUERY = "arxiv.org"


def original(status: dict[str, Any]) -> dict[str, Any]:
    """The status itself, or for a reblog the status it reblogs (unwrapped once)."""
    reblogged = status.get("reblog")
    return reblogged if isinstance(reblogged, dict) else status


def parse_status(status: dict[str, Any], observed_at: datetime) -> Mention:
    """The mention a status (a Mastodon Status entity) makes, reblogs unwrapped; paper_ids
    may be empty. Raises KeyError, TypeError or ValueError on a status of the wrong shape."""
    status = original(status)
    text, links = html_text_and_links(status["content"])
    card = status.get("card")
    card_url = card.get("url") if isinstance(card, dict) else None
    account = status["account"]
    return Mention(
        source="mastodon",
        native_id=str(status["uri"]),
        paper_ids=paper_ids(text, [*links, card_url]),
        permalink=status.get("url") or str(status["uri"]),
        account=Account("mastodon", str(account["url"]), account.get("acct"),
                        account.get("display_name") or None),
        text=text,
        created_at=parse_time(status["created_at"], naive="none"),
        kind="reply" if status.get("in_reply_to_id") else "post",
        observations=[Observation(observed_at=observed_at,
                                  likes=count(status.get("favourites_count")),
                                  reposts=count(status.get("reblogs_count")),
                                  replies=count(status.get("replies_count")),
                                  quotes=count(status.get("quotes_count")))],
    )


def _next_max_id(response: httpx.Response, statuses: list[Any]) -> str | None:
    """The max_id of the next (older) page: from the Link header's rel="next" when the
    server sends one, else the id of the page's last status."""
    link = response.links.get("next", {}).get("url")
    if link:
        found = parse_qs(urlsplit(link).query).get("max_id")
        if found:
            return found[0]
    last = statuses[-1] if statuses else None
    return str(last["id"]) if isinstance(last, dict) and "id" in last else None


_STATUS_PATH = re.compile(r"/users/[^/]+/statuses/(\d+)$")


def _origin(url: str) -> str:
    """scheme://host[:port] of `url`, lower-cased."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _status_api(uri: str, instances: Sequence[str]) -> tuple[str, str, bool] | None:
    """(API URL, local id, whether the instance is configured) of a status with a URI of
    Mastodon's form, else None. The API is at the instance's origin (or at the configured
    base of that origin whose path the URI is under), never under the URI's own path."""
    parts = urlsplit(uri)
    found = _STATUS_PATH.search(parts.path)
    if parts.scheme not in ("http", "https") or not parts.netloc or found is None:
        return None
    local_id = found.group(1)
    origin = _origin(uri)
    for base in instances:
        path = urlsplit(base).path
        if _origin(base) == origin and (parts.path + "/").startswith(path + "/"):
            return f"{base}/api/v1/statuses/{local_id}", local_id, True
    return f"{origin}/api/v1/statuses/{local_id}", local_id, False


def _api_error(response: httpx.Response) -> bool:
    """Whether a 404/410 is the API's own answer (a JSON object, Mastodon's error entity),
    not a page from something in front of it."""
    try:
        return isinstance(response.json(), dict)
    except ValueError:
        return False


class MastodonSource(HttpSource):
    """Statuses naming papers on the configured Mastodon instances. No credentials needed;
    HOTPAPERS_MASTODON_TOKEN, when set, belongs to the first configured instance: it is sent
    there only (never to the others' operators) and enables search there."""

    name = "mastodon"
    refresh_batch = 10  # one request per status

    def __init__(self, settings: Settings, secrets: Secrets, clock: Clock | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        super().__init__(settings, clock, transport)
        self.settings = settings
        token = secrets.mastodon_token.get_secret_value() if secrets.mastodon_token else ""
        self.instances = [i.rstrip("/") for i in settings.mastodon_instances]
        self.home = self.instances[0] if token and self.instances else None
        self.auth = {"Authorization": f"Bearer {token}"} if token else {}

    def mentions(self, window: Span) -> Iterator[Mention]:
        """Each status created in the window that names a paper, once per URI across
        instances, tags and search."""
        keep = NewMentions(window)
        try:
            for instance in self.settings.mastodon_instances:
                base = instance.rstrip("/")
                pages = [self._tag_pages(base, tag, window)
                         for tag in self.settings.mastodon_tags]
                if base == self.home:
                    pages.append(self._search_pages(base, window))
                statuses = (s for listing in pages for page in listing for s in page)
                yield from keep(self._mention(status, window) for status in statuses)
        finally:
            if keep.malformed:
                self.report.notes.append(
                    f"mastodon: skipped {keep.malformed} malformed statuses")

    def refresh(self, native_ids: Sequence[str]) -> Refreshed:
        """Statuses whose URI has Mastodon's form (`https://HOST[/ap]/users/NAME/statuses/ID`)
        are looked up at their instance's API (`/api/v1/statuses/ID`), which holds their
        true counts. Only a 404 or 410 from that API of a configured instance, answered as
        the API answers (JSON), means deleted; URIs of other server software are left."""
        result = Refreshed()
        for uri in native_ids:
            found = _status_api(uri, self.instances)
            if found is None:
                continue
            url, local_id, own = found
            what = f"mastodon: status {uri}"
            base = url.removesuffix(f"/api/v1/statuses/{local_id}")
            response = self._request("GET", url, what, accept=(404, 410),
                                     headers=self.auth if base == self.home else None)
            if response.status_code in (404, 410):
                if own and _api_error(response):
                    result.gone.append(uri)
                continue
            mention = self._refreshed(response, what, uri, local_id)
            if mention is not None:
                result.mentions.append(mention)
        return result

    def _refreshed(self, response: httpx.Response, what: str, uri: str,
                   local_id: str) -> Mention | None:
        """The mention of a status looked up again, or None (noted) when the answer is
        about another status than the one asked."""
        body = json_body(response, what, dict)
        if str(body.get("id")) != local_id and body.get("uri") != uri:
            self.report.notes.append(f"{what}: the answer is about another status "
                                     f"({str(body.get('id'))[:40]}); not taken")
            return None
        try:
            mention = parse_status(body, self.clock.now())
        except (KeyError, TypeError, ValueError) as exc:
            raise SourceError(f"{what}: unexpected answer ({exc})") from None
        mention.native_id = uri  # as stored, whatever form the server gives back
        return mention

    def _mention(self, status: Any, window: Span) -> Mention | None:
        """The status's mention, or None when it has the wrong shape."""
        try:
            return parse_status(status, self.clock.now())
        except (KeyError, TypeError, ValueError, AttributeError):
            return None

    def _tag_pages(self, base: str, tag: str, window: Span) -> Iterator[list[Any]]:
        """Pages of a hashtag timeline, newest first, down to the first page entirely older
        than the window."""
        url = f"{base}/api/v1/timelines/tag/{quote(tag.lstrip('#'), safe='')}"
        what = f"mastodon: {base} #{tag.lstrip('#')}"
        max_id: str | None = None
        for _ in range(MAX_PAGES):
            params = {"limit": PAGE_SIZE} | ({"max_id": max_id} if max_id else {})
            response = self._request("GET", url, what, params=params,
                                     headers=self.auth if base == self.home else None)
            statuses = json_body(response, what, list)
            self.report.reads += len(statuses)
            if not statuses:
                return
            yield statuses
            following = _next_max_id(response, statuses)
            if _all_older(statuses, window.since) or not following or following == max_id:
                return
            max_id = following
        self.report.notes.append(f"{what}: stopped after {MAX_PAGES} pages")

    def _search_pages(self, base: str, window: Span) -> Iterator[list[Any]]:
        """Pages of the instance's status search for arxiv.org, by offset."""
        url = f"{base}/api/v2/search"
        what = f"mastodon: {base} search"
        for page in range(MAX_PAGES):
            params = {"q": SEARCH_QUERY, "type": "statuses", "limit": PAGE_SIZE,
                      "offset": page * PAGE_SIZE}
            response = self._request("GET", url, what, params=params,
                                     headers=self.auth if base == self.home else None)
            statuses = json_body(response, what, dict).get("statuses")
            if not isinstance(statuses, list):
                raise SourceError(f"{what}: the answer has no list of statuses")
            self.report.reads += len(statuses)
            if not statuses:
                return
            yield statuses
            if _all_older(statuses, window.since):
                return
        self.report.notes.append(f"{what}: stopped after {MAX_PAGES} pages")


def _all_older(statuses: Iterable[Any], since: datetime) -> bool:
    """True when every status of a page (by its own time, reblogs included) is older than
    `since`; statuses without a readable time do not count."""
    for status in statuses:
        try:
            if parse_time(status["created_at"], naive="none") >= since:
                return False
        except (KeyError, TypeError, ValueError):
            continue
    return True
