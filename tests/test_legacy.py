"""Parsing original Hot Papers posts and writing them again byte for byte."""

from __future__ import annotations

import string
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import FIXTURES
from hotpapers.models import Paper, Post, PostEntry, ShownMention
from hotpapers.render.lumen import file_name, render_lumen
from hotpapers.render.lumen_parse import PostFormatError, parse_post

POSTS = FIXTURES / "posts"


def test_fixture_post_parses_into_the_facts_it_shows():
    legacy = parse_post((POSTS / "2024-03-04---Hot-Papers.md").read_bytes())
    post = legacy.post
    assert post.day == date(2024, 3, 4)
    assert post.generated_at == datetime(2024, 3, 5, 7, 30, 1, tzinfo=UTC)
    assert [e.paper.id for e in post.entries] == ["2403.01234", "2403.00007", "hep-th/9901001"]
    first, second, third = post.entries
    assert first.paper.title == "Sparse  Lanterns: A Toy Model of Attention"
    assert first.paper.authors == ["Ada Example", "Brook Sample", "Cy Placeholder"]
    assert first.paper.categories == ["cs.LG", "stat.ML"]
    assert (first.reposts, first.likes) == (120, 300)
    assert first.written_at == datetime(2024, 3, 5, 7, 30, 1, tzinfo=UTC)
    assert second.written_at == datetime(2024, 3, 5, 7, 30, 3, tzinfo=UTC)
    assert second.paper.abstract == "" and second.shown == []
    assert third.paper.pdf_url is None
    tweets = {m.native_id: m for m in legacy.mentions}
    assert list(tweets) == ["1764000000000000001", "1764000000000000002", "1764000000000000003"]
    ada = tweets["1764000000000000001"]
    assert ada.account.handle == "ada_example" and ada.account.name == "Ada Example"
    assert ada.permalink == "https://twitter.com/ada_example/status/1764000000000000001"
    assert ada.text == "Our lanterns paper is out: https://t.co/AbCdEf1234 & more soon"
    assert ada.created_at.date() == date(2024, 3, 4)
    assert ada.paper_ids == ["2403.01234"]
    assert tweets["1764000000000000002"].account.name == "例"


@pytest.mark.parametrize("path", sorted(POSTS.glob("*.md")), ids=lambda p: p.name)
def test_fixture_posts_render_back_identically(path):
    data = path.read_bytes()
    post = parse_post(data, path.name).post
    assert render_lumen(post).encode() == data
    assert file_name(post) == path.name


def test_empty_day_and_early_variant_layout():
    empty = parse_post((POSTS / "2024-03-08---Hot-Papers.md").read_bytes()).post
    assert empty.entries == [] and empty.layout == {}
    early = parse_post((POSTS / "2024-03-06---Hot-Papers.md").read_bytes()).post
    assert early.layout == {"extra_lead_blank_lines": 1}


def test_every_real_post_renders_back_identically(corpus_dir, seed_post):
    paths = [*sorted(corpus_dir.glob("*.md")), seed_post]
    assert len(paths) == 127
    different = [p.name for p in paths
                 if render_lumen(parse_post(p.read_bytes(), p.name).post).encode()
                 != p.read_bytes()]
    assert different == []


GOOD = (POSTS / "2024-03-04---Hot-Papers.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(("data", "line", "reason"), [
    (GOOD[:1500], 38, "truncated"),
    (GOOD[: GOOD.index("- [cs.CL]")], 45, "truncated"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", 1, "binary"),
    (GOOD.split("---\n", 2)[2], 1, "no front matter"),
    (GOOD.replace("retweets: 30, favorites: 24", "retweets: 30, favorites: many"), 42,
     "expected '- retweets"),
    (GOOD.replace("retweets: 120,", "retweets: -120,"), 22, "expected '- retweets"),
    (GOOD.replace("# 2. A Paper", "# 5. A Paper"), 38, "paper number 5"),
    (GOOD.replace("abs/2403.00007", "abs/not-an-id"), 44, "no arXiv id"),
    (GOOD.replace("title: Hot Papers 2024-03-04", "title: Cold Papers"), 1, "front matter"),
    (GOOD.encode("utf-8").replace("例".encode(), b"\xff\xfe"), 32, "not UTF-8"),
    (GOOD + "trailing words\n", 68, "expected a blank line"),
    (GOOD.replace("2024-03-05T07:30:01", "2024-13-05T07:30:01"), 3, "not a valid time"),
    (GOOD.replace("2024-03-04", "2024-02-30"), 2, "not a valid date"),
    (GOOD.replace("(03/05/2024 07:30:03)", "(13/05/2024 07:30:03)"), 42, "not a valid time"),
    (GOOD.replace("\n", "\r\n"), 1, "CRLF"),
])
def test_bad_posts_name_file_line_and_reason(data, line, reason):
    with pytest.raises(PostFormatError) as caught:
        parse_post(data, "bad.md")
    message = str(caught.value)
    assert message.startswith(f"bad.md:{line}: "), message
    assert reason in message
    assert "\n" not in message


# -- round trip of generated posts ---------------------------------------------------

line_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\n\r\x85"
                           "\u2028\u2029\x0b\x0c\x1c\x1d\x1e"),
    max_size=40)
category = st.sampled_from(["cs.LG", "cs.CV", "stat.ML", "math.NA", "q-bio.NC", "hep-th"])
stamp = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)).map(
    lambda d: d.replace(microsecond=0, tzinfo=UTC))
tweet_id = st.integers(10**17, 10**19).map(str)
handle = st.text(string.ascii_letters + string.digits + "_", min_size=1, max_size=15)


@st.composite
def tweet_embed(draw) -> ShownMention:
    native_id, who = draw(tweet_id), draw(handle)
    body = draw(line_text).replace("<", "&lt;").replace(">", "&gt;")
    html = (f'<blockquote class="twitter-tweet"><p lang="en" dir="ltr">{body}</p>&mdash; '
            f'{who} (@{who}) <a href="https://twitter.com/{who}/status/{native_id}'
            f'?ref_src=twsrc%5Etfw">May 1, 2024</a></blockquote>\n<script async '
            'src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>\n')
    return ShownMention(native_id, html)


@st.composite
def entry(draw, number: int) -> PostEntry:
    paper_id = f"24{draw(st.integers(1, 12)):02d}.{number:05d}"
    paper = Paper(
        id=paper_id,
        title=draw(line_text),
        authors=draw(st.lists(st.from_regex(r"[A-Z][a-z]{1,8} [A-Z][a-z]{1,10}", fullmatch=True),
                              min_size=1, max_size=5)),
        categories=draw(st.lists(category, min_size=1, max_size=3, unique=True)),
        abstract=draw(line_text),
        abs_url=f"https://arxiv.org/abs/{paper_id}",
        pdf_url=draw(st.sampled_from([f"https://arxiv.org/pdf/{paper_id}", None])),
    )
    return PostEntry(paper=paper, reposts=draw(st.integers(0, 10**5)),
                     likes=draw(st.integers(0, 10**5)), written_at=draw(stamp),
                     shown=draw(st.lists(tweet_embed(), max_size=3)))


@st.composite
def post(draw) -> Post:
    count = draw(st.integers(0, 4))
    entries = [draw(entry(n)) for n in range(1, count + 1)]
    layout = {"extra_lead_blank_lines": 1} if draw(st.booleans()) else {}
    day = draw(st.dates(min_value=date(2020, 1, 1), max_value=date(2029, 12, 31)))
    return Post(day=day, generated_at=draw(stamp), entries=entries, layout=layout)


@given(post())
def test_render_then_parse_gives_the_same_post(original):
    text = render_lumen(original)
    again = parse_post(text).post
    assert render_lumen(again) == text
    assert [e.paper.id for e in again.entries] == [e.paper.id for e in original.entries]
    assert [(e.paper.title, e.paper.abstract, e.paper.categories, e.reposts, e.likes)
            for e in again.entries] == [(e.paper.title, e.paper.abstract, e.paper.categories,
                                         e.reposts, e.likes) for e in original.entries]
    assert [[m.native_id for m in e.shown] for e in again.entries] == \
        [[m.native_id for m in e.shown] for e in original.entries]
