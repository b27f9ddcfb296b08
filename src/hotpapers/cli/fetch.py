"""`hotpapers fetch`: papers (and, later, mentions) from the sources into the store."""

from __future__ import annotations

from typing import Annotated

import typer

from hotpapers.cli.common import DateOption, now, parse_day, state_of
from hotpapers.store.db import connect
from hotpapers.store.runs import recorded_run

__all__ = ["fetch_app"]

fetch_app = typer.Typer(no_args_is_help=True, help="Fetch papers and mentions from sources.")


@fetch_app.command("papers")
def fetch_papers_command(
    ctx: typer.Context,
    day: DateOption,
    category: Annotated[list[str] | None, typer.Option(
        "--category", metavar="CATEGORY", help="arXiv category (repeatable); 'cs' means "
        "every cs.*. Default: the categories setting.")] = None,
) -> None:
    """Fetch the papers arXiv announced in the listing dated D (cross-lists included).

    The current listing comes from arXiv's announcement feed, past days from an OAI-PMH
    harvest that an interrupted run continues.

    Example: hotpapers fetch papers --date 2024-03-05 --category cs --category stat.ML
    """
    from hotpapers.fetch import arxiv_http, fetch_papers

    state = state_of(ctx)
    settings = state.settings
    if category:
        settings = settings.model_copy(update={"categories": category})
    the_day = parse_day(day)
    engine = connect(state.db_url)
    http = arxiv_http(settings)
    with recorded_run(engine, "fetch papers", now) as run, \
            state.counting(f"fetching the listing of {the_day}", None) as advance:
        fetched = fetch_papers(engine, http, the_day, settings, now(), run, page_done=advance)
    state.say(f"Done: {fetched.summary()} for {the_day} "
              f"(via {fetched.via}, {http.requests} requests)")

