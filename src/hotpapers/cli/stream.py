"""`hotpapers stream`: follow live streams (Bluesky's Jetstream) until Ctrl-C."""

from __future__ import annotations

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
    reconnects by itself. Ctrl-C stops it after storing what it has read.

    Example: hotpapers stream bluesky --max-events 100000
    """
    from hotpapers.sources.http import Clock
    from hotpapers.store.db import connect
    from hotpapers.stream import stream_bluesky

    state = state_of(ctx)
    engine = connect(state.db_url)
    summary = stream_bluesky(engine, state.settings, clock=Clock(), max_events=max_events)
    state.say(summary.line())
