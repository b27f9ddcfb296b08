"""The stream's lease on both databases: one holder at a time, taken over only once expired,
every write of a holder that lost it refused (fencing), released at a clean stop; and a
stream consumer that stands by until it may write."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from fakes import FakeClock
from hotpapers.config import Settings
from hotpapers.jobs.jetstream_ingest import CURSOR
from hotpapers.jobs.stream_bluesky import stream_bluesky
from hotpapers.jobs.stream_turn import Turn
from hotpapers.store.schema import mentions
from hotpapers.store.stream_lease import (
    LeaseLost,
    hold_lease,
    read_lease,
    release_lease,
    take_lease,
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
