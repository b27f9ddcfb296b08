"""Post assembly (hotpapers.render.assemble) is pure: plain data in, the same Post out as the
post job makes from the store; and render_post, the one way from a post to a format."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotpapers.config import Settings
from hotpapers.jobs.post import FORMATS, read_day, render_post, write_post
from hotpapers.models import Paper
from hotpapers.render.assemble import PostRow, assemble_post
from hotpapers.render.lumen import WIDGET, file_name, render_lumen
from hotpapers.render.markdown import file_name_for, render_markdown
from test_jobs_post import DAY, T2, live_day

WRITTEN = datetime(2024, 5, 7, 8, 57, 46, tzinfo=UTC)


def paper(pid: str) -> Paper:
    return Paper(id=pid, title=f"Paper {pid}", authors=["A B"], categories=["cs.LG"],
                 abs_url=f"https://arxiv.org/abs/{pid}", pdf_url=f"https://arxiv.org/pdf/{pid}")


PAPERS = {pid: paper(pid) for pid in ("2405.00001", "2405.00002", "2405.00003")}
EMBEDS = {("x", "1"): ("https://x.com/a/status/1", "<blockquote>one</blockquote>\n"),
          ("x", "2"): ("https://x.com/b/status/2", None),
          ("bluesky", "3"): (None, None)}
ROWS = [PostRow("2405.00002", 30, 40, (("x", "2"), ("x", "1"))),
        PostRow("2405.00001", 5, 6),
        PostRow("2405.00003", 1, 2, (("bluesky", "3"),))]


def test_a_post_follows_its_ranking_and_shows_each_embed():
    post = assemble_post(ROWS, PAPERS, EMBEDS, day=DAY, written_at=WRITTEN)
    assert (post.day, post.generated_at, post.layout) == (DAY, WRITTEN, {})
    assert [(e.paper.id, e.reposts, e.likes, e.written_at) for e in post.entries] == [
        ("2405.00002", 30, 40, WRITTEN), ("2405.00001", 5, 6, WRITTEN),
        ("2405.00003", 1, 2, WRITTEN)]
    first = post.entries[0].shown
    assert [m.key for m in first] == [("x", "2"), ("x", "1")]
    assert first[0].permalink == "https://x.com/b/status/2"
    assert first[0].embed_html == ('<blockquote class="twitter-tweet"><a href='
                                   '"https://x.com/b/status/2"></a></blockquote>\n'
                                   f"{WIDGET}\n")  # no HTML: the bare blockquote, kept so
    assert first[1].embed_html == "<blockquote>one</blockquote>\n"
    assert post.entries[1].shown == []
    assert post.entries[2].shown[0].embed_html.startswith(
        '<blockquote class="twitter-tweet"></blockquote>')  # no link known at all


def test_assembling_changes_no_input_and_gives_the_same_post_again():
    rows, papers, embeds = copy.deepcopy((ROWS, PAPERS, EMBEDS))
    first = assemble_post(rows, papers, embeds, day=DAY, written_at=WRITTEN)
    again = assemble_post(rows, papers, embeds, day=DAY, written_at=WRITTEN)
    assert first == again and first is not again
    assert (rows, papers, embeds) == (ROWS, PAPERS, EMBEDS)


def test_a_shown_mention_must_have_its_embed_row():
    with pytest.raises(KeyError):
        assemble_post([PostRow("2405.00001", 1, 1, (("x", "9"),))], PAPERS, EMBEDS, day=DAY,
                      written_at=WRITTEN)


@given(st.permutations(list(PAPERS)), st.integers(0, 3))
def test_entries_are_the_rows_in_order(order, n):
    rows = [PostRow(pid, i, 2 * i) for i, pid in enumerate(order[:n])]
    post = assemble_post(rows, PAPERS, {}, day=DAY, written_at=WRITTEN)
    assert [(e.paper.id, e.reposts, e.likes) for e in post.entries] == [
        (r.paper_id, r.reposts, r.likes) for r in rows]


def test_the_post_job_assembles_what_the_store_holds(engine):
    live_day(engine)
    with engine.connect() as conn:
        inputs = read_day(conn, DAY, Settings(), T2)
    assembled = assemble_post(inputs.rows, inputs.papers, inputs.embeds, day=DAY, written_at=T2)
    assert assembled == write_post(engine, DAY, Settings(), T2)
    assert [r.paper_id for r in inputs.rows] == ["2405.00001", "2405.00003", "2405.00002"]


def test_a_published_day_is_read_as_published(engine):
    live_day(engine)
    kept = write_post(engine, DAY, Settings(), T2, keep=True)
    with engine.connect() as conn:
        inputs = read_day(conn, DAY, Settings(), datetime(2026, 1, 1, tzinfo=UTC))
    assert inputs.stored == kept and inputs.rows == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_render_post_is_each_formats_renderer(fmt):
    post = assemble_post(ROWS, PAPERS, EMBEDS, day=date(2024, 5, 6), written_at=WRITTEN)
    settings = Settings(post_filename="{date}-hp.md")
    rendered = render_post(post, fmt, settings)
    if fmt == "lumen":
        assert (rendered.name, rendered.text) == (file_name(post, "{date}-hp.md"),
                                                  render_lumen(post))
        assert rendered.name == "2024-05-06-hp.md"
    else:
        assert (rendered.name, rendered.text) == (file_name_for(post, fmt),
                                                  render_markdown(post, fmt))


def test_render_post_refuses_an_unknown_format():
    post = assemble_post([], PAPERS, {}, day=DAY, written_at=WRITTEN)
    with pytest.raises(ValueError, match="gatsby"):
        render_post(post, "gatsby", Settings())
