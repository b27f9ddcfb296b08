"""`hotpapers serve` in a real browser: the demo's store served by a real `hotpapers serve`
(a subprocess on a free loopback port) and driven by Debian's Chromium through Playwright.
The board's form changes the list and the URL as the API answers the same query; a paper
page shows its attention table, chart and explain panel; hostile strings in every query
parameter and in paths run nothing and show as text; axe-core finds no serious or critical
violation; no page logs a console error or reaches past 127.0.0.1.

Skips without the `playwright` package (axe-core: `axe-playwright-python`) or a `chromium`
executable; downloads nothing."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import httpx
import pytest

sync_api = pytest.importorskip("playwright.sync_api")

from hotpapers.config import Settings  # noqa: E402
from hotpapers.jobs.demo import DEMO_DAY, run_demo  # noqa: E402

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium"
                                        if Path("/usr/bin/chromium").exists() else None)
if CHROMIUM is None:
    pytest.skip("no chromium executable", allow_module_level=True)

NOW = datetime(2026, 1, 7, 12, 0, tzinfo=UTC)
HOST = "127.0.0.1"
TIMEOUT_MS = 10_000
NEWEST = "2026-01-05"  # the demo's synthetic day: many sources
CHARTED = "2601.00426"  # a paper of that day with counts observed over time (charts)
HOSTILE = ['"><script>window.__pwned=1</script>', "javascript:window.__pwned=2",
           "{{7*7}}", "<img src=x onerror=\"window.__pwned=3\">",
           "'><svg onload=window.__pwned=4>"]
PARAMETERS = ("date", "method", "window", "category", "keyword", "author", "primary_only",
              "cursor", "limit")
SHOWN = {"category", "keyword", "author"}  # the parameters a board echoes in its form
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


# -- the server and the browser -----------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _wait_for(url: str, process: subprocess.Popen, log: Path, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server stopped: {log.read_text()}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"no answer from {url} in {seconds} s")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`hotpapers serve` over the demo's store; yields its base URL; at the end, its log
    (standard error: the access log) holds no traceback."""
    out = tmp_path_factory.mktemp("browser-serve")
    result = run_demo(out / "demo", Settings(), NOW)
    port, log = _free_port(), out / "serve.log"
    env = {**os.environ, "XDG_CONFIG_HOME": str(out / "config")}
    env.pop("HOTPAPERS_CONFIG", None)
    with log.open("w") as sink:  # a file, not a pipe: a full pipe would stall the server
        process = subprocess.Popen(
            [sys.executable, "-m", "hotpapers", "--db", f"sqlite:///{result.database}",
             "serve", "--host", HOST, "--port", str(port)],
            stdout=sink, stderr=sink, text=True, env=env)
    base = f"http://{HOST}:{port}"
    try:
        _wait_for(f"{base}/healthz", process, log)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)
    text = log.read_text()
    assert '"GET /healthz HTTP/1.1" 200' in text
    assert "Traceback" not in text and '" 500 ' not in text


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"])
        yield browser
        browser.close()


class Tab:
    """A fresh context and page recording every request (any host but 127.0.0.1 is
    aborted), console errors, page errors and dialogs (dismissed)."""

    def __init__(self, browser):
        self.context = browser.new_context(service_workers="block")
        self.context.set_default_timeout(TIMEOUT_MS)
        self.requests: list[str] = []
        self.errors: list[tuple[str, str]] = []  # (message, the URL it is about)
        self.dialogs: list[str] = []
        self.documents: set[str] = set()  # the URLs navigated to
        self.context.route("**/*", lambda route: route.continue_()
                           if urlsplit(route.request.url).hostname == HOST else route.abort())
        self.page = self.context.new_page()
        self.page.on("request", self._request)
        self.page.on("console", lambda msg: self.errors.append(
            (msg.text, msg.location.get("url", ""))) if msg.type == "error" else None)
        self.page.on("pageerror", lambda exc: self.errors.append((f"pageerror: {exc}", "")))
        self.page.on("dialog", self._dialog)

    def _request(self, request) -> None:
        self.requests.append(request.url)
        if request.is_navigation_request():
            self.documents.add(request.url)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def visit(self, url: str, status: int = 200):
        """Go to `url`, expect `status`, wait for the page to settle."""
        response = self.page.goto(url, wait_until="load")
        assert response is not None and response.status == status, (url, response.status)
        self.page.wait_for_load_state("networkidle")
        return response

    def unexpected_errors(self) -> list[tuple[str, str]]:
        """Console errors, but the one Chromium logs for a page answered 4xx (a 404 or 422
        page); a missing style sheet or image still counts."""
        return [(text, url) for text, url in self.errors
                if not (text.startswith("Failed to load resource: the server responded "
                                        "with a status of 4") and url in self.documents)]

    def foreign(self) -> list[str]:
        return [url for url in self.requests
                if not url.startswith("data:") and urlsplit(url).hostname != HOST]

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def tab(browser):
    tab = Tab(browser)
    yield tab
    assert tab.foreign() == []
    tab.close()


def listed(page) -> list[str]:
    """The paper ids the board in `page` lists, in its order."""
    return [href.removeprefix("/papers/") for href in page.locator(
        "ol.board .window-title a").evaluate_all("links => links.map(a => a.getAttribute("
                                                 "'href'))")]


def api_ids(base: str, query: str) -> list[str]:
    found = httpx.get(f"{base}/api/v1/rankings?{query}", timeout=10)
    assert found.status_code == 200, found.text
    return [p["id"] for p in found.json()["papers"]]


# -- the board's form ---------------------------------------------------------------------

def test_the_boards_form_changes_the_list_and_the_url(server, tab):
    page = tab.page
    tab.visit(f"{server}/")
    assert page.locator("h1").inner_text().strip() == f"Hot Papers {NEWEST}"
    newest = listed(page)
    assert newest and newest == api_ids(server, "")
    sparks = page.locator("ol.board .spark svg")
    assert sparks.count() == len(newest)  # a sparkline a row, named for screen readers
    assert page.get_by_role("img", name=re.compile(r"^Counts over time, all sources: ")
                            ).count() == len(newest)
    assert sparks.first.bounding_box()["width"] > 50

    page.locator("#q-date").fill(str(DEMO_DAY))
    page.locator("#q-method").select_option("classic")
    with page.expect_navigation():
        page.get_by_role("button", name="Show").click()
    query = parse_qs(urlsplit(page.url).query)
    assert query["date"] == [str(DEMO_DAY)] and query["method"] == ["classic"]
    assert query["window"] == ["day"]
    seed = listed(page)
    assert len(seed) == 8 and seed == api_ids(server, urlsplit(page.url).query)
    assert seed != newest

    tab.visit(f"{server}/")
    page.locator("#q-window").select_option("week")
    page.locator("#q-category").fill("cs.CL cs.LG")
    page.locator("#q-method").select_option("trending")
    with page.expect_navigation():
        page.locator("#q-category").press("Enter")
    query = parse_qs(urlsplit(page.url).query)
    assert query["window"] == ["week"] and query["category"] == ["cs.CL cs.LG"]
    assert query["method"] == ["trending"]
    narrowed = listed(page)
    assert narrowed == api_ids(server, urlsplit(page.url).query)
    assert 0 < len(narrowed) < len(api_ids(server, "window=week&method=trending&limit=200"))
    assert page.locator("#q-window").input_value() == "week"
    assert page.locator("#q-category").input_value() == "cs.CL cs.LG"
    assert "week from" in page.locator("h1").inner_text()

    page.locator("#q-keyword").fill("zzqxjv")
    with page.expect_navigation():
        page.get_by_role("button", name="Show").click()
    assert parse_qs(urlsplit(page.url).query)["keyword"] == ["zzqxjv"]
    assert listed(page) == [] and page.get_by_text("No paper reached the list.").is_visible()
    assert tab.unexpected_errors() == [] and tab.dialogs == []


def test_a_category_link_and_the_next_page_keep_the_query_in_the_url(server, tab):
    page = tab.page
    tab.visit(f"{server}/{DEMO_DAY}?method=classic&limit=3")
    assert listed(page) == api_ids(server, f"date={DEMO_DAY}&method=classic")[:3]
    with page.expect_navigation():
        page.get_by_role("link", name="More papers").click()
    query = parse_qs(urlsplit(page.url).query)
    assert query["method"] == ["classic"] and query["limit"] == ["3"] and "cursor" in query
    assert listed(page) == api_ids(server, f"date={DEMO_DAY}&method=classic")[3:6]
    category = page.locator("ol.board a.category").first
    name = category.inner_text()
    with page.expect_navigation():
        category.click()
    assert parse_qs(urlsplit(page.url).query) == {"category": [name]}
    assert listed(page) == api_ids(server, urlencode({"category": name}))
    assert tab.unexpected_errors() == []


# -- the paper page -----------------------------------------------------------------------

def test_a_paper_page_shows_its_attention_chart_and_explain_panel(server, tab):
    page = tab.page
    tab.visit(f"{server}/")
    link = page.locator(f'ol.board .window-title a[href="/papers/{CHARTED}"]')
    title = " ".join(link.inner_text().split())
    with page.expect_navigation():
        link.click()
    assert urlsplit(page.url).path == f"/papers/{CHARTED}"
    assert " ".join(page.locator("h1").inner_text().split()) == title

    table = page.get_by_role("table", name="Posts per source and their counts, as last "
                             "observed")
    assert table.is_visible() and table.locator("tbody tr").count() >= 2
    charts = page.locator("figure.chart svg[role=img]")
    assert charts.count() >= 1
    box = charts.first.bounding_box()
    assert box is not None and box["width"] > 50 and box["height"] > 10
    points = charts.first.locator("polyline").get_attribute("points").split()
    assert len(points) >= 2
    caption = page.locator("figure.chart figcaption").first.inner_text()
    assert "observed" in caption and " times from " in caption
    assert page.get_by_role("img", name=caption, exact=True).count() == 1  # named by it

    panel = page.get_by_role("region", name="Why it ranks here")
    rank = api_ids(server, f"date={NEWEST}&method=hot&limit=200").index(CHARTED) + 1
    assert panel.get_by_text(f"Ranked #{rank} of ").first.is_visible()
    assert "by hot for the day " + NEWEST in panel.inner_text()
    panel.locator("#e-method").select_option("trending")
    with page.expect_navigation():
        panel.get_by_role("button", name="Explain").click()
    assert parse_qs(urlsplit(page.url).query)["method"] == ["trending"]
    panel = page.get_by_role("region", name="Why it ranks here")
    assert "by trending for the day" in panel.inner_text()
    assert page.locator("section.mentions article, section.mentions blockquote").count() >= 1
    assert tab.unexpected_errors() == [] and tab.dialogs == []


# -- hostile input --------------------------------------------------------------------------

def test_the_search_box_finds_a_known_paper(server, tab):
    """Typed into the box every page has, a title word finds its paper, which opens."""
    page = tab.page
    tab.visit(f"{server}/")
    page.get_by_role("searchbox", name="Search papers").fill("counterfactual generative")
    with page.expect_navigation():
        page.get_by_role("searchbox", name="Search papers").press("Enter")
    assert urlsplit(page.url).path == "/search"
    assert parse_qs(urlsplit(page.url).query)["q"] == ["counterfactual generative"]
    found = listed(page)
    assert found[:1] == ["2101.06046"]
    with page.expect_navigation():
        page.locator("ol.board .window-title a").first.click()
    assert urlsplit(page.url).path == "/papers/2101.06046"
    assert "Counterfactual Generative Networks" in page.locator("h1").inner_text()
    assert tab.unexpected_errors() == [] and tab.dialogs == []


def _assert_nothing_ran(tab: Tab, where: str) -> None:
    page = tab.page
    assert page.evaluate("typeof window.__pwned") == "undefined", where
    assert page.locator("script, iframe, object, embed, img[src='x']").count() == 0, where
    assert page.locator("[onerror], [onload], [onclick]").count() == 0, where
    assert page.locator('a[href^="javascript:" i], form[action^="javascript:" i]'
                        ).count() == 0, where
    assert tab.dialogs == [], where


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_query_parameters_run_nothing_and_show_as_text(server, tab, hostile):
    for parameter in PARAMETERS:
        for path in ("/", f"/{DEMO_DAY}", "/week/", f"/papers/{CHARTED}"):
            url = f"{server}{path}?{urlencode({parameter: hostile})}"
            response = tab.page.goto(url, wait_until="load")
            where = f"{path} {parameter}={hostile!r}"
            assert response is not None and response.status in (200, 422), where
            _assert_nothing_ran(tab, where)
            if response.status == 422:
                assert tab.page.locator("h1").inner_text() == "Bad request", where
                assert tab.page.locator("main p").first.inner_text().startswith(
                    parameter), where
            elif parameter in SHOWN and not path.startswith("/papers/"):
                # categories are words apart by spaces, kept sorted
                words = hostile.split() if parameter == "category" else [hostile]
                field = tab.page.locator(f"#q-{parameter}").input_value()
                assert sorted(field.split() if parameter == "category" else [field]) == \
                    sorted(words), where
                span = tab.page.locator(".window-span").inner_text()
                assert all(word in span for word in words), where
    assert tab.unexpected_errors() == []


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_paths_run_nothing_and_show_as_text(server, tab, hostile):
    for path in (f"/{quote(hostile, safe='')}", f"/papers/{quote(hostile, safe='')}",
                 f"/papers/{quote(hostile)}"):
        response = tab.page.goto(server + path, wait_until="load")
        assert response is not None and response.status in (404, 422), path
        _assert_nothing_ran(tab, path)
        message = tab.page.locator("main p").first.inner_text()
        if response.status == 404 and path.startswith("/%"):
            assert message == f"nothing at /{hostile}", path
    assert tab.unexpected_errors() == []


def test_the_hostile_checks_can_fail(server, tab):
    """What the checks above look for is seen when it is there: a script the page runs
    (had the CSP let it), an attribute handler, a javascript: link, a dialog."""
    tab.visit(f"{server}/")
    tab.page.evaluate("""() => { window.__pwned = 1; }""")
    with pytest.raises(AssertionError):
        _assert_nothing_ran(tab, "pwned")
    tab.visit(f"{server}/")
    tab.page.evaluate("""() => { const a = document.createElement('a');
        a.href = 'JavaScript:void(0)'; a.textContent = 'x';
        document.querySelector('main').append(a); }""")
    with pytest.raises(AssertionError):
        _assert_nothing_ran(tab, "link")
    tab.visit(f"{server}/")
    tab.page.evaluate("setTimeout(() => alert('x'), 0)")
    tab.page.wait_for_timeout(200)
    assert tab.dialogs == ["x"]
    tab.page.evaluate("""() => { const i = document.createElement('img');
        i.alt = 'gone'; i.src = '/static/missing.svg'; document.body.append(i); }""")
    tab.page.wait_for_load_state("networkidle")
    tab.page.wait_for_timeout(200)
    assert [url for _, url in tab.unexpected_errors()] == [f"{server}/static/missing.svg"]
    tab.errors.clear()


# -- axe-core -------------------------------------------------------------------------------

AXE_PAGES = {"/": 200, f"/{DEMO_DAY}?method=classic": 200, "/week/": 200,
             f"/papers/{CHARTED}": 200, "/archive/": 200, "/search?q=networks": 200,
             "/no/such/page": 404}


@pytest.fixture(scope="module")
def axe():
    return pytest.importorskip("axe_playwright_python.sync_playwright").Axe()


def _violations(page, axe) -> list[str]:
    results = axe.run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS},
                                     "resultTypes": ["violations"]})
    return [f"{v['id']} ({v['impact']}): {v['help']}: "
            f"{[n['target'] for n in v['nodes']][:5]}"
            for v in results.response["violations"]]


@pytest.mark.parametrize("path", list(AXE_PAGES))
def test_axe_finds_no_violation(server, tab, axe, path):
    """None at all (the brief: no serious or critical one), as on the static site."""
    tab.visit(server + path, AXE_PAGES[path])
    backgrounds = set()
    for scheme in ("light", "dark"):  # the colours differ: contrast is checked in each
        tab.page.emulate_media(color_scheme=scheme)
        backgrounds.add(tab.page.evaluate("getComputedStyle(document.body).backgroundColor"))
        assert _violations(tab.page, axe) == [], scheme
    assert len(backgrounds) == 2
    assert tab.unexpected_errors() == []


def test_axe_would_see_a_serious_violation(server, tab, axe):
    """The check above can fail: an image without a text alternative is critical."""
    tab.visit(f"{server}/archive/")
    tab.page.evaluate("""() => { const i = document.createElement('img');
        i.src = '/favicon.svg'; document.querySelector('main').append(i); }""")
    assert any(v.startswith("image-alt (critical)") for v in _violations(tab.page, axe))
