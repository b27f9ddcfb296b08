"""A published day keeps the week's and the month's hot and trending rankings as of its own
ranking: the static site's "this week" and "this month" pages read them from the store."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import feedparser
from sqlalchemy import delete, func, select

from hotpapers.config import Settings
from hotpapers.jobs.build_site import build_site
from hotpapers.jobs.post import make_post
from hotpapers.jobs.ranking import Method, Window, rank_papers
from hotpapers.store.listings import save_listing
from hotpapers.store.posts import load_ranking
from hotpapers.store.raw import open_raw
from hotpapers.store.schema import papers, rankings
from hotpapers.store.site_data import load_site_data
from test_ranking import AS_OF, DAY, week  # noqa: F401 (a fixture)

SETTINGS = Settings(x_oembed_url="", hot_min_score=0, trending_min_score=0)


def test_publishing_a_day_keeps_its_week_and_month(week):  # noqa: F811
    made = make_post(week, DAY, SETTINGS, AS_OF, keep=True)
    assert made.kept
    with week.connect() as conn:
        stored = {(w, m): load_ranking(conn, DAY, m, w)
                  for w in ("week", "month") for m in ("hot", "trending")}
        assert all(r is not None for r in stored.values())
        hot_week = stored["week", "hot"]
        assert hot_week.as_of == made.ranking.as_of
        listed = [r.paper_id for r in hot_week.rows]
        # the paper announced three days before is in the week, not in the day; the paper
        # of 40 days before is in neither, however much it is discussed now
        assert "2611.09001" in listed and "2610.01234" not in listed
        day = rank_papers(conn, DAY, Method.hot, Window.day, SETTINGS, made.ranking.as_of)
        assert "2611.09001" not in [r.paper_id for r in day.rows]
        again = rank_papers(conn, DAY, Method.hot, Window.week, SETTINGS, hot_week.as_of)
        assert [(r.paper_id, r.score) for r in again.rows] == \
            [(r.paper_id, r.score) for r in hot_week.rows]
        assert hot_week.settings["from"] == (DAY - timedelta(days=6)).isoformat()


def test_a_day_published_again_keeps_one_ranking_per_window(week):  # noqa: F811
    make_post(week, DAY, SETTINGS, AS_OF, keep=True)
    make_post(week, DAY, SETTINGS, AS_OF + timedelta(hours=5), keep=True)
    with week.connect() as conn:
        count = conn.execute(select(func.count()).select_from(rankings).where(
            rankings.c.window.in_(("week", "month")))).scalar()
    assert count == 4


def test_a_preview_keeps_nothing(week):  # noqa: F811
    make_post(week, DAY, SETTINGS, AS_OF)
    with week.connect() as conn:
        assert conn.execute(select(func.count()).select_from(rankings)).scalar() == 0


def test_a_published_day_without_them_gets_them_when_published_again(week, db_url):  # noqa: F811
    make_post(week, DAY, SETTINGS, AS_OF, keep=True)
    with week.begin() as conn:  # as a day imported from a post or a snapshot has none
        conn.execute(delete(rankings).where(rankings.c.window != "day"))
    make_post(week, DAY, SETTINGS, AS_OF + timedelta(days=2), keep=True)
    with week.connect() as conn:
        hot_week = load_ranking(conn, DAY, "hot", "week")
        classic = load_ranking(conn, DAY, "classic")
    assert hot_week is not None and hot_week.as_of == classic.as_of  # the day's own time


def test_the_site_reads_the_newest_windows(week, db_url):  # noqa: F811
    make_post(week, DAY, SETTINGS, AS_OF, keep=True)
    with week.connect() as conn:
        stored = [load_ranking(conn, DAY, m, w) for w in ("week", "month")
                  for m in ("hot", "trending")]
    with open_raw(db_url) as store:
        windows = load_site_data(store).windows
    assert [(w.window, w.method, w.day, w.as_of) for w in windows] == \
        [(r.window, r.method, r.day, r.as_of) for r in stored]
    for window, ranking in zip(windows, stored, strict=True):
        assert [(e.paper.id, e.score, e.parts) for e in window.entries] == \
            [(r.paper_id, r.score, r.parts) for r in ranking.rows]
        assert all(e.paper.title for e in window.entries)
    assert windows[0].start == DAY - timedelta(days=6)


def test_the_site_shows_this_week_and_this_month(week, db_url, tmp_path):  # noqa: F811
    with week.begin() as conn:  # a hostile title stays text
        conn.execute(papers.update().where(papers.c.id == "2611.10001")
                     .values(title="<script>alert(1)</script> & attention"))
    made = make_post(week, DAY, SETTINGS, AS_OF, keep=True)
    posted = {e.paper.id for e in made.post.entries}  # the papers with a page on the site
    with week.connect() as conn:
        hot = load_ranking(conn, DAY, "hot", "week")
        trending = load_ranking(conn, DAY, "trending", "week")
    with open_raw(db_url) as store:
        build_site(store, tmp_path / "site", workers=1)
    page = (tmp_path / "site" / "week" / "index.html").read_text()
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; &amp;" in page
    sections = re.findall(r'<section aria-labelledby="(\w+)-list">(.*?)</section>', page, re.S)
    listed = {name: re.findall(r'<li value="(\d+)">.*?<a href="([^"]+)">', body, re.S)
              for name, body in sections}
    assert [href.rsplit("/", 1)[-1] for _, href in listed["hot"]] == \
        [f"{r.paper_id}.html" if r.paper_id in posted else r.paper_id for r in hot.rows]
    same = [r.paper_id for r in trending.rows] == [r.paper_id for r in hot.rows]
    assert ("trending" in listed) == (not same)
    assert (tmp_path / "site" / "month" / "index.html").exists()


def test_no_window_pages_without_window_rankings(week, db_url, tmp_path):  # noqa: F811
    make_post(week, DAY, SETTINGS, AS_OF, keep=True)
    with week.begin() as conn:
        conn.execute(delete(rankings).where(rankings.c.window != "day"))
    with open_raw(db_url) as store:
        build_site(store, tmp_path / "site", workers=1)
    assert not (tmp_path / "site" / "week").exists()


def test_week_and_month_feeds_only_with_a_site_url(week, db_url, tmp_path):  # noqa: F811
    make_post(week, DAY, SETTINGS, AS_OF, keep=True)
    with week.connect() as conn:
        hot = load_ranking(conn, DAY, "hot", "week")
    with open_raw(db_url) as store:
        build_site(store, tmp_path / "bare", workers=1)
        build_site(store, tmp_path / "site", workers=1, site_url="https://papers.example.org/")
    assert not list((tmp_path / "bare" / "week").glob("*.xml"))
    feed = feedparser.parse((tmp_path / "site" / "week" / "atom.xml").read_bytes())
    assert not feed.bozo and len(feed.entries) == 1
    entry = feed.entries[0]
    assert entry.id == f"https://papers.example.org/week/#{DAY.isoformat()}"
    assert entry.link == "https://papers.example.org/week/"
    linked = re.findall(r'<a href="https://arxiv.org/abs/([^"]+)">', entry.content[0].value)
    assert linked == [r.paper_id for r in hot.rows]
    items = json.loads((tmp_path / "site" / "month" / "feed.json").read_text())["items"]
    assert [i["id"] for i in items] == [f"https://papers.example.org/month/#{DAY.isoformat()}"]
    page = (tmp_path / "site" / "week" / "index.html").read_text()
    assert 'href="/week/atom.xml"' in page


def test_an_older_day_published_later_keeps_no_windows(week):  # noqa: F811
    """The site shows the newest day's windows only: a backfill of an older day does not
    rank its month (as of a past time, the slow exact path) for nothing."""
    make_post(week, DAY, SETTINGS, AS_OF, keep=True)
    with week.begin() as conn:
        save_listing(conn, DAY - timedelta(days=3), [("2611.09001", "new")])
    make_post(week, DAY - timedelta(days=3), SETTINGS, AS_OF, keep=True)
    with week.connect() as conn:
        days = set(conn.execute(select(rankings.c.day).where(
            rankings.c.window != "day")).scalars())
    assert days == {DAY}
