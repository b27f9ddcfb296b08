"""The run record: what a command did, when, with what outcome, counts, cursors and errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, Engine, select

from hotpapers.errors import NothingToDo
from hotpapers.store.schema import runs

__all__ = ["RunLog", "load_runs", "recorded_run"]


@dataclass
class RunLog:
    """What a running command reports: counts, cursors, and errors it survived."""

    counts: dict = field(default_factory=dict)
    cursors: dict = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


@contextmanager
def recorded_run(engine: Engine, command: str, clock: Callable[[], datetime]
                 ) -> Iterator[RunLog]:
    """Record a run: `running` at the start; at the end `ok`, `partial` (errors survived),
    `nothing` (nothing to do) or `failed` (an exception, whose message is kept)."""
    with engine.begin() as conn:
        run_id = conn.execute(runs.insert().values(
            command=command, started_at=clock(), status="running")).inserted_primary_key[0]
    log = RunLog()
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
        with engine.begin() as conn:
            conn.execute(runs.update().where(runs.c.id == run_id).values(
                finished_at=clock(), status=status, counts=log.counts,
                cursors=log.cursors or None, errors=log.errors or None))


def load_runs(conn: Connection, limit: int = 20) -> list[dict]:
    """The latest runs, newest first."""
    query = select(runs).order_by(runs.c.id.desc()).limit(limit)
    return [dict(row) for row in conn.execute(query).mappings()]
