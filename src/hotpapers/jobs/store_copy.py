"""`store copy`: every table of one store into another database (SQLite and PostgreSQL either
way), one transaction a batch, resumable, then verified table by table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from hotpapers.errors import InputError, StoreError
from hotpapers.store.db import first_line
from hotpapers.store.fulltext import reindex_all
from hotpapers.store.transfer import (
    BATCH,
    SEEDED,
    TABLES,
    batches,
    clear_seeded,
    insert_rows,
    occupied_tables,
    reset_sequences,
    row_count,
    table_digest,
)

__all__ = ["TableCopy", "copy_store"]


@dataclass
class TableCopy:
    """One table: rows written by this copy; at the end, its rows and digest on both sides."""

    name: str
    written: int = 0
    rows: int = 0
    target_rows: int = 0
    digest: str = ""
    target_digest: str = ""

    @property
    def same(self) -> bool:
        return self.rows == self.target_rows and self.digest == self.target_digest


def _copy_table(source: Engine, target: Engine, name: str, batch: int, resume: bool,
                progress: Callable[[str, int], None]) -> int:
    """Copy one table; returns how many rows it added to the target. A table a new store
    is seeded with is emptied in the transaction that writes its first rows."""
    with target.connect() as conn:
        before = row_count(conn, name)
    read = 0
    seeded = name in SEEDED
    with source.connect() as reading:
        for rows in batches(reading, name, batch):
            with target.begin() as conn:
                if seeded and not read:
                    clear_seeded(conn, name)
                insert_rows(conn, name, rows, resume)
            read += len(rows)
            progress(name, read)
    if seeded and not read:  # none in the source: none in the copy either
        with target.begin() as conn:
            clear_seeded(conn, name)
    with target.connect() as conn:
        return row_count(conn, name) - before


def copy_store(source: Engine, target: Engine, *, resume: bool = False, batch: int = BATCH,
               progress: Callable[[str, int], None] = lambda name, rows: None
               ) -> list[TableCopy]:
    """Copy every table of `source` into `target` (both at this code's schema), then compare
    each table's rows and digest (`TableCopy.same`). A target holding rows is refused
    (InputError) unless `resume`, which continues an interrupted copy: the rows already
    there are skipped. A failing batch is StoreError naming its table, and is not written."""
    with target.connect() as conn:
        occupied = occupied_tables(conn)
    if occupied and not resume:
        more = " ..." if len(occupied) > 3 else ""
        raise InputError(f"the target store is not empty ({', '.join(occupied[:3])}{more} "
                         "hold rows): copy into a new database, or add --resume to continue "
                         "an interrupted copy")
    with target.connect() as conn:  # a new store's seed rows give way to the source's
        seeds = {name: table_digest(conn, name) for name in SEEDED}
    copies = []
    for name in TABLES:
        try:
            copies.append(TableCopy(name, _copy_table(source, target, name, batch, resume,
                                                      progress)))
        except SQLAlchemyError as exc:
            raise StoreError(f"copying table {name}: {first_line(exc)}") from None
    with target.begin() as conn:
        reset_sequences(conn)
        reindex_all(conn)  # SQLite's search table is made from the papers, not copied
    with source.connect() as left, target.connect() as right:
        for copy in copies:
            copy.rows, copy.digest = table_digest(left, copy.name)
            copy.target_rows, copy.target_digest = table_digest(right, copy.name)
            if copy.name in seeds:  # replaced: written only if it changed
                changed = seeds[copy.name] != (copy.target_rows, copy.target_digest)
                copy.written = copy.target_rows if changed else 0
    return copies
