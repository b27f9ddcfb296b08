"""Mention cards and the pick of a paper's best mentions (render/cards.py): what a card
says, that any text stays text in it, and which mentions a post shows."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotpapers.models import Account, Mention, Observation, ShownMention, SourceSummary
from hotpapers.render.cards import (
    best_mentions,
    count_text,
    counts_as_of,
    mention_card,
    source_counts,
    summary_line,
)

markdown_it = pytest.importorskip("markdown_it")
T0 = datetime(2026, 1, 5, 12, tzinfo=UTC)
TAGS = re.compile(r"<(/?)([a-z0-9]+)[^>]*>")


def rendered(markdown: str) -> str:
    return markdown_it.MarkdownIt("commonmark").render(markdown)


def mention(source: str, native_id: str, *observations: tuple[int, dict], created=T0,
            handle: str | None = None) -> Mention:
    return Mention(source, native_id, ["2601.00001"], f"https://example.org/{native_id}",
                   Account(source, handle or native_id, handle), f"text {native_id}", created,
                   observations=[Observation(T0 + timedelta(hours=h), **counts)
                                 for h, counts in observations])


def test_counts_read_as_words():
    assert count_text([("likes", 1), ("reposts", 0), ("replies", 2)]) == "1 like, 2 replies"
    assert count_text([("points", 12)], "hf") == "12 upvotes"
    assert count_text([("points", 1)], "hn") == "1 point"
    assert summary_line(SourceSummary("hn", 1, 2, (("points", 40),))) == (
        "Hacker News: 1 person, 2 posts (40 points)")


def test_counts_are_the_last_observation_made_by_the_time():
    m = mention("x", "1", (1, {"likes": 5}), (3, {"likes": 9, "reposts": 2}))
    assert counts_as_of(m, T0) == ()
    assert counts_as_of(m, T0 + timedelta(hours=2)) == (("likes", 5),)
    assert counts_as_of(m, T0 + timedelta(hours=3)) == (("likes", 9), ("reposts", 2))
    naive = T0.replace(tzinfo=None) + timedelta(hours=5)  # SQLite gives naive UTC
    assert counts_as_of(m, naive) == (("likes", 9), ("reposts", 2))


def test_best_mentions_per_source_most_engaged_first_in_the_given_order():
    as_of = T0 + timedelta(hours=5)
    found = [mention("x", "a", (1, {"likes": 3})), mention("x", "b", (1, {"likes": 30})),
             mention("x", "c", (1, {"likes": 30}), created=T0 - timedelta(hours=1)),
             mention("x", "d", (1, {"likes": 1})),
             mention("hn", "e", (1, {"points": 2})),
             mention("hn", "late", (6, {"points": 900}), created=as_of + timedelta(hours=1)),
             mention("bluesky", "f")]
    picked = best_mentions(found, as_of, 2, order=["hn", "x"])
    # hn first (as asked), then x (ties: the earlier post), then the rest by name
    assert [m.key for m in picked] == [("hn", "e"), ("x", "c"), ("x", "b"), ("bluesky", "f")]
    assert picked[1].counts == (("likes", 30),) and picked[1].text == "text c"
    assert source_counts(found, as_of) == {"x": (("likes", 64),), "hn": (("points", 2),),
                                           "bluesky": ()}
    assert best_mentions(found, as_of, 0) == []


def test_a_card_names_the_author_and_links_the_post():
    card = mention_card(ShownMention("1", None, "https://bsky.app/profile/a/post/1", "bluesky",
                                     name="Ada *L*", handle="ada.bsky.social",
                                     text="Line one\nline two\n\n\nNew paragraph",
                                     created_at=T0, counts=(("likes", 3), ("quotes", 0))))
    assert card.splitlines() == [
        r"> **Ada \*L\*** @ada.bsky.social on Bluesky, 2026-01-05", ">",
        "> Line one  ", "> line two", ">", "> New paragraph", ">",
        "> 3 likes · [on Bluesky](https://bsky.app/profile/a/post/1)"]
    page = rendered(card)
    assert page.count("<blockquote>") == 1 and "<br />" in page  # the line break kept
    assert "<strong>Ada *L*</strong>" in page


def test_a_card_of_an_x_embed_reads_the_embed():
    embed = ('<blockquote class="twitter-tweet"><p lang="en" dir="ltr">Hi <a href="https://t.co/'
             'x">https://t.co/x</a></p>&mdash; Ada L (@ada) <a href="https://twitter.com/ada/'
             'status/7?ref_src=twsrc%5Etfw">May 6, 2024</a></blockquote>')
    card = mention_card(ShownMention("7", embed, None))
    assert card.splitlines()[0] == "> **Ada L** @ada on X, 2024-05-06"
    assert "> Hi https://t.co/x" in card and "<" not in card
    assert card.endswith("[on X](https://twitter.com/ada/status/7)")


def test_a_link_that_is_not_http_is_left_out():
    card = mention_card(ShownMention("1", None, "javascript:alert(1)", "mastodon", text="t"))
    assert "javascript" not in card and "](" not in card


@given(text=st.text(st.characters(blacklist_categories=("Cc", "Cs"))),
       name=st.one_of(st.none(), st.just(" "),
                      st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1)),
       handle=st.one_of(st.none(), st.just("x\n---\n1. evil"),
                        st.text(st.characters(blacklist_categories=("Cc", "Cs")))))
def test_any_text_stays_text_in_one_quote(text, name, handle):
    """Whatever a post says (HTML, markdown, shortcodes, Liquid, fence or heading markers),
    its card is one blockquote of paragraphs, and reads as the text said."""
    card = mention_card(ShownMention("1", None, None, "reddit", name=name, text=text,
                                     handle=handle))
    page = rendered(card)
    tags = [t for closing, t in TAGS.findall(page) if not closing]
    assert tags[0] == "blockquote" and tags.count("blockquote") == 1
    assert set(tags) <= {"blockquote", "p", "strong", "br"}
    assert "{{" not in card and "{%" not in card
    shown = " ".join(html.unescape(TAGS.sub(" ", page)).split())
    words = " ".join(text.split())
    handle = "".join((handle or "").split()).lstrip("@")
    who = " ".join([*([name] if name and name.strip() else []),
                    *([f"@{handle}"] if handle else [])])
    byline = f"{who} on Reddit" if who else "Reddit"
    assert shown == " ".join(f"{byline} {words}".split())
