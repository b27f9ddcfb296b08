"""X API v2 answers read into plain objects (posts, authors, pages) and the mentions they
make: pure functions, tested on saved bodies; `search.py` does the requests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hotpapers.errors import SourceError
from hotpapers.models import Account, Mention, Observation
from hotpapers.resolve import paper_ids
from hotpapers.sources.base import Span
from hotpapers.sources.common import count, one_line, utc_time
from hotpapers.sources.x.embed import local_embed

__all__ = [
    "SEARCH", "Page", "Tweet", "User", "mention_of", "page_mentions", "parse_page",
    "parse_tweet", "permalink", "problem", "unreadable",
]

SEARCH = "X recent search"


@dataclass(frozen=True)
class User:
    """An author as `includes.users` describes it."""

    id: str
    username: str | None = None
    name: str | None = None
    created_at: datetime | None = None


@dataclass
class Tweet:
    """One post as X returns it, before any paper filter. `urls` holds the expanded and
    unwound links (never the t.co ones); `referenced` maps a reference type ("retweeted",
    "quoted", "replied_to") to the referenced post's id."""

    id: str
    text: str = ""
    author_id: str | None = None
    created_at: datetime | None = None
    urls: list[str] = field(default_factory=list)
    likes: int | None = None
    reposts: int | None = None
    quotes: int | None = None
    replies: int | None = None
    referenced: dict[str, str] = field(default_factory=dict)

    @property
    def retweet_of(self) -> str | None:
        return self.referenced.get("retweeted")

    @property
    def kind(self) -> tuple[str, str | None]:
        """("quote", quoted id), ("reply", replied-to id) or ("post", None)."""
        if "quoted" in self.referenced:
            return "quote", self.referenced["quoted"]
        if "replied_to" in self.referenced:
            return "reply", self.referenced["replied_to"]
        return "post", None


@dataclass
class Page:
    """One answer of the search or lookup endpoint, parsed."""

    tweets: list[Tweet] = field(default_factory=list)  # `data`, in the order served
    included: dict[str, Tweet] = field(default_factory=dict)  # `includes.tweets` by id
    users: dict[str, User] = field(default_factory=dict)
    next_token: str | None = None
    returned: int = 0  # posts in data + includes.tweets: what X bills as reads
    skipped: int = 0  # malformed posts left out
    errors: list[Mapping[str, Any]] = field(default_factory=list)


def _id(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return str(value) if count(value) is not None else None


def _full_urls(entities: Any) -> list[str]:
    """The expanded_url and unwound_url of each link; never the shortened `url`."""
    found: list[str] = []
    links = entities.get("urls") if isinstance(entities, Mapping) else None
    for link in links if isinstance(links, list) else ():
        if isinstance(link, Mapping):
            for key in ("expanded_url", "unwound_url"):
                if isinstance(link.get(key), str) and link[key]:
                    found.append(link[key])
    return list(dict.fromkeys(found))


def parse_tweet(item: Any) -> Tweet | None:
    """A post object of X API v2, or None when it has no id or an unreadable created_at.
    A long post's `note_tweet` (full text and links) is read when present."""
    if not isinstance(item, Mapping):
        return None
    tweet_id = _id(item.get("id"))
    created = utc_time(item.get("created_at"))
    if tweet_id is None or ("created_at" in item and created is None):
        return None
    text, urls = _text_and_urls(item)
    metrics = item.get("public_metrics")
    metrics = metrics if isinstance(metrics, Mapping) else {}
    return Tweet(
        id=tweet_id, text=text, author_id=_id(item.get("author_id")), created_at=created,
        urls=urls, likes=count(metrics.get("like_count")),
        reposts=count(metrics.get("retweet_count")), quotes=count(metrics.get("quote_count")),
        replies=count(metrics.get("reply_count")),
        referenced=_referenced(item.get("referenced_tweets")),
    )


def _text_and_urls(item: Mapping[str, Any]) -> tuple[str, list[str]]:
    """A post's text and links, those of its `note_tweet` (a long post) when it has one."""
    text = item.get("text") if isinstance(item.get("text"), str) else ""
    urls = _full_urls(item.get("entities"))
    note = item.get("note_tweet")
    if isinstance(note, Mapping):
        if isinstance(note.get("text"), str) and note["text"]:
            text = note["text"]
        urls = list(dict.fromkeys([*urls, *_full_urls(note.get("entities"))]))
    return text, urls


def _referenced(refs: Any) -> dict[str, str]:
    """`referenced_tweets` as {type: id}, the first of each type."""
    referenced: dict[str, str] = {}
    for ref in refs if isinstance(refs, list) else ():
        if isinstance(ref, Mapping) and isinstance(ref.get("type"), str) \
                and _id(ref.get("id")):
            referenced.setdefault(ref["type"], _id(ref["id"]))
    return referenced


def _list(body: Mapping[str, Any], key: str, what: str) -> list[Any]:
    value = body.get(key, [])
    if not isinstance(value, list):
        raise SourceError(f"{what}: unexpected answer: '{key}' is not a list")
    return value


def problem(body: Any) -> str:
    """`: title: detail (first error message)` of an X problem body, on one line."""
    if not isinstance(body, Mapping):
        return ""
    parts = [str(body[key]) for key in ("title", "detail") if body.get(key)]
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], Mapping):
        first = errors[0].get("message") or errors[0].get("detail")
        if first:
            parts.append(f"({first})")
    text = one_line(": ".join(parts), 300)  # scrubbed before the cut
    return f": {text}" if text else ""


def parse_page(body: Any, what: str = SEARCH, *, need_meta: bool = True) -> Page:
    """A search page (`data`, `includes`, `meta`) or a lookup answer (`data` and/or
    `errors`, no `meta`: pass need_meta=False). SourceError when the shape is wrong;
    a malformed post inside is left out and counted in `skipped`."""
    data, errors, meta, includes = _parts(body, what, need_meta)
    included_raw = _list(includes, "tweets", what)
    page = Page(returned=len(data) + len(included_raw),
                errors=[e for e in errors if isinstance(e, Mapping)])
    page.tweets, skipped = _tweets(data)
    included, skipped_included = _tweets(included_raw)
    page.included = {tweet.id: tweet for tweet in included}
    page.skipped = skipped + skipped_included
    page.users = _users(_list(includes, "users", what))
    token = meta.get("next_token") if isinstance(meta, Mapping) else None
    page.next_token = token if isinstance(token, str) and token else None
    return page


def _parts(body: Any, what: str, need_meta: bool
           ) -> tuple[list[Any], list[Any], Any, Mapping[str, Any]]:
    """`data`, `errors`, `meta` and `includes` of an answer; SourceError when its shape is
    wrong."""
    if not isinstance(body, Mapping):
        raise SourceError(f"{what}: unexpected answer: not a JSON object")
    data = _list(body, "data", what)
    errors = _list(body, "errors", what)
    meta = body.get("meta")
    if need_meta and not isinstance(meta, Mapping):
        raise SourceError(f"{what}: unexpected answer: no 'meta' object{problem(body)}")
    if not need_meta and "data" not in body and "errors" not in body:
        raise SourceError(f"{what}: unexpected answer: neither 'data' nor 'errors'")
    includes = body.get("includes", {})
    if not isinstance(includes, Mapping):
        raise SourceError(f"{what}: unexpected answer: 'includes' is not an object")
    return data, errors, meta, includes


def _tweets(items: list[Any]) -> tuple[list[Tweet], int]:
    """The posts read, in order, and how many were malformed."""
    tweets = [parse_tweet(item) for item in items]
    return [t for t in tweets if t is not None], sum(t is None for t in tweets)


def _users(items: list[Any]) -> dict[str, User]:
    """`includes.users` by id (those without one left out)."""
    users: dict[str, User] = {}
    for item in items:
        user_id = _id(item.get("id")) if isinstance(item, Mapping) else None
        if user_id:
            username, name = item.get("username"), item.get("name")
            users[user_id] = User(user_id, username if isinstance(username, str) else None,
                                  name if isinstance(name, str) else None,
                                  utc_time(item.get("created_at")))
    return users


def permalink(tweet_id: str, username: str | None) -> str:
    """The x.com address of a post (by handle when known)."""
    if username:
        return f"https://x.com/{username}/status/{tweet_id}"
    return f"https://x.com/i/web/status/{tweet_id}"


def mention_of(tweet: Tweet, users: Mapping[str, User], observed_at: datetime) -> Mention:
    """The mention a post makes, with its author, one observation of its counts and its
    embed HTML (built here: no oEmbed call needed). Its paper ids (maybe none) come from
    the text and the expanded links."""
    user = users.get(tweet.author_id) if tweet.author_id else None
    account = None
    if tweet.author_id:
        account = Account("x", tweet.author_id, user.username if user else None,
                          user.name if user else None, user.created_at if user else None)
    kind, parent = tweet.kind
    link = permalink(tweet.id, user.username if user else None)
    embed = local_embed(tweet.text, link, tweet.created_at, user.name if user else None,
                        user.username if user else None)
    return Mention(
        source="x", native_id=tweet.id, paper_ids=paper_ids(tweet.text, tweet.urls),
        permalink=link, account=account, embed_html=embed,
        text=tweet.text, created_at=tweet.created_at, kind=kind, parent_native_id=parent,
        observations=[Observation(observed_at=observed_at, likes=tweet.likes,
                                  reposts=tweet.reposts, quotes=tweet.quotes,
                                  replies=tweet.replies)],
    )


def page_mentions(page: Page, window: Span, observed_at: datetime, seen: set[str]
                  ) -> tuple[list[Mention], int]:
    """The mentions of a search page and the count of posts left out for having no date.

    A retweet is no mention: it stands for its original (when included), whose own counts
    carry the retweets. A post already in `seen` is left out; those kept are added."""
    found: list[Mention] = []
    undated = 0
    for tweet in page.tweets:
        post: Tweet | None = tweet
        if tweet.retweet_of is not None:
            post = page.included.get(tweet.retweet_of)
            if post is None or post.retweet_of is not None:
                continue
        if post.id in seen:
            continue
        if post.created_at is None:
            if post is tweet:
                undated += 1
            continue
        if post.created_at not in window:
            continue
        mention = mention_of(post, page.users, observed_at)
        if mention.paper_ids:
            seen.add(post.id)
            found.append(mention)
    return found, undated


def unreadable(errors: Sequence[Mapping[str, Any]], wanted: set[str]) -> set[str]:
    """Ids of posts that an `errors` entry reports for another reason than not found."""
    ids = set()
    for error in errors:
        post = _id(error.get("resource_id")) or _id(error.get("value"))
        if post not in wanted or error.get("resource_type") not in (None, "tweet"):
            continue
        kind, title = str(error.get("type", "")), str(error.get("title", ""))
        if not (kind.endswith("resource-not-found") or title == "Not Found Error"):
            ids.add(post)
    return ids
