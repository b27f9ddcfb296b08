"""The Mastodon source: status parsing on real recorded bodies, and hashtag timelines and
search served by a loopback HTTP server (paging, window, duplicates, failures)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from werkzeug import Response

from conftest import shared_path
from fakes import FakeClock
from hotpapers.config import Secrets, Settings
from hotpapers.errors import SourceError
from hotpapers.models import Account
from hotpapers.sources.base import MentionSource, Span
from hotpapers.sources.common import html_text_and_links
from hotpapers.sources.mastodon import MastodonSource, parse_status

FIXTURES = Path(__file__).with_name("fixtures") / "mastodon"
WINDOW = Span(datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 1, 6, tzinfo=UTC))
TAG = "/api/v1/timelines/tag/arxiv"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def real(name: str) -> dict | list:
    return json.loads(shared_path("fixtures", "real", "mastodon", name).read_text())


@pytest.fixture
def clock():
    return FakeClock()


def source(httpserver, clock, instances=("/one",), token=None, **settings) -> MastodonSource:
    values = dict(mastodon_instances=[httpserver.url_for(i) for i in instances],
                  mastodon_tags=["arxiv"], source_interval=0, http_retries=2) | settings
    return MastodonSource(Settings(**values), Secrets(mastodon_token=token), clock=clock)


# --- parsing the real recorded bodies -------------------------------------------------------

def test_a_real_status_with_a_card_keeps_uri_url_account_and_counts():
    body = real("api-v1-statuses-id.with-card.localhost-test-instance.json")
    mention = parse_status(body, datetime(2026, 8, 2, tzinfo=UTC))
    assert mention.native_id == ("http://localhost:3000/ap/users/117020565966271181/statuses/"
                                 "117020609135389699")
    assert mention.permalink == "http://localhost:3000/@mastodonpy_test/117020609135389699"
    assert mention.account == Account("mastodon", "http://localhost:3000/@mastodonpy_test",
                                      "mastodonpy_test", "John Lennon")
    assert mention.created_at == datetime(2026, 8, 1, 13, 59, 50, 763000, tzinfo=UTC)
    assert mention.text == "http://example.org/"  # the invisible "http://" span is kept
    assert mention.kind == "post"
    assert mention.paper_ids == []  # example.org, in the content and the card, is no paper
    [obs] = mention.observations
    assert (obs.likes, obs.reposts, obs.replies, obs.quotes) == (0, 0, 0, 0)
    assert html_text_and_links(body["content"])[1] == ["http://example.org/"]


def test_a_real_hashtag_timeline_status_is_read_as_plain_text():
    [status] = real("api-v1-timelines-tag-hoot.localhost-test-instance.json")
    mention = parse_status(status, datetime(2026, 8, 2, tzinfo=UTC))
    assert mention.native_id.endswith("/statuses/117020593741189701")
    assert mention.text == "#hoot (hashtag toot)"
    assert mention.account.handle == "mastodonpy_test_2"
    assert mention.account.name is None  # display_name is ""


def test_the_real_timeline_is_paged_by_the_last_status_id_until_an_empty_page(httpserver,
                                                                               clock):
    [status] = real("api-v1-timelines-tag-hoot.localhost-test-instance.json")
    httpserver.expect_ordered_request("/one/api/v1/timelines/tag/hoot",
                                      query_string="limit=40").respond_with_json([status])
    httpserver.expect_ordered_request(
        "/one/api/v1/timelines/tag/hoot",
        query_string="limit=40&max_id=117020593741189701").respond_with_json([])
    src = source(httpserver, clock, mastodon_tags=["hoot"])
    window = Span(datetime(2026, 8, 1, tzinfo=UTC), datetime(2026, 8, 2, tzinfo=UTC))
    assert list(src.mentions(window)) == []  # in the window, but names no paper
    httpserver.check_assertions()
    assert (src.report.requests, src.report.reads) == (2, 1)


def test_the_real_empty_search_ends_the_search(httpserver, clock):
    empty = real("api-v2-search-type_statuses.empty.localhost-test-instance.json")
    assert empty["statuses"] == []
    httpserver.expect_request("/one" + TAG).respond_with_json([])
    httpserver.expect_request("/one/api/v2/search").respond_with_json(empty)
    src = source(httpserver, clock, token="tok")
    assert list(src.mentions(WINDOW)) == []
    assert src.report.requests == 2


# --- timelines served over HTTP ----------------------------------------------------------------

def serve_one(httpserver, prefix="/one"):
    """Instance one: three pages of #arxiv, the next page named by Link, then by the last id."""
    httpserver.expect_ordered_request(prefix + TAG, query_string="limit=40").respond_with_data(
        fixture("tag-arxiv.one.page1.json"), content_type="application/json", headers={
            "Link": '<https://one.example/api/v1/timelines/tag/arxiv?max_id=115800000000000006>;'
                    ' rel="next", <https://one.example/api/v1/timelines/tag/arxiv?'
                    'min_id=115800000000000010>; rel="prev"'})
    httpserver.expect_ordered_request(
        prefix + TAG, query_string="limit=40&max_id=115800000000000006").respond_with_data(
        fixture("tag-arxiv.one.page2.json"), content_type="application/json")
    httpserver.expect_ordered_request(
        prefix + TAG, query_string="limit=40&max_id=115800000000000004").respond_with_data(
        fixture("tag-arxiv.one.page3.json"), content_type="application/json")


def test_timeline_pages_by_max_id_and_stops_at_a_page_older_than_the_window(httpserver, clock):
    serve_one(httpserver)
    src = source(httpserver, clock)
    mentions = list(src.mentions(WINDOW))
    httpserver.check_assertions()  # exactly the three pages, in order, and no fourth
    assert len(httpserver.log) == 3
    assert [m.paper_ids for m in mentions] == [
        ["2601.01234"], ["2512.04321"], ["2601.00077"], ["2601.05555"]]
    first, card_only, reblogged, reply = mentions
    assert first.native_id == "https://one.example/users/alice/statuses/115800000000000009"
    assert first.permalink == "https://one.example/@alice/115800000000000009"
    assert first.account == Account("mastodon", "https://one.example/@alice", "alice",
                                    "Alice Liddell")
    assert first.text == ("Sparse attention without the tears "
                          "https://arxiv.org/abs/2601.01234 #arxiv")
    assert first.created_at == datetime(2026, 1, 5, 11, tzinfo=UTC)
    [obs] = first.observations
    assert (obs.likes, obs.reposts, obs.replies, obs.quotes) == (12, 5, 2, 1)
    assert obs.observed_at == clock.now()
    assert card_only.text.startswith("Worth reading: a survey of retrieval models\nhttps://buff.ly")
    assert (reply.kind, reblogged.kind, first.kind) == ("reply", "post", "post")
    assert src.report.requests == 3
    assert src.report.reads == 5 + 2 + 1
    assert src.report.notes == []


def test_a_reblog_is_the_reblogged_status_once(httpserver, clock):
    serve_one(httpserver)
    mentions = {m.native_id: m for m in source(httpserver, clock).mentions(WINDOW)}
    reblogged = mentions["https://three.example/users/carol/statuses/115799000000000001"]
    assert not any(i.endswith("/activity") for i in mentions)  # the reblog wrapper is not one
    assert reblogged.permalink == "https://three.example/@carol/115799000000000001"
    assert reblogged.account == Account("mastodon", "https://three.example/@carol",
                                        "carol@three.example", "Carol")
    assert reblogged.created_at == datetime(2026, 1, 5, 8, tzinfo=UTC)
    assert reblogged.observations[0].likes == 40
    assert reblogged.observations[0].reposts == 9


def test_the_same_status_through_two_instances_is_one_mention(httpserver, clock):
    serve_one(httpserver)
    httpserver.expect_ordered_request("/two" + TAG, query_string="limit=40").respond_with_data(
        fixture("tag-arxiv.two.page1.json"), content_type="application/json")
    httpserver.expect_ordered_request(
        "/two" + TAG, query_string="limit=40&max_id=110900000000000098").respond_with_json([])
    mentions = list(source(httpserver, clock, instances=("/one", "/two")).mentions(WINDOW))
    httpserver.check_assertions()
    ids = [m.native_id for m in mentions]
    assert len(ids) == len(set(ids)) == 5
    assert ids.count("https://one.example/users/alice/statuses/115800000000000009") == 1
    assert mentions[-1].paper_ids == ["2601.02020"]  # arxiv.org/html, the link text cut short
    assert mentions[-1].account.native_id == "https://two.example/@erin"


def test_a_token_is_sent_as_bearer_and_enables_search_by_offset(httpserver, clock):
    auth = {"Authorization": "Bearer s3cret"}
    httpserver.expect_ordered_request("/one" + TAG, headers=auth).respond_with_json([])
    httpserver.expect_ordered_request(
        "/one/api/v2/search", headers=auth,
        query_string="q=arxiv.org&type=statuses&limit=40&offset=0").respond_with_data(
        fixture("search-arxiv.one.offset0.json"), content_type="application/json")
    httpserver.expect_ordered_request(
        "/one/api/v2/search", query_string="q=arxiv.org&type=statuses&limit=40&offset=40"
    ).respond_with_json({"accounts": [], "statuses": [], "hashtags": []})
    src = source(httpserver, clock, token="s3cret")
    mentions = list(src.mentions(WINDOW))
    httpserver.check_assertions()
    assert [m.paper_ids for m in mentions] == [["2601.06060"], ["2601.01234"]]
    assert "s3cret" not in repr(src.report)


def test_the_token_goes_only_to_the_first_instance_whose_token_it_is(httpserver, clock):
    httpserver.expect_request("/one" + TAG).respond_with_json([])
    httpserver.expect_request("/one/api/v2/search").respond_with_json({"statuses": []})
    httpserver.expect_request("/two" + TAG).respond_with_json([])
    list(source(httpserver, clock, instances=("/one", "/two"), token="s3cret").mentions(WINDOW))
    sent = {(r.path, r.headers.get("Authorization")) for r, _ in httpserver.log}
    assert sent == {("/one" + TAG, "Bearer s3cret"), ("/one/api/v2/search", "Bearer s3cret"),
                    ("/two" + TAG, None)}


def test_without_a_token_no_authorization_is_sent_and_search_is_not_used(httpserver, clock):
    httpserver.expect_request("/one" + TAG).respond_with_json([])
    list(source(httpserver, clock).mentions(WINDOW))
    [(request, _)] = httpserver.log
    assert "Authorization" not in request.headers


def test_refresh_asks_each_status_of_its_home_server(httpserver, clock):
    status = json.loads(fixture("tag-arxiv.one.page1.json"))[0]
    home = httpserver.url_for("/one")
    live, gone = f"{home}/users/alice/statuses/42", f"{home}/users/alice/statuses/43"
    httpserver.expect_request("/one/api/v1/statuses/42").respond_with_json(
        {**status, "uri": live, "favourites_count": 77, "reblogs_count": 5})
    httpserver.expect_request("/one/api/v1/statuses/43").respond_with_json(
        {"error": "Record not found"}, status=404)  # Mastodon's answer for a deleted status
    src = source(httpserver, clock)
    assert isinstance(src, MentionSource)
    found = src.refresh([live, gone, "https://pleroma.example/objects/5e1f"])
    assert found.gone == [gone]
    [mention] = found.mentions
    assert mention.native_id == live
    assert (mention.observations[0].likes, mention.observations[0].reposts) == (77, 5)
    assert src.report.requests == 2  # the URI of other server software is not asked


# --- failures ----------------------------------------------------------------------------------

def test_5xx_then_success(httpserver, clock):
    httpserver.expect_ordered_request("/one" + TAG).respond_with_data("oops", status=502)
    httpserver.expect_ordered_request("/one" + TAG).respond_with_data(
        fixture("tag-arxiv.one.page3.json"), content_type="application/json")
    src = source(httpserver, clock)
    assert list(src.mentions(WINDOW)) == []
    assert src.report.requests == 2
    [wait] = clock.sleeps
    assert 5.0 <= wait <= 6.25  # the first backoff, with up to 25 % jitter


def test_429_waits_as_told(httpserver, clock):
    httpserver.expect_ordered_request("/one" + TAG).respond_with_response(
        Response("slow down", status=429, headers={"Retry-After": "30"}))
    httpserver.expect_ordered_request("/one" + TAG).respond_with_json([])
    list(source(httpserver, clock).mentions(WINDOW))
    assert clock.sleeps == [30.0]


def test_a_timeout_is_a_source_error(httpserver, clock):
    def slow(request):
        time.sleep(0.2)
        return Response("[]", content_type="application/json")

    httpserver.expect_request("/one" + TAG).respond_with_handler(slow)
    src = source(httpserver, clock, http_timeout=0.05, http_retries=0)
    with pytest.raises(SourceError, match="timed out after 1 tries"):
        list(src.mentions(WINDOW))


@pytest.mark.parametrize("body", ['{"error": "not a list"}', "<html>maintenance</html>"])
def test_a_malformed_body_is_a_one_line_source_error(httpserver, clock, body):
    httpserver.expect_request("/one" + TAG).respond_with_data(body)
    with pytest.raises(SourceError) as caught:
        list(source(httpserver, clock).mentions(WINDOW))
    assert "\n" not in str(caught.value)
    assert str(caught.value).startswith(f"mastodon: {httpserver.url_for('/one')} #arxiv: ")


def test_a_bad_status_in_a_good_page_is_skipped_and_noted(httpserver, clock):
    page = json.loads(fixture("tag-arxiv.one.page3.json"))
    good = dict(page[0], created_at="2026-01-05T12:00:00Z")
    httpserver.expect_request("/one" + TAG, query_string="limit=40").respond_with_json(
        ["junk", {"id": "1", "content": "<p>https://arxiv.org/abs/2601.07777</p>"}, good])
    httpserver.expect_request("/one" + TAG, query_string="limit=40&max_id=115800000000000003"
                              ).respond_with_json([])
    src = source(httpserver, clock)
    assert [m.paper_ids for m in src.mentions(WINDOW)] == [["2601.03030"]]
    assert src.report.notes == ["mastodon: skipped 2 malformed statuses"]


def test_html_text_and_links_keeps_paragraphs_and_breaks():
    text, links = html_text_and_links(
        '<p>one <a href="https://arxiv.org/abs/2601.01234"><span class="invisible">https://'
        '</span><span class="ellipsis">arxiv.org/abs/2601.0</span><span class="invisible">1234'
        '</span></a></p><p>two<br>three &amp; four</p>')
    assert text == "one https://arxiv.org/abs/2601.01234\n\ntwo\nthree & four"
    assert links == ["https://arxiv.org/abs/2601.01234"]


# --- refresh: where a status's counts are asked, and what a 404 means (issue 13, point 2) ---

REAL_STATUS = "api-v1-statuses-id.with-card.localhost-test-instance.json"
REAL_ID = "117020609135389699"


def real_status_at(httpserver) -> tuple[str, dict]:
    """The real recorded status (URI `.../ap/users/ID/statuses/ID`), moved to the loopback
    server's origin, and its URI there."""
    origin = httpserver.url_for("").rstrip("/")
    text = shared_path("fixtures", "real", "mastodon", REAL_STATUS).read_text()
    status = json.loads(text.replace("http://localhost:3000", origin))
    assert status["uri"] == f"{origin}/ap/users/117020565966271181/statuses/{REAL_ID}"
    return status["uri"], status


def test_p2_an_ap_status_uri_is_refreshed_at_the_instance_api_not_under_its_path(httpserver,
                                                                                  clock):
    uri, status = real_status_at(httpserver)
    httpserver.expect_request(f"/ap/api/v1/statuses/{REAL_ID}").respond_with_json(
        {"error": "Not found"}, status=404)  # where the URI's path would lead
    httpserver.expect_request(f"/api/v1/statuses/{REAL_ID}").respond_with_json(
        {**status, "favourites_count": 8, "reblogs_count": 3})
    found = source(httpserver, clock, instances=("",)).refresh([uri])
    assert found.gone == []
    [mention] = found.mentions
    assert mention.native_id == uri
    assert (mention.observations[0].likes, mention.observations[0].reposts) == (8, 3)
    assert [r.path for r, _ in httpserver.log] == [f"/api/v1/statuses/{REAL_ID}"]


def test_p2_a_404_from_a_url_not_the_statuss_own_api_url_is_no_deletion(httpserver, clock):
    uri, _ = real_status_at(httpserver)
    httpserver.expect_request(f"/api/v1/statuses/{REAL_ID}").respond_with_json(
        {"error": "Record not found"}, status=404)
    # the same server reached under another origin: an instance that is not configured
    elsewhere = uri.replace("://localhost:", "://127.0.0.1:")
    assert elsewhere != uri
    src = source(httpserver, clock, instances=("",))
    assert src.refresh([elsewhere]).gone == []  # not the configured instance: not judged
    assert src.refresh([uri]).gone == [uri]  # its own instance's API says not found


def test_p2_a_404_page_that_is_not_the_apis_answer_is_no_deletion(httpserver, clock):
    uri, _ = real_status_at(httpserver)
    httpserver.expect_request(f"/api/v1/statuses/{REAL_ID}").respond_with_data(
        "<html><h1>404 Not Found</h1>nginx</html>", status=404, content_type="text/html")
    found = source(httpserver, clock, instances=("",)).refresh([uri])
    assert (found.gone, found.mentions) == ([], [])


def test_p2_an_answer_about_another_status_is_not_taken(httpserver, clock):
    uri, status = real_status_at(httpserver)
    httpserver.expect_request(f"/api/v1/statuses/{REAL_ID}").respond_with_json(
        {**status, "id": "5", "uri": f"{httpserver.url_for('')}users/x/statuses/5"})
    src = source(httpserver, clock, instances=("",))
    found = src.refresh([uri])
    assert (found.gone, found.mentions) == ([], [])
    assert any("another status" in note for note in src.report.notes)
