"""Feeds: RSS 2.0, Atom and JSON Feed 1.1 of the published days, parsed and checked."""

from __future__ import annotations

import json
import random
import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotpapers.models import Paper, Post, PostEntry
from hotpapers.render.feeds import (
    JSON_FEED_VERSION,
    category_slugs,
    feed_documents,
    feed_url,
    matches_category,
)

SITE = "https://hot.example.org"
ATOM = "{http://www.w3.org/2005/Atom}"
NS = {"atom": "http://www.w3.org/2005/Atom"}

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
HOSTILE = [SCRIPT, IMG, "]]>", "a & b &amp; &lt;c&gt;", "مرحبا بالعالم", "🚀 launch 👩‍🚀"]


# -- the posts -------------------------------------------------------------------------

def paper(pid: str, title: str, categories: list[str], authors: list[str] | None = None,
          abstract: str = "An abstract.", abs_url: str | None = None) -> Paper:
    return Paper(id=pid, title=title, authors=authors or ["Ada Lovelace", "Alan Turing"],
                 categories=categories, abstract=abstract,
                 abs_url=abs_url or f"https://arxiv.org/abs/{pid}")


def entry(p: Paper, reposts: int, likes: int, written_at: datetime) -> PostEntry:
    return PostEntry(paper=p, reposts=reposts, likes=likes, written_at=written_at)


DAY3 = date(2021, 1, 19)
DAY2 = date(2021, 1, 18)
DAY1 = date(2021, 1, 17)
GEN3 = datetime(2021, 1, 19, 8, 57, 46, 123456, tzinfo=UTC)
GEN2 = datetime(2021, 1, 18, 10, 0, 5, tzinfo=timezone(timedelta(hours=2)))  # 08:00:05Z
GEN1 = datetime(2021, 1, 17, 9, 30, 0)  # naive: UTC

EXPECTED_TIMES = {DAY3: datetime(2021, 1, 19, 8, 57, 46, tzinfo=UTC),
                  DAY2: datetime(2021, 1, 18, 8, 0, 5, tzinfo=UTC),
                  DAY1: datetime(2021, 1, 17, 9, 30, 0, tzinfo=UTC)}


def make_posts() -> list[Post]:
    day3 = Post(day=DAY3, generated_at=GEN3, entries=[
        entry(paper("2101.07001", f"Attention {SCRIPT} & ]]> all", ["cs.LG", "stat.ML"],
                    authors=[IMG, "Bob & Co"], abstract=f"We show {SCRIPT}\nand {IMG}."),
              120, 450, GEN3),
        entry(paper("2101.07002", "Bayes <b>bold</b> claims", ["stat.ML", "cs.LG"]), 50, 99, GEN3),
        entry(paper("2101.07003", "Elliptic PDEs", ["math.AP"]), 10, 20, GEN3),
    ])
    day2 = Post(day=DAY2, generated_at=GEN2, entries=[
        entry(paper("2101.06001", "Seeing ]]> things", ["cs.CV"]), 70, 80, GEN2),
        entry(paper("2101.06002", "Strings & branes", ["hep-th", "math-ph"]), 5, 6, GEN2),
    ])
    day1 = Post(day=DAY1, generated_at=GEN1, entries=[
        entry(paper("2101.05001", "مرحبا بالعالم: Arabic NLP 🚀", ["cs.CL"],
                    authors=["فاطمة الزهراء", "Zoë 👩‍🚀"], abstract="نص عربي 🚀 emoji"),
              30, 40, GEN1),
        entry(paper("2101.05002", "Transformers for text", ["cs.CL", "cs.LG"]), 3, 4, GEN1),
    ])
    return [day1, day3, day2]  # not in order: the feeds sort them


DAY_ORDER = [DAY3, DAY2, DAY1]
TITLES = {
    DAY3: [f"Attention {SCRIPT} & ]]> all", "Bayes <b>bold</b> claims", "Elliptic PDEs"],
    DAY2: ["Seeing ]]> things", "Strings & branes"],
    DAY1: ["مرحبا بالعالم: Arabic NLP 🚀", "Transformers for text"],
}


@pytest.fixture
def posts() -> list[Post]:
    return make_posts()


@pytest.fixture
def docs(posts) -> dict[str, bytes]:
    return feed_documents(posts, SITE + "/")


def day_url(day: date) -> str:
    return f"{SITE}/{day.isoformat()}/"


# -- reading the entry HTML ------------------------------------------------------------

class ContentParser(HTMLParser):
    """The tags of an entry's HTML, and per list item its rank, link and paragraph texts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.items: list[dict] = []
        self._in_p = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attrs = dict(attrs)
        if tag == "li":
            self.items.append({"value": attrs.get("value"), "hrefs": [], "texts": []})
        elif tag == "a" and self.items:
            self.items[-1]["hrefs"].append(attrs.get("href"))
        elif tag == "p" and self.items:
            self.items[-1]["texts"].append("")
            self._in_p = True

    def handle_endtag(self, tag):
        if tag == "p":
            self._in_p = False

    def handle_data(self, data):
        if self._in_p and self.items:
            self.items[-1]["texts"][-1] += data


def parse_content(html: str) -> ContentParser:
    parser = ContentParser()
    parser.feed(html)
    parser.close()
    return parser


def check_content(html: str, day: date, posts: list[Post]) -> None:
    """The day's papers in rank order, with title/link/authors/counts/abstract, and nothing
    but the list's own markup (no script, no img)."""
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    parsed = parse_content(html)
    assert set(parsed.tags) <= {"ol", "li", "p", "a"}
    assert "script" not in parsed.tags and "img" not in parsed.tags
    post = next(p for p in posts if p.day == day)
    assert len(parsed.items) == len(post.entries)
    for rank, (item, e) in enumerate(zip(parsed.items, post.entries, strict=True), start=1):
        assert item["value"] == str(rank)
        assert item["hrefs"] == [e.paper.abs_url]
        title, authors, counts, abstract = item["texts"]
        assert title == " ".join(e.paper.title.split())
        assert authors == ", ".join(e.paper.authors)
        assert counts == f"retweets: {e.reposts}, favorites: {e.likes}"
        assert abstract == " ".join(e.paper.abstract.split())
    assert [i["texts"][0] for i in parsed.items] == TITLES[day]


# -- RSS 2.0 ---------------------------------------------------------------------------

def test_rss(docs, posts):
    raw = docs["rss.xml"]
    assert raw.startswith(b"<?xml") and b"<script" not in raw and b"<img" not in raw
    root = ET.fromstring(raw)
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel.findtext("title") == "Hot Papers"
    assert channel.findtext("link") == SITE + "/"
    assert channel.findtext("language") == "en"
    assert channel.findtext("generator") == "hotpapers"
    assert channel.findtext("description")
    self_link = channel.find("atom:link", NS)
    assert self_link.get("rel") == "self" and self_link.get("href") == SITE + "/rss.xml"
    assert parsedate_to_datetime(channel.findtext("lastBuildDate")) == EXPECTED_TIMES[DAY3]

    items = channel.findall("item")
    assert [i.findtext("title") for i in items] == [f"Hot Papers {d}" for d in DAY_ORDER]
    for item, day in zip(items, DAY_ORDER, strict=True):
        assert item.findtext("link") == day_url(day)
        guid = item.find("guid")
        assert guid.text == day_url(day) and guid.get("isPermaLink") == "true"
        pub = item.findtext("pubDate")
        assert re.fullmatch(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000",
                            pub)
        assert parsedate_to_datetime(pub) == EXPECTED_TIMES[day]
        check_content(item.findtext("description"), day, posts)


# -- Atom ------------------------------------------------------------------------------

def test_atom(docs, posts):
    raw = docs["atom.xml"]
    assert b"<script" not in raw and b"<img" not in raw
    feed = ET.fromstring(raw)
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}id") == SITE + "/"
    assert feed.findtext(f"{ATOM}title") == "Hot Papers"
    assert datetime.fromisoformat(feed.findtext(f"{ATOM}updated")) == EXPECTED_TIMES[DAY3]
    assert feed.findtext(f"{ATOM}generator") == "hotpapers"
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    links = {link.get("rel"): link.get("href") for link in feed.findall(f"{ATOM}link")}
    assert links == {"self": SITE + "/atom.xml", "alternate": SITE + "/"}
    assert feed.find(f"{ATOM}author/{ATOM}name").text

    entries = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == [
        f"Hot Papers {d}" for d in DAY_ORDER]
    for e, day in zip(entries, DAY_ORDER, strict=True):
        assert e.findtext(f"{ATOM}id") == day_url(day)
        assert e.find(f"{ATOM}link").get("href") == day_url(day)
        for name in ("published", "updated"):
            assert datetime.fromisoformat(e.findtext(f"{ATOM}{name}")) == EXPECTED_TIMES[day]
        content = e.find(f"{ATOM}content")
        assert content.get("type") == "html"
        check_content(content.text, day, posts)
        summary = e.find(f"{ATOM}summary")
        assert summary.get("type") in (None, "text")
        n = len(TITLES[day])
        assert summary.text.startswith(f"{n} papers: {TITLES[day][0]}")


def test_summary_is_plain_text_and_short():
    many = Post(day=DAY3, generated_at=GEN3, entries=[
        entry(paper(f"2101.0{i:04d}", f"Paper number {i} " + "x" * 80, ["cs.AI"]), 1, 1, GEN3)
        for i in range(5)])
    feed = ET.fromstring(feed_documents([many], SITE)["atom.xml"])
    summary = feed.find(f"{ATOM}entry/{ATOM}summary").text
    assert summary.startswith("5 papers: Paper number 0 ") and summary.endswith("…")
    assert len(summary) <= 300
    item = json.loads(feed_documents([many], SITE)["feed.json"])["items"][0]
    assert item["summary"] == summary


# -- JSON Feed 1.1 ---------------------------------------------------------------------

RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


def test_json_feed(docs, posts):
    feed = json.loads(docs["feed.json"].decode("utf-8"))
    assert feed["version"] == JSON_FEED_VERSION == "https://jsonfeed.org/version/1.1"
    assert feed["title"] == "Hot Papers"
    assert feed["home_page_url"] == SITE + "/"
    assert feed["feed_url"] == SITE + "/feed.json"
    assert feed["language"] == "en"
    items = feed["items"]
    assert [i["title"] for i in items] == [f"Hot Papers {d}" for d in DAY_ORDER]
    for item, day in zip(items, DAY_ORDER, strict=True):
        assert item["id"] == item["url"] == day_url(day)
        assert RFC3339.fullmatch(item["date_published"])
        assert datetime.fromisoformat(item["date_published"]) == EXPECTED_TIMES[day]
        check_content(item["content_html"], day, posts)
        assert item["summary"].startswith(f"{len(TITLES[day])} papers: ")
    # the same order as the RSS items
    rss = ET.fromstring(docs["rss.xml"]).findall("channel/item")
    assert [i["id"] for i in items] == [r.findtext("guid") for r in rss]


# -- per category ----------------------------------------------------------------------

def titles_by_day(docs: dict[str, bytes]) -> dict[str, list[str]]:
    feed = json.loads(docs["feed.json"])
    return {i["url"]: [item["texts"][0] for item in parse_content(i["content_html"]).items]
            for i in feed["items"]}


def test_category_feed_lists_only_its_papers(posts):
    docs = feed_documents(posts, SITE, category="cs.LG")
    assert titles_by_day(docs) == {
        day_url(DAY3): TITLES[DAY3][:2],  # primary and cross-list
        day_url(DAY1): ["Transformers for text"],  # DAY2 has no cs.LG paper: left out
    }
    items = parse_content(json.loads(docs["feed.json"])["items"][1]["content_html"]).items
    assert [i["value"] for i in items] == ["2"]  # its rank on the day
    base = f"{SITE}/categories/cs.LG/"
    assert feed_url(SITE, "cs.LG") == base

    rss = ET.fromstring(docs["rss.xml"]).find("channel")
    assert "cs.LG" in rss.findtext("title") and "cs.LG" in rss.findtext("description")
    assert rss.find("atom:link", NS).get("href") == base + "rss.xml"
    assert [i.findtext("link") for i in rss.findall("item")] == [day_url(DAY3), day_url(DAY1)]
    guids = [i.find("guid") for i in rss.findall("item")]
    assert [g.text for g in guids] == [day_url(DAY3) + "#cs.LG", day_url(DAY1) + "#cs.LG"]
    assert {g.get("isPermaLink") for g in guids} == {"false"}

    atom = ET.fromstring(docs["atom.xml"])
    assert "cs.LG" in atom.findtext(f"{ATOM}id") and "cs.LG" in atom.findtext(f"{ATOM}title")
    assert [e.findtext(f"{ATOM}id") for e in atom.findall(f"{ATOM}entry")] == [
        g.text for g in guids]
    assert datetime.fromisoformat(atom.findtext(f"{ATOM}updated")) == EXPECTED_TIMES[DAY3]

    feed = json.loads(docs["feed.json"])
    assert "cs.LG" in feed["title"] and feed["feed_url"] == base + "feed.json"


def test_archive_matches_its_categories(posts):
    assert titles_by_day(feed_documents(posts, SITE, category="cs")) == {
        day_url(DAY3): TITLES[DAY3][:2],
        day_url(DAY2): ["Seeing ]]> things"],
        day_url(DAY1): TITLES[DAY1],
    }
    assert titles_by_day(feed_documents(posts, SITE, category="math")) == {
        day_url(DAY3): ["Elliptic PDEs"]}  # not math-ph
    assert titles_by_day(feed_documents(posts, SITE, category="math-ph")) == {
        day_url(DAY2): ["Strings & branes"]}
    assert titles_by_day(feed_documents(posts, SITE, category="q-bio")) == {}
    assert matches_category(["cs.LG"], "cs") and not matches_category(["csx.LG"], "cs")
    assert not matches_category(["cs.LG"], "cs.L")


def test_a_category_with_no_papers_gives_empty_valid_feeds(posts):
    docs = feed_documents(posts, SITE, category="astro-ph.CO")
    assert ET.fromstring(docs["rss.xml"]).findall("channel/item") == []
    atom = ET.fromstring(docs["atom.xml"])
    assert atom.findall(f"{ATOM}entry") == []
    assert atom.findtext(f"{ATOM}updated") == "1970-01-01T00:00:00+00:00"
    assert json.loads(docs["feed.json"])["items"] == []


def test_category_slugs(posts):
    assert category_slugs(posts) == sorted(
        ["cs.CL", "cs.CV", "cs.LG", "hep-th", "math-ph", "math.AP", "stat.ML"])
    odd = Post(day=DAY1, generated_at=GEN1, entries=[
        entry(paper("x", "t", ["cs.AI", SCRIPT, "../etc", "a/b", ""]), 1, 1, GEN1)])
    assert category_slugs([odd]) == ["cs.AI"]
    assert category_slugs([]) == []


@pytest.mark.parametrize("bad", [SCRIPT, "../x", "cs/LG", "", "cs LG", "cs..LG"])
def test_a_bad_category_is_refused(posts, bad):
    with pytest.raises(ValueError):
        feed_documents(posts, SITE, category=bad)


# -- determinism and limit -------------------------------------------------------------

def test_same_posts_same_bytes(posts):
    first = feed_documents(posts, SITE)
    assert set(first) == {"rss.xml", "atom.xml", "feed.json"}
    shuffled = make_posts()
    random.Random(4).shuffle(shuffled)
    assert feed_documents(shuffled, SITE) == first
    assert feed_documents(make_posts(), SITE + "/") == first
    assert feed_documents(posts, SITE, category="cs") == feed_documents(
        make_posts(), SITE, category="cs")


def test_limit(posts):
    docs = feed_documents(posts, SITE, limit=2)
    assert [i.findtext("link") for i in ET.fromstring(docs["rss.xml"]).findall("channel/item")
            ] == [day_url(DAY3), day_url(DAY2)]
    assert len(ET.fromstring(docs["atom.xml"]).findall(f"{ATOM}entry")) == 2
    assert len(json.loads(docs["feed.json"])["items"]) == 2
    # in a category feed the limit counts the days listed
    cs_lg = json.loads(feed_documents(posts, SITE, category="cs.LG", limit=2)["feed.json"])
    assert [i["url"] for i in cs_lg["items"]] == [day_url(DAY3), day_url(DAY1)]
    assert json.loads(feed_documents(posts, SITE, limit=0)["feed.json"])["items"] == []
    with pytest.raises(ValueError):
        feed_documents(posts, SITE, limit=-1)


def test_one_entry_per_day_the_latest_post(posts):
    again = Post(day=DAY3, generated_at=GEN3 + timedelta(hours=1), entries=posts[1].entries[:1])
    feed = json.loads(feed_documents([*posts, again], SITE)["feed.json"])
    assert [i["url"] for i in feed["items"]] == [day_url(d) for d in DAY_ORDER]
    assert len(parse_content(feed["items"][0]["content_html"]).items) == 1
    assert datetime.fromisoformat(feed["items"][0]["date_published"]) == EXPECTED_TIMES[
        DAY3] + timedelta(hours=1)


# -- hostile input ---------------------------------------------------------------------

def test_unsafe_links_and_xml_invalid_characters():
    p = paper("2101.00001", "Nul\x00 and bell\x07 and \ud800 lone", ["cs.AI"],
              authors=["Esc\x1b"], abstract="ok\x0c", abs_url="javascript:alert(1)")
    post = Post(day=DAY1, generated_at=GEN1, entries=[entry(p, 1, 2, GEN1)])
    docs = feed_documents([post], SITE)
    for name in ("rss.xml", "atom.xml"):
        ET.fromstring(docs[name])  # parses: no character XML 1.0 forbids
    item = json.loads(docs["feed.json"])["items"][0]
    parsed = parse_content(item["content_html"]).items[0]
    assert parsed["hrefs"] == ["https://arxiv.org/abs/2101.00001"]
    assert parsed["texts"][0] == "Nul\ufffd and bell\ufffd and \ufffd lone"
    assert "javascript" not in item["content_html"]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_feed_title(posts, hostile):
    docs = feed_documents(posts, SITE, title=f"T {hostile}")
    assert ET.fromstring(docs["rss.xml"]).findtext("channel/title") == f"T {hostile}"
    assert ET.fromstring(docs["atom.xml"]).findtext(f"{ATOM}title") == f"T {hostile}"
    assert json.loads(docs["feed.json"])["title"] == f"T {hostile}"


_XML_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc"),
                                           blacklist_characters="\ufffe\uffff"), max_size=40)


@given(title=_XML_TEXT, author=_XML_TEXT, abstract=_XML_TEXT)
def test_any_text_comes_back_as_text(title, author, abstract):
    p = paper("2101.00002", title, ["cs.AI"], authors=[author], abstract=abstract)
    post = Post(day=DAY1, generated_at=GEN1, entries=[entry(p, 7, 8, GEN1)])
    docs = feed_documents([post], SITE)
    html = ET.fromstring(docs["rss.xml"]).findtext("channel/item/description")
    assert html == ET.fromstring(docs["atom.xml"]).find(f"{ATOM}entry/{ATOM}content").text
    assert html == json.loads(docs["feed.json"])["items"][0]["content_html"]
    parsed = parse_content(html)
    assert set(parsed.tags) == {"ol", "li", "p", "a"}
    assert parsed.items[0]["texts"] == [" ".join(title.split()), " ".join(author.split()),
                                        "retweets: 7, favorites: 8",
                                        " ".join(abstract.split())]


# -- feedparser, when installed ----------------------------------------------------------

def test_feedparser_reads_rss_and_atom(docs):
    feedparser = pytest.importorskip("feedparser")
    for name in ("rss.xml", "atom.xml"):
        parsed = feedparser.parse(docs[name])
        assert parsed.bozo == 0, (name, parsed.get("bozo_exception"))
        assert [e.link for e in parsed.entries] == [day_url(d) for d in DAY_ORDER]
        assert [e.title for e in parsed.entries] == [f"Hot Papers {d}" for d in DAY_ORDER]
        for e in parsed.entries:
            html = e.content[0].value if name == "atom.xml" else e.description
            assert "<li" in html and "<script" not in html and "<img" not in html


def test_an_entry_s_inputs_change_with_every_field_it_shows():
    from dataclasses import replace

    from hotpapers.render.feeds import FeedDay

    base = paper("2101.00001", "A Title", ["cs.LG"], abs_url="https://arxiv.org/abs/2101.00001")

    def inputs(p: Paper = base, reposts: int = 3, likes: int = 4, generated=GEN3) -> tuple:
        post = Post(day=DAY3, generated_at=generated, entries=[entry(p, reposts, likes, GEN3)])
        return FeedDay(post, [(1, post.entries[0])], SITE, None).inputs()

    changed = [inputs(replace(base, title="Another Title")),
               inputs(replace(base, authors=["Grace Hopper"])),
               inputs(replace(base, abstract="Another abstract.")),
               inputs(replace(base, abs_url="https://arxiv.org/abs/2101.00001\x01")),
               inputs(reposts=5), inputs(likes=6), inputs(generated=GEN3 + timedelta(seconds=1))]
    assert inputs() == inputs()
    assert all(other != inputs() for other in changed)
