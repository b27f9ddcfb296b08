"""The `hotpapers` command line (Typer): parse, call the pipeline, print. Exit codes:
0 ok, 1 runtime failure, 2 bad usage or input, 3 nothing to do."""

from __future__ import annotations

import difflib
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from hotpapers import __version__
from hotpapers.config import Settings, default_config_path, default_db_url, load_settings
from hotpapers.config import render_config as render_config_text
from hotpapers.errors import HotpapersError, InputError
from hotpapers.store.db import connect
from hotpapers.store.runs import recorded_run

__all__ = ["app", "main"]

app = typer.Typer(
    name="hotpapers", no_args_is_help=True, add_completion=False,
    pretty_exceptions_enable=False, rich_markup_mode=None,
    help="Find the arXiv papers researchers are talking about and publish a daily digest.",
)
import_app = typer.Typer(no_args_is_help=True, help="Import posts and snapshots.")
export_app = typer.Typer(no_args_is_help=True, help="Export stored days.")
legacy_app = typer.Typer(no_args_is_help=True, help="Work with original Hot Papers posts.")
fetch_app = typer.Typer(no_args_is_help=True, help="Fetch papers and mentions from sources.")
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")
app.add_typer(legacy_app, name="legacy")
app.add_typer(fetch_app, name="fetch")

out = Console(markup=False, highlight=False)
err = Console(stderr=True, markup=False, highlight=False)


@dataclass
class State:
    db: str | None = None
    config: Path | None = None
    verbosity: int = 0
    _settings: Settings | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config, db=self.db)
        return self._settings

    @property
    def db_url(self) -> str:
        return self.settings.db or default_db_url()

    @property
    def quiet(self) -> bool:
        return self.verbosity < 0

    def say(self, message: str) -> None:
        if not self.quiet:
            out.print(message, highlight=False, soft_wrap=True)

    def progress(self) -> Progress:
        return Progress(console=err, disable=self.quiet or not err.is_terminal, transient=True)

    @contextmanager
    def counting(self, label: str, total: int | None) -> Iterator[Callable[[object], None]]:
        """A progress bar of `total` steps (None: unknown); yields the function that
        advances it by one, or by the number it is given."""
        with self.progress() as progress:
            task = progress.add_task(label, total=total)
            yield lambda n=1: progress.advance(task, n if isinstance(n, int) else 1)

    def report(self, errors: Iterable[str | None]) -> int:
        """Print each error as one line on stderr; returns how many there were."""
        shown = [e for e in errors if e]
        for error in shown:
            err.print(f"hotpapers: error: {error}", highlight=False, soft_wrap=True)
        return len(shown)


def _state(ctx: typer.Context) -> State:
    return ctx.find_root().obj


def now() -> datetime:
    return datetime.now(UTC)


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"--date {text!r}: not a date (YYYY-MM-DD)") from None


class Method(StrEnum):
    classic = "classic"


class PostFormat(StrEnum):
    lumen = "lumen"


PostPaths = Annotated[list[Path], typer.Argument(
    metavar="PATH", help="Post files, or folders of posts (their *.md files).")]
DateOption = Annotated[
    str, typer.Option("--date", metavar="D", help="Day D, arXiv's listing date (YYYY-MM-DD).")]


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


@app.command()
def init(
    ctx: typer.Context,
    force: Annotated[bool, typer.Option(help="Overwrite an existing config file.")] = False,
) -> None:
    """Write a commented config file and create or migrate the database.

    Example: hotpapers init
    """
    from hotpapers.render.write import write_atomic

    state = _state(ctx)
    path = state.config or default_config_path()
    settings = load_settings(path if path.exists() else None, db=state.db)
    db_url = settings.db or default_db_url()
    connect(db_url).dispose()
    state.say(f"Database ready: {_safe_url(db_url)}")
    if path.exists() and not force:
        state.say(f"Config kept: {path} (use --force to overwrite)")
    else:
        write_atomic(path, render_config_text())
        state.say(f"Config written: {path}")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@app.command()
def demo(
    ctx: typer.Context,
    out_dir: Annotated[Path, typer.Option("--out", metavar="DIR",
                                                help="Folder for the database and post.")]
    = Path("hotpapers-demo"),
) -> None:
    """Run the whole job offline on the bundled day (2021-01-18).

    Example: hotpapers demo --out /tmp/hp-demo
    """
    from hotpapers.demo import run_demo

    state = _state(ctx)
    started = time.monotonic()
    with state.progress() as progress:
        task = progress.add_task("demo", total=4)
        result = run_demo(out_dir, state.settings, now(),
                          step=lambda what: progress.update(task, advance=1, description=what))
    state.say(f"Post: {result.post}")
    state.say(f"Done: {result.papers} papers listed, {result.tweets} tweets shown, "
              f"1 file written in {time.monotonic() - started:.1f} s")


@app.command()
def rank(
    ctx: typer.Context,
    day: DateOption,
    method: Annotated[Method, typer.Option(help="Ranking method.")] = Method.classic,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Rank a day's papers and print the ranking.

    Example: hotpapers rank --date 2021-01-18 --json
    """
    from hotpapers.pipeline import classic_ranking
    from hotpapers.store.papers import load_papers

    state = _state(ctx)
    the_day = parse_day(day)
    engine = connect(state.db_url)
    with engine.connect() as conn:
        ranking, _ = classic_ranking(conn, the_day, state.settings, now())
        papers = load_papers(conn, [r.paper_id for r in ranking.rows])
    rows = [{"rank": i, "id": r.paper_id, "title": papers[r.paper_id].title,
             "score": int(r.score) if float(r.score).is_integer() else r.score, **r.parts}
            for i, r in enumerate(ranking.rows, start=1)]
    if as_json:
        print(json.dumps({"day": the_day.isoformat(), "method": method.value,
                          "as_of": ranking.as_of.isoformat(), "papers": rows}, indent=2))
        return
    as_of = f"{ranking.as_of:%Y-%m-%d %H:%M %Z}"
    table = Table(title=f"Hot Papers {the_day} ({method.value}, as of {as_of})")
    for column in ("#", "arXiv id", "score", "retweets", "favorites", "title"):
        table.add_column(column, justify="right" if column in ("#", "score") else "left")
    for row in rows:
        table.add_row(str(row["rank"]), row["id"], f"{row['score']:g}",
                      str(row.get("reposts", "")), str(row.get("likes", "")), row["title"])
    if not state.quiet:
        out.print(table)
    state.say(f"Done: {len(rows)} papers ranked")


@app.command()
def post(
    ctx: typer.Context,
    day: DateOption,
    fmt: Annotated[PostFormat, typer.Option("--format", help="Post format.")]
    = PostFormat.lumen,
    out: Annotated[str | None, typer.Option(
        "--out", metavar="PATH", help="File, or folder (existing or ending in '/'), to write; "
        "default: standard output (a preview that does not publish the day).")] = None,
) -> None:
    """Render a day's post; a published day renders exactly as published.

    Example: hotpapers post --date 2021-01-18 --out content/posts/
    """
    from hotpapers.pipeline import build_post
    from hotpapers.render.lumen import file_name, render_lumen
    from hotpapers.render.write import write_atomic

    state = _state(ctx)
    the_day = parse_day(day)
    engine = connect(state.db_url)
    with engine.begin() as conn:  # writing the post to a file publishes the day
        the_post = build_post(conn, the_day, state.settings, now(), keep=out is not None)
    text = render_lumen(the_post)
    if out is None:
        sys.stdout.write(text)
        return
    name = file_name(the_post, state.settings.post_filename)
    folder = Path(out).is_dir() or out.endswith(("/", os.sep))
    target = Path(out) / name if folder else Path(out)
    write_atomic(target, text)
    state.say(f"Done: {len(the_post.entries)} papers, 1 file written: {target}")


@import_app.command("legacy")
def import_legacy_command(
    ctx: typer.Context,
    paths: PostPaths,
) -> None:
    """Import original Hot Papers posts (one transaction per post).

    Example: hotpapers import legacy content/posts/
    """
    from hotpapers.pipeline import import_legacy, legacy_files

    state = _state(ctx)
    engine = connect(state.db_url)
    files = legacy_files(paths)
    with recorded_run(engine, "import legacy", now) as run, \
            state.counting("importing posts", len(files)) as advance:
        results = import_legacy(engine, files, now(), progress=advance)
        run.errors = [r.error for r in results if r.error]
        run.counts = {"files": len(files), "posts": len(files) - len(run.errors),
                      "papers": sum(r.papers for r in results)}
    failed = state.report(run.errors)
    for result in results:
        if result.replaced:
            err.print(f"hotpapers: warning: {result.path} replaced the stored post of "
                      f"{result.day} generated {result.replaced:%Y-%m-%d %H:%M:%S %Z}",
                      soft_wrap=True)
    state.say(f"Done: {len(results) - failed} posts imported "
              f"({sum(r.papers for r in results)} papers), {failed} failed")
    if failed:
        raise typer.Exit(2)


@import_app.command("snapshot")
def import_snapshot(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(
        metavar="FILE", help="A hotpapers JSON-lines snapshot (.gz ok).")],
) -> None:
    """Import a hotpapers snapshot (all or nothing).

    Example: hotpapers import snapshot 2021-01-18.jsonl
    """
    from hotpapers.snapshot import import_records, read_snapshot

    state = _state(ctx)
    records = read_snapshot(path)
    engine = connect(state.db_url)
    with recorded_run(engine, "import snapshot", now) as run, engine.begin() as conn:
        run.counts = counts = import_records(conn, records, now(), origin=str(path))
    state.say("Done: " + ", ".join(f"{n} {kind}s" for kind, n in counts.items() if n))


@import_app.command("arxiv-snapshot")
def import_arxiv_snapshot_command(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(
        metavar="FILE", help="arXiv metadata snapshot, JSON lines (.gz ok).")],
) -> None:
    """Import the public arXiv metadata snapshot, streamed in batches.

    Bad lines are reported (line number and reason) and skipped; the others are stored.

    Example: hotpapers import arxiv-snapshot arxiv-metadata-oai-snapshot.json.gz
    """
    from hotpapers.arxiv_snapshot import import_arxiv_snapshot

    state = _state(ctx)
    engine = connect(state.db_url)
    size = path.stat().st_size if path.is_file() else None
    started = time.monotonic()
    with recorded_run(engine, "import arxiv-snapshot", now) as run, \
            state.progress() as progress:
        task = progress.add_task("importing papers", total=size)
        result = import_arxiv_snapshot(engine, path, state.settings, now(),
                                       progress=lambda done: progress.update(task, completed=done))
        run.counts = {"papers": result.stored, "bad_lines": len(result.bad)}
        run.errors = [f"{path}:{line}: {reason}" for line, reason in result.bad[:100]]
    state.report(f"{path}:{line}: {reason}" for line, reason in result.bad[:20])
    if len(result.bad) > 20:
        err.print(f"hotpapers: error: ... and {len(result.bad) - 20} more bad lines")
    elapsed = time.monotonic() - started
    state.say(f"Done: {result.stored} papers imported, {len(result.bad)} bad lines skipped "
              f"in {elapsed:.1f} s ({result.stored / max(elapsed, 1e-9):,.0f} papers/s)")
    if result.bad:
        raise typer.Exit(2)


@export_app.command("snapshot")
def export_snapshot(
    ctx: typer.Context,
    day: DateOption,
    path: Annotated[Path, typer.Argument(
        metavar="FILE", help="File to write (JSON lines; .gz compresses).")],
) -> None:
    """Export a stored day as a hotpapers snapshot.

    Example: hotpapers export snapshot --date 2021-01-18 day.jsonl
    """
    from hotpapers.snapshot import write_snapshot

    state = _state(ctx)
    engine = connect(state.db_url)
    with engine.connect() as conn:
        count = write_snapshot(conn, [parse_day(day)], path)
    state.say(f"Done: {count} records written to {path}")


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

    state = _state(ctx)
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


@legacy_app.command("verify")
def legacy_verify(
    ctx: typer.Context,
    paths: PostPaths,
) -> None:
    """Import posts into a temporary database, render them again and compare bytes.

    Example: hotpapers legacy verify content/posts/
    """
    from hotpapers.pipeline import legacy_files, verify_legacy

    state = _state(ctx)
    files = legacy_files(paths)
    with tempfile.TemporaryDirectory(prefix="hotpapers-verify-") as tmp:
        engine = connect(f"sqlite:///{Path(tmp) / 'verify.sqlite3'}")
        with state.counting("verifying posts", len(files)) as advance:
            results = verify_legacy(engine, files, state.settings, now(), progress=advance)
        engine.dispose()
    state.report(r.error for r in results)
    mismatch = next((r for r in results if r.rendered is not None and not r.identical), None)
    if mismatch:
        sys.stdout.write(_diff(mismatch.path, mismatch.path.read_bytes(), mismatch.rendered))
    identical = sum(r.identical for r in results)
    out.print(f"{identical}/{len(files)} identical", highlight=False)
    if identical != len(files):
        raise typer.Exit(1)


def _diff(path: Path, original: bytes, rendered: str) -> str:
    lines = difflib.unified_diff(
        original.decode("utf-8", "replace").splitlines(keepends=True),
        rendered.splitlines(keepends=True), fromfile=str(path), tofile=f"{path} (rendered)")
    return "".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app; a hotpapers error becomes one line on stderr and its exit
    code (usage errors are Typer's own: exit 2)."""
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
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        err.print(f"hotpapers: error: database: {reason}", soft_wrap=True)
        sys.exit(1)
