"""The Hacker News source: pure parsing of Algolia answers (one real recorded body, our own
fixtures in the documented format) and the source against a loopback HTTP server."""

from __future__ import annotations

import copy
import json
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from conftest import shared_path
from fakes import FakeClock
from hotpapers.config import Secrets, Settings
from hotpapers.errors import SourceError
from hotpapers.models import Account
from hotpapers.sources.base import MentionSource, Span
from hotpapers.sources.hn import (
    HackerNewsSource,
    count_comments,
    parse_hit,
    parse_item,
    parse_search_page,
    window_filter,
)

FIXTURES = Path(__file__).with_name("fixtures") / "hn"
DAY = Span(datetime(2026, 6, 12, tzinfo=UTC), datetime(2026, 6, 13, tzinfo=UTC))
SEEN_AT = datetime(2026, 6, 13, 1, tzinfo=UTC)


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def real_body() -> dict:
    path = shared_path("fixtures", "real", "hn-algolia",
                       "search-query_theoretical_biologist-tags_story-hitsPerPage_2.2024-09.json")
    return json.loads(path.read_text())


def source(server: HTTPServer, clock: FakeClock, **settings) -> HackerNewsSource:
    values = {"hn_api_url": server.url_for("/api/v1"), "source_interval": 0,
              "http_retries": 2, "http_timeout": 2.0, **settings}
    return HackerNewsSource(Settings(**values), Secrets(), clock=clock)


def serve_pages(server: HTTPServer, pages: dict[str, dict], seen: list[dict]) -> None:
    """Answer search_by_date with the page its `page` parameter asks for."""
    def answer(request: Request) -> Response:
        seen.append(dict(request.args))
        return Response(json.dumps(pages[request.args["page"]]),
                        content_type="application/json")

    server.expect_request("/api/v1/search_by_date").respond_with_handler(answer)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=SEEN_AT)


# --- the real recorded body ------------------------------------------------------------

def test_real_search_answer_parses_and_its_ask_hn_names_no_paper():
    body = real_body()
    page = parse_search_page(body)
    assert (page.nb_hits, page.nb_pages, page.page, page.hits_per_page) == (1, 1, 0, 2)
    [hit] = page.hits
    assert (hit["objectID"], hit["points"], hit["author"]) == ("13133437", 1, "anigbrowl")
    assert parse_hit(hit, SEEN_AT) is None  # an Ask HN about blog links: no paper


def test_real_hit_fields_become_a_mention_once_it_links_a_paper():
    hit = copy.deepcopy(real_body()["hits"][0])
    hit["url"] = "https://arxiv.org/abs/1612.01234"
    mention = parse_hit(hit, SEEN_AT)
    assert mention.native_id == "13133437"
    assert mention.paper_ids == ["1612.01234"]
    assert mention.permalink == "https://news.ycombinator.com/item?id=13133437"
    assert mention.account == Account("hn", "anigbrowl", "anigbrowl")
    assert mention.text == "Ask HN: How would I visualize URL propagation in the blogosphere?"
    assert mention.created_at == datetime(2016, 12, 8, 19, 39, 7, tzinfo=UTC)
    assert mention.kind == "story"
    [seen] = mention.observations
    assert (seen.points, seen.replies, seen.observed_at) == (1, 0, SEEN_AT)


# --- pure parsing of our fixtures ------------------------------------------------------

def test_story_urls_name_papers_in_every_form():
    hits = fixture("search_by_date.page0.json")["hits"] + fixture(
        "search_by_date.page1.json")["hits"][:3]
    found = {h["objectID"]: (m.paper_ids if (m := parse_hit(h, SEEN_AT)) else None)
             for h in hits}
    assert found == {
        "41000001": ["2606.01234"],  # abs, versioned
        "41000002": ["2605.04321"],  # pdf
        "41000003": None,  # a blog post that only says arxiv.org in its title
        "41000004": ["2604.09876"],  # Ask HN linking the paper in its text
        "41000009": ["2606.00001"],
        "41000005": ["2606.05555"],  # huggingface.co/papers
        "41000006": ["2606.06666"],  # alphaxiv.org
    }


def test_a_hit_without_an_id_is_malformed():
    with pytest.raises(ValueError):
        parse_hit(fixture("search_by_date.page1.json")["hits"][3], SEEN_AT)
    with pytest.raises(ValueError):
        parse_hit("41000001", SEEN_AT)


def test_window_filter_rounds_to_whole_seconds():
    assert window_filter(DAY) == "created_at_i>=1781222400,created_at_i<1781308800"
    half = Span(datetime(2026, 6, 12, 0, 0, 0, 500000, tzinfo=UTC),
                  datetime(2026, 6, 12, 0, 0, 10, 500000, tzinfo=UTC))
    assert window_filter(half) == "created_at_i>=1781222401,created_at_i<1781222411"


def test_comments_are_counted_at_every_depth_without_deleted_ones():
    item = fixture("items.41000001.json")
    assert count_comments(item["children"]) == 3  # ivan, alice's reply, judy; one deleted
    assert count_comments(None) == 0


# --- the source against a loopback server ----------------------------------------------

def test_two_pages_are_read_with_the_window_filter_and_each_story_once(httpserver, clock):
    seen: list[dict] = []
    serve_pages(httpserver, {"0": fixture("search_by_date.page0.json"),
                             "1": fixture("search_by_date.page1.json")}, seen)
    hn = source(httpserver, clock)
    mentions = list(hn.mentions(DAY))
    assert [s["page"] for s in seen] == ["0", "1"]
    for params in seen:
        assert params["query"] == "arxiv.org"
        assert params["tags"] == "story"
        assert params["hitsPerPage"] == "100"
        assert params["numericFilters"] == "created_at_i>=1781222400,created_at_i<1781308800"
    # 41000002 is on both pages; 41000003 names no paper; 41000009 is a second before the
    # window (a server that ignored the filter); the hit without an id is skipped.
    assert [m.native_id for m in mentions] == [
        "41000001", "41000002", "41000004", "41000005", "41000006"]
    first = mentions[0]
    assert first.account == Account("hn", "alice", "alice")
    assert first.created_at == datetime(2026, 6, 12, 22, 5, 30, tzinfo=UTC)
    assert first.text == "Scaling laws for sparse attention"
    assert (first.observations[0].points, first.observations[0].replies) == (312, 97)
    assert mentions[1].observations[0].points == 88  # as first seen, on page 0
    assert hn.report.requests == 2
    assert hn.report.notes == ["hn: skipped 1 malformed search hit"]


def test_the_source_has_the_shape_the_pipeline_expects(httpserver, clock):
    hn = source(httpserver, clock)
    assert isinstance(hn, MentionSource)
    assert hn.name == "hn"


def test_a_story_is_yielded_once_per_run(httpserver, clock):
    page = fixture("search_by_date.page0.json") | {"nbPages": 1}
    serve_pages(httpserver, {"0": page}, [])
    hn = source(httpserver, clock)
    assert len(list(hn.mentions(DAY))) == 3
    assert list(hn.mentions(DAY)) == []


def test_more_hits_than_algolia_pages_reach_are_noted(httpserver, clock):
    seen: list[dict] = []
    page = fixture("search_by_date.page0.json") | {"nbHits": 2345, "nbPages": 10,
                                                   "hitsPerPage": 100}
    serve_pages(httpserver, {str(n): page | {"page": n} for n in range(10)}, seen)
    hn = source(httpserver, clock)
    assert len(list(hn.mentions(DAY))) == 3
    assert [s["page"] for s in seen] == [str(n) for n in range(10)]
    assert hn.report.notes == [
        "hn: 2345 stories match but Algolia pages reach only 1000; the oldest of the "
        "window were not read (a shorter window avoids this)"]


def test_429_with_retry_after_is_waited_out(httpserver, clock):
    httpserver.expect_ordered_request("/api/v1/search_by_date").respond_with_response(
        Response("slow down", status=429, headers={"Retry-After": "7"}))
    httpserver.expect_ordered_request("/api/v1/search_by_date").respond_with_json(
        fixture("search_by_date.page0.json") | {"nbPages": 1})
    hn = source(httpserver, clock)
    assert len(list(hn.mentions(DAY))) == 3
    assert clock.sleeps == [7.0]
    assert hn.report.requests == 2


def test_a_server_error_is_retried_after_a_backoff(httpserver, clock):
    httpserver.expect_ordered_request("/api/v1/search_by_date").respond_with_data(
        "bad gateway", status=502)
    httpserver.expect_ordered_request("/api/v1/search_by_date").respond_with_json(
        fixture("search_by_date.page0.json") | {"nbPages": 1})
    hn = source(httpserver, clock)
    assert len(list(hn.mentions(DAY))) == 3
    [wait] = clock.sleeps
    assert 5.0 <= wait <= 6.25  # 5 s backoff with up to 25 % jitter


def test_a_timeout_fails_the_source(httpserver, clock):
    released = threading.Event()

    def slow(_request: Request) -> Response:
        released.wait(2.0)  # longer than the timeout; set when the test is done
        return Response("{}", content_type="application/json")

    httpserver.expect_request("/api/v1/search_by_date").respond_with_handler(slow)
    hn = source(httpserver, clock, http_timeout=0.1, http_retries=0)
    try:
        with pytest.raises(SourceError) as caught:
            list(hn.mentions(DAY))
    finally:
        released.set()
    assert str(caught.value) == "hn: search page 0: timed out after 1 tries"
    assert hn.report.requests == 1


@pytest.mark.parametrize(("body", "message"), [
    ({"hits": {"0": {}}, "nbPages": 1}, "hn: search answer: 'hits' is not a list"),
    ([], "hn: search answer is a JSON list, not an object"),
    ({"hits": [], "nbPages": "many"}, "hn: search answer: 'nbPages' is not a whole number"),
])
def test_a_malformed_answer_fails_in_one_line(httpserver, clock, body, message):
    httpserver.expect_request("/api/v1/search_by_date").respond_with_json(body)
    with pytest.raises(SourceError) as caught:
        list(source(httpserver, clock).mentions(DAY))
    assert str(caught.value) == message


def test_an_answer_that_is_not_json_fails_in_one_line(httpserver, clock):
    httpserver.expect_request("/api/v1/search_by_date").respond_with_data("<html>oops")
    with pytest.raises(SourceError) as caught:
        list(source(httpserver, clock).mentions(DAY))
    assert str(caught.value) == "hn: search page 0: the answer is not JSON"


def test_refresh_counts_points_and_comments_and_reports_404_gone(httpserver, clock):
    httpserver.expect_request("/api/v1/items/41000001").respond_with_json(
        fixture("items.41000001.json"))
    httpserver.expect_request("/api/v1/items/41000002").respond_with_json(
        {"error": "Not Found"}, status=404)
    hn = source(httpserver, clock)
    found = hn.refresh(["41000001", "41000002"])
    assert found.gone == ["41000002"]
    [mention] = found.mentions
    assert (mention.native_id, mention.paper_ids) == ("41000001", ["2606.01234"])
    assert mention.account == Account("hn", "alice", "alice")
    assert mention.created_at == datetime(2026, 6, 12, 22, 5, 30, tzinfo=UTC)
    [seen] = mention.observations
    assert (seen.points, seen.replies, seen.observed_at) == (350, 3, SEEN_AT)
    assert hn.report.requests == 2


def test_refresh_reports_a_deleted_story_gone(httpserver, clock):
    deleted = fixture("items.41000001.json") | {"author": None, "title": None, "url": None,
                                                "children": []}
    httpserver.expect_request("/api/v1/items/41000001").respond_with_json(deleted)
    assert parse_item(deleted, SEEN_AT) is None
    assert source(httpserver, clock).refresh(["41000001"]).gone == ["41000001"]
