"""The `hotpapers` command line (Typer): parse, call a job, print. Exit codes:
0 ok, 1 runtime failure, 2 bad usage or input, 3 nothing to do."""

from __future__ import annotations

import logging
import os
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from hotpapers import __version__
from hotpapers.cli.checkup import doctor
from hotpapers.cli.common import (
    DateOption,
    State,
    err,
    now,
    out,
    parse_day,
    safe_url,
    state_of,
)
from hotpapers.cli.data import export_app, import_app, legacy_app
from hotpapers.cli.fetch import fetch_app
from hotpapers.cli.history import runs_command
from hotpapers.cli.publish import daily, publish
from hotpapers.cli.rank import explain, rank
from hotpapers.cli.serve import serve
from hotpapers.cli.site import site_app
from hotpapers.cli.stream import stream_app
from hotpapers.cli.upkeep import store_app
from hotpapers.config import config_path, default_db_url, load_settings
from hotpapers.config import render_config as render_config_text
from hotpapers.errors import HotpapersError
from hotpapers.rank.names import Method
from hotpapers.secrets import install_log_filter, scrub

__all__ = ["app", "main"]

app = typer.Typer(
    name="hotpapers", no_args_is_help=True, add_completion=False,
    pretty_exceptions_enable=False, rich_markup_mode=None,
    help="Find the arXiv papers researchers are talking about and publish a daily digest.",
)
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")
app.add_typer(legacy_app, name="legacy")
app.add_typer(fetch_app, name="fetch")
app.add_typer(stream_app, name="stream")
app.add_typer(site_app, name="site")
app.add_typer(store_app, name="store")


class PostFormat(StrEnum):
    lumen = "lumen"
    hugo = "hugo"
    jekyll = "jekyll"
    markdown = "markdown"


def _print_version(value: bool) -> None:
    if value:
        out.print(f"hotpapers {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    db: Annotated[str | None, typer.Option(
        metavar="URL", help="Database URL (default: $HOTPAPERS_DB or a SQLite file in the "
        "user data dir).")] = None,
    config: Annotated[Path | None, typer.Option(metavar="PATH", help="Config file (TOML).")]
    = None,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="Say more.")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only errors.")] = False,
    version: Annotated[bool, typer.Option("--version", help="Print the version.",
                                          is_eager=True, callback=_print_version)] = False,
) -> None:
    """Find the arXiv papers researchers are talking about and publish a daily digest."""
    ctx.obj = State(db=db, config=config, verbosity=-1 if quiet else verbose)
    logging.basicConfig(level=logging.WARNING - 10 * verbose if not quiet else logging.ERROR,
                        format="%(levelname)s %(name)s: %(message)s")
    install_log_filter()  # no secret in any log line
    for chatty in ("httpx", "httpcore"):  # they log whole URLs, and webhook URLs are secrets
        logging.getLogger(chatty).setLevel(logging.WARNING)


@app.command()
def init(
    ctx: typer.Context,
    force: Annotated[bool, typer.Option(help="Overwrite an existing config file.")] = False,
) -> None:
    """Write a commented config file and create or migrate the database (and make again
    the indexes and search an import of the arXiv snapshot dropped and was stopped before
    making).

    Example: hotpapers init
    """
    from hotpapers.jobs.arxiv_snapshot import restore_after_stop
    from hotpapers.render.write import write_atomic
    from hotpapers.store.db import connect

    state = state_of(ctx)
    path, _ = config_path(state.config)  # --config, else $HOTPAPERS_CONFIG, else the default
    settings = load_settings(path, missing_ok=True, db=state.db)
    db_url = settings.db or default_db_url()
    engine = connect(db_url)
    try:
        restore_after_stop(engine)
    finally:
        engine.dispose()
    state.say(f"Database ready: {safe_url(db_url)}")
    if path.exists() and not force:
        state.say(f"Config kept: {path} (use --force to overwrite)")
    else:
        write_atomic(path, render_config_text())
        state.say(f"Config written: {path}")


@app.command()
def demo(
    ctx: typer.Context,
    out_dir: Annotated[Path, typer.Option("--out", metavar="DIR",
                                                help="Folder for the database and post.")]
    = Path("hotpapers-demo"),
) -> None:
    """Run the whole job offline on the bundled day (2021-01-18), then show hot, trending
    and an explanation on a bundled synthetic day (2026-01-05, generated data).

    Example: hotpapers demo --out /tmp/hp-demo
    """
    from hotpapers.jobs.demo import DEMO_STEPS, run_demo

    state = state_of(ctx)
    started = time.monotonic()
    with state.progress() as progress:
        task = progress.add_task("demo", total=DEMO_STEPS)
        result = run_demo(out_dir, state.settings, now(),
                          step=lambda what: progress.update(task, advance=1, description=what))
    state.say(f"Post: {result.post}")
    if result.site is not None:
        state.say(f"Site: {result.site} (to browse it: python -m http.server -d "
                  f"{result.site.parent})")
    state.say(f"Live board and API: hotpapers --db sqlite:///{result.database} serve "
              "(then open http://127.0.0.1:8000/)")
    if result.synthetic is not None:
        from hotpapers.cli.rank import _explanation_lines

        for line in result.synthetic.lines(_explanation_lines):
            state.say(line)
    state.say(f"Done: {result.papers} papers listed, {result.tweets} tweets shown, "
              f"1 file written in {time.monotonic() - started:.1f} s")


@app.command()
def post(
    ctx: typer.Context,
    day: DateOption,
    fmt: Annotated[PostFormat, typer.Option(
        "--format", help="lumen (the original blog's format; classic byte for byte), hugo, "
        "jekyll (YAML front matter, ISO dates) or markdown (these three show every mention "
        "as a markdown card).")]
    = PostFormat.lumen,
    out: Annotated[str | None, typer.Option(
        "--out", metavar="PATH", help="File, or folder (existing or ending in '/'), to write; "
        "default: standard output (a preview that does not publish the day).")] = None,
    method: Annotated[Method | None, typer.Option(
        help="Ranking the post lists: classic (the original blog's rule), hot or trending "
        "(default: the method the day was published by, else daily_method).")] = None,
) -> None:
    """Render a day's post; a published day renders exactly as published.

    A hot or trending post lists that ranking's papers in its order, each with its score,
    people, posts and counts per source and its best mentions from every source. Shown
    tweets without stored embed HTML get it from X's oEmbed endpoint (cached in the
    store); set x_oembed_url to "" to show them as bare links without asking.

    Example: hotpapers post --date 2021-01-18 --method classic --out content/posts/
    """
    from hotpapers.jobs.post import render_post, tweet_embeds, write_post
    from hotpapers.jobs.ranked_post import make_ranked_post, post_method
    from hotpapers.render.write import check_writable, write_atomic

    state = state_of(ctx)
    settings = state.settings
    the_day = parse_day(day)
    folder = out is not None and (Path(out).is_dir() or out.endswith(("/", os.sep)))
    if out is not None:  # before the day is stored as published
        check_writable(Path(out) / ".hotpapers-post" if folder else Path(out))
    engine = state.connect(create=False)  # an existing store: not created here
    method = method or post_method(engine, the_day, settings)
    # writing the post to a file publishes the day; a preview changes nothing but embeds
    options = dict(keep=out is not None, embed=tweet_embeds(settings),
                   warn=lambda m: err.print(f"hotpapers: warning: {m}", soft_wrap=True))
    if method is Method.classic:
        the_post = write_post(engine, the_day, settings, now(), **options)
    else:
        the_post = make_ranked_post(engine, the_day, method, settings, now(), **options).post
    rendered = render_post(the_post, fmt.value, settings)
    if out is None:
        sys.stdout.write(rendered.text)
        return
    target = Path(out) / rendered.name if folder else Path(out)
    write_atomic(target, rendered.text)
    state.say(f"Done: {len(the_post.entries)} papers, 1 file written: {target}")


app.command()(rank)
app.command()(explain)
app.command()(daily)
app.command()(publish)
app.command("runs")(runs_command)
app.command()(doctor)
app.command()(serve)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app; a hotpapers error becomes one line on stderr and its exit
    code (usage errors are Typer's own: exit 2). A traceback is scrubbed of secrets."""
    sys.excepthook = _scrubbed_excepthook
    try:
        app(args=argv, prog_name="hotpapers")
    except HotpapersError as exc:
        label = "nothing to do" if exc.exit_code == 3 else "error"
        err.print(f"hotpapers: {label}: {exc}", soft_wrap=True)
        sys.exit(exc.exit_code)
    except OSError as exc:  # a file or folder the system refused: one line, not a traceback
        where = f"{exc.filename}: " if exc.filename else ""
        err.print(f"hotpapers: error: {where}{exc.strerror or exc}", soft_wrap=True)
        sys.exit(1)
    except Exception as exc:
        if not _is_database_error(exc):
            raise
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        err.print(f"hotpapers: error: database: {reason}", soft_wrap=True)
        sys.exit(1)


def _scrubbed_excepthook(kind, value, tb) -> None:
    import traceback

    sys.stderr.write(scrub("".join(traceback.format_exception(kind, value, tb))))


def _is_database_error(exc: Exception) -> bool:
    """An error of SQLAlchemy or of a driver used directly (`site build` reads through the
    DB-API); only loaded modules are checked, as one never imported raised nothing."""
    kinds = (getattr(sys.modules.get(module), name, None) for module, name in (
        ("sqlalchemy.exc", "SQLAlchemyError"), ("sqlite3", "Error"), ("psycopg", "Error")))
    return isinstance(exc, tuple(kind for kind in kinds if kind is not None))
