"""Reading Jetstream events (JSON lines of the Bluesky firehose): what one event means for
the posts we track. Pure; a cheap scan of the raw line settles most events unparsed."""

from __future__ import annotations

import re
import sys
from collections.abc import Container, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from hotpapers.models import Account, Mention, Observation
from hotpapers.resolve import might_name_paper, paper_ids
from hotpapers.sources.bluesky.records import post_links, post_permalink

__all__ = [
    "COLLECTIONS", "LIKE", "MAX_TIME_US", "NO_LIMITS", "POST", "REPOST", "BadEvent", "Deletion",
    "Engagement", "Limits", "NewPost", "OutOfRange", "TooLong", "classify", "classify_line",
    "from_time_us", "head_time_us", "record_uri", "to_time_us",
]

POST = "app.bsky.feed.post"
LIKE = "app.bsky.feed.like"
REPOST = "app.bsky.feed.repost"
COLLECTIONS = (POST, LIKE, REPOST)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
MAX_TIME_US = (datetime.max.replace(tzinfo=UTC) - _EPOCH) // _US  # the last one in year 9999
_DIGITS = re.compile(r"[0-9]+")
_QUOTE_EMBEDS = ("app.bsky.embed.record", "app.bsky.embed.recordWithMedia")


class BadEvent(ValueError):
    """A line that is not a Jetstream event of the expected shape."""


class OutOfRange(BadEvent):
    """An event whose `time_us` lies outside the times asked for."""

    def __init__(self, time_us: int) -> None:
        super().__init__(f"time_us {time_us} out of range")
        self.time_us = time_us


class TooLong(BadEvent):
    """An event with a value longer than the store takes (see Limits): skipped, but its
    `time_us` is good, so the cursor may move past it."""

    def __init__(self, time_us: int, reason: str) -> None:
        super().__init__(reason)
        self.time_us = time_us


@dataclass(frozen=True, slots=True)
class Limits:
    """The longest values the store takes (its column lengths): post URIs (a mention and its
    parent), other record URIs (likes, reposts, replies, quotes) and account DIDs."""

    post_uri: int
    record_uri: int
    account: int


NO_LIMITS = Limits(sys.maxsize, sys.maxsize, sys.maxsize)


@dataclass(slots=True)
class Engagement:
    """Someone liked, reposted, replied to or quoted a tracked post."""

    uri: str  # the like, repost or post record that engages
    subject: str  # the tracked post
    kind: str  # like, repost, reply, quote
    account: str  # the engaging account's DID
    time_us: int


@dataclass(slots=True)
class Deletion:
    """A like, repost or post record was deleted."""

    uri: str
    collection: str
    account: str  # the record's owner
    time_us: int


@dataclass(slots=True)
class NewPost:
    """A post created in the stream: it names papers (`mention`), engages with a tracked
    post (`engagement`), or both."""

    uri: str
    mention: Mention | None
    engagement: Engagement | None
    time_us: int


Item = Engagement | Deletion | NewPost | None


def from_time_us(time_us: int) -> datetime:
    """The UTC time of a Jetstream `time_us` (microseconds since the epoch)."""
    return _EPOCH + timedelta(microseconds=time_us)


def to_time_us(at: datetime) -> int:
    """The Jetstream `time_us` of an aware datetime."""
    return (at - _EPOCH) // _US


def record_uri(did: str, collection: str, rkey: str) -> str:
    return f"at://{did}/{collection}/{rkey}"


# ---------------------------------------------------------------- the parsed event

Times = tuple[int, int]
ANY_TIME: Times = (1, MAX_TIME_US)


def classify(event: Any, tracked: Container[str], times: Times = ANY_TIME,
             limits: Limits = NO_LIMITS) -> tuple[int, Item]:
    """(time_us, what the event means) for a decoded event; the item is None for events
    that touch nothing we track or name no paper. Raises BadEvent on a malformed event,
    OutOfRange when its time_us is outside `times` (first, last), TooLong when the item
    has a value over `limits`."""
    time_us, item = _classify(event, tracked, times)
    reason = _too_long(item, limits) if item is not None else None
    if reason is not None:
        raise TooLong(time_us, reason)
    return time_us, item


def _too_long(item: Engagement | Deletion | NewPost, limits: Limits) -> str | None:
    """What in the item is longer than the store takes, if anything."""
    values: list[tuple[str, str | None, int]] = []
    if isinstance(item, Deletion):
        values += [("URI", item.uri, limits.record_uri), ("DID", item.account, limits.account)]
    engagement = item if isinstance(item, Engagement) else getattr(item, "engagement", None)
    if engagement is not None:
        values += [("URI", engagement.uri, limits.record_uri),
                   ("DID", engagement.account, limits.account)]
    mention = getattr(item, "mention", None)
    if mention is not None:
        values += [("URI", mention.native_id, limits.post_uri),
                   ("parent URI", mention.parent_native_id, limits.post_uri),
                   ("DID", mention.account.native_id, limits.account)]
    for what, value, limit in values:
        if value is not None and len(value) > limit:
            return f"a {what} of {len(value)} characters, over {limit}"
    return None


def _classify(event: Any, tracked: Container[str], times: Times) -> tuple[int, Item]:
    if not isinstance(event, Mapping):
        raise BadEvent("not a JSON object")
    time_us, did = event.get("time_us"), event.get("did")
    if not isinstance(time_us, int) or isinstance(time_us, bool) or time_us <= 0:
        raise BadEvent("no time_us")
    if not times[0] <= time_us <= times[1]:
        raise OutOfRange(time_us)
    if event.get("kind") != "commit":
        return time_us, None  # identity and account events
    commit = event.get("commit")
    if not isinstance(did, str) or not isinstance(commit, Mapping):
        raise BadEvent("a commit without did or commit")
    collection, operation, rkey = (commit.get("collection"), commit.get("operation"),
                                   commit.get("rkey"))
    if not isinstance(collection, str) or not isinstance(rkey, str) \
            or operation not in ("create", "update", "delete"):
        raise BadEvent("a commit without collection, rkey or operation")
    if collection not in COLLECTIONS or operation == "update":
        return time_us, None
    uri = record_uri(did, collection, rkey)
    if operation == "delete":
        return time_us, Deletion(uri, collection, did, time_us)
    record = commit.get("record")
    if not isinstance(record, Mapping):
        raise BadEvent("a create without a record")
    if collection == POST:
        return time_us, _new_post(uri, did, record, time_us, tracked)
    subject = record.get("subject")
    target = subject.get("uri") if isinstance(subject, Mapping) else None
    if isinstance(target, str) and target in tracked:
        kind = "like" if collection == LIKE else "repost"
        return time_us, Engagement(uri, target, kind, did, time_us)
    return time_us, None


def _uri_at(value: Any, *path: str) -> str | None:
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value if isinstance(value, str) else None


def _parents(record: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(the replied-to post, the quoted post) of a post record."""
    parent = _uri_at(record, "reply", "parent", "uri")
    embed = record.get("embed")
    quoted = None
    if isinstance(embed, Mapping) and embed.get("$type") in _QUOTE_EMBEDS:
        quoted = _uri_at(embed, "record", "uri") or _uri_at(embed, "record", "record", "uri")
    return parent, quoted


def _created(record: Mapping[str, Any], time_us: int) -> datetime:
    """The post's own createdAt, unless missing, unreadable or later than the stream saw
    it (clients set it); then the stream's time."""
    seen = from_time_us(time_us)
    text = record.get("createdAt")
    try:
        created = datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        created = None
    if created is None or created.tzinfo is None:
        return seen
    created = created.astimezone(UTC)
    return created if created <= seen else seen


def _new_post(uri: str, did: str, record: Mapping[str, Any], time_us: int,
              tracked: Container[str]) -> NewPost | None:
    parent, quoted = _parents(record)
    engagement = None
    if parent is not None and parent in tracked:
        engagement = Engagement(uri, parent, "reply", did, time_us)
    elif quoted is not None and quoted in tracked:
        engagement = Engagement(uri, quoted, "quote", did, time_us)
    mention = None
    text = record.get("text")
    text = text if isinstance(text, str) else ""
    if uri not in tracked:
        papers = paper_ids(text, post_links(record))
        if papers:
            kind = "reply" if parent else "quote" if quoted else "post"
            mention = Mention(
                source="bluesky", native_id=uri, paper_ids=papers,
                permalink=post_permalink(uri), account=Account("bluesky", did), text=text,
                created_at=_created(record, time_us), kind=kind,
                parent_native_id=parent or quoted,
                observations=[Observation(from_time_us(time_us), likes=0, reposts=0, quotes=0,
                                          replies=0, via="stream")])
    if mention is None and engagement is None:
        return None
    return NewPost(uri, mention, engagement, time_us)


# ---------------------------------------------------------------- the raw line

def _names_tracked(line: str, tracked: Container[str]) -> bool:
    """Whether any at:// URI in the line is tracked (a reply's parent or root, a quote)."""
    i = line.find('"at://')
    while i >= 0:
        j = line.find('"', i + 1)
        if j < 0:
            return True  # cut short: let the parser judge
        if line[i + 1:j] in tracked:
            return True
        i = line.find('"at://', j + 1)
    return False


def _parse(line: str | bytes, tracked: Container[str], times: Times, limits: Limits
           ) -> tuple[int, Item]:
    try:
        event = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise BadEvent(f"not JSON: {exc}") from None
    return classify(event, tracked, times, limits)


def head_time_us(line: str | bytes, head: int = 256) -> int | None:
    """The time_us written near the start of a line (Jetstream writes it second), without
    reading the rest: for frames too big to read. None when it is not there."""
    start = line[:head]
    text = start.decode("utf-8", "replace") if isinstance(start, bytes) else start
    i = text.find('"time_us":')
    match = _DIGITS.match(text, i + 10) if i >= 0 else None
    return int(match[0]) if match and match.end() < len(text) else None


def classify_line(line: str, tracked: Container[str], times: Times = ANY_TIME,
                  limits: Limits = NO_LIMITS) -> tuple[int, Item]:
    """`classify` of one raw line, the same answer, but without decoding the JSON when a
    scan shows the event is irrelevant: a like or repost of an untracked post, a post
    naming no paper that replies to or quotes no tracked post, other collections.

    The scan reads the keys Jetstream writes first (did, time_us, kind, then the commit's
    rev, operation, collection, rkey); inside a JSON string every quote is escaped, so
    '"key":"' matches only a key. Anything unexpected goes to the full parse."""
    i = line.find('"time_us":')
    j = line.find(",", i)
    if i < 0 or j < 0:
        return _parse(line, tracked, times, limits)
    k = line.find('"operation":"', j)
    if k < 0 or line.find('"kind":"commit"', j, k) < 0:
        # rare: identity and account events, or malformed
        return _parse(line, tracked, times, limits)
    try:
        time_us = int(line[i + 10:j])
    except ValueError:
        return _parse(line, tracked, times, limits)
    if time_us <= 0:
        return _parse(line, tracked, times, limits)  # the parse says what is wrong
    if not times[0] <= time_us <= times[1]:
        raise OutOfRange(time_us)
    k += 13
    end = line.find('"', k)
    operation = line[k:end]
    k = line.find('"collection":"', end)
    if k < 0:
        return _parse(line, tracked, times, limits)
    k += 14
    end = line.find('"', k)
    collection = line[k:end]
    if operation == "create":
        if collection in (LIKE, REPOST):
            k = line.find('"subject":{', end)
            k = line.find('"uri":"', k) if k >= 0 else -1
            if k >= 0:
                k += 7
                if line[k:line.find('"', k)] not in tracked:
                    return time_us, None
        elif collection == POST:
            if not might_name_paper(line) and not _names_tracked(line, tracked):
                return time_us, None
        else:
            return time_us, None
    elif operation == "update" or collection not in COLLECTIONS:
        return time_us, None
    return _parse(line, tracked, times, limits)
