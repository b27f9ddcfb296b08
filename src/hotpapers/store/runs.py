"""The run record: what a command did, when, with what outcome, counts, cursors and errors,
and which process did it, so that a run whose process died is marked `interrupted`."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import OperationalError

from hotpapers.errors import NothingToDo
from hotpapers.secrets import scrub
from hotpapers.store.schema import runs

__all__ = ["RunLog", "last_cursors", "load_runs", "mark_interrupted", "process_start",
           "recorded_run"]

UNFINISHED = ("failed", "running", "interrupted")  # a run of these is resumed
# A SQLite store busy with another job's long write (an import's end): the run's record is
# written again, RECORD_TRIES times in all, RECORD_WAIT seconds apart (each try also waits
# the driver's busy timeout), so that a run whose work is saved does not fail on its record.
RECORD_TRIES = 6
RECORD_WAIT = 5.0
T = TypeVar("T")


@dataclass
class RunLog:
    """What a running command reports: counts, cursors, and errors it survived."""

    counts: dict = field(default_factory=dict)
    cursors: dict = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    flush: Callable[[RunLog], None] = field(default=lambda _: None, repr=False)

    def checkpoint(self) -> None:
        """Store the counts and cursors now, so an interrupted run can be resumed."""
        self.flush(self)


@contextmanager
def recorded_run(engine: Engine, command: str, clock: Callable[[], datetime],
                 sleep: Callable[[float], None] = time.sleep) -> Iterator[RunLog]:
    """Record a run: `running` at the start; at the end `ok`, `partial` (errors survived),
    `nothing` (nothing to do) or `failed` (an exception, whose message is kept). Runs of
    this host whose process is gone are marked `interrupted` first. Writes of the record
    (its start too) that find the store busy are tried again (RECORD_TRIES, `sleep`
    between)."""
    def start(conn: Connection) -> int:
        mark_interrupted(conn)
        return conn.execute(runs.insert().values(
            command=command, started_at=clock(), status="running", pid=os.getpid(),
            host=socket.gethostname(), process_start=process_start(os.getpid()),
        )).inserted_primary_key[0]

    run_id = _retrying(engine, start, sleep)

    def write(log: RunLog, status: str = "running", finished: bool = False) -> None:
        _retrying(engine, lambda conn: conn.execute(
            runs.update().where(runs.c.id == run_id).values(
                finished_at=clock() if finished else None, status=status,
                counts=log.counts, cursors=log.cursors or None,
                errors=[scrub(e) for e in log.errors] or None)), sleep)

    log = RunLog(flush=write)
    status = "failed"
    try:
        yield log
        status = "partial" if log.errors else "ok"
    except NothingToDo:
        status = "nothing"
        raise
    except Exception as exc:
        log.errors.append(str(exc))
        raise
    finally:
        write(log, status, finished=True)


def _retrying(engine: Engine, work: Callable[[Connection], T],
              sleep: Callable[[float], None]) -> T:
    """`work` in a transaction of its own, tried again while the store is busy."""
    for tries_left in reversed(range(RECORD_TRIES)):
        try:
            with engine.begin() as conn:
                return work(conn)
        except OperationalError as exc:
            if not tries_left or not busy(exc):
                raise
        sleep(RECORD_WAIT)
    raise AssertionError("unreachable: the last try returns or raises")


def busy(exc: OperationalError) -> bool:
    """Whether a database error is SQLite's "database is locked" (or "busy"): another
    connection held the write lock past the busy timeout."""
    text = str(exc.orig).lower()
    return "locked" in text or "busy" in text


def load_runs(conn: Connection, limit: int = 20) -> list[dict]:
    """The latest runs, newest first."""
    query = select(runs).order_by(runs.c.id.desc()).limit(limit)
    return [dict(row) for row in conn.execute(query).mappings()]


def last_cursors(conn: Connection, command: str, match: dict) -> dict:
    """The cursors of the latest run of `command` whose cursors contain `match`, when that
    run did not finish (failed, interrupted, or still marked running); else {}."""
    query = select(runs.c.status, runs.c.cursors).where(runs.c.command == command).order_by(
        runs.c.id.desc())
    for status, cursors in conn.execute(query):
        if cursors and all(cursors.get(k) == v for k, v in match.items()):
            return cursors if status in UNFINISHED else {}
    return {}


def process_start(pid: int) -> str | None:
    """When process `pid` started, as "boot id:clock ticks after boot" (Linux /proc), so that
    a pid used again by a later process is not taken for the first; None where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        return f"{boot}:{stat.rsplit(')', 1)[1].split()[19]}"  # field 22, after the name
    except (OSError, IndexError):
        return None


def _alive(pid: int, started: str | None) -> bool:
    """Whether process `pid` still runs, and is the one that started at `started` (when
    that was recorded and can be read now)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):  # it exists, under another user
        pass
    now = process_start(pid)
    return started is None or now is None or now == started


def mark_interrupted(conn: Connection) -> list[int]:
    """Mark `interrupted` the runs still `running` on this host whose process is gone (runs
    of other hosts, and runs recorded without a pid, cannot be judged); their ids."""
    if os.name != "posix":
        return []
    query = select(runs.c.id, runs.c.pid, runs.c.process_start, runs.c.errors).where(
        runs.c.status == "running", runs.c.host == socket.gethostname(),
        runs.c.pid.is_not(None))
    gone = [row for row in conn.execute(query) if not _alive(row.pid, row.process_start)]
    for row in gone:
        note = f"interrupted: its process (pid {row.pid}) ended before the run did"
        conn.execute(runs.update().where(runs.c.id == row.id).values(
            status="interrupted", errors=[*(row.errors or []), note]))
    return [row.id for row in gone]
