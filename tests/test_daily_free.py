"""`daily` with no credentials at all and the default settings (hot): X and Bluesky search
are skipped with one line each, Hacker News, Hugging Face, Mastodon and Reddit's public feed
(loopback servers in their documented formats) make a non-empty hot digest."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from werkzeug import Request, Response

from conftest import FIXTURES
from fakes import FakeClock
from hotpapers.config import Secrets, Settings
from hotpapers.jobs.daily import run_daily
from hotpapers.store.posts import load_post, load_ranking
from hotpapers.store.runs import recorded_run
from test_daily import NOW, TUESDAY, hn_story, serve_arxiv

HOT = "2403.00001"  # discussed on four free sources
ALSO = "2403.00002"  # on Hacker News only


def hf_day() -> list[dict]:
    """Hugging Face's daily papers of the day: one entry, HOT, in the API's shape."""
    entry = json.loads((FIXTURES / "hf" / "daily_papers.2026-06-12.json").read_text())[0]
    entry["paper"] = entry["paper"] | {"id": HOT, "upvotes": 12,
                                       "submittedOnDailyAt": "2024-03-05T06:00:00.000Z"}
    entry["publishedAt"] = "2024-03-05T06:00:00.000Z"
    return [entry]


def mastodon_status() -> dict:
    """A public status of the #arxiv timeline linking HOT, in Mastodon's shape."""
    page = json.loads((FIXTURES / "mastodon" / "tag-arxiv.one.page1.json").read_text())
    status = dict(page[0])
    status.update(id="112000000000000001", created_at="2024-03-05T05:00:00.000Z",
                  uri="https://one.example/users/bob/statuses/112000000000000001",
                  url="https://one.example/@bob/112000000000000001", favourites_count=7,
                  reblogs_count=2,
                  content=f'<p>Worth a read: <a href="https://arxiv.org/abs/{HOT}">'
                          f"arxiv.org/abs/{HOT}</a></p>")
    return status


REDDIT_FEED = f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>newest submissions : MachineLearning</title>
<entry><author><name>/u/carol_ml</name><uri>https://www.reddit.com/user/carol_ml</uri></author>
<content type="html">&lt;a href=&quot;https://arxiv.org/abs/{HOT}&quot;&gt;[link]&lt;/a&gt;</content>
<id>t3_1b7aaa1</id><link href="https://www.reddit.com/r/MachineLearning/comments/1b7aaa1/r_hot/"/>
<updated>2024-03-05T06:30:00+00:00</updated><published>2024-03-05T06:30:00+00:00</published>
<title>[R] A hot paper</title></entry></feed>"""


@pytest.fixture
def free_sources(httpserver):
    """arXiv, and the four sources that need no credentials; nothing else answers."""
    serve_arxiv(httpserver)
    stories = [hn_story("1", HOT, 120, NOW.replace(hour=3)),
               hn_story("2", ALSO, 40, NOW.replace(hour=4))]
    httpserver.expect_request("/hn/search_by_date").respond_with_json(
        {"hits": stories, "nbHits": 2, "nbPages": 1, "page": 0, "hitsPerPage": 100})
    httpserver.expect_request("/hf/daily_papers").respond_with_json(hf_day())

    def timeline(request: Request) -> Response:
        statuses = [] if "max_id" in request.args else [mastodon_status()]
        return Response(json.dumps(statuses), content_type="application/json")

    httpserver.expect_request("/one/api/v1/timelines/tag/arxiv").respond_with_handler(timeline)
    httpserver.expect_request("/reddit/r/MachineLearning/new/.rss").respond_with_data(
        REDDIT_FEED, content_type="application/atom+xml")
    return httpserver


@pytest.fixture
def empty_environment(monkeypatch):
    for name in Secrets.model_fields:
        monkeypatch.delenv(f"HOTPAPERS_{name.upper()}", raising=False)
    return Secrets()


def test_no_credentials_still_make_a_hot_digest(engine, free_sources, empty_environment,
                                                tmp_path):
    server = free_sources
    settings = Settings(  # the defaults, but for where the services are and no pacing
        arxiv_api_url=server.url_for("/api/query"), arxiv_rss_url=server.url_for("/rss"),
        hn_api_url=server.url_for("/hn"), hf_api_url=server.url_for("/hf"),
        mastodon_instances=[server.url_for("/one")], reddit_feed_url=server.url_for("/reddit"),
        x_api_url=server.url_for("/x"), bsky_api_url=server.url_for("/bsky"),
        bsky_public_url=server.url_for("/bsky-public"), x_oembed_url="",
        source_interval=0, http_retries=0, posts_dir=str(tmp_path / "posts"))
    assert settings.daily_method == "hot"
    assert settings.mention_sources == ["x", "bluesky", "hn", "hf", "mastodon", "reddit"]
    with recorded_run(engine, "daily", lambda: NOW) as run:
        result = run_daily(engine, settings, empty_environment, lambda: NOW, run,
                           http_clock=FakeClock(NOW - timedelta(minutes=10)))  # read, then ranked
    assert result.failures == [] and result.targets_failed == []  # the CLI exits 0
    by_source = {line.split(":")[0]: line for line in result.mentions}
    assert by_source["x"].startswith("x: skipped: ")
    assert "HOTPAPERS_X_BEARER_TOKEN" in by_source["x"]
    assert "HOTPAPERS_BSKY_APP_PASSWORD" in by_source["bluesky"]
    for name in ("hn", "hf", "mastodon", "reddit"):
        assert re.match(rf"{name}: [1-9]\d* mentions", by_source[name]), by_source[name]
    assert {entry.path for entry, _ in server.log} <= {
        "/rss/cs+stat.ML", "/api/query", "/hn/search_by_date", "/hf/daily_papers",
        "/one/api/v1/timelines/tag/arxiv", "/reddit/r/MachineLearning/new/.rss"}
    assert result.listed >= 1
    text = result.post.read_text(encoding="utf-8")
    first = text.split("\n# 1. ")[1].split("\n# 2. ")[0]
    assert f"(https://arxiv.org/abs/{HOT})" in first
    assert re.search(r"^- hot score [\d.]+: 4 people on 4 sources", first, re.M)
    for label, counts in (("Hacker News", " (3 replies, 120 points)"),
                          ("Hugging Face", " (3 replies, 12 upvotes)"),
                          ("Mastodon", " (7 likes, 2 reposts)"), ("Reddit", "")):  # feed: none
        assert re.search(rf"^- {label}: 1 person, 1 post{re.escape(counts)}$", first, re.M)
        assert re.search(rf"^> .*on {label}, 2024-03-05$", first, re.M)  # a card of its mention
    with engine.connect() as conn:  # published: the hot ranking and post, and the classic
        assert load_ranking(conn, TUESDAY, "hot").rows[0].paper_id == HOT
        assert load_post(conn, TUESDAY, "hot") is not None
        assert load_post(conn, TUESDAY, "lumen") is not None
