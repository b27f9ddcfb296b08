"""`stream bluesky`: follow Bluesky's Jetstream, store new posts naming papers and count
likes, reposts, replies and quotes of tracked posts. This side holds the connection:
reconnects from the stored cursor with backoff, and a stream that stops bringing new
events ends as failed; `jetstream_ingest.py` applies the events in batches."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Protocol
from urllib.parse import urlencode

from sqlalchemy import Engine
from websockets.exceptions import (
    ConnectionClosed,
    InvalidHandshake,
    InvalidMessage,
    InvalidURI,
)
from websockets.sync.client import connect

from hotpapers.errors import InputError, SourceError
from hotpapers.http import Clock, user_agent
from hotpapers.jobs.jetstream_ingest import CURSOR, FRAME_LIMIT, JetstreamIngest, StreamSummary
from hotpapers.jobs.stream_turn import Turn, consumer_name
from hotpapers.sources.bluesky.jetstream import COLLECTIONS
from hotpapers.store.runs import RunLog, recorded_run
from hotpapers.store.stream_lease import LeaseLost

__all__ = ["StreamSummary", "jetstream_url", "stream_bluesky"]

log = logging.getLogger(__name__)

MAX_BACKOFF = 60.0
# frames over this close the connection (1009): no progress past them
RECEIVE_LIMIT = 16 * 2**20


def jetstream_url(base: str, cursor: int | None) -> str:
    """The subscribe URL for posts, likes and reposts, from `cursor` (time_us) if given,
    without frames over FRAME_LIMIT."""
    params: list[tuple[str, Any]] = [("wantedCollections", c) for c in COLLECTIONS]
    params.append(("maxMessageSizeBytes", FRAME_LIMIT))
    if cursor is not None:
        params.append(("cursor", cursor))
    return f"{base}{'&' if '?' in base else '?'}{urlencode(params)}"


class Socket(Protocol):
    def recv(self, timeout: float | None = None) -> str | bytes: ...


Connector = Callable[[str], AbstractContextManager[Socket]]


def websocket_connector(settings: Any) -> Connector:
    """Opens real websocket connections (websockets' synchronous client)."""
    def open_socket(url: str) -> AbstractContextManager[Socket]:
        # A deep receive queue: websockets stops reading when it is full, and then the
        # closing handshake at the end of a session waits for close_timeout (a firehose
        # never stops sending). 2048 events are about 2 MB. Frames between FRAME_LIMIT and
        # RECEIVE_LIMIT are received and skipped, so the stream goes on past them.
        return connect(url, open_timeout=settings.http_timeout, close_timeout=5,
                       max_size=RECEIVE_LIMIT, max_queue=(2048, 512),
                       user_agent_header=user_agent(settings.contact_email))
    return open_socket


def _connection_errors() -> tuple[type[BaseException], ...]:
    return (ConnectionClosed, InvalidHandshake, InvalidMessage, OSError, EOFError)


def stream_bluesky(
    engine: Engine, settings: Any, *, clock: Clock | None = None,
    connector: Connector | None = None, max_events: int | None = None,
    stop: Callable[[StreamSummary], bool] | None = None, batch_size: int = 500,
    batch_seconds: float = 1.0, idle_seconds: float = 1.0, max_failures: int = 10,
    holder: str | None = None,
) -> StreamSummary:
    """Follow Jetstream until `max_events` events were read, `stop(summary)` says so, or
    Ctrl-C; then apply what is pending and return what was done. On a disconnect, reconnect
    from the stored cursor rewound by `bsky_rewind_seconds`, backing off through
    `clock.sleep`; after `max_failures` connections in a row that brought no new event,
    SourceError. The session is recorded as a run `stream bluesky`.

    One consumer of a store writes at a time (`holder` names this one): the others stand by
    until its lease (`bsky_lease_seconds`) expires, then one takes over from the stored
    cursor. A consumer whose lease was taken meanwhile (it stalled, or lost its connection)
    writes nothing more: its batch is refused, and it stands by again."""
    clock = clock or Clock()
    connector = connector or websocket_connector(settings)
    turn = Turn(engine, CURSOR, holder or consumer_name(), clock, settings.bsky_lease_seconds)
    summary = StreamSummary()

    def done() -> bool:
        return (max_events is not None and summary.events >= max_events) or \
            (stop is not None and stop(summary))

    with recorded_run(engine, "stream bluesky", clock.now) as run:
        try:
            while turn.wait(done):
                ingest = JetstreamIngest(engine, clock.now, batch_size=batch_size,
                                         batch_seconds=batch_seconds,
                                         replay_hours=settings.bsky_replay_window_hours,
                                         on_flush=_recorder(run, clock), guard=turn.guard,
                                         keepalive=turn.keepalive, summary=summary)
                try:
                    _session(ingest, settings, connector, clock, done, run,
                             idle_seconds=idle_seconds, max_failures=max_failures)
                except LeaseLost as lost:
                    log.warning("jetstream: %s; this consumer stands by", lost)
                    continue
                turn.release()
                break
        except KeyboardInterrupt:  # while standing by: nothing of ours is pending
            pass
        finally:
            _log_run(run, summary)
    return summary


def _session(ingest: JetstreamIngest, settings: Any, connector: Connector, clock: Clock,
             done: Callable[[], bool], run: RunLog, *, idle_seconds: float,
             max_failures: int) -> None:
    """Follow the stream while this consumer holds the lease, then apply what is pending.
    LeaseLost ends it (the caller stands by), unless it was interrupted: then it returns."""
    try:
        interrupted = _follow(ingest, settings, connector, clock, done,
                              idle_seconds=idle_seconds, max_failures=max_failures)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        _log_run(run, ingest.summary)
    if not interrupted:
        ingest.flush()
        return
    log.info("jetstream: interrupted; applying the pending events")
    try:
        ingest.flush()
    except LeaseLost as lost:  # the stop request stands: no standing by after it
        log.warning("jetstream: %s; stopping without the pending events", lost)


def _follow(ingest: JetstreamIngest, settings: Any, connector: Connector, clock: Clock,
            done: Callable[[], bool], *, idle_seconds: float, max_failures: int) -> bool:
    """Read connection after connection until `done()`; True when Ctrl-C stopped it.

    Progress is a newer event than any before the connection: a server that keeps
    replaying the same events (e.g. up to a frame over RECEIVE_LIMIT, which closes the
    connection with 1009 every time) counts against `max_failures` like a refused one."""
    errors = _connection_errors()
    stalled = 0  # connections in a row that brought no new event
    while not done():
        start = ingest.high
        url = jetstream_url(settings.bsky_jetstream_url,
                            ingest.resume_at(settings.bsky_rewind_seconds))
        try:
            with connector(url) as ws:
                if _read(ws, ingest, done, idle_seconds):
                    return True
        except InvalidURI as exc:
            raise InputError(f"bsky_jetstream_url: {exc}") from None
        except errors as exc:
            ingest.flush()
            stalled = 0 if ingest.high > start else stalled + 1
            if stalled > max_failures:
                raise SourceError(f"jetstream: {stalled} connection attempts in a row brought "
                                  f"no new event, the last ended with: {_describe(exc)}"
                                  ) from None
            delay = min(MAX_BACKOFF, 2.0 ** max(stalled - 1, 0))
            log.warning("jetstream: %s; reconnecting in %.0f s", _describe(exc), delay)
            ingest.summary.reconnects += 1
            clock.sleep(delay)
    return False


def _read(ws: Socket, ingest: JetstreamIngest, done: Callable[[], bool],
          idle_seconds: float) -> bool:
    """Feed the socket's events to `ingest` until `done()`; True on Ctrl-C, which stops
    here so that the socket closes normally."""
    try:
        while not done():
            try:
                message = ws.recv(timeout=idle_seconds)
            except TimeoutError:
                ingest.flush()  # a quiet stream: apply what is pending
                continue
            ingest.feed(message)
            ingest.tick()
    except KeyboardInterrupt:
        return True
    return False


def _recorder(run: RunLog, clock: Clock) -> Callable[[StreamSummary], None]:
    """After each batch: the run's counts, written out every 10 seconds at most."""
    last_checkpoint = [clock.monotonic()]

    def record(summary: StreamSummary) -> None:
        _log_run(run, summary)
        if clock.monotonic() - last_checkpoint[0] >= 10:
            last_checkpoint[0] = clock.monotonic()
            run.checkpoint()
    return record


def _log_run(run: RunLog, summary: StreamSummary) -> None:
    run.counts = summary.counts()
    if summary.cursor is not None:
        run.cursors = {CURSOR: summary.cursor}


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    sent = getattr(exc, "sent", None)
    if getattr(sent, "code", None) == 1009:
        text += f" (a frame over the {RECEIVE_LIMIT // 2**20} MiB receive limit)"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
