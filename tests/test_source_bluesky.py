"""Bluesky search and lookups: pure parsing on recorded AppView bodies, and the source against
a real HTTP server on loopback serving recorded and own bodies, with a fake clock."""

from __future__ import annotations

import copy
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from werkzeug import Request, Response

from conftest import FIXTURES, shared_path
from fakes import FakeClock
from hotpapers.config import Secrets, Settings
from hotpapers.errors import MissingCredentials, SourceError
from hotpapers.sources.base import MentionSource, Span
from hotpapers.sources.bluesky.search import (
    BadPost,
    BlueskySource,
    post_mention,
    read_post,
    view_links,
)

OWN = FIXTURES / "bluesky"
SEARCH = "/xrpc/app.bsky.feed.searchPosts"
SESSION = "/xrpc/com.atproto.server.createSession"
GET_POSTS = "/public/app.bsky.feed.getPosts"
NOW = datetime(2025, 1, 21, 6, tzinfo=UTC)
WINDOW = Span(datetime(2025, 1, 20, tzinfo=UTC), datetime(2025, 1, 21, tzinfo=UTC))
PASSWORD = "abcd-efgh-ijkl-mnop"

ALICE = "at://did:plc:a1icea1icea1icea1icea1ic/app.bsky.feed.post/3lgaaaaaaaa2a"
BOB = "at://did:plc:b0bb0bb0bb0bb0bb0bb0bb0b/app.bsky.feed.post/3lgbbbbbbbb2b"
CAROL = "at://did:plc:ca2o1ca2o1ca2o1ca2o1ca2o/app.bsky.feed.post/3lgccccccc22c"
FRANK = "at://did:plc:f2ankf2ankf2ankf2ankf2an/app.bsky.feed.post/3lgffffffff2f"
GINA = "at://did:plc:g1nag1nag1nag1nag1nag1na/app.bsky.feed.post/3lggggggggg2g"
QUOTED = "at://did:plc:q2otedq2otedq2otedq2otedq2/app.bsky.feed.post/3lfzzzzzzzz2q"


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def real(name: str) -> Any:
    return load(shared_path("fixtures", "real", "bluesky", name))


def own(name: str) -> Any:
    return load(OWN / name)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


def make_settings(httpserver, **overrides) -> Settings:
    values = dict(bsky_api_url=httpserver.url_for("/xrpc"),
                  bsky_public_url=httpserver.url_for("/public"),
                  bsky_query=["arxiv.org"], source_interval=0, http_retries=2)
    return Settings(**{**values, **overrides})


def secrets() -> Secrets:
    return Secrets(bsky_handle="hotpapers.bsky.social", bsky_app_password=PASSWORD)


def source(httpserver, clock, creds: Secrets | None = None, **overrides) -> BlueskySource:
    # A plain-HTTP transport for loopback: a default client loads the CA bundle each time.
    return BlueskySource(make_settings(httpserver, **overrides), creds or secrets(), clock,
                         transport=httpx.HTTPTransport(verify=False))


def serve_session(httpserver) -> None:
    httpserver.expect_request(SESSION, method="POST").respond_with_json(own("createSession.json"))


def serve_search_pages(httpserver, first: Any, second: Any) -> None:
    """Page one without a cursor parameter, page two for cursor=100 (of any query)."""
    def handler(request: Request) -> Response:
        body = second if request.args.get("cursor") == "100" else first
        return json_response(body)
    httpserver.expect_request(SEARCH, method="GET").respond_with_handler(handler)


def serve_in_turn(httpserver, path: str, responses: list[Response]) -> None:
    """Answer `path` with these responses, one per request, in order."""
    pending = iter(responses)
    httpserver.expect_request(path).respond_with_handler(lambda request: next(pending))


def json_response(body: Any) -> Response:
    return Response(json.dumps(body), content_type="application/json")


def search_requests(httpserver) -> list[Request]:
    return [request for request, _ in httpserver.log if request.path == SEARCH]


# --- pure parsing on recorded bodies ----------------------------------------------------------

def test_search_page_is_read_facts_from_the_recorded_body():
    posts = real("app.bsky.feed.searchPosts-q_redistricting.json")["posts"]
    assert len(posts) == 25
    first = read_post(posts[0], NOW)
    assert first.native_id == \
        "at://did:plc:kkergqgbhb56ptpwj2wenkje/app.bsky.feed.post/3lpk2u6qo222m"
    assert first.permalink == \
        "https://bsky.app/profile/socpaperbot.bsky.social/post/3lpk2u6qo222m"
    assert first.account.native_id == "did:plc:kkergqgbhb56ptpwj2wenkje"
    assert first.account.name == "Sociology papers (journals + SocArXiv)"
    assert first.created_at == datetime(2025, 5, 19, 17, 10, 9, 561858, tzinfo=UTC)
    assert first.kind == "post"
    # an osf.io (SocArXiv) link is found as a link, but it names no arXiv paper
    assert view_links(posts[0]) == ["https://osf.io/v87fn"]
    assert first.paper_ids == []
    assert post_mention(posts[0], NOW) is None
    assert all(post_mention(post, NOW) is None for post in posts)


def test_counts_links_and_kinds_from_the_recorded_search_body():
    posts = {post["uri"].rsplit("/", 1)[-1]: post
             for post in real("app.bsky.feed.searchPosts-q_redistricting.json")["posts"]}
    nyhan = read_post(posts["3lpjneeyp6c2w"], NOW)
    assert nyhan.account.handle == "brendannyhan.bsky.social"
    assert [(o.likes, o.reposts, o.quotes, o.replies, o.observed_at)
            for o in nyhan.observations] == [(20, 5, 1, 2, NOW)]
    assert view_links(posts["3lpjneeyp6c2w"]) == [
        "https://www.nber.org/system/files/working_papers/w33801/w33801.pdf"]
    li = read_post(posts["3lpica7sxmk2u"], NOW)
    assert (li.observations[0].likes, li.observations[0].reposts) == (58, 13)
    reply = read_post(posts["3lpjzka2pzc2l"], NOW)
    assert reply.kind == "reply"
    assert reply.parent_native_id == \
        posts["3lpjzka2pzc2l"]["record"]["reply"]["parent"]["uri"]
    quote = read_post(posts["3lpjl6vjfes2b"], NOW)
    assert (quote.kind, quote.parent_native_id) == (
        "quote", posts["3lpjl6vjfes2b"]["record"]["embed"]["record"]["uri"])
    # createdAt written with an offset instead of Z
    offset = read_post(posts["3lpii6nwbyt2m"], NOW)
    assert offset.created_at == datetime(2025, 5, 19, 2, 3, 20, 286393, tzinfo=UTC)
    # an empty display name is no name
    assert read_post(posts["3lpjlye6o6c2c"], NOW).account.name is None


def test_recorded_quotes_and_record_with_media():
    quotes = real("app.bsky.feed.getQuotes-3lc5c5qv72r2w.json")["posts"]
    quoted = "at://did:plc:5c2r73erhng4bszmxlfdtscf/app.bsky.feed.post/3lc5c5qv72r2w"
    plain, with_media = (read_post(post, NOW) for post in quotes)
    assert (plain.kind, plain.parent_native_id) == ("quote", quoted)
    assert (plain.account.handle, plain.observations[0].likes) == ("randvegan.bsky.social", 3)
    assert (with_media.kind, with_media.parent_native_id) == ("quote", quoted)
    obs = with_media.observations[0]
    assert (obs.likes, obs.reposts, obs.quotes, obs.replies) == (12, 3, 2, 3)
    links = view_links(quotes[1])
    # the text shows "bsky.app/profile/bsky..."; the facet holds the whole address
    assert "https://bsky.app/profile/bskyr.bsky.social/post/3lc5c5qv72r2w" in links
    assert "https://christophertkenny.com/bskyr/" in links  # the media card
    thread = real("app.bsky.feed.getPostThread-recordWithMedia.marshalx-2024-07.json")
    post = read_post(thread["thread"]["post"], NOW)
    assert post.kind == "quote"
    assert post.parent_native_id == \
        "at://did:plc:kvwvcn5iqfooopmyzvb4qzba/app.bsky.feed.post/3kahesw26il2z"
    assert post.account.handle == "test.marshal.dev"
    assert post.observations[0].quotes is None  # recorded before quoteCount existed
    assert post.observations[0].likes == 0


def test_recorded_get_posts_view():
    view = real("app.bsky.feed.getPosts-3k7qmjev5lr2s.json")["posts"][0]
    post = read_post(view, NOW)
    assert post.native_id == "at://did:plc:ic6zqvuw5ulmfpjiwnhsr2ns/app.bsky.feed.post/3k7qmjev5lr2s"
    assert post.account.handle == "soubhikbarari.bsky.social"
    assert post.created_at == datetime(2023, 9, 19, 11, 32, 54, 574000, tzinfo=UTC)
    assert post.observations[0].likes == 4
    assert view_links(view) == ["http://localview.net", "https://rstats.ai/gov.html"]


# --- pure parsing on own fixtures -------------------------------------------------------------

def own_posts() -> dict[str, Any]:
    return {post["uri"]: post for name in ("searchPosts-page1.json", "searchPosts-page2.json")
            for post in own(name)["posts"]}


def test_shortened_link_text_resolves_through_the_facet():
    view = own_posts()[ALICE]
    assert view["record"]["text"].endswith("arxiv.org/abs/2501.0…")
    mention = post_mention(view, NOW)
    assert mention.paper_ids == ["2501.01234"]
    assert mention.permalink == "https://bsky.app/profile/alice.bsky.social/post/3lgaaaaaaaa2a"
    assert mention.created_at == datetime(2025, 1, 20, 15, 4, 5, 123000, tzinfo=UTC)


def test_link_card_reply_and_quote_with_media_card():
    posts = own_posts()
    assert post_mention(posts[BOB], NOW).paper_ids == ["2501.04567"]
    reply = post_mention(posts[CAROL], NOW)
    assert (reply.kind, reply.parent_native_id, reply.paper_ids) == (
        "reply", ALICE, ["2412.09876"])
    quote = post_mention(posts[FRANK], NOW)
    assert (quote.kind, quote.parent_native_id, quote.paper_ids) == (
        "quote", QUOTED, ["2501.05555"])


def test_embedded_feed_is_not_a_quote_and_bad_views_raise():
    view = copy.deepcopy(own_posts()[GINA])
    view["record"]["embed"]["record"]["uri"] = \
        "at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.generator/whats-hot"
    assert (read_post(view, NOW).kind, read_post(view, NOW).parent_native_id) == ("post", None)
    view["author"]["handle"] = "handle.invalid"
    assert read_post(view, NOW).permalink == \
        "https://bsky.app/profile/did:plc:g1nag1nag1nag1nag1nag1na/post/3lggggggggg2g"
    for bad in ([], {"uri": ALICE}, {**view, "record": {"text": "x", "createdAt": "soon"},
                                     "indexedAt": None}):
        with pytest.raises(BadPost):
            read_post(bad, NOW)
    # without a valid createdAt, indexedAt dates the post
    undated = {**view, "record": {**view["record"], "createdAt": "2025-01-20T10:00:00"}}
    assert read_post(undated, NOW).created_at == datetime(2025, 1, 20, 20, 45, tzinfo=UTC)


# --- the source over HTTP ---------------------------------------------------------------------

def test_sign_in_then_search_with_the_bearer_paging_and_window(httpserver, clock):
    serve_session(httpserver)
    serve_search_pages(httpserver, own("searchPosts-page1.json"), own("searchPosts-page2.json"))
    bsky = source(httpserver, clock)
    assert isinstance(bsky, MentionSource)
    found = list(bsky.mentions(WINDOW))
    # Dave names no paper, Erin is before the window, Ivan at its (open) end, one is broken
    assert [m.native_id for m in found] == [ALICE, BOB, CAROL, FRANK, GINA]
    assert {m.native_id: m.paper_ids[0] for m in found} == {
        ALICE: "2501.01234", BOB: "2501.04567", CAROL: "2412.09876", FRANK: "2501.05555",
        GINA: "2501.06666"}
    assert [m.kind for m in found] == ["post", "post", "reply", "quote", "quote"]
    assert found[-1].account.name is None and found[-1].parent_native_id == ALICE

    sign_in = next(request for request, _ in httpserver.log if request.path == SESSION)
    assert sign_in.get_json() == {"identifier": "hotpapers.bsky.social", "password": PASSWORD}
    first, second = search_requests(httpserver)
    for request in (first, second):
        assert request.headers["Authorization"] == "Bearer test-access-jwt"
        assert request.args["q"] == "arxiv.org"
        assert request.args["sort"] == "latest"
        assert request.args["limit"] == "100"
        assert request.args["since"] == "2025-01-20T00:00:00Z"
        assert request.args["until"] == "2025-01-21T00:00:00Z"
    assert "cursor" not in first.args and second.args["cursor"] == "100"
    assert bsky.report.requests == 3
    assert bsky.report.reads == 9
    assert bsky.report.notes == ["bluesky: skipped 1 malformed post(s) in search results"]
    assert clock.sleeps == []


def test_recorded_search_page_is_followed_by_its_cursor(httpserver, clock):
    serve_session(httpserver)
    serve_search_pages(httpserver, {**real("app.bsky.feed.searchPosts-q_redistricting.json"),
                                    "cursor": "100"}, {"posts": []})
    window = Span(datetime(2025, 5, 19, tzinfo=UTC), datetime(2025, 5, 20, tzinfo=UTC))
    bsky = source(httpserver, clock, bsky_query=["redistricting"])
    assert list(bsky.mentions(window)) == []  # 25 posts read, none names an arXiv paper
    assert bsky.report.reads == 25
    assert [r.args.get("cursor") for r in search_requests(httpserver)] == [None, "100"]


def test_the_same_post_from_two_queries_is_yielded_once(httpserver, clock):
    serve_session(httpserver)
    page = own("searchPosts-page1.json")
    del page["cursor"]
    serve_search_pages(httpserver, page, page)
    bsky = source(httpserver, clock, bsky_query=["arxiv.org", "arxiv"])
    found = [m.native_id for m in bsky.mentions(WINDOW)]
    assert found == [ALICE, BOB, CAROL]
    assert [r.args["q"] for r in search_requests(httpserver)] == ["arxiv.org", "arxiv"]
    sessions = [r for r, _ in httpserver.log if r.path == SESSION]
    assert len(sessions) == 1  # one sign-in per run


def test_a_page_without_posts_ends_paging_even_with_a_cursor(httpserver, clock):
    serve_session(httpserver)
    serve_search_pages(httpserver, {"posts": [], "cursor": "100"}, {"posts": []})
    assert list(source(httpserver, clock).mentions(WINDOW)) == []
    assert len(search_requests(httpserver)) == 1


def test_refresh_is_public_batched_and_reports_deletions(httpserver, clock):
    template = own("getPosts.json")["posts"][0]
    uris = [f"at://did:plc:a1icea1icea1icea1icea1ic/app.bsky.feed.post/3lgpost{n:05d}"
            for n in range(30)]
    deleted = uris[27]

    def handler(request: Request) -> Response:
        assert "Authorization" not in request.headers
        posts = [{**template, "uri": uri} for uri in request.args.getlist("uris")
                 if uri != deleted]
        return json_response({"posts": posts})

    httpserver.expect_request(GET_POSTS).respond_with_handler(handler)
    bsky = source(httpserver, clock, creds=Secrets())  # no credentials needed
    result = bsky.refresh(uris)
    calls = [request.args.getlist("uris") for request, _ in httpserver.log]
    assert [len(batch) for batch in calls] == [25, 5]
    assert calls[0] + calls[1] == uris
    assert result.gone == [deleted]
    assert [m.native_id for m in result.mentions] == [u for u in uris if u != deleted]
    assert result.mentions[0].paper_ids == ["2501.01234"]  # from the record, as when found
    assert result.mentions[0].observations[0].likes == 50
    assert bsky.report.requests == 2


def test_refresh_with_own_and_recorded_lookups(httpserver, clock):
    gone = "at://did:plc:a1icea1icea1icea1icea1ic/app.bsky.feed.post/3lgdeleted22"
    httpserver.expect_ordered_request(GET_POSTS).respond_with_json(own("getPosts.json"))
    recorded = real("app.bsky.feed.getPosts-3k7qmjev5lr2s.json")
    httpserver.expect_ordered_request(GET_POSTS).respond_with_json(recorded)
    bsky = source(httpserver, clock, creds=Secrets())
    result = bsky.refresh([ALICE, FRANK, gone, "not-a-uri", ALICE])
    assert [(m.native_id, m.observations[0].likes) for m in result.mentions] == [
        (ALICE, 50), (FRANK, 13)]
    assert result.gone == [gone]
    assert httpserver.log[0][0].args.getlist("uris") == [ALICE, FRANK, gone]
    # the recorded post names no paper: neither a mention nor gone
    result = bsky.refresh([recorded["posts"][0]["uri"]])
    assert (result.mentions, result.gone) == ([], [])
    assert bsky.report.notes == [
        "bluesky: 1 id(s) are not post at:// URIs; not looked up",
        "bluesky: 1 looked-up post(s) name no paper; left out"]


def test_429_with_ratelimit_reset_is_honoured(httpserver, clock):
    serve_session(httpserver)
    reset = int(NOW.timestamp()) + 30
    page = own("searchPosts-page1.json")
    del page["cursor"]
    serve_in_turn(httpserver, SEARCH, [Response(
        '{"error":"RateLimitExceeded","message":"Rate Limit Exceeded"}', status=429,
        headers={"ratelimit-limit": "3000", "ratelimit-remaining": "0",
                 "ratelimit-reset": str(reset)}), json_response(page)])
    bsky = source(httpserver, clock)
    assert [m.native_id for m in bsky.mentions(WINDOW)] == [ALICE, BOB, CAROL]
    assert clock.sleeps == [31.0]  # until the reset, plus a second
    assert bsky.report.requests == 3


def test_5xx_then_success(httpserver, clock):
    serve_session(httpserver)
    page = own("searchPosts-page1.json")
    del page["cursor"]
    serve_in_turn(httpserver, SEARCH, [Response("upstream failure", status=502),
                                       json_response(page)])
    bsky = source(httpserver, clock)
    bsky.http.jitter = lambda: 0.0
    assert len(list(bsky.mentions(WINDOW))) == 3
    assert clock.sleeps == [5.0]


def test_refused_sign_in_names_the_status_but_not_the_password(httpserver, clock):
    httpserver.expect_request(SESSION, method="POST").respond_with_json(
        {"error": "AuthenticationRequired", "message": "Invalid identifier or password"},
        status=401)
    bsky = source(httpserver, clock)
    with pytest.raises(SourceError) as caught:
        next(bsky.mentions(WINDOW))
    message = str(caught.value)
    assert message == ("bluesky: sign-in refused (HTTP 401: AuthenticationRequired: "
                       "Invalid identifier or password)")
    assert PASSWORD not in message
    assert search_requests(httpserver) == []
    assert bsky.report.requests == 1


def test_an_echoed_password_is_masked(httpserver, clock):
    httpserver.expect_request(SESSION, method="POST").respond_with_data(
        f"bad password {PASSWORD}", status=400)
    with pytest.raises(SourceError) as caught:
        next(source(httpserver, clock).mentions(WINDOW))
    assert str(caught.value) == "bluesky: sign-in refused (HTTP 400: bad password ***)"


def test_timeout_is_a_source_error(httpserver, clock):
    serve_session(httpserver)

    def slow(request: Request) -> Response:
        time.sleep(0.15)
        return Response('{"posts": []}', content_type="application/json")

    httpserver.expect_request(SEARCH).respond_with_handler(slow)
    bsky = source(httpserver, clock, http_timeout=0.05, http_retries=0)
    with pytest.raises(SourceError,
                       match=r"^bluesky: search 'arxiv.org': timed out after 1 tries$"):
        list(bsky.mentions(WINDOW))


@pytest.mark.parametrize(("body", "problem"), [
    ("<html>Bad gateway</html>", "the answer is not JSON"),
    ('["posts"]', "the answer is not a JSON object"),
    ('{"posts": {"uri": "at://x"}}', "the answer has no list of posts"),
])
def test_malformed_search_body_is_one_line(httpserver, clock, body, problem):
    serve_session(httpserver)
    httpserver.expect_request(SEARCH).respond_with_data(body, content_type="application/json")
    with pytest.raises(SourceError) as caught:
        list(source(httpserver, clock).mentions(WINDOW))
    message = str(caught.value)
    assert message.startswith(f"bluesky: search 'arxiv.org': {problem}")
    assert "\n" not in message


def test_malformed_session_and_lookup_bodies(httpserver, clock):
    httpserver.expect_request(SESSION, method="POST").respond_with_json({"did": "did:plc:x"})
    httpserver.expect_request(GET_POSTS).respond_with_data("nope")
    bsky = source(httpserver, clock)
    with pytest.raises(SourceError, match=r"^bluesky: sign-in: the answer has no accessJwt$"):
        list(bsky.mentions(WINDOW))
    with pytest.raises(SourceError, match=r"^bluesky: getPosts: the answer is not JSON"):
        bsky.refresh([ALICE])


@pytest.mark.parametrize("creds", [
    Secrets(), Secrets(bsky_handle="me.bsky.social"), Secrets(bsky_app_password=PASSWORD),
    Secrets(bsky_handle=" ", bsky_app_password=""),
])
def test_missing_credentials(httpserver, clock, creds):
    bsky = source(httpserver, clock, creds=creds)
    with pytest.raises(MissingCredentials) as caught:
        bsky.mentions(WINDOW)  # at once, before iterating
    assert "HOTPAPERS_BSKY_HANDLE" in str(caught.value)
    assert "HOTPAPERS_BSKY_APP_PASSWORD" in str(caught.value)
    assert PASSWORD not in str(caught.value)
    assert httpserver.log == []
