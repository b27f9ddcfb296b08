"""`site build --embeds oembed`: stored embed HTML is sanitised at the site's output (an
allowlist of the platforms' blockquote markup), the stored bytes stay as they were, and
each page loads a platform's widget script once."""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
from sqlalchemy import select, update

from conftest import FIXTURES
from hotpapers.jobs.legacy import import_legacy
from hotpapers.store.schema import mentions, post_entry_mentions
from test_site import build

NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
WIDGETS = "https://platform.twitter.com/widgets.js"
REAL_LINK = "https://twitter.com/ada_example/status/1764000000000000001?ref_src=twsrc%5Etfw"
CRAFTED = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    '<blockquote class="twitter-tweet" onmouseover="alert(3)"><p>hi '
    '<a href="javascript:alert(4)">x</a></p></blockquote>',
    "<svg onload=alert(5)><script>alert(6)</script></svg>",
    '<iframe src="javascript:alert(7)"></iframe><iframe srcdoc="<script>alert(8)</script>">',
    '<a href="jav&#x61;script:alert(9)">e</a><a href="&#106;avascript:alert(10)">f</a>'
    '<a href=" javascript:alert(11)">g</a><a href="java&#9;script:alert(12)">h</a>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(13)>",
    '<a href="data:text/html,<script>alert(14)</script>">d</a>',
    '<form action="javascript:alert(15)"><button formaction="javascript:alert(16)">go'
    '</button></form><object data="javascript:alert(17)"></object>',
    '<base href="javascript:alert(18)//"><meta http-equiv="refresh" '
    'content="0;url=javascript:alert(19)"><style>*{background:url(javascript:alert(20))}</style>',
    '<!--><script>alert(21)</script>--><![CDATA[<script>alert(22)</script>]]>'
    '<noscript><p title="</noscript><img src=x onerror=alert(23)>"></noscript>',
    '<blockquote class="twitter-tweet"><p>ok</p></blockquote>'
    '<script async src="https://evil.example/widgets.js"></script>'
    '<a href="https://ok.example" style="x:expression(alert(24))" target="_top">s</a>',
]
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "srcdoc", "xlink:href",
                  "background", "poster", "cite"}


class Parsed(HTMLParser):
    """Every start tag; the tags inside `div.embed`, and script elements with their text."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.embedded: list[str] = []
        self.scripts: list[tuple[str | None, str]] = []
        self._embed_depth = 0
        self._in_script = False
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "script":
            self.scripts.append((attrs.get("src"), ""))
            self._in_script = True
        if tag in ("br", "img", "meta", "link", "input", "base"):
            if self._embed_depth:
                self.embedded.append(tag)
            return
        if self._embed_depth:
            self.embedded.append(tag)
            self._embed_depth += 1
        elif tag == "div" and "embed" in (attrs.get("class") or "").split():
            self._embed_depth = 1

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False
        if self._embed_depth:
            self._embed_depth -= 1

    def handle_data(self, data):
        if self._in_script:
            src, text = self.scripts[-1]
            self.scripts[-1] = (src, text + data)


@pytest.fixture
def crafted(engine, tmp_path):
    """The fixture posts with every shown tweet but the first replaced by a crafted embed
    (in the post and in the stored mention); returns the engine, the stored embeds and out."""
    results = import_legacy(engine, sorted((FIXTURES / "posts").glob("*.md")), NOW)
    assert [r.error for r in results] == [None] * len(results)
    with engine.begin() as conn:
        rows = conn.execute(select(post_entry_mentions.c.post_id, post_entry_mentions.c.position,
                                   post_entry_mentions.c.rank, post_entry_mentions.c.mention_id)
                            .order_by(post_entry_mentions.c.post_id,
                                      post_entry_mentions.c.position,
                                      post_entry_mentions.c.rank)).all()
        assert len(rows) >= 3
        for i, (post_id, position, rank, mention_id) in enumerate(rows[1:]):
            html = "".join(CRAFTED[i::len(rows) - 1])
            conn.execute(update(post_entry_mentions).where(
                post_entry_mentions.c.post_id == post_id,
                post_entry_mentions.c.position == position,
                post_entry_mentions.c.rank == rank).values(embed_html=html))
            conn.execute(update(mentions).where(mentions.c.id == mention_id)
                         .values(embed_html=html))
        stored = conn.execute(select(post_entry_mentions.c.embed_html)
                              .order_by(post_entry_mentions.c.post_id)).scalars().all()
    return engine, stored, tmp_path / "site"


def test_p13_crafted_embeds_make_no_executable_markup(crafted):
    engine, stored, out = crafted
    build(engine, out, embeds="oembed")
    pages = sorted(out.rglob("*.html"))
    embedded_somewhere = False
    for path in pages:
        page = Parsed(path.read_text(encoding="utf-8"))
        embedded_somewhere |= bool(page.embedded)
        assert set(page.embedded) <= {"blockquote", "p", "a", "br"}, (path, page.embedded)
        for src, text in page.scripts:
            assert src in (WIDGETS, "/static/search.js") and not text.strip(), (path, src)
        for tag, attrs in page.tags:
            assert tag not in ("iframe", "object", "embed", "base", "img", "math",
                               "style"), (path, tag)
            for name, value in attrs.items():
                assert not name.startswith("on") and name not in ("style", "srcdoc"), (path, name)
                if name in URL_ATTRIBUTES and value:
                    flat = "".join(value.split()).lower()
                    assert not flat.startswith(("javascript:", "data:", "vbscript:")), value
                    assert "javascript" not in flat, (path, value)
        widgets = [src for src, _ in page.scripts if src == WIDGETS]
        tweets = any(tag == "blockquote" and attrs.get("class") == "twitter-tweet"
                     for tag, attrs in page.tags)
        assert len(widgets) == int(tweets), path  # once on a page showing tweets
    assert embedded_somewhere
    with engine.connect() as conn:  # the stored embeds are as they were
        again = conn.execute(select(post_entry_mentions.c.embed_html)
                             .order_by(post_entry_mentions.c.post_id)).scalars().all()
    assert again == stored


def test_p13_a_real_embed_keeps_its_blockquote_and_link_and_one_widget_script(crafted):
    engine, _, out = crafted
    build(engine, out, embeds="oembed")
    for path in (out / "2024-03-04" / "index.html", out / "papers" / "2403.01234.html"):
        page = Parsed(path.read_text(encoding="utf-8"))
        quotes = [attrs for tag, attrs in page.tags if tag == "blockquote"]
        assert {"class": "twitter-tweet"} in quotes, path
        assert any(tag == "a" and attrs.get("href") == REAL_LINK for tag, attrs in page.tags)
        assert [src for src, _ in page.scripts].count(WIDGETS) == 1, path
    static = out.parent / "static"
    build(engine, static, embeds="static")
    for path in static.rglob("*.html"):
        assert WIDGETS not in path.read_text(encoding="utf-8"), path
