"""Bulk loads of papers (`import arxiv-snapshot`): records (store/paper_rows.py) written
through the driver, a few statements per batch: prepared executemany on SQLite, COPY on
PostgreSQL (store/bulk_copy.py). Papers not stored yet are inserted plainly (no upsert);
papers stored already are compared with their stored rows,
read raw, so that those left as they are count as unchanged and are not written again;
papers that published posts show go through `save_paper`, which keeps what those posts
showed; an older record never replaces a newer version. Around a large load: relaxed durability,
and the secondary indexes of the papers' tables, their search table or indexes (and
PostgreSQL's foreign keys of their children) dropped and made again."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, ForeignKeyConstraint, Index
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.schema import AddConstraint, DropConstraint

from hotpapers.models import Paper, strip_controls
from hotpapers.store.bulk_copy import copy_new, copy_stored
from hotpapers.store.fulltext import drop_search, index_papers, make_search
from hotpapers.store.paper_rows import PAPER_COLUMNS, PaperRecord, codec
from hotpapers.store.papers import save_paper
from hotpapers.store.schema import paper_authors, paper_categories, paper_versions, papers
from hotpapers.store.stamps import bump

__all__ = ["BulkWriter", "bulk_session", "child_keys", "drop_indexes", "restore_indexes",
           "save_papers_bulk"]

_LATEST = PAPER_COLUMNS.index("latest_version")
_CHUNK = 5000  # ids in one `IN (...)` list (SQLite allows 32766 variables)
_COLUMNS = (*PAPER_COLUMNS, "stored_at")
_SQLITE_NEW = (
    f"INSERT INTO papers ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})")
_SQLITE_PAPERS = (
    f"INSERT INTO papers ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))}) "
    "ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS[1:]))
_SQLITE_VERSIONS = (
    "INSERT INTO paper_versions (paper_id, version, submitted_at, size) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (paper_id, version) DO UPDATE SET "
    "submitted_at = coalesce(excluded.submitted_at, paper_versions.submitted_at), "
    "size = coalesce(excluded.size, paper_versions.size)")
# A paper's authors or categories from one JSON list: (paper id, list); position from 0.
_SQLITE_AUTHORS = ("INSERT INTO paper_authors (paper_id, position, name) "
                   "SELECT ?, key, value FROM json_each(?)")
_SQLITE_CATEGORIES = ("INSERT INTO paper_categories (paper_id, position, category) "
                      "SELECT ?, key, value FROM json_each(?)")
# SQLite settings of a loading connection (see bulk_session).
_LOADING = {"synchronous": "OFF", "foreign_keys": "OFF", "cache_size": "-65536"}
_TABLES = (papers, paper_authors, paper_categories, paper_versions)


def secondary_indexes() -> list[Index]:
    """The indexes a bulk load may drop: not unique, on the tables it writes (primary keys
    and unique constraints, which the upserts need, are never among them)."""
    return [index for table in _TABLES for index in sorted(table.indexes, key=lambda i: i.name)
            if not index.unique]


def child_keys() -> list[ForeignKeyConstraint]:
    """The foreign keys of the papers' children: PostgreSQL checks each row copied against
    them (a trigger per row, most of a load's time), so a large load drops them there
    (SQLite's loading connection does not check them)."""
    return [key for table in _TABLES[1:]
            for key in sorted(table.foreign_key_constraints, key=lambda k: k.name)]


def drop_indexes(conn: Connection) -> None:
    """Drop the secondary indexes, the search table or indexes (store/fulltext.py) and, on
    PostgreSQL, the foreign keys of child_keys."""
    for index in secondary_indexes():
        index.drop(conn, checkfirst=True)
    drop_search(conn)
    if conn.dialect.name == "postgresql":
        for key in child_keys():
            conn.execute(DropConstraint(key, if_exists=True))


def restore_indexes(conn: Connection) -> None:
    """Make the indexes and foreign keys a load dropped (also those of a load that was
    killed). Rows whose paper is gone (deleted while the keys were away) are deleted
    first, as the keys' ON DELETE CASCADE would have done."""
    for index in secondary_indexes():
        index.create(conn, checkfirst=True)
    make_search(conn)
    if conn.dialect.name != "postgresql":
        return
    found = set(conn.exec_driver_sql(
        "SELECT conname FROM pg_constraint WHERE contype = 'f' "
        "AND conrelid IN ('paper_authors'::regclass, 'paper_categories'::regclass, "
        "'paper_versions'::regclass)").scalars())
    for key in child_keys():
        if key.name not in found:
            table = key.table.name
            conn.exec_driver_sql(f"DELETE FROM {table} AS c WHERE NOT EXISTS "
                                 "(SELECT 1 FROM papers AS p WHERE p.id = c.paper_id)")
            conn.execute(AddConstraint(key))


@contextmanager
def bulk_session(conn: Connection) -> Iterator[None]:
    """Relaxed durability on `conn` for a bulk load, restored after, even on error: SQLite
    `synchronous=OFF` (a crash of the machine, not of the process, may lose or damage the
    last batches: run the import again), a larger page cache, and no foreign key checks
    on this connection (it writes only the children of the papers it writes, in the same
    transaction); PostgreSQL `synchronous_commit=off` (a crash may lose the last batches,
    never damage the store)."""
    if conn.dialect.name == "sqlite":
        saved = [(name, conn.exec_driver_sql(f"PRAGMA {name}").scalar()) for name in _LOADING]
        settings = [f"PRAGMA {name}={value}" for name, value in _LOADING.items()]
        restore = [f"PRAGMA {name}={value}" for name, value in saved]
    else:
        settings, restore = ["SET synchronous_commit TO off"], ["RESET synchronous_commit"]
    for statement in settings:
        conn.exec_driver_sql(statement)
    conn.commit()
    failed = True
    try:
        yield
        failed = False
    finally:
        _restore(conn, restore, failed)


def _restore(conn: Connection, statements: list[str], failed: bool) -> None:
    try:
        conn.rollback()
        for statement in statements:
            conn.exec_driver_sql(statement)
        conn.commit()
    except SQLAlchemyError:
        conn.invalidate()  # never back to the pool with relaxed settings
        if not failed:
            raise


class BulkWriter:
    """Writes batches of records on one connection, each inside the caller's transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.dialect = conn.dialect.name
        self.codec = codec(self.dialect)
        self._json = self.dialect == "sqlite" and _has_json(conn)
        self._fresh: bool | None = None  # whether the store held no paper at the first write

    def write(self, records: Sequence[PaperRecord], now: datetime) -> int:
        """Store `records` (the last of an id wins); the number of them that leave the
        stored paper as it was (the same, or older than the stored version). Papers not
        stored yet are inserted plainly (COPY straight in on PostgreSQL); when the store
        held no paper at the first write (read once, under the lock), only the ids of the
        batch are looked up, since only this load (or another writer) can have stored them."""
        cursor = self.conn.connection.driver_connection.cursor()
        try:
            if self.dialect == "postgresql":  # no other writer between the reads and COPY
                cursor.execute("LOCK TABLE papers IN SHARE ROW EXCLUSIVE MODE")
            if self._fresh is None:
                self._fresh = self._empty(cursor)
            last = {record[0][0]: record for record in records}
            last = {i: last[i] for i in sorted(last)}  # in key order: fewer pages touched
            ids = list(last)
            stored = self._stored(cursor, self._ids(cursor, ids) if self._fresh else ids)
            new = [r for i, r in last.items() if i not in stored]
            if new:
                self._insert(cursor, new, now)
            unchanged, changed = self._update(cursor, [r for r in records if r[0][0] in stored],
                                              last, stored, now) if stored else (0, False)
        finally:
            cursor.close()
        if new or changed:  # too many papers to stamp one by one: everything may have changed
            index_papers(self.conn, ids)
            bump(self.conn, everything=True)
        return unchanged

    def _update(self, cursor: Any, old: list[PaperRecord], last: dict[str, PaperRecord],
                stored: dict[str, tuple], now: datetime) -> tuple[int, bool]:
        """Write the records of papers stored already (`old`, every record of theirs);
        (how many of them leave their paper as it was, whether any paper changed)."""
        same = {r for r in old if self._kept(r, stored[r[0][0]])}
        same |= self._same(cursor, [r for r in old if r not in same], stored)
        todo = [r for i, r in last.items() if i in stored and r not in same]
        shown = self._shown(cursor, [r[0][0] for r in todo])
        for record in (r for r in todo if r[0][0] in shown):
            save_paper(self.conn, self.codec.paper(record), now)
        rest = [r for r in todo if r[0][0] not in shown]
        if rest:
            self._save(cursor, rest, now)
        return sum(r in same for r in old), bool(todo)

    @staticmethod
    def _kept(record: PaperRecord, row: tuple) -> bool:
        """Whether the stored version is newer than the record's (it stays)."""
        return (record[0][_LATEST] or 0) < (row[_LATEST] or 0)

    def _select(self, cursor: Any, sql: str, ids: list[str]) -> Iterator[tuple]:
        """Rows of `sql`, whose `{ids}` is replaced by a test of the column on `ids`."""
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start:start + _CHUNK]
            if self.dialect == "postgresql":
                cursor.execute(sql.format(ids="= ANY(%s)"), (chunk,))
            else:
                cursor.execute(sql.format(ids=f"IN ({', '.join('?' * len(chunk))})"), chunk)
            yield from cursor.fetchall()

    @staticmethod
    def _empty(cursor: Any) -> bool:
        cursor.execute("SELECT 1 FROM papers LIMIT 1")
        return cursor.fetchone() is None

    def _ids(self, cursor: Any, ids: list[str]) -> list[str]:
        """Those of `ids` stored (read from the primary key's index only)."""
        return [row[0] for row in self._select(cursor, "SELECT id FROM papers WHERE id {ids}",
                                               ids)]

    def _stored(self, cursor: Any, ids: list[str]) -> dict[str, tuple]:
        sql = f"SELECT {', '.join(PAPER_COLUMNS)} FROM papers WHERE id {{ids}}"
        return {row[0]: tuple(row) for row in self._select(cursor, sql, ids)}

    def _same(self, cursor: Any, records: list[PaperRecord], stored: dict[str, tuple]
              ) -> set[PaperRecord]:
        """The records equal to their stored paper, children included."""
        candidates = [r for r in records if r[0] == stored[r[0][0]]]
        ids = list(dict.fromkeys(r[0][0] for r in candidates))
        if not ids:
            return set()
        found: dict[str, list[list]] = {i: [[], [], []] for i in ids}
        for slot, sql in enumerate((
                "SELECT paper_id, name FROM paper_authors WHERE paper_id {ids} "
                "ORDER BY paper_id, position",
                "SELECT paper_id, category FROM paper_categories WHERE paper_id {ids} "
                "ORDER BY paper_id, position",
                "SELECT paper_id, version, submitted_at, size FROM paper_versions "
                "WHERE paper_id {ids} ORDER BY paper_id, version")):
            for row in self._select(cursor, sql, ids):
                found[row[0]][slot].append(row[1] if slot < 2 else tuple(row[1:]))
        return {r for r in candidates
                if [list(r[1]), list(r[2]), list(r[3])] == found[r[0][0]]}

    def _shown(self, cursor: Any, ids: list[str]) -> set[str]:
        sql = "SELECT DISTINCT paper_id FROM post_entries WHERE paper_id {ids}"
        return {row[0] for row in self._select(cursor, sql, ids)}

    def _insert(self, cursor: Any, records: list[PaperRecord], now: datetime) -> None:
        """Papers not stored yet (one record per id; the caller's transaction holds the
        lock): plain inserts, no child to delete."""
        at = self.codec.time(now)
        if self.dialect == "postgresql":
            copy_new(cursor, records, at)
            return
        cursor.executemany(_SQLITE_NEW, [(*r[0], at) for r in records])
        self._children(cursor, records)

    def _save(self, cursor: Any, records: list[PaperRecord], now: datetime) -> None:
        """Papers stored already (one record per id) written over: their rows upserted,
        their authors and categories replaced, their versions merged."""
        at = self.codec.time(now)
        if self.dialect == "postgresql":
            copy_stored(cursor, records, at)
            return
        cursor.executemany(_SQLITE_PAPERS, [(*r[0], at) for r in records])
        ids = [r[0][0] for r in records]
        for table in ("paper_authors", "paper_categories"):
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start:start + _CHUNK]
                cursor.execute(f"DELETE FROM {table} WHERE paper_id IN "
                               f"({', '.join('?' * len(chunk))})", chunk)
        self._children(cursor, records)

    def _children(self, cursor: Any, records: list[PaperRecord]) -> None:
        """SQLite: the authors, categories and versions of `records` (none stored)."""
        if self._json:  # a row per paper, its list made rows by SQLite: much fewer binds
            for sql, slot in ((_SQLITE_AUTHORS, 1), (_SQLITE_CATEGORIES, 2)):
                cursor.executemany(sql, [(r[0][0], orjson.dumps(r[slot])) for r in records
                                         if r[slot]])
        else:
            cursor.executemany("INSERT INTO paper_authors (paper_id, position, name) "
                               "VALUES (?, ?, ?)", _children(records, 1))
            cursor.executemany("INSERT INTO paper_categories (paper_id, position, category) "
                               "VALUES (?, ?, ?)", _children(records, 2))
        # an upsert: a record may name a version twice, and a stored paper's versions stay
        cursor.executemany(_SQLITE_VERSIONS, [(r[0][0], *v) for r in records for v in r[3]])


def _children(records: list[PaperRecord], slot: int) -> list[tuple]:
    return [(r[0][0], position, value) for r in records
            for position, value in enumerate(r[slot])]


def _has_json(conn: Connection) -> bool:
    """Whether this SQLite has its JSON functions for certain (built in from 3.38)."""
    version = getattr(conn.dialect.dbapi, "sqlite_version_info", (0,))
    return tuple(version) >= (3, 38)


def save_papers_bulk(conn: Connection, batch: Sequence[Paper], now: datetime) -> int:
    """Store many papers through the bulk writer (see BulkWriter.write), their texts
    without control characters; how many were left as stored."""
    writer = BulkWriter(conn)
    return writer.write([writer.codec.record(strip_controls(p)) for p in batch], now)
