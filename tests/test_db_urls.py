"""Database URLs given on the command line, hostile or wrong: `store copy` refuses the store
itself however its URL is spelled; a password (in the user part or `?password=`) is never
printed; a URL that does not parse, a bad port, another database or a missing driver is one
line naming the option, exit 2; the daily lock file follows `~`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from conftest import postgres_only
from hotpapers.errors import InputError, StoreError
from hotpapers.jobs.daily import lock_path
from hotpapers.store.db import connect, same_database, shown_url
from hotpapers.store.locks import advisory_lock
from hotpapers.store.schema import aggregate_state

SECRET = "s3cretPW-q9"


def seeded_rows(url: str) -> int:
    engine = connect(url, create=False)
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(aggregate_state)).scalar()
    finally:
        engine.dispose()


def one_line(result) -> str:
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    return lines[0]


@pytest.mark.parametrize("spelling", ["{dir}/./a.db", "{dir}/sub/../a.db", "{dir}/link.db",
                                      "~/a.db"])
def test_copying_a_sqlite_store_onto_itself_is_refused_and_loses_nothing(
        cli, tmp_path, monkeypatch, spelling):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "sub").mkdir()
    url = f"sqlite:///{tmp_path}/a.db"
    connect(url).dispose()
    (tmp_path / "link.db").symlink_to(tmp_path / "a.db")
    before = seeded_rows(url)
    assert before > 0  # the rows a mistaken copy cleared in the source
    result = cli("--db", url, "store", "copy", "--to",
                 "sqlite:///" + spelling.format(dir=tmp_path))
    assert result.code == 2, result
    assert "that is the store being copied" in one_line(result)
    assert seeded_rows(url) == before


def test_the_same_postgresql_database_is_recognised_however_spelled():
    def same(one: str, other: str) -> bool:
        return same_database(make_url(one), make_url(other))

    assert same("postgresql://u@db/hp", "postgresql+psycopg://other:pw@DB:5432/hp")
    assert same("postgresql:///hp?host=/run/pg", "postgresql://u@/hp?host=/run/pg&port=5432")
    assert same("postgresql://hp@db", "postgresql://hp@db:5432/hp")  # libpq: dbname = user
    assert not same("postgresql://u@db/hp", "postgresql://u@db:5433/hp")
    assert not same("postgresql://u@db/hp", "postgresql://u@db/hp2")
    assert not same("postgresql://u@db/hp", "postgresql://u@other/hp")
    assert not same("sqlite:///hp", "postgresql://u@db/hp")
    assert not same("sqlite://", "sqlite://")  # each in-memory database is its own


def test_shown_urls_mask_every_password():
    url = f"postgresql://u:{SECRET}@h/db?password={SECRET}x&password=b{SECRET}&sslmode=require"
    shown = shown_url(url)
    assert SECRET not in shown and "sslmode=require" in shown and "u:***@h" in shown
    assert shown_url(f"postgresql//u:{SECRET}@h/db") == "(not a database URL)"


@pytest.mark.parametrize("args", [
    ["--db", f"postgresql//u:{SECRET}@h/db", "store", "rebuild-aggregates"],
    ["store", "copy", "--to", f"postgresql//u:{SECRET}@h/db"],
    ["store", "copy", "--to", f"postgresql://u@127.0.0.1:1/db?password={SECRET}"],
    ["store", "copy", "--to", f"postgresql://u:{SECRET}@127.0.0.1:1/db?password={SECRET}2"],
    ["--db", f"postgresql://u@127.0.0.1:1/db?password={SECRET}", "store", "rebuild-aggregates"],
    ["--db", f"postgresql://u@127.0.0.1:1/db?password={SECRET}", "daily"],
])
def test_no_password_in_a_url_is_ever_printed(cli, args):
    result = cli(*args)
    assert result.code in (1, 2), result
    assert SECRET not in result.out + result.err
    assert "Traceback" not in result.err


@postgres_only("a copy into PostgreSQL with ?password= in its URL")
def test_the_copy_summary_masks_a_query_password(cli, db_url, tmp_path):
    source = f"sqlite:///{tmp_path}/source.db"
    connect(source).dispose()
    result = cli("--db", source, "store", "copy", "--to", f"{db_url}?password={SECRET}")
    assert result.code == 0, result
    assert "verified" in result.out and "password=***" in result.out
    assert SECRET not in result.out + result.err


@pytest.mark.parametrize(("args", "expected"), [
    (["store", "copy", "--to", "postgresql://u@h:abc/db"], "--to: not a database URL"),
    (["store", "copy", "--to", "not a url"], "--to: not a database URL"),
    (["--db", "postgresql://u@h:abc/db", "store", "copy", "--to", "sqlite:///x.db"],
     "--db: not a database URL"),
    (["--db", "postgresql://u@h:abc/db", "daily"], "--db: not a database URL"),
    (["store", "copy", "--to", "mysql://u@h/db"], "--to mysql://u@h/db: only SQLite and"),
    (["--db", "postgresql+pg8000://u@h/db", "daily"], "driver is not installed"),
    (["store", "copy", "--to", "postgresql+nosuch://u@h/db"], "--to postgresql+nosuch"),
])
def test_a_bad_url_is_one_line_naming_its_option(cli, args, expected):
    result = cli(*args)
    assert result.code == 2, result
    line = one_line(result)
    assert expected in line and "Traceback" not in result.err


def test_a_negative_wait_is_refused(cli):
    result = cli("daily", "--wait", "-1")
    assert result.code == 2 and "--wait" in result.err, result


def test_the_lock_refuses_a_port_that_is_not_a_number():
    with pytest.raises(InputError, match=r"^--db: not a database URL"), \
            advisory_lock("postgresql://u@h:abc/db", 1):
        pytest.fail("locked")


@postgres_only("the lock's connection reaches the server")
def test_an_unreachable_lock_server_hides_a_query_password():
    with pytest.raises(StoreError) as caught, \
            advisory_lock(f"postgresql://u@127.0.0.1:1/none?password={SECRET}", 1):
        pytest.fail("locked a server that is not there")
    assert SECRET not in str(caught.value)


def test_the_daily_lock_file_follows_the_home_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(Path(os.sep))
    assert lock_path("sqlite:///~/hp.db") == tmp_path.resolve() / "hp.db.daily.lock"
    monkeypatch.chdir(tmp_path)
    assert lock_path("sqlite:///rel/hp.db") == tmp_path.resolve() / "rel" / "hp.db.daily.lock"


def test_a_query_password_in_the_configured_url_is_scrubbed(tmp_path):
    from hotpapers.config import load_settings
    from hotpapers.secrets import scrub

    load_settings(tmp_path / "none.toml", missing_ok=True,
                  db=f"postgresql://u:{SECRET}1@h/db?password={SECRET}2")
    assert scrub(f"said {SECRET}1 and {SECRET}2") == "said *** and ***"


def test_doctor_names_a_url_with_a_bad_port_without_a_traceback():
    from hotpapers.jobs.doctor import store_facts

    facts = store_facts(f"postgresql://u:{SECRET}@h:abc/db")
    assert facts.error == "not a database URL" and SECRET not in facts.shown


def test_a_file_that_is_not_sqlite_is_bad_input(cli, tmp_path):
    """A store URL naming a file of something else (a typo, a post): one line, exit 2, and
    the file left as it was."""
    other = tmp_path / "notes.txt"
    other.write_text("not a database\n")
    result = cli("--db", f"sqlite:///{other}", "rank", "--date", "2024-03-04")
    assert result.code == 2
    assert result.err.strip().endswith(f"{other} is not a SQLite database")
    assert other.read_text() == "not a database\n"
