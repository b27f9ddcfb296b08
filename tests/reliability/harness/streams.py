"""Fault class (b): one `stream_bluesky` session in-process against a loopback Jetstream,
until the store's cursor reaches the last event (or a bounded time passes)."""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from hotpapers.config import Settings
from hotpapers.errors import HotpapersError
from hotpapers.http import Clock
from hotpapers.jobs.stream_bluesky import stream_bluesky
from hotpapers.store.db import connect

from .digest import store_rows
from .servers import Jetstream

__all__ = ["StreamPass", "stream_pass"]


@dataclass
class StreamPass:
    rows: dict[str, Counter]
    error: str  # empty when the session ended by reaching the last event
    reconnects: int
    malformed: int


def stream_pass(db: Path, events: list[str], limit: float = 15.0, **faults) -> StreamPass:
    """Stream `events` from a Jetstream with `faults` (see servers.Jetstream) into the SQLite
    store `db` until the last event is applied; backoff sleeps are skipped, and the session
    gives up after `limit` seconds."""
    last = json.loads(events[-1])["time_us"]
    engine = connect(f"sqlite:///{db}")
    clock = Clock(monotonic=time.monotonic, sleep=lambda _seconds: None,
                  now=lambda: datetime.now(UTC))
    deadline = time.monotonic() + limit
    error = ""
    try:
        with Jetstream(events, **faults) as server:
            settings = Settings(bsky_jetstream_url=server.url, bsky_rewind_seconds=5.0,
                                http_timeout=5.0)
            summary = stream_bluesky(
                engine, settings, clock=clock, idle_seconds=0.2, max_failures=50,
                stop=lambda s: s.cursor == last or time.monotonic() > deadline)
            if summary.cursor != last:
                error = f"gave up after {limit:.0f} s at cursor {summary.cursor} (last {last})"
    except HotpapersError as exc:
        error = f"{type(exc).__name__}: {exc}"
        summary = None
    finally:
        engine.dispose()
    return StreamPass(store_rows(f"sqlite:///{db}"), error,
                      summary.reconnects if summary else -1, summary.malformed if summary else -1)
