"""One portable upsert (INSERT ... ON CONFLICT) for SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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
    keys = list(keys)
    try:
        insert = _INSERTS[conn.dialect.name]
    except KeyError:
        raise NotImplementedError(f"no upsert for {conn.dialect.name}") from None
    stmt = insert(table)
    columns = list(update) if update is not None else [c for c in rows[0] if c not in keys]
    if columns:
        stmt = stmt.on_conflict_do_update(
            index_elements=keys,
            set_={c: func.coalesce(stmt.excluded[c], table.c[c]) if keep_stored
                  else stmt.excluded[c] for c in columns},
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=keys)
    if returning is None:
        conn.execute(stmt, rows)
        return None
    if len(rows) != 1:
        raise ValueError("returning needs exactly one row")
    if not columns:  # DO NOTHING returns no row on a clash: touch a key instead
        stmt = insert(table).on_conflict_do_update(
            index_elements=keys, set_={keys[0]: stmt.excluded[keys[0]]}
        )
    return conn.execute(stmt.values(rows[0]).returning(table.c[returning])).scalar_one()

