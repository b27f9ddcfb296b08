"""`hotpapers stream`: follow live streams (Bluesky's Jetstream) until Ctrl-C or SIGTERM."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from hotpapers.cli.common import state_of

__all__ = ["stream_app"]

stream_app = typer.Typer(no_args_is_help=True,
                         help="Follow live streams of posts and count their engagements.")


@stream_app.command("bluesky")
def stream_bluesky_command(
    ctx: typer.Context,
    max_events: Annotated[int | None, typer.Option(
        "--max-events", metavar="N", min=1,
        help="Stop after reading N events (default: run until Ctrl-C).")] = None,
) -> None:
    """Follow Bluesky's Jetstream: store new posts that name papers, and count the likes,
    reposts, replies and quotes of the Bluesky posts in the store.

    Resumes from where the last session stopped (rewound by bsky_rewind_seconds) and
    reconnects by itself. Ctrl-C or SIGTERM (how systemd stops a service) stops it after
    storing what it has read.

    Example: hotpapers stream bluesky --max-events 100000
    """
    from hotpapers.http import Clock
    from hotpapers.jobs.stream_bluesky import stream_bluesky

    state = state_of(ctx)
    engine = state.connect()
    with sigterm_as_ctrl_c():
        summary = stream_bluesky(engine, state.settings, clock=Clock(), max_events=max_events)
    state.say(summary.line())


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@contextmanager
def sigterm_as_ctrl_c() -> Iterator[None]:
    """Inside, SIGTERM raises KeyboardInterrupt as Ctrl-C does, so a stop by systemd or
    `kill` applies what was read, prints the summary and records the run (exit 0)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers; its own signals are not ours
        return
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
