"""Hugo and Jekyll build our `--format hugo|jekyll` posts with the site configurations of
docs/formats.md (read from that file, so the documented blocks are the tested ones) and
show every mention card with their default, safe settings. Skips where `hugo` or `jekyll`
is not installed (Debian: `apt-get install hugo jekyll`)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs" / "formats.md"
BLOCK = re.compile(r"^```\w+ (?P<path>\S+)\n(?P<body>.*?)^```$", re.M | re.S)
CARD_LINK = re.compile(r"^>.*\[on [^\]]+\]\((?P<url>[^)\s]+)\)$", re.M)
BLOCKQUOTE = re.compile(r"<blockquote>(.*?)</blockquote>", re.S)
DAYS = (("2021-01-18", "classic"), ("2026-01-05", "hot"))  # the demo's two days


def documented_site(root: Path, tool: str) -> None:
    """Write the files docs/formats.md gives for `tool` under `root`."""
    found = [m for m in BLOCK.finditer(DOCS.read_text()) if m["path"].startswith(f"{tool}/")]
    assert found, f"docs/formats.md gives no {tool} files"
    for block in found:
        path = root / block["path"].removeprefix(f"{tool}/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(block["body"])


@pytest.fixture
def demo_store(cli, tmp_path, monkeypatch):
    """The demo's store (the original's day and the synthetic multi-source day), posts
    made from it without asking X for embeds."""
    assert cli("demo", "--out", tmp_path / "demo").code == 0
    monkeypatch.setenv("HOTPAPERS_DB", f"sqlite:///{tmp_path / 'demo' / 'hotpapers.sqlite3'}")
    monkeypatch.setenv("HOTPAPERS_X_OEMBED_URL", "")
    return cli


def write_posts(cli, fmt: str, folder: Path) -> list[str]:
    """Each demo day's post in `fmt` into `folder`; the card links they hold."""
    links = []
    for day, method in DAYS:
        result = cli("post", "--date", day, "--method", method, "--format", fmt,
                     "--out", f"{folder}/")
        assert result.code == 0, result.err
    for post in folder.glob("*.md"):
        links += CARD_LINK.findall(post.read_text())
    return links


def shown_cards(site: Path) -> list[str]:
    """The card links inside block quotes of every page the tool built."""
    found = []
    for page in site.rglob("*.html"):
        html = page.read_text()
        assert "raw HTML omitted" not in html, page
        for quote in BLOCKQUOTE.findall(html):
            found += re.findall(r'<a href="([^"]+)"[^>]*>on ', quote)
    return found


def _unescape(url: str) -> str:
    return url.replace("&amp;", "&")


@pytest.mark.skipif(shutil.which("hugo") is None, reason="hugo is not installed")
def test_hugo_shows_every_card(demo_store, tmp_path):
    root = tmp_path / "hugo"
    documented_site(root, "hugo")
    links = write_posts(demo_store, "hugo", root / "content" / "posts")
    assert len(links) >= 10  # X cards on the original's day, several sources on the other
    done = subprocess.run(["hugo", "--quiet", "-d", "public"], cwd=root, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and "WARN" not in done.stdout + done.stderr, done.stderr
    assert sorted(map(_unescape, shown_cards(root / "public"))) == sorted(links)


@pytest.mark.skipif(shutil.which("jekyll") is None, reason="jekyll is not installed")
def test_jekyll_shows_every_card(demo_store, tmp_path):
    root = tmp_path / "jekyll"
    documented_site(root, "jekyll")
    links = write_posts(demo_store, "jekyll", root / "_posts")
    assert len(links) >= 10
    done = subprocess.run(["jekyll", "build", "-d", "_site"], cwd=root, capture_output=True,
                          text=True, timeout=300)
    out = done.stdout + done.stderr
    assert done.returncode == 0 and "Warning" not in out and "Error" not in out, out
    assert sorted(map(_unescape, shown_cards(root / "_site"))) == sorted(links)
