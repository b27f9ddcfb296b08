"""The built site in a real browser (Debian's Chromium driven by Playwright): the demo day's
page, search, links and feeds, and that hostile paper text never runs as script.

Skips without the `playwright` package or a `chromium` executable; downloads nothing."""

from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import threading
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest

sync_api = pytest.importorskip("playwright.sync_api")

from sqlalchemy import select, update  # noqa: E402

from hotpapers.config import Settings  # noqa: E402
from hotpapers.jobs.build_site import build_site  # noqa: E402
from hotpapers.jobs.demo import DEMO_DAY, demo_snapshot, run_demo  # noqa: E402
from hotpapers.jobs.post import write_post  # noqa: E402
from hotpapers.jobs.snapshot import import_records, read_snapshot  # noqa: E402
from hotpapers.store.db import connect  # noqa: E402
from hotpapers.store.raw import open_raw  # noqa: E402
from hotpapers.store.schema import papers, post_entries, posts  # noqa: E402

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium"
                                        if Path("/usr/bin/chromium").exists() else None)
if CHROMIUM is None:
    pytest.skip("no chromium executable", allow_module_level=True)

NOW = datetime(2021, 1, 20, 12, 0, tzinfo=UTC)
HOST = "127.0.0.1"
TIMEOUT_MS = 5_000
SITE_URL = "https://hotpapers.example/"  # its path is the root: the links work when served
HOSTILE_TITLE = '<img src=x onerror="window.__pwned=1">'
HOSTILE_ABSTRACT = "Before <script>window.__pwned=2</script> after."


# -- serving and browsing -----------------------------------------------------------------

class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


class Served:
    """A folder served over HTTP on 127.0.0.1 (an ephemeral port) in a thread."""

    def __init__(self, root: Path):
        handler = functools.partial(_Quiet, directory=str(root))
        self.server = http.server.ThreadingHTTPServer((HOST, 0), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://{HOST}:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


class Tab:
    """A fresh browser context and page that records console errors, page errors and every
    request; requests to any other host than 127.0.0.1 are recorded and aborted."""

    def __init__(self, browser):
        self.context = browser.new_context(service_workers="block")
        self.context.set_default_timeout(TIMEOUT_MS)
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("console", lambda msg: self.errors.append(f"console: {msg.text}")
                     if msg.type == "error" else None)
        self.page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))

    @staticmethod
    def _route(route):
        if urlsplit(route.request.url).hostname == HOST:
            route.continue_()
        else:
            route.abort()

    def foreign(self) -> list[str]:
        return [url for url in self.requests
                if not url.startswith("data:") and urlsplit(url).hostname != HOST]

    def close(self) -> None:
        self.context.close()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("browser-demo")
    result = run_demo(out, Settings(site_url=SITE_URL), NOW)  # feeds are made with it only
    served = Served(out / "site")
    yield result, served
    served.stop()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"])
        yield browser
        browser.close()


@pytest.fixture
def tab(browser):
    tab = Tab(browser)
    yield tab
    tab.close()


def post_titles(post: Path) -> list[str]:
    """The paper titles of a written lumen post: its `# N. Title` lines after the front
    matter."""
    text = post.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    body = text.split("\n---\n", 1)[1]
    return [squeeze(re.sub(r"^\d+\.\s+", "", line[2:]))
            for line in body.splitlines() if line.startswith("# ")]


def squeeze(text: str) -> str:
    """Text with its whitespace runs collapsed, as a browser renders it."""
    return " ".join(text.split())


# -- tests --------------------------------------------------------------------------------

def test_day_page_shows_the_post_in_order(demo, tab):
    result, served = demo
    expected = post_titles(result.post)
    assert len(expected) == result.papers == 8
    tab.page.goto(f"{served.url}/{DEMO_DAY}/", wait_until="load")
    titles = [squeeze(t) for t in tab.page.locator(".paper-title").all_inner_texts()]
    assert titles == expected
    assert tab.page.locator("h1").first.inner_text().strip().endswith(str(DEMO_DAY))
    tab.page.wait_for_load_state("networkidle")
    assert tab.errors == []
    assert tab.requests and tab.requests[0] == f"{served.url}/{DEMO_DAY}/"
    assert tab.foreign() == []


def test_search_finds_a_paper_by_a_title_word(demo, tab):
    """Pagefind's index, loaded on the first word typed: the paper's page is among the
    results, its title a link; an unknown word finds nothing; clearing hides the results."""
    result, served = demo
    title = post_titles(result.post)[2]
    word = max(re.findall(r"[A-Za-z]{4,}", title), key=len)
    page = tab.page
    page.goto(f"{served.url}/", wait_until="load")
    page.wait_for_load_state("networkidle")
    assert not [url for url in tab.requests if "/pagefind/" in url]  # nothing before use
    results = page.locator("#search-results")
    assert results.is_hidden()
    page.locator("#search-query").fill(word.lower())
    hit = results.get_by_role("link", name=title, exact=True)
    hit.wait_for(state="visible")
    assert re.fullmatch(r"/papers/[^/]+\.html", hit.get_attribute("href"))
    assert word.lower() in results.locator("mark").first.inner_text().lower()
    page.locator("#search-query").fill("zzqxjv")
    results.get_by_text("No page matches.").wait_for()
    page.locator("#search-query").fill("")
    results.wait_for(state="hidden")
    assert tab.errors == [] and tab.foreign() == []
    assert f"{served.url}/pagefind/pagefind.js" in tab.requests
    assert not [url for url in tab.requests if url.endswith("search-index.json")]


def test_title_link_leads_to_the_paper_page_and_feeds_answer(demo, tab):
    result, served = demo
    page = tab.page
    page.goto(f"{served.url}/{DEMO_DAY}/", wait_until="load")
    first = page.locator(".paper-title a").first
    title = squeeze(first.inner_text())
    assert title == post_titles(result.post)[0]
    with page.expect_navigation():
        first.click()
    assert re.fullmatch(re.escape(served.url) + r"/papers/[^/]+\.html", page.url), page.url
    assert squeeze(page.locator("h1").inner_text()) == title

    feeds = {link.get_attribute("type"): link.get_attribute("href")
             for link in page.locator('head link[rel="alternate"]').all()}
    assert set(feeds) >= {"application/rss+xml", "application/atom+xml",
                          "application/feed+json"}
    for kind, href in feeds.items():
        response = page.request.get(href if "://" in href else served.url + href)
        assert response.status == 200, href
        content_type = response.headers["content-type"]
        body = response.body()
        if kind.endswith("+json"):
            assert "json" in content_type, (href, content_type)
            assert json.loads(body)["version"].startswith("https://jsonfeed.org/version/")
        else:
            assert "xml" in content_type, (href, content_type)
            root = ET.fromstring(body)
            assert root.tag == ("rss" if kind == "application/rss+xml"
                                else "{http://www.w3.org/2005/Atom}feed")
    assert tab.errors == [] and tab.foreign() == []


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory):
    """A site built from the demo day where the first paper's title and abstract are
    hostile HTML."""
    out = tmp_path_factory.mktemp("browser-hostile")
    engine = connect(f"sqlite:///{out / 'hostile.sqlite3'}")
    try:
        with engine.begin() as conn:
            import_records(conn, read_snapshot(demo_snapshot()), NOW)
        post = write_post(engine, DEMO_DAY, Settings(), NOW, keep=True)
        with engine.begin() as conn:
            paper_id = post.entries[0].paper.id
            conn.execute(update(papers).where(papers.c.id == paper_id)
                         .values(title=HOSTILE_TITLE, abstract=HOSTILE_ABSTRACT))
            pinned = select(post_entries.c.post_id, post_entries.c.position,
                            post_entries.c.paper_shown).join(
                posts, posts.c.id == post_entries.c.post_id).where(
                posts.c.day == DEMO_DAY, post_entries.c.paper_id == paper_id)
            for post_id, position, shown in conn.execute(pinned).all():
                if shown:
                    conn.execute(update(post_entries).where(
                        post_entries.c.post_id == post_id,
                        post_entries.c.position == position).values(
                        paper_shown={**shown, "title": HOSTILE_TITLE,
                                     "abstract": HOSTILE_ABSTRACT}))
        with open_raw(f"sqlite:///{out / 'hostile.sqlite3'}") as store:
            build_site(store, out / "site")
    finally:
        engine.dispose()
    served = Served(out / "site")
    yield served, paper_id
    served.stop()


def test_hostile_paper_text_never_runs(hostile_site, tab):
    served, paper_id = hostile_site
    page = tab.page
    for path in (f"/{DEMO_DAY}/", f"/papers/{paper_id}.html"):
        page.goto(served.url + path, wait_until="load")
        page.wait_for_load_state("networkidle")
        assert page.evaluate("typeof window.__pwned") == "undefined", path
        assert page.get_by_text(HOSTILE_TITLE, exact=True).first.is_visible(), path
        assert page.get_by_text("<script>window.__pwned=2</script>").first.is_visible(), path
        assert page.locator("main img[src='x']").count() == 0, path
    # search renders the hostile title, and the excerpt of the hostile abstract, as text
    page.locator("#search-query").fill("onerror")
    page.locator("#search-results").get_by_role("link", name=HOSTILE_TITLE).first.wait_for()
    page.locator("#search-query").fill("pwned")
    page.locator("#search-results mark").first.wait_for()
    assert page.locator("#search-results img, #search-results script").count() == 0
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert tab.errors == [] and tab.foreign() == []


@pytest.fixture(scope="module")
def crafted_embeds_site(tmp_path_factory):
    """The fixture posts built with `--embeds oembed`, every shown tweet but the first
    replaced by crafted embed HTML (test_site_embeds.CRAFTED)."""
    from conftest import FIXTURES
    from hotpapers.jobs.legacy import import_legacy
    from hotpapers.store.schema import post_entry_mentions
    from test_site_embeds import CRAFTED

    out = tmp_path_factory.mktemp("browser-embeds")
    url = f"sqlite:///{out / 'embeds.sqlite3'}"
    engine = connect(url)
    try:
        import_legacy(engine, sorted((FIXTURES / "posts").glob("*.md")), NOW)
        with engine.begin() as conn:
            conn.execute(update(post_entry_mentions).where(post_entry_mentions.c.rank > 0)
                         .values(embed_html="".join(CRAFTED)))
        with open_raw(url) as store:
            build_site(store, out / "site", embeds="oembed")
    finally:
        engine.dispose()
    served = Served(out / "site")
    yield served
    served.stop()


def test_p13_crafted_embeds_open_no_dialog(crafted_embeds_site, tab):
    dialogs: list[str] = []

    def dismiss(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    tab.page.on("dialog", dismiss)
    for path in ("/2024-03-04/", "/papers/2403.01234.html"):
        tab.page.goto(crafted_embeds_site.url + path, wait_until="load")
        tab.page.wait_for_load_state("networkidle")
        assert tab.page.locator("blockquote.twitter-tweet").count() >= 1, path
        for link in tab.page.locator("main a").all():
            link.hover()  # onmouseover and the like, had any survived
    assert dialogs == []
    # the platform's widget script was asked for (once) and aborted: no other host is reached
    assert [u for u in tab.foreign() if "widgets.js" not in u] == []
