"""The X source: its parser on real recorded v2 bodies, and the source against a loopback
server serving pages in the documented format (paging, the 7-day limit, the read budget,
retweets, rate limits, errors, refresh), and the oEmbed client."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from conftest import shared_path
from fakes import FakeClock
from hotpapers.config import Secrets, Settings
from hotpapers.errors import MissingCredentials, SourceError
from hotpapers.sources.base import MentionSource, Refreshed, Span
from hotpapers.sources.x.embed import local_embed
from hotpapers.sources.x.oembed import TweetEmbeds
from hotpapers.sources.x.search import XSource
from hotpapers.sources.x.tweets import mention_of, page_mentions, parse_page

REAL = ("fixtures", "real", "twitter")
MINE = Path(__file__).with_name("fixtures") / "x"
TOKEN = "AAAAsekret-bearer-token-9f8e7d"
SEARCH = "/2/tweets/search/recent"
LOOKUP = "/2/tweets"
NOW = datetime(2026, 1, 5, 12, tzinfo=UTC)  # FakeClock's start
WINDOW = Span(datetime(2026, 1, 4, tzinfo=UTC), datetime(2026, 1, 5, tzinfo=UTC))
NEXT = "7140dibdnow9c7btw3w29grvxfcgvpb9n9coehpk7xz5i"  # in search-recent-page1.json
T10, T9, T7 = "2007900000000000010", "2007900000000000009", "2007900000000000007"
ORIGINAL = "2007700000000000001"  # dave_nlp's post, retweeted by T8 and by a post on page 2
T5 = "2007800000000000005"


def real_text(name: str) -> str:
    return shared_path(*REAL, name).read_text()


def real(name: str) -> dict:
    return json.loads(real_text(name))


def mine(name: str) -> dict:
    return json.loads((MINE / name).read_text())


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_settings(httpserver: HTTPServer, **overrides) -> Settings:
    values = {"x_api_url": httpserver.url_for("/2"), "x_oembed_url": httpserver.url_for("/oembed"),
              "source_interval": 0, "http_retries": 2, **overrides}
    return Settings(**values)


def loopback() -> httpx.HTTPTransport:
    """Real HTTP to the loopback server; plain HTTP needs no CA bundle, which is slow to load."""
    return httpx.HTTPTransport(verify=False)


def make_source(httpserver: HTTPServer, clock: FakeClock, **overrides) -> XSource:
    return XSource(make_settings(httpserver, **overrides), Secrets(x_bearer_token=TOKEN),
                   clock=clock, transport=loopback())


class Pages:
    """A search endpoint: the first page without next_token, the others by token; records
    the query of each request."""

    def __init__(self, first: dict, by_token: dict[str, dict] | None = None) -> None:
        self.first, self.by_token = first, by_token or {}
        self.queries: list[dict[str, str]] = []

    def __call__(self, request: Request) -> Response:
        self.queries.append(dict(request.args))
        token = request.args.get("next_token")
        body = self.first if token is None else self.by_token[token]
        return Response(json.dumps(body), content_type="application/json")


def serve_pages(httpserver: HTTPServer, first: dict, by_token: dict | None = None) -> Pages:
    pages = Pages(first, by_token)
    httpserver.expect_request(SEARCH, headers={"Authorization": f"Bearer {TOKEN}"}
                              ).respond_with_handler(pages)
    return pages


def serve_own_pages(httpserver: HTTPServer) -> Pages:
    return serve_pages(httpserver, mine("search-recent-page1.json"),
                       {NEXT: mine("search-recent-page2.json")})


# -- the parser on real recorded bodies ---------------------------------------------------


def test_parse_real_search_with_metrics_replies_and_users():
    page = parse_page(real("v2-tweets-search-all.query_from_kfc.tweet-fields_expansions."
                           "2021-07-04.json"))
    assert [t.id for t in page.tweets] == ["1400942130898554891", "1400941880402223110",
                                           "1400940134208520194", "1400135988567973890"]
    first = page.tweets[0]
    assert (first.likes, first.reposts, first.quotes, first.replies) == (1238, 141, 17, 55)
    assert first.created_at == datetime(2021, 6, 4, 22, 26, 46, tzinfo=UTC)
    assert first.author_id == "15392391" and first.kind == ("post", None)
    assert page.tweets[3].kind == ("reply", "1399538256274882566")
    assert list(page.included) == ["1399538256274882566"]
    assert page.users["15392391"].username == "kfc"
    assert page.users["14457151"].name == "Matt Raub but Vaccinated"
    assert page.returned == 5 and page.skipped == 0 and page.next_token is None
    mention = mention_of(first, page.users, NOW)
    assert mention.permalink == "https://x.com/kfc/status/1400942130898554891"
    assert (mention.account.native_id, mention.account.handle) == ("15392391", "kfc")
    assert mention.paper_ids == [] and mention.observations[0].likes == 1238


def test_parse_real_retweets_point_at_their_included_originals():
    page = parse_page(real("v2-tweets-search-all.query_commtwitter.tweet-fields_expansions."
                           "2021-07-04.json"))
    by_id = {t.id: t for t in page.tweets}
    assert by_id["1400199391961620488"].retweet_of == "1391807748346683397"
    assert by_id["1399797349296197635"].retweet_of == "1399780280710221834"
    assert by_id["1399780280710221834"].retweet_of is None
    assert by_id["1399780280710221834"].urls == [  # expanded_url, then unwound_url
        "http://Natcom.org/DHS",
        "https://www.natcom.org/convention-events/nca-sponsored-events/nca-doctoral-honors-seminar"]
    original = page.included["1391807748346683397"]
    assert (original.likes, original.reposts, original.quotes) == (13, 6, 3)
    assert page.users["17880989"].username == "NatComm"
    window = Span(datetime(2021, 1, 1, tzinfo=UTC), datetime(2022, 1, 1, tzinfo=UTC))
    assert page_mentions(page, window, NOW, set()) == ([], 0)  # no paper named


def test_parse_real_docs_example_keeps_expanded_urls_never_tco():
    page = parse_page(real("v2-tweets-search-recent.entities-expansions.docs-example."
                           "sns-sdks.json"))
    first = page.tweets[0]
    assert first.id == "1276035977375477760"
    assert first.urls == [
        "https://twitter.com/happycamper/status/1276035977375477760/photo/1"]
    assert first.kind == ("reply", "1275653067283759104")
    assert page.users["63046977"].username == "happycamper"
    assert page.tweets[1].urls == []
    assert len(page.tweets) == 4 and len(page.included) == 3 and page.returned == 7


def test_parse_real_empty_result():
    page = parse_page(real("v2-tweets-search-all.empty-result_count-0.2021-07-04.json"))
    assert page.tweets == [] and page.returned == 0 and page.next_token is None


# -- the source against loopback with real bodies ----------------------------------------


def test_real_pages_are_followed_by_next_token(httpserver, clock):
    pages = serve_pages(
        httpserver, real("v2-tweets-search-recent-query_Tweepy.2022-10-07T2307Z.json"),
        {"b26v89c19zqg8o3fpzbn1e0frlukytxrp1o8pel01jb7h":
         real("v2-tweets-search-all.empty-result_count-0.2021-07-04.json")})
    source = make_source(httpserver, clock)
    assert list(source.mentions(WINDOW)) == []
    assert [q.get("next_token") for q in pages.queries] == [
        None, "b26v89c19zqg8o3fpzbn1e0frlukytxrp1o8pel01jb7h"]
    assert source.report.reads == 10 and source.report.requests == 2
    # asked without created_at, these posts cannot be placed in the window
    assert source.report.notes == ["X: skipped 10 malformed posts"]


def test_real_401_is_a_source_error_without_the_token(httpserver, clock):
    httpserver.expect_request(SEARCH).respond_with_data(
        real_text("v2-tweets-search-all.error-http401.2021-07-04.json"), status=401,
        content_type="application/problem+json")
    source = make_source(httpserver, clock)
    with pytest.raises(SourceError) as caught:
        list(source.mentions(WINDOW))
    message = str(caught.value)
    assert message == "X recent search: HTTP 401: Unauthorized: Unauthorized"
    assert TOKEN not in message and "\n" not in message
    assert source.report.requests == 1


def test_real_400_names_the_problem(httpserver, clock):
    httpserver.expect_request(SEARCH).respond_with_data(
        real_text("v2-tweets-search-all.error-http400.2021-07-04.json"), status=400)
    with pytest.raises(SourceError, match=r"^X recent search: HTTP 400: Invalid Request: One "
                       r"or more parameters .*\(Invalid 'start_time'"):
        list(make_source(httpserver, clock).mentions(WINDOW))


def test_403_problem_is_reported_with_title_and_detail(httpserver, clock):
    httpserver.expect_request(SEARCH).respond_with_json(
        {"title": "Forbidden", "detail": "Your client app is not configured with the "
         "appropriate oauth1 app permissions for this endpoint.", "type": "about:blank",
         "status": 403}, status=403)
    with pytest.raises(SourceError, match=r"HTTP 403: Forbidden: Your client app") as caught:
        list(make_source(httpserver, clock).mentions(WINDOW))
    assert TOKEN not in str(caught.value)


def test_real_lookup_refreshes_found_posts_and_reports_absent_ones_gone(httpserver, clock):
    seen = []
    # read here: a skip raised in the server's thread would stop the server for every test
    body = real_text("v2-tweets-lookup-ids_1293593516040269825_1293595870563381249.json")

    def lookup(request: Request) -> Response:
        seen.append(dict(request.args))
        return Response(body, content_type="application/json")

    httpserver.expect_request(LOOKUP).respond_with_handler(lookup)
    source = make_source(httpserver, clock)
    refreshed = source.refresh(["1293593516040269825", "1293595870563381249",
                                "1293593516040269825", "1500000000000000000"])
    assert seen[0]["ids"] == "1293593516040269825,1293595870563381249,1500000000000000000"
    assert seen[0]["expansions"] == "author_id"
    assert [m.native_id for m in refreshed.mentions] == ["1293593516040269825",
                                                        "1293595870563381249"]
    assert refreshed.mentions[0].text.startswith("It’s finally here!")
    assert refreshed.mentions[0].permalink == "https://x.com/i/web/status/1293593516040269825"
    assert refreshed.gone == ["1500000000000000000"]
    assert source.report.reads == 2 and source.report.requests == 1


# -- the source against loopback with documented-format fixtures -------------------------


def test_pages_by_next_token_give_each_paper_mention_once(httpserver, clock):
    pages = serve_own_pages(httpserver)
    source = make_source(httpserver, clock)
    assert isinstance(source, MentionSource)
    mentions = list(source.mentions(WINDOW))
    assert pages.queries[0] == {
        "query": Settings().x_query, "start_time": "2026-01-04T00:00:00Z",
        "end_time": "2026-01-05T00:00:00Z", "max_results": "100",
        "tweet.fields": "public_metrics,created_at,entities,referenced_tweets,author_id",
        "expansions": "author_id", "user.fields": "username,name,created_at"}
    assert pages.queries[1]["next_token"] == NEXT and len(pages.queries) == 2
    assert [m.native_id for m in mentions] == [T10, T9, ORIGINAL, T7, T5]
    assert [m.paper_ids for m in mentions] == [["2501.01234"], ["2501.05678"], ["2501.09999"],
                                               ["2412.11111"], ["2501.04444"]]
    assert [(m.kind, m.parent_native_id) for m in mentions] == [
        ("post", None), ("quote", T10), ("post", None), ("reply", ORIGINAL), ("post", None)]
    first = mentions[0]
    assert first.account.native_id == "101" and first.account.handle == "alice_ml"
    assert first.account.name == "Alice Liang" and first.account.source == "x"
    assert first.permalink == f"https://x.com/alice_ml/status/{T10}"
    assert first.created_at == datetime(2026, 1, 4, 20, tzinfo=UTC)
    observation = first.observations[0]
    assert (observation.likes, observation.reposts, observation.quotes, observation.replies,
            observation.observed_at) == (120, 30, 5, 8, NOW)
    original = mentions[2]  # read through carol's retweet, its own counts
    assert original.account.handle == "dave_nlp"
    assert (original.observations[0].likes, original.observations[0].reposts) == (310, 75)
    assert source.report.reads == 7 + 6 and source.report.requests == 2
    assert source.report.notes == ["X: skipped 1 malformed post"]
    assert list(source.mentions(WINDOW)) == []  # each post once a run


def test_quotes_are_mentions_with_their_parent():
    page = parse_page(mine("search-recent-page1.json"))
    mentions, _ = page_mentions(page, WINDOW, NOW, set())
    quote = next(m for m in mentions if m.native_id == T9)
    assert (quote.kind, quote.parent_native_id, quote.account.handle) == ("quote", T10, "bobk")
    assert quote.observations[0].quotes == 1 and quote.observations[0].likes == 40


def test_shortened_links_alone_name_no_paper_and_unwound_urls_do():
    page = parse_page(mine("search-recent-page2.json"))
    by_id = {t.id: t for t in page.tweets}
    assert by_id[T5].urls == ["https://bit.ly/3xYzAbC", "https://arxiv.org/html/2501.04444v1"]
    assert mention_of(by_id["2007800000000000002"], page.users, NOW).paper_ids == []
    assert page.skipped == 1


def test_window_start_older_than_7_days_is_clamped_and_noted(httpserver, clock):
    pages = serve_pages(httpserver, real("v2-tweets-search-all.empty-result_count-0."
                                         "2021-07-04.json"))
    source = make_source(httpserver, clock)
    window = Span(datetime(2025, 12, 20, tzinfo=UTC), NOW)
    assert list(source.mentions(window)) == []
    assert pages.queries[0]["start_time"] == "2025-12-29T12:01:00Z"
    assert pages.queries[0]["end_time"] == "2026-01-05T11:59:50Z"
    assert source.report.notes == [
        "X recent search covers only the last 7 days: before 2025-12-29T12:01:00Z not read"]


def test_window_entirely_older_than_7_days_makes_no_request(httpserver, clock):
    source = make_source(httpserver, clock)
    window = Span(datetime(2025, 12, 1, tzinfo=UTC), datetime(2025, 12, 20, tzinfo=UTC))
    assert list(source.mentions(window)) == []
    assert httpserver.log == [] and source.report.requests == 0
    assert source.report.notes == [
        "X recent search covers only the last 7 days: before 2025-12-29T12:01:00Z not read"]


def test_read_budget_stops_paging_and_says_when(httpserver, clock):
    pages = serve_own_pages(httpserver)
    source = make_source(httpserver, clock, x_read_budget=16)
    mentions = list(source.mentions(WINDOW))
    assert pages.queries[0]["max_results"] == "16" and len(pages.queries) == 1
    assert [m.native_id for m in mentions] == [T10, T9, ORIGINAL, T7]
    assert source.report.reads == 7
    assert source.report.notes == [
        "X read budget of 16 posts reached (7 read): the read stopped at "
        "2026-01-04T16:00:00Z, posts before it were not read"]


def test_second_page_asks_only_for_what_the_budget_leaves(httpserver, clock):
    pages = serve_own_pages(httpserver)
    source = make_source(httpserver, clock, x_read_budget=20)
    assert len(list(source.mentions(WINDOW))) == 5
    assert [q["max_results"] for q in pages.queries] == ["20", "13"]


def test_a_query_that_keeps_retweets_asks_for_their_originals_within_the_budget(
        httpserver, clock):
    # originals come back as reads too, so a page asks for half of what the budget leaves
    pages = serve_own_pages(httpserver)
    source = make_source(httpserver, clock, x_read_budget=60, x_query='url:"arxiv.org/abs"')
    list(source.mentions(WINDOW))
    assert pages.queries[0]["expansions"] == "author_id,referenced_tweets.id"
    assert pages.queries[0]["max_results"] == "30"


@pytest.mark.parametrize(("budget", "note"), [
    (0, "X read budget is 0: no request made, nothing read"),
    (9, "X read budget of 9 posts reached (0 read): the read stopped at 2026-01-05T00:00:00Z, "
        "posts before it were not read"),
])
def test_a_budget_below_one_page_makes_no_request(httpserver, clock, budget, note):
    source = make_source(httpserver, clock, x_read_budget=budget)
    assert list(source.mentions(WINDOW)) == []
    assert httpserver.log == [] and source.report.notes == [note]


@pytest.mark.parametrize("original_in_data", [True, False])
def test_a_hundred_retweets_make_one_mention_with_the_originals_counts(
        httpserver, clock, original_in_data):
    page = mine("search-recent-page2.json")
    original = page["includes"]["tweets"][0]
    template = page["data"][1]  # gina's retweet of the original
    retweets = [dict(template, id=str(2007800000000001000 + n), author_id=str(1000 + n))
                for n in range(100)]
    body = {"data": ([original] if original_in_data else []) + retweets,
            "includes": {"users": page["includes"]["users"], "tweets": [original]},
            "meta": {"result_count": len(retweets) + original_in_data}}
    serve_pages(httpserver, body)
    source = make_source(httpserver, clock)
    mentions = list(source.mentions(WINDOW))
    assert [m.native_id for m in mentions] == [ORIGINAL]
    counts = mentions[0].observations[0]
    assert (counts.likes, counts.reposts, counts.quotes, counts.replies) == (310, 75, 9, 12)
    assert mentions[0].account.handle == "dave_nlp"
    assert source.report.reads == len(retweets) + original_in_data + 1


def test_429_waits_until_the_rate_limit_reset(httpserver, clock):
    reset = int(NOW.timestamp()) + 899  # beyond the client's default 600 s longest wait
    httpserver.expect_ordered_request(SEARCH).respond_with_response(Response(
        '{"title":"Too Many Requests","detail":"Too Many Requests","type":"about:blank",'
        '"status":429}', status=429, headers={"x-rate-limit-reset": str(reset),
                                              "x-rate-limit-remaining": "0"}))
    httpserver.expect_ordered_request(SEARCH).respond_with_json(mine("search-recent-page2.json"))
    source = make_source(httpserver, clock)
    assert [m.native_id for m in source.mentions(WINDOW)] == [T5, ORIGINAL]
    assert clock.sleeps == [899.0 + 1.0]
    assert source.report.requests == 2


def test_5xx_then_success(httpserver, clock):
    httpserver.expect_ordered_request(SEARCH).respond_with_data("upstream down", status=503)
    httpserver.expect_ordered_request(SEARCH).respond_with_json(mine("search-recent-page2.json"))
    source = make_source(httpserver, clock)
    assert [m.native_id for m in source.mentions(WINDOW)] == [T5, ORIGINAL]
    assert len(clock.sleeps) == 1 and 5.0 <= clock.sleeps[0] <= 6.25
    assert source.report.requests == 2


def test_timeout_is_a_source_error(httpserver, clock):
    def slow(_request: Request) -> Response:
        time.sleep(0.25)
        return Response("{}", content_type="application/json")

    httpserver.expect_request(SEARCH).respond_with_handler(slow)
    source = make_source(httpserver, clock, http_timeout=0.1, http_retries=0)
    with pytest.raises(SourceError, match=r"^X recent search: timed out after 1 tries$"):
        list(source.mentions(WINDOW))


@pytest.mark.parametrize(("body", "content_type", "problem"), [
    ("<html><body>Over capacity</body></html>", "text/html",
     "X recent search: unexpected answer: not JSON (text/html)"),
    ("[1, 2]", "application/json", "X recent search: unexpected answer: not a JSON object"),
    ('{"data": {"id": "1"}, "meta": {}}', "application/json",
     "X recent search: unexpected answer: 'data' is not a list"),
    ('{"data": []}', "application/json",
     "X recent search: unexpected answer: no 'meta' object"),
])
def test_malformed_body_is_a_one_line_source_error(httpserver, clock, body, content_type,
                                                   problem):
    httpserver.expect_request(SEARCH).respond_with_data(body, content_type=content_type)
    with pytest.raises(SourceError) as caught:
        list(make_source(httpserver, clock).mentions(WINDOW))
    assert str(caught.value) == problem


def test_missing_token_names_the_variable(httpserver):
    with pytest.raises(MissingCredentials, match="HOTPAPERS_X_BEARER_TOKEN"):
        XSource(make_settings(httpserver), Secrets(x_bearer_token=None))


def test_refresh_reports_deleted_posts_gone_and_protected_ones_neither(httpserver, clock):
    httpserver.expect_request(LOOKUP, query_string={
        "ids": f"{T10},{ORIGINAL},{T7},2007900000000000099,2007900000000000098",
        "tweet.fields": "public_metrics,created_at,entities,author_id,referenced_tweets",
        "expansions": "author_id", "user.fields": "username,name"}
    ).respond_with_json(mine("tweets-lookup.json"))
    source = make_source(httpserver, clock)
    refreshed = source.refresh([T10, ORIGINAL, T7, "2007900000000000099",
                                "2007900000000000098"])
    assert [m.native_id for m in refreshed.mentions] == [T10, T7]
    fresh = refreshed.mentions[0]
    assert (fresh.observations[0].likes, fresh.observations[0].reposts) == (150, 41)
    assert fresh.observations[0].observed_at == NOW and fresh.paper_ids == ["2501.01234"]
    assert refreshed.mentions[1].kind == "reply"
    assert refreshed.gone == [ORIGINAL, "2007900000000000098"]
    assert source.report.notes == ["X: 1 post could not be read (not authorized)"]
    assert source.report.reads == 2


def test_refresh_asks_100_ids_at_most_and_respects_the_budget(httpserver, clock):
    asked = []

    def found_all(request: Request) -> Response:
        ids = request.args["ids"].split(",")
        asked.append(len(ids))
        body = {"data": [{"id": i, "text": "x", "created_at": "2026-01-04T00:00:00.000Z"}
                         for i in ids]}
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request(LOOKUP).respond_with_handler(found_all)
    source = make_source(httpserver, clock, x_read_budget=120)
    assert source.refresh([]) == Refreshed() and asked == []
    ids = [str(10**18 + n) for n in range(150)]
    refreshed = source.refresh(ids)
    assert asked == [100, 20]
    assert [m.native_id for m in refreshed.mentions] == ids[:120] and refreshed.gone == []
    assert source.report.notes == ["X read budget of 120 posts reached: 30 posts not refreshed"]


# -- oEmbed -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["publish.twitter.com-oembed-alleyco-1679189879086018562.json",
                                  "v1.1-statuses-oembed-266367358078169089.json"])
def test_oembed_returns_the_html_as_served(httpserver, clock, name):
    served = real_text(name)
    tweet_url = json.loads(served)["url"]
    httpserver.expect_request("/oembed", query_string={"url": tweet_url, "dnt": "true"}
                              ).respond_with_data(served, content_type="application/json")
    embeds = TweetEmbeds(make_settings(httpserver), clock=clock, transport=loopback())
    html = embeds.embed(tweet_url)
    assert html == json.loads(served)["html"]
    assert html.startswith('<blockquote class="twitter-tweet">')
    assert '<script async src="https://platform.twitter.com/widgets.js"' in html
    assert embeds.requests == 1


def test_oembed_of_a_deleted_tweet_is_none(httpserver, clock):
    httpserver.expect_request("/oembed").respond_with_data("", status=404)
    embeds = TweetEmbeds(make_settings(httpserver), clock=clock, transport=loopback())
    assert embeds.embed("https://twitter.com/someone/status/1") is None


def test_oembed_other_failures_are_source_errors(httpserver, clock):
    httpserver.expect_request("/oembed").respond_with_data("nope", status=400)
    embeds = TweetEmbeds(make_settings(httpserver), clock=clock, transport=loopback())
    with pytest.raises(SourceError, match=r"X oEmbed of https://x.com/a/status/1: HTTP 400"):
        embeds.embed("https://x.com/a/status/1")


# --- embeds built from search results -------------------------------------------------------

def test_a_local_embed_matches_what_oembed_serves_for_the_same_post():
    real = json.loads(shared_path("fixtures", "real", "twitter",
                                  "publish.twitter.com-oembed-alleyco-1679189879086018562.json"
                                  ).read_text(encoding="utf-8"))
    text = ("We’re a full-service digital agency with the foresight, perspective, and grit to "
            "power your brightest ideas and build solutions for your most evasive problems. "
            "Learn more about our services here:https://t.co/8zZ5zP1Oyc")
    built = local_embed(text, real["url"] + "?ref_src=twsrc%5Etfw",
                        datetime(2023, 7, 12, 15, tzinfo=UTC), real["author_name"], "alleyco")
    # oEmbed adds the post's language and one more blank line; the rest is the same markup
    assert built == real["html"].replace(' lang="en" dir="ltr"', "").removesuffix("\n")


def test_a_local_embed_escapes_once_and_keeps_line_breaks():
    html = local_embed("a &amp; b <i>\nnew line", "https://x.com/u/status/1", None, None, "u")
    assert html.startswith('<blockquote class="twitter-tweet"><p>a &amp; b &lt;i&gt;<br>new '
                           'line</p>&mdash; u (@u) <a href="https://x.com/u/status/1">')
