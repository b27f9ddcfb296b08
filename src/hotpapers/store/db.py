"""Open a database by URL and bring its schema up to date with the Alembic migrations
(Alembic is imported only when a migration has to run)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from filelock import FileLock, Timeout
from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from hotpapers.errors import InputError, StoreError
from hotpapers.store.revision import HEAD_REVISION

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["connect", "current_revision", "first_line", "head_revision", "migrate", "parse_url",
           "same_database", "shown_url"]

MIGRATIONS = Path(__file__).with_name("migrations")
SUPPORTED = ("sqlite", "postgresql")
CONNECT_TIMEOUT = 10  # seconds, for PostgreSQL
MIGRATE_WAIT = 600.0  # seconds a process waits for another one's migration
# Alembic keeps the running migration's context in module globals: one at a time a process.
_MIGRATING = threading.Lock()


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_read_only(dbapi_conn, _record) -> None:
    dbapi_conn.execute("PRAGMA query_only=ON")


def connect(url: str, *, migrate_schema: bool = True, create: bool = True,
            read_only: bool = False, option: str = "--db") -> Engine:
    """An engine for `url` (SQLite or PostgreSQL); SQLite files get their folder, WAL and
    foreign keys. InputError for a URL that cannot work, or a SQLite file that does not exist
    when not `create` (read-only commands); StoreError when the database cannot be opened
    or migrated; neither message shows a password; InputError names `option`, the URL's
    command-line option. `read_only` (the web server): an existing SQLite file opened
    read-only, PostgreSQL sessions read-only, never migrated."""
    if read_only:
        migrate_schema, create = False, False
    parsed = parse_url(url, option)
    shown = shown_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database).expanduser()
        parsed = parsed.set(database=str(path))
        if not create and not path.is_file():
            raise InputError(f"{option} {shown}: no database at {path} (check the path, or "
                             "create one with `hotpapers init`)")
        if not _sqlite_or_empty(path):
            raise InputError(f"{option} {shown}: {path} is not a SQLite database")
        if read_only:  # a SQLite URI: the file as it is, never created or written
            parsed = parsed.set(database=path.resolve().as_uri(),
                                query={"uri": "true", "mode": "ro"})
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"database {shown}: cannot create its folder: "
                             f"{exc.strerror or exc}") from None
    try:
        engine = create_engine(parsed, **_server_options(parsed, read_only))
    except ArgumentError as exc:
        raise InputError(f"{option} {shown}: {exc}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_read_only if read_only else _sqlite_pragmas)
    else:  # UTC sessions, so that date() and date_trunc() cut UTC days
        event.listen(engine, "connect", _utc_session)
    if migrate_schema:
        try:
            migrate(engine)
        except SQLAlchemyError as exc:
            raise StoreError(f"database {shown}: {first_line(exc)}") from None
    return engine


def _sqlite_or_empty(path: Path) -> bool:
    """Whether `path` is missing, empty (SQLite makes both a database) or a SQLite file
    (its 16-byte header); a folder, a pipe or an unreadable file is left for SQLite to
    refuse (a pipe is never opened here: that would wait for a writer)."""
    if not path.is_file():
        return True
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError:
        return True
    return not head or head == b"SQLite format 3\x00"


def parse_url(url: str, option: str = "--db") -> URL:
    """`url` parsed (plain `postgresql` meaning psycopg 3, the driver hotpapers declares).
    InputError naming `option` when it is not a database URL (the text is not shown: it
    may hold a password), names a database other than SQLite and PostgreSQL, or a driver
    that is not installed."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise InputError(f"{option}: not a database URL (e.g. sqlite:///PATH or "
                         "postgresql://USER@HOST/NAME)") from None
    shown = shown_url(parsed)
    if parsed.get_backend_name() not in SUPPORTED:
        raise InputError(f"{option} {shown}: only SQLite and PostgreSQL databases are supported")
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        parsed.get_dialect().import_dbapi()
    except ImportError:
        raise InputError(f"{option} {shown}: its driver is not installed (for PostgreSQL: "
                         "pip install 'hotpapers[postgres]')") from None
    except ArgumentError:
        raise InputError(f"{option} {shown}: unknown driver {parsed.drivername}") from None
    return parsed


def shown_url(url: URL | str) -> str:
    """`url` as messages show it: its password masked, in the user part and in the query
    (`?password=`, which libpq reads too); a text that is not a URL is not shown at all."""
    if isinstance(url, str):
        try:
            url = make_url(url)
        except (ArgumentError, ValueError):
            return "(not a database URL)"
    if "password" not in url.query:
        return url.render_as_string(hide_password=True)
    masked = url.update_query_dict({"password": "MASKED"})
    return masked.render_as_string(hide_password=True).replace("password=MASKED", "password=***")


def same_database(one: URL, other: URL) -> bool:
    """Whether two parsed URLs name the same database: the same SQLite file (however the
    path is spelled), or the same PostgreSQL server (host or socket folder, port) and name."""
    if one.get_backend_name() != other.get_backend_name():
        return False
    if one.get_backend_name() == "sqlite":
        if {one.database, other.database} & {None, "", ":memory:"}:
            return False  # in memory: a database of its own
        paths = [Path(u.database).expanduser().resolve() for u in (one, other)]
        if all(path.exists() for path in paths):
            return os.path.samefile(*paths)
        return paths[0] == paths[1]
    return _server_place(one) == _server_place(other)


def _server_place(url: URL) -> tuple[str, str, str]:
    """A PostgreSQL URL's host (or socket folder), port and database, with libpq's defaults."""
    def given(name: str) -> str:
        value = url.query.get(name, "")
        return value[-1] if isinstance(value, tuple) else value

    port = str(url.port or given("port") or 5432)
    return ((url.host or given("host")).lower(), port,
            url.database or given("dbname") or url.username or given("user"))


def _server_options(parsed: URL, read_only: bool = False) -> dict:
    """PostgreSQL: give up on a server that does not answer within CONNECT_TIMEOUT seconds
    unless the URL says otherwise (`?connect_timeout=N`; libpq's other parameters, such as
    `options=-c statement_timeout=5s`, pass through the URL too), and check a pooled
    connection before use, so a restarted server costs one reconnect, not a failed job.
    `read_only`: sessions that refuse writes (added to the URL's own `options`)."""
    if parsed.get_backend_name() != "postgresql":
        return {}
    args = {} if "connect_timeout" in parsed.query else {"connect_timeout": CONNECT_TIMEOUT}
    if read_only:
        given = parsed.query.get("options", "")
        given = " ".join(given) if isinstance(given, tuple) else given
        args["options"] = f"{given} -c default_transaction_read_only=on".strip()
    return {"connect_args": args, "pool_pre_ping": True}


def _utc_session(dbapi_connection, _record) -> None:
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'UTC'")
    dbapi_connection.commit()


def first_line(exc: Exception) -> str:
    """The first line of a database error: the driver's own message when there is one."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _alembic_config(engine: Engine) -> Config:
    from alembic.config import Config  # lazy: Alembic loads only to migrate (test_startup)

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema to `revision` (no-op when already there), one process (and one
    thread) at a time: the revision is read again once the locks are held, so that only the
    first one migrates."""
    if revision == "head" and current_revision(engine) == HEAD_REVISION:
        return
    with _MIGRATING, _sqlite_lock(engine):
        current = current_revision(engine)
        if revision == "head" and current == HEAD_REVISION:
            return
        if current is not None and current not in _known_revisions():
            shown = shown_url(engine.url)
            raise StoreError(f"database {shown}: its schema is at revision {current}, which "
                             f"this hotpapers does not know (it expects {HEAD_REVISION}): "
                             "a newer hotpapers wrote it; upgrade hotpapers to use it")
        from alembic import command  # lazy: only to migrate (test_startup)

        command.upgrade(_alembic_config(engine), revision)


def _known_revisions() -> set[str]:
    """The revisions of the migration scripts (each file starts with its id)."""
    return {path.name.partition("_")[0] for path in (MIGRATIONS / "versions").glob("*_*.py")}


@contextmanager
def _sqlite_lock(engine: Engine) -> Iterator[None]:
    """A file lock beside a SQLite file, held while it is migrated (PostgreSQL locks in the
    migration's own transaction, see migrations/env.py)."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or database in (None, "", ":memory:"):
        yield
        return
    try:
        with FileLock(f"{database}.migrate.lock", timeout=MIGRATE_WAIT):
            yield
    except Timeout:
        raise StoreError(f"database {database}: another process has been migrating it for "
                         f"{MIGRATE_WAIT:.0f} s") from None


def current_revision(engine: Engine) -> str | None:
    """The revision recorded in the store; None before the first migration."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def head_revision() -> str | None:
    """The newest revision among the migration scripts, as Alembic sees it."""
    from alembic.script import ScriptDirectory  # lazy: only to migrate (test_startup)

    return ScriptDirectory(str(MIGRATIONS)).get_current_head()
