"""One stream consumer writing at a time: this consumer's turn on the stream's lease (see
store/stream_lease.py). It stands by until the lease is free or expired, checks and renews it
at the start of every write transaction, and renews it while the stream is quiet. A store
busy with another job's long write (SQLite) makes it try again later, never stop."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Callable

from sqlalchemy import Connection, Engine

from hotpapers.http import Clock
from hotpapers.store.stream_lease import (
    Lease,
    LeaseBusy,
    LeaseLost,
    hold_lease,
    release_lease,
    take_lease,
)

__all__ = ["Turn", "consumer_name"]

log = logging.getLogger(__name__)


def consumer_name() -> str:
    """Host, process and a random part: unique even for a process id reused after a crash."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Turn:
    """This consumer's hold on `stream`'s lease of `seconds`."""

    def __init__(self, engine: Engine, stream: str, holder: str, clock: Clock,
                 seconds: float) -> None:
        self.engine, self.stream, self.holder = engine, stream, holder
        self.clock, self.seconds = clock, seconds
        self.lease: Lease | None = None
        self.renewed = 0.0  # clock.monotonic() at the last renewal (or refused one)
        self.refused = False  # the last renewal was refused: the store was busy

    def wait(self, done: Callable[[], bool]) -> bool:
        """Stand by until the lease is this consumer's (True), or `done()` (False)."""
        told = None
        while not done():
            try:
                with self.engine.begin() as conn:
                    lease, mine = take_lease(conn, self.stream, self.holder, self.clock.now(),
                                             self.seconds)
            except LeaseBusy as busy:  # it only wanted to take the lease: later, then
                log.info("%s; standing by", busy)
                self.clock.sleep(max(0.05, self.seconds / 3))
                continue
            if mine:
                self.lease, self.renewed = lease, self.clock.monotonic()
                self.refused = False
                log.info("%s: this consumer writes now (epoch %d)", self.stream, lease.epoch)
                return True
            if told != lease.holder:
                told = lease.holder
                log.info("%s: standing by; %s holds the lease", self.stream, lease.holder)
            left = (lease.expires_at - self.clock.now()).total_seconds() \
                if lease.expires_at else 0.0
            self.clock.sleep(max(0.05, min(self.seconds / 3, left)))
        return False

    def guard(self, conn: Connection) -> None:
        """First thing in each write transaction: LeaseLost when another consumer took the
        lease (the transaction then writes nothing); else it is renewed. After a renewal
        the busy store refused, LeaseBusy until the next renewal is due (LeaseLost once the
        lease ran out): the write waits for it."""
        if self.lease is None:
            raise RuntimeError(f"{self.stream}: a write before the lease was taken")
        if self.refused and not self._due():
            self._time_left()
            raise LeaseBusy(f"stream {self.stream}: the store was busy; trying again later")
        try:
            self.lease = hold_lease(conn, self.lease, self.clock.now(), self.seconds)
        except LeaseBusy:
            self._time_left()
            log.info("%s: the store is busy; the lease is renewed later", self.stream)
            self.refused, self.renewed = True, self.clock.monotonic()
            raise
        self.refused, self.renewed = False, self.clock.monotonic()

    def _due(self) -> bool:
        return self.clock.monotonic() - self.renewed >= self.seconds / 3

    def _time_left(self) -> None:
        """LeaseLost (this consumer stands by) when the lease it could not renew ran out."""
        expires = self.lease.expires_at if self.lease is not None else None
        if expires is None or self.clock.now() >= expires:
            raise LeaseLost(f"stream {self.stream}: the store was too busy to renew the "
                            f"lease before it ran out")

    def keepalive(self) -> None:
        """While nothing is written: renew once a third of the lease has passed."""
        if self._due():
            with contextlib.suppress(LeaseBusy), self.engine.begin() as conn:
                self.guard(conn)

    def release(self) -> None:
        """A clean stop: hand the lease over at once instead of letting it expire."""
        if self.lease is not None:
            try:
                with self.engine.begin() as conn:
                    release_lease(conn, self.lease, self.clock.now())
            except LeaseBusy:
                log.info("%s: the store is busy; the lease runs out instead", self.stream)
            self.lease = None
