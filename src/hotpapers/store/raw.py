"""A store as a plain DB-API connection: an up-to-date SQLite file opens read-only with the
stdlib `sqlite3` (no SQLAlchemy import); anything else goes through `db.connect()`."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from hotpapers.store.revision import HEAD_REVISION

__all__ = ["RawStore", "open_raw"]


@dataclass
class RawStore:
    connection: Any  # a DB-API 2.0 connection
    placeholder: str  # "?" for sqlite3, "%s" for psycopg
    dialect: str  # "sqlite" or "postgresql"


@contextmanager
def open_raw(url: str, create: bool = True) -> Iterator[RawStore]:
    """The store at `url`, closed on exit. Read-only when it is a migrated SQLite file named
    by an absolute path; otherwise opened (created unless not `create`, migrated) by
    `connect()`, with its errors."""
    fast = _open_read_only(url)
    if fast is not None:
        with closing(fast):
            yield RawStore(fast, "?", "sqlite")
        return
    # lazy: an up-to-date SQLite file is read without importing SQLAlchemy (test_startup)
    from hotpapers.store.db import connect

    engine = connect(url, create=create)
    try:
        with closing(engine.raw_connection()) as connection:
            sqlite = engine.dialect.name == "sqlite"
            yield RawStore(connection, "?" if sqlite else "%s", engine.dialect.name)
    finally:
        engine.dispose()


def _open_read_only(url: str) -> sqlite3.Connection | None:
    """A read-only connection to the SQLite file of `url` if it is at HEAD_REVISION; None
    when the URL is not a plain one or the file is missing, foreign or not up to date."""
    path = sqlite_path(url)
    if path is None:
        return None
    try:
        connection = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        row = None
    if row != (HEAD_REVISION,):
        connection.close()
        return None
    return connection


def sqlite_path(url: str) -> str | None:
    """The absolute file path of a plain `sqlite:////abs/path` URL, as SQLAlchemy's make_url
    reads it; None for any other URL. Left out: "?" (query options), "%" (SQLAlchemy
    versions differ on unquoting it), NUL, and "//" (sqlite3 would read a URI authority)."""
    prefix = "sqlite:///"
    path = url[len(prefix):]
    if (not url.startswith(prefix) or not path.startswith("/") or path.startswith("//")
            or any(c in path for c in "?%\0")):
        return None
    return path
