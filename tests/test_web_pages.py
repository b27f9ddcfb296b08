"""The HTML side of `hotpapers serve` over the demo store, in-process: the board and its
query in the URL, the paper page with its explain panel, security headers on every answer,
hostile strings in every parameter (no 5xx, nothing unescaped), 404 pages, the access
log, and an unexpected error that shows no traceback."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from fastapi import Response
from sqlalchemy import text

from hotpapers.config import Settings
from hotpapers.store.db import connect
from hotpapers.web.app import create_app
from web_support import NOW, SEED_ORDER, fresh_url, get, load_demo, paper_links, request

HOSTILE = ["<script>alert(1)</script>", "\"'><img src=x onerror=alert(1)>",
           "../../../etc/passwd", "' OR 1=1 --", "\u202e\u0000evil", "%00%ff",
           "{{ 7*7 }}", "x" * 3000, "2021-01-18<script>", "-1", "☃" * 50]
PARAMETERS = ["date", "method", "window", "category", "keyword", "author", "primary_only",
              "cursor", "limit"]


@pytest.fixture(scope="module")
def store_url(tmp_path_factory):
    with fresh_url(tmp_path_factory.mktemp("web-pages"), "pages") as url:
        load_demo(url)
        yield url


@pytest.fixture(scope="module")
def log():
    return []


@pytest.fixture(scope="module")
def app(store_url, log):
    made = create_app(store_url, Settings(), now=lambda: NOW, access=log.append)
    yield made
    made.state.reader.engine.dispose()


def test_the_seed_day_board_shows_the_post_in_its_order(app):
    found = get(app, "/2021-01-18?method=classic")
    assert found.status_code == 200
    assert paper_links(found.text) == SEED_ORDER
    assert "X: 576 retweets, 138 favorites" in found.text
    assert '<option value="classic" selected>' in found.text


def test_the_archive_and_categories_list_the_stored_days_and_fields(app):
    days = get(app, "/api/v1/days").json()["days"]
    archive = get(app, "/archive/")
    assert archive.status_code == 200
    for day in days:
        papers = f"{day['papers']} paper{'' if day['papers'] == 1 else 's'}"
        assert f'<a href="/{day["day"]}">Hot Papers {day["day"]}</a> ({papers})' in archive.text
    categories = get(app, "/categories/")
    assert categories.status_code == 200 and 'href="/?category=cs.LG"' in categories.text


def test_the_board_defaults_to_the_newest_day_and_the_daily_method(app):
    found = get(app, "/")
    assert "<h1>Hot Papers 2026-01-05" in found.text and "ranked by hot" in found.text
    assert paper_links(found.text) == [p["id"] for p in get(
        app, "/api/v1/rankings?limit=200").json()["papers"]]


def test_the_query_is_in_the_url_filters_and_pages(app):
    narrowed = get(app, "/2021-01-18?method=classic&category=cs.CV&category=cs.LG"
                        "&primary_only=true")
    assert paper_links(narrowed.text) == [p for p in SEED_ORDER if p in paper_links(
        narrowed.text)]
    assert 'value="cs.CV cs.LG"' in narrowed.text and "primary_only" in narrowed.text
    page = get(app, "/2021-01-18?method=classic&limit=3")
    assert paper_links(page.text) == SEED_ORDER[:3]
    more = re.search(r'<a rel="next" href="([^"]+)">', page.text).group(1).replace("&amp;", "&")
    assert paper_links(get(app, more).text) == SEED_ORDER[3:6]
    week = get(app, "/week/?method=hot")
    assert "week from 2025-12-30" in week.text


@pytest.mark.parametrize("window", ["week", "month"])
def test_the_feeds_of_the_week_and_the_month_follow_that_window(app, window):
    """/week/ and /month/ set their window by their path: their feeds rank the same window,
    not the day the query alone would give."""
    board = get(app, f"/{window}/?method=hot&window=day")
    links = re.findall(r'href="(/feed\.(?:atom|rss|json)[^"]*)"', board.text)
    assert len(set(links)) == 3
    for link in links:
        assert f"window={window}" in link and "window=day" not in link, link
    feed = get(app, links[0].replace("&amp;", "&"))
    assert feed.status_code == 200
    assert feed.text == get(app, f"/feed.atom?window={window}&method=hot").text


def test_the_paper_page_explains_in_words_and_charts(app):
    classic = get(app, "/papers/2101.05913?method=classic")
    assert "Ranked #2 of 8 papers by classic for the day 2021-01-18" in classic.text
    assert "132 retweets and 53 favorites" in classic.text
    top = get(app, "/api/v1/rankings?method=hot").json()["papers"][0]
    hot = get(app, f"/papers/{top['id']}")
    assert "Ranked #1 of" in hot.text and "The hot score adds up what each source gives" \
        in hot.text
    assert '<table class="attention">' in hot.text and "Mentions (" in hot.text
    assert "<script" not in hot.text


def test_pages_not_there_are_404_pages(app):
    for url in ("/papers/2101.99999", "/papers/not%20an%20id", "/nothing", "/2021-02-30",
                "/1999-01-04"):
        found = get(app, url)
        assert found.status_code == 404, url
        assert found.headers["content-type"].startswith("text/html")
        assert "Page not found" in found.text


def test_every_answer_has_the_security_headers_and_no_cookie(app):
    for url in ("/", "/api/v1/days", "/nothing", "/api/v1/rankings?method=x",
                "/static/style.css", "/healthz"):
        found = get(app, url)
        assert found.headers["content-security-policy"].startswith("default-src 'self'")
        assert found.headers["x-content-type-options"] == "nosniff"
        assert found.headers["referrer-policy"] == "no-referrer"
        assert "set-cookie" not in found.headers
    board = get(app, "/").text
    assert "<script" not in board and "style=" not in board
    assert get(app, "/static/style.css").headers["content-type"].startswith("text/css")
    assert get(app, "/static/../../config.py").status_code == 404


def test_head_answers_as_get_without_the_body(app):
    """Monitors and link checkers ask with HEAD: the same status and headers as GET."""
    for url in ("/", "/api/v1/days", "/papers/2101.06046", "/nothing"):
        got, head = get(app, url), request(app, "HEAD", url)
        assert head.status_code == got.status_code and head.content == b""
        assert head.headers["content-type"] == got.headers["content-type"]
        assert head.headers.get("etag") == got.headers.get("etag")


def test_a_cookie_never_leaves_the_server(store_url):
    app = create_app(store_url, Settings(), now=lambda: NOW)
    app.add_api_route("/x/cookie", lambda: Response(b"", headers={"set-cookie": "a=b"}))
    found = get(app, "/x/cookie")
    assert found.status_code == 200 and "set-cookie" not in found.headers
    app.state.reader.engine.dispose()


def test_cors_lets_any_origin_get(app):
    found = get(app, "/api/v1/days", Origin="https://example.org")
    assert found.headers["access-control-allow-origin"] == "*"
    assert "etag" in found.headers["access-control-expose-headers"].lower()
    preflight = request(app, "OPTIONS", "/api/v1/days", {
        "Origin": "https://example.org", "Access-Control-Request-Method": "GET"})
    assert preflight.status_code == 200
    refused = request(app, "OPTIONS", "/api/v1/days", {
        "Origin": "https://example.org", "Access-Control-Request-Method": "DELETE"})
    assert refused.status_code == 400


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_strings_in_every_parameter_and_path(app, value):
    quoted = quote(value, safe="")
    urls = [f"{base}?{name}={quoted}" for name in PARAMETERS
            for base in ("/", "/2021-01-18", "/api/v1/rankings", "/feed.atom", "/feed.json")]
    urls += [f"/papers/{quoted}", f"/{quoted}", f"/api/v1/papers/{quoted}",
             f"/api/v1/explain/{quoted}", f"/papers/2101.06046?method={quoted}",
             f"/api/v1/explain/2101.06046?date={quoted}"]
    for url in urls:
        found = get(app, url)
        assert found.status_code < 500, url
        assert found.status_code in (200, 404, 422), url
        assert "Traceback" not in found.text, url
        kind = found.headers["content-type"]
        if kind.startswith(("text/html", "application/atom")):  # JSON may echo it
            assert "<script>alert" not in found.text and "<img src=x" not in found.text, url
        else:
            assert kind in ("application/json", "application/feed+json"), url


def test_the_access_log_is_in_the_combined_log_format(app, log):
    get(app, "/api/v1/days?x=%22q%22", **{"User-Agent": 'agent "007"', "Referer": "r"})
    line = log[-1]
    assert re.fullmatch(r'127\.0\.0\.1 - - \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000\] '
                        r'"GET /api/v1/days\?x=%22q%22 HTTP/1\.1" 200 \d+ "r" '
                        r'"agent \\"007\\""', line), line


def test_an_unexpected_error_is_a_plain_500_without_traceback(tmp_path):
    with fresh_url(tmp_path, "broken") as url:
        load_demo(url)
        app = create_app(url, Settings(), now=lambda: NOW)
        writer = connect(url)
        with writer.begin() as conn:  # the store loses a table under the server
            conn.execute(text("DROP TABLE paper_authors"))
        writer.dispose()
        for path in ("/api/v1/papers/2101.06046", "/papers/2101.06046"):
            found = get(app, path)
            assert found.status_code == 500
            assert found.json() == {
                "error": "internal error: the server failed to answer this request"}
            assert found.headers["x-content-type-options"] == "nosniff"
        app.state.reader.engine.dispose()


def test_a_paper_page_shows_its_most_engaged_mentions_and_links_to_all(store_url,
                                                                       monkeypatch):
    from hotpapers.web import board

    monkeypatch.setattr(board, "MENTIONS_SHOWN", 2)
    app = create_app(store_url, Settings(), now=lambda: NOW)
    top = get(app, "/api/v1/rankings?method=hot").json()["papers"][0]["id"]
    every = get(app, f"/api/v1/papers/{top}/mentions").json()["mentions"]
    assert len(every) > 2
    best = sorted(every, key=lambda m: -sum(m["counts"].values()))[:2]
    page = get(app, f"/papers/{top}").text
    assert page.count('<figure class="mention') == 2
    shown = re.findall(r'<a href="([^"]+)" rel="nofollow noopener">View on', page)
    assert shown == [m["url"] for m in best]
    assert f"the 2 most engaged of its {len(every)} mentions" in page
    assert f'href="/api/v1/papers/{top}/mentions"' in page
    app.state.reader.engine.dispose()


def test_a_cleared_day_field_is_the_default_day(app):
    """The board's and the paper page's forms send `date=` when their Day field is
    cleared: that is the default day, not an error."""
    board = get(app, "/?date=&method=classic")
    assert board.status_code == 200
    assert paper_links(board.text) == paper_links(get(app, "/?method=classic").text) != []
    paper = get(app, "/papers/2101.05913?date=&method=classic")
    assert "Ranked #2 of 8 papers by classic for the day 2021-01-18" in paper.text
    api = get(app, "/api/v1/rankings?date=&method=classic")
    assert api.json() == get(app, "/api/v1/rankings?method=classic").json()
