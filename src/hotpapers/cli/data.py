"""Commands that move data in and out: `import legacy|snapshot|arxiv-snapshot`,
`export snapshot` and `legacy verify`."""

from __future__ import annotations

import difflib
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer

from hotpapers.cli.common import DateOption, PostPaths, err, now, out, parse_day, state_of

__all__ = ["export_app", "import_app", "legacy_app"]

import_app = typer.Typer(no_args_is_help=True, help="Import posts and snapshots.")
export_app = typer.Typer(no_args_is_help=True, help="Export stored days.")
legacy_app = typer.Typer(no_args_is_help=True, help="Work with original Hot Papers posts.")
SHOWN_BAD = 10  # bad snapshot lines printed; the rest are counted


@import_app.command("legacy")
def import_legacy_command(
    ctx: typer.Context,
    paths: PostPaths,
) -> None:
    """Import original Hot Papers posts (one transaction per post).

    Example: hotpapers import legacy content/posts/
    """
    from hotpapers.jobs.legacy import import_legacy, legacy_files
    from hotpapers.store.runs import recorded_run

    state = state_of(ctx)
    engine = state.connect()
    files = legacy_files(paths)
    with recorded_run(engine, "import legacy", now) as run, \
            state.counting("importing posts", len(files)) as advance:
        results = import_legacy(engine, files, now(), progress=advance)
        run.errors = [r.error for r in results if r.error]
        changed = sum(r.changed for r in results if r.error is None)
        run.counts = {"files": len(files), "posts": len(files) - len(run.errors),
                      "papers": sum(r.papers for r in results), "changed": changed,
                      "unchanged": len(files) - len(run.errors) - changed}
    failed = state.report(run.errors)
    for result in results:
        if result.replaced:
            err.print(f"hotpapers: warning: {result.path} replaced the stored post of "
                      f"{result.day} generated {result.replaced:%Y-%m-%d %H:%M:%S %Z}",
                      soft_wrap=True)
    state.say(f"Done: {run.counts['changed']} changed, {run.counts['unchanged']} unchanged "
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
    from hotpapers.jobs.snapshot import import_snapshot, read_snapshot

    state = state_of(ctx)
    records = read_snapshot(path)  # a bad file is refused before the store is touched
    counts = import_snapshot(state.connect(), records, str(path), now)
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
    from hotpapers.jobs.arxiv_snapshot import import_arxiv_snapshot
    from hotpapers.store.runs import recorded_run

    state = state_of(ctx)
    engine = state.connect()
    size = path.stat().st_size if path.is_file() else None
    started = time.monotonic()
    with recorded_run(engine, "import arxiv-snapshot", now) as run, \
            state.progress() as progress:
        task = progress.add_task("importing papers", total=size)
        result = import_arxiv_snapshot(engine, path, state.settings, now(),
                                       progress=lambda done: progress.update(task, completed=done))
        run.counts = {"papers": result.stored, "unchanged": result.unchanged,
                      "bad_lines": result.bad_count}
        run.errors = [f"{path}:{line}: {reason}" for line, reason in result.bad[:100]]
    state.report(f"{path}:{line}: {reason}" for line, reason in result.bad[:SHOWN_BAD])
    if result.bad_count > SHOWN_BAD:
        err.print(f"hotpapers: error: ... and {result.bad_count - SHOWN_BAD} more bad lines")
    elapsed = time.monotonic() - started
    state.say(f"Done: {result.stored - result.unchanged} papers changed, {result.unchanged} "
              f"unchanged, {result.bad_count} bad lines skipped "
              f"in {elapsed:.1f} s ({result.stored / max(elapsed, 1e-9):,.0f} papers/s)")
    if result.bad_count:
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
    from hotpapers.jobs.snapshot import write_snapshot

    state = state_of(ctx)
    engine = state.connect(create=False)  # read-only: an existing store
    count = write_snapshot(engine, [parse_day(day)], path)
    state.say(f"Done: {count} records written to {path}")


@legacy_app.command("verify")
def legacy_verify(
    ctx: typer.Context,
    paths: PostPaths,
) -> None:
    """Import posts into a temporary database, render them again and compare bytes.

    Example: hotpapers legacy verify content/posts/
    """
    from hotpapers.jobs.legacy import legacy_files, verify_legacy
    from hotpapers.store.db import connect

    state = state_of(ctx)
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

