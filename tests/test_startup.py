"""Start-up cost: the command line imports no database or web library until a command needs
it, Alembic loads only to migrate, and `open_raw` reads an up-to-date SQLite file with the
stdlib alone."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import postgres_only
from hotpapers.errors import InputError
from hotpapers.store.db import MIGRATIONS, connect, migrate
from hotpapers.store.raw import open_raw, sqlite_path
from hotpapers.store.revision import HEAD_REVISION


def run_python(code: str) -> dict:
    """Run `code` in a fresh interpreter; it prints one JSON value, returned here."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=60)
    return json.loads(done.stdout.strip().splitlines()[-1])


def migrated_sqlite(path: Path) -> str:
    url = f"sqlite:///{path}"
    connect(url).dispose()
    return url


def test_cli_import_loads_no_database_or_web_library():
    loaded = run_python(
        "import json, sys, hotpapers.cli.main\n"
        "print(json.dumps([m for m in ('sqlalchemy', 'alembic', 'httpx', 'jinja2', 'feedgen',"
        " 'rich.progress', 'hotpapers.models') if m in sys.modules]))")
    assert loaded == []


def test_head_revision_is_alembics_head():
    from alembic.script import ScriptDirectory

    assert ScriptDirectory(str(MIGRATIONS)).get_current_head() == HEAD_REVISION


def test_connect_to_an_up_to_date_store_does_not_import_alembic(tmp_path):
    url = migrated_sqlite(tmp_path / "store.sqlite3")
    found = run_python(
        "import json, sys\nfrom hotpapers.store.db import connect, current_revision\n"
        f"engine = connect({url!r})\n"
        "print(json.dumps([current_revision(engine), 'alembic' in sys.modules]))")
    assert found == [HEAD_REVISION, False]


def test_open_raw_reads_a_migrated_sqlite_file_with_sqlite3_only(tmp_path):
    url = migrated_sqlite(tmp_path / "store.sqlite3")
    found = run_python(f"""
import json, sqlite3, sys
from hotpapers.store.raw import open_raw
with open_raw({url!r}) as store:
    cursor = store.connection.cursor()
    cursor.execute("SELECT count(*) FROM papers")
    papers = cursor.fetchone()[0]
    try:
        cursor.execute("INSERT INTO source_cursors (name, value, updated_at) VALUES (?, ?, ?)",
                       ("x", "1", "2026-01-01 00:00:00"))
        wrote = "yes"
    except sqlite3.OperationalError as exc:
        wrote = str(exc)
    print(json.dumps({{"sqlite3": isinstance(store.connection, sqlite3.Connection),
                      "placeholder": store.placeholder, "dialect": store.dialect,
                      "papers": papers, "wrote": wrote,
                      "sqlalchemy": "sqlalchemy" in sys.modules}}))
""")
    assert found == {"sqlite3": True, "placeholder": "?", "dialect": "sqlite", "papers": 0,
                     "wrote": "attempt to write a readonly database", "sqlalchemy": False}


def test_open_raw_creates_and_migrates_a_new_sqlite_file(tmp_path):
    path = tmp_path / "new" / "store.sqlite3"
    url = f"sqlite:///{path}"
    with open_raw(url) as store:
        assert (store.placeholder, store.dialect) == ("?", "sqlite")
        cursor = store.connection.cursor()
        cursor.execute("SELECT version_num FROM alembic_version")
        assert cursor.fetchall() == [(HEAD_REVISION,)]
        cursor.execute("SELECT count(*) FROM papers WHERE id = ?", ("2101.06189",))
        assert cursor.fetchone() == (0,)
    with open_raw(url) as store:  # now up to date: the read-only way
        assert isinstance(store.connection, sqlite3.Connection)
    with pytest.raises(sqlite3.ProgrammingError):  # closed on exit
        store.connection.execute("SELECT 1")


def test_open_raw_migrates_an_old_sqlite_file(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    engine = connect(url, migrate_schema=False)
    migrate(engine, "0001")
    engine.dispose()
    with open_raw(url) as store:
        assert not isinstance(store.connection, sqlite3.Connection)
        cursor = store.connection.cursor()
        cursor.execute("SELECT version_num FROM alembic_version")
        assert cursor.fetchall() == [(HEAD_REVISION,)]


@pytest.mark.parametrize("url", ["nonsense", "mysql://u@h/db", "postgresql+nodriver://u@h/db"])
def test_open_raw_rejects_a_bad_url_as_connect_does(url):
    with pytest.raises(InputError) as expected:
        connect(url)
    with pytest.raises(InputError) as found, open_raw(url):
        pass
    assert str(found.value) == str(expected.value)


@pytest.mark.parametrize("url", [
    "sqlite:////abs/hot.sqlite3", "sqlite:////abs/with space/#x.db", "sqlite:////abs/é.db",
    "sqlite:///rel/hot.sqlite3", "sqlite:///~/hot.sqlite3", "sqlite://///abs/x.db",
    "sqlite:////abs/x.db?mode=ro", "sqlite:////abs/%41.db", "sqlite:///", "sqlite://",
    "sqlite:///:memory:", "sqlite+pysqlite:////abs/x.db", "sqlite://host/abs/x.db",
    "postgresql://u@h/db",
])
def test_sqlite_path_reads_urls_as_sqlalchemy_does(url):
    from sqlalchemy.engine import make_url

    path = sqlite_path(url)
    if path is not None:
        assert make_url(url).database == path
    assert (path is not None) == (url.startswith("sqlite:////abs/") and "?" not in url
                                  and "%" not in url)


def drop_table(db_url: str, name: str) -> None:
    """A migrated store that has lost a table (a damaged or hand-edited database)."""
    from sqlalchemy import text

    engine = connect(db_url)
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE {name} CASCADE" if engine.dialect.name == "postgresql"
                          else f"DROP TABLE {name}"))
    engine.dispose()


def missing_table(db_url: str, name: str) -> str:
    """How each database names a missing table in its first error line."""
    if db_url.startswith("sqlite"):
        return f"no such table: {name}"
    return f'relation "{name}" does not exist'


def test_a_database_error_is_still_one_line(cli, db_url):
    drop_table(db_url, "papers")
    result = cli("explain", "2101.06189", "--date", "2021-01-18")
    assert (result.code, result.err) == (1, "hotpapers: error: database: "
                                            f"{missing_table(db_url, 'papers')}\n")


def test_a_driver_error_in_site_build_is_one_line_too(cli, db_url, tmp_path):
    drop_table(db_url, "posts")
    result = cli("site", "build", "--out", tmp_path / "site")
    assert result.code == 1
    assert result.err.startswith("hotpapers: error: database: ")
    assert missing_table(db_url, "posts") in result.err
    assert result.err.count("\n") == 1


@postgres_only("open_raw gives psycopg connections there")
def test_open_raw_on_postgresql_gives_a_utc_psycopg_connection(db_url):
    from sqlalchemy import NullPool, create_engine, text

    plain = create_engine(db_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with plain.connect() as conn:  # new sessions of this database default to New York
        name = conn.execute(text("SELECT current_database()")).scalar()
        conn.execute(text(f"ALTER DATABASE \"{name}\" SET timezone TO 'America/New_York'"))
    with plain.connect() as conn:
        assert conn.execute(text("SHOW TIME ZONE")).scalar() == "America/New_York"
    plain.dispose()
    with open_raw(db_url) as store:
        assert (store.dialect, store.placeholder) == ("postgresql", "%s")
        cursor = store.connection.cursor()
        cursor.execute("SHOW TIME ZONE")
        assert cursor.fetchone()[0] == "UTC"
        cursor.execute("SELECT count(*) FROM papers WHERE id = %s", ("2101.06189",))
        assert cursor.fetchone()[0] == 0


def test_site_build_of_a_sqlite_file_never_imports_sqlalchemy(tmp_path):
    """The whole command, settings included (a URL without a user part holds no password
    to parse): SQLAlchemy alone takes a third of a second to import."""
    url = migrated_sqlite(tmp_path / "store.sqlite3")
    found = run_python(f"""
import json, sys
from hotpapers.cli.main import main
try:
    main(["--db", {url!r}, "site", "build", "--out", {str(tmp_path / "site")!r}])
except SystemExit:
    pass
print(json.dumps("sqlalchemy" in sys.modules))
""")
    assert found is False
    assert (tmp_path / "site" / "index.html").exists()
