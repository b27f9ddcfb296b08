"""A generated day of posts on X that link arXiv papers, and a loopback fake of the two X
endpoints a daily run uses: v2 recent search and oEmbed. Used by `x_daily_run.py`.

The day (`make_day`, fixed seed) has papers with heavy-tailed attention (most 0-3 posts,
a few hundreds) and posts in a 24-hour window: originals, some of them quotes, ~10% naming
two papers, and retweets of earlier originals (~35% of all posts). Every post links its
papers by a t.co link whose entities.urls entry expands to https://arxiv.org/abs/<id>; a
retweet carries the original's links and counts as X shows them (its own like_count 0).
An original's retweet_count is the number of its retweets in the day, its quote_count the
number of its quotes.

`FakeXAPI(day)` serves, on 127.0.0.1 at a free port (a context manager; the server stops
on exit):

  GET /2/tweets/search/recent   Bearer token required. `query` is either a combined query
      holding url:"arxiv.org/abs" (every post of the window) or url:"arxiv.org/abs/<id>"
      (the posts linking that paper); -is:retweet leaves retweets out. start_time
      (inclusive), end_time (exclusive), max_results 10..100, next_token, tweet.fields,
      expansions (author_id, referenced_tweets.id), user.fields. Newest first; the answer
      is shaped as X API v2's: data[], includes.users[], includes.tweets[], meta.
  GET /oembed?url=<post URL>   the embed of a post, as publish.twitter.com answers it;
      404 for an unknown post.

It counts requests per endpoint and the posts it returned (data + includes.tweets: what
X bills as reads).
"""

from __future__ import annotations

import html
import itertools
import random
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

__all__ = ["WINDOW_END", "WINDOW_START", "Counts", "Day", "FakeXAPI", "Post", "make_day"]

WINDOW_END = datetime(2026, 3, 10, tzinfo=UTC)
WINDOW_START = WINDOW_END - timedelta(days=1)
TWITTER_EPOCH_MS = 1288834974657  # the epoch of X's snowflake ids
RETWEET_SHARE = 0.35
QUOTE_SHARE = 0.06  # of the originals
TWO_PAPERS_SHARE = 0.10  # of the originals
WORDS = tuple(
    "new paper we show that our model learns beats scaling laws attention graph neural "
    "robust efficient training data benchmark results code released thread surprising "
    "simple method theory proof bound agents reasoning language vision diffusion".split()
)
DEFAULT_TWEET_FIELDS = ("id", "text", "edit_history_tweet_ids")
DEFAULT_USER_FIELDS = ("id", "name", "username")
SEARCH_PATH = "/2/tweets/search/recent"
OEMBED_PATH = "/oembed"
PAPER_QUERY = re.compile(r'url:"(?:https?://)?(?:www\.)?arxiv\.org/abs/([^"\s]+)"')
ALL_QUERY = 'url:"arxiv.org/abs"'
STATUS = re.compile(r"/status(?:es)?/(\d+)")


# -- the day ----------------------------------------------------------------------------


@dataclass(frozen=True)
class User:
    id: str
    username: str
    name: str
    created_at: str


@dataclass(eq=False)  # hashed by identity
class Post:
    """One post of the day; `full` is its v2 object with every field we serve."""

    id: str
    author: User
    created: datetime
    papers: tuple[str, ...]
    text: str
    retweet_of: Post | None = None
    quote_of: Post | None = None
    likes: int = 0
    retweets: int = 0
    replies: int = 0
    quotes: int = 0
    full: dict[str, Any] = field(default_factory=dict)

    @property
    def referenced(self) -> Post | None:
        return self.retweet_of or self.quote_of


@dataclass
class Day:
    papers: list[str]  # the day's listing, in order
    posts: list[Post]  # newest first
    users: list[User]

    @property
    def by_id(self) -> dict[str, Post]:
        return {p.id: p for p in self.posts}


def _rfc3339(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _snowflake(when: datetime, sequence: int) -> str:
    millis = int(when.timestamp() * 1000) - TWITTER_EPOCH_MS
    return str((millis << 22) | (sequence & 0x3FFFFF))


def _tco(rng: random.Random) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return "https://t.co/" + "".join(rng.choice(alphabet) for _ in range(10))


def _paper_weights(rng: random.Random, count: int) -> list[float]:
    """Zipf-like attention: most papers get little, a few get most (order shuffled)."""
    weights = [1.0 / ((rank + 8) ** 1.5) for rank in range(1, count + 1)]
    rng.shuffle(weights)
    return weights


def make_day(papers: int = 1000, mentions: int = 20000, seed: int = 1) -> Day:
    """A day of `mentions` posts about `papers` papers; the same for the same arguments."""
    rng = random.Random(seed)
    numbers = sorted(rng.sample(range(1, 99999), papers))
    listing = [f"2603.{n:05d}" for n in numbers]
    cumulative = list(itertools.accumulate(_paper_weights(rng, papers)))
    users = [User(str(10**8 + 7919 * i), f"researcher_{i}", f"Researcher {i}",
                  _rfc3339(datetime(2009 + i % 15, 1 + i % 12, 1 + i % 28, tzinfo=UTC)))
             for i in range(max(50, mentions // 3))]
    retweet_count = round(mentions * RETWEET_SHARE)
    original_count = mentions - retweet_count
    span = (WINDOW_END - WINDOW_START).total_seconds()

    originals: list[Post] = []
    by_paper: dict[str, list[Post]] = {}
    times = sorted(rng.uniform(0, span - 60) for _ in range(original_count))
    for sequence, offset in enumerate(times):
        created = WINDOW_START + timedelta(seconds=int(offset), milliseconds=rng.randrange(1000))
        named = rng.choices(listing, cum_weights=cumulative)
        if rng.random() < TWO_PAPERS_SHARE and papers > 1:
            other = rng.choices(listing, cum_weights=cumulative)[0]
            while other == named[0]:
                other = rng.choice(listing)
            named.append(other)
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 25)))
        earlier = by_paper.get(named[0], [])
        quoted = rng.choice(earlier) if earlier and rng.random() < QUOTE_SHARE else None
        post = Post(_snowflake(created, sequence), rng.choice(users), created, tuple(named),
                    words.capitalize(), quote_of=quoted)
        originals.append(post)
        for paper in named:
            by_paper.setdefault(paper, []).append(post)

    appeal = [rng.lognormvariate(0.0, 1.6) for _ in originals]
    retweets: list[Post] = []
    targets = rng.choices(originals, appeal, k=retweet_count)
    for sequence, target in enumerate(targets, start=original_count):
        lag = (WINDOW_END - target.created).total_seconds() - 1
        created = target.created + timedelta(seconds=rng.uniform(0.5, max(lag, 0.5)))
        retweets.append(Post(_snowflake(created, sequence), rng.choice(users), created,
                             target.papers, "", retweet_of=target))
        target.retweets += 1

    for post, charm in zip(originals, appeal, strict=True):
        if post.quote_of is not None:
            post.quote_of.quotes += 1
        base = int(rng.expovariate(1 / (1.5 + charm)))
        post.likes = round(post.retweets * rng.uniform(2.0, 5.0)) + base
        post.replies = int(rng.expovariate(1 / (0.3 + post.retweets / 3)))

    posts = sorted(originals + retweets, key=lambda p: (p.created, int(p.id)), reverse=True)
    for post in sorted(posts, key=lambda p: p.retweet_of is not None):
        _fill(post, rng)
    return Day(listing, posts, users)


def _fill(post: Post, rng: random.Random) -> None:
    """The v2 object of a post (originals first: a retweet copies its original's text)."""
    if post.retweet_of is not None:
        original = post.retweet_of
        prefix = f"RT @{original.author.username}: "
        text = prefix + original.full["text"]
        links = [dict(link, start=link["start"] + len(prefix), end=link["end"] + len(prefix))
                 for link in original.full["entities"]["urls"]]
        entities: dict[str, Any] = {
            "mentions": [{"start": 3, "end": 4 + len(original.author.username),
                          "username": original.author.username, "id": original.author.id}],
            "urls": links,
        }
        metrics = {"retweet_count": original.retweets, "reply_count": 0, "like_count": 0,
                   "quote_count": 0}
        conversation = original.id
    else:
        text, links = post.text, []
        for paper in post.papers:
            short = _tco(rng)
            text += " "
            links.append({"start": len(text), "end": len(text) + len(short), "url": short,
                          "expanded_url": f"https://arxiv.org/abs/{paper}",
                          "display_url": f"arxiv.org/abs/{paper}"})
            text += short
        entities = {"urls": links}
        metrics = {"retweet_count": post.retweets, "reply_count": post.replies,
                   "like_count": post.likes, "quote_count": post.quotes}
        conversation = post.id
    post.text = text
    post.full = {
        "id": post.id, "text": text, "edit_history_tweet_ids": [post.id],
        "author_id": post.author.id, "created_at": _rfc3339(post.created),
        "conversation_id": conversation, "entities": entities, "lang": "en",
        "possibly_sensitive": False, "public_metrics": metrics,
    }
    if post.retweet_of is not None:
        post.full["referenced_tweets"] = [{"type": "retweeted", "id": post.retweet_of.id}]
    elif post.quote_of is not None:
        post.full["referenced_tweets"] = [{"type": "quoted", "id": post.quote_of.id}]


# -- the server -------------------------------------------------------------------------


@dataclass
class Counts:
    search: int = 0
    oembed: int = 0
    other: int = 0
    reads: int = 0  # posts returned: data + includes.tweets

    @property
    def requests(self) -> int:
        return self.search + self.oembed + self.other

    def __sub__(self, before: Counts) -> Counts:
        return Counts(self.search - before.search, self.oembed - before.oembed,
                      self.other - before.other, self.reads - before.reads)


class _Problem(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status)
        self.status, self.body = status, body


def _invalid(parameter: str, value: str, message: str) -> _Problem:
    return _Problem(400, {
        "errors": [{"parameters": {parameter: [value]}, "message": message}],
        "title": "Invalid Request", "detail": "One or more parameters to your request was "
        "invalid.", "type": "https://api.twitter.com/2/problems/invalid-request"})


def _time(params: dict[str, str], name: str, default: datetime) -> datetime:
    if name not in params:
        return default
    try:
        when = datetime.fromisoformat(params[name])
    except ValueError:
        raise _invalid(name, params[name], f"Invalid '{name}':'{params[name]}'.") from None
    if when.tzinfo is None:
        raise _invalid(name, params[name], f"Invalid '{name}':'{params[name]}'.")
    return when.astimezone(UTC)


def _names(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


class FakeXAPI:
    """The fake endpoints over `day`, served from a thread while the context is open."""

    def __init__(self, day: Day) -> None:
        self.day = day
        self.counts = Counts()
        self._lock = threading.Lock()
        self._posts = day.by_id
        self._by_paper: dict[str, list[Post]] = {}
        for post in day.posts:  # newest first, kept so
            for paper in post.papers:
                self._by_paper.setdefault(paper, []).append(post)
        self._matches: dict[tuple[str | None, bool, datetime, datetime], list[Post]] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------

    def __enter__(self) -> FakeXAPI:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the real API
            disable_nagle_algorithm = True  # else headers and body wait on delayed ACKs

            def do_GET(self) -> None:
                try:
                    status, body, kind = fake.answer(self.path,
                                                     self.headers.get("Authorization"))
                except Exception as exc:  # a bug of the fake: answer it, do not hang up
                    status, body, kind = 500, repr(exc).encode(), "text/plain"
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def base_url(self) -> str:
        assert self._server is not None, "the server is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def snapshot(self) -> Counts:
        with self._lock:
            return Counts(**vars(self.counts))

    # -- endpoints ----------------------------------------------------------------------

    def answer(self, target: str, authorization: str | None) -> tuple[int, bytes, str]:
        """(status, body, content type) for a GET of `target`."""
        parts = urlsplit(target)
        params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        try:
            if parts.path == SEARCH_PATH:
                with self._lock:
                    self.counts.search += 1
                if not authorization or not authorization.startswith("Bearer ") \
                        or not authorization[7:].strip():
                    raise _Problem(401, {"title": "Unauthorized", "type": "about:blank",
                                         "status": 401, "detail": "Unauthorized"})
                body = self.search(params)
                with self._lock:
                    self.counts.reads += len(body.get("data", ())) + \
                        len(body.get("includes", {}).get("tweets", ()))
                return 200, orjson.dumps(body), "application/json; charset=utf-8"
            if parts.path == OEMBED_PATH:
                with self._lock:
                    self.counts.oembed += 1
                embed = self.oembed(params.get("url", ""))
                if embed is None:
                    return 404, b"", "text/plain"
                return 200, orjson.dumps(embed), "application/json; charset=utf-8"
            with self._lock:
                self.counts.other += 1
            raise _Problem(404, {"title": "Not Found Error", "type": "about:blank",
                                 "status": 404, "detail": f"no route {parts.path}"})
        except _Problem as problem:
            return problem.status, orjson.dumps(problem.body), "application/problem+json"

    def _matching(self, query: str, start: datetime, end: datetime) -> list[Post]:
        paper = PAPER_QUERY.search(query)
        if paper is not None:
            key: str | None = paper.group(1)
        elif ALL_QUERY in query:
            key = None
        else:
            raise _invalid("query", query, "The fake X API knows only url:\"arxiv.org/abs\" "
                           "and url:\"arxiv.org/abs/<id>\" queries")
        no_retweets = "-is:retweet" in query
        cache = (key, no_retweets, start, end)
        with self._lock:
            found = self._matches.get(cache)
        if found is None:
            pool = self.day.posts if key is None else self._by_paper.get(key, [])
            found = [p for p in pool if start <= p.created < end
                     and not (no_retweets and p.retweet_of is not None)]
            with self._lock:
                self._matches[cache] = found
        return found

    def search(self, params: dict[str, str]) -> dict[str, Any]:
        query = params.get("query", "")
        if not query:
            raise _invalid("query", "", "The `query` query parameter can not be empty")
        if len(query) > 512:
            raise _invalid("query", query, "The `query` query parameter value is too long")
        size_text = params.get("max_results", "10")
        if not size_text.isdigit() or not 10 <= int(size_text) <= 100:
            raise _invalid("max_results", size_text, "The `max_results` query parameter "
                           f"value [{size_text}] is not between 10 and 100")
        start = _time(params, "start_time", WINDOW_END - timedelta(days=7))
        end = _time(params, "end_time", WINDOW_END + timedelta(days=1))
        if start >= end:
            raise _invalid("start_time", params.get("start_time", ""),
                           "'start_time' must be before 'end_time'")
        offset = 0
        if "next_token" in params:
            token = params["next_token"]
            if not re.fullmatch(r"b[0-9a-z]{6,}", token):
                raise _invalid("next_token", token, "The `next_token` query parameter value "
                               f"[{token}] is not valid")
            offset = int(token[1:], 36)
        found = self._matching(query, start, end)
        page = found[offset:offset + int(size_text)]
        if not page:
            return {"meta": {"result_count": 0}}
        fields = _names(params.get("tweet.fields"))
        expansions = _names(params.get("expansions"))
        body: dict[str, Any] = {"data": [self._tweet(p, fields) for p in page]}
        includes: dict[str, Any] = {}
        if "author_id" in expansions:
            user_fields = _names(params.get("user.fields"))
            authors = dict.fromkeys(p.author for p in page)
            includes["users"] = [self._user(u, user_fields) for u in authors]
        if "referenced_tweets.id" in expansions:
            referenced = dict.fromkeys(p.referenced for p in page if p.referenced is not None)
            if referenced:
                includes["tweets"] = [self._tweet(p, fields) for p in referenced]
        if includes:
            body["includes"] = includes
        meta: dict[str, Any] = {"newest_id": page[0].id, "oldest_id": page[-1].id,
                                "result_count": len(page)}
        if offset + len(page) < len(found):
            meta["next_token"] = "b" + _base36(offset + len(page)).rjust(6, "0")
        body["meta"] = meta
        return body

    @staticmethod
    def _tweet(post: Post, fields: Iterable[str]) -> dict[str, Any]:
        wanted = (*DEFAULT_TWEET_FIELDS, *fields)
        return {name: post.full[name] for name in wanted if name in post.full}

    @staticmethod
    def _user(user: User, fields: Iterable[str]) -> dict[str, Any]:
        wanted = (*DEFAULT_USER_FIELDS, *fields)
        return {name: getattr(user, name) for name in wanted if hasattr(user, name)}

    def oembed(self, url: str) -> dict[str, Any] | None:
        found = STATUS.search(urlsplit(url).path) if url else None
        post = self._posts.get(found.group(1)) if found else None
        if post is None:
            return None
        user = post.author
        link = f"https://twitter.com/{user.username}/status/{post.id}"
        text = html.escape(post.text, quote=False)
        for short in re.findall(r"https://t\.co/\w+", post.text):
            text = text.replace(short, f'<a href="{short}">{short}</a>')
        day = f"{post.created:%B} {post.created.day}, {post.created.year}"
        markup = (f'<blockquote class="twitter-tweet"><p lang="en" dir="ltr">{text}</p>'
                  f"&mdash; {html.escape(user.name)} (@{user.username}) "
                  f'<a href="{link}?ref_src=twsrc%5Etfw">{day}</a></blockquote>\n'
                  '<script async src="https://platform.twitter.com/widgets.js" '
                  'charset="utf-8"></script>\n')
        return {"url": link, "author_name": user.name,
                "author_url": f"https://twitter.com/{user.username}", "html": markup,
                "width": 550, "height": None, "type": "rich", "cache_age": "3153600000",
                "provider_name": "Twitter", "provider_url": "https://twitter.com",
                "version": "1.0"}


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if not number:
            return text
