"""`hotpapers runs`: the recent runs, after marking those whose process is gone as
interrupted."""

from __future__ import annotations

from sqlalchemy import Engine

from hotpapers.store.runs import load_runs, mark_interrupted

__all__ = ["recent_runs"]


def recent_runs(engine: Engine, limit: int) -> list[dict]:
    """The `limit` newest runs, newest first; a run still marked running whose process (on
    this host) is gone is recorded as interrupted first."""
    with engine.begin() as conn:
        mark_interrupted(conn)
        return load_runs(conn, limit)
