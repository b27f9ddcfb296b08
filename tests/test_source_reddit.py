"""The Reddit source: post parsing on real recorded listings, the OAuth API and the public
Atom feed served by a loopback HTTP server (token, paging, refresh, failures)."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from werkzeug import Response

from conftest import shared_path
from fakes import FakeClock
from hotpapers.config import Secrets, Settings
from hotpapers.errors import MissingCredentials, SourceError
from hotpapers.models import Account
from hotpapers.sources.base import MentionSource, Refreshed, Span
from hotpapers.sources.reddit import (
    NO_CREDENTIALS_NOTE,
    RedditSource,
    is_gone,
    listing_posts,
    parse_feed,
    parse_post,
)

FIXTURES = Path(__file__).with_name("fixtures") / "reddit"
WINDOW = Span(datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 1, 6, tzinfo=UTC))
NEW = "/api/r/MachineLearning/new"
TOKEN = "fake-app-only-token-0001"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def real(name: str) -> dict:
    return json.loads(shared_path("fixtures", "real", "reddit", name).read_text())


@pytest.fixture
def clock():
    return FakeClock()


def source(httpserver, clock, credentials=True, **settings) -> RedditSource:
    values = dict(reddit_subreddits=["MachineLearning"], source_interval=0, http_retries=2,
                  reddit_api_url=httpserver.url_for("/api"),
                  reddit_auth_url=httpserver.url_for("/auth/access_token"),
                  reddit_feed_url=httpserver.url_for("/www")) | settings
    secrets = (Secrets(reddit_client_id="my-client", reddit_client_secret="my-secret")
               if credentials else Secrets(reddit_client_id=None, reddit_client_secret=None))
    return RedditSource(Settings(**values), secrets, clock=clock)


def serve_token(httpserver):
    basic = base64.b64encode(b"my-client:my-secret").decode()
    httpserver.expect_ordered_request(
        "/auth/access_token", method="POST", headers={"Authorization": f"Basic {basic}"},
        data="grant_type=client_credentials").respond_with_data(
        fixture("access-token.json"), content_type="application/json")


def serve_page(httpserver, name, query, path=NEW):
    httpserver.expect_ordered_request(
        path, query_string=query, headers={"Authorization": f"bearer {TOKEN}"}
    ).respond_with_data(fixture(name), content_type="application/json")


# --- parsing the real recorded listings --------------------------------------------------

def test_a_real_popular_listing_gives_100_posts_and_the_after_cursor():
    posts, after = listing_posts(real("oauth-r-popular-hot.limit100.2026-04-13.json"), "r/popular")
    assert len(posts) == 100
    assert after == "t3_1skbyfv"
    mention = parse_post(posts[0], datetime(2026, 4, 14, tzinfo=UTC))
    assert mention.native_id == "t3_1skjxta"
    assert mention.permalink == ("https://www.reddit.com/r/MMA/comments/1skjxta/"
                                 "ulberg_on_jiri_showing_mercy_thats_bullshit_total/")
    assert mention.account == Account("reddit", "airplane231", "airplane231")
    assert mention.created_at == datetime.fromtimestamp(1776105848, UTC)
    assert mention.text.startswith("Ulberg on Jiri showing mercy")
    assert mention.kind == "story"
    assert mention.paper_ids == []  # streamable.com
    [obs] = mention.observations
    assert (obs.points, obs.replies) == (546, 495)
    assert (obs.likes, obs.reposts) == (None, None)
    assert not any(is_gone(p) for p in posts)


def test_a_real_2016_listing_with_the_older_field_set():
    posts, after = listing_posts(real("oauth-r-askreddit-new.limit100.2016-03-01.json"), "r")
    assert (len(posts), after) == (100, "t3_48f6io")
    mention = parse_post(posts[0], datetime(2016, 3, 2, tzinfo=UTC))
    assert (mention.native_id, mention.account.native_id) == ("t3_48fbm9", "RedHeadQc")
    assert (mention.observations[0].points, mention.observations[0].replies) == (1, 1)
    assert mention.created_at == datetime.fromtimestamp(1456821458, UTC)


def test_a_real_empty_listing_has_no_posts_and_no_after():
    body = real("oauth-user-spez-top-hour.empty-listing.2016-03-02.json")
    assert listing_posts(body, "u/spez") == ([], None)


def test_real_listings_are_paged_by_after_until_after_is_null(httpserver, clock):
    serve_token(httpserver)
    httpserver.expect_ordered_request("/api/r/AskReddit/new", query_string="limit=100&raw_json=1"
                                      ).respond_with_json(
        real("oauth-r-askreddit-new.limit100.2016-03-01.json"))
    httpserver.expect_ordered_request(
        "/api/r/AskReddit/new", query_string="limit=100&raw_json=1&after=t3_48f6io"
    ).respond_with_json(real("oauth-user-spez-top-hour.empty-listing.2016-03-02.json"))
    src = source(httpserver, clock, reddit_subreddits=["AskReddit"])
    window = Span(datetime(2016, 2, 29, tzinfo=UTC), datetime(2016, 3, 2, tzinfo=UTC))
    assert list(src.mentions(window)) == []  # AskReddit names no paper
    httpserver.check_assertions()
    assert (src.report.requests, src.report.reads) == (3, 100)


# --- the OAuth API over HTTP ---------------------------------------------------------------

def test_oauth_token_then_bearer_listings_paged_by_after_down_to_the_window(httpserver, clock):
    serve_token(httpserver)
    serve_page(httpserver, "r-machinelearning-new.page1.json", "limit=100&raw_json=1")
    serve_page(httpserver, "r-machinelearning-new.page2.json",
               "limit=100&raw_json=1&after=t3_1q0aaa4")
    src = source(httpserver, clock)
    mentions = list(src.mentions(WINDOW))
    httpserver.check_assertions()  # token once, two pages, no third despite its after
    assert len(httpserver.log) == 3
    token_request = httpserver.log[0][0]
    assert token_request.form["grant_type"] == "client_credentials"
    assert token_request.authorization.username == "my-client"
    assert token_request.authorization.password == "my-secret"
    assert httpserver.log[1][0].headers["User-Agent"].startswith("hotpapers/")
    assert [(m.native_id, m.paper_ids) for m in mentions] == [
        ("t3_1q0aaa1", ["2601.01234"]),  # a link post
        ("t3_1q0aaa2", ["2601.03333"]),  # a self post linking the paper in its text
        ("t3_1q0aab1", ["2512.09999"]),  # page 2; 1q0aaa0 is after the window, 1q0aab2 before
    ]
    first = mentions[0]
    assert first.permalink == ("https://www.reddit.com/r/MachineLearning/comments/1q0aaa1/"
                               "r_sparse_attention_without_the_tears/")
    assert first.account == Account("reddit", "alice_ml", "alice_ml")
    assert first.text == "[R] Sparse attention without the tears"
    assert (first.created_at, first.kind) == (datetime(2026, 1, 5, 10, tzinfo=UTC), "story")
    [obs] = first.observations
    assert (obs.points, obs.replies, obs.observed_at) == (154, 23, clock.now())
    assert src.report.notes == []
    assert src.report.requests == 3
    assert "my-secret" not in repr(src.report) and TOKEN not in repr(src.report)


def test_refresh_returns_new_counts_and_gone_for_missing_deleted_and_removed(httpserver, clock):
    serve_token(httpserver)
    serve_page(httpserver, "api-info.json", {"id": "t3_1q0aaa1,t3_1q0del1,t3_1q0rem1,t3_1q0miss",
                                             "raw_json": "1"}, path="/api/api/info")
    src = source(httpserver, clock)
    refreshed = src.refresh(["t3_1q0aaa1", "t3_1q0del1", "t3_1q0rem1", "t3_1q0miss"])
    httpserver.check_assertions()
    assert [m.native_id for m in refreshed.mentions] == ["t3_1q0aaa1"]
    assert (refreshed.mentions[0].observations[0].points,
            refreshed.mentions[0].observations[0].replies) == (201, 35)
    assert refreshed.gone == ["t3_1q0del1", "t3_1q0rem1", "t3_1q0miss"]


def test_refresh_asks_for_100_ids_at_a_time(httpserver, clock):
    serve_token(httpserver)
    empty = {"kind": "Listing", "data": {"children": [], "after": None}}
    httpserver.expect_request("/api/api/info").respond_with_json(empty)
    ids = [f"t3_{n:x}" for n in range(250)]
    refreshed = source(httpserver, clock).refresh(ids)
    sizes = [len(r.args["id"].split(",")) for r, _ in httpserver.log[1:]]
    assert sizes == [100, 100, 50]
    assert refreshed.gone == ids


def test_half_credentials_are_refused_naming_the_variables():
    with pytest.raises(MissingCredentials, match="HOTPAPERS_REDDIT_CLIENT_SECRET"):
        RedditSource(Settings(), Secrets(reddit_client_id="id", reddit_client_secret=None))


# --- without credentials: the public Atom feed ------------------------------------------------

def test_without_credentials_the_atom_feed_gives_mentions_without_counts(httpserver, clock):
    httpserver.expect_request("/www/r/MachineLearning/new/.rss", query_string="limit=100"
                              ).respond_with_data(fixture("r-machinelearning-new.atom"),
                                                  content_type="application/atom+xml")
    src = source(httpserver, clock, credentials=False)
    assert isinstance(src, MentionSource)
    mentions = list(src.mentions(WINDOW))
    assert len(httpserver.log) == 1  # two entries: fewer than a page, no paging
    assert "Authorization" not in httpserver.log[0][0].headers
    assert [(m.native_id, m.paper_ids) for m in mentions] == [
        ("t3_1q0aaa1", ["2601.01234"]), ("t3_1q0aaa2", ["2601.03333"])]
    link_post, self_post = mentions
    assert link_post.permalink == ("https://www.reddit.com/r/MachineLearning/comments/1q0aaa1/"
                                   "r_sparse_attention_without_the_tears/")
    assert link_post.account == Account("reddit", "alice_ml", "alice_ml")
    assert link_post.created_at == datetime(2026, 1, 5, 10, tzinfo=UTC)
    assert self_post.text == "[P] We reproduced the survey & the numbers hold"
    assert all(m.observations == [] and m.kind == "story" for m in mentions)
    assert src.report.notes == [NO_CREDENTIALS_NOTE]
    assert src.refresh(["t3_1q0aaa1"]) == Refreshed()


def test_a_malformed_feed_is_a_one_line_source_error(httpserver, clock):
    httpserver.expect_request("/www/r/MachineLearning/new/.rss").respond_with_data(
        "<html><body>Too Many\nRequests</body>")
    with pytest.raises(SourceError) as caught:
        list(source(httpserver, clock, credentials=False).mentions(WINDOW))
    assert str(caught.value).startswith("reddit: r/MachineLearning feed: malformed XML")
    assert "\n" not in str(caught.value)
    with pytest.raises(SourceError, match="not an Atom feed"):
        parse_feed("<rss><channel/></rss>")


# --- failures ----------------------------------------------------------------------------------

def test_429_waits_the_seconds_reddit_says_are_left(httpserver, clock):
    serve_token(httpserver)
    httpserver.expect_ordered_request(NEW).respond_with_response(
        Response("{}", status=429, headers={"x-ratelimit-reset": "42",
                                            "x-ratelimit-remaining": "0"}))
    serve_page(httpserver, "r-machinelearning-new.page2.json", "limit=100&raw_json=1")
    src = source(httpserver, clock)
    assert [m.native_id for m in src.mentions(WINDOW)] == ["t3_1q0aab1"]
    assert clock.sleeps == [43.0]  # the seconds left, and one more
    assert src.report.requests == 3


def test_5xx_then_success(httpserver, clock):
    serve_token(httpserver)
    httpserver.expect_ordered_request(NEW).respond_with_data("<h1>503</h1>", status=503)
    serve_page(httpserver, "r-machinelearning-new.page2.json", "limit=100&raw_json=1")
    src = source(httpserver, clock)
    assert len(list(src.mentions(WINDOW))) == 1
    [wait] = clock.sleeps
    assert 5.0 <= wait <= 6.25  # the first backoff, with up to 25 % jitter


def test_a_timeout_is_a_source_error(httpserver, clock):
    def slow(request):
        time.sleep(0.2)
        return Response("{}", content_type="application/json")

    httpserver.expect_request("/www/r/MachineLearning/new/.rss").respond_with_handler(slow)
    src = source(httpserver, clock, credentials=False, http_timeout=0.05, http_retries=0)
    with pytest.raises(SourceError, match=r"^reddit: r/MachineLearning feed: timed out"):
        list(src.mentions(WINDOW))


@pytest.mark.parametrize("body", ["<html>\n<b>down</b>\n</html>", '{"kind": "Listing"}', "[]"])
def test_a_malformed_listing_is_a_one_line_source_error(httpserver, clock, body):
    serve_token(httpserver)
    httpserver.expect_ordered_request(NEW).respond_with_data(body)
    with pytest.raises(SourceError) as caught:
        list(source(httpserver, clock).mentions(WINDOW))
    assert str(caught.value).startswith("reddit: r/MachineLearning: ")
    assert "\n" not in str(caught.value)


def test_a_token_answer_without_a_token_is_a_source_error(httpserver, clock):
    httpserver.expect_request("/auth/access_token").respond_with_json({"error": "invalid_grant"})
    with pytest.raises(SourceError, match=r"^reddit: access token: the answer holds no "):
        list(source(httpserver, clock).mentions(WINDOW))


def test_a_bad_post_in_a_good_page_is_skipped_and_noted(httpserver, clock):
    serve_token(httpserver)
    page = json.loads(fixture("r-machinelearning-new.page2.json"))
    page["data"]["children"].insert(0, {"kind": "t3", "data": {"name": "t3_x", "url":
                                                               "https://arxiv.org/abs/2601.1"}})
    httpserver.expect_ordered_request(NEW).respond_with_json(page)
    src = source(httpserver, clock)
    assert [m.native_id for m in src.mentions(WINDOW)] == ["t3_1q0aab1"]
    assert src.report.notes == ["reddit: skipped 1 malformed posts"]
