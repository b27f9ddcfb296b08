"""Every paper link an e-mail, a webhook or a bot post carries names a page the site built:
one function (`render.links.paper_url`) makes a paper's address for every output."""

from __future__ import annotations

import email
import email.policy
import re
import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from conftest import FIXTURES

SITE_URL = "https://papers.example.org/hp"
OLD_STYLE = "hep-th/9901001"


def test_p6_paper_url_and_path_agree_for_old_and_new_ids():
    from hotpapers.render.links import paper_path, paper_url

    for paper_id, slug in [(OLD_STYLE, "hep-th_9901001"), ("2403.01234", "2403.01234")]:
        assert paper_path("/hp", paper_id) == f"/hp/papers/{slug}.html"
        assert paper_url(SITE_URL + "/", paper_id) == f"{SITE_URL}/papers/{slug}.html"


def _posts(tmp_path: Path) -> Path:
    """The fixture posts, one of them naming an old-style (slashed) id."""
    folder = tmp_path / "posts"
    shutil.copytree(FIXTURES / "posts", folder)
    first = folder / "2024-03-04---Hot-Papers.md"
    first.write_text(first.read_text(encoding="utf-8").replace("2403.01234", OLD_STYLE),
                     encoding="utf-8")
    return folder


def _file_of(url: str, site: Path) -> Path:
    path = unquote(urlsplit(url).path).removeprefix(urlsplit(SITE_URL).path)
    return site / (path.lstrip("/") + ("index.html" if path.endswith("/") else ""))


def _decoded(out: str) -> str:
    """The text and HTML parts of the e-mail a dry run prints (after its heading line)."""
    message = email.message_from_string(out.split("\n", 1)[1], policy=email.policy.default)
    return "\n".join(part.get_content() for part in message.walk()
                     if part.get_content_maintype() == "text")


@pytest.mark.parametrize("target", ["email", "webhook", "bluesky", "mastodon"])
def test_p6_every_paper_link_of_a_digest_is_a_page_of_the_built_site(cli, monkeypatch,
                                                                     tmp_path, target):
    for name, value in {
        "SITE_URL": SITE_URL, "EMAIL_FROM": "digest@papers.example.org",
        "EMAIL_TO": '["ada@example.org"]', "EMAIL_UNSUBSCRIBE": "unsubscribe@papers.example.org",
        "WEBHOOK_URLS": '["https://hooks.example.org/T000/B000/x"]', "WEBHOOK_FORMAT": "json",
        "BSKY_HANDLE": "papers.example.org", "BSKY_APP_PASSWORD": "app-pass",
        "MASTODON_TOKEN": "token", "MASTODON_INSTANCES": '["https://m.example.org"]',
    }.items():
        monkeypatch.setenv(f"HOTPAPERS_{name}", value)
    assert cli("import", "legacy", _posts(tmp_path)).code == 0
    site = tmp_path / "site"
    assert cli("site", "build", "--out", site).code == 0
    result = cli("publish", "--date", "2024-03-04", "--to", target, "--dry-run")
    assert result.code == 0, result.err
    text = _decoded(result.out) if target == "email" else result.out
    links = set(re.findall(re.escape(SITE_URL) + r"[^\s\"'<>)\]|]*", text))
    papers = {link for link in links if "/papers/" in link}
    if target != "bluesky":  # a Bluesky post links the day only
        assert papers, result.out
    assert any("hep-th_9901001" in link for link in papers) or target == "bluesky"
    for link in links:
        assert _file_of(link, site).is_file(), link
