"""Copy a SQLite store into an empty PostgreSQL database, table by table with COPY, for
benchmarks on PostgreSQL at scale (`rank_scale.py --db URL` on a store built once on
SQLite: building 1M mentions through the ingest code takes most of an hour). Rows are read
through the schema's column types and written by psycopg; the id sequences are moved past
the copied ids. Not a user command and not run in CI.

    python benchmarks/copy_store.py /tmp/hotpapers-bench/rank-scale-....sqlite3 \
        postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

from psycopg.types.json import Json
from sqlalchemy import JSON, func, select, text

from hotpapers.store.db import connect
from hotpapers.store.schema import metadata


def copy_table(source, target, table) -> int:
    """Every row of `table` from `source` (a SQLAlchemy connection) into `target` (a
    psycopg cursor); the rows copied."""
    names = [c.name for c in table.columns]
    wrap = [isinstance(c.type, JSON) for c in table.columns]
    count = 0
    result = source.execution_options(yield_per=20_000).execute(select(table))
    columns = ', '.join(f'"{name}"' for name in names)
    with target.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
        for row in result:
            copy.write_row([Json(v) if w and v is not None else v
                            for v, w in zip(row, wrap, strict=True)])
            count += 1
    return count


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sqlite", help="the SQLite store's file")
    parser.add_argument("url", help="an empty PostgreSQL database's URL")
    args = parser.parse_args(argv)
    source_engine = connect(f"sqlite:///{args.sqlite}", create=False)
    target_engine = connect(args.url)
    started = time.perf_counter()
    with source_engine.connect() as source, target_engine.begin() as target:
        cursor = target.connection.driver_connection.cursor()
        for table in reversed(metadata.sorted_tables):  # children first: emptied first
            target.execute(table.delete())
        for table in metadata.sorted_tables:
            began = time.perf_counter()
            count = copy_table(source, cursor, table)
            print(f"{table.name}: {count:,} rows in {time.perf_counter() - began:.1f} s",
                  flush=True)
            serial = [c for c in table.primary_key.columns if c.autoincrement is True
                      or (c.name == "id" and c.type.python_type is int)]
            for column in serial:
                top = target.execute(select(func.max(column))).scalar()
                if top is not None:
                    target.execute(text("SELECT setval(pg_get_serial_sequence(:t, :c), :v)"),
                                   {"t": table.name, "c": column.name, "v": top})
    with target_engine.begin() as target:
        target.execute(text("ANALYZE"))
    print(f"copied in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
