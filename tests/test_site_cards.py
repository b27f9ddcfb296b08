"""The site's mention cards and attention: a post's text as pieces (line breaks kept, URLs
and @handles linked, hostile links never live), the attention table and the charts drawn
only for sources observed often enough, and both as a built site shows them."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hotpapers.models import Account, Mention, Observation
from hotpapers.site.charts import CHART_MIN, attention_of
from hotpapers.site.context import mention_card
from hotpapers.site.rich_text import Piece, handle_link, paragraphs, pieces
from hotpapers.store.mentions import save_mention
from test_site import Page, build, imported

NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
HOSTILE_TEXT = ('First line <script>alert(1)</script>\n'
                'see https://example.org/a?b=1&c=2. and javascript:alert(1) or '
                'data:text/html,<b>x</b> or https://evil.example/"onmouseover="alert(1)\n'
                '\n'
                'Second paragraph @bob.bsky.social https://x.y/\u202eevil '
                'arxiv.org/abs/2403.0...')


def links(found) -> list[tuple[str, str]]:
    return [(p.text, p.href) for p in found if p.href]


# -- text as pieces -------------------------------------------------------------------------

def test_line_breaks_and_paragraphs_are_kept():
    text = "Title of the thread\npdf: https://t.co/abc\n\n\n  \nA new paragraph\nand a line"
    made = paragraphs(text, "x")
    assert [[("".join(p.text for p in line)) for line in para] for para in made] == [
        ["Title of the thread", "pdf: https://t.co/abc"], ["A new paragraph", "and a line"]]
    assert paragraphs("") == () and paragraphs(" \n\n ") == ()


def test_urls_are_linked_without_the_sentence_around_them():
    line = ("Read (https://en.wikipedia.org/wiki/Lantern_(toy)), https://t.co/AbC. "
            "pic.twitter.com/XyZ and “https://example.org/q?a=1&b=2”!")
    assert links(pieces(line, "x")) == [
        ("https://en.wikipedia.org/wiki/Lantern_(toy)",
         "https://en.wikipedia.org/wiki/Lantern_(toy)"),
        ("https://t.co/AbC", "https://t.co/AbC"),
        ("pic.twitter.com/XyZ", "https://pic.twitter.com/XyZ"),
        ("https://example.org/q?a=1&b=2", "https://example.org/q?a=1&b=2")]
    assert "".join(p.text for p in pieces(line, "x")) == line  # nothing lost or added


def test_shortened_urls_and_emails_stay_text():
    line = "arxiv.org/abs/2403.0... and https://arxiv.org/abs/24… mail ada@example.org"
    assert links(pieces(line, "bluesky")) == []


def test_handles_are_linked_where_the_source_has_them():
    assert links(pieces("thanks @ada_ex/@Bob! cc @carol.bsky.social", "x")) == [
        ("@ada_ex", "https://x.com/ada_ex"), ("@Bob", "https://x.com/Bob"),
        ("@carol", "https://x.com/carol")]
    assert links(pieces("cc @carol.bsky.social.", "bluesky")) == [
        ("@carol.bsky.social", "https://bsky.app/profile/carol.bsky.social")]
    assert links(pieces("hi @dan@sigmoid.social and @eve", "mastodon")) == [
        ("@dan@sigmoid.social", "https://sigmoid.social/@dan")]
    assert links(pieces("@dang said so", "hn")) == []
    assert handle_link("x<y", "x") is None and handle_link("a/b", "hn") is None
    assert handle_link("pg", "hn") == "https://news.ycombinator.com/user?id=pg"


def test_hostile_text_never_becomes_a_live_link():
    made = [piece for para in paragraphs(HOSTILE_TEXT, "bluesky") for line in para
            for piece in line]
    assert links(made) == [
        ("https://example.org/a?b=1&c=2", "https://example.org/a?b=1&c=2"),
        ("https://evil.example/", "https://evil.example/"),
        ("@bob.bsky.social", "https://bsky.app/profile/bob.bsky.social"),
        ("https://x.y/", "https://x.y/")]
    text = "".join(p.text for p in made)
    assert "javascript:alert(1)" in text and "<script>alert(1)</script>" in text
    assert '"onmouseover="alert(1)' in text and "\u202eevil" in text
    for piece in made:
        assert piece.href is None or piece.href.startswith(("https://", "http://"))
        assert not piece.href or not set(piece.href) & set('"<> \u202e')


def test_a_card_shows_handle_counts_and_profile():
    mention = Mention(
        source="hn", native_id="1", paper_ids=["2403.01234"],
        permalink="https://news.ycombinator.com/item?id=1",
        account=Account("hn", "pg", "pg", None), text="Show HN: lanterns",
        created_at=NOW, observations=[Observation(NOW, points=1, replies=0),
                                      Observation(NOW + timedelta(hours=1), points=12,
                                                  replies=3)])
    card = mention_card(mention)
    assert card.handle == "pg" and card.profile == "https://news.ycombinator.com/user?id=pg"
    assert card.count_line == "3 replies, 12 points"
    assert card.paragraphs == (((Piece("Show HN: lanterns"),),),)
    x = mention_card(Mention(source="x", native_id="2", paper_ids=[],
                             account=Account("x", "@ada", "@ada", "Ada"), text="hi"))
    assert x.handle == "@ada" and x.profile == "https://x.com/ada" and x.count_line == ""


# -- attention ------------------------------------------------------------------------------

def observed(source: str, native_id: str, hours: list[int], **extra) -> Mention:
    return Mention(source=source, native_id=native_id, paper_ids=["p"], observations=[
        Observation(NOW + timedelta(hours=h), likes=2 * h, reposts=h, **extra) for h in hours])


def test_few_observations_make_a_table_and_no_chart():
    attention = attention_of([observed("bluesky", "a", [1, 2]), observed("mastodon", "b", [1])],
                             [])
    assert attention.charted == []
    rows = {r.source: r for r in attention.sources}
    assert rows["bluesky"].counts == [("likes", 4), ("reposts", 2)]
    assert rows["bluesky"].count_line == "4 likes, 2 reposts" and rows["bluesky"].total == 6
    assert rows["bluesky"].observed == "2 times, 2024-03-10"
    assert rows["mastodon"].observed == "once, 2024-03-10" and rows["mastodon"].posts == 1
    assert [r.source for r in attention.sources] == ["bluesky", "mastodon"]  # most first
    assert rows["bluesky"].bar == attention.bar_width and rows["mastodon"].bar == 40


def test_a_source_observed_often_enough_gets_its_own_chart():
    hours = list(range(1, CHART_MIN + 1))
    attention = attention_of([observed("bluesky", "a", hours), observed("bluesky", "b", [2]),
                              observed("hn", "c", [1, 5])], [])
    charted = attention.charted
    assert [r.source for r in charted] == ["bluesky"]
    chart = charted[0].chart
    assert chart.count == CHART_MIN and len(chart.points.split()) == CHART_MIN
    # two posts: counts summed at each time either was observed
    assert (chart.low, chart.high) == (3, 3 * CHART_MIN + 6)
    # drawn from 0: the lowest total (3) sits above the bottom, and every time has a dot
    assert len(chart.dots) == CHART_MIN
    assert max(float(y) for _, y in chart.dots) < chart.height - 4


def test_totals_stand_in_for_unobserved_posts_and_absorb_their_count():
    rows = [{"source": "legacy", "observed_at": NOW, "likes": 10, "reposts": 40}]
    x = Mention(source="x", native_id="1", paper_ids=["p"])
    attention = attention_of([x, Mention(source="x", native_id="2", paper_ids=["p"])], rows)
    assert [(r.label, r.posts, r.count_line, r.observed) for r in attention.sources] == [
        ("X (as published)", 2, "10 likes, 40 reposts", "as published, 2024-03-10")]
    assert attention_of([], []).sources == []
    unseen = attention_of([x], []).sources[0]
    assert (unseen.observed, unseen.count_line, unseen.chart) == ("never", "none", None)


def test_attention_depends_on_the_data_only():
    mentions = [observed("bluesky", str(i), [i, i + 3, i + 7]) for i in range(6)]
    mentions += [observed("reddit", "r", [1, 2, 3], points=5)]
    first = attention_of(mentions, [])
    for seed in range(3):
        shuffled = mentions[:]
        random.Random(seed).shuffle(shuffled)
        assert attention_of(shuffled, []) == first


# -- the built site -------------------------------------------------------------------------

def test_paper_and_day_pages_show_cards_and_attention(engine, tmp_path):
    imported(engine)
    with engine.begin() as conn:
        save_mention(conn, Mention(
            source="bluesky", native_id="at://did:plc:ada/app.bsky.feed.post/1",
            paper_ids=["2403.01234"], permalink="https://bsky.app/profile/ada.bsky.social/post/1",
            account=Account("bluesky", "did:plc:ada", "ada.bsky.social", "Ada <b>"),
            text=HOSTILE_TEXT, created_at=NOW, observations=[
                Observation(NOW + timedelta(hours=h), likes=3 * h, reposts=h)
                for h in (1, 2, 5, 9)]), NOW)
        save_mention(conn, Mention(
            source="mastodon", native_id="https://sigmoid.social/@eve/1",
            paper_ids=["2403.01234"], permalink="https://sigmoid.social/@eve/1",
            account=Account("mastodon", "https://sigmoid.social/@eve", "eve@sigmoid.social",
                            "Eve"), text="Lanterns!", created_at=NOW,
            observations=[Observation(NOW, likes=1, reposts=0)]), NOW)
    out = tmp_path / "site"
    build(engine, out)
    paper = (out / "papers" / "2403.01234.html").read_text()
    parsed = Page(paper)
    assert [tag for tag, _ in parsed.tags].count("polyline") == 1  # bluesky's four times
    assert '<th scope="row">Bluesky</th>' in paper and '<th scope="row">Mastodon</th>' in paper
    assert "Bluesky: likes, reposts and its other counts summed, observed 4 times" in paper
    # the post reads as written: its lines, its links, its text escaped
    assert "First line &lt;script&gt;alert(1)&lt;/script&gt;<br>" in paper
    assert ('<a href="https://example.org/a?b=1&amp;c=2" rel="nofollow noopener">'
            'https://example.org/a?b=1&amp;c=2</a>.') in paper
    assert "javascript:alert(1)" in paper and 'href="javascript' not in paper
    assert "Ada &lt;b&gt;" in paper and "27 likes, 9 reposts" in paper
    assert 'href="https://sigmoid.social/@eve"' in paper and "@eve@sigmoid.social" in paper
    for tag, attrs in parsed.tags:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        href = attrs.get("href")
        if tag == "a" and href:
            assert href.startswith(("https://", "http://", "/", "#")), href
            if href.startswith("http"):
                assert "noopener" in (attrs.get("rel") or "").split(), href
    day = (out / "2024-03-04" / "index.html").read_text()
    assert 'aria-label="Mentions"' not in day and "<article class=\"mention" not in day
    assert day.count('<h3 class="mentions-title">Mentions</h3>') >= 1
    assert '<section id="search-results"' not in day
