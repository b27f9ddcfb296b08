"""The attention sources as the suite serves them on loopback: each one's healthy answers
(the recorded-format bodies of tests/fixtures), the settings pointing it at the server,
fake credentials, and a window its bodies fall in."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .data import FIXTURES
from .servers import Reply

__all__ = ["SECRETS", "SOURCES", "Source", "healthy", "source_settings"]

X_NEXT = "7140dibdnow9c7btw3w29grvxfcgvpb9n9coehpk7xz5i"
REDDIT_NEXT = "t3_1q0aaa4"

# Fake credentials: distinct, long enough to be scrubbed, and with characters that change
# under base64 and URL encoding.
SECRETS = {
    "X_BEARER_TOKEN": "xbearer-Fake+Token/1234567890=",
    "BSKY_HANDLE": "reliability.test",
    "BSKY_APP_PASSWORD": "bskyapp-Fake+Pass/abcd-efgh",
    "MASTODON_TOKEN": "mastodon-Fake+Token/0987654321",
    "REDDIT_CLIENT_ID": "redditclientid-Fake",
    "REDDIT_CLIENT_SECRET": "redditsecret-Fake+Secret/xyz",
    "SMTP_PASSWORD": "smtp-Fake+Password/123",
}


@dataclass(frozen=True)
class Source:
    name: str
    since: str
    until: str


SOURCES = {s.name: s for s in [
    Source("hn", "2026-06-12", "2026-06-13"), Source("hf", "2026-06-12", "2026-06-14"),
    Source("x", "2026-01-04", "2026-01-05"), Source("bluesky", "2025-01-19", "2025-01-21"),
    Source("mastodon", "2026-01-05", "2026-01-06"), Source("reddit", "2026-01-05", "2026-01-07"),
]}


def source_settings(base: str) -> dict[str, str]:
    """HOTPAPERS_* settings (without the prefix) pointing every source at `base`."""
    return {
        "HN_API_URL": f"{base}/hn", "HF_API_URL": f"{base}/hf", "X_API_URL": f"{base}/x",
        "BSKY_API_URL": f"{base}/bsky", "BSKY_PUBLIC_URL": f"{base}/bsky-public",
        "MASTODON_INSTANCES": json.dumps([f"{base}/one"]),
        "REDDIT_API_URL": f"{base}/reddit", "REDDIT_AUTH_URL": f"{base}/reddit-auth/token",
        "REDDIT_FEED_URL": f"{base}/reddit-www", "X_OEMBED_URL": f"{base}/oembed",
        "ARXIV_API_URL": f"{base}/arxiv/api", "ARXIV_OAI_URL": f"{base}/arxiv/oai",
        "ARXIV_RSS_URL": f"{base}/arxiv/rss", "SOURCE_INTERVAL": "0",
        "FETCH_MISSING_PAPERS": "false",
    }


def _file(*parts: str) -> Reply:
    return Reply(body=FIXTURES.joinpath(*parts).read_bytes())


def _json(value) -> Reply:
    return Reply(body=json.dumps(value).encode())


def _first(query: dict[str, list[str]], name: str) -> str | None:
    return query.get(name, [None])[0]


def _hn(path: str, query: dict[str, list[str]]) -> Reply:
    if path.endswith("/search_by_date"):
        page = Path(FIXTURES / "hn" / f"search_by_date.page{_first(query, 'page') or 0}.json")
        return Reply(body=page.read_bytes()) if page.exists() else _json({"hits": [],
                                                                          "nbPages": 2})
    if path.startswith("/hn/items/41000001"):
        return _file("hn", "items.41000001.json")
    return Reply(404, b'{"error": "not found"}')


def _hf(path: str, query: dict[str, list[str]]) -> Reply:
    if path.endswith("/daily_papers"):
        day = FIXTURES / "hf" / f"daily_papers.{_first(query, 'date')}.json"
        return Reply(body=day.read_bytes()) if day.exists() else _json([])
    if path.endswith("/papers/2606.20001"):
        return _file("hf", "papers.2606.20001.json")
    return Reply(404, b'{"error": "not found"}')


def _x(path: str, query: dict[str, list[str]]) -> Reply:
    if path.endswith("/tweets/search/recent"):
        token = _first(query, "next_token")
        if token is None:
            return _file("x", "search-recent-page1.json")
        return _file("x", "search-recent-page2.json") if token == X_NEXT \
            else _json({"meta": {"result_count": 0}})
    if path.endswith("/tweets"):
        return _file("x", "tweets-lookup.json")
    return Reply(404, b'{"title": "Not Found"}')


def _bsky(path: str, query: dict[str, list[str]]) -> Reply:
    if path.endswith("createSession"):
        return _file("bluesky", "createSession.json")
    if path.endswith("searchPosts"):
        cursor = _first(query, "cursor")
        if cursor is None:
            return _file("bluesky", "searchPosts-page1.json")
        return _file("bluesky", "searchPosts-page2.json") if cursor == "100" \
            else _json({"posts": []})
    if path.endswith("getPosts"):
        return _file("bluesky", "getPosts.json")
    return Reply(404, b'{"error": "NotFound"}')


def _mastodon(path: str, query: dict[str, list[str]]) -> Reply:
    if path == "/one/api/v1/timelines/tag/arxiv":
        return _file("mastodon", "tag-arxiv.one.page1.json") \
            if _first(query, "max_id") is None else _json([])
    if path == "/one/api/v2/search":
        return _file("mastodon", "search-arxiv.one.offset0.json") \
            if (_first(query, "offset") or "0") == "0" else _json({"statuses": []})
    return Reply(404, b'{"error": "Record not found"}')


def _reddit(path: str, query: dict[str, list[str]]) -> Reply:
    if path.startswith("/reddit-auth/"):
        return _file("reddit", "access-token.json")
    if path == "/reddit/r/MachineLearning/new":
        after = _first(query, "after")
        if after is None:
            return _file("reddit", "r-machinelearning-new.page1.json")
        return _file("reddit", "r-machinelearning-new.page2.json") if after == REDDIT_NEXT \
            else _json({"kind": "Listing", "data": {"children": [], "after": None}})
    if path == "/reddit/api/info":
        return _file("reddit", "api-info.json")
    return Reply(404, b'{"message": "Not Found"}')


ROUTES = {"/hn": _hn, "/hf": _hf, "/x": _x, "/bsky": _bsky, "/one": _mastodon,
          "/reddit": _reddit}


def healthy(method: str, path: str, query: dict[str, list[str]], body: bytes) -> Reply:
    """The healthy answer of whichever source `path` belongs to."""
    for prefix, route in ROUTES.items():
        if path.startswith(prefix):
            return route(path, query)
    return Reply(404, b'{"error": "not served"}')
