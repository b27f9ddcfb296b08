"""The site's feeds and sitemap only with `site_url` (absolute URLs, else none and one
warning), and the category pages: at most 50 papers a page, numbered across pages, linked
by rel=prev/next. Built from plain data (`build_from`), as `jobs/build_site.py` does."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from hotpapers.models import Paper, Post, PostEntry, SiteData
from hotpapers.site.build import build_from

SITE = "https://example.org/hp"
ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
FEED_FILES = ("rss.xml", "atom.xml", "feed.json")
HOSTILE = '<script>alert(1)</script> "><img src=x onerror=alert(1)> \u202eevil'


def site_data(per_day: list[int], category: str = "cs.LG") -> SiteData:
    """Days (newest first) with `per_day[i]` papers each, all in `category`; the second
    paper of a day is also in math.OC."""
    posts = []
    for i, count in enumerate(per_day):
        day = date(2024, 5, 20) - timedelta(days=i)
        moment = datetime(day.year, day.month, day.day, 9, tzinfo=UTC) + timedelta(days=1)
        entries = [PostEntry(
            paper=Paper(id=f"2405.{i:02d}{n:03d}", title=f"Paper {i}-{n}: {HOSTILE}",
                        authors=[f"Author {n}", HOSTILE],
                        categories=[category, "math.OC"] if n == 2 else [category],
                        abstract=f"About day {i}, paper {n}."),
            reposts=100 - n, likes=2 * (100 - n), written_at=moment)
            for n in range(1, count + 1)]
        posts.append(Post(day=day, generated_at=moment, entries=entries))
    return SiteData(posts=posts)


class Tags(HTMLParser):
    """Every start tag and its attributes."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def all(self, tag: str, **wanted: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag
                and all(a.get(k.replace("_", "-")) == v for k, v in wanted.items())]


def numbers(page: Path) -> list[int]:
    """The numbers of the papers listed on a category page, in order."""
    return [int(a["value"]) for a in Tags(page.read_text()).all("li") if "value" in a]


def files(out: Path) -> set[str]:
    return {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}


# -- feeds and sitemap ------------------------------------------------------------------------

def test_without_site_url_no_feed_no_sitemap_no_link_to_them_and_one_warning(tmp_path):
    out = tmp_path / "site"
    summary = build_from(site_data([3, 2]), out)
    made = files(out)
    assert not [f for f in made if f.endswith((".xml", "feed.json"))], made
    assert "index.html" in made and "categories/cs.LG/index.html" in made
    assert "Sitemap" not in (out / "robots.txt").read_text()
    site_url_warnings = [w for w in summary.warnings if "site_url" in w]
    assert len(site_url_warnings) == 1 and "\n" not in site_url_warnings[0]
    assert site_url_warnings[0].startswith("site_url is not set")
    pages = sorted(out.rglob("*.html"))
    for page in pages:
        text = page.read_text()
        tags = Tags(text)
        assert tags.all("link", rel="alternate") == [], page
        hrefs = [a.get("href") or "" for _, a in tags.tags]
        assert not [h for h in hrefs if h.endswith((".xml", "feed.json"))], page
        assert "JSON Feed" not in text and ">RSS<" not in text, page


def test_with_site_url_every_feed_and_sitemap_url_is_absolute(tmp_path):
    out = tmp_path / "site"
    summary = build_from(site_data([3, 2]), out, site_url=SITE + "/")
    assert not [w for w in summary.warnings if "site_url" in w]
    for folder in ("", "categories/cs.LG/", "categories/math.OC/"):
        atom = ET.parse(out / folder / "atom.xml").getroot()
        ids = [atom.find(f"{ATOM}id").text, *(e.text for e in atom.iter(f"{ATOM}id"))]
        links = [link.get("href") for link in atom.iter(f"{ATOM}link")]
        for url in ids + links:
            assert url.startswith(SITE + "/"), (folder, url)
        feed = json.loads((out / folder / "feed.json").read_text())
        assert feed["home_page_url"].startswith(SITE + "/")
        assert feed["feed_url"] == f"{SITE}/{folder}feed.json"
        assert all(item["id"].startswith(SITE + "/") and item["url"].startswith(SITE + "/")
                   for item in feed["items"])
        rss = ET.parse(out / folder / "rss.xml").getroot()
        assert all(link.text.startswith(SITE + "/") for link in rss.iter("link"))
    locs = [loc.text for loc in ET.parse(out / "sitemap.xml").getroot().iter(f"{SITEMAP}loc")]
    assert f"{SITE}/" in locs and f"{SITE}/2024-05-20/" in locs
    assert all(loc.startswith(SITE + "/") for loc in locs)
    home = Tags((out / "index.html").read_text())
    assert [a["href"] for a in home.all("link", rel="alternate")] == [
        "/hp/rss.xml", "/hp/atom.xml", "/hp/feed.json"]
    category = Tags((out / "categories" / "cs.LG" / "index.html").read_text())
    assert [a["href"] for a in category.all("link", rel="alternate")] == [
        f"/hp/categories/cs.LG/{name}" for name in FEED_FILES]
    assert f"Sitemap: {SITE}/sitemap.xml" in (out / "robots.txt").read_text()


def test_a_rebuild_that_gains_or_loses_site_url_makes_or_removes_feeds_and_sitemap(tmp_path):
    out, data = tmp_path / "site", site_data([2, 2])
    feeds = {"sitemap.xml", *FEED_FILES, *(f"categories/{c}/{name}" for c in ("cs.LG", "math.OC")
                                           for name in FEED_FILES)}
    build_from(data, out)
    assert not feeds & files(out)
    gained = build_from(data, out, site_url=SITE)
    assert feeds <= files(out) and feeds <= set(gained.written)
    assert 'rel="alternate"' in (out / "index.html").read_text()
    lost = build_from(data, out)
    assert feeds <= set(lost.removed) and not feeds & files(out)
    assert 'rel="alternate"' not in (out / "index.html").read_text()
    assert not (out / "categories" / "math.OC" / "rss.xml").exists()
    assert (out / "categories" / "math.OC" / "index.html").is_file()


# -- category pages ---------------------------------------------------------------------------

def test_a_category_of_120_papers_has_3_pages_numbered_on_from_page_to_page(tmp_path):
    out = tmp_path / "site"
    build_from(site_data([45, 45, 30]), out, site_url=SITE)  # 120 papers in cs.LG
    folder = out / "categories" / "cs.LG"
    pages = [folder / "index.html", folder / "page" / "2" / "index.html",
             folder / "page" / "3" / "index.html"]
    assert all(p.is_file() for p in pages) and not (folder / "page" / "4").exists()
    shown = [numbers(p) for p in pages]
    assert [len(s) for s in shown] == [50, 50, 20]
    assert [n for s in shown for n in s] == list(range(1, 121))
    # the second page goes on with the second day's 6th paper, under that day's heading
    second = pages[1].read_text()
    assert "2024-05-20" not in second and second.index("2024-05-19") < second.index("2024-05-18")
    assert second.index('<li value="51"><a href="/hp/papers/2405.01006.html">Paper 1-6: ') < \
        second.index("Paper 1-45: ") < second.index("Paper 2-10: ")
    assert "Paper 1-5: " not in second and "Paper 2-11: " not in second
    assert "#6 that day" in second and "120 papers" in second
    heads = [Tags(p.read_text()) for p in pages]
    assert [[a["href"] for a in h.all("link", rel="prev")] for h in heads] == [
        [], ["/hp/categories/cs.LG/"], ["/hp/categories/cs.LG/page/2/"]]
    assert [[a["href"] for a in h.all("link", rel="next")] for h in heads] == [
        ["/hp/categories/cs.LG/page/2/"], ["/hp/categories/cs.LG/page/3/"], []]
    assert [[a["href"] for a in h.all("a", rel="next")] for h in heads] == [
        ["/hp/categories/cs.LG/page/2/"], ["/hp/categories/cs.LG/page/3/"], []]
    assert "page 2 of 3" in second and "<title>cs.LG: page 2 of 3 · Hot Papers</title>" in second
    locs = {loc.text for loc in ET.parse(out / "sitemap.xml").getroot().iter(f"{SITEMAP}loc")}
    assert {f"{SITE}/categories/cs.LG/page/2/", f"{SITE}/categories/cs.LG/page/3/"} <= locs
    feed = json.loads((folder / "feed.json").read_text())  # the category's feed stays whole
    assert sum(len(re.findall(r"<li", item["content_html"])) for item in feed["items"]) == 120
    # a small category: one page, numbered from 1, no pagination
    small = (out / "categories" / "math.OC" / "index.html").read_text()
    assert numbers(out / "categories" / "math.OC" / "index.html") == [1, 2, 3]
    assert 'rel="next"' not in small and "page 1 of" not in small


def test_category_pages_follow_the_data_and_stay_escaped(tmp_path):
    out = tmp_path / "site"
    build_from(site_data([45, 45, 30]), out, site_url=SITE)
    fewer = build_from(site_data([45, 45]), out, site_url=SITE)  # the oldest day is gone
    assert "categories/cs.LG/page/3/index.html" in fewer.removed
    assert numbers(out / "categories" / "cs.LG" / "page" / "2" / "index.html") == list(
        range(51, 91))
    for page in (out / "categories").rglob("*.html"):
        text = page.read_text()
        assert "<script>alert" not in text and "<img" not in text, page
        assert not [a for _, a in Tags(text).tags if any(k.startswith("on") for k in a)], page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in (
        out / "categories" / "cs.LG" / "index.html").read_text()


@pytest.mark.parametrize("size", [0, -1])
def test_a_category_page_size_below_one_is_refused(tmp_path, size):
    with pytest.raises(ValueError, match="category_page"):
        build_from(site_data([1]), tmp_path / "site", category_page=size)


def test_the_largest_category_page_stays_small(tmp_path):
    """589 papers in one category (as cs.LG on the 126 real days) make 12 pages, none over
    the issue's 100 KB goal."""
    out = tmp_path / "site"
    build_from(site_data([50] * 11 + [39]), out)
    pages = sorted((out / "categories" / "cs.LG").rglob("index.html"))
    assert len(pages) == 12
    assert max(p.stat().st_size for p in pages) < 100_000
