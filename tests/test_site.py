"""`hotpapers site build`: pages, order, links, escaping, embeds, incremental writes."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from hotpapers.cli.common import State
from hotpapers.cli.site import site_app
from hotpapers.jobs.build_site import build_site
from hotpapers.jobs.legacy import import_legacy
from hotpapers.models import Account, Mention, Observation
from hotpapers.site.context import http_url, paper_slug, sparkline, total_series
from hotpapers.site.output import MANIFEST
from hotpapers.store.mentions import save_mention
from hotpapers.store.papers import load_papers, save_paper
from hotpapers.store.posts import load_post
from hotpapers.store.raw import RawStore
from hotpapers.store.schema import accounts, mentions, post_entries, posts
from hotpapers.store.stamps import bump

FIXTURES = Path(__file__).with_name("fixtures") / "posts"
NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
DAY1, DAY2, DAY3 = date(2024, 3, 4), date(2024, 3, 6), date(2024, 3, 8)
SITE = "https://example.org/hp"
HOSTILE = ('<script>alert(1)</script> "><img src=x onerror=alert(1)> {{ 7*7 }} '
           "\u05e9\u05dc\u05d5\u05dd \u202eevil\u202c 🔥📄")


# -- helpers ------------------------------------------------------------------------------

class Page(HTMLParser):
    """Tags with attributes, and texts inside elements of chosen classes."""

    def __init__(self, text: str, collect_class: str | None = None):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.collect_class = collect_class
        self.collected: list[str] = []
        self._depth = 0  # >0 while inside an element of collect_class
        self._open: list[str] = []
        self.text = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag in ("meta", "link", "input", "br", "img", "polyline"):
            return
        if self._depth:
            self._depth += 1
        elif self.collect_class and self.collect_class in (attrs.get("class") or "").split():
            self._depth = 1
            self.collected.append("")

    def handle_endtag(self, tag):
        if self._depth:
            self._depth -= 1

    def handle_data(self, data):
        self.text.append(data)
        if self._depth:
            self.collected[-1] += data


def imported(engine) -> None:
    results = import_legacy(engine, sorted(FIXTURES.glob("*.md")), NOW)
    assert [r.error for r in results] == [None, None, None]


def build(engine, out: Path, **options):
    """`build_site` on the engine's database, through a DB-API connection of its own."""
    connection = engine.raw_connection()
    try:
        placeholder = "?" if engine.dialect.name == "sqlite" else "%s"
        return build_site(RawStore(connection, placeholder, engine.dialect.name), out, **options)
    finally:
        connection.close()


def html_files(out: Path) -> list[Path]:
    return sorted(out.rglob("*.html"))


def resolve(out: Path, base: str, url: str, page: Path) -> Path | None:
    """The file an internal link leads to, or None when the link is external."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path:
        return None
    path = unquote(parts.path)
    if path.startswith("/"):
        assert path == base or path.startswith(base + "/"), f"{url} is outside the site"
        target = out / path[len(base):].lstrip("/")
    else:
        target = page.parent / path
    if path.endswith("/") or target.is_dir():
        target = target / "index.html"
    return target


@pytest.fixture
def site(engine, tmp_path):
    imported(engine)
    out = tmp_path / "site"
    return engine, out


# -- pages and order ----------------------------------------------------------------------

def test_expected_files_and_day_order(site):
    engine, out = site
    summary = build(engine, out, site_url=SITE)
    assert summary.unchanged == 0 and len(summary.written) > 20
    for name in ("index.html", "2024-03-04/index.html", "2024-03-06/index.html",
                 "2024-03-08/index.html", "papers/2403.01234.html",
                 "papers/hep-th_9901001.html", "categories/index.html",
                 "categories/cs.LG/index.html", "categories/cs.LG/rss.xml", "archive/index.html",
                 "404.html", "sitemap.xml", "robots.txt", "favicon.svg", "rss.xml", "atom.xml",
                 "feed.json", "pagefind/pagefind.js", "static/style.css", "static/search.js"):
        assert (out / name).is_file(), name
    assert summary.line().startswith(f"Done: {len(summary.written)} pages written, 0 unchanged")
    assert summary.line().endswith(f"{out / 'index.html'}")
    with engine.connect() as conn:
        for day in (DAY1, DAY2, DAY3):
            post = load_post(conn, day, "lumen")
            page = Page((out / day.isoformat() / "index.html").read_text(), "paper-title")
            assert page.collected == [e.paper.title for e in post.entries]
    home = (out / "index.html").read_text()
    assert home.index("2024-03-08") < home.index("2024-03-06") < home.index("2024-03-04")
    archive = Page((out / "archive" / "index.html").read_text())
    assert "2024-03" in "".join(archive.text)
    assert "Sitemap: https://example.org/hp/sitemap.xml" in (out / "robots.txt").read_text()


def test_pagination(site):
    engine, out = site
    build(engine, out, per_page=2)
    first = (out / "index.html").read_text()
    second = (out / "page" / "2" / "index.html").read_text()
    assert "2024-03-08/" in first and "2024-03-06/" in first and "2024-03-04/" not in first
    assert "2024-03-04/" in second and 'href="/page/2/"' in first


def test_paper_page_has_mentions_and_sparkline(site):
    engine, out = site
    with engine.begin() as conn:
        save_mention(conn, Mention(
            source="bluesky", native_id="at://did:plc:x/app.bsky.feed.post/1",
            paper_ids=["2403.01234"], permalink="https://bsky.app/profile/x/post/1",
            account=Account("bluesky", "did:plc:x", "x.bsky.social", "Ex"), text="Nice lanterns",
            created_at=NOW, observations=[
                Observation(NOW + timedelta(hours=h), likes=3 * h, reposts=h)
                for h in (1, 2, 5)]), NOW)
    build(engine, out)
    page = (out / "papers" / "2403.01234.html").read_text()
    parsed = Page(page)
    polylines = [a for tag, a in parsed.tags if tag == "polyline"]
    assert len(polylines) == 1 and len(polylines[0]["points"].split()) == 3
    assert "Nice lanterns" in page and "Ada Example" in page and "15 likes" in page
    assert "@x.bsky.social" in page and 'href="/2024-03-04/"' in page
    # imported totals are one observation: a row of the attention table, no chart
    legacy = (out / "papers" / "hep-th_9901001.html").read_text()
    assert "polyline" not in legacy and "<th scope=\"row\">X (as published)</th>" in legacy


# -- links --------------------------------------------------------------------------------

@pytest.mark.parametrize(("site_url", "base"), [(SITE, "/hp"), ("", "")])
@pytest.mark.parametrize("embeds", ["static", "oembed"])
def test_internal_links_resolve(site, site_url, base, embeds):
    engine, out = site
    build(engine, out, site_url=site_url, embeds=embeds, per_page=1)
    checked = 0
    for page in html_files(out):
        for _tag, attrs in Page(page.read_text()).tags:
            for name in ("href", "src", "data-pagefind"):
                url = attrs.get(name)
                if not url or url.startswith("#"):
                    continue
                target = resolve(out, base, url, page)
                if target is None:
                    continue
                assert target.is_file(), f"{page.relative_to(out)}: broken link {url}"
                checked += 1
    assert checked > 100
    if not site_url:  # no sitemap nor feeds: they need absolute URLs
        assert not (out / "sitemap.xml").exists() and not list(out.rglob("*.xml"))
        return
    sitemap = ET.parse(out / "sitemap.xml").getroot()
    origin = "https://example.org" if site_url else ""
    for loc in sitemap.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc"):
        target = resolve(out, base, loc.text.removeprefix(origin), out / "index.html")
        assert target is not None and target.is_file(), loc.text


def test_sitemap_and_search_script(site):
    engine, out = site
    build(engine, out, site_url=SITE)
    locs = [e.text for e in ET.parse(out / "sitemap.xml").getroot().iter(
        "{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    for day in (DAY1, DAY2, DAY3):
        assert f"{SITE}/{day.isoformat()}/" in locs
    assert all(loc.startswith(SITE + "/") for loc in locs)
    assert not (out / "search-index.json").exists()  # Pagefind's index instead
    script = (out / "static" / "search.js").read_text()
    assert "import(" in script and "http" not in script and "innerHTML" not in script


def test_feeds_written_where_feeds_expect(site):
    engine, out = site
    build(engine, out, site_url=SITE)
    rss = ET.parse(out / "rss.xml").getroot()
    assert rss.find("channel/link").text == f"{SITE}/"
    links = [i.find("link").text for i in rss.iter("item")]
    assert links[0] == f"{SITE}/2024-03-08/" or links[0] == f"{SITE}/2024-03-06/"
    feed = json.loads((out / "categories" / "cs.LG" / "feed.json").read_text())
    assert feed["feed_url"] == f"{SITE}/categories/cs.LG/feed.json"
    ET.parse(out / "categories" / "cs.LG" / "atom.xml")


# -- hostile strings ----------------------------------------------------------------------

def make_hostile(engine) -> None:
    with engine.begin() as conn:
        paper = load_papers(conn, ["2403.01234"])["2403.01234"]
        paper.title = "T " + HOSTILE
        paper.authors = ["A " + HOSTILE, "Bob"]
        paper.abstract = "Abs " + HOSTILE
        paper.abs_url = "javascript:alert(1)"
        save_paper(conn, paper, NOW)
        conn.execute(post_entries.update().where(post_entries.c.paper_id == "2403.01234")
                     .values(paper_shown=None))  # the post shows the hostile paper
        conn.execute(mentions.update().where(mentions.c.native_id == "1764000000000000001")
                     .values(text="M " + HOSTILE, permalink="javascript:alert(2)"))
        conn.execute(accounts.update().where(accounts.c.handle == "ada_example")
                     .values(name="N " + HOSTILE))


def test_hostile_strings_are_escaped_everywhere(site):
    engine, out = site
    make_hostile(engine)
    build(engine, out)
    seen = 0
    for path in html_files(out):
        text = path.read_text()
        page = Page(text)
        for tag, attrs in page.tags:
            assert tag != "img", path
            assert not any(name.startswith("on") for name in attrs), (path, tag)
            if tag == "script":
                assert attrs == {"src": "/static/search.js", "defer": None}, path
            for name in ("href", "src"):
                assert not (attrs.get(name) or "").lower().startswith("javascript:"), path
        body = "".join(page.text)
        assert "onerror=alert(1)> 49" not in body  # not evaluated as a template
        if "{{ 7*7 }}" in body:
            seen += 1
            assert "<script>alert(1)</script>" in body  # shown as text
            assert "🔥📄" in body and "\u05e9\u05dc\u05d5\u05dd" in body
    # the day page, the paper page, home and both categories
    assert seen >= 5
    day = (out / "2024-03-04" / "index.html").read_text()
    assert "M &lt;script&gt;" in day and "N &lt;script&gt;" in day
    assert 'href="https://arxiv.org/abs/2403.01234"' in day  # the javascript: link was dropped
    assert "{{ 7*7 }}" in day and "alert(1)</script>" not in day


# -- embeds -------------------------------------------------------------------------------

def test_static_embeds_have_no_script_or_external_src(site):
    engine, out = site
    build(engine, out, embeds="static")
    for path in html_files(out):
        text = path.read_text()
        assert "platform.twitter.com" not in text and "twitter-tweet" not in text
        for tag, attrs in Page(text).tags:
            src = attrs.get("src")
            if src:
                assert not urlsplit(src).netloc, (path, src)
            assert tag not in ("iframe", "img"), path
            assert tag != "blockquote" or attrs.get("class") == "mention-text", path
            if tag == "link":
                assert not urlsplit(attrs.get("href") or "").netloc, path
    day = (out / "2024-03-04" / "index.html").read_text()
    assert day.count('class="mention mention-x"') == 3
    assert "https://twitter.com/ada_example/status/1764000000000000001" in day


def test_oembed_embeds_show_the_stored_blockquote(site):
    engine, out = site
    build(engine, out, embeds="oembed")
    with engine.connect() as conn:
        shown = load_post(conn, DAY1, "lumen").entries[0].shown[0]
    day = (out / "2024-03-04" / "index.html").read_text()
    # cleaned (site/embeds.py), so not byte for byte: its blockquote, text and link are kept
    assert '<blockquote class="twitter-tweet"><p lang="en" dir="ltr">Our lanterns paper' in day
    assert 'href="https://twitter.com/ada_example/status/1764000000000000001' in day
    assert "https://twitter.com/ada_example/status/1764000000000000001" in shown.embed_html
    assert day.count('<script async src="https://platform.twitter.com/widgets.js"') == 1
    paper = (out / "papers" / "2403.01234.html").read_text()
    assert '<blockquote class="twitter-tweet">' in paper


def test_compiled_templates_are_kept_in_the_user_cache(site, tmp_path, monkeypatch):
    engine, out = site
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    first = build(engine, out)
    kept = sorted((tmp_path / "cache" / "hotpapers" / "templates").iterdir())
    assert len(kept) >= 8  # every template
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "a-file"))
    (tmp_path / "a-file").write_text("not a folder")  # no cache possible: built all the same
    again = build(engine, tmp_path / "again")
    assert sorted(again.written) == sorted(first.written)
    assert (tmp_path / "again" / "index.html").read_bytes() == (out / "index.html").read_bytes()


def test_unknown_embed_mode_is_refused(site):
    engine, out = site
    with pytest.raises(ValueError):
        build(engine, out, embeds="iframe")


# -- incremental --------------------------------------------------------------------------

def test_second_build_writes_nothing_and_a_change_rewrites_its_day(site):
    engine, out = site
    first = build(engine, out, site_url=SITE)
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    again = build(engine, out, site_url=SITE)
    assert again.written == [] and again.unchanged == len(first.written)
    assert again.rendered == 0  # the manifest says every input is the same: nothing rendered
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == stamps
    with engine.begin() as conn:
        post_id = conn.execute(select(posts.c.id).where(posts.c.day == DAY2)).scalar()
        conn.execute(post_entries.update().where(post_entries.c.post_id == post_id)
                     .values(likes=987654))
        bump(conn, days=[DAY2])  # as the store's own writes do (store/stamps.py)
    changed = build(engine, out, site_url=SITE)
    assert "2024-03-06/index.html" in changed.written
    assert "index.html" in changed.written and "rss.xml" in changed.written
    assert "2024-03-04/index.html" not in changed.written
    assert "2024-03-08/index.html" not in changed.written
    assert "static/style.css" not in changed.written
    assert "987654" in (out / "2024-03-06" / "index.html").read_text()
    assert len(changed.written) + changed.unchanged == len(first.written)
    # only what shows the day is made again: its page, the home page, its feeds and
    # categories, its papers' pages, the sitemap and search index (which list every day)
    assert set(changed.written) <= set(first.written) and changed.rendered < len(first.written) / 2
    assert not list(out.rglob("*.tmp"))


def test_pages_no_longer_made_are_removed_and_other_files_kept(site):
    engine, out = site
    first = build(engine, out, site_url=SITE)
    (out / "CNAME").write_text("papers.example.org\n")
    with engine.begin() as conn:  # the day is no longer published
        conn.execute(posts.delete().where(posts.c.day == DAY1))
        bump(conn, days=[DAY1])
    again = build(engine, out, site_url=SITE)
    assert "2024-03-04/index.html" in again.removed and not (out / "2024-03-04").exists()
    assert set(again.removed) < set(first.written)
    assert (out / "CNAME").read_text() == "papers.example.org\n"
    assert "2024-03-04" not in (out / "index.html").read_text()
    files = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    # the search index, made again without the day, has files of new names
    assert files == (set(first.written) - set(again.removed) | set(again.written)
                     | {"CNAME", MANIFEST})
    assert {f for f in again.written if f not in first.written} == {
        f for f in files if f.startswith("pagefind/")} - set(first.written)


PARALLEL_BUILD = """
import sys
from pathlib import Path
from hotpapers.site import output
from hotpapers.jobs.build_site import build_site
from hotpapers.store.raw import open_raw
url, out, site = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
output.PARALLEL_FROM = 1  # a small site: fork all the same
with open_raw(url) as store:
    serial = build_site(store, out / "serial", site_url=site, workers=1)
    parallel = build_site(store, out / "parallel", site_url=site, workers=3)
print(len(serial.written), len(parallel.written))
"""


def test_a_build_in_several_processes_makes_the_same_site(site, db_url, tmp_path):
    # in a new interpreter: pytest-httpserver's thread runs in this one (no fork beside it)
    done = subprocess.run([sys.executable, "-c", PARALLEL_BUILD, db_url, str(tmp_path), SITE],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    serial, parallel = map(int, done.stdout.split())
    assert serial == parallel > 20

    def contents(root: Path) -> dict[str, bytes]:
        return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}

    assert contents(tmp_path / "parallel") == contents(tmp_path / "serial")


# -- the command --------------------------------------------------------------------------

def test_cli_build(site, db_url, tmp_path, monkeypatch):
    _, out = site
    monkeypatch.delenv("HOTPAPERS_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config-home"))
    app = typer.Typer()

    @app.callback()
    def root(ctx: typer.Context) -> None:
        ctx.obj = State(db=db_url)

    app.add_typer(site_app, name="site")
    runner = CliRunner()
    result = runner.invoke(app, ["site", "build", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Done: ") and "pages written, 0 unchanged in" in result.stdout
    assert result.stdout.strip().endswith(f"{out / 'index.html'}")
    assert result.stderr.startswith("hotpapers: warning: site_url is not set")
    again = runner.invoke(app, ["site", "build", "--out", str(out), "--embeds", "oembed"])
    assert again.exit_code == 0 and "unchanged" in again.output
    assert "twitter-tweet" in (out / "2024-03-04" / "index.html").read_text()
    bad = runner.invoke(app, ["site", "build", "--embeds", "iframe"])
    assert bad.exit_code != 0
    one = runner.invoke(app, ["site", "build", "--out", str(tmp_path / "one"), "--jobs", "1"])
    assert one.exit_code == 0 and "0 unchanged" in one.stdout
    assert runner.invoke(app, ["site", "build", "--jobs", "0"]).exit_code == 2
    monkeypatch.setenv("HOTPAPERS_SITE_URL", SITE)
    absolute = runner.invoke(app, ["site", "build", "--out", str(out)])
    assert absolute.exit_code == 0 and absolute.stderr == ""
    assert f"<link>{SITE}/2024-03-08/</link>" in (out / "rss.xml").read_text()


# -- context ------------------------------------------------------------------------------

def test_context_helpers():
    assert paper_slug("hep-th/9901001") == "hep-th_9901001"
    assert paper_slug("..") == "_.."
    assert http_url("javascript:alert(1)") is None and http_url("https://a.b/x y") == \
        "https://a.b/x%20y"
    t = datetime(2024, 1, 1, tzinfo=UTC)
    total = total_series([[(t, 1), (t + timedelta(hours=2), 5)], [(t + timedelta(hours=1), 10)]])
    assert [v for _, v in total] == [1, 11, 15]
    line = sparkline(total, width=100, height=20, pad=0)
    assert line.points == "0.0,20.0 50.0,5.7 100.0,0.0"
    assert sparkline([]) is None
    assert len(sparkline([(t, 3)]).points.split()) == 2
