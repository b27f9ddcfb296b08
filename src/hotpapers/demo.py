"""`hotpapers demo`: the whole job, offline, on the bundled day (2021-01-18)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from pathlib import Path

from hotpapers.config import Settings
from hotpapers.pipeline import build_post
from hotpapers.render.lumen import file_name, render_lumen
from hotpapers.render.write import write_atomic
from hotpapers.snapshot import import_records, read_snapshot
from hotpapers.store.db import connect

__all__ = ["DEMO_DAY", "DemoResult", "demo_snapshot", "run_demo"]

DEMO_DAY = date(2021, 1, 18)


@dataclass
class DemoResult:
    database: Path
    post: Path
    papers: int
    tweets: int


def demo_snapshot() -> Path:
    return Path(str(resources.files("hotpapers") / "data" / "demo" / f"{DEMO_DAY}.jsonl"))


def run_demo(out: Path, settings: Settings, now: datetime, step=lambda _: None) -> DemoResult:
    """Load the bundled day into a fresh database in `out`, rank it, write its post."""
    out.mkdir(parents=True, exist_ok=True)
    database = out / "hotpapers.sqlite3"
    for stale in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        stale.unlink(missing_ok=True)
    engine = connect(f"sqlite:///{database}")
    step("database created")
    with engine.begin() as conn:
        import_records(conn, read_snapshot(demo_snapshot()), now)
    step("bundled day loaded")
    with engine.begin() as conn:
        post = build_post(conn, DEMO_DAY, settings, now, keep=True)
    step("day ranked (classic, from the published totals)")
    path = write_atomic(out / "posts" / file_name(post, settings.post_filename),
                        render_lumen(post))
    step("post written")
    engine.dispose()
    return DemoResult(database=database, post=path, papers=len(post.entries),
                      tweets=sum(len(e.shown) for e in post.entries))
