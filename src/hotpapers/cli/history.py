"""`hotpapers runs`: the recent run records (command, start, duration, outcome, counts and
errors), as a table or JSON."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from hotpapers.cli.common import out, state_of

__all__ = ["runs_command"]


def _duration(run: dict) -> float | None:
    if run["finished_at"] is None:
        return None
    return round((run["finished_at"] - run["started_at"]).total_seconds(), 3)


def _plain(run: dict) -> dict:
    return {"id": run["id"], "command": run["command"], "status": run["status"],
            "started_at": run["started_at"].isoformat(),
            "finished_at": run["finished_at"] and run["finished_at"].isoformat(),
            "duration_s": _duration(run), "counts": run["counts"] or {},
            "errors": run["errors"] or [], "cursors": run["cursors"], "pid": run["pid"],
            "host": run["host"]}


def _leaves(counts: dict, prefix: str = "") -> list[str]:
    """`name=value` for each number in the counts, nested names joined by dots."""
    found = []
    for key, value in counts.items():
        if isinstance(value, dict):
            found += _leaves(value, f"{prefix}{key}.")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            found.append(f"{prefix}{key}={value:g}")
    return found


def _table(listed: list[dict]) -> Table:
    table = Table(title="Recent runs (times in UTC)")
    for column in ("id", "command", "started", "duration", "outcome", "counts", "errors"):
        table.add_column(column, justify="right" if column in ("id", "duration") else "left",
                         overflow="fold", no_wrap=column in ("started", "duration"))
    for run in listed:
        seconds = _duration(run)
        errors = run["errors"] or []
        table.add_row(str(run["id"]), run["command"], f"{run['started_at']:%Y-%m-%d %H:%M:%S}",
                      "" if seconds is None else f"{seconds:.1f} s", run["status"],
                      ", ".join(_leaves(run["counts"] or {})),
                      errors[0] + (f" (+{len(errors) - 1} more)" if len(errors) > 1 else "")
                      if errors else "")
    return table


def runs_command(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=100_000, metavar="N",
                                       help="How many runs, newest first.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List recent runs: command, start, duration, outcome, counts and errors.

    A run still marked running whose process (on this host) is gone is shown, and
    recorded, as interrupted.

    Example: hotpapers runs --limit 5 --json
    """
    from hotpapers.jobs.recent_runs import recent_runs

    state = state_of(ctx)
    listed = recent_runs(state.connect(create=False), limit)  # an existing store only
    if as_json:
        print(json.dumps([_plain(run) for run in listed], indent=2, ensure_ascii=False))
        return
    if not state.quiet:
        out.print(_table(listed))
    state.say(f"Done: {len(listed)} run{'s' * (len(listed) != 1)}")
