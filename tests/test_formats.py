"""Hugo, Jekyll and plain markdown posts (hotpapers.render.markdown).

The golden files in tests/fixtures/formats/<flavor>/ are one post built from a small live day.
After an intended change of the output, regenerate them and review the diff:

    HOTPAPERS_REGENERATE_GOLDENS=1 python -m pytest -q tests/test_formats.py -k golden
"""

from __future__ import annotations

import os
import re
from datetime import UTC, date, datetime, timedelta, timezone
from html.parser import HTMLParser
from urllib.parse import quote

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from conftest import FIXTURES
from hotpapers.config import Settings
from hotpapers.jobs.post import write_post
from hotpapers.models import Account, Mention, Observation, Paper, Post, PostEntry, ShownMention
from hotpapers.render.markdown import FLAVORS, escape_text, file_name_for, render_markdown
from hotpapers.store.listings import save_listing
from hotpapers.store.mentions import save_mention
from hotpapers.store.papers import save_paper

GOLDEN = FIXTURES / "formats"
REGENERATE = os.environ.get("HOTPAPERS_REGENERATE_GOLDENS") == "1"

NOW = datetime(2026, 1, 1, tzinfo=UTC)
DAY = date(2024, 5, 6)
T1, T2 = datetime(2024, 5, 6, 12, tzinfo=UTC), datetime(2024, 5, 7, 12, tzinfo=UTC)
AS_OF = T2 + timedelta(hours=7, minutes=30, seconds=1)

EMBED = (  # as X's oEmbed endpoint returns it, with a blank line and template-looking text
    '<blockquote class="twitter-tweet"><p lang="en" dir="ltr">Alpha is out! {{ wow }} '
    '{% yes %} <a href="https://t.co/AbC">https://t.co/AbC</a></p>&mdash; Ada (@ada) '
    '<a href="https://twitter.com/ada/status/1?ref_src=twsrc%5Etfw">May 6, 2024</a>'
    '</blockquote>\n\n<script async src="https://platform.twitter.com/widgets.js" '
    'charset="utf-8"></script>\n')


# -- a small live day (the approach of tests/test_jobs_post.py) -----------------------------

def tweet(native_id: str, paper_ids: list[str], *counts: tuple[datetime, int, int],
          embed_html: str | None = None) -> Mention:
    return Mention(source="x", native_id=native_id, paper_ids=paper_ids, kind="post",
                   permalink=f"https://twitter.com/u{native_id}/status/{native_id}",
                   account=Account("x", f"u{native_id}", f"u{native_id}"), embed_html=embed_html,
                   observations=[Observation(at, likes=fav, reposts=rt)
                                 for at, rt, fav in counts])


def live_day(engine) -> None:
    records = (
        ("2405.00001", "Alpha: *Sparse* Attention for [Lanterns] #1",
         ["Ada Example", "Brook_Sample"], ["cs.LG", "stat.ML"],
         "We study lanterns.\n1. They attend sparsely.\n\n  - Results are illustrative."),
        ("2405.00002", "Beta: \"Quoted\" & <Bracketed> $O(n)$", ["C. Placeholder"], ["cs.CL"],
         "About Beta."),
        ("2405.00003", "Gamma", ["Dee Only"], ["cs.CV"], ""),
    )
    with engine.begin() as conn:
        for pid, title, authors, categories, abstract in records:
            save_paper(conn, Paper(id=pid, title=title, authors=authors, categories=categories,
                                   abstract=abstract, abs_url=f"https://arxiv.org/abs/{pid}",
                                   pdf_url=f"https://arxiv.org/pdf/{pid}"), NOW)
        save_listing(conn, DAY, [("2405.00001", "new"), ("2405.00002", "new"),
                                 ("2405.00003", "cross")])
        for mention in (
            tweet("1", ["2405.00001"], (T1, 20, 20), (T2, 200, 200), embed_html=EMBED),
            tweet("2", ["2405.00001", "2405.00002"], (T1, 30, 30)),
            tweet("5", ["2405.00003"], (T2, 100, 100)),
        ):
            save_mention(conn, mention, NOW)


@pytest.fixture
def live_post(engine) -> Post:
    live_day(engine)
    return write_post(engine, DAY, Settings(), AS_OF)


# -- helpers -------------------------------------------------------------------------------

def split(text: str, flavor: str) -> tuple[dict | None, str]:
    """The parsed front matter and the body, as Hugo and Jekyll split them."""
    if flavor == "markdown":
        return None, text
    match = re.match(r"---\n(.*?\n)---\n", text, re.S)
    assert match, text[:200]
    return yaml.safe_load(match.group(1)), text[match.end():]


def liquid(body: str) -> str:
    """What Liquid leaves of a Jekyll body: the raw block's content."""
    assert body.startswith("{% raw %}\n") and body.endswith("{% endraw %}\n")
    inner = body[len("{% raw %}\n"):-len("{% endraw %}\n")]
    assert "{%" not in inner and "{{" not in inner
    return inner


class Tags(HTMLParser):
    """The tags of an HTML text and the text of its h2 headings."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.headings: list[str] = []
        self.hrefs: list[str] = []
        self._in_h2 = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.hrefs += [value for name, value in attrs if name == "href" and tag == "a"]
        if tag == "h2":
            self._in_h2 = True
            self.headings.append("")

    def handle_endtag(self, tag):
        if tag == "h2":
            self._in_h2 = False

    def handle_data(self, data):
        if self._in_h2:
            self.headings[-1] += data


def html_of(markdown: str) -> Tags:
    markdown_it = pytest.importorskip("markdown_it")
    parser = Tags()
    parser.feed(markdown_it.MarkdownIt("commonmark").render(markdown))
    parser.close()
    return parser


def post_of(title: str, authors: list[str] | None = None, abstract: str = "",
            shown: list[ShownMention] | None = None, categories: list[str] | None = None) -> Post:
    paper = Paper(id="2405.00042", title=title, authors=authors or ["A B"],
                  categories=categories or ["cs.LG"], abstract=abstract,
                  abs_url="https://arxiv.org/abs/2405.00042",
                  pdf_url="https://arxiv.org/pdf/2405.00042")
    entry = PostEntry(paper=paper, reposts=3, likes=4, written_at=T2, shown=shown or [])
    return Post(day=DAY, generated_at=T2, entries=[entry])


# -- golden files --------------------------------------------------------------------------

@pytest.mark.parametrize("flavor", FLAVORS)
def test_golden(live_post, flavor):
    path = GOLDEN / flavor / file_name_for(live_post, flavor)
    text = render_markdown(live_post, flavor)
    if REGENERATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    assert text.encode("utf-8") == path.read_bytes()


def test_golden_files_are_all_made_by_the_test():
    made = {f"{flavor}/{file_name_for(Post(day=DAY, generated_at=T2), flavor)}"
            for flavor in FLAVORS}
    assert {str(p.relative_to(GOLDEN)) for p in GOLDEN.rglob("*.md")} == made


def test_file_names():
    post = Post(day=DAY, generated_at=T2)
    assert [file_name_for(post, f) for f in FLAVORS] == [
        "2024-05-06-hot-papers.md", "2024-05-06-hot-papers.md", "2024-05-06---Hot-Papers.md"]
    ranged = Post(day=DAY, generated_at=T2, layout={"label": "2024-05-04 - 2024-05-06"})
    assert file_name_for(ranged, "jekyll") == "2024-05-04-2024-05-06-hot-papers.md"
    with pytest.raises(ValueError, match="flavor"):
        file_name_for(post, "lumen")
    with pytest.raises(ValueError, match="flavor"):
        render_markdown(post, "gatsby")


def test_the_live_post_has_the_ranking_in_order(live_post):
    assert [e.paper.id for e in live_post.entries] == ["2405.00001", "2405.00003", "2405.00002"]
    for flavor in FLAVORS:
        _, body = split(render_markdown(live_post, flavor), flavor)
        if flavor == "jekyll":
            body = liquid(body)
        parsed = html_of(body)
        assert parsed.headings == [f"{n}. {e.paper.title}"
                                   for n, e in enumerate(live_post.entries, start=1)]
        cards = sum(len(e.shown) for e in live_post.entries)
        assert cards == 4
        assert parsed.tags.count("script") == 0  # every mention a markdown card, no HTML
        assert parsed.tags.count("blockquote") == cards


# -- front matter ----------------------------------------------------------------------

def test_hugo_front_matter(live_post):
    text = render_markdown(live_post, "hugo")
    front, _ = split(text, "hugo")
    assert front["title"] == "Hot Papers 2024-05-06"
    assert isinstance(front["date"], datetime) and front["date"].tzinfo is not None
    assert front["date"] == live_post.generated_at == AS_OF
    assert "\ndate: 2024-05-07T19:30:01+00:00\n" in text  # ISO 8601, not the lumen `.Z`
    assert front["draft"] is False
    assert front["slug"] == "hot-papers-2024-05-06"
    assert front["categories"] == ["arXiv"]
    assert front["tags"] == ["arXiv", "Twitter", "Machine Learning", "Computer Science"]
    assert front["description"] == "Hot papers 2024-05-06"
    assert front["papers"] == [{"id": e.paper.id, "title": e.paper.title,
                                "authors": e.paper.authors} for e in live_post.entries]


def test_jekyll_front_matter(live_post):
    text = render_markdown(live_post, "jekyll")
    front, body = split(text, "jekyll")
    assert front["layout"] == "post"
    assert front["title"] == "Hot Papers 2024-05-06"
    assert "\ndate: 2024-05-07 19:30:01 +0000\n" in text
    moment = datetime.strptime(front["date"], "%Y-%m-%d %H:%M:%S %z")
    assert moment.tzinfo is not None and moment == live_post.generated_at
    assert front["categories"] == ["arXiv"]
    assert front["tags"] == ["arXiv", "Twitter", "Machine Learning", "Computer Science"]
    assert front["excerpt"] == "Hot papers 2024-05-06"  # not the body's `{% raw %}` paragraph
    assert [p["title"] for p in front["papers"]] == [e.paper.title for e in live_post.entries]
    liquid(body)


def test_plain_markdown_has_a_heading_and_no_front_matter(live_post):
    text = render_markdown(live_post, "markdown")
    assert text.startswith("# Hot Papers 2024-05-06\n\n## 1. ")
    assert "\n---\n" not in text


def test_dates_keep_their_offset_and_drop_fractions():
    zone = timezone(timedelta(hours=-5))
    post = Post(day=DAY, generated_at=datetime(2024, 5, 7, 3, 4, 5, 678, tzinfo=zone))
    hugo, _ = split(render_markdown(post, "hugo"), "hugo")
    assert hugo["date"] == datetime(2024, 5, 7, 3, 4, 5, tzinfo=zone)
    assert "date: 2024-05-07T03:04:05-05:00\n" in render_markdown(post, "hugo")
    assert "date: 2024-05-07 03:04:05 -0500\n" in render_markdown(post, "jekyll")
    naive = Post(day=DAY, generated_at=datetime(2024, 5, 7, 3, 4, 5))  # a naive time is UTC
    assert split(render_markdown(naive, "hugo"), "hugo")[0]["date"] == datetime(
        2024, 5, 7, 3, 4, 5, tzinfo=UTC)


def test_an_empty_post():
    post = Post(day=DAY, generated_at=T2)
    assert render_markdown(post, "markdown") == "# Hot Papers 2024-05-06\n"
    front, body = split(render_markdown(post, "hugo"), "hugo")
    assert front["papers"] == [] and body == "\n"
    assert liquid(split(render_markdown(post, "jekyll"), "jekyll")[1]) == "\n"


# -- hostile strings -------------------------------------------------------------------

HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ .Site }}",
    "{{< shortcode >}} {{% shortcode %}}",
    "{% raw %}",
    "{% endraw %}{{ site.github }}",
    "before\n---\nafter",
    "---",
    "...",
    "key: value # comment",
    "&anchor *alias",
    "'single' \"double\" `tick`",
    "مرحبا",
    "🚀 launch 👩‍🚀",
    "line\u2028separator\x85next",
    "# not a heading",
    "[link](javascript:alert(1)) ![img](x)",
    "*emph* _under_ ~~strike~~ $$math$$ | pipe \\ backslash",
    "trailing #",
    "1. list",
    "- item",
    "\tindented",
    "&lt;script&gt; &amp;",
]


@pytest.mark.parametrize("hostile", HOSTILE)
@pytest.mark.parametrize("flavor", FLAVORS)
def test_hostile_strings_come_out_escaped(hostile, flavor):
    abstract = f"{hostile}\n{hostile}\n\n<div>\n    {hostile}\n</div>\n===\n"
    post = post_of(f"Title {hostile} end", authors=[hostile, f"X {hostile}"],
                   abstract=abstract, categories=["cs.LG", hostile])
    text = render_markdown(post, flavor)
    front, body = split(text, flavor)
    if front is not None:
        assert front["title"] == "Hot Papers 2024-05-06"
        assert front["papers"] == [{"id": "2405.00042", "title": f"Title {hostile} end",
                                    "authors": [hostile, f"X {hostile}"]}]
    if flavor == "jekyll":
        body = liquid(body)
    if flavor == "hugo":
        assert "{{<" not in body and "{{%" not in body
    for raw in ("<script", "<img", "<div"):
        assert raw not in body.lower()
    parsed = html_of(body)
    assert set(parsed.tags) <= {"h1", "h2", "p", "ul", "li", "a"}
    assert parsed.hrefs == ["https://arxiv.org/abs/2405.00042", "https://arxiv.org/pdf/2405.00042",
                            "https://arxiv.org/list/cs.LG/recent",
                            f"https://arxiv.org/list/{quote(hostile, safe='')}/recent"]
    assert parsed.headings == [f"1. Title {' '.join(hostile.split())} end"]


@pytest.mark.parametrize("flavor", FLAVORS)
def test_mentions_are_cards_with_no_html_passed_through(flavor):
    """X embeds too: Hugo's and Jekyll's safe defaults drop raw HTML, so every mention is a
    markdown card read from what is known of it (here only its embed, or its link)."""
    shown = [ShownMention("9", EMBED, "https://twitter.com/ada/status/9"),
             ShownMention("8", None, 'https://twitter.com/x/status/8"><script>alert(1)</script>')]
    post = post_of("<script>alert(1)</script>", shown=shown)
    _, body = split(render_markdown(post, flavor), flavor)
    if flavor == "jekyll":
        body = liquid(body)
    parsed = html_of(body)
    assert parsed.tags.count("script") == 0 and "<script" not in body
    assert parsed.tags.count("blockquote") == 2
    assert "**Ada** @ada on X, 2024-05-06" in body  # read from the embed
    assert "Alpha is out! &#123;&#123; wow &#125;&#125;" in body
    assert "{{" not in body and "{%" not in body
    assert "(https://twitter.com/x/status/8%22%3E%3Cscript%3Ealert%281%29%3C/script%3E)" in body


def test_links_are_http_only():
    post = post_of("T")
    post.entries[0].paper.abs_url = "javascript:alert(1)"
    post.entries[0].paper.pdf_url = "http://[broken/x.pdf"
    body = render_markdown(post, "markdown")
    assert "javascript" not in body and "broken" not in body and "- links:" not in body
    post.entries[0].paper.abs_url = "https://arxiv.org/abs/a b(c)<d>"
    assert "- links: [abs](https://arxiv.org/abs/a%20b%28c%29%3Cd%3E)\n" in render_markdown(
        post, "markdown")


def test_escaped_text_reads_the_same():
    text = "*a* _b_ `c` [d] <e> {f} ~g~ \\h #i |j| $k$ &l;"
    assert html_of(escape_text(text)).tags == ["p"]
    markdown_it = pytest.importorskip("markdown_it")
    rendered = markdown_it.MarkdownIt("commonmark").render(escape_text(text))
    assert rendered == "<p>*a* _b_ `c` [d] &lt;e&gt; {f} ~g~ \\h #i |j| $k$ &amp;l;</p>\n"


# -- properties --------------------------------------------------------------------------

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)
PRINTABLE = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=60)


@given(title=TEXT, author=TEXT)
def test_any_title_round_trips_through_the_front_matter(title, author):
    post = post_of(title, authors=[author])
    for flavor in ("hugo", "jekyll"):
        text = render_markdown(post, flavor)
        front, body = split(text, flavor)
        assert front["papers"] == [{"id": "2405.00042", "title": title, "authors": [author]}]
        assert front["title"] == "Hot Papers 2024-05-06"
        assert body.startswith("{% raw %}\n" if flavor == "jekyll" else "\n## 1.")
        text.encode("utf-8")


@given(title=PRINTABLE)
def test_any_printable_title_shows_as_itself(title):
    post = post_of(title)
    for flavor in FLAVORS:
        _, body = split(render_markdown(post, flavor), flavor)
        if flavor == "jekyll":
            body = liquid(body)
        parsed = html_of(body)
        assert parsed.headings == [" ".join(f"1. {title}".split())]
        assert set(parsed.tags) <= {"h1", "h2", "p", "ul", "li", "a"}


def test_post_writes_every_format_from_the_command_line(cli, tmp_path):
    assert cli("import", "legacy", FIXTURES / "posts" / "2024-03-04---Hot-Papers.md").code == 0
    for fmt, name in (("hugo", "2024-03-04-hot-papers.md"), ("jekyll", "2024-03-04-hot-papers.md"),
                      ("markdown", "2024-03-04---Hot-Papers.md")):
        out = tmp_path / fmt
        out.mkdir()
        result = cli("post", "--date", "2024-03-04", "--format", fmt, "--out", f"{out}/")
        assert result.code == 0, result.err
        text = (out / name).read_text(encoding="utf-8")
        if fmt == "markdown":
            assert text.startswith("# Hot Papers 2024-03-04")
        else:
            assert yaml.safe_load(text.split("---\n")[1])["title"] == "Hot Papers 2024-03-04"
