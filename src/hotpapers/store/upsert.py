"""One portable upsert (INSERT ... ON CONFLICT) for SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Table, func
from sqlalchemy.dialects import postgresql, sqlite

__all__ = ["upsert"]

_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def upsert(
    conn: Connection,
    table: Table,
    rows: Iterable[Mapping[str, Any]] | Mapping[str, Any],
    keys: Iterable[str],
    update: Iterable[str] | None = None,
    returning: str | None = None,
    keep_stored: bool = True,
) -> Any:
    """Insert rows; on a clash of `keys` update the `update` columns (default: all others;
    with `keep_stored`, a None keeps the stored value) or, with `update=()`, leave the row.
    With `returning`, the value of that column for the single row given."""
    rows = [rows] if isinstance(rows, Mapping) else list(rows)
    if not rows:
        return None
    keys = tuple(keys)
    columns = tuple(update) if update is not None else tuple(c for c in rows[0] if c not in keys)
    stmt = upsert_statement(conn.dialect.name, table, keys, columns, keep_stored, returning)
    if returning is None:
        conn.execute(stmt, rows)
        return None
    if len(rows) != 1:
        raise ValueError("returning needs exactly one row")
    return conn.execute(stmt, rows[0]).scalar_one()


@lru_cache(maxsize=256)
def upsert_statement(dialect: str, table: Table, keys: tuple[str, ...],
                     columns: tuple[str, ...], keep_stored: bool, returning: str | None) -> Any:
    """The statement, built once per shape (building it costs more than running it)."""
    try:
        insert = _INSERTS[dialect]
    except KeyError:
        raise NotImplementedError(f"no upsert for {dialect}") from None
    stmt = insert(table)
    excluded = stmt.excluded
    if columns:
        stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_={
            c: func.coalesce(excluded[c], table.c[c]) if keep_stored else excluded[c]
            for c in columns})
    elif returning is not None:  # DO NOTHING returns no row on a clash: touch a key instead
        stmt = stmt.on_conflict_do_update(index_elements=list(keys),
                                          set_={keys[0]: excluded[keys[0]]})
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(keys))
    return stmt.returning(table.c[returning]) if returning else stmt


def bulk_execute(conn: Connection, stmt: Any, rows: list[Mapping[str, Any]]) -> None:
    """Run `stmt` (an INSERT or upsert on one table) for many rows through the driver's
    executemany, with the columns' own bind processing; for bulk loads, where SQLAlchemy's
    per-row parameter handling costs more than the database."""
    if not rows:
        return
    keys = tuple(rows[0])
    sql, order, processors = _prepared(conn.dialect, stmt, keys)
    if order is None:
        params: list = [{k: (p(row[k]) if p else row[k]) for k, p in processors.items()}
                        for row in rows]
    else:
        pairs = [(k, processors[k]) for k in order]
        params = [tuple(p(row[k]) if p else row[k] for k, p in pairs) for row in rows]
    conn.exec_driver_sql(sql, params)


@lru_cache(maxsize=64)
def _prepared(dialect: Any, stmt: Any, keys: tuple[str, ...]) -> tuple[str, Any, dict]:
    compiled = stmt.compile(dialect=dialect, column_keys=list(keys))
    table = stmt.table
    processors = {k: table.c[k].type.dialect_impl(dialect).bind_processor(dialect)
                  for k in keys}
    order = tuple(compiled.positiontup) if compiled.positional else None
    return compiled.string, order, processors
