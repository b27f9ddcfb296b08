"""The polite client against a real HTTP server on loopback, with a fake clock."""

from __future__ import annotations

import itertools
import time

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from fakes import FakeClock
from hotpapers.errors import SourceError
from hotpapers.http import PoliteClient, user_agent


@pytest.fixture
def clock():
    return FakeClock()


def polite(clock, follow: bool = False, **kwargs) -> PoliteClient:
    client = httpx.Client(timeout=2.0, headers={"User-Agent": user_agent("ops@example.org")},
                          follow_redirects=follow)
    return PoliteClient(client, clock=clock, jitter=lambda: 0.0, **kwargs)


def test_requests_are_spaced_by_the_minimum_interval(httpserver, clock):
    httpserver.expect_request("/q").respond_with_data("ok")
    client = polite(clock, min_interval=3.0)
    starts = []
    for _ in range(3):
        client.get(httpserver.url_for("/q"))
        starts.append(clock.monotonic())
        clock.t += 0.5  # parsing takes half a second
    assert [b - a for a, b in itertools.pairwise(starts)] == [3.0, 3.0]
    assert clock.sleeps == [2.5, 2.5]


def test_user_agent_names_the_tool_and_the_contact(httpserver, clock):
    httpserver.expect_request("/q", headers={
        "User-Agent": "hotpapers/0.1.0 (mailto:ops@example.org)"}).respond_with_data("ok")
    assert polite(clock).get(httpserver.url_for("/q")).text == "ok"


def test_503_with_retry_after_seconds_is_retried_after_that_wait(httpserver, clock):
    httpserver.expect_ordered_request("/q").respond_with_response(
        Response("busy", status=503, headers={"Retry-After": "17"}))
    httpserver.expect_ordered_request("/q").respond_with_data("fine")
    client = polite(clock, min_interval=3.0)
    assert client.get(httpserver.url_for("/q")).text == "fine"
    assert clock.sleeps == [17.0]
    assert client.requests == 2


def test_retry_after_as_an_http_date(httpserver, clock):
    httpserver.expect_ordered_request("/q").respond_with_response(
        Response("busy", status=503, headers={"Retry-After": "Mon, 05 Jan 2026 12:01:00 GMT"}))
    httpserver.expect_ordered_request("/q").respond_with_data("fine")
    polite(clock).get(httpserver.url_for("/q"))
    assert clock.sleeps == [60.0]


def test_backoff_doubles_and_then_gives_up_naming_the_request(httpserver, clock):
    httpserver.expect_request("/q").respond_with_data("down", status=502)
    client = polite(clock, retries=3, backoff=5.0)
    with pytest.raises(SourceError) as caught:
        client.get(httpserver.url_for("/q"), what="arXiv API query X")
    assert str(caught.value) == "arXiv API query X: HTTP 502 after 4 tries"
    assert clock.sleeps == [5.0, 10.0, 20.0]


def test_client_errors_are_not_retried(httpserver, clock):
    httpserver.expect_request("/q").respond_with_data("no such thing\nmore", status=404)
    client = polite(clock)
    with pytest.raises(SourceError, match=r"HTTP 404: no such thing$"):
        client.get(httpserver.url_for("/q"))
    assert client.requests == 1
    assert client.get(httpserver.url_for("/q"), accept=[404]).status_code == 404


@pytest.fixture
def threaded_server():
    server = HTTPServer(threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


def test_timeouts_are_retried(threaded_server, clock):
    calls = []

    def first_slow(_request):
        calls.append(1)
        if len(calls) == 1:
            time.sleep(0.5)
            return Response("late")
        return Response("quick")

    threaded_server.expect_request("/q").respond_with_handler(first_slow)
    client = PoliteClient(httpx.Client(timeout=0.2), clock=clock, jitter=lambda: 0.0,
                          backoff=1.0)
    assert client.get(threaded_server.url_for("/q")).text == "quick"
    assert clock.sleeps == [1.0]
    assert len(calls) == 2


def test_one_real_spacing_of_two_requests(httpserver):
    """The only real-time test: two requests 0.5 s apart, measured at the server (which may
    see the first one a little late: 50 ms of arrival jitter are tolerated)."""
    arrivals = []

    def note(_request):
        arrivals.append(time.monotonic())
        return Response("ok")

    httpserver.expect_request("/q").respond_with_handler(note)
    client = PoliteClient(httpx.Client(timeout=2.0), min_interval=0.5)
    client.get(httpserver.url_for("/q"))
    client.get(httpserver.url_for("/q"))
    assert arrivals[1] - arrivals[0] >= 0.45


def test_a_retry_after_beyond_the_longest_wait_fails_at_once(httpserver, clock):
    httpserver.expect_request("/q").respond_with_response(
        Response("busy", status=503, headers={"Retry-After": "3600"}))
    client = polite(clock, max_wait=600)
    with pytest.raises(SourceError, match="asks to wait 3600 s, more than 600 s"):
        client.get(httpserver.url_for("/q"))
    assert clock.sleeps == [] and client.requests == 1


def test_retry_after_with_a_minus_zero_zone_is_utc(httpserver, clock):
    httpserver.expect_ordered_request("/q").respond_with_response(
        Response("busy", status=503, headers={"Retry-After": "Mon, 05 Jan 2026 12:00:30 -0000"}))
    httpserver.expect_ordered_request("/q").respond_with_data("fine")
    polite(clock).get(httpserver.url_for("/q"))
    assert clock.sleeps == [30.0]


@pytest.mark.parametrize("headers, wait", [
    ({"x-rate-limit-reset": "1767614700"}, 301.0),  # X: epoch seconds (12:05 UTC) + 1 s
    ({"ratelimit-reset": "1767614430"}, 31.0),  # Bluesky: epoch seconds (12:00:30) + 1 s
    ({"x-ratelimit-reset": "42"}, 43.0),  # Reddit: seconds left + 1 s
    ({"x-ratelimit-reset": "2026-01-05T12:05:00.000000Z"}, 301.0),  # Mastodon: ISO 8601
    ({"x-ratelimit-reset": "1767614460"}, 61.0),  # Mastodon-compatible: epoch seconds
])
def test_429_waits_for_the_rate_limit_reset(httpserver, clock, headers, wait):
    assert clock.now().timestamp() == 1767614400  # 2026-01-05 12:00 UTC
    httpserver.expect_ordered_request("/q").respond_with_response(
        Response("slow down", status=429, headers=headers))
    httpserver.expect_ordered_request("/q").respond_with_data("fine")
    assert polite(clock, max_wait=900).get(httpserver.url_for("/q")).text == "fine"
    assert clock.sleeps == [wait]


def test_a_reset_header_on_a_5xx_is_not_a_rate_limit(httpserver, clock):
    httpserver.expect_ordered_request("/q").respond_with_response(
        Response("down", status=503, headers={"x-rate-limit-reset": "1767618000"}))
    httpserver.expect_ordered_request("/q").respond_with_data("fine")
    polite(clock, backoff=5.0).get(httpserver.url_for("/q"))
    assert clock.sleeps == [5.0]


def test_request_posts_a_body_with_the_same_retries(httpserver, clock):
    httpserver.expect_ordered_request("/token", method="POST").respond_with_data("", status=502)
    httpserver.expect_ordered_request("/token", method="POST",
                                      json={"identifier": "me"}).respond_with_json({"ok": 1})
    response = polite(clock).request("POST", httpserver.url_for("/token"),
                                     json={"identifier": "me"})
    assert response.json() == {"ok": 1}
    assert polite(clock).requests == 0 and len(clock.sleeps) == 1


def test_a_post_is_not_sent_on_to_where_a_redirect_points(clock):
    """A 307 or 308 would repeat a POST, body and all (a sign-in's password), to whatever
    host the server names: the POST stops there, as a refusal; a GET still follows."""
    with HTTPServer() as first, HTTPServer() as elsewhere:
        elsewhere.expect_request("/login").respond_with_data("got it")
        elsewhere.expect_request("/page").respond_with_data("the page")
        for status in (307, 308):
            first.expect_request("/login", method="POST").respond_with_response(Response(
                "", status=status, headers={"Location": elsewhere.url_for("/login")}))
            with pytest.raises(SourceError, match=f"HTTP {status}"):
                polite(clock, follow=True).request(
                    "POST", first.url_for("/login"), json={"password": "SECRET-123"})
            first.clear()
        assert not [r for r in elsewhere.log if r[0].method == "POST"]
        first.expect_request("/page").respond_with_response(Response(
            "", status=302, headers={"Location": elsewhere.url_for("/page")}))
        assert polite(clock, follow=True).get(first.url_for("/page")).text == "the page"


def test_stacked_content_encodings_are_not_inflated(httpserver, clock):
    """Each layer of `gzip, gzip` multiplies what a few bytes inflate to: refused unread."""
    import gzip

    packed = gzip.compress(gzip.compress(b"0" * 100_000))
    httpserver.expect_request("/bomb").respond_with_response(Response(
        packed, headers={"Content-Encoding": "gzip, gzip"}))
    with pytest.raises(SourceError, match="more than one content encoding"):
        polite(clock).get(httpserver.url_for("/bomb"))


def test_a_redirect_to_a_file_fails_at_once(httpserver, clock):
    httpserver.expect_request("/q").respond_with_response(Response(
        "", status=302, headers={"Location": "file:///etc/passwd"}))
    with pytest.raises(SourceError):
        polite(clock, follow=True).get(httpserver.url_for("/q"))
    assert clock.sleeps == []  # not taken for a network failure worth retrying


def test_a_reset_header_that_is_not_a_number_of_seconds_is_ignored(httpserver, clock):
    httpserver.expect_ordered_request("/q").respond_with_response(
        Response("slow down", status=429, headers={"x-ratelimit-reset": "nan"}))
    httpserver.expect_ordered_request("/q").respond_with_data("fine")
    assert polite(clock, backoff=5.0).get(httpserver.url_for("/q")).text == "fine"
    assert clock.sleeps == [5.0]  # the backoff, not a wait of nan
