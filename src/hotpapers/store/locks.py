"""Locks that hold across hosts: on PostgreSQL a session-level advisory lock on a connection
of its own, which the server releases when that connection ends, however the holder died."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from hotpapers.errors import StoreError
from hotpapers.store.db import CONNECT_TIMEOUT, first_line, parse_url, shown_url

__all__ = ["DAILY_LOCK", "advisory_lock"]

DAILY_LOCK = 727_002  # `daily` and `publish`: one at a time per database (727_001: writers)
log = logging.getLogger(__name__)
POLL = 0.5  # seconds between tries while waiting
# A dead holder's host stops answering: the server notices within about a minute and ends
# its session, which releases the lock (libpq's TCP keepalive settings).
_KEEPALIVE = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10,
              "keepalives_count": 3}


@contextmanager
def advisory_lock(url: str, key: int, wait: float = 0.0,
                  sleep: Callable[[float], None] = time.sleep,
                  clock: Callable[[], float] = time.monotonic) -> Iterator[bool]:
    """Hold PostgreSQL advisory lock `key` of the database at `url` for the block; yields
    False at once (holding nothing) when another session still holds it after `wait`
    seconds. StoreError, without the password, when the server cannot be reached."""
    parsed = parse_url(url)
    timeout = {} if "connect_timeout" in parsed.query else {"connect_timeout": CONNECT_TIMEOUT}
    engine = create_engine(parsed, poolclass=NullPool, connect_args={**_KEEPALIVE, **timeout},
                           isolation_level="AUTOCOMMIT")
    try:
        conn = engine.connect()
    except SQLAlchemyError as exc:
        raise StoreError(f"--db {shown_url(url)}: cannot take the lock: "
                         f"{first_line(exc)}") from None
    try:
        deadline = clock() + wait
        while not conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar():
            left = deadline - clock()
            if left <= 0:
                yield False
                return
            sleep(min(POLL, left))
        try:
            yield True
        finally:
            _let_go(conn, key)
    finally:
        _let_go(conn, None)
        engine.dispose()


def _let_go(conn: Connection, key: int | None) -> None:
    """Unlock `key` (None: close the connection). A connection that died meanwhile (its
    server restarted, its session was ended) released the lock with it: that is logged,
    not raised, so it neither fails a run that succeeded nor hides the error that ended one."""
    try:
        if key is None:
            conn.close()
        else:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
    except SQLAlchemyError as exc:
        log.warning("the lock's connection was lost (the server released the lock): %s",
                    first_line(exc))
