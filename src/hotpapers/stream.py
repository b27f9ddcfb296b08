"""`stream bluesky`: follow Bluesky's Jetstream, store new posts naming papers and count
likes, reposts, replies and quotes of tracked posts, in batches that commit with a cursor
so that a restart resumes where the store stands."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlencode

from sqlalchemy import Engine

from hotpapers.errors import InputError, SourceError
from hotpapers.models import Mention
from hotpapers.sources.bluesky.jetstream import (
    COLLECTIONS,
    POST,
    BadEvent,
    Deletion,
    Engagement,
    NewPost,
    classify_line,
    from_time_us,
)
from hotpapers.sources.http import Clock, user_agent
from hotpapers.store.mentions import mark_deleted, save_mention
from hotpapers.store.runs import RunLog, recorded_run
from hotpapers.store.stream import (
    add_engagements,
    engaged_accounts,
    load_cursor,
    remove_engagements,
    save_cursor,
    save_stream_observations,
    stream_counts,
    tracked_posts,
)

__all__ = ["CURSOR", "JetstreamIngest", "StreamSummary", "jetstream_url", "stream_bluesky"]

log = logging.getLogger(__name__)

CURSOR = "bluesky-jetstream"
SOURCE = "bluesky"
MAX_BACKOFF = 60.0


@dataclass
class StreamSummary:
    """What a stream session did."""

    events: int = 0
    posts: int = 0  # new mentions stored
    engagements: int = 0  # new engagement rows
    deletions: int = 0  # engagements removed and tracked posts marked deleted
    reconnects: int = 0
    malformed: int = 0
    batches: int = 0
    cursor: int | None = None  # time_us of the newest applied event

    def counts(self) -> dict[str, int]:
        return {"events": self.events, "posts": self.posts, "engagements": self.engagements,
                "deletions": self.deletions, "reconnects": self.reconnects,
                "malformed": self.malformed, "batches": self.batches}

    def line(self) -> str:
        cursor = f", cursor {from_time_us(self.cursor).isoformat()}" if self.cursor else ""
        bad = f", {self.malformed} malformed skipped" if self.malformed else ""
        return (f"Read {self.events} events: {self.posts} posts stored, {self.engagements} "
                f"engagements counted, {self.deletions} deletions, {self.reconnects} "
                f"reconnects{bad}{cursor}")


class JetstreamIngest:
    """Applies Jetstream lines to the store in batches: each batch is one transaction that
    also moves the cursor, so the cursor never disagrees with the data. Re-delivered events
    change nothing (engagements are keyed by their record)."""

    def __init__(self, engine: Engine, now: Callable[[], datetime], *, batch_size: int = 500,
                 batch_seconds: float = 1.0,
                 on_flush: Callable[[StreamSummary], None] | None = None) -> None:
        self.engine = engine
        self.now = now
        self.batch_size = batch_size
        self.batch_us = int(batch_seconds * 1_000_000)
        self.on_flush = on_flush
        with engine.connect() as conn:
            self.tracked: dict[str, int | None] = dict(tracked_posts(conn, SOURCE))
            self._last_id = max((i for i in self.tracked.values() if i), default=0)
            self.engaged = engaged_accounts(conn, SOURCE)
            stored = load_cursor(conn, CURSOR)
        value = stored.get("time_us") if isinstance(stored, dict) else None
        self.cursor: int | None = value if isinstance(value, int) and value > 0 else None
        self.summary = StreamSummary(cursor=self.cursor)
        self._high = self.cursor or 0
        self._clear()

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
        if isinstance(line, bytes | bytearray | memoryview):
            line = bytes(line).decode("utf-8", "replace")
        try:
            time_us, item = classify_line(line, self.tracked)
        except BadEvent as exc:
            self.summary.malformed += 1
            log.debug("skipped a malformed event: %s", exc)
            return
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

    def flush(self) -> None:
        """Apply the pending events and store the cursor, in one transaction."""
        if not self._count:
            return
        at, now, summary = from_time_us(self._high), self.now(), self.summary
        with self.engine.begin() as conn:
            for mention in self._mentions:
                mention_id = save_mention(conn, mention, now)
                if mention.native_id in self.tracked:  # else deleted in this batch
                    self.tracked[mention.native_id] = mention_id
            gone = remove_engagements(conn, SOURCE, self._deleted)
            marked = mark_deleted(conn, SOURCE, self._posts_gone, at)
            rows = [{"source": SOURCE, "native_id": e.uri, "mention_id": self.tracked[e.subject],
                     "kind": e.kind, "account": e.account,
                     "created_at": from_time_us(e.time_us)}
                    for e in self._engagements.values()
                    if self.tracked.get(e.subject) is not None]
            new = add_engagements(conn, rows)
            rows = [row for row in rows if row["native_id"] in new]
            touched = set(gone.values()) | {row["mention_id"] for row in rows}
            touched.difference_update(self._posts_gone.values())
            if touched:
                save_stream_observations(conn, stream_counts(conn, touched, at))
            save_cursor(conn, CURSOR, {"time_us": self._high}, now)
            self._track_stored_since(conn)
        self.engaged.update(row["account"] for row in rows)
        summary.posts += len(self._mentions)
        summary.engagements += len(rows) + self._undone
        summary.deletions += len(gone) + marked + self._undone
        summary.batches += 1
        summary.cursor = self.cursor = self._high
        self._clear()
        if self.on_flush is not None:
            self.on_flush(summary)


    def _track_stored_since(self, conn) -> None:
        """Track the posts that others (e.g. `fetch mentions`) stored since the last look."""
        for native_id, row_id in tracked_posts(conn, SOURCE, after_id=self._last_id).items():
            self.tracked.setdefault(native_id, row_id)
            self._last_id = max(self._last_id, row_id)


def jetstream_url(base: str, cursor: int | None) -> str:
    """The subscribe URL for posts, likes and reposts, from `cursor` (time_us) if given."""
    params: list[tuple[str, Any]] = [("wantedCollections", c) for c in COLLECTIONS]
    if cursor is not None:
        params.append(("cursor", cursor))
    return f"{base}{'&' if '?' in base else '?'}{urlencode(params)}"


class Socket(Protocol):
    def recv(self, timeout: float | None = None) -> str | bytes: ...


Connector = Callable[[str], AbstractContextManager[Socket]]


def websocket_connector(settings: Any) -> Connector:
    """Opens real websocket connections (websockets' synchronous client)."""
    from websockets.sync.client import connect

    def open_socket(url: str) -> AbstractContextManager[Socket]:
        # A deep receive queue: websockets stops reading when it is full, and then the
        # closing handshake at the end of a session waits for close_timeout (a firehose
        # never stops sending). 2048 events are about 2 MB.
        return connect(url, open_timeout=settings.http_timeout, close_timeout=5,
                       max_size=2**22, max_queue=(2048, 512),
                       user_agent_header=user_agent(settings.contact_email))
    return open_socket


def _connection_errors() -> tuple[type[BaseException], ...]:
    from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidMessage

    return (ConnectionClosed, InvalidHandshake, InvalidMessage, OSError, EOFError)


def stream_bluesky(
    engine: Engine, settings: Any, *, clock: Clock | None = None,
    connector: Connector | None = None, max_events: int | None = None,
    stop: Callable[[StreamSummary], bool] | None = None, batch_size: int = 500,
    batch_seconds: float = 1.0, idle_seconds: float = 1.0, max_failures: int = 10,
) -> StreamSummary:
    """Follow Jetstream until `max_events` events were read, `stop(summary)` says so, or
    Ctrl-C; then apply what is pending and return what was done. On a disconnect, reconnect
    from the stored cursor rewound by `bsky_rewind_seconds`, backing off through
    `clock.sleep`; after `max_failures` failures in a row without an event, SourceError.
    The session is recorded as a run `stream bluesky`."""
    from websockets.exceptions import InvalidURI

    clock = clock or Clock()
    connector = connector or websocket_connector(settings)
    errors = _connection_errors()
    with recorded_run(engine, "stream bluesky", clock.now) as run:
        last_checkpoint = [clock.monotonic()]

        def record(summary: StreamSummary) -> None:
            _log_run(run, summary)
            if clock.monotonic() - last_checkpoint[0] >= 10:
                last_checkpoint[0] = clock.monotonic()
                run.checkpoint()

        ingest = JetstreamIngest(engine, clock.now, batch_size=batch_size,
                                 batch_seconds=batch_seconds, on_flush=record)
        summary = ingest.summary

        def done() -> bool:
            return (max_events is not None and summary.events >= max_events) or \
                (stop is not None and stop(summary))

        failures = 0
        interrupted = False
        try:
            while not interrupted and not done():
                url = jetstream_url(settings.bsky_jetstream_url,
                                    ingest.resume_at(settings.bsky_rewind_seconds))
                try:
                    with connector(url) as ws:
                        try:
                            while not done():
                                try:
                                    message = ws.recv(timeout=idle_seconds)
                                except TimeoutError:
                                    ingest.flush()  # a quiet stream: apply what is pending
                                    continue
                                failures = 0
                                ingest.feed(message)
                        except KeyboardInterrupt:  # close the socket normally, then stop
                            interrupted = True
                except InvalidURI as exc:
                    raise InputError(f"bsky_jetstream_url: {exc}") from None
                except errors as exc:
                    ingest.flush()
                    failures += 1
                    if failures > max_failures:
                        raise SourceError(f"jetstream: {failures} connection attempts in a row "
                                          f"failed, the last with: {_describe(exc)}") from None
                    delay = min(MAX_BACKOFF, 2.0 ** (failures - 1))
                    log.warning("jetstream: %s; reconnecting in %.0f s", _describe(exc), delay)
                    summary.reconnects += 1
                    clock.sleep(delay)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            _log_run(run, summary)
        if interrupted:
            log.info("jetstream: interrupted; applying the pending events")
        ingest.flush()
        _log_run(run, summary)
    return summary


def _log_run(run: RunLog, summary: StreamSummary) -> None:
    run.counts = summary.counts()
    if summary.cursor is not None:
        run.cursors = {CURSOR: summary.cursor}


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
