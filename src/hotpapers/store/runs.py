"""The run record: what a command did, when, with what outcome, counts, cursors and errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, Engine, select

from hotpapers.errors import NothingToDo
from hotpapers.secrets import scrub
from hotpapers.store.schema import runs

__all__ = ["RunLog", "last_cursors", "load_runs", "recorded_run"]


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
def recorded_run(engine: Engine, command: str, clock: Callable[[], datetime]
                 ) -> Iterator[RunLog]:
    """Record a run: `running` at the start; at the end `ok`, `partial` (errors survived),
    `nothing` (nothing to do) or `failed` (an exception, whose message is kept)."""
    with engine.begin() as conn:
        run_id = conn.execute(runs.insert().values(
            command=command, started_at=clock(), status="running")).inserted_primary_key[0]
    def write(log: RunLog, status: str = "running", finished: bool = False) -> None:
        with engine.begin() as conn:
            conn.execute(runs.update().where(runs.c.id == run_id).values(
                finished_at=clock() if finished else None, status=status, counts=log.counts,
                cursors=log.cursors or None,
                errors=[scrub(e) for e in log.errors] or None))

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


def load_runs(conn: Connection, limit: int = 20) -> list[dict]:
    """The latest runs, newest first."""
    query = select(runs).order_by(runs.c.id.desc()).limit(limit)
    return [dict(row) for row in conn.execute(query).mappings()]


def last_cursors(conn: Connection, command: str, match: dict) -> dict:
    """The cursors of the latest run of `command` whose cursors contain `match`, when that
    run did not finish (failed, or still marked running after a crash); else {}."""
    query = select(runs.c.status, runs.c.cursors).where(runs.c.command == command).order_by(
        runs.c.id.desc())
    for status, cursors in conn.execute(query):
        if cursors and all(cursors.get(k) == v for k, v in match.items()):
            return cursors if status in ("failed", "running") else {}
    return {}
