"""What copying a store into another database (SQLite to PostgreSQL and back) needs of each:
every table in foreign-key order, read in batches along its primary key, inserted (skipping
rows already there when resuming), and digested in a way both databases agree on."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime

from sqlalchemy import Connection, func, select, text, tuple_
from sqlalchemy.dialects import postgresql, sqlite

from hotpapers.store.schema import metadata
from hotpapers.store.stream_lease import PREFIX as LEASE_PREFIX

__all__ = ["BATCH", "SEEDED", "TABLES", "batches", "clear_seeded", "insert_rows", "occupied_tables",
           "reset_sequences", "row_count", "table_digest"]

BATCH = 5000
SEEDED = {"aggregate_state"}  # tables a new store's migration fills: replaced, not added to
_MASK = (1 << 128) - 1
# Rows a running store rewrites every few seconds, left out of the digests: a stream's lease.
_LIVE = {"source_cursors": ("name", LEASE_PREFIX)}
TABLES = [table.name for table in metadata.sorted_tables]  # parents before children


def row_count(conn: Connection, name: str) -> int:
    return conn.execute(select(func.count()).select_from(metadata.tables[name])).scalar()


def occupied_tables(conn: Connection) -> list[str]:
    """The schema's tables that hold rows, but those a new store is seeded with."""
    return [name for name in TABLES if name not in SEEDED and row_count(conn, name)]


def batches(conn: Connection, name: str, size: int) -> Iterator[list[dict]]:
    """Table `name`'s rows in primary-key order, `size` at a time (keyset paging, so every
    batch is one short indexed read however large the table)."""
    table = metadata.tables[name]
    key = list(table.primary_key.columns)
    query = select(table).order_by(*key).limit(size)
    last = None
    while True:
        page = query if last is None else query.where(
            key[0] > last[0] if len(key) == 1 else tuple_(*key) > tuple_(*last))
        rows = [dict(row) for row in conn.execute(page).mappings()]
        if not rows:
            return
        yield rows
        last = [rows[-1][c.name] for c in key]


def insert_rows(conn: Connection, name: str, rows: list[dict], resume: bool) -> None:
    """Insert `rows` into table `name`; when resuming, skip those whose key is there already
    (whatever order the target's collation gives the keys)."""
    table = metadata.tables[name]
    statement = table.insert()
    if resume:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(table).on_conflict_do_nothing()
    conn.execute(statement, rows)


def clear_seeded(conn: Connection, name: str) -> None:
    """Remove the rows a new store's migration seeds in table `name` (one of SEEDED), so
    the copied ones take their place."""
    conn.execute(metadata.tables[name].delete())


def _normal(value: object) -> object:
    """A value as both databases give it back: times in UTC, JSON with sorted keys."""
    if isinstance(value, datetime):
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        return repr(value)
    return value


def table_digest(conn: Connection, name: str) -> tuple[int, str]:
    """Rows and a digest of table `name` that does not depend on row order (a sum of each
    normalised row's hash), so two databases that sort keys differently still agree. Rows a
    running store keeps rewriting (stream leases) are left out."""
    table = metadata.tables[name]
    total = count = 0
    live = _LIVE.get(name)
    for rows in batches(conn, name, BATCH):
        for row in rows:
            if live and str(row[live[0]]).startswith(live[1]):
                continue
            line = json.dumps([_normal(row[c.name]) for c in table.columns], default=str)
            total += int.from_bytes(hashlib.blake2b(line.encode(), digest_size=16).digest())
            count += 1
    return count, f"{total & _MASK:032x}"


def reset_sequences(conn: Connection) -> None:
    """PostgreSQL: each serial key's sequence continues after the largest copied id."""
    if conn.dialect.name != "postgresql":
        return
    for table in metadata.sorted_tables:
        for column in table.primary_key.columns:
            sequence = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"),
                                    {"t": table.name, "c": column.name}).scalar()
            if sequence:
                largest = conn.execute(select(func.max(column))).scalar()
                conn.execute(text("SELECT setval(:s, :v, :called)"),
                             {"s": sequence, "v": largest or 1, "called": largest is not None})
