"""Bluesky through its HTTP API: signed-in post search over a window (searchPosts), and
public post lookups (getPosts) for fresh counts and deletions. Parsing a post view is pure."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from hotpapers.config import Secrets, Settings
from hotpapers.errors import MissingCredentials, SourceError
from hotpapers.http import Clock
from hotpapers.models import Account, Mention, Observation
from hotpapers.resolve import paper_ids
from hotpapers.secrets import register
from hotpapers.sources.base import Refreshed, Span
from hotpapers.sources.bluesky.records import post_links, post_permalink
from hotpapers.sources.common import HttpSource, count, json_body, one_line, utc_time

__all__ = ["BadPost", "BlueskySource", "post_mention", "read_post", "view_links"]

SEARCH_LIMIT = 100  # the most searchPosts returns per page
LOOKUP_BATCH = 25  # the most uris getPosts takes per call
_POST_PATH = "/app.bsky.feed.post/"
_INVALID_HANDLE = "handle.invalid"  # what the AppView shows when a handle does not verify


class BadPost(ValueError):
    """A post view that lacks what every post has (uri, author DID, record, a date)."""


# --- pure parsing -------------------------------------------------------------------------

def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _count(value: Any) -> int | None:
    """A count as the AppView gives it; None when absent, not an int or negative."""
    number = count(value)
    return number if number is None or number >= 0 else None


def _utc(value: Any) -> datetime | None:
    """An RFC 3339 datetime with a zone, in UTC; None when absent, invalid or zoneless."""
    return utc_time(value, naive="none")


def _is_post_uri(uri: Any) -> bool:
    return isinstance(uri, str) and uri.startswith("at://") and _POST_PATH in uri


def _quoted_uri(embed: Any) -> str | None:
    """The post a record's embed quotes (app.bsky.embed.record, or recordWithMedia whose
    `record` holds one); None for other embeds and for embedded lists or feeds."""
    if not isinstance(embed, Mapping):
        return None
    ref = embed.get("record")
    if embed.get("$type") == "app.bsky.embed.recordWithMedia":
        ref = ref.get("record") if isinstance(ref, Mapping) else None
    elif embed.get("$type") != "app.bsky.embed.record":
        return None
    uri = ref.get("uri") if isinstance(ref, Mapping) else None
    return uri if _is_post_uri(uri) else None


def _view_parts(view: Any) -> tuple[str, Mapping[str, Any], Mapping[str, Any]]:
    if not isinstance(view, Mapping):
        raise BadPost("a post view is not an object")
    uri, record, author = view.get("uri"), view.get("record"), view.get("author")
    if not _text(uri):
        raise BadPost("a post view has no uri")
    if not isinstance(record, Mapping) or not isinstance(author, Mapping) \
            or not _text(author.get("did")):
        raise BadPost(f"{uri}: no record or no author DID")
    return uri, record, author


def view_links(view: Mapping[str, Any]) -> list[str]:
    """Full URLs a post view carries: link facets and link cards (also a quote's media card),
    never the shortened link text."""
    _, record, _ = _view_parts(view)
    embed = view.get("embed")
    try:
        return post_links(record, embed if isinstance(embed, Mapping) else None)
    except (AttributeError, TypeError) as exc:
        raise BadPost(f"{view['uri']}: unreadable facets or embed ({exc})") from None


def read_post(view: Mapping[str, Any], observed_at: datetime) -> Mention:
    """The mention a post view (app.bsky.feed.defs#postView) describes, with the paper ids
    its text and links name (possibly none) and one observation of its counts."""
    uri, record, author = _view_parts(view)
    text = record.get("text") if isinstance(record.get("text"), str) else ""
    created = _utc(record.get("createdAt")) or _utc(view.get("indexedAt"))
    if created is None:
        raise BadPost(f"{uri}: no valid createdAt or indexedAt")
    links = view_links(view)
    reply = record.get("reply")
    if isinstance(reply, Mapping):
        parent = reply.get("parent")
        kind = "reply"
        parent_uri = _text(parent.get("uri")) if isinstance(parent, Mapping) else None
    elif quoted := _quoted_uri(record.get("embed")):
        kind, parent_uri = "quote", quoted
    else:
        kind, parent_uri = "post", None
    handle = _text(author.get("handle"))
    if handle == _INVALID_HANDLE:
        handle = None
    return Mention(
        source="bluesky",
        native_id=uri,
        paper_ids=paper_ids(text, links),
        permalink=post_permalink(uri, handle),
        account=Account("bluesky", author["did"], handle, _text(author.get("displayName")),
                        _utc(author.get("createdAt"))),
        text=text,
        created_at=created,
        kind=kind,
        parent_native_id=parent_uri,
        observations=[Observation(
            observed_at=observed_at, likes=_count(view.get("likeCount")),
            reposts=_count(view.get("repostCount")), quotes=_count(view.get("quoteCount")),
            replies=_count(view.get("replyCount")))],
    )


def post_mention(view: Mapping[str, Any], observed_at: datetime) -> Mention | None:
    """Like `read_post`, but None for a post that names no paper."""
    mention = read_post(view, observed_at)
    return mention if mention.paper_ids else None


def _rfc3339(when: datetime) -> str:
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- the source ---------------------------------------------------------------------------

class BlueskySource(HttpSource):
    """Posts naming papers, found by searching Bluesky (needs a handle and an app password);
    fresh counts and deletions looked up on the public AppView (needs nothing)."""

    name = "bluesky"

    def __init__(self, settings: Settings, secrets: Secrets, clock: Clock | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        super().__init__(settings, clock, transport, headers={"Accept": "application/json"})
        self.settings, self.secrets = settings, secrets
        self._access_jwt: str | None = None
        self._seen: set[str] = set()

    # -- HTTP helpers

    def _xrpc(self, base: str, method: str) -> str:
        return f"{base.rstrip('/')}/{method}"

    @staticmethod
    def _json(response: httpx.Response, what: str) -> dict[str, Any]:
        return json_body(response, what, dict,
                         detail=lambda answer: repr(one_line(answer.text, 60)))

    @staticmethod
    def _posts(body: Mapping[str, Any], what: str) -> list[Any]:
        posts = body.get("posts")
        if not isinstance(posts, list):
            raise SourceError(f"{what}: the answer has no list of posts")
        return posts

    # -- sign-in

    def _credentials(self) -> tuple[str, str]:
        handle = (self.secrets.bsky_handle or "").strip()
        secret = self.secrets.bsky_app_password
        password = secret.get_secret_value() if secret is not None else ""
        if not handle or not password:
            raise MissingCredentials("bluesky search needs HOTPAPERS_BSKY_HANDLE and "
                                     "HOTPAPERS_BSKY_APP_PASSWORD (an app password)")
        return handle, password

    def check_credentials(self) -> None:
        """MissingCredentials unless search could sign in (`hotpapers doctor` asks; no
        request is made)."""
        self._credentials()

    def _sign_in(self, handle: str, password: str) -> str:
        """The access token of a new session, made once per run."""
        if self._access_jwt:
            return self._access_jwt
        what = "bluesky: sign-in"
        response = self._request(
            "POST", self._xrpc(self.settings.bsky_api_url, "com.atproto.server.createSession"),
            what, accept=(400, 401, 403), json={"identifier": handle, "password": password})
        if not response.is_success:
            detail = _refusal(response).replace(password, "***")
            raise SourceError(f"bluesky: sign-in refused (HTTP {response.status_code}"
                              f"{': ' + detail if detail else ''})")
        body = self._json(response, what)
        token = body.get("accessJwt")
        if not _text(token):
            raise SourceError(f"{what}: the answer has no accessJwt")
        register(token)
        register(_text(body.get("refreshJwt")))
        self._access_jwt = token
        return token

    # -- search

    def mentions(self, window: Span) -> Iterator[Mention]:
        """Each post of the window that names a paper, once per run, over every query of
        `settings.bsky_query`. MissingCredentials at once without a handle and password."""
        handle, password = self._credentials()
        return self._mentions(window, handle, password)

    def _mentions(self, window: Span, handle: str, password: str) -> Iterator[Mention]:
        malformed = 0
        try:
            token = self._sign_in(handle, password)
            for query in self.settings.bsky_query:
                for view in self._search(query, window, token):
                    try:
                        mention = post_mention(view, self.clock.now())
                    except BadPost:
                        malformed += 1
                        continue
                    if mention is None or mention.created_at not in window \
                            or mention.native_id in self._seen:
                        continue
                    self._seen.add(mention.native_id)
                    yield mention
        finally:
            if malformed:
                self.report.notes.append(
                    f"bluesky: skipped {malformed} malformed post(s) in search results")

    def _search(self, query: str, window: Span, token: str) -> Iterator[Any]:
        """The post views of one query, page after page until no cursor (or no posts)."""
        url = self._xrpc(self.settings.bsky_api_url, "app.bsky.feed.searchPosts")
        what = f"bluesky: search {query!r}"
        params: dict[str, Any] = {"q": query, "sort": "latest", "limit": SEARCH_LIMIT,
                                  "since": _rfc3339(window.since),
                                  "until": _rfc3339(window.until)}
        cursors: set[str] = set()
        while True:
            response = self._request("GET", url, what, params=params,
                                     headers={"Authorization": f"Bearer {token}"})
            body = self._json(response, what)
            posts = self._posts(body, what)
            self.report.reads += len(posts)
            yield from posts
            cursor = body.get("cursor")
            if not posts or not _text(cursor) or cursor in cursors:
                return
            cursors.add(cursor)
            params["cursor"] = cursor

    # -- lookups

    def refresh(self, native_ids: Sequence[str]) -> Refreshed:
        """Fresh counts of stored posts from the public AppView, 25 per call; posts it no
        longer returns (deleted, or their account gone) are reported gone."""
        wanted = list(dict.fromkeys(native_ids))
        uris = [uri for uri in wanted if _is_post_uri(uri)]
        if len(uris) < len(wanted):
            self.report.notes.append(f"bluesky: {len(wanted) - len(uris)} id(s) are not post "
                                     "at:// URIs; not looked up")
        url = self._xrpc(self.settings.bsky_public_url, "app.bsky.feed.getPosts")
        what = "bluesky: getPosts"
        result, malformed, unnamed = Refreshed(), 0, 0
        for start in range(0, len(uris), LOOKUP_BATCH):
            batch = uris[start:start + LOOKUP_BATCH]
            response = self._request("GET", url, what, params={"uris": batch})
            posts = self._posts(self._json(response, what), what)
            found: set[str] = set()
            for view in posts:
                if isinstance(view, Mapping) and isinstance(view.get("uri"), str):
                    found.add(view["uri"])
                try:
                    mention = read_post(view, self.clock.now())
                except BadPost:
                    malformed += 1
                    continue
                if mention.paper_ids:
                    result.mentions.append(mention)
                else:
                    unnamed += 1
            result.gone.extend(uri for uri in batch if uri not in found)
        if malformed:
            self.report.notes.append(f"bluesky: skipped {malformed} malformed post(s) "
                                     "in lookups")
        if unnamed:
            self.report.notes.append(f"bluesky: {unnamed} looked-up post(s) name no paper; "
                                     "left out")
        return result


def _refusal(response: httpx.Response) -> str:
    """`error: message` of an XRPC error body, else its first line."""
    try:
        body = response.json()
    except ValueError:
        return one_line(response.text, 120)
    if isinstance(body, Mapping):
        parts = [part for part in (body.get("error"), body.get("message"))
                 if isinstance(part, str) and part]
        return one_line(": ".join(parts), 120)
    return ""
