"""Digests that say whether two stores (or two site folders) hold the same result: rows per
table with surrogate ids replaced by natural keys and fetch-time stamps left out.

What is compared, precisely:
- every table of the schema except `runs` (a record of each process, killed ones included)
  and `change_stamps` (a counter of writes, whose values depend on how many were made),
  and of `source_cursors` not the stream's lease (`lease:*`: which consumer held it, and how
  often it changed hands, depend on the processes, not on the data);
- surrogate integer ids (accounts, mentions, rankings, posts, publications) are replaced by
  the row's natural key, and foreign keys to them by the referenced natural key, since a
  killed transaction may consume ids (PostgreSQL sequences) without changing the data;
- columns stamping when this process stored or fetched a row are left out:
  papers.stored_at, mentions.first_seen_at, rankings.created_at, posts.generated_at,
  source_cursors.updated_at, observations.observed_at, paper_attention.observed_at;
- observations and paper_attention are time series that gain a row at every fetch, so
  only the latest row per mention (per paper and source) is compared: its counts;
- the attention totals' author (`who`: an account id, or minus a mention id) is replaced by
  that account's or mention's natural key, their float sums are compared to 9 decimals
  (sums kept by delta differ in the last bits with the order of writes), and the state's
  times (when built, the latest time counted) are left out.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, inspect, select

from hotpapers.store.schema import metadata

__all__ = ["IGNORED", "SURROGATES", "compare", "integrity_check", "store_rows", "tree_digest"]

SKIPPED_TABLES = {"runs", "change_stamps"}
LEASES = "lease:"  # source_cursors rows of stream leases (store/stream_lease.py)
SURROGATES = {  # table -> its natural key
    "accounts": ("source", "native_id"),
    "mentions": ("source", "native_id"),
    "rankings": ("day", "method", "window"),
    "posts": ("day", "format"),
    "publications": ("day", "target"),
}
IGNORED = {
    "papers": {"stored_at"}, "mentions": {"first_seen_at"}, "rankings": {"created_at"},
    "posts": {"generated_at"}, "source_cursors": {"updated_at"},
    "observations": {"observed_at"}, "paper_attention": {"observed_at"},
    "aggregate_state": {"built_at", "data_until"},
}
ROUNDED = {"account_totals": {"value"}, "paper_source_totals": {"raw"}}
SERIES = {  # time-series table -> (the series' key columns, the time column)
    "observations": (("mention_id", "via"), "observed_at"),
    "paper_attention": (("paper_id", "source"), "observed_at"),
}


def _plain(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, default=str)
    return value if value is None or isinstance(value, (int, float, str)) else str(value)


def _natural_keys(conn) -> dict[str, dict[int, tuple]]:
    keys: dict[str, dict[int, tuple]] = {}
    for name, columns in SURROGATES.items():
        table = metadata.tables[name]
        rows = conn.execute(select(table.c.id, *(table.c[c] for c in columns)))
        keys[name] = {row[0]: tuple(_plain(v) for v in row[1:]) for row in rows}
    return keys


def _table_rows(conn, table, keys: dict[str, dict[int, tuple]]) -> list[tuple]:
    links = {fk.parent.name: fk.column.table.name for fk in table.foreign_keys
             if fk.column.table.name in SURROGATES}
    ignored = IGNORED.get(table.name, set())
    rows = [dict(row._mapping) for row in conn.execute(select(table))]
    if table.name == "source_cursors":
        rows = [row for row in rows if not row["name"].startswith(LEASES)]
    if table.name in SERIES:
        series, stamp = SERIES[table.name]
        latest: dict[tuple, dict] = {}
        for row in sorted(rows, key=lambda r: r[stamp]):
            latest[tuple(row[c] for c in series)] = row
        rows = list(latest.values())
    out = []
    for row in rows:
        values = []
        for column in table.columns:
            name = column.name
            if name in ignored or (name == "id" and table.name in SURROGATES):
                continue
            value = row[name]
            if name in links and value is not None:
                value = keys[links[name]].get(value, ("missing", value))
            elif name == "who":  # an account id, or minus a mention id
                value = keys["accounts"].get(value) if value > 0 else \
                    keys["mentions"].get(-value)
            elif name in ROUNDED.get(table.name, ()):
                value = round(value, 9)
            values.append((name, _plain(value)))
        out.append(tuple(values))
    return out


def store_rows(db_url: str) -> dict[str, Counter]:
    """Per table, the multiset of its digested rows (see the module docstring)."""
    engine = create_engine(db_url)
    try:
        present = set(inspect(engine).get_table_names())
        with engine.connect() as conn:
            keys = _natural_keys(conn) if set(SURROGATES) <= present else {}
            return {table.name: Counter(_table_rows(conn, table, keys))
                    for table in metadata.sorted_tables
                    if table.name in present and table.name not in SKIPPED_TABLES}
    finally:
        engine.dispose()


def compare(reference: dict[str, Counter], got: dict[str, Counter]) -> tuple[int, int]:
    """(rows of `reference` missing from `got`, rows of `got` beyond `reference`)."""
    lost = duplicated = 0
    for name in set(reference) | set(got):
        ref, have = reference.get(name, Counter()), got.get(name, Counter())
        lost += sum((ref - have).values())
        duplicated += sum((have - ref).values())
    return lost, duplicated


def differences(reference: dict[str, Counter], got: dict[str, Counter], limit: int = 3) -> str:
    """A short account of the differing rows, for an assertion message."""
    lines = []
    for name in sorted(set(reference) | set(got)):
        ref, have = reference.get(name, Counter()), got.get(name, Counter())
        for label, rows in (("lost", ref - have), ("extra", have - ref)):
            for row in list(rows)[:limit]:
                lines.append(f"{name}: {label}: {str(row)[:300]}")
    return "\n".join(lines)


def integrity_check(path: Path) -> str:
    """SQLite's own verdict on the file ('ok' when sound)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return "; ".join(row[0] for row in conn.execute("PRAGMA integrity_check"))
    finally:
        conn.close()


def tree_digest(folder: Path) -> dict[str, str]:
    """Every file under `folder` (hidden ones included) by relative path: its SHA-256."""
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}
