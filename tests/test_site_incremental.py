"""The site built incrementally (keyed by change stamps, details read for the pages made only)
after random writes is byte for byte the site a full build of the same store makes."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from hotpapers.jobs.build_site import build_site
from hotpapers.site.build import build_from
from hotpapers.site.output import MANIFEST
from hotpapers.store.db import connect
from hotpapers.store.mentions import save_mention
from hotpapers.store.papers import save_paper
from hotpapers.store.raw import open_raw
from hotpapers.store.site_data import load_site_data
from hotpapers.store.stamps import bump
from test_stamps_writes import DAYS, IDS, WRITES, T, mention, paper, shown

SITE = "https://example.org/hp/"


@pytest.fixture(autouse=True)
def _no_search(monkeypatch):
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", "/nonexistent/pagefind")


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """Three papers, a mention of each, posts on three days (made once)."""
    path = tmp_path_factory.mktemp("incremental") / "template.sqlite3"
    engine = connect(f"sqlite:///{path}")
    with engine.begin() as conn:
        for i in range(len(IDS)):
            save_paper(conn, paper(i), T)
        for i in range(len(IDS)):
            save_mention(conn, mention(i, i, "text", "ada", 1, 0), T)
        shown(conn, 0, [0, 1], 5)
        shown(conn, 1, [2], 7)
        shown(conn, 2, [0, 1, 2], 1)
    engine.dispose()
    return path


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*")
            if p.is_file() and p.name != MANIFEST}


def incremental(url: str, out: Path, **options):
    with open_raw(url, create=False) as store:
        return build_site(store, out, **options)


def full(url: str, out: Path, **options):
    """The whole store read at once, every file made (no stamps, no manifest)."""
    with open_raw(url, create=False) as store:
        data = load_site_data(store)
    return build_from(data, out, **options)


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(writes=st.lists(WRITES, min_size=1, max_size=5), per_page=st.integers(1, 2),
       category_page=st.integers(1, 3))
def test_an_incremental_build_makes_what_a_full_build_makes(template, writes, per_page,
                                                           category_page):
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        shutil.copy(template, work / "store.sqlite3")
        url = f"sqlite:///{work / 'store.sqlite3'}"
        options = {"site_url": SITE, "per_page": per_page, "category_page": category_page}
        incremental(url, work / "site", **options)
        engine = connect(url)
        try:
            for n, write in enumerate(writes):
                with engine.begin() as conn:
                    write(conn)
                made = incremental(url, work / "site", **options)
                full(url, work / f"full{n}", **options)
                assert files(work / "site") == files(work / f"full{n}")
                assert made.rendered < 1000
        finally:
            engine.dispose()


def test_nothing_changed_reads_nothing_more_and_says_so(template, tmp_path):
    shutil.copy(template, tmp_path / "store.sqlite3")
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    first = incremental(url, tmp_path / "site", site_url=SITE)
    again = incremental(url, tmp_path / "site", site_url=SITE)
    assert again.written == [] and again.rendered == 0
    assert again.unchanged == len(first.written)
    assert again.line().startswith(f"Done: 0 pages written, {again.unchanged} unchanged")
    other = incremental(url, tmp_path / "site", site_url=SITE, per_page=1)  # new options
    assert other.rendered > 0
    (tmp_path / "site" / "index.html").unlink()  # a file gone: made again
    mended = incremental(url, tmp_path / "site", site_url=SITE, per_page=1)
    assert mended.written == ["index.html"]


def test_a_rebuild_reads_the_fields_of_the_papers_it_shows_again_only(template, tmp_path):
    """One day's counts change: the rebuild reads the fields of that day's paper (its day,
    home, category and paper pages are made again), not those of every paper shown (without
    site_url: a feed holds every day, and is made again whole)."""
    shutil.copy(template, tmp_path / "store.sqlite3")
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    options = {"per_page": 1, "category_page": 1}
    incremental(url, tmp_path / "site", **options)
    engine = connect(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE post_entries SET likes = 99 WHERE post_id = "
                          "(SELECT id FROM posts WHERE day = :day)"), {"day": DAYS[1]})
        bump(conn, days=[DAYS[1]])
    engine.dispose()
    statements: list[str] = []
    with open_raw(url, create=False) as store:
        store.connection.set_trace_callback(statements.append)
        made = build_site(store, tmp_path / "site", **options)
    assert "2026-11-24/index.html" in made.written
    read = [s for s in statements if " FROM papers WHERE id IN (" in s
            and "ranking_entries" not in s]  # the newest windows' papers are read whole
    assert read == [read[0]] and IDS[2] in read[0]
    assert IDS[0] not in read[0] and IDS[1] not in read[0]
    full(url, tmp_path / "full", **options)
    assert files(tmp_path / "site") == files(tmp_path / "full")


@pytest.mark.parametrize(("site_url", "per_page", "category_page", "lister"), [
    ("", 1, 3, "categories/cs.LG/index.html"), (SITE, 1, 1, "rss.xml"),
    ("", 3, 1, "index.html")])
def test_a_page_made_again_shows_the_papers_of_days_that_did_not_change(
        tmp_path, site_url, per_page, category_page, lister):
    """Three days, each with its own paper in cs.LG: when one day changes, a page listing
    all three (the category's, the feed, the home page) is made again with the other days'
    papers read whole, though no other page made shows them."""
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    engine = connect(url)
    with engine.begin() as conn:
        for i in range(len(IDS)):
            save_paper(conn, paper(i), T)
            save_mention(conn, mention(i, i, "text", "ada", 1, 0), T)
        for day, i in enumerate([0, 2, 1]):
            shown(conn, day, [i], 5)
    options = {"site_url": site_url, "per_page": per_page, "category_page": category_page}
    incremental(url, tmp_path / "site", **options)
    with engine.begin() as conn:
        conn.execute(text("UPDATE post_entries SET likes = 99 WHERE post_id = "
                          "(SELECT id FROM posts WHERE day = :day)"), {"day": DAYS[1]})
        bump(conn, days=[DAYS[1]])
    engine.dispose()
    made = incremental(url, tmp_path / "site", **options)
    assert lister in made.written
    full(url, tmp_path / "full", **options)
    assert files(tmp_path / "site") == files(tmp_path / "full")
