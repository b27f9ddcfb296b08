"""Feeds of any view (/feed.atom, /feed.rss, /feed.json with the board's parameters),
parsed as a feed reader parses them: one entry per paper of the view, in its order, each
linked to the paper's page on the server."""

from __future__ import annotations

import json

import feedparser
import pytest

from hotpapers.config import Settings
from hotpapers.web.app import create_app
from web_support import NOW, SEED_ORDER, fresh_url, get, load_demo

VIEW = "date=2021-01-18&method=classic&category=cs.CV"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with fresh_url(tmp_path_factory.mktemp("web-feeds"), "feeds") as url:
        load_demo(url)
        made = create_app(url, Settings(), now=lambda: NOW)
        yield made
        made.state.reader.engine.dispose()


def _cs_cv(app) -> list[str]:
    return [p["id"] for p in get(app, f"/api/v1/rankings?{VIEW}").json()["papers"]]


def test_the_atom_and_rss_feeds_list_the_views_papers_in_order(app):
    wanted = _cs_cv(app)
    assert 0 < len(wanted) < len(SEED_ORDER) and wanted == [p for p in SEED_ORDER
                                                              if p in wanted]
    for kind, media in (("atom", "application/atom+xml"), ("rss", "application/rss+xml")):
        found = get(app, f"/feed.{kind}?{VIEW}")
        assert found.headers["content-type"] == media
        feed = feedparser.parse(found.content)
        assert not feed.bozo, kind
        assert [e.link for e in feed.entries] == [f"http://testserver/papers/{p}"
                                                  for p in wanted]
        assert "cs.CV" in feed.feed.title
        assert feed.entries[0].title == "Counterfactual Generative Networks"
    atom = feedparser.parse(get(app, f"/feed.atom?{VIEW}").content)
    assert any(link.rel == "self" and link.href == f"http://testserver/feed.atom?{VIEW}"
               for link in atom.feed.links)


def test_the_json_feed_and_its_limit(app):
    found = get(app, f"/feed.json?{VIEW}&limit=1")
    assert found.headers["content-type"] == "application/feed+json"
    feed = json.loads(found.content)
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["feed_url"] == f"http://testserver/feed.json?{VIEW}&limit=1"
    assert [item["id"] for item in feed["items"]] == [
        f"http://testserver/papers/{_cs_cv(app)[0]}"]
    assert "576 retweets" in feed["items"][0]["content_html"]


def test_the_board_links_the_feeds_of_its_view(app):
    page = get(app, "/2021-01-18?method=classic&category=cs.CV&cursor=cjE").text
    assert ('<link rel="alternate" type="application/atom+xml" title="This view (Atom)" '
            'href="/feed.atom?date=2021-01-18&amp;method=classic&amp;category=cs.CV">') in page


def test_a_feed_with_bad_or_hostile_parameters(app):
    assert get(app, "/feed.rss?window=year").json()["parameter"] == "window"
    found = get(app, "/feed.atom?keyword=%3C%2Ftitle%3E%3Cscript%3E&author=%00")
    assert found.status_code == 200 and not feedparser.parse(found.content).bozo
    assert "<script>" not in found.text


def test_a_forged_host_never_reaches_another_readers_feed(app):
    """Feeds link to the address asked for: one asked with a forged Host is made for that
    Host only, never served from the cache to a reader who asked the real one."""
    forged = get(app, f"/feed.atom?{VIEW}", Host="evil.example")
    assert b"http://evil.example/" in forged.content
    honest = get(app, f"/feed.atom?{VIEW}")
    assert b"evil.example" not in honest.content and b"http://testserver/" in honest.content



def test_a_feed_with_no_entries_is_updated_when_its_ranking_was_made(app):
    """A view that lists nothing (an unknown category) still has a ranking time: its feeds
    say that, not 1970."""
    view = "date=2021-01-18&method=classic&category=no.such"
    as_of = get(app, f"/api/v1/rankings?{view}").json()["as_of"]
    for kind in ("atom", "rss"):
        feed = feedparser.parse(get(app, f"/feed.{kind}?{view}").content)
        assert not feed.entries and not feed.bozo
        updated = feed.feed.get("updated_parsed") or feed.feed.get("published_parsed")
        assert updated is not None and updated.tm_year == int(as_of[:4]) != 1970, kind
        assert f"{updated.tm_year:04}-{updated.tm_mon:02}-{updated.tm_mday:02}" == as_of[:10]
