"""`hotpapers fetch`: papers from arXiv and mentions from attention sources into the store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated

import typer

from hotpapers.cli.common import DateOption, now, parse_day, state_of
from hotpapers.errors import InputError

if TYPE_CHECKING:
    from hotpapers.sources.base import Span

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
    from hotpapers.jobs.fetch_papers import arxiv_http, fetch_papers
    from hotpapers.store.runs import recorded_run

    state = state_of(ctx)
    settings = state.settings
    if category:
        settings = settings.model_copy(update={"categories": category})
    the_day = parse_day(day)
    engine = state.connect()
    http = arxiv_http(settings)
    label = f"fetching the listing of {the_day}"
    state.log(label)
    with recorded_run(engine, "fetch papers", now) as run, \
            state.counting(label, None) as advance:
        def page_done(records: int) -> None:
            advance(records)
            state.log(f"arXiv: a page of {records} records read")

        fetched = fetch_papers(engine, http, the_day, settings, now(), run, page_done=page_done)
    state.say(f"Done: {fetched.summary()} for {the_day} "
              f"(via {fetched.via}, {http.requests} requests)")



def parse_time(text: str, option: str) -> datetime:
    """A UTC time from ISO 8601 (`2026-11-26T08:00Z`, an offset, or a date: its midnight
    UTC); a time without a zone is taken as UTC."""
    try:
        when = datetime.fromisoformat(text.strip())
        return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    except ValueError:
        raise InputError(f"{option} {text!r}: not an ISO 8601 date or time "
                         "(e.g. 2026-11-26 or 2026-11-26T08:00Z)") from None
    except OverflowError:  # a zone that moves it past year 1 or 9999
        raise InputError(f"{option} {text!r}: out of range") from None


@fetch_app.command("mentions")
def fetch_mentions_command(
    ctx: typer.Context,
    source: Annotated[list[str], typer.Option(
        "--source", "-s", metavar="SOURCE", help="x, bluesky, hn, hf, mastodon, reddit, or "
        "all (the mention_sources setting); repeatable.")],
    since: Annotated[str | None, typer.Option(
        metavar="T", help="Start of the window (UTC unless a zone is given). "
        "Default: 24 hours before --until.")] = None,
    until: Annotated[str | None, typer.Option(
        metavar="T", help="End of the window, excluded. Default: now.")] = None,
    refresh: Annotated[bool, typer.Option(
        help="Look up again the stored mentions of the window, for fresh counts and "
        "deletions.")] = True,
) -> None:
    """Fetch the posts that link arXiv papers from attention sources, for a time window.

    Each mention is stored with its author and an observation of its counts (observations
    are appended, so attention can be followed over time). A source that fails or lacks
    credentials does not stop the others; the summary and the run record say what happened.

    Example: hotpapers fetch mentions --source all --since 2026-11-25T00:00Z
    """
    from hotpapers.config import Secrets
    from hotpapers.jobs.fetch_mentions import MentionFetch
    from hotpapers.store.runs import recorded_run

    state = state_of(ctx)
    window = _window(since, until)
    fetch = MentionFetch.setup(source, state.settings, Secrets())
    engine = state.connect()
    with recorded_run(engine, "fetch mentions", now) as run:
        fetched = fetch.run(engine, window, now, run, refresh=refresh,
                            done=lambda outcome: _source_done(state, outcome.summary()))
    state.say(f"Done: {window.since:%Y-%m-%d %H:%M} to {window.until:%Y-%m-%d %H:%M} UTC; "
              f"{fetched.papers_line()}; "
              f"{fetched.thinned} old observations thinned")
    state.report(o.named_error for o in fetched.failed)
    if fetched.all_failed:
        raise typer.Exit(1)


def _window(since: str | None, until: str | None) -> Span:
    """--since/--until as a time span: by default the 24 hours before now (to the minute)."""
    from hotpapers.sources.base import Span

    end = parse_time(until, "--until") if until else now().replace(second=0, microsecond=0)
    try:
        start = parse_time(since, "--since") if since else end - timedelta(days=1)
        return Span(start, end)
    except ValueError as exc:
        raise InputError(f"--since/--until: {exc}") from None
    except OverflowError:
        raise InputError(f"--until {until!r}: out of range") from None


def _source_done(state, line: str) -> None:
    state.say(line)
    state.log(line)
