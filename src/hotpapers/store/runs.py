"""The run record: what a command did, when, with what outcome, counts and errors."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from hotpapers.store.schema import runs

__all__ = ["finish_run", "start_run"]


def start_run(conn: Connection, command: str, now: datetime) -> int:
    return conn.execute(runs.insert().values(command=command, started_at=now, status="running")
                        ).inserted_primary_key[0]


def finish_run(conn: Connection, run_id: int, now: datetime, status: str,
               counts: dict | None = None, errors: list | None = None,
               cursors: dict | None = None) -> None:
    conn.execute(runs.update().where(runs.c.id == run_id).values(
        finished_at=now, status=status, counts=counts, errors=errors, cursors=cursors))
