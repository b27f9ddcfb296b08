"""`store copy`: a store copied into the test database (PostgreSQL when
HOTPAPERS_TEST_POSTGRES is set, else another SQLite file) and back renders every post byte
for byte and ranks every day the same; an interrupted copy resumes; the verification sees a
difference; a non-empty target is refused; a bad row names its table and writes nothing."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from conftest import postgres_only
from hotpapers.config import Settings
from hotpapers.errors import InputError, StoreError
from hotpapers.jobs.demo import DEMO_DAY, SYNTHETIC_DAY, run_demo
from hotpapers.jobs.ranking import rank_stored
from hotpapers.jobs.store_copy import copy_store
from hotpapers.models import Account, Mention
from hotpapers.rank.names import Method, Window
from hotpapers.store.db import connect
from hotpapers.store.mentions import save_mention
from hotpapers.store.transfer import TABLES, row_count

NOW = datetime(2026, 1, 6, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("demo")
    run_demo(out, Settings(), NOW)
    return f"sqlite:///{out / 'hotpapers.sqlite3'}"


def copied(source_url: str, target_url: str, **options) -> list:
    source, target = connect(source_url, create=False), connect(target_url)
    try:
        return copy_store(source, target, **options)
    finally:
        source.dispose()
        target.dispose()


def ranking(url: str, day, method: Method) -> list[tuple]:
    engine = connect(url, create=False)
    try:
        ranked = rank_stored(engine, day, method, Window.day, Settings(), NOW)
    finally:
        engine.dispose()
    return [(row.paper_id, round(row.score, 9)) for row in ranked.rows]


def test_the_demo_copied_there_and_back_renders_and_ranks_the_same(demo_url, db_url, cli,
                                                                     tmp_path):
    there = copied(demo_url, db_url)
    assert all(c.same for c in there) and sum(c.rows for c in there) > 1000
    assert {c.name for c in there} == set(TABLES)
    back_url = f"sqlite:///{tmp_path / 'back.sqlite3'}"
    back = copied(db_url, back_url)
    assert all(c.same for c in back)
    assert [c.digest for c in back] == [c.digest for c in there]
    posts = {url: cli("--db", url, "post", "--date", str(DEMO_DAY)).out
             for url in (demo_url, db_url, back_url)}
    assert len(set(posts.values())) == 1 and "Counterfactual" in posts[demo_url]
    for method in Method:
        expected = ranking(demo_url, SYNTHETIC_DAY, method)
        assert expected and ranking(db_url, SYNTHETIC_DAY, method) == expected
        assert ranking(back_url, SYNTHETIC_DAY, method) == expected


def test_new_rows_in_the_copy_take_fresh_ids(demo_url, db_url):
    """PostgreSQL's sequences continue after the copied ids (else the next insert would
    collide with a copied row)."""
    copied(demo_url, db_url)
    engine = connect(db_url)
    with engine.begin() as conn:
        largest = conn.execute(text("SELECT max(id) FROM mentions")).scalar()
        saved = save_mention(conn, Mention(
            source="x", native_id="new-after-copy", paper_ids=[], permalink="https://x.com/a/1",
            account=Account("x", "new-account", "new"), text="t", created_at=NOW), NOW)
        new_id = conn.execute(text("SELECT id FROM mentions WHERE native_id = 'new-after-copy'")
                              ).scalar()
    engine.dispose()
    assert saved is not None and new_id > largest


def test_a_target_with_rows_is_refused_unless_resuming(demo_url, db_url, cli):
    copied(demo_url, db_url)
    with pytest.raises(InputError, match="not empty"):
        copied(demo_url, db_url)
    result = cli("--db", demo_url, "store", "copy", "--to", db_url)
    assert result.code == 2 and "--resume" in result.err and result.err.count("\n") == 1
    again = cli("--db", demo_url, "store", "copy", "--to", db_url, "--resume")
    assert again.code == 0 and "(0 written now), verified" in again.out


def test_an_interrupted_copy_resumes_where_it_stopped(demo_url, db_url):
    """What a copy killed half-way leaves: the tables before one complete, that one half
    done, the rest empty (each batch is its own transaction)."""
    full = copied(demo_url, db_url)
    cut = TABLES.index("mentions")
    engine = connect(db_url)
    with engine.begin() as conn:
        for name in reversed(TABLES[cut + 1:]):
            conn.execute(text(f"DELETE FROM {name}"))
        conn.execute(text("DELETE FROM mentions WHERE id > (SELECT min(id) + 20 FROM mentions)"))
        missing = {c.name: c.rows - row_count(conn, c.name) for c in full}
    engine.dispose()
    assert missing["mentions"] > 0 and sum(missing[n] for n in TABLES[cut + 1:]) > 100
    resumed = copied(demo_url, db_url, resume=True, batch=50)
    assert all(c.same for c in resumed)
    assert {c.name: c.written for c in resumed} == missing


def test_the_verification_sees_a_changed_value(demo_url, db_url, cli):
    copied(demo_url, db_url)
    engine = connect(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE papers SET title = title || ' (edited)' WHERE id = "
                          "(SELECT min(id) FROM papers)"))
    engine.dispose()
    result = cli("--db", demo_url, "store", "copy", "--to", db_url, "--resume")
    assert result.code == 1
    assert "table papers differs after the copy" in result.err
    assert "1 tables differ" in result.out


@postgres_only("PostgreSQL text cannot hold a NUL character; SQLite can")
def test_a_row_the_target_refuses_names_its_table_and_writes_nothing(demo_url, db_url,
                                                                      tmp_path):
    source = tmp_path / "odd.sqlite3"
    copied(demo_url, f"sqlite:///{source}")
    with sqlite3.connect(source) as raw:
        raw.execute("UPDATE paper_authors SET name = ? WHERE rowid = "
                    "(SELECT min(rowid) FROM paper_authors)", ("Ada\x00Lovelace",))
    with pytest.raises(StoreError) as caught:
        copied(f"sqlite:///{source}", db_url)
    assert str(caught.value).startswith("copying table paper_authors: ")
    assert "\n" not in str(caught.value)
    engine = connect(db_url)
    with engine.connect() as conn:
        assert row_count(conn, "paper_authors") == 0  # its one batch is not half there
        assert row_count(conn, "papers") > 0  # the tables before it are
    engine.dispose()


def test_the_real_posts_render_identically_from_the_copy(corpus_dir, db_url, cli, tmp_path):
    """issue 18's test: the store `import legacy` makes of the real posts, copied, gives
    back every post byte for byte."""
    source = f"sqlite:///{tmp_path / 'legacy.sqlite3'}"
    assert cli("--db", source, "import", "legacy", corpus_dir).code == 0
    result = cli("--db", source, "store", "copy", "--to", db_url)
    assert result.code == 0 and "verified" in result.out
    posts = sorted(corpus_dir.glob("*.md"))
    assert len(posts) > 100
    for path in posts:
        day = path.name[:10]
        made = cli("--db", db_url, "post", "--date", day)
        assert made.code == 0, made.err
        assert made.out.encode() == path.read_bytes(), day


def test_a_stream_lease_rewritten_during_the_copy_is_not_a_difference(db_url, tmp_path):
    """A running stream rewrites its lease (`lease:` rows of source_cursors) every few
    seconds; its other cursors are still compared."""
    from hotpapers.store.schema import source_cursors

    source = connect(f"sqlite:///{tmp_path / 'live.sqlite3'}")
    with source.begin() as conn:
        conn.execute(source_cursors.insert(), [
            {"name": "lease:bluesky", "value": {"epoch": 0}, "updated_at": NOW},
            {"name": "bluesky-jetstream", "value": {"cursor": 1}, "updated_at": NOW}])

    def renew(name: str, rows: int) -> None:  # the stream's lease, renewed meanwhile
        with source.begin() as conn:
            conn.execute(source_cursors.update().where(source_cursors.c.name == "lease:bluesky")
                         .values(value={"epoch": rows}, updated_at=datetime.now(UTC)))

    target = connect(db_url)
    try:
        copies = {c.name: c for c in copy_store(source, target, progress=renew)}
    finally:
        source.dispose()
        target.dispose()
    assert all(c.same for c in copies.values())
    assert copies["source_cursors"].rows == 1  # the stream's cursor is compared
