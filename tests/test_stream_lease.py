"""The stream's lease on both databases: one holder at a time, taken over only once expired,
every write of a holder that lost it refused (fencing), released at a clean stop; and a
stream consumer that stands by until it may write."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from conftest import sqlite_only
from fakes import FakeClock
from hotpapers.config import Settings
from hotpapers.jobs.jetstream_ingest import CURSOR, JetstreamIngest
from hotpapers.jobs.stream_bluesky import stream_bluesky
from hotpapers.jobs.stream_turn import Turn
from hotpapers.store.db import connect
from hotpapers.store.schema import mentions, runs
from hotpapers.store.stream_lease import (
    LeaseLost,
    hold_lease,
    read_lease,
    release_lease,
    take_lease,
)
from test_stream_bluesky import (
    Jetstream,
    assert_burst_applied,
    clock_after,
    read_lines,
    stored_cursor,
    time_of,
)

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
STREAM = "test-stream"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_one_holder_at_a_time_and_a_takeover_only_after_expiry(engine):
    with engine.begin() as conn:
        first, mine = take_lease(conn, STREAM, "a", at(0), 30)
    assert mine and (first.holder, first.epoch) == ("a", 1)
    with engine.begin() as conn:
        seen, mine = take_lease(conn, STREAM, "b", at(29), 30)
    assert not mine and seen.holder == "a"
    with engine.begin() as conn:  # a renews: its lease now runs to 50 s
        first = hold_lease(conn, first, at(20), 30)
    with engine.begin() as conn:
        assert not take_lease(conn, STREAM, "b", at(45), 30)[1]
        second, mine = take_lease(conn, STREAM, "b", at(50), 30)
    assert mine and (second.holder, second.epoch) == ("b", 2)


def test_a_holder_that_lost_the_lease_writes_nothing_more(engine):
    with engine.begin() as conn:
        stale, _ = take_lease(conn, STREAM, "a", at(0), 10)
    with engine.begin() as conn:
        take_lease(conn, STREAM, "b", at(11), 10)  # a stalled past its lease
    with pytest.raises(LeaseLost, match="passed to b"), engine.begin() as conn:
        hold_lease(conn, stale, at(12), 10)
        pytest.fail("the stale holder was let through")
    with engine.connect() as conn:
        assert (read_lease(conn, STREAM).holder, read_lease(conn, STREAM).epoch) == ("b", 2)


def test_an_expired_lease_nobody_took_is_still_its_holders(engine):
    with engine.begin() as conn:
        lease, _ = take_lease(conn, STREAM, "a", at(0), 10)
    with engine.begin() as conn:  # 100 s late, but no other consumer wrote meanwhile
        renewed = hold_lease(conn, lease, at(100), 10)
    assert renewed.epoch == 1 and renewed.expires_at == at(110)


def test_a_released_lease_is_taken_at_once(engine):
    with engine.begin() as conn:
        lease, _ = take_lease(conn, STREAM, "a", at(0), 300)
    with engine.begin() as conn:
        assert release_lease(conn, lease, at(1))
    with engine.begin() as conn:
        taken, mine = take_lease(conn, STREAM, "b", at(2), 300)
    assert mine and taken.epoch == 2
    with engine.begin() as conn:
        assert not release_lease(conn, lease, at(3))  # no longer a's to give
        assert read_lease(conn, STREAM).holder == "b"


def test_a_taker_waits_for_another_takers_transaction_to_end(engine):
    """While one consumer's taking transaction is open, another's waits, then sees the lease
    taken; without the row lock both would read it free and both "win"."""
    with engine.begin() as conn:  # the row exists and is free: no insert to queue behind
        release_lease(conn, take_lease(conn, STREAM, "before", at(0), 60)[0], at(0))
    results = []

    def other() -> None:
        with engine.begin() as conn:
            results.append(take_lease(conn, STREAM, "b", at(1), 60))

    with engine.begin() as conn:
        lease, mine = take_lease(conn, STREAM, "a", at(1), 60)
        thread = threading.Thread(target=other)
        thread.start()
        thread.join(timeout=0.5)  # long enough for b to reach the lock and wait there
        assert thread.is_alive() and not results
    thread.join(timeout=30)
    assert mine and lease.epoch == 2
    (seen, theirs), = results
    assert not theirs and (seen.holder, seen.epoch) == ("a", 2)


def test_a_standby_consumer_writes_nothing_until_the_lease_expires(engine):
    """The stream consumer with a held lease waits (through its clock) and gives up when
    told to stop, having written nothing."""
    with engine.begin() as conn:
        take_lease(conn, CURSOR, "someone-else", datetime.now(UTC), 3600)
    clock = FakeClock(datetime.now(UTC))
    summary = stream_bluesky(engine, Settings(bsky_jetstream_url="ws://127.0.0.1:9/none"),
                             clock=clock, stop=lambda s: len(clock.sleeps) >= 3)
    assert summary.events == 0 and len(clock.sleeps) == 3
    assert all(0 < s <= Settings().bsky_lease_seconds / 3 for s in clock.sleeps)
    with engine.connect() as conn:
        assert read_lease(conn, CURSOR).holder == "someone-else"
        assert conn.execute(select(func.count()).select_from(mentions)).scalar() == 0


def test_the_turn_renews_while_quiet_and_hands_over_at_a_clean_stop(engine):
    clock = FakeClock(T0)
    turn = Turn(engine, STREAM, "me", clock, 30)
    assert turn.wait(lambda: False)
    with engine.connect() as conn:
        assert read_lease(conn, STREAM).expires_at == at(30)
    clock.sleep(9)
    turn.keepalive()  # under a third of the lease: nothing written
    with engine.connect() as conn:
        assert read_lease(conn, STREAM).expires_at == at(30)
    clock.sleep(2)
    turn.keepalive()
    with engine.connect() as conn:
        assert read_lease(conn, STREAM).expires_at == at(41)
    turn.release()
    with engine.connect() as conn:
        assert read_lease(conn, STREAM).holder is None


# ---------------------------------------------------------------- a store busy with a long write

@contextlib.contextmanager
def busy_store(engine):
    """Another job's long write on SQLite (the end of `import arxiv-snapshot`, `store
    rebuild-aggregates`): a second connection holding the write lock until closed."""
    other = sqlite3.connect(engine.url.database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield other
    finally:
        other.close()


@pytest.fixture
def impatient(db_url):
    """The test database with a busy timeout of 50 ms (SQLite's default is 5 s)."""
    engine = connect(f"{db_url}?timeout=0.05")
    yield engine
    engine.dispose()


@sqlite_only("its one write lock and busy timeout")
def test_a_standby_retries_when_the_store_is_busy(impatient):
    clock = FakeClock(T0)
    turn = Turn(impatient, STREAM, "me", clock, 30)
    with busy_store(impatient) as other:
        released = []

        def done() -> bool:  # the long write ends after the standby's third try
            if len(clock.sleeps) == 3 and not released:
                released.append(other.rollback())
            return False

        assert turn.wait(done)
    assert clock.sleeps == [10.0, 10.0, 10.0]
    with impatient.connect() as conn:
        assert (read_lease(conn, STREAM).holder, read_lease(conn, STREAM).epoch) == ("me", 1)


@sqlite_only("its one write lock and busy timeout")
def test_the_holder_renews_later_when_the_store_is_busy_and_stands_by_once_run_out(impatient):
    clock = FakeClock(T0)
    turn = Turn(impatient, STREAM, "me", clock, 30)
    assert turn.wait(lambda: False)  # the lease runs to 30 s
    with busy_store(impatient):
        clock.sleep(11)
        turn.keepalive()  # refused: it has 19 s left, so the next renewal is due at 21 s
    clock.sleep(5)
    turn.keepalive()  # 16 s: not due yet
    with impatient.connect() as conn:
        assert read_lease(conn, STREAM).expires_at == at(30)
    clock.sleep(6)
    turn.keepalive()
    with impatient.connect() as conn:
        assert read_lease(conn, STREAM).expires_at == at(52)
    with busy_store(impatient):
        clock.sleep(31)  # past 52 s: the lease ran out while the store was busy
        with pytest.raises(LeaseLost, match="too busy to renew"):
            turn.keepalive()
        assert not turn.wait(lambda: len(clock.sleeps) > 5)  # standing by, not failing
    assert turn.wait(lambda: False)  # its own expired lease, taken again
    assert turn.lease is not None and turn.lease.epoch == 2
    with busy_store(impatient):
        turn.release()  # a clean stop with the store busy: the lease runs out instead
    with impatient.connect() as conn:
        assert (read_lease(conn, STREAM).holder, read_lease(conn, STREAM).epoch) == ("me", 2)


@sqlite_only("its one write lock and busy timeout")
def test_a_batch_the_busy_store_refused_stays_pending_and_is_written_later(impatient):
    lines = read_lines("burst.jsonl")
    clock = clock_after(lines)
    turn = Turn(impatient, CURSOR, "me", clock, 30)
    assert turn.wait(lambda: False)
    ingest = JetstreamIngest(impatient, clock.now, batch_size=10, batch_seconds=60,
                             guard=turn.guard,
                             keepalive=turn.keepalive)
    with busy_store(impatient):
        for line in lines:  # from the 10th on, each event tries a flush, refused
            ingest.feed(line)
        ingest.flush()
    assert ingest.pending == len(lines) and stored_cursor(impatient) is None
    ingest.flush()  # the store is free, but the next renewal is not due yet
    assert ingest.pending == len(lines)
    clock.sleep(10)
    ingest.flush()
    assert ingest.pending == 0
    assert_burst_applied(impatient)


def test_ctrl_c_ends_the_stream_even_when_the_last_flush_finds_the_lease_taken(engine):
    events = read_lines("burst.jsonl")
    clock = clock_after(events)
    interrupted = []

    def interrupt(summary) -> bool:
        if summary.events == 9 and not interrupted:  # the consumer stalled, was taken
            interrupted.append(True)  # over, and then the user pressed Ctrl-C once
            clock.sleep(Settings().bsky_lease_seconds + 1)
            with engine.begin() as conn:
                assert take_lease(conn, CURSOR, "other", clock.now(), 3600)[1]
            raise KeyboardInterrupt
        return len(clock.sleeps) > 3  # a consumer that stands by again stops here

    with Jetstream(events) as server:
        summary = stream_bluesky(engine, Settings(bsky_jetstream_url=server.url),
                                 clock=clock, stop=interrupt, idle_seconds=0.05)
    assert clock.sleeps == [Settings().bsky_lease_seconds + 1]  # no standing by after it
    assert summary.events == 9
    with engine.connect() as conn:
        assert read_lease(conn, CURSOR).holder == "other"
        assert conn.execute(select(runs.c.status)).scalar_one() == "ok"


@sqlite_only("its one write lock and busy timeout")
def test_a_long_write_elsewhere_never_ends_the_stream(impatient):
    """Another job holds the write lock until the consumer's lease ran out and it stood by
    twice: then it takes the lease again and applies the whole burst from the cursor."""
    events = read_lines("burst.jsonl")
    clock = clock_after(events)
    blocker: list[sqlite3.Connection | None] = []
    deadline = time.monotonic() + 30  # so that a consumer that never gets there ends

    def stop(summary) -> bool:
        if summary.events == 9 and not blocker:  # the long write begins
            blocker.append(sqlite3.connect(impatient.url.database, isolation_level=None))
            blocker[0].execute("BEGIN IMMEDIATE")
        elif blocker and blocker[-1] is not None:
            clock.sleep(1)  # time passes while it writes
            if clock.sleeps.count(10.0) == 2:  # it ends after two tries of the standby
                blocker[-1].close()
                blocker.append(None)
        return summary.cursor == max(map(time_of, events)) or time.monotonic() > deadline

    with Jetstream(events) as server:
        summary = stream_bluesky(impatient, Settings(bsky_jetstream_url=server.url),
                                 clock=clock, stop=stop, idle_seconds=0.05)
    assert clock.sleeps.count(10.0) == 2 and clock.sleeps.count(1) > 30
    assert len(server.queries) == 2 and summary.events > len(events)
    assert_burst_applied(impatient)
    with impatient.connect() as conn:
        assert read_lease(conn, CURSOR).epoch == 2  # its own lease, taken again
        assert conn.execute(select(runs.c.status)).scalar_one() == "ok"
