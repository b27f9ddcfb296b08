"""`hotpapers store ...`: upkeep of the store itself: its attention totals, and copying it
into another database."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from hotpapers.cli.common import now, safe_url, state_of

__all__ = ["store_app"]

store_app = typer.Typer(no_args_is_help=True, help="Look after the store itself.")


@store_app.command("rebuild-aggregates")
def rebuild_aggregates_command(ctx: typer.Context) -> None:
    """Recompute the attention totals (per paper, source and author, and per paper and
    source) from the stored mentions and observations, under the configured hot rules.

    They are kept up to date on every write; rebuild them after changing hot_kind_weights,
    hot_repost_ratio or hot_new_account_* (until then, hot and trending rank by the exact,
    slower path), or on a store that held mentions before they existed. One transaction:
    readers keep the old totals until it commits.

    Example: hotpapers store rebuild-aggregates
    """
    from hotpapers.jobs.aggregates import rebuild_aggregates
    from hotpapers.jobs.ranking import rules_from

    state = state_of(ctx)
    engine = state.connect(create=False)  # an existing store: not created here
    started = time.monotonic()
    with state.progress() as progress:
        task = progress.add_task("counting mentions", total=None)
        counted = rebuild_aggregates(engine, rules_from(state.settings), now(),
                                     progress=lambda done: progress.update(task, completed=done))
    state.say(f"Done: {counted} mentions counted into the attention totals in "
              f"{time.monotonic() - started:.1f} s")


@store_app.command("copy")
def copy_command(
    ctx: typer.Context,
    to: Annotated[str, typer.Option(
        "--to", metavar="URL", help="The database to copy into (created and migrated).")],
    resume: Annotated[bool, typer.Option(
        help="Continue an interrupted copy into URL: rows already there are kept.")] = False,
    batch: Annotated[int, typer.Option(
        min=1, max=1_000_000, metavar="ROWS", help="Rows a transaction.")] = 5000,
) -> None:
    """Copy the whole store (--db) into another database, then verify it.

    Every table, parents first, in batches along each table's key; on PostgreSQL the id
    sequences continue after the copied ids. At the end each table's row count and a digest
    of its normalised values are compared on both sides (exit 1 when one differs). A target
    that already holds rows is refused (exit 2) unless --resume.

    Example: hotpapers --db sqlite:///hp.sqlite3 store copy --to postgresql://hp@db/hp
    """
    from hotpapers.errors import InputError
    from hotpapers.jobs.store_copy import copy_store
    from hotpapers.store.db import connect, parse_url, same_database

    state = state_of(ctx)
    if same_database(parse_url(to, "--to"), parse_url(state.db_url, state.db_origin)):
        raise InputError(f"--to {safe_url(to)}: that is the store being copied (--db)")
    source = state.connect(create=False)
    target = connect(to, option="--to")
    started = time.monotonic()
    with state.progress() as progress:
        task = progress.add_task("copying", total=None)
        copies = copy_store(source, target, resume=resume, batch=batch,
                            progress=lambda name, rows: progress.update(
                                task, description=f"copying {name}", completed=rows))
    different = [c for c in copies if not c.same]
    state.report(f"table {c.name} differs after the copy: {c.rows} rows here, "
                 f"{c.target_rows} there" for c in different)
    rows = sum(c.rows for c in copies)
    state.say(f"Done: {rows} rows of {len(copies)} tables copied to {safe_url(to)} "
              f"({sum(c.written for c in copies)} written now), "
              f"{'verified' if not different else f'{len(different)} tables differ'} "
              f"in {time.monotonic() - started:.1f} s")
    if different:
        raise typer.Exit(1)
