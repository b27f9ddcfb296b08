"""Full-text search over the stored papers, in the database (SQLite FTS5 or PostgreSQL's
tsvector indexes): every word must match, titles and authors weigh more than abstracts,
the index follows every write (single papers, bulk loads, a copied store), hostile input is
only words; and the web's /search page and /api/v1/search."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from hotpapers.config import Settings
from hotpapers.jobs.store_copy import copy_store
from hotpapers.models import Paper
from hotpapers.store.db import connect
from hotpapers.store.fulltext import match_query, search_papers
from hotpapers.store.papers import save_paper
from hotpapers.web.app import create_app
from web_support import fresh_url, get, load_demo

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
PAPERS = [
    Paper(id="2603.00001", title="Sparse attention for long documents",
          abstract="We study transformers on very long inputs.", authors=["Ada Lovelace"]),
    Paper(id="2603.00002", title="Graph networks for molecules",
          abstract="Attention over atoms helps sparse graphs.", authors=["Alan Turing"]),
    Paper(id="hep-th/9901001", title="Strings at low energy",
          abstract="A note on branes.", authors=["Émilie du Châtelet", "Grace Hopper"]),
]


@pytest.fixture
def store(engine):
    with engine.begin() as conn:
        for paper in PAPERS:
            save_paper(conn, paper, NOW)
    return engine


def found(engine, words: str) -> list[str]:
    with engine.connect() as conn:
        return [paper_id for paper_id, _ in search_papers(conn, words, 10)]


def test_every_word_must_match_and_titles_weigh_more(store):
    assert found(store, "sparse attention") == ["2603.00001", "2603.00002"]  # title first
    assert found(store, "sparse molecules") == ["2603.00002"]
    assert found(store, "sparse branes") == []


def test_authors_ids_and_a_prefix_of_the_last_word(store):
    assert found(store, "Hopper") == ["hep-th/9901001"]
    assert found(store, "chatelet") in (["hep-th/9901001"], [])  # diacritics folded (SQLite)
    assert found(store, "2603.00002") == ["2603.00002"]
    assert found(store, "molec") in (["2603.00002"], [])  # prefix (SQLite); not on PostgreSQL


def test_the_index_follows_a_changed_paper(store):
    paper = replace(PAPERS[0], title="Dense retrieval at scale")
    with store.begin() as conn:
        save_paper(conn, paper, NOW)
    assert found(store, "retrieval") == ["2603.00001"]
    assert found(store, "long documents") == []  # its old title is gone from the index
    assert found(store, "transformers") == ["2603.00001"]  # the abstract is still there


@pytest.mark.parametrize("hostile", ['"', '")) OR 1=1 --', "NEAR(a b)", "title: x", "*", "^",
                                     "a AND", "\x00", "🙂", "' OR ''='", "{{7*7}}"])
def test_hostile_queries_are_words_only(store, hostile):
    assert found(store, hostile) == []
    assert match_query(hostile) is None or '"' in match_query(hostile)


def test_a_copied_store_is_searchable(store, tmp_path):
    target = connect(f"sqlite:///{tmp_path / 'copy.sqlite3'}")
    assert all(c.same for c in copy_store(store, target))
    assert found(target, "molecules") == ["2603.00002"]
    target.dispose()


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    with fresh_url(tmp_path_factory.mktemp("search"), "search") as url:
        load_demo(url)
        yield create_app(url, Settings(), access=lambda line: None)


def test_the_api_finds_a_known_paper_and_pages(demo_app):
    answer = get(demo_app, "/api/v1/search?q=counterfactual")
    assert answer.status_code == 200
    papers = answer.json()["papers"]
    assert papers[0]["id"] == "2101.06046" and papers[0]["relevance"] > 0
    everything = get(demo_app, "/api/v1/search?q=learning&limit=200").json()["papers"]
    first = get(demo_app, "/api/v1/search?q=learning&limit=2").json()
    assert len(everything) > 2 and first["next_cursor"]
    second = get(demo_app, f"/api/v1/search?q=learning&limit=2&cursor={first['next_cursor']}")
    assert [p["id"] for p in first["papers"] + second.json()["papers"]] == \
        [p["id"] for p in everything[:4]]
    missing = get(demo_app, "/api/v1/search")
    assert missing.status_code == 422 and missing.json()["parameter"] == "q"


def test_the_page_lists_the_paper_and_escapes_the_query(demo_app):
    page = get(demo_app, "/search?q=counterfactual")
    assert page.status_code == 200 and 'href="/papers/2101.06046"' in page.text
    hostile = get(demo_app, "/search?q=" + json.dumps('"><script>alert(1)</script>'))
    assert hostile.status_code == 200 and "<script>alert(1)" not in hostile.text
    assert "&lt;script&gt;" in hostile.text
    empty = get(demo_app, "/search")
    assert empty.status_code == 200 and 'name="q"' in empty.text
    assert 'action="/search"' in get(demo_app, "/").text  # every page has the search box


def test_postgresql_finds_through_its_indexes_not_by_reading_every_paper(store):
    """The plan of a search uses both search indexes (with sequential scans made as dear as
    the planner allows, since these tables are tiny): one OR over title, id and author
    matches could only read every paper, whatever its size."""
    if store.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's plans")
    from hotpapers.store.fulltext import _PG_SEARCH

    with store.connect() as conn:
        conn.exec_driver_sql("SET enable_seqscan = off")
        plan = "\n".join(row[0] for row in conn.execute(
            text("EXPLAIN " + _PG_SEARCH.text),
            {"words": "sparse attention", "id": "sparse attention", "limit": 10, "offset": 0}))
    assert "ix_papers_search" in plan and "ix_paper_authors_search" in plan, plan


def test_a_common_word_ranks_at_most_the_candidates(engine):
    """A word in every paper: at most CANDIDATES matches are ranked (ranking them all grows
    with the store), the newest: on SQLite those indexed last, on PostgreSQL the latest
    announced, then the highest ids. An id is found by its own index all the same."""
    from hotpapers.store.bulk import save_papers_bulk
    from hotpapers.store.fulltext import CANDIDATES

    many = [Paper(id=f"2604.{n:05d}", title=f"Common ground {n}", abstract="Common words.")
            for n in range(CANDIDATES + 50)]
    with engine.begin() as conn:
        save_papers_bulk(conn, many[:50], NOW)  # indexed first: the oldest
        save_papers_bulk(conn, many[50:], NOW)
    with engine.connect() as conn:
        ranked = {paper for paper, _ in search_papers(conn, "common", CANDIDATES + 50)}
        assert ranked == {paper.id for paper in many[50:]}
        assert [paper for paper, _ in search_papers(conn, "2604.00007", 5)] == ["2604.00007"]


def test_a_store_made_before_the_stored_vector_is_searchable_after_upgrading(engine):
    """Migration 0008 (PostgreSQL: the text vector kept in a column) over a store of 0007
    with papers in it: they are found as before, and papers written later too."""
    from alembic import command

    from hotpapers.store.db import _alembic_config, current_revision, migrate

    command.downgrade(_alembic_config(engine), "0007")
    assert current_revision(engine) == "0007"
    with engine.begin() as conn:
        save_paper(conn, Paper(id="2605.00001", title="Granular gravel flows",
                               abstract="Sand."), NOW)
    migrate(engine)
    assert found(engine, "gravel") == ["2605.00001"]
    with engine.begin() as conn:
        save_paper(conn, Paper(id="2605.00002", title="Gravel roads", abstract="Dust."), NOW)
    assert sorted(found(engine, "gravel")) == ["2605.00001", "2605.00002"]
