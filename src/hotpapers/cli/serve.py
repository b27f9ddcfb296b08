"""`hotpapers serve`: the live board, paper pages and JSON API (hotpapers.web) on uvicorn,
over the store read-only."""

from __future__ import annotations

import errno
import os
import socket
from typing import Annotated

import typer

from hotpapers.cli.common import safe_url, state_of
from hotpapers.errors import HotpapersError, InputError

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
    check_address(host, port)
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


def check_address(host: str, port: int) -> None:
    """That this machine can listen on `host`:`port`, told in one line before uvicorn
    starts (which logs several lines and exits 3, "nothing to do"): a name or address that
    is not one of its own is bad input, a port in use a failure."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM)[0]
    except (OSError, UnicodeError) as exc:
        raise InputError(f"--host {host!r}: not an address to listen on ({exc})") from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            probe.bind(address)
        except OSError as exc:
            where = f"--host {host} --port {port}: cannot listen there ({exc.strerror})"
            if exc.errno == errno.EADDRINUSE:
                raise HotpapersError(where) from None
            raise InputError(where) from None
