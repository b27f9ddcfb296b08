"""The bulk path of `import arxiv-snapshot` (issue 15, item 5): records equal to what the
store reads back, papers shown by posts kept as shown, indexes and relaxed settings put
back (also after an error), and an import killed midway that a second run completes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text

from hotpapers.config import Settings
from hotpapers.errors import InputError
from hotpapers.jobs import arxiv_snapshot
from hotpapers.jobs.arxiv_snapshot import import_arxiv_snapshot
from hotpapers.models import Paper, Post, PostEntry, Version
from hotpapers.sources.arxiv.kaggle import parse_record
from hotpapers.store import bulk
from hotpapers.store.bulk import bulk_session, child_keys, save_papers_bulk, secondary_indexes
from hotpapers.store.db import connect
from hotpapers.store.fulltext import SEARCH_TABLE, search_papers
from hotpapers.store.paper_rows import PAPER_COLUMNS, codec
from hotpapers.store.papers import load_papers, save_paper
from hotpapers.store.posts import load_post, save_post
from hotpapers.store.schema import paper_authors, paper_categories, paper_versions, papers

NOW = datetime(2026, 1, 1, tzinfo=UTC)
TABLES = (papers, paper_authors, paper_categories, paper_versions)


def record(number: int, **extra) -> dict:
    """A snapshot record; `number` picks its id, authors and categories."""
    return {
        "id": f"2403.{number:05d}", "title": f"Paper\n  {number}", "abstract": f" On {number}.\n",
        "authors": "x", "authors_parsed": [[f"Last{number}", "A.", ""], ["Second", "B.", ""]]
        [: 1 + number % 2], "categories": ["cs.LG stat.ML", "math.OC"][number % 2],
        "comments": "7 pages" if number % 3 else None, "journal-ref": None, "doi": None,
        "versions": [{"version": f"v{v}", "created": f"Mon, {v} Apr 2024 1{v}:00:00 GMT"}
                     for v in range(1, 2 + number % 3)],
    } | extra


def write(path: Path, records: list) -> Path:
    path.write_text("".join((json.dumps(r) if isinstance(r, dict) else r) + "\n"
                            for r in records), encoding="utf-8")
    return path


def dump(engine) -> dict:
    """Every row of the papers' tables, in key order."""
    with engine.connect() as conn:
        return {t.name: conn.execute(select(t).order_by(*t.primary_key.columns)).all()
                for t in TABLES}


SEARCH = {"sqlite": {SEARCH_TABLE}, "postgresql": {"ix_papers_search", "ix_paper_authors_search"}}


def index_names(engine) -> set[str]:
    """The indexes of the papers' tables, their search table (SQLite) or indexes, and their
    foreign keys on PostgreSQL (a large load drops those there too)."""
    with engine.connect() as conn:
        found = inspect(conn)
        names = {i["name"] for t in TABLES for i in found.get_indexes(t.name)}
        if engine.dialect.name == "postgresql":
            names |= {k["name"] for t in TABLES for k in found.get_foreign_keys(t.name)}
            names |= set(conn.exec_driver_sql("SELECT indexname FROM pg_indexes").scalars())
        else:
            names |= set(conn.exec_driver_sql("SELECT name FROM sqlite_master").scalars())
        return names


def dropped_names(engine) -> set[str]:
    """What a large load on `engine` drops."""
    names = {i.name for i in secondary_indexes()} | SEARCH[engine.dialect.name]
    if engine.dialect.name == "postgresql":
        names |= {k.name for k in child_keys()}
    return names


def found_by_search(engine, words: str) -> set[str]:
    with engine.connect() as conn:
        return {paper_id for paper_id, _ in search_papers(conn, words, 10_000)}


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_records_hold_what_the_columns_bind(dialect):
    """The fast time and date conversions give what SQLAlchemy's bind processing gives."""
    rows = codec(dialect)
    impl = papers.c.submitted_at.type.dialect_impl(rows.dialect)
    bind = impl.bind_processor(rows.dialect)
    date_bind = papers.c.announced_on.type.dialect_impl(rows.dialect).bind_processor(
        rows.dialect) or (lambda v: v)
    from zoneinfo import ZoneInfo

    for when in (datetime(2024, 3, 1, 18, 59, tzinfo=UTC),
                 datetime(2007, 4, 2, 19, 18, 42, 120, tzinfo=UTC),
                 datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC),
                 datetime(2024, 3, 1, 13, 59, tzinfo=ZoneInfo("America/New_York"))):
        assert rows.time(when) == bind(when)
    with pytest.raises(ValueError, match="naive datetime"):
        rows.time(datetime(2024, 3, 1))
    paper = Paper(id="2403.00001", title="T", authors=["A"], categories=["cs.LG"],
                  submitted_at=datetime(2024, 3, 1, 18, 59, tzinfo=UTC),
                  updated_at=datetime(2024, 3, 2, tzinfo=UTC), announced_on=date(2024, 3, 4),
                  latest_version=2, withdrawn=True,
                  versions=[Version(1, datetime(2024, 3, 1, 18, 59, tzinfo=UTC), "12kb"),
                            Version(2, datetime(2024, 3, 2, tzinfo=UTC))])
    made = rows.record(paper)
    assert made[0][PAPER_COLUMNS.index("announced_on")] == date_bind(date(2024, 3, 4))
    assert rows.paper(made) == paper


def test_a_reimport_writes_nothing_and_counts_every_line_unchanged(engine, tmp_path):
    path = write(tmp_path / "s.jsonl", [record(n) for n in range(40)] + [record(3)])
    first = import_arxiv_snapshot(engine, path, Settings(), NOW, batch=7)
    assert (first.stored, first.unchanged) == (41, 1)  # line 41 repeats line 4
    before = dump(engine)
    again = import_arxiv_snapshot(engine, path, Settings(), datetime(2026, 2, 1, tzinfo=UTC),
                                  batch=7)
    assert (again.stored, again.unchanged) == (41, 41)
    assert dump(engine) == before  # stored_at included: nothing was written
    assert len(before["paper_authors"]) == 60 and len(before["paper_versions"]) == 79


def test_a_paper_a_post_shows_keeps_what_the_post_showed(engine, tmp_path):
    day = date(2024, 4, 2)
    with engine.begin() as conn:
        save_paper(conn, parse_record(record(5)), NOW)
        stored = load_papers(conn, ["2403.00005"])["2403.00005"]
        save_post(conn, Post(day=day, generated_at=NOW, entries=[
            PostEntry(paper=stored, reposts=1, likes=2, written_at=NOW)]), "lumen", {})
    path = write(tmp_path / "s.jsonl", [record(5, title="A New Title"), record(6)])
    result = import_arxiv_snapshot(engine, path, Settings(), NOW)
    assert (result.stored, result.unchanged) == (2, 0)
    with engine.connect() as conn:
        post = load_post(conn, day, "lumen")
        title = conn.execute(text("SELECT title FROM papers WHERE id = '2403.00005'")).scalar()
    assert (post.entries[0].paper.title, title) == ("Paper 5", "A New Title")


def test_a_large_load_drops_the_secondary_indexes_and_makes_them_again(
        engine, tmp_path, monkeypatch):
    assert {i.name for i in secondary_indexes()} == {"ix_paper_categories_category",
                                                     "ix_papers_announced_on"}
    names = dropped_names(engine)
    assert names <= index_names(engine)
    seen = []
    monkeypatch.setattr(arxiv_snapshot, "LARGE", 300)  # guessed from the first batch
    path = write(tmp_path / "s.jsonl", [record(n) for n in range(600)])
    import_arxiv_snapshot(engine, path, Settings(), NOW, batch=100,
                          progress=lambda _: seen.append(index_names(engine) & names))
    assert seen[0] == set() and index_names(engine) >= names
    # the search is made again from every paper: a word of each title finds them all
    assert found_by_search(engine, "paper") == {f"2403.{n:05d}" for n in range(600)}
    monkeypatch.setattr(arxiv_snapshot.BulkWriter, "write", _fail_at_third())
    with pytest.raises(RuntimeError, match="disk on fire"):
        import_arxiv_snapshot(engine, path, Settings(), NOW, batch=100)
    assert index_names(engine) >= names


def _fail_at_third():
    calls = []

    def write(self, records, now):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk on fire")
        return 0
    return write


def test_the_relaxed_settings_are_put_back_even_after_an_error(engine):
    if engine.dialect.name == "sqlite":
        query = "PRAGMA synchronous", "PRAGMA foreign_keys", "PRAGMA cache_size"
    else:
        query = ("SHOW synchronous_commit",)
    with engine.connect() as conn:
        before = [conn.exec_driver_sql(q).scalar() for q in query]
        conn.commit()
        with pytest.raises(RuntimeError), bulk_session(conn):
            relaxed = [conn.exec_driver_sql(q).scalar() for q in query]
            assert relaxed == ([0, 0, -65536] if len(query) > 1 else ["off"])
            raise RuntimeError("stop")
        assert [conn.exec_driver_sql(q).scalar() for q in query] == before


def test_a_file_that_cannot_be_opened_is_an_input_error(engine, tmp_path):
    with pytest.raises(InputError, match=r"missing\.jsonl: cannot read"):
        import_arxiv_snapshot(engine, tmp_path / "missing.jsonl", Settings(), NOW)


# --- killed midway, then run again ---------------------------------------------------------

KILLED = """
import multiprocessing, sys, time
from datetime import UTC, datetime
from pathlib import Path
from hotpapers.config import Settings
from hotpapers.jobs import arxiv_snapshot
from hotpapers.store.db import connect
from hotpapers.store.fulltext import SEARCH_TABLE, search_papers

arxiv_snapshot.LARGE = 1000  # the indexes are dropped: the next run makes them again

def progress(done):
    print("batch", *[p.pid for p in multiprocessing.active_children()], flush=True)
    time.sleep(0.02)

arxiv_snapshot.import_arxiv_snapshot(connect(sys.argv[1]), Path(sys.argv[2]), Settings(),
                                     datetime(2026, 1, 1, tzinfo=UTC), progress, batch=50)
"""


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc to follow the parser")
def test_an_import_killed_midway_and_run_again_ends_like_one_run(db_url, tmp_path):
    records = [record(n) for n in range(3000)]
    records[1234] = "{not json"
    # ids again, in batches the killed run does not reach: written over, or unchanged
    records[2500], records[2600] = record(7, title="Seen Again"), record(8)
    path = write(tmp_path / "s.jsonl", records)
    child = subprocess.Popen([sys.executable, "-c", KILLED, db_url, str(path)],
                             stdout=subprocess.PIPE, text=True)
    for batches, line in enumerate(child.stdout, start=1):
        parser = int(line.split()[1])
        if batches == 12:
            break
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stdout.close()
    engine = connect(db_url)
    try:
        assert 12 * 50 <= len(dump(engine)["papers"]) < 3000
        assert not dropped_names(engine) & index_names(engine)
        deadline = time.monotonic() + 10
        while not _gone(parser) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _gone(parser), "the parser process outlived the killed import"
        result = import_arxiv_snapshot(engine, path, Settings(), NOW, batch=50)
        assert (result.stored, result.bad_count) == (2999, 1)
        assert dropped_names(engine) <= index_names(engine)
        resumed = dump(engine)
        # papers stored by the killed run only (unchanged in this one) are found too
        assert found_by_search(engine, "2403.00003") == {"2403.00003"}
        if engine.dialect.name == "sqlite":  # every paper has its search row, once
            with engine.connect() as conn:
                rows = conn.exec_driver_sql(f"SELECT paper_id FROM {SEARCH_TABLE}").scalars()
                indexed = sorted(rows)
            assert indexed == sorted(row.id for row in resumed["papers"])
    finally:
        engine.dispose()
    clean = connect(f"sqlite:///{tmp_path / 'clean.sqlite3'}")
    import_arxiv_snapshot(clean, path, Settings(), NOW, batch=50)
    assert resumed == dump(clean)
    clean.dispose()
    assert os.path.getsize(path) > 0


def test_a_load_into_an_empty_store_ends_as_one_into_a_stored_store(engine, tmp_path,
                                                                   monkeypatch):
    """Into an empty store, papers are inserted plainly, with only ids looked up: the ids a
    batch repeats from earlier ones (written over, unchanged, or older) end as the
    comparing path makes them."""
    older = record(41) | {"versions": [{"version": "v1",
                                        "created": "Mon, 1 Apr 2024 11:00:00 GMT"}]}
    path = write(tmp_path / "s.jsonl", [record(n) for n in range(100)] + [
        record(5), record(17, title="Changed"), older, record(60, title="Once"), record(60)])
    results, dumps = [], []
    for fresh in (True, False):
        if not fresh:
            monkeypatch.setattr(bulk.BulkWriter, "_empty", staticmethod(lambda cursor: False))
        result = import_arxiv_snapshot(engine, path, Settings(), NOW, batch=20)
        results.append((result.stored, result.unchanged))
        dumps.append(dump(engine))
        with engine.begin() as conn:
            for table in reversed(TABLES):
                conn.execute(table.delete())
    assert results == [(105, 3)] * 2
    assert dumps[0] == dumps[1]
    rows = {row.id: row for row in dumps[0]["papers"]}
    assert (rows["2403.00017"].title, rows["2403.00041"].latest_version) == ("Changed", 3)


ODD_NAMES = ["Ä \"q\" \\ x", "tab\there", "new\nline", "😀 𝔘", "zero\u200bwidth", "", "ok"]


@pytest.mark.parametrize("json_lists", [True, False])
def test_odd_authors_and_categories_are_stored_as_given(engine, monkeypatch, json_lists):
    """SQLite writes a paper's authors and categories from one JSON list (json_each) when
    it can: what is read back is what was given, as without it."""
    if not json_lists:
        monkeypatch.setattr(bulk, "_has_json", lambda conn: False)
    given = [Paper(id="2403.00001", title="t", authors=ODD_NAMES, categories=["cs.LG", "x\ty"]),
             Paper(id="2403.00002", title="u"),
             Paper(id="2403.00003", title="v", authors=["Solo"], categories=["math.OC"])]
    with engine.begin() as conn:
        save_papers_bulk(conn, given, NOW)
    with engine.begin() as conn:  # written again: the children are replaced, not added
        save_papers_bulk(conn, [replace(given[2], authors=["One", "Two"])], NOW)
    with engine.connect() as conn:
        found = load_papers(conn, [p.id for p in given])
    assert found["2403.00001"].authors == ODD_NAMES
    assert found["2403.00001"].categories == ["cs.LG", "x\ty"]
    assert (found["2403.00002"].authors, found["2403.00002"].categories) == ([], [])
    assert found["2403.00003"].authors == ["One", "Two"]
