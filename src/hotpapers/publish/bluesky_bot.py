"""The Bluesky target: the digest as a thread of posts (app.bsky.feed.post records) made by
the account of HOTPAPERS_BSKY_HANDLE with an app password.

Each post has at most 300 graphemes (and 3000 bytes), link facets at the UTF-8 byte offsets
of its links, and, for a paper, an external embed card. The thread is made one record at a
time, each reply pointing at the first post (root) and the previous one (parent).

Each record's key is derived from its createdAt and its text (a TID), so a request retried
after the server made the record, or a run repeated after a failure midway, finds the post
already there (by its key, with the same text) and goes on from it instead of posting twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import httpx

from hotpapers.config import Secrets, Settings
from hotpapers.errors import MissingCredentials, PublishError, SourceError
from hotpapers.http import Clock, PoliteClient, source_http
from hotpapers.publish.base import Digest, Payload, Receipt
from hotpapers.publish.bots import (
    BotPost,
    build_thread,
    clip,
    grapheme_count,
    made_so_far,
    one_line,
    payload_items,
    shorten,
)
from hotpapers.secrets import register

__all__ = ["BlueskyPublisher", "fits", "record_key", "thread_records"]

log = logging.getLogger(__name__)

MAX_GRAPHEMES = 300
MAX_BYTES = 3000
TITLE_GRAPHEMES = 300  # the link card's title and description: the lexicon sets no limit,
DESCRIPTION_GRAPHEMES = 300  # so the post's own limit (the "…" included)
COLLECTION = "app.bsky.feed.post"
LINK = "app.bsky.richtext.facet#link"
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"  # base32-sortable
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def fits(text: str) -> bool:
    """Whether `text` fits a post: at most 300 graphemes and 3000 UTF-8 bytes."""
    return grapheme_count(text) <= MAX_GRAPHEMES and len(text.encode("utf-8")) <= MAX_BYTES


def rfc3339(moment: datetime) -> str:
    """`moment` in UTC as RFC 3339 with milliseconds and Z (naive means UTC)."""
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _facets(post: BotPost) -> list[dict[str, Any]]:
    """A link facet per link of the post, indexed by UTF-8 byte offsets."""
    facets = []
    for link in post.links:
        start = len(post.text[:link.start].encode("utf-8"))
        facets.append({
            "index": {"byteStart": start,
                      "byteEnd": start + len(post.text[link.start:link.end].encode("utf-8"))},
            "features": [{"$type": LINK, "uri": link.url}],
        })
    return facets


def _authors(authors: tuple[str, ...]) -> str:
    """The first three authors' names, then "et al." when there are more."""
    names = [name for name in (clip(a) for a in authors[:4]) if name]
    return ", ".join(names[:3]) + (" et al." if len(names) > 3 or len(authors) > 4 else "")


def post_record(post: BotPost, created_at: str) -> dict[str, Any]:
    """The app.bsky.feed.post record of one post, without its reply refs."""
    record: dict[str, Any] = {"$type": COLLECTION, "text": post.text, "createdAt": created_at,
                              "langs": ["en"]}
    facets = _facets(post)
    if facets:
        record["facets"] = facets
    if post.paper is not None:
        record["embed"] = {"$type": "app.bsky.embed.external", "external": {
            "uri": post.paper.url,
            "title": shorten(clip(post.paper.title) or post.paper.id, TITLE_GRAPHEMES - 1),
            "description": shorten(_authors(post.paper.authors), DESCRIPTION_GRAPHEMES - 1),
        }}
    return record


def thread_records(digest: Digest, top_n: int) -> list[dict[str, Any]]:
    """The records of the thread: the head post then one per paper, createdAt the digest's
    generation time plus one millisecond per post (so the posts sort in thread order)."""
    posts = build_thread(digest, top_n, fits, "bluesky")
    return [post_record(post, rfc3339(digest.generated_at + timedelta(milliseconds=i)))
            for i, post in enumerate(posts)]


def record_key(record: Mapping[str, Any]) -> str:
    """The record's key: a TID whose time is the record's createdAt (in microseconds) and
    whose clock identifier is taken from a hash of its text, so that the same post always
    gets the same key."""
    created = datetime.fromisoformat(str(record["createdAt"]))
    created = created.replace(tzinfo=UTC) if created.tzinfo is None else created
    micros = (created - _EPOCH) // timedelta(microseconds=1)
    clock_id = int.from_bytes(hashlib.sha256(str(record["text"]).encode()).digest()[:2]) % 1024
    value = (micros << 10) | clock_id
    return "".join(_TID_ALPHABET[(value >> (5 * (12 - i))) & 31] for i in range(13))


def _refusal(response: httpx.Response, scrub: Callable[[str], str]) -> str:
    """The 'error: message' of an XRPC error body, else the body's first line; `scrub`bed
    before it is cut (a piece of a secret cut short would escape the scrubbing)."""
    try:
        body = response.json()
    except ValueError:
        return one_line(scrub(response.text))[:120]
    if isinstance(body, Mapping):
        parts = [str(body[k]) for k in ("error", "message") if body.get(k)]
        return one_line(scrub(": ".join(parts)))[:160]
    return ""


_progress = partial(made_so_far, noun="post", nouns="posts", verb="made")


class BlueskyPublisher:
    """Posts the digest as a thread on Bluesky (see the module's documentation)."""

    name = "bluesky"

    def __init__(self, settings: Settings, secrets: Secrets, clock: Clock | None = None,
                 transport: httpx.BaseTransport | None = None, *, preview: bool = False
                 ) -> None:
        handle = (secrets.bsky_handle or "").strip()
        password = (secrets.bsky_app_password.get_secret_value()
                    if secrets.bsky_app_password is not None else "")
        missing = [name for name, value in (("HOTPAPERS_BSKY_HANDLE", handle),
                                            ("HOTPAPERS_BSKY_APP_PASSWORD", password))
                   if not value]
        self.missing = (
            "bluesky: posting needs HOTPAPERS_BSKY_HANDLE and HOTPAPERS_BSKY_APP_PASSWORD "
            f"(an app password); not set: {', '.join(missing)}") if missing else None
        if self.missing and not preview:  # a preview (dry run) builds the payload all the same
            raise MissingCredentials(self.missing)
        self.settings, self.secrets = settings, secrets
        self.clock, self.transport = clock, transport
        self._handle, self._password = handle, password
        self.api = settings.bsky_api_url.rstrip("/")

    # -- prepare (pure)

    def prepare(self, digest: Digest) -> list[Payload]:
        """One payload: the JSON list of the thread's records, exactly as they are sent
        except for the reply refs, which name the posts made before and are added then."""
        records = thread_records(digest, self.settings.publish_top_n)
        summary = (f"thread of {len(records)} posts to {self.api}; posts 2-{len(records)} get "
                   "their reply refs (root: post 1, parent: the previous post) when sent; "
                   "record keys are TIDs of createdAt and the text")
        return [Payload(self.name, summary,
                        json.dumps(records, indent=2, ensure_ascii=False) + "\n")]

    # -- send

    def send(self, digest: Digest, payloads: list[Payload]) -> Receipt:
        """Signs in, then creates the records one by one as a thread. PublishError when the
        sign-in is refused or a post fails (saying which posts were made). Without payloads,
        those of `prepare`."""
        if self.missing:
            raise MissingCredentials(self.missing)
        records = self._records(payloads or self.prepare(digest))
        http = source_http(self.settings, self.clock, self.transport,
                           headers={"Accept": "application/json"})
        try:
            did, token = self._sign_in(http)
            refs: list[dict[str, str]] = []
            for number, record in enumerate(records, 1):
                sent = dict(record)
                if refs:
                    sent["reply"] = {"root": refs[0], "parent": refs[-1]}
                refs.append(self._create(http, did, token, sent, number, len(records),
                                         [r["uri"] for r in refs]))
        finally:
            http.client.close()
        uris = [ref["uri"] for ref in refs]
        log.info("bluesky: made a thread of %d posts: %s", len(uris), uris[0])
        return Receipt(self.name, uris[0], {"uris": uris})

    def _records(self, payloads: list[Payload]) -> list[dict[str, Any]]:
        return payload_items(payloads, lambda r: isinstance(r.get("text"), str)
                             and isinstance(r.get("createdAt"), str),
                             "bluesky", "post records", "post")

    def _xrpc(self, method: str) -> str:
        return f"{self.api}/{method}"

    def _scrub(self, text: str) -> str:
        return self.secrets.scrub(text).replace(self._password, "***")

    def _sign_in(self, http: PoliteClient) -> tuple[str, str]:
        """The account's DID and the access token of a new session."""
        what = "bluesky: sign-in"
        try:
            response = http.request(
                "POST", self._xrpc("com.atproto.server.createSession"), what=what,
                accept=range(400, 500),
                json={"identifier": self._handle, "password": self._password})
        except SourceError as exc:
            raise PublishError(self._scrub(str(exc))) from None
        if not response.is_success:
            detail = _refusal(response, self._scrub)
            raise PublishError(f"bluesky: sign-in refused (HTTP {response.status_code}"
                               f"{': ' + detail if detail else ''})")
        body = _json(response)
        did, token = body.get("did"), body.get("accessJwt")
        if not isinstance(did, str) or not did or not isinstance(token, str) or not token:
            raise PublishError(f"{what}: the answer has no did and accessJwt")
        register(token)
        register(body.get("refreshJwt") if isinstance(body.get("refreshJwt"), str) else None)
        return did, token

    def _create(self, http: PoliteClient, did: str, token: str, record: dict[str, Any],
                number: int, total: int, made: list[str]) -> dict[str, str]:
        """{uri, cid} of the post made from `record` (or found already made under its key)."""
        rkey = record_key(record)
        what = f"bluesky: post {number} of {total}"
        headers = {"Authorization": f"Bearer {token}"}
        try:
            response = http.request(
                "POST", self._xrpc("com.atproto.repo.createRecord"), what=what,
                accept=range(400, 500), headers=headers,
                json={"repo": did, "collection": COLLECTION, "rkey": rkey, "record": record})
        except SourceError as exc:
            reason = self._scrub(str(exc)).removeprefix(f"{what}: ")
        else:
            if response.is_success:
                ref = _ref(_json(response))
                if ref is None:
                    raise PublishError(f"{what}: the answer has no uri and cid; "
                                       f"{_progress(made)}")
                return ref
            detail = _refusal(response, self._scrub)
            reason = f"HTTP {response.status_code}{': ' + detail if detail else ''}"
        existing = self._existing(http, did, headers, rkey, record)
        if existing is not None:
            log.info("%s was already made (%s): kept", what, existing["uri"])
            return existing
        raise PublishError(f"{what} failed ({reason}); {_progress(made)}")

    def _existing(self, http: PoliteClient, did: str, headers: Mapping[str, str], rkey: str,
                  record: Mapping[str, Any]) -> dict[str, str] | None:
        """{uri, cid} of the post already under `rkey` when it has the record's text."""
        try:
            response = http.request(
                "GET", self._xrpc("com.atproto.repo.getRecord"), what="bluesky: getRecord",
                params={"repo": did, "collection": COLLECTION, "rkey": rkey},
                accept=range(400, 500), headers=headers)
        except SourceError:
            return None
        if not response.is_success:
            return None
        try:
            body = response.json()
        except ValueError:
            return None
        if not isinstance(body, dict) or not isinstance(body.get("value"), dict):
            return None
        if body["value"].get("text") != record["text"]:
            return None
        return _ref(body)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    return body if isinstance(body, dict) else {}


def _ref(body: Mapping[str, Any]) -> dict[str, str] | None:
    uri, cid = body.get("uri"), body.get("cid")
    if isinstance(uri, str) and uri and isinstance(cid, str) and cid:
        return {"uri": uri, "cid": cid}
    return None
