"""`hotpapers demo`: the whole job, offline, on the bundled day (2021-01-18), then the
hot and trending rankings and an explanation on the bundled synthetic day (2026-01-05),
a generated multi-source day (see hotpapers.jobs.synthetic) clearly labelled synthetic."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from pathlib import Path

from hotpapers.config import Settings
from hotpapers.jobs.build_site import build_site
from hotpapers.jobs.post import render_post, write_post
from hotpapers.jobs.ranking import (
    Explanation,
    Method,
    Ranked,
    Window,
    explain_paper,
    rank_papers,
)
from hotpapers.jobs.snapshot import import_records, read_snapshot
from hotpapers.render.write import write_atomic
from hotpapers.store.db import connect
from hotpapers.store.raw import open_raw

__all__ = ["DEMO_DAY", "DEMO_STEPS", "SYNTHETIC_DAY", "DemoResult", "SyntheticShow",
           "demo_snapshot", "run_demo", "synthetic_snapshot"]

DEMO_DAY = date(2021, 1, 18)
SYNTHETIC_DAY = date(2026, 1, 5)  # hotpapers.jobs.synthetic --day 2026-01-05 --seed 7 --papers 45
DEMO_STEPS = 7
SHOWN = 5


@dataclass
class SyntheticShow:
    """What the demo shows of the synthetic day: its header, top hot and trending papers
    as of the day's last observation, and the explanation of the hot #1."""

    header: dict
    hot: Ranked
    trending: Ranked
    explanation: Explanation | None

    def lines(self, explained: Callable[[Explanation], list[str]]) -> list[str]:
        """The demo's text: the top papers of each ranking and, through `explained` (which
        renders an explanation as `hotpapers explain` does), the hot #1; each heading says
        synthetic."""
        day, as_of = self.hot.day, self.hot.as_of
        lines = [f"Synthetic day {day} (generated data: no real papers, people or posts; "
                 f"seed {self.header['generator']['seed']}), as of "
                 f"{as_of:%Y-%m-%d %H:%M %Z}:"]
        for ranked in (self.hot, self.trending):
            lines.append(f"  synthetic {ranked.method.value}, top {len(ranked.rows)}:")
            for i, row in enumerate(ranked.rows, start=1):
                parts = row.parts  # HotParts: hot and trending rows
                lines.append(f"  {i:>3}. {row.paper_id}  {row.score:<11.6g} "
                             f"{parts.people:>3} people on {', '.join(parts.sources)}: "
                             f"{ranked.papers[row.paper_id].title}")
        if self.explanation is not None:
            lines.append("  synthetic hot #1, explained:")
            lines += [f"    {line}" for text in explained(self.explanation)
                      for line in text.splitlines()]
        return lines


@dataclass
class DemoResult:
    database: Path
    post: Path
    papers: int
    tweets: int
    synthetic: SyntheticShow | None = None
    site: Path | None = None  # the built site's index.html


def _bundled(name: str) -> Path:
    return Path(str(resources.files("hotpapers") / "data" / "demo" / name))


def demo_snapshot() -> Path:
    return _bundled(f"{DEMO_DAY}.jsonl")


def synthetic_snapshot() -> Path:
    return _bundled(f"synthetic-{SYNTHETIC_DAY}.jsonl")


def _show_synthetic(engine, settings: Settings) -> SyntheticShow:
    """Rank the synthetic day (already loaded) by hot and trending, as of its last
    observation, so the output does not depend on the clock, and explain the hot #1."""
    with synthetic_snapshot().open(encoding="utf-8") as handle:
        header = json.loads(handle.readline())
    as_of = datetime.fromisoformat(header["observed_until"])
    with engine.connect() as conn:
        hot = rank_papers(conn, SYNTHETIC_DAY, Method.hot, Window.day, settings, as_of)
        trending = rank_papers(conn, SYNTHETIC_DAY, Method.trending, Window.day, settings,
                               as_of)
        hot.rows, trending.rows = hot.rows[:SHOWN], trending.rows[:SHOWN]
        explanation = (explain_paper(conn, hot.rows[0].paper_id, SYNTHETIC_DAY, Method.hot,
                                     Window.day, settings, as_of) if hot.rows else None)
    return SyntheticShow(header, hot, trending, explanation)


def run_demo(out: Path, settings: Settings, now: datetime, step=lambda _: None) -> DemoResult:
    """Load the bundled day into a fresh database in `out`, rank it, write its post, build
    the site into `out/site`; then load the synthetic day into the same database and rank
    it by hot and trending."""
    out.mkdir(parents=True, exist_ok=True)
    database = out / "hotpapers.sqlite3"
    for stale in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        stale.unlink(missing_ok=True)
    engine = connect(f"sqlite:///{database}")
    step("database created")
    with engine.begin() as conn:
        import_records(conn, read_snapshot(demo_snapshot()), now)
    step("bundled day loaded")
    post = write_post(engine, DEMO_DAY, settings, now, keep=True)
    step("day ranked (classic, from the published totals)")
    rendered = render_post(post, "lumen", settings)
    path = write_atomic(out / "posts" / rendered.name, rendered.text)
    step("post written")

    with open_raw(f"sqlite:///{database.resolve()}") as store:
        build_site(store, out / "site", site_url=settings.site_url)
    step("site built")
    with engine.begin() as conn:
        import_records(conn, read_snapshot(synthetic_snapshot()), now,
                       origin=str(synthetic_snapshot()))
    step("synthetic day loaded")
    synthetic = _show_synthetic(engine, settings)
    step("synthetic day ranked (hot, trending)")
    engine.dispose()
    return DemoResult(database=database, post=path, papers=len(post.entries),
                      tweets=sum(len(e.shown) for e in post.entries), synthetic=synthetic,
                      site=out / "site" / "index.html")
