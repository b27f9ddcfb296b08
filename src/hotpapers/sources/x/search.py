"""X API v2 as a mention source: one paged recent search over the window (the last 7 days
at most), retweets folded into their originals, a per-run read budget, and lookups by id."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from hotpapers.config import Secrets, Settings
from hotpapers.errors import MissingCredentials, SourceError
from hotpapers.http import Clock
from hotpapers.models import Account, Mention, Observation
from hotpapers.resolve import paper_ids
from hotpapers.sources.base import Refreshed, Span
from hotpapers.sources.common import HttpSource, count, first_line, json_body, plural, utc_time
from hotpapers.sources.x.embed import local_embed

__all__ = [
    "Page", "Tweet", "User", "XSource", "mention_of", "page_mentions", "parse_page",
    "parse_tweet",
]

RECENT_DAYS = timedelta(days=7)
START_MARGIN = timedelta(minutes=1)  # start a little after now-7d so that X accepts it
END_LAG = timedelta(seconds=10)  # X wants end_time at least 10 s before now
PAGE_MAX, PAGE_MIN = 100, 10  # max_results of a recent search must be within 10..100
LOOKUP_MAX = 100
RATE_LIMIT_WINDOW = 960.0  # 15 minutes and some: the longest wait X's reset header asks for
SEARCH_TWEET_FIELDS = "public_metrics,created_at,entities,referenced_tweets,author_id"
SEARCH_EXPANSIONS = "author_id,referenced_tweets.id"
SEARCH_USER_FIELDS = "username,name,created_at"
LOOKUP_TWEET_FIELDS = "public_metrics,created_at,entities,author_id,referenced_tweets"
ERROR_STATUSES = (400, 401, 403)
SEARCH = "X recent search"
LOOKUP = "X tweet lookup"


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
    text = item.get("text") if isinstance(item.get("text"), str) else ""
    urls = _full_urls(item.get("entities"))
    note = item.get("note_tweet")
    if isinstance(note, Mapping):
        if isinstance(note.get("text"), str) and note["text"]:
            text = note["text"]
        urls = list(dict.fromkeys([*urls, *_full_urls(note.get("entities"))]))
    metrics = item.get("public_metrics")
    metrics = metrics if isinstance(metrics, Mapping) else {}
    referenced: dict[str, str] = {}
    refs = item.get("referenced_tweets")
    for ref in refs if isinstance(refs, list) else ():
        if isinstance(ref, Mapping) and isinstance(ref.get("type"), str) \
                and _id(ref.get("id")):
            referenced.setdefault(ref["type"], _id(ref["id"]))
    return Tweet(
        id=tweet_id, text=text, author_id=_id(item.get("author_id")), created_at=created,
        urls=urls, likes=count(metrics.get("like_count")),
        reposts=count(metrics.get("retweet_count")), quotes=count(metrics.get("quote_count")),
        replies=count(metrics.get("reply_count")), referenced=referenced,
    )


def _list(body: Mapping[str, Any], key: str, what: str) -> list[Any]:
    value = body.get(key, [])
    if not isinstance(value, list):
        raise SourceError(f"{what}: unexpected answer: '{key}' is not a list")
    return value


def _problem(body: Any) -> str:
    """`: title: detail (first error message)` of an X problem body, on one line."""
    if not isinstance(body, Mapping):
        return ""
    parts = [str(body[key]) for key in ("title", "detail") if body.get(key)]
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], Mapping):
        first = errors[0].get("message") or errors[0].get("detail")
        if first:
            parts.append(f"({first})")
    text = " ".join(": ".join(parts).split())
    return f": {text[:300]}" if text else ""


def parse_page(body: Any, what: str = SEARCH, *, need_meta: bool = True) -> Page:
    """A search page (`data`, `includes`, `meta`) or a lookup answer (`data` and/or
    `errors`, no `meta`: pass need_meta=False). SourceError when the shape is wrong;
    a malformed post inside is left out and counted in `skipped`."""
    if not isinstance(body, Mapping):
        raise SourceError(f"{what}: unexpected answer: not a JSON object")
    data = _list(body, "data", what)
    errors = _list(body, "errors", what)
    meta = body.get("meta")
    if need_meta and not isinstance(meta, Mapping):
        raise SourceError(f"{what}: unexpected answer: no 'meta' object{_problem(body)}")
    if not need_meta and "data" not in body and "errors" not in body:
        raise SourceError(f"{what}: unexpected answer: neither 'data' nor 'errors'")
    includes = body.get("includes", {})
    if not isinstance(includes, Mapping):
        raise SourceError(f"{what}: unexpected answer: 'includes' is not an object")
    included_raw = _list(includes, "tweets", what)
    page = Page(returned=len(data) + len(included_raw),
                errors=[e for e in errors if isinstance(e, Mapping)])
    for item in data:
        tweet = parse_tweet(item)
        if tweet is None:
            page.skipped += 1
        else:
            page.tweets.append(tweet)
    for item in included_raw:
        tweet = parse_tweet(item)
        if tweet is None:
            page.skipped += 1
        else:
            page.included[tweet.id] = tweet
    for item in _list(includes, "users", what):
        user_id = _id(item.get("id")) if isinstance(item, Mapping) else None
        if user_id:
            username, name = item.get("username"), item.get("name")
            page.users[user_id] = User(user_id, username if isinstance(username, str) else None,
                                       name if isinstance(name, str) else None,
                                       utc_time(item.get("created_at")))
    token = meta.get("next_token") if isinstance(meta, Mapping) else None
    page.next_token = token if isinstance(token, str) and token else None
    return page


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


def _rfc3339(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class XSource(HttpSource):
    """Posts on X that link papers, from the v2 recent search (bearer token needed)."""

    name = "x"

    def __init__(self, settings: Settings, secrets: Secrets, clock: Clock | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        secret = secrets.x_bearer_token
        token = secret.get_secret_value().strip() if secret is not None else ""
        if not token:
            raise MissingCredentials("x needs HOTPAPERS_X_BEARER_TOKEN (an X API v2 app "
                                     "bearer token)")
        super().__init__(settings, clock, transport, headers={"Authorization": f"Bearer {token}"})
        self.settings = settings
        self.http.max_wait = RATE_LIMIT_WINDOW
        self._token = token  # kept only to scrub it from messages
        self._seen: set[str] = set()

    # -- HTTP ---------------------------------------------------------------------------

    def _scrub(self, message: str) -> str:
        return message.replace(self._token, "[token]")

    def _get(self, path: str, params: Mapping[str, Any], what: str) -> Any:
        """The JSON body of a successful GET; SourceError (without the token) otherwise."""
        url = self.settings.x_api_url.rstrip("/") + path
        try:
            response = self._request("GET", url, what, params=params, accept=ERROR_STATUSES)
        except SourceError as exc:
            raise SourceError(self._scrub(str(exc))) from None
        if response.is_success:
            return json_body(response, what, lead="unexpected answer:", detail=_content_type)
        try:
            body = response.json()
        except ValueError:
            body = None
        reason = _problem(body)
        if not reason and (line := first_line(response.text)):
            reason = f": {line}"
        raise SourceError(self._scrub(f"{what}: HTTP {response.status_code}{reason}"))

    # -- budget -------------------------------------------------------------------------

    def _remaining(self) -> int:
        return max(self.settings.x_read_budget - self.report.reads, 0)

    def _budget_note(self, stopped_at: datetime) -> None:
        budget = self.settings.x_read_budget
        if budget == 0:
            self.report.notes.append("X read budget is 0: no request made, nothing read")
            return
        self.report.notes.append(
            f"X read budget of {plural(budget, 'post')} reached ({self.report.reads} read): "
            f"the read stopped at {_rfc3339(stopped_at)}, posts before it were not read")

    # -- mentions -----------------------------------------------------------------------

    def _search_range(self, window: Span) -> tuple[datetime, datetime] | None:
        """The [start, end) that recent search may be asked, whole seconds, or None when
        none of the window can be read; notes what the 7-day limit leaves out."""
        now = self.clock.now().astimezone(UTC).replace(microsecond=0)
        earliest = now - RECENT_DAYS + START_MARGIN
        latest = now - END_LAG
        since, until = window.since.astimezone(UTC), window.until.astimezone(UTC)
        if since < earliest:
            self.report.notes.append("X recent search covers only the last 7 days: before "
                                     f"{_rfc3339(earliest)} not read")
            since = earliest
        until = min(until, latest)
        if since >= until:
            return None
        start = since.replace(microsecond=0)
        end = until if not until.microsecond else \
            until.replace(microsecond=0) + timedelta(seconds=1)
        return start, end

    def mentions(self, window: Span) -> Iterator[Mention]:
        """Posts created in the window that name a paper, newest first, each once a run."""
        bounds = self._search_range(window)
        if bounds is None:
            self.report.searched = False
            return
        start, end = bounds
        if self.settings.x_read_budget < PAGE_MIN:
            self.report.searched = False
            self._budget_note(end)
            return
        # Referenced posts come back as reads too; they are only needed to reach the
        # originals of retweets, which a query with -is:retweet never returns.
        originals = "-is:retweet" not in self.settings.x_query
        params: dict[str, Any] = {
            "query": self.settings.x_query, "start_time": _rfc3339(start),
            "end_time": _rfc3339(end), "tweet.fields": SEARCH_TWEET_FIELDS,
            "expansions": SEARCH_EXPANSIONS if originals else "author_id",
            "user.fields": SEARCH_USER_FIELDS,
        }
        oldest = end
        tokens: set[str] = set()
        bad = 0
        try:
            while True:
                # a page may return as many referenced posts as posts: keep room for them
                remaining = self._remaining() // (2 if originals else 1)
                if remaining < PAGE_MIN:
                    self._budget_note(oldest)
                    return
                params["max_results"] = min(PAGE_MAX, remaining)
                page = parse_page(self._get("/tweets/search/recent", params, SEARCH), SEARCH)
                self.report.reads += page.returned
                dates = [t.created_at for t in page.tweets if t.created_at is not None]
                oldest = min([oldest, *dates])
                found, undated = page_mentions(page, window, self.clock.now(), self._seen)
                bad += page.skipped + undated
                yield from found
                if page.next_token is None:
                    return
                if page.next_token in tokens:
                    raise SourceError(f"{SEARCH}: the API gave the same next_token twice")
                tokens.add(page.next_token)
                params["next_token"] = page.next_token
        finally:
            if bad:
                self.report.notes.append(f"X: skipped {plural(bad, 'malformed post')}")

    # -- refresh ------------------------------------------------------------------------

    def refresh(self, native_ids: Sequence[str]) -> Refreshed:
        """New counts for stored posts, up to 100 a request; `gone` lists those X reports
        as not found or leaves out. Posts X hides (protected, suspended) are in neither."""
        ids = list(dict.fromkeys(str(i) for i in native_ids))
        result = Refreshed()
        hidden = 0
        done = 0
        while done < len(ids):
            remaining = self._remaining()
            if remaining == 0:
                self.report.notes.append(
                    f"X read budget of {plural(self.settings.x_read_budget, 'post')} reached: "
                    f"{plural(len(ids) - done, 'post')} not refreshed")
                break
            chunk = ids[done:done + min(LOOKUP_MAX, remaining)]
            done += len(chunk)
            params = {"ids": ",".join(chunk), "tweet.fields": LOOKUP_TWEET_FIELDS,
                      "expansions": "author_id", "user.fields": "username,name"}
            page = parse_page(self._get("/tweets", params, LOOKUP), LOOKUP, need_meta=False)
            self.report.reads += page.returned
            observed_at = self.clock.now()
            wanted = set(chunk)
            found = {t.id for t in page.tweets if t.id in wanted}
            result.mentions.extend(mention_of(t, page.users, observed_at)
                                   for t in page.tweets if t.id in wanted)
            withheld = _unreadable(page.errors, wanted) - found
            hidden += len(withheld)
            result.gone.extend(i for i in chunk if i not in found and i not in withheld)
            if page.skipped:
                self.report.notes.append(f"X: skipped {plural(page.skipped, 'malformed post')}")
        if hidden:
            self.report.notes.append(
                f"X: {plural(hidden, 'post')} could not be read (not authorized)")
        return result


def _unreadable(errors: Sequence[Mapping[str, Any]], wanted: set[str]) -> set[str]:
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


def _content_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "no content type")
