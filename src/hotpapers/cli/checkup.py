"""`hotpapers doctor`: one line per check of this machine's setup (config, database, arXiv,
each source and target, what `daily` would do); exit 1 when a configured check fails."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from hotpapers.cli.common import out, state_of
from hotpapers.config import config_path

__all__ = ["doctor"]


def doctor(
    ctx: typer.Context,
    timeout: Annotated[float, typer.Option(
        min=0.1, metavar="SECONDS", help="Seconds each reachability probe may take (at most "
        "the http_timeout setting).")] = 5.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Check the setup: config, database, arXiv, each source and target, and what `daily`
    would do.

    Each base URL gets one GET without credentials (any HTTP answer means reachable); the
    database is neither created nor migrated; no secret is printed. A source without its
    credentials is skipped, not failed. Exit 1 when a configured check fails.

    Example: hotpapers doctor --timeout 3
    """
    from hotpapers.config import Secrets
    from hotpapers.jobs.doctor import FAILED, run_doctor
    from hotpapers.secrets import scrub

    state = state_of(ctx)
    path, _ = config_path(state.config)
    settings = state.settings  # a bad config: exit 2, one line (load_settings)
    report = run_doctor(settings, Secrets(), state.db_url, path, path.is_file(),
                        timeout=timeout)
    if as_json:
        print(scrub(json.dumps(report.as_json(), indent=2, ensure_ascii=False)))
    else:
        for check, line in zip(report.checks, report.lines(), strict=True):
            if not state.quiet or check.status == FAILED:
                out.print(line, soft_wrap=True)
    if report.exit_code:
        raise typer.Exit(report.exit_code)
