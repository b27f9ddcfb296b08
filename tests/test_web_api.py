"""The JSON API of `hotpapers serve` over the demo store, in-process: the seed day in its
post's order, cursor pages, ETag and 304, 422 naming the parameter, 404s, the ranking
cache keyed by the store's change stamp, OpenAPI 3.1."""

from __future__ import annotations

import pytest

from hotpapers.config import Settings
from hotpapers.jobs.browse import Cache
from hotpapers.store.db import connect
from hotpapers.store.stamps import bump
from hotpapers.web.app import create_app
from web_support import NOW, SEED_ORDER, fresh_url, get, load_demo, request

SEED = "/api/v1/rankings?date=2021-01-18&method=classic&window=day"


@pytest.fixture(scope="module")
def store_url(tmp_path_factory):
    with fresh_url(tmp_path_factory.mktemp("web-api"), "api") as url:
        load_demo(url)
        yield url


@pytest.fixture(scope="module")
def app(store_url):
    made = create_app(store_url, Settings(), now=lambda: NOW)
    yield made
    made.state.reader.engine.dispose()


def test_the_seed_day_lists_the_seed_posts_papers_in_its_order(app):
    found = get(app, SEED)
    assert found.status_code == 200
    body = found.json()
    assert [p["id"] for p in body["papers"]] == SEED_ORDER
    assert [p["rank"] for p in body["papers"]] == list(range(1, 9))
    assert body["papers"][0]["parts"] == {"likes": 138, "reposts": 576, "day": "2021-01-18"}
    assert body["total"] == 8 and body["next_cursor"] is None


def test_cursor_pages_walk_the_whole_ranking_once(app):
    seen, url = [], SEED + "&limit=3"
    for _ in range(5):
        body = get(app, url).json()
        seen += [p["id"] for p in body["papers"]]
        if body["next_cursor"] is None:
            break
        url = f"{SEED}&limit=3&cursor={body['next_cursor']}"
    assert seen == SEED_ORDER
    assert [p["rank"] for p in get(app, url).json()["papers"]] == [7, 8]



def test_a_page_after_the_ranking_changed_starts_after_the_paper_the_last_one_ended_with(
        tmp_path):
    """New attention moves a paper from page 2 to the top between two requests: the next
    page starts after the anchor (the paper page 1 ended with), so it repeats no paper
    page 1 showed, where an offset would show page 1's last paper again."""
    from dataclasses import replace
    from datetime import date

    from hotpapers.store.posts import load_ranking, save_ranking

    with fresh_url(tmp_path, "moving") as url:
        load_demo(url)
        made = create_app(url, Settings(), now=lambda: NOW)
        try:
            first = get(made, SEED + "&limit=3").json()
            assert [p["id"] for p in first["papers"]] == SEED_ORDER[:3]
            engine = connect(url)
            with engine.begin() as conn:  # the day ranked again: the fifth paper first
                ranking = load_ranking(conn, date(2021, 1, 18), "classic")
                rows = ranking.rows
                moved = replace(rows[4], score=rows[0].score + 1000,
                                parts={**rows[4].parts, "likes": rows[4].parts["likes"] + 1000})
                ranking.rows = [moved, *rows[:4], *rows[5:]]
                save_ranking(conn, ranking, NOW)
            engine.dispose()
            assert get(made, SEED).json()["papers"][0]["id"] == SEED_ORDER[4]
            second = get(made, f"{SEED}&limit=3&cursor={first['next_cursor']}").json()
            assert [p["id"] for p in second["papers"]] == SEED_ORDER[3:4] + SEED_ORDER[5:7]
            assert [p["rank"] for p in second["papers"]] == [5, 6, 7]  # ranks of now
        finally:
            made.state.reader.engine.dispose()



def test_an_anchor_that_moved_more_than_a_page_is_not_followed():
    """Where the anchor moved far (its attention gone, or a jump to the top), following it
    would skip or repeat whole pages: the page starts at the row number instead."""
    from hotpapers.web.params import Page

    ids = [f"p{i}" for i in range(20)]
    assert Page(5, 5, "p3").start_in(ids) == 4  # moved up one: after it
    assert Page(5, 5, "p9").start_in(ids) == 10  # moved down a page: after it
    assert Page(5, 5, "p15").start_in(ids) == 5  # fell two pages: the row number
    assert Page(10, 5, "p0").start_in(ids) == 10  # jumped to the top: the row number
    assert Page(5, 5, "gone").start_in(ids) == 5

def test_a_cursor_not_made_here_is_a_422_naming_it(app):
    import base64

    for text in ("r3~<script>", "r3~" + "9" * 41, "r-1", "x3", "r3~"):
        cursor = base64.urlsafe_b64encode(text.encode()).decode()
        found = get(app, f"{SEED}&cursor={cursor}")
        assert found.status_code == 422, text
        assert "cursor" in found.text

def test_defaults_are_the_newest_day_and_the_daily_method(app):
    body = get(app, "/api/v1/rankings").json()
    assert (body["day"], body["method"], body["window"]) == ("2026-01-05", "hot", "day")
    assert body["papers"] and all("sources" in p["parts"] for p in body["papers"])


def test_filters_narrow_the_list_and_never_move_a_score(app):
    everything = {p["id"]: p["score"] for p in get(app, SEED).json()["papers"]}
    narrowed = get(app, SEED + "&category=cs.CV&keyword=%20Counterfactual").json()
    assert narrowed["filters"] == {"categories": ["cs.CV"], "keywords": ["Counterfactual"]}
    assert [p["id"] for p in narrowed["papers"]] == ["2101.06046"]
    assert narrowed["papers"][0]["score"] == everything["2101.06046"]
    assert get(app, SEED + "&author=nobody-at-all").json()["papers"] == []


def test_the_etag_gives_a_304_and_a_changed_tag_the_body(app):
    first = get(app, SEED)
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "public, max-age=60"
    again = get(app, SEED, **{"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    assert get(app, SEED, **{"If-None-Match": '"other"'}).status_code == 200
    assert get(app, SEED + "&limit=2").headers["etag"] != etag


def test_if_none_match_on_several_lines_is_one_list(app):
    """Repeated If-None-Match lines count as one list (RFC 9110), whether the answer is
    made or taken from the cache, whichever line names the tag."""
    etag = get(app, SEED + "&probe=warm").headers["etag"]
    for url in (SEED + "&probe=cold", SEED + "&probe=warm"):
        for lines in ([etag, '"zzz"'], ['"zzz"', etag]):
            found = request(app, "GET", url, [("If-None-Match", line) for line in lines])
            assert found.status_code == 304, (url, lines)


def test_a_method_not_allowed_says_which_are(app):
    found = request(app, "POST", "/api/v1/days")
    assert found.status_code == 405
    assert "GET" in found.headers["allow"] and found.json()["error"]


@pytest.mark.parametrize(("query", "parameter"), [
    ("method=best", "method"), ("window=year", "window"), ("date=2021-13-45", "date"),
    ("date=yesterday", "date"), ("date=1610928000", "date"),
    ("date=2021-01-18T00:00:00%2B05:00", "date"), ("limit=0", "limit"), ("limit=1000", "limit"),
    ("limit=ten", "limit"), ("cursor=not-a-cursor", "cursor"),
    ("cursor=cjE5OTk5OTk5OTk5OTk5", "cursor"),
    ("primary_only=perhaps", "primary_only"), ("category=" + "c" * 300, "category"),
    ("author=a&" * 21 + "x=1", "author"),
])
def test_a_bad_parameter_is_a_422_naming_it(app, query, parameter):
    found = get(app, f"/api/v1/rankings?{query}")
    assert found.status_code == 422
    body = found.json()
    assert body["parameter"] == parameter
    assert body["error"].startswith(f"{parameter}: ")
    assert "Traceback" not in found.text


@pytest.mark.parametrize("url", [
    "/api/v1/papers/2101.99999", "/api/v1/papers/not-an-id",
    "/api/v1/papers/2101.99999/mentions",
    "/api/v1/papers/2101.99999/attention", "/api/v1/explain/2101.99999", "/api/v1/nothing",
    "/api/v1/rankings?date=1999-01-04",
    # a week or a month ending near year 1 reaches before any date there is
    "/api/v1/rankings?window=month&date=0001-01-01", "/api/v1/rankings?window=week&date=0001-01-06",
    "/api/v1/rankings?window=month&method=classic&date=0001-01-30",
    "/api/v1/explain/2101.05913?window=month&date=0001-01-01",
])
def test_unknown_things_are_404_in_json(app, url):
    found = get(app, url)
    assert found.status_code == 404
    assert found.headers["content-type"] == "application/json"
    assert found.json()["error"]


@pytest.mark.parametrize("url", ["/feed.rss?window=month&date=0001-01-01",
                                 "/papers/2101.05913?window=month&date=0001-01-01",
                                 "/?window=week&method=trending&date=0001-01-02"])
def test_pages_and_feeds_of_a_window_near_year_one_are_404(app, url):
    found = get(app, url)
    assert found.status_code == 404, found.text
    assert "internal error" not in found.text


def test_a_paper_its_mentions_attention_and_days(app):
    paper = get(app, "/api/v1/papers/2101.06046v2").json()
    assert paper["id"] == "2101.06046" and paper["title"] == "Counterfactual Generative Networks"
    assert paper["days"] == ["2021-01-18"]
    mentions = get(app, "/api/v1/papers/2101.06046/mentions").json()["mentions"]
    assert [m["source"] for m in mentions] == ["x"]
    assert mentions[0]["url"].startswith("https://twitter.com/")
    attention = get(app, "/api/v1/papers/2101.06046/attention").json()["sources"]
    assert attention[0]["counts"] == {"likes": 138, "reposts": 576}
    assert attention[0]["series"] == [["2021-01-19T08:57:46Z", 714]]


def test_days_and_explain(app):
    assert get(app, "/api/v1/days").json() == {"days": [
        {"day": "2026-01-05", "papers": 45}, {"day": "2021-01-18", "papers": 8}]}
    found = get(app, "/api/v1/explain/2101.05913?method=classic").json()
    assert (found["rank"], found["of"], found["score"]) == (2, 8, 185)
    top = get(app, "/api/v1/rankings?method=hot").json()["papers"][0]
    hot = get(app, f"/api/v1/explain/{top['id']}?method=hot").json()
    assert hot["rank"] == 1 and hot["score"] == top["score"]
    assert hot["parts"] == top["parts"]


def test_openapi_is_3_1_and_no_docs_page_loads_from_a_cdn(app):
    spec = get(app, "/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    assert {"/api/v1/rankings", "/api/v1/days", "/api/v1/papers/{paper_id}",
            "/api/v1/explain/{paper_id}"} <= set(spec["paths"])
    names = {p["name"] for p in spec["paths"]["/api/v1/rankings"]["get"]["parameters"]}
    assert names == {"date", "method", "window", "category", "keyword", "author",
                     "primary_only", "cursor", "limit"}
    assert get(app, "/docs").status_code == 404 and get(app, "/redoc").status_code == 404


def test_healthz(app):
    found = get(app, "/healthz")
    assert found.status_code == 200 and found.json()["status"] == "ok"
    assert found.headers["cache-control"] == "no-store"


def test_repeated_requests_rank_nothing_until_the_store_changes(store_url):
    cache = Cache()
    app = create_app(store_url, Settings(), now=lambda: NOW, cache=cache)
    query = "/api/v1/rankings?method=trending&window=week"
    first = get(app, query).json()
    assert cache.made == 1
    for url in (query, query + "&limit=5", "/week/?method=trending"):  # same ranking
        assert get(app, url).status_code == 200
    assert cache.made == 1
    writer = connect(store_url)
    with writer.begin() as conn:
        bump(conn, everything=True)
    writer.dispose()
    assert get(app, query).json()["papers"] == first["papers"]
    assert cache.made == 2
    app.state.reader.engine.dispose()


def test_a_cached_ranking_is_made_again_after_its_time():
    now = [0.0]
    cache = Cache(size=2, seconds=10, clock=lambda: now[0])
    cache.put("a", 1)
    now[0] = 5
    assert cache.get("a") == 1
    now[0] = 16
    assert cache.get("a") is None
    for key in "bcd":
        cache.put(key, key)
    assert cache.get("b") is None and cache.get("d") == "d"
