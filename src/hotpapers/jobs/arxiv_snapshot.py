"""`hotpapers import arxiv-snapshot`: the public arXiv metadata snapshot into the store,
streamed with bounded memory: a parser process (jobs/snapshot_worker.py) reads and parses
the file while this one writes, one transaction per batch (store/bulk.py). Bad lines are
reported and skipped, and a file whose first lines are all bad is refused before anything
is written. During the load the store's durability is relaxed (a crash of the machine may
need the import run again) and, for more than LARGE records, the secondary indexes of the
papers' tables (and on PostgreSQL the foreign keys of their children) are dropped and made
again at the end. The import is restartable: run again after it was stopped or killed, it
ends with the store one whole run makes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, Engine

from hotpapers.config import Settings
from hotpapers.errors import InputError
from hotpapers.jobs.snapshot_worker import Batch, ParserProcess, ReadFailed
from hotpapers.store.bulk import BulkWriter, bulk_session, drop_indexes, restore_indexes

__all__ = ["BATCH", "LARGE", "SnapshotImport", "import_arxiv_snapshot", "restore_after_stop"]

BATCH = 2000  # lines a transaction (about 12 rows each)
LARGE = 100_000  # records in a load above which indexes (and PG foreign keys) are made at the end

KEEP_BAD = 1000  # bad lines remembered with their reason; the rest are only counted


@dataclass
class SnapshotImport:
    stored: int = 0
    unchanged: int = 0  # papers stored already, exactly as the snapshot has them
    bad: list[tuple[int, str]] = field(default_factory=list)  # the first KEEP_BAD
    bad_count: int = 0


def _expected(path: Path, batch: Batch) -> float:
    """The records a file holds, guessed from where its first batch ended."""
    try:
        size = path.stat().st_size
    except OSError:
        return 0
    return batch.lines * size / max(batch.position, 1)


@contextmanager
def _indexes_dropped(conn: Connection, drop: bool) -> Iterator[None]:
    """Without the secondary indexes (and PostgreSQL's foreign keys of the papers' children)
    when `drop`, made again at the end, even on error."""
    if not drop:
        yield
        return
    with conn.begin():
        drop_indexes(conn)
    try:
        yield
    finally:
        conn.rollback()
        with conn.begin():
            restore_indexes(conn)


def import_arxiv_snapshot(engine: Engine, path: Path, settings: Settings, now: datetime,
                          progress: Callable[[int], None] = lambda _: None,
                          batch: int = BATCH) -> SnapshotImport:
    """Import every good line, one transaction per `batch` lines; report each bad line.
    InputError, with nothing written, when the first PROBE lines are all bad."""
    result = SnapshotImport()
    parser = ParserProcess(path, settings.arxiv_holidays, engine.dialect.name, batch)
    with parser, engine.connect() as conn, bulk_session(conn):
        with conn.begin():  # the indexes a killed load dropped
            restore_indexes(conn)
        batches = iter(parser)
        try:
            first = next(batches, None)
            if first is None:
                return result
            with _indexes_dropped(conn, _expected(path, first) > LARGE):
                _write(conn, [first], result, now, progress)
                _write(conn, batches, result, now, progress)
        except ReadFailed as exc:
            raise InputError(f"{path}: cannot read after {result.stored} papers: {exc}"
                             ) from None
    return result


def restore_after_stop(engine: Engine) -> None:
    """Make again what a large import stopped before its end left dropped (the indexes,
    the search, PostgreSQL's foreign keys); nothing when all are there."""
    with engine.connect() as conn, conn.begin():
        restore_indexes(conn)


def _write(conn: Connection, batches: Iterator[Batch] | list[Batch], result: SnapshotImport,
           now: datetime, progress: Callable[[int], None]) -> None:
    writer = BulkWriter(conn)
    for batch in batches:
        result.bad_count += len(batch.bad)
        result.bad += batch.bad[: max(0, KEEP_BAD - len(result.bad))]
        if batch.records:
            with conn.begin():
                result.unchanged += writer.write(batch.records, now)
        result.stored += len(batch.records)
        progress(batch.position)
