"""The batching half of `stream bluesky`: Jetstream lines classified, skipped or applied to
the store in batches, each one transaction that also moves the stream's cursor."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from hotpapers.models import Mention
from hotpapers.sources.bluesky.jetstream import (
    MAX_TIME_US,
    POST,
    BadEvent,
    Deletion,
    Engagement,
    Limits,
    NewPost,
    OutOfRange,
    TooLong,
    classify_line,
    from_time_us,
    head_time_us,
    to_time_us,
)
from hotpapers.store.counting import count_mentions
from hotpapers.store.mentions import mark_deleted, save_mention
from hotpapers.store.stream_lease import LeaseBusy
from hotpapers.store.stream_state import (
    add_engagements,
    engaged_accounts,
    load_cursor,
    remove_engagements,
    save_cursor,
    save_stream_observations,
    stream_counts,
    tracked_posts,
    value_limits,
)

__all__ = ["CURSOR", "FRAME_LIMIT", "JetstreamIngest", "StreamSummary"]

log = logging.getLogger(__name__)

CURSOR = "bluesky-jetstream"
SOURCE = "bluesky"
FUTURE_US = 10 * 60 * 1_000_000  # events up to 10 minutes ahead of our clock are taken
FRAME_LIMIT = 4 * 2**20  # bigger frames are skipped (and Jetstream is asked not to send them)
LIMITS = Limits(**value_limits())  # events with longer values are malformed


@dataclass
class StreamSummary:
    """What a stream session did."""

    events: int = 0
    posts: int = 0  # new mentions stored
    engagements: int = 0  # new engagement rows
    deletions: int = 0  # engagements removed and tracked posts marked deleted
    reconnects: int = 0
    malformed: int = 0
    out_of_range: int = 0  # time_us too far ahead of the clock or older than the window
    oversized: int = 0  # frames over FRAME_LIMIT
    batches: int = 0
    cursor: int | None = None  # time_us of the newest applied event, at most the clock's

    def counts(self) -> dict[str, int]:
        return {name: value for name, value in asdict(self).items() if name != "cursor"}

    def line(self) -> str:
        cursor = f", cursor {from_time_us(self.cursor).isoformat()}" if self.cursor else ""
        skipped = [f", {n} {what} skipped" for n, what in (
            (self.malformed, "malformed"), (self.out_of_range, "out-of-range times"),
            (self.oversized, "oversized frames")) if n]
        return (f"Read {self.events} events: {self.posts} posts stored, {self.engagements} "
                f"engagements counted, {self.deletions} deletions, {self.reconnects} "
                f"reconnects{''.join(skipped)}{cursor}")


class JetstreamIngest:
    """Applies Jetstream lines to the store in batches: each batch is one transaction that
    also moves the cursor, so the cursor never disagrees with the data. Re-delivered events
    change nothing (engagements are keyed by their record). Events dated more than 10
    minutes after `now()` or more than `replay_hours` before it are skipped; the cursor
    never moves backwards nor past `now()`."""

    def __init__(self, engine: Engine, now: Callable[[], datetime], *, batch_size: int = 500,
                 batch_seconds: float = 1.0, replay_hours: float = 72.0,
                 on_flush: Callable[[StreamSummary], None] | None = None,
                 guard: Callable[[Connection], None] | None = None,
                 keepalive: Callable[[], None] | None = None,
                 summary: StreamSummary | None = None) -> None:
        self.engine = engine
        self.now = now
        # `guard(conn)` opens every write transaction (it may refuse it: the stream's lease),
        # `keepalive()` runs between events and when a flush finds nothing to write
        self.guard, self.keepalive = guard, keepalive
        self.batch_size = batch_size
        self.batch_us = int(batch_seconds * 1_000_000)
        self.window_us = int(replay_hours * 3600 * 1_000_000)
        self.on_flush = on_flush
        with engine.connect() as conn:
            self.tracked: dict[str, int | None] = dict(tracked_posts(conn, SOURCE))
            self._last_id = max((i for i in self.tracked.values() if i), default=0)
            self.engaged = engaged_accounts(conn, SOURCE)
            stored = load_cursor(conn, CURSOR)
        self.cursor = self._usable(stored.get("time_us") if isinstance(stored, dict) else None)
        self.summary = summary or StreamSummary()  # one summary across takeovers
        self.summary.cursor = self.cursor
        self._high = self.cursor or 0
        self._times = self._window()
        self._warned = False  # about an oversized frame
        self._clear()

    def _usable(self, value: Any) -> int | None:
        """The stored cursor, unless it is not a time or lies in the future (stored by a
        version without the check): resuming from it would replay nothing."""
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            return None
        if value > self._window()[1]:
            when = from_time_us(value).isoformat() if value <= MAX_TIME_US else str(value)
            log.warning("jetstream: the stored cursor %s is in the future; following the "
                        "live stream instead", when)
            return None
        return value

    def _window(self) -> tuple[int, int]:
        """The times an event may have: (now - replay window, now + 10 minutes)."""
        now = to_time_us(self.now())
        return now - self.window_us, now + FUTURE_US

    @property
    def high(self) -> int:
        """The time of the newest event taken (0 before any): progress shows here."""
        return self._high

    def _clear(self) -> None:
        self._count = 0
        self._first_us: int | None = None
        self._mentions: list[Mention] = []
        self._engagements: dict[str, Engagement] = {}
        self._deleted: set[str] = set()
        self._posts_gone: dict[str, int | None] = {}
        self._undone = 0  # engagements created and deleted within this batch

    def resume_at(self, rewind_seconds: float) -> int | None:
        """The cursor to subscribe from: the stored one, rewound (None: live)."""
        if self.cursor is None:
            return None
        return max(1, self.cursor - int(rewind_seconds * 1_000_000))

    @property
    def pending(self) -> int:
        return self._count

    def feed(self, line: str | bytes) -> None:
        """Take one event; applies the batch when it is full or spans `batch_seconds`."""
        self.summary.events += 1
        if not self._count:  # a new batch: the window moves with the clock
            self._times = self._window()
        if len(line) > FRAME_LIMIT:
            self._skip_oversized(line)
            return
        if isinstance(line, bytes | bytearray | memoryview):
            line = bytes(line).decode("utf-8", "replace")
        try:
            time_us, item = classify_line(line, self.tracked, self._times, LIMITS)
        except OutOfRange as exc:
            self.summary.out_of_range += 1
            log.debug("skipped an event dated out of range: %s", exc)
            return
        except BadEvent as exc:
            self.summary.malformed += 1
            log.debug("skipped a malformed event: %s", exc)
            if isinstance(exc, TooLong):  # its time is good: the cursor moves past it
                self._add(exc.time_us, None)
            return
        self._add(time_us, item)

    def _skip_oversized(self, line: str | bytes) -> None:
        """Count a frame too big to read; its time, when readable, moves the cursor past it."""
        self.summary.oversized += 1
        if not self._warned:
            self._warned = True
            log.warning("jetstream: skipped a frame of %.1f MiB, over %d MiB (later ones are "
                        "only counted)", len(line) / 2**20, FRAME_LIMIT // 2**20)
        time_us = head_time_us(bytes(line) if isinstance(line, memoryview) else line)
        if time_us is not None and self._times[0] <= time_us <= self._times[1]:
            self._add(time_us, None)

    def _add(self, time_us: int, item: Engagement | Deletion | NewPost | None) -> None:
        self._count += 1
        if self._first_us is None:
            self._first_us = time_us
        if time_us > self._high:
            self._high = time_us
        if item is not None:
            self._take(item)
        if self._count >= self.batch_size or self._high - self._first_us >= self.batch_us:
            self.flush()

    def _take(self, item: Engagement | Deletion | NewPost) -> None:
        if isinstance(item, Engagement):
            self._engagements[item.uri] = item
        elif isinstance(item, Deletion):
            if self._engagements.pop(item.uri, None) is not None:
                self._undone += 1  # created and deleted in this batch
            if item.account in self.engaged:  # else it cannot remove a stored engagement
                self._deleted.add(item.uri)
            if item.collection == POST and item.uri in self.tracked:
                self._posts_gone[item.uri] = self.tracked.pop(item.uri)
        else:
            if item.mention is not None:
                self._mentions.append(item.mention)
                self.tracked[item.uri] = None  # its row id comes with the flush
            if item.engagement is not None:
                self._engagements[item.uri] = item.engagement

    def tick(self) -> None:
        """Between events: `keepalive()` (the lease's renewal, when due), busy or not."""
        if self.keepalive is not None:
            self.keepalive()

    def flush(self) -> None:
        """Apply the pending events and store the cursor, in one transaction."""
        if not self._count:
            if self.keepalive is not None:
                self.keepalive()
            return
        at, now, summary = from_time_us(self._high), self.now(), self.summary
        # never backwards, never past the clock (an event may be a little ahead of it)
        cursor = max(self.cursor or 0, min(self._high, to_time_us(now)))
        try:
            with self.engine.begin() as conn:
                rows, gone, marked = self._write(conn, at, now, cursor)
        except LeaseBusy as busy:  # another job writes (SQLite): the next flush tries again
            log.debug("jetstream: %s; %d events stay pending", busy, self._count)
            return
        self.engaged.update(row["account"] for row in rows)
        summary.posts += len(self._mentions)
        summary.engagements += len(rows) + self._undone
        summary.deletions += len(gone) + marked + self._undone
        summary.batches += 1
        summary.cursor = self.cursor = cursor
        self._clear()
        if self.on_flush is not None:
            self.on_flush(summary)

    def _write(self, conn: Connection, at: datetime, now: datetime, cursor: int
               ) -> tuple[list[dict[str, Any]], dict[str, int], int]:
        """The batch's writes: (new engagement rows, engagements removed, posts marked)."""
        if self.guard is not None:
            self.guard(conn)
        saved = self._save_mentions(conn, now)
        gone = remove_engagements(conn, SOURCE, self._deleted)
        marked = mark_deleted(conn, SOURCE, self._posts_gone, at)
        rows = self._save_engagements(conn)
        touched = set(gone.values()) | {row["mention_id"] for row in rows}
        touched.difference_update(self._posts_gone.values())
        if touched:
            save_stream_observations(conn, stream_counts(conn, touched, at))
        count_mentions(conn, saved)  # the batch's new posts, counted once for all
        save_cursor(conn, CURSOR, {"time_us": cursor}, now)
        self._track_stored_since(conn)
        return rows, gone, marked

    def _save_mentions(self, conn, now: datetime) -> list[int]:
        """Store the batch's new posts (counted by the caller); their row ids go to
        `tracked` (or, for a post deleted in this batch, to the posts to mark deleted)."""
        saved = []
        for mention in self._mentions:
            mention_id = save_mention(conn, mention, now, count=False)
            if mention.native_id in self.tracked:
                self.tracked[mention.native_id] = mention_id
            elif mention.native_id in self._posts_gone:  # deleted in this batch
                self._posts_gone[mention.native_id] = mention_id
            saved.append(mention_id)
        return saved

    def _save_engagements(self, conn) -> list[dict[str, Any]]:
        """Store the batch's engagements of stored posts; returns the rows that were new."""
        gone_posts = self._posts_gone
        # engagements taken before their post's deletion count, as in an earlier batch
        subjects = {e.subject: self.tracked.get(e.subject) or gone_posts.get(e.subject)
                    for e in self._engagements.values()}
        rows = [{"source": SOURCE, "native_id": e.uri, "mention_id": subjects[e.subject],
                 "kind": e.kind, "account": e.account, "created_at": from_time_us(e.time_us)}
                for e in self._engagements.values() if subjects[e.subject] is not None]
        new = add_engagements(conn, rows)
        return [row for row in rows if row["native_id"] in new]

    def _track_stored_since(self, conn) -> None:
        """Track the posts that others (e.g. `fetch mentions`) stored since the last look."""
        for native_id, row_id in tracked_posts(conn, SOURCE, after_id=self._last_id).items():
            self.tracked.setdefault(native_id, row_id)
            self._last_id = max(self._last_id, row_id)
