"""PostgreSQL's side of bulk loads (store/bulk.py): COPY (psycopg 3). Papers not stored yet
are copied straight into their tables; papers stored already are copied into temporary
staging tables, then moved with one INSERT ... ON CONFLICT each. The caller holds a lock
that keeps other writers of papers out of the transaction."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from hotpapers.store.paper_rows import PAPER_COLUMNS, PaperRecord

__all__ = ["copy_new", "copy_stored"]

_COLUMNS = (*PAPER_COLUMNS, "stored_at")
_LIST = ", ".join(_COLUMNS)
_VERSIONS = "paper_id, version, submitted_at, size"
_STAGING = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS hp_bulk_papers "
    "(LIKE papers INCLUDING DEFAULTS) ON COMMIT DELETE ROWS",
    "CREATE TEMPORARY TABLE IF NOT EXISTS hp_bulk_versions "
    "(LIKE paper_versions INCLUDING DEFAULTS) ON COMMIT DELETE ROWS",
)
_MOVE = (
    f"INSERT INTO papers ({_LIST}) SELECT {_LIST} FROM hp_bulk_papers "
    "ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in _COLUMNS[1:]),
    f"INSERT INTO paper_versions ({_VERSIONS}) SELECT {_VERSIONS} FROM hp_bulk_versions "
    "ON CONFLICT (paper_id, version) DO UPDATE SET "
    "submitted_at = coalesce(EXCLUDED.submitted_at, paper_versions.submitted_at), "
    "size = coalesce(EXCLUDED.size, paper_versions.size)",
)


def _copy(cursor: Any, table: str, columns: str, rows: Iterable[tuple]) -> None:
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def copy_new(cursor: Any, records: list[PaperRecord], at: Any) -> None:
    """Papers not stored yet (one record per id), with stored_at `at`, straight in."""
    _copy(cursor, "papers", _LIST, ((*r[0], at) for r in records))
    _copy_lists(cursor, records)
    _copy(cursor, "paper_versions", _VERSIONS, _versions(records))


def copy_stored(cursor: Any, records: list[PaperRecord], at: Any) -> None:
    """Papers stored already (one record per id) written over, through staging tables:
    their rows upserted, their authors and categories replaced, their versions merged."""
    ids = [r[0][0] for r in records]
    for statement in _STAGING:
        cursor.execute(statement)
    _copy(cursor, "hp_bulk_papers", _LIST, ((*r[0], at) for r in records))
    _copy(cursor, "hp_bulk_versions", _VERSIONS, _versions(records))
    cursor.execute("DELETE FROM paper_authors WHERE paper_id = ANY(%s)", (ids,))
    cursor.execute("DELETE FROM paper_categories WHERE paper_id = ANY(%s)", (ids,))
    for statement in _MOVE:
        cursor.execute(statement)
    _copy_lists(cursor, records)


def _copy_lists(cursor: Any, records: list[PaperRecord]) -> None:
    """The authors and categories of `records` (none stored)."""
    _copy(cursor, "paper_authors", "paper_id, position, name",
          ((r[0][0], i, name) for r in records for i, name in enumerate(r[1])))
    _copy(cursor, "paper_categories", "paper_id, position, category",
          ((r[0][0], i, category) for r in records for i, category in enumerate(r[2])))


def _versions(records: list[PaperRecord]) -> Iterator[tuple]:
    """The version rows of `records`, one per number: a record naming a number twice gets
    what SQLite's upsert makes of it (a later value that is not null wins)."""
    for record in records:
        versions = record[3]
        if len(versions) > 1 and len({v[0] for v in versions}) < len(versions):
            merged: dict[Any, tuple] = {}
            for number, at, size in versions:
                was = merged.get(number)
                merged[number] = (number, at, size) if was is None else (
                    number, was[1] if at is None else at, was[2] if size is None else size)
            versions = tuple(merged.values())
        for version in versions:
            yield (record[0][0], *version)
