"""`hotpapers store ...`: upkeep of the store itself (the attention totals, for now)."""

from __future__ import annotations

import time

import typer

from hotpapers.cli.common import now, state_of

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
    from hotpapers.store.db import connect

    state = state_of(ctx)
    engine = connect(state.db_url, create=False)  # an existing store: not created here
    started = time.monotonic()
    with state.progress() as progress:
        task = progress.add_task("counting mentions", total=None)
        counted = rebuild_aggregates(engine, rules_from(state.settings), now(),
                                     progress=lambda done: progress.update(task, completed=done))
    state.say(f"Done: {counted} mentions counted into the attention totals in "
              f"{time.monotonic() - started:.1f} s")
