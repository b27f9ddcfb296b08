"""`hotpapers daily` and `hotpapers publish`: the daily job, and one day to one target."""

from __future__ import annotations

from typing import Annotated

import typer

from hotpapers.cli.common import DateOption, err, now, out, parse_day, state_of

__all__ = ["daily", "publish"]


def daily(
    ctx: typer.Context,
    day: Annotated[str | None, typer.Option(
        "--date", metavar="D", help="Listing date (default: the latest announcement).")] = None,
    force: Annotated[bool, typer.Option(
        help="Publish again to targets that already have the day.")] = False,
    wait: Annotated[float, typer.Option(
        min=0, metavar="SECONDS", help="Wait this long for another run to finish (default: exit 3 "
        "at once).")] = 0.0,
) -> None:
    """Run the daily job: fetch papers and mentions, rank, write the post, publish.

    Targets come from the daily_targets setting; a failing source or target is reported
    and the rest goes on. Exit 3 when there is no announcement that day, or when another
    daily run is in progress.

    Example: hotpapers daily --date 2026-11-23
    """
    from hotpapers.config import Secrets
    from hotpapers.jobs.daily import daily_lock, run_daily
    from hotpapers.store.runs import recorded_run

    state = state_of(ctx)
    the_day = parse_day(day) if day else None
    secrets = Secrets()
    with daily_lock(state.db_url, wait):
        engine = state.connect()
        with recorded_run(engine, "daily", now) as run, state.progress() as progress:
            task = progress.add_task("daily", total=4)

            def step(what: str) -> None:
                progress.update(task, advance=1, description=what)
                state.log(what)

            state.log("daily: fetching papers")
            result = run_daily(engine, state.settings, secrets, now, run, day=the_day,
                               force=force, step=step, note=state.log)
    _summary(state, result)
    if result.targets_failed:  # a target that failed fails the run (sources only warn)
        raise typer.Exit(1)


def _summary(state, result) -> None:
    """What a daily run did, a line a step, warnings and failures on stderr."""
    for line in [f"papers: {result.papers}" if result.papers else "", *result.mentions,
                 f"post: {result.post}", *(p.line() for p in result.published)]:
        if line:
            state.say(line)
    for warning in result.warnings:
        state.report([f"warning: {warning}"])
    state.report(result.failures)
    published = sum(p.receipt is not None or p.already is not None for p in result.published)
    targets = len(state.settings.daily_targets)
    state.say(f"Done: {result.day}: {result.listed} papers listed, 1 post written, "
              f"{published} of {targets} targets published")


def publish(
    ctx: typer.Context,
    day: DateOption,
    to: Annotated[str, typer.Option(
        "--to", metavar="TARGET", help="git, bluesky, mastodon, email or webhook.")],
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Print exactly what would be sent; send nothing.")] = False,
    force: Annotated[bool, typer.Option(help="Publish again if already published.")] = False,
    checkout: Annotated[str | None, typer.Option(
        metavar="PATH", help="git: the blog checkout (overrides git_checkout).")] = None,
) -> None:
    """Publish a day's digest to one target, once (unless --force).

    --dry-run prints the payload even without the target's credentials (Bluesky, Mastodon)
    and names those a real run needs.

    Example: hotpapers publish --date 2021-01-18 --to git --checkout ~/blog --dry-run
    """
    from hotpapers.config import Secrets
    from hotpapers.jobs.daily import publish_day
    from hotpapers.publish.registry import build_publisher

    state = state_of(ctx)
    settings = state.settings
    if checkout is not None:
        settings = settings.model_copy(update={"git_checkout": checkout})
    the_day = parse_day(day)
    publisher = build_publisher(to, settings, Secrets(), preview=dry_run)
    engine = state.connect()
    result = publish_day(engine, state.db_url, the_day, settings, publisher, now,
                         dry_run=dry_run, force=force)
    if dry_run:
        for payload in result.payloads:
            out.print(f"--- {payload.target}: {payload.summary}", soft_wrap=True)
            out.print(payload.body, soft_wrap=True, markup=False, highlight=False)
        missing = getattr(publisher, "missing", None)
        if missing:
            err.print(f"hotpapers: note: {missing}; a real run needs them", soft_wrap=True,
                      markup=False, highlight=False)
    state.say(result.line())
