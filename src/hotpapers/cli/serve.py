"""`hotpapers serve`: the live board, paper pages and JSON API (hotpapers.web) on uvicorn,
over the store read-only."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from hotpapers.cli.common import safe_url, state_of

__all__ = ["serve"]


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(metavar="H", help="Address to listen on.")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option(metavar="P", min=1, max=65535, help="Port.")] = 8000,
    workers: Annotated[int, typer.Option(metavar="N", min=1, max=64, help=(
        "Worker processes (each with its own connections and caches)."))] = 1,
) -> None:
    """Serve the board, paper pages and the JSON API (/api/v1, /openapi.json) over the store,
    read-only: a store at an older revision is refused (migrate it with `init`).

    Access-log lines (Combined Log Format) go to standard error (not with --quiet).

    Example: hotpapers --db sqlite:///hotpapers-demo/hotpapers.sqlite3 serve --port 8000
    """
    import uvicorn

    from hotpapers.jobs.browse import open_reader
    from hotpapers.web.app import DB_VARIABLE, QUIET_VARIABLE, create_app
    from hotpapers.web.manners import access_logger

    state = state_of(ctx)
    url = state.db_url
    open_reader(url).dispose()  # a missing or old store is refused here, before listening
    state.say(f"Serving {safe_url(url)} on http://{host}:{port}/ (Ctrl-C stops)")
    options = dict(host=host, port=port, access_log=False, server_header=False,
                   log_level="warning" if state.quiet else "info")
    if workers == 1:
        access = None if state.quiet else access_logger()
        uvicorn.run(create_app(url, state.settings, access=access), **options)
        return
    os.environ[DB_VARIABLE] = url  # each worker builds its app from these
    os.environ[QUIET_VARIABLE] = "1" if state.quiet else ""
    if state.config is not None:
        os.environ["HOTPAPERS_CONFIG"] = str(state.config)
    uvicorn.run("hotpapers.web.app:from_environment", factory=True, workers=workers, **options)
