"""A stream's lease: which consumer may write its events, kept as a row of source_cursors
(`lease:NAME`: holder, epoch, expiry). Taking a free or expired lease raises its epoch; every
write of the holder checks, in its own transaction, that the epoch is still the one it took
(a fencing token), so a consumer that lost the lease never writes again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, select, update
from sqlalchemy.exc import OperationalError

from hotpapers.errors import StoreError
from hotpapers.store.runs import busy
from hotpapers.store.schema import source_cursors
from hotpapers.store.upsert import upsert

__all__ = ["Lease", "LeaseBusy", "LeaseLost", "hold_lease", "read_lease", "release_lease",
           "take_lease"]

PREFIX = "lease:"


class LeaseLost(StoreError):
    """Another consumer took the stream's lease: this one must stop writing."""


class LeaseBusy(StoreError):
    """Another job held SQLite's write lock past the busy timeout: the lease could be neither
    read for taking nor renewed now; try again later."""


@dataclass(frozen=True)
class Lease:
    stream: str
    holder: str | None
    epoch: int
    expires_at: datetime | None

    def free(self, now: datetime) -> bool:
        return self.holder is None or self.expires_at is None or self.expires_at <= now

    def value(self) -> dict:
        return {"holder": self.holder, "epoch": self.epoch,
                "expires_at": self.expires_at.isoformat() if self.expires_at else None}


def _parse(stream: str, value: object) -> Lease:
    value = value if isinstance(value, dict) else {}
    expires = value.get("expires_at")
    return Lease(stream, value.get("holder"), int(value.get("epoch") or 0),
                 datetime.fromisoformat(expires) if isinstance(expires, str) else None)


def read_lease(conn: Connection, stream: str) -> Lease:
    """The lease as stored (a free one at epoch 0 when there is none)."""
    value = conn.execute(select(source_cursors.c.value).where(
        source_cursors.c.name == PREFIX + stream)).scalar_one_or_none()
    return _parse(stream, value)


def _locked(conn: Connection, stream: str, now: datetime) -> Lease:
    """The lease, with its row locked for the rest of the transaction: PostgreSQL locks the
    row an UPDATE touches, SQLite takes its one write lock at the first write, so the
    read-check-write below is never interleaved with another consumer's."""
    name = PREFIX + stream
    try:
        upsert(conn, source_cursors, {"name": name, "value": _parse(stream, None).value(),
                                      "updated_at": now}, keys=["name"], update=())
    except OperationalError as exc:  # SQLite's "database is locked" after its busy timeout
        if busy(exc):
            raise LeaseBusy(f"stream {stream}: the store is busy (another job writes)") from None
        raise
    conn.execute(update(source_cursors).where(source_cursors.c.name == name)
                 .values(updated_at=source_cursors.c.updated_at))
    return read_lease(conn, stream)


def _save(conn: Connection, lease: Lease, now: datetime) -> None:
    conn.execute(update(source_cursors).where(source_cursors.c.name == PREFIX + lease.stream)
                 .values(value=lease.value(), updated_at=now))


def take_lease(conn: Connection, stream: str, holder: str, now: datetime, seconds: float
               ) -> tuple[Lease, bool]:
    """Take the lease if it is free or expired (its epoch goes up by one); returns the lease
    as it now stands and whether `holder` has it."""
    lease = _locked(conn, stream, now)
    if not lease.free(now):
        return lease, False
    taken = Lease(stream, holder, lease.epoch + 1, now + timedelta(seconds=seconds))
    _save(conn, taken, now)
    return taken, True


def hold_lease(conn: Connection, lease: Lease, now: datetime, seconds: float) -> Lease:
    """At the start of each of the holder's write transactions: LeaseLost unless the stored
    lease is still this one (same holder and epoch, even if it expired meanwhile: nobody
    took it); else it is renewed for `seconds`."""
    stored = _locked(conn, lease.stream, now)
    if (stored.holder, stored.epoch) != (lease.holder, lease.epoch):
        raise LeaseLost(f"stream {lease.stream}: the lease passed to {stored.holder} "
                        f"(epoch {stored.epoch}; this consumer held epoch {lease.epoch})")
    renewed = Lease(lease.stream, lease.holder, lease.epoch, now + timedelta(seconds=seconds))
    _save(conn, renewed, now)
    return renewed


def release_lease(conn: Connection, lease: Lease, now: datetime) -> bool:
    """Give the lease up at once (a clean stop), if it is still this one: a standby need not
    wait for it to expire."""
    stored = _locked(conn, lease.stream, now)
    if (stored.holder, stored.epoch) != (lease.holder, lease.epoch):
        return False
    _save(conn, Lease(lease.stream, None, lease.epoch, None), now)
    return True
