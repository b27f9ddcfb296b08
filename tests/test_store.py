"""The store: migrations, SQLite settings, upserts and times, on real SQLite files."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import StatementError

from conftest import sqlite_only
from hotpapers.errors import InputError, StoreError
from hotpapers.models import Account, Mention, Observation, Paper
from hotpapers.store.db import connect, current_revision, head_revision
from hotpapers.store.fulltext import SEARCH_TABLE
from hotpapers.store.mentions import load_mentions, save_mention
from hotpapers.store.papers import load_papers, save_paper
from hotpapers.store.schema import mentions, metadata, observations

NOW = datetime(2024, 3, 5, 9, 0, tzinfo=UTC)


def test_migrations_build_exactly_the_declared_schema(engine):
    assert current_revision(engine) == head_revision()
    def declared(name, kind, _parent) -> bool:  # but the full-text search's own (0007, 8)
        return not ((kind == "table" and name.startswith(SEARCH_TABLE))
                    or (kind == "index" and name.endswith("_search"))
                    or (kind == "column" and name == "search_vector"))

    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(
            conn, opts={"include_name": declared}), metadata)
    assert diff == []
    assert set(inspect(engine).get_table_names()) >= set(metadata.tables)


@sqlite_only("WAL and foreign-key pragmas are settings of SQLite files")
def test_sqlite_file_uses_wal_and_foreign_keys(engine, tmp_path):
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    assert (tmp_path / "test.sqlite3").exists()


def test_reconnecting_keeps_data_and_revision(db_url):
    first = connect(db_url)
    with first.begin() as conn:
        save_paper(conn, Paper(id="2401.00001", title="T"), NOW)
    first.dispose()
    second = connect(db_url)
    with second.connect() as conn:
        assert load_papers(conn, ["2401.00001"])["2401.00001"].title == "T"


def test_a_store_from_a_newer_hotpapers_is_refused_in_one_line(db_url, cli):
    engine = connect(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    engine.dispose()
    with pytest.raises(StoreError) as caught:
        connect(db_url)
    assert "revision 0099" in str(caught.value) and "upgrade hotpapers" in str(caught.value)
    result = cli("rank", "--date", "2021-01-18")
    assert result.code == 1
    assert result.err.count("\n") == 1 and "revision 0099" in result.err
    assert "Traceback" not in result.err


def test_a_plain_postgresql_url_uses_psycopg_3():
    """`postgresql://` would mean psycopg2 to SQLAlchemy; hotpapers declares psycopg 3."""
    engine = connect("postgresql://nobody@127.0.0.1:9/none", migrate_schema=False)
    assert engine.dialect.driver == "psycopg"
    engine.dispose()


def test_bad_database_url_is_an_input_error():
    with pytest.raises(InputError, match="not a database URL"):
        connect("not a url at all")


def test_paper_upsert_keeps_author_and_category_order(engine):
    paper = Paper(id="2401.00001", title="First", authors=["Z", "A", "M"],
                  categories=["stat.ML", "cs.LG"])
    with engine.begin() as conn:
        save_paper(conn, paper, NOW)
        paper.title, paper.authors = "Second", ["B", "A"]
        save_paper(conn, paper, NOW)
        stored = load_papers(conn, ["2401.00001", "missing"])
    assert list(stored) == ["2401.00001"]
    assert stored["2401.00001"].title == "Second"
    assert stored["2401.00001"].authors == ["B", "A"]
    assert stored["2401.00001"].categories == ["stat.ML", "cs.LG"]


def _mention(native_id: str, *observed: tuple[datetime, int, int]) -> Mention:
    return Mention(
        source="x", native_id=native_id, paper_ids=["2401.00001", "2401.00002"],
        permalink=f"https://x.com/u/status/{native_id}",
        account=Account("x", "42", "someone", "Some One"),
        observations=[Observation(at, likes=likes, reposts=reposts)
                      for at, likes, reposts in observed])


def test_mention_upsert_is_idempotent_and_keeps_every_observation(engine):
    t1, t2 = NOW, NOW + timedelta(hours=1)
    with engine.begin() as conn:
        first = save_mention(conn, _mention("7", (t1, 1, 2)), NOW)
        again = save_mention(conn, _mention("7", (t1, 1, 2), (t2, 5, 6)), NOW)
        assert first == again
        assert conn.execute(select(mentions)).all().__len__() == 1
        rows = conn.execute(select(observations.c.observed_at, observations.c.likes)
                            .order_by(observations.c.observed_at)).all()
        (loaded,) = load_mentions(conn, ["2401.00002"])
    assert rows == [(t1, 1), (t2, 5)]
    assert loaded.paper_ids == ["2401.00001", "2401.00002"]
    assert loaded.account == Account("x", "42", "someone", "Some One")
    assert [o.reposts for o in loaded.observations] == [2, 6]


def test_times_come_back_as_the_same_utc_instant(engine):
    tokyo = datetime(2024, 3, 5, 18, 0, tzinfo=timezone(timedelta(hours=9)))
    with engine.begin() as conn:
        save_mention(conn, _mention("8", (tokyo, 1, 1)), NOW)
        (loaded,) = load_mentions(conn, ["2401.00001"])
    observed = loaded.observations[0].observed_at
    assert observed == tokyo and observed.tzinfo == UTC and observed.hour == 9


def test_naive_times_are_refused(engine):
    with pytest.raises(StatementError, match="naive datetime"), engine.begin() as conn:
        save_mention(conn, _mention("9", (datetime(2024, 1, 1), 1, 1)), NOW)


def test_run_records_say_how_each_run_ended(engine):
    from hotpapers.errors import NothingToDo
    from hotpapers.store.runs import load_runs, recorded_run

    ticks = iter(NOW + timedelta(seconds=s) for s in range(10))
    clock = lambda: next(ticks)  # noqa: E731
    with recorded_run(engine, "good", clock) as run:
        run.counts = {"papers": 3}
    with pytest.raises(RuntimeError), recorded_run(engine, "broken", clock):
        raise RuntimeError("source exploded")
    with pytest.raises(NothingToDo), recorded_run(engine, "idle", clock):
        raise NothingToDo("no announcement")
    with engine.connect() as conn:
        idle, broken, good = load_runs(conn)
    assert (good["status"], good["counts"], good["errors"]) == ("ok", {"papers": 3}, None)
    assert (broken["status"], broken["errors"]) == ("failed", ["source exploded"])
    assert idle["status"] == "nothing"
    assert good["finished_at"] - good["started_at"] == timedelta(seconds=1)


@pytest.mark.parametrize("written_before", [False, True])
def test_a_published_post_keeps_a_paper_as_shown_when_the_paper_changes_later(
        engine, written_before):
    from datetime import date

    from hotpapers.models import Post, PostEntry
    from hotpapers.store.posts import load_post, save_post

    now = datetime(2024, 3, 5, 9, tzinfo=UTC)
    paper = Paper(id="2403.00042", title="The First Title", authors=["A. Author"],
                  categories=["cs.LG"], abstract="As announced.")
    with engine.begin() as conn:
        save_paper(conn, paper, now)
        save_post(conn, Post(day=date(2024, 3, 4), generated_at=now, entries=[
            PostEntry(paper=paper, reposts=30, likes=40, written_at=now)]), "lumen", {})
        # the paper as shown equals the stored one: nothing is pinned yet
        assert conn.execute(text("SELECT count(*) FROM post_entries "
                                 "WHERE paper_shown IS NULL")).scalar() == 1
        if written_before:  # stores written by earlier versions hold JSON null instead
            conn.execute(text("UPDATE post_entries SET paper_shown = 'null'"))
        save_paper(conn, Paper(id=paper.id, title="A Replaced Title", authors=["A. Author"],
                               categories=["cs.LG"], abstract="Revised."), now)
        shown = load_post(conn, date(2024, 3, 4), "lumen").entries[0].paper
    assert (shown.title, shown.abstract) == ("The First Title", "As announced.")


def test_a_postgresql_server_that_never_answers_is_given_up_in_one_line():
    """A port that accepts connections and then says nothing (a hung server, a firewall
    that swallows packets): the connect timeout ends the wait with one line."""
    import socket
    import threading
    import time

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    held = []
    stop = threading.Event()

    def swallow() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])  # accepted, never answered
            except TimeoutError:
                continue

    thread = threading.Thread(target=swallow, daemon=True)
    thread.start()
    port = listener.getsockname()[1]
    started = time.monotonic()
    try:
        with pytest.raises(StoreError) as caught:
            connect(f"postgresql://someone:pw-secret@127.0.0.1:{port}/db?connect_timeout=1")
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        listener.close()
    assert time.monotonic() - started < 30
    message = str(caught.value)
    assert "\n" not in message and "pw-secret" not in message
    assert message.startswith(f"database postgresql://someone:***@127.0.0.1:{port}/db")
    assert message.endswith("timeout expired")


def test_postgresql_engines_time_out_connecting_and_check_pooled_connections():
    from sqlalchemy.engine import make_url

    from hotpapers.store.db import CONNECT_TIMEOUT, _server_options

    engine = connect("postgresql://nobody@127.0.0.1:9/none", migrate_schema=False)
    assert engine.pool._pre_ping
    engine.dispose()
    default = _server_options(make_url("postgresql+psycopg://nobody@127.0.0.1:9/none"))
    assert default["connect_args"] == {"connect_timeout": CONNECT_TIMEOUT}
    chosen = _server_options(make_url("postgresql+psycopg://h/none?connect_timeout=3"))
    assert chosen["connect_args"] == {}  # the URL's own value stands
    assert _server_options(make_url("sqlite:///x.sqlite3")) == {}


@pytest.mark.skipif(not os.environ.get("HOTPAPERS_TEST_POSTGRES"),
                    reason="PostgreSQL only (set HOTPAPERS_TEST_POSTGRES to run it): a login")
def test_a_refused_postgresql_login_is_one_line(cli):
    from sqlalchemy.engine import make_url

    server = make_url(os.environ["HOTPAPERS_TEST_POSTGRES"])
    refused = server.set(username="no_such_role", password="pw-secret").render_as_string(
        hide_password=False)
    result = cli("--db", refused, "rank", "--date", "2021-01-18")
    assert result.code == 1 and result.err.count("\n") == 1
    assert "no_such_role" in result.err and "pw-secret" not in result.err
    assert "Traceback" not in result.err
