"""`stream bluesky` against a hostile or broken Jetstream (a real loopback websocket server):
times out of range, oversized frames, reconnects that bring nothing new, and SIGTERM to a
real `python -m hotpapers` process. Nothing is lost or invented, and nothing loops forever."""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from websockets.exceptions import ConnectionClosed

from hotpapers.config import Settings
from hotpapers.errors import SourceError
from hotpapers.jobs.jetstream_ingest import CURSOR, JetstreamIngest
from hotpapers.jobs.stream_bluesky import stream_bluesky
from hotpapers.sources.bluesky.jetstream import from_time_us
from hotpapers.store.schema import mentions, observations, runs
from hotpapers.store.stream_state import save_cursor
from test_stream_bluesky import (
    ALICE,
    BURST_COUNTS,
    BURST_ROWS,
    WANTED,
    Jetstream,
    assert_burst_applied,
    clock_after,
    engagement_rows,
    latest_stream_counts,
    read_lines,
    shifted,
    stored_cursor,
    time_of,
    wanted,
)

MiB = 2**20
YEAR_2100 = 4_102_444_800_000_000  # 2100-01-01 in microseconds
HOUR = 3_600_000_000
BURST = read_lines("burst.jsonl")
NEWEST = max(map(time_of, BURST))


def until(target: int, seconds: float = 20.0):
    """A stop for the consumer: the cursor reached `target`; or, so that a consumer that
    never gets there (the faults before their fixes) does not hang the suite, a deadline."""
    deadline = time.monotonic() + seconds
    return lambda summary: summary.cursor == target or time.monotonic() > deadline


def with_time(line: str, time_us: int) -> str:
    return json.dumps({**json.loads(line), "time_us": time_us}, separators=(",", ":"))


def like(time_us: int, n: int, pad: int = 0) -> str:
    """A like of Alice's post by a new account: if taken, it would change her counts."""
    record = {"$type": "app.bsky.feed.like", "createdAt": "2026-07-04T14:38:08.000Z",
              "subject": {"cid": "bafyreiabc", "uri": ALICE}}
    if pad:
        record["pad"] = "x" * pad
    return json.dumps({"did": f"did:plc:fault{n:04d}", "time_us": time_us, "kind": "commit",
                       "commit": {"rev": "3mfault", "operation": "create",
                                  "collection": "app.bsky.feed.like", "rkey": f"3mfault{n:04d}",
                                  "record": record, "cid": "bafyreidef"}},
                      separators=(",", ":"))


def settings_for(url: str, **options) -> Settings:
    options.setdefault("bsky_rewind_seconds", 5.0)
    return Settings(bsky_jetstream_url=url, http_timeout=5, **options)


def run_row(engine) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(select(runs)).mappings().one())


# ---------------------------------------------------------------- 3: time_us out of range

def test_p3_frames_with_out_of_range_times_are_skipped_and_counted(engine):
    paper_post = json.loads(BURST[0])  # Alice's post, as another post naming another paper
    paper_post["commit"]["rkey"] = "3mfuturepost1"
    paper_post["commit"]["record"]["text"] = "see arxiv.org/abs/2409.09999"
    paper_post["commit"]["record"]["facets"] = []
    bad = [like(300_000_000_000_000_000, 1),  # 3e17: past datetime's range (year 9999)
           like(YEAR_2100, 2),
           with_time(json.dumps(paper_post, separators=(",", ":")), YEAR_2100 + 1),
           like(min(map(time_of, BURST)) - 100 * HOUR, 3)]  # older than the replay window
    events = [*BURST[:10], *bad, *BURST[10:]]
    clock = clock_after(BURST)
    with Jetstream(events) as server:
        summary = stream_bluesky(engine, settings_for(server.url), clock=clock,
                                 idle_seconds=0.05, stop=until(NEWEST))
    assert_burst_applied(engine)  # counts as without the bad frames; the cursor is sane
    assert (summary.out_of_range, summary.malformed, summary.reconnects) == (4, 0, 0)
    assert "4 out-of-range times skipped" in summary.line()
    with engine.connect() as conn:
        newest = conn.execute(select(observations.c.observed_at)
                              .order_by(observations.c.observed_at.desc())).scalars().first()
        assert conn.execute(select(mentions.c.native_id).where(
            mentions.c.native_id.contains("3mfuturepost1"))).first() is None
    assert newest <= clock.now()
    assert run_row(engine)["counts"]["out_of_range"] == 4


@pytest.mark.parametrize(("hours", "skipped", "likes"), [(72, 0, 5), (1, 1, 4)])
def test_p3_the_replay_window_is_a_setting(engine, hours, skipped, likes):
    old = like(min(map(time_of, BURST)) - 2 * HOUR, 1)  # in the default window, not in 1 h
    events = [*BURST[:10], old, *BURST[10:]]
    with Jetstream(events) as server:
        summary = stream_bluesky(
            engine, settings_for(server.url, bsky_replay_window_hours=hours),
            clock=clock_after(BURST), idle_seconds=0.05, stop=until(NEWEST))
    assert summary.out_of_range == skipped
    assert engagement_rows(engine)[(ALICE, "like")] == likes


def test_p3_the_cursor_never_moves_backwards_or_into_the_future(engine):
    clock = clock_after(BURST)
    ingest = JetstreamIngest(engine, clock.now, batch_size=1)
    for line in BURST:
        ingest.feed(line)
    assert stored_cursor(engine) == NEWEST
    now_us = NEWEST + 60_000_000  # the clock: a minute after the burst
    ingest.feed(with_time(BURST[4], now_us + 5 * 60_000_000))  # 5 min ahead: within the slack
    assert ingest.summary.out_of_range == 0
    assert stored_cursor(engine) == now_us  # taken, but the cursor stops at the clock
    ingest.feed(with_time(BURST[5], NEWEST - 10))  # an older event (a replay)
    assert stored_cursor(engine) == now_us
    ingest.feed(with_time(BURST[6], now_us + 11 * 60_000_000))  # over 10 min ahead: skipped
    assert ingest.summary.out_of_range == 1 and stored_cursor(engine) == now_us


def test_p3_a_stored_cursor_in_the_future_is_not_resumed_from(engine, caplog):
    clock = clock_after(BURST)
    with engine.begin() as conn:  # poisoned by a version without the check
        save_cursor(conn, CURSOR, {"time_us": YEAR_2100}, clock.now())
    with caplog.at_level(logging.WARNING, "hotpapers"), Jetstream(BURST) as server:
        stream_bluesky(engine, settings_for(server.url), clock=clock, idle_seconds=0.05,
                       stop=until(NEWEST))
    assert server.cursors == [None]  # live, not from 2100 (which would replay nothing)
    assert_burst_applied(engine)
    assert "stored cursor 2100-01-01" in caplog.text


# ---------------------------------------------------------------- 4: oversized frames

def test_p4_oversized_frames_are_skipped_counted_and_logged_once(engine, caplog):
    big = [like(time_of(BURST[i]) + 1, i, pad=5 * MiB) for i in (9, 19)]
    events = [*BURST[:10], big[0], *BURST[10:20], big[1], *BURST[20:]]
    clock = clock_after(BURST)
    with caplog.at_level(logging.WARNING, "hotpapers"), Jetstream(events) as server:
        summary = stream_bluesky(engine, settings_for(server.url), clock=clock,
                                 idle_seconds=0.05, stop=until(NEWEST))
    assert_burst_applied(engine)
    assert (summary.oversized, summary.reconnects, summary.events) == (2, 0, 35)
    assert "2 oversized frames skipped" in summary.line()
    # Jetstream is asked not to send them; this server ignores the wish, as an old one would
    assert server.queries[0]["maxMessageSizeBytes"] == [str(4 * MiB)]
    assert len([r for r in caplog.records if "over 4 MiB" in r.getMessage()]) == 1
    assert clock.sleeps == []


def test_p4_an_oversized_frame_moves_the_cursor_past_it(engine):
    ingest = JetstreamIngest(engine, clock_after(BURST).now, batch_size=1)
    ingest.feed(BURST[0])
    big = like(NEWEST, 1, pad=5 * MiB)  # what a drop after it would replay, were it not
    ingest.feed(big.encode())  # a binary frame, measured in bytes
    assert (ingest.summary.oversized, ingest.summary.engagements) == (1, 0)
    assert stored_cursor(engine) == NEWEST
    ingest.feed(like(NEWEST + 1, 2, pad=5 * MiB).replace('"time_us"', '"time"', 1))
    assert ingest.summary.oversized == 2 and stored_cursor(engine) == NEWEST  # no time: kept


@pytest.mark.parametrize("batch_size", [1, 2, 3, 5, 8, 13, 21, 34])
def test_p4_where_batches_end_changes_no_count(engine, batch_size):
    # found by the test above: a big frame in transit lets a quiet-stream flush end a batch
    # early; a like taken before its post's deletion in the same batch was then dropped
    ingest = JetstreamIngest(engine, clock_after(BURST).now, batch_size=batch_size,
                             batch_seconds=60)
    for line in BURST:
        ingest.feed(line)
    ingest.flush()
    assert_burst_applied(engine)


def test_p4_a_frame_over_the_receive_limit_ends_the_stream_as_failed(engine):
    delivered = [line for line in BURST if wanted(line, WANTED)]
    events = [*delivered[:12], like(time_of(delivered[11]) + 1, 1, pad=17 * MiB),
              *delivered[12:]]
    clock = clock_after(BURST)
    with Jetstream(events) as server, pytest.raises(SourceError, match=(
            r"^jetstream: 4 connection attempts in a row brought no new event, the last "
            r"ended with: .*1009.*over the 16 MiB receive limit")):
        stream_bluesky(engine, settings_for(server.url), clock=clock, idle_seconds=0.05,
                       max_failures=3, stop=until(NEWEST))
    assert clock.sleeps == [1.0, 1.0, 2.0, 4.0]  # the first reconnect followed new events
    assert stored_cursor(engine) == time_of(delivered[11])  # what was read is applied
    run = run_row(engine)
    assert run["status"] == "failed" and "1009" in run["errors"][0]


def test_p4_reconnects_that_bring_no_new_event_exhaust_the_failure_budget(engine):
    events = BURST[:8]
    clock = clock_after(events)
    # each connection is dropped after 5 events; from the cursor rewound by a minute, the
    # server replays the same 5 events every time
    with Jetstream(events, drops=[5] * 20) as server, pytest.raises(
            SourceError, match=r"^jetstream: 4 connection attempts in a row brought no new"):
        stream_bluesky(engine, settings_for(server.url, bsky_rewind_seconds=60), clock=clock,
                       idle_seconds=0.05, max_failures=3,
                       stop=until(max(map(time_of, events))))
    assert clock.sleeps == [1.0, 1.0, 2.0, 4.0]
    assert len(server.queries) == 5
    assert run_row(engine)["status"] == "failed"


# ---------------------------------------------------------------- values over the columns

LONG_DID = "did:web:" + "a" * 230 + ".example.com"  # 250 characters; mentions take 200


def long_events(after: int) -> list[str]:
    """Events a 200- or 300-character column cannot take, as Jetstream writes them, 1 µs
    apart from `after`: a post naming a paper from a long did:web, a like of Alice's post
    from it, a like whose record key makes its URI over 300, a post replying to a long URI."""
    post = json.loads(BURST[0])  # Alice's post, as another post naming another paper
    post["did"], post["commit"]["rkey"] = LONG_DID, "3mlongpost1"
    post["commit"]["record"].update(text="see arxiv.org/abs/2409.09999", facets=[])
    reply = json.loads(json.dumps(post))
    reply["did"] = "did:plc:shortreplier"
    reply["commit"]["record"]["reply"] = {
        "parent": {"cid": "bafyreiabc", "uri": f"at://{LONG_DID}/app.bsky.feed.post/3mx"},
        "root": {"cid": "bafyreiabc", "uri": f"at://{LONG_DID}/app.bsky.feed.post/3mx"}}
    long_like = json.loads(like(after, 1))
    long_like["did"] = LONG_DID
    long_key = json.loads(like(after, 2))
    long_key["commit"]["rkey"] = "3m" + "k" * 300
    return [with_time(json.dumps(event), after + i)
            for i, event in enumerate([post, long_like, long_key, reply], 1)]


def test_events_with_values_over_the_columns_are_skipped_counted_and_passed(engine):
    # on PostgreSQL, one such event failed its whole batch ("value too long for type
    # character varying(200)"): the stream ended, and died again on it at each restart
    events = [*BURST[:10], *long_events(time_of(BURST[9])), *BURST[10:]]
    with Jetstream(events) as server:
        summary = stream_bluesky(engine, settings_for(server.url), clock=clock_after(BURST),
                                 idle_seconds=0.05, stop=until(NEWEST))
    assert_burst_applied(engine)  # the events around them are stored; the cursor is past
    assert (summary.malformed, summary.events, summary.reconnects) == (4, 37, 0)
    assert "4 malformed skipped" in summary.line()
    assert run_row(engine)["status"] == "ok"
    with engine.connect() as conn:
        assert conn.execute(select(mentions.c.native_id).where(
            mentions.c.native_id.contains("3mlongpost1"))).first() is None


def test_an_event_with_a_value_over_its_column_moves_the_cursor_past_it(engine):
    ingest = JetstreamIngest(engine, clock_after(BURST).now, batch_size=500)
    for line in [*BURST, *long_events(NEWEST)]:
        ingest.feed(line)
    ingest.flush()
    assert ingest.summary.malformed == 4
    assert stored_cursor(engine) == NEWEST + 4  # a restart does not read them again


# ---------------------------------------------------------------- 17: SIGTERM

class TricklingJetstream(Jetstream):
    """Sends its events, then an identity event every 50 ms (1 µs apart in stream time) so
    that the consumer never idles into applying them: what it read stays pending until it
    stops. `trickled` is set once `n` of those were sent; `sent` holds each sent time_us."""

    def __init__(self, events: list[str], n: int) -> None:
        super().__init__(events)
        self.n, self.trickled, self.sent = n, threading.Event(), []

    def send(self, ws, line: str) -> None:
        ws.send(line)
        self.sent.append(time_of(line))

    def handle(self, ws) -> None:
        newest = max(map(time_of, self.events))
        try:
            for line in self.events:
                if wanted(line, WANTED):
                    self.send(ws, line)
            for i in itertools.count(1):
                self.send(ws, json.dumps({"did": "did:plc:trickle", "time_us": newest + i,
                                          "kind": "identity", "identity": {"seq": i}}))
                if i == self.n:
                    self.trickled.set()
                with contextlib.suppress(TimeoutError):
                    ws.recv(timeout=0.05)
        except ConnectionClosed as exc:
            self.closes.append(exc.rcvd.code if exc.rcvd else None)
        self.left.set()


def test_p17_sigterm_applies_what_was_read_prints_the_summary_and_records_the_run(
        db_url, engine, tmp_path):
    # the command reads the real clock: the events happened a minute ago
    events = shifted(BURST, datetime.now(UTC) - timedelta(minutes=1))
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTPAPERS_")}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    with TricklingJetstream(events, n=40) as server:
        env["HOTPAPERS_BSKY_JETSTREAM_URL"] = server.url
        process = subprocess.Popen(
            [sys.executable, "-m", "hotpapers", "--db", db_url, "stream", "bluesky"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert server.trickled.wait(60), "the consumer never connected"
            before = stored_cursor(engine)  # what was applied along the way
            process.send_signal(signal.SIGTERM)
            out, err = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
        assert server.left.wait(5) and server.closes == [1000]  # a normal close
    assert process.returncode == 0, err
    assert "Traceback" not in err
    [line] = out.strip().splitlines()
    found = re.match(r"Read (\d+) events: 4 posts stored, 16 engagements counted, "
                     r"4 deletions, 0 reconnects, cursor ", line)
    assert found, line
    read = int(found[1])
    assert read > 33  # the burst and some of the trickle
    cursor = server.sent[read - 1]  # the newest event it read, in the order sent
    assert stored_cursor(engine) == cursor and (before is None or cursor > before)
    assert engagement_rows(engine) == BURST_ROWS
    assert latest_stream_counts(engine) == BURST_COUNTS
    run = run_row(engine)
    assert (run["command"], run["status"]) == ("stream bluesky", "ok")
    assert run["counts"]["events"] == read and run["cursors"] == {CURSOR: cursor}
    assert run["finished_at"] is not None
    assert from_time_us(cursor) <= datetime.now(UTC)
