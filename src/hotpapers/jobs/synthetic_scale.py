"""Synthetic stores at scale: weeks of announcement days and up to millions of mentions,
written through the real ingest code (the papers' bulk save, the listings, `save_mention`)
in large transactions, for the `rank_scale` benchmark (benchmarks/rank_scale.py) and for
looking at the rankings on a store the size of a busy month.

`python -m hotpapers.jobs.synthetic --days 30 --mentions N [--seed S] [--db URL]` dispatches
here. Unlike the one-day generator (`synthetic.py`, snapshot records), this one writes a
database directly, as `fetch papers`, `fetch mentions` and their refreshes would. Everything
is labelled synthetic: titles begin with "[synthetic]", abstracts say they were generated,
post texts begin with "[synthetic]" and every account handle with "synthetic-". One
`random.Random` seeded by (seed, days, mentions, end day) drives it all and the stored
times derive from the generated ones, so the same options give the same store contents.

The model, and why:

* Days. `days` announcement days (weekdays) ending with `end_day`, each with 500-700 new
  papers (the one-day generator's papers: categories weighted towards machine learning,
  cross-lists, templated titles), renumbered so that ids stay unique across the month.
* Skew over papers. Three papers in ten (more in machine learning, by the topic factor)
  are "discussed", with a log-normal appeal (sigma 1.8) times the topic factor; the others
  are quiet. A quarter of the mentions (at most one per quiet paper) fall uniformly on the
  quiet papers; the rest are drawn over the discussed ones by appeal. So most papers get
  0-3 mentions whatever N is, and at N = 1,000,000 about 170 papers get a thousand or
  more, the top one tens of thousands.
* Accounts. Each source has its own population (about one account per five of its
  mentions), drawn with Zipf activity (weight 1 / (rank + 3)): a few accounts post about
  thousands of papers, most once. Reach is log-normal; X and Bluesky accounts carry
  creation dates, 3 % of them made in the month before.
* Bots. 2 % of the mentions come in bursts: 10-80 posts about one paper of a day within
  45 minutes, on X or Bluesky, from a handful of accounts created 1-10 days before, each
  post with hundreds to thousands of reposts and 0-3 likes.
* Sources. X 45 %, Bluesky 27 %, Mastodon 10 %, Reddit 6 %, Hacker News 4 %, Hugging Face
  8 % (machine-learning papers only, one upvote page per paper; otherwise X, or Reddit for
  a second page). Posts (5 % quotes and 5 % replies on X), stories, upvote pages.
* Time and counts. A mention comes a log-normal delay (median 8 hours) after its paper's
  announcement, at most ten days; it is observed 1-3 times, the first crawl 0.5-12 hours
  after it and each next one 6-30 hours later, its counts growing as
  final x (1 - exp(-hours / tau)). Each observation is written when it is made, in time
  order within a day's papers: a mention's first crawl stores it (`save_mention` with that
  observation), each later crawl stores it again with the new one, as the refresh of
  `fetch mentions` does. A day's papers and listing are written before its mentions.
"""

from __future__ import annotations

import argparse
import inspect
import json
import random
import sys
import time as clock
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from sqlalchemy import Engine

from hotpapers.jobs.synthetic_scale_model import (
    SHARES,
    MentionMaker,
    announced_at,
    announcement_days,
    bot_bursts,
    make_day_papers,
    mention_counts,
)
from hotpapers.models import Mention, Paper
from hotpapers.store.bulk import save_papers_bulk
from hotpapers.store.db import connect
from hotpapers.store.listings import load_listing, save_listing
from hotpapers.store.mentions import save_mention

try:
    from hotpapers.store.counting import count_mentions
except ImportError:  # a tree from before the kept totals: rank_scale's ingest baseline runs
    count_mentions = None  # these files against it, where a write counts nothing

# The baseline's save_mention has no `count` (it counted nothing); ours counts per batch.
_DEFER_COUNT = {"count": False} if "count" in inspect.signature(save_mention).parameters else {}

__all__ = ["BATCH", "END_DAY", "SHARES", "ScaleStats", "announcement_days", "generate_store",
           "main"]

GENERATOR = "hotpapers.synthetic_scale"
END_DAY = date(2026, 2, 27)  # a Friday
BATCH = 5000  # writes (a mention stored or stored again) per transaction


@dataclass
class ScaleStats:
    """What a generation wrote and how long it took (seconds: `papers_s` and `mentions_s`
    in the write transactions, commits included; `total_s` with the generating;
    `mentions_cpu_s`: this process's CPU time in the mention transactions, which other
    processes on a loaded machine disturb far less than wall time)."""

    days: list[date] = field(default_factory=list)
    papers: int = 0
    mentions: int = 0
    writes: int = 0
    observations: int = 0
    as_of: datetime | None = None
    papers_s: float = 0.0
    mentions_s: float = 0.0
    mentions_cpu_s: float = 0.0
    total_s: float = 0.0

    def to_json(self) -> dict:
        return {"generator": GENERATOR, "first_day": self.days[0].isoformat(),
                "last_day": self.days[-1].isoformat(), "days": len(self.days),
                "papers": self.papers, "mentions": self.mentions, "writes": self.writes,
                "observations": self.observations,
                "as_of": self.as_of.isoformat() if self.as_of else None,
                "papers_s": self.papers_s, "mentions_s": self.mentions_s,
                "total_s": self.total_s,
                "mention_us": 1e6 * self.mentions_s / self.mentions if self.mentions else 0.0,
                "mention_cpu_us": (1e6 * self.mentions_cpu_s / self.mentions
                                   if self.mentions else 0.0)}



def generate_store(engine: Engine, mentions: int, days: int = 30, seed: int = 1,
                   end_day: date = END_DAY, batch: int = BATCH,
                   progress: Callable[[str], None] | None = None) -> ScaleStats:
    """Write `days` announcement days and `mentions` mentions into the store (see the
    module docstring); ValueError when it already holds one of those days' listings."""
    if mentions < 0 or days < 1 or batch < 1:
        raise ValueError("--mentions must be >= 0, --days and --batch >= 1")
    started = clock.perf_counter()
    rng = random.Random(f"hotpapers-synthetic-scale:{seed}:{days}:{mentions}:{end_day}")
    dates = announcement_days(end_day, days)
    with engine.connect() as conn:
        taken = [d for d in (dates[0], dates[-1]) if load_listing(conn, d)]
    if taken:
        raise ValueError(f"the store already has a listing for {taken[0]}: "
                         "generate into a new database")
    by_day, light = make_day_papers(rng, dates)
    bursts = bot_bursts(rng, light, days, mentions)
    counts = mention_counts(rng, light, mentions - sum(size for day in bursts for _, size in day))
    maker = MentionMaker(rng, seed, mentions, dates[0])
    stats, first, bots = ScaleStats(days=dates), 0, 0
    for index, day in enumerate(dates):
        papers, announced = by_day[index], announced_at(day)
        _writemake_day_papers(engine, day, papers, announced, stats)
        made = [maker.organic(light[i], announced)
                for i in range(first, first + len(papers)) for _ in range(counts[i])]
        for target, size in bursts[index]:
            bots += 1
            made += maker.burst(bots, size, light[target], announced)
        first += len(papers)
        _write_mentions(engine, made, batch, stats)
        if progress is not None:
            progress(f"{day}: {len(papers)} papers, {len(made)} mentions "
                     f"({stats.mentions} so far, {clock.perf_counter() - started:.0f} s)")
    stats.total_s = clock.perf_counter() - started
    return stats


def _writemake_day_papers(engine: Engine, day: date, papers: list[Paper], announced: datetime,
                  stats: ScaleStats) -> None:
    """A day's papers and listing in one transaction, as a fetch of the day stores them."""
    started = clock.perf_counter()
    with engine.begin() as conn:
        save_papers_bulk(conn, papers, announced)
        save_listing(conn, day, [(p.id, "new") for p in papers])
    stats.papers += len(papers)
    stats.papers_s += clock.perf_counter() - started


def _write_mentions(engine: Engine, made: list[Mention], batch: int, stats: ScaleStats
                    ) -> None:
    """Each observation stored with its mention when it is made (time order), `batch`
    writes a transaction."""
    crawls = sorted(((o.observed_at, n, i) for n, m in enumerate(made)
                     for i, o in enumerate(m.observations)))
    started, cpu = clock.perf_counter(), clock.process_time()
    for chunk in range(0, len(crawls), batch):
        with engine.begin() as conn:
            written = [save_mention(conn, replace(made[n], observations=[made[n].observations[i]]),
                                    at, **_DEFER_COUNT)
                       for at, n, i in crawls[chunk:chunk + batch]]
            if count_mentions is not None:
                count_mentions(conn, written)  # as the fetch stage does: once per batch
    stats.mentions_s += clock.perf_counter() - started
    stats.mentions_cpu_s += clock.process_time() - cpu
    stats.mentions += len(made)
    stats.writes += len(crawls)
    stats.observations += len(crawls)
    if crawls:
        last = crawls[-1][0]
        stats.as_of = last if stats.as_of is None else max(stats.as_of, last)


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: write a synthetic store of many days and mentions."""
    parser = argparse.ArgumentParser(
        prog="python -m hotpapers.jobs.synthetic",
        description="Write a synthetic store: --days announcement days, --mentions mentions, "
                    "through the real ingest code (see hotpapers.jobs.synthetic_scale).")
    parser.add_argument("--days", type=int, default=30, help="announcement days (default 30)")
    parser.add_argument("--mentions", type=int, required=True, help="mentions in all")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", default="sqlite:///hotpapers-scale.sqlite3",
                        help="database URL, a new one (default: ./hotpapers-scale.sqlite3)")
    parser.add_argument("--end-day", type=date.fromisoformat, default=END_DAY,
                        help=f"the last announcement day (default {END_DAY})")
    parser.add_argument("--batch", type=int, default=BATCH,
                        help=f"writes per transaction (default {BATCH})")
    parser.add_argument("--json", action="store_true", help="end with the figures as JSON")
    parser.add_argument("--quiet", action="store_true", help="no line per day on stderr")
    args = parser.parse_args(argv)
    engine = connect(args.db)
    say = None if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    try:
        stats = generate_store(engine, args.mentions, args.days, args.seed, args.end_day,
                               args.batch, say)
    except ValueError as exc:
        parser.error(str(exc))
    finally:
        engine.dispose()
    print(f"Done: {stats.papers} papers over {len(stats.days)} days ({stats.days[0]} to "
          f"{stats.days[-1]}), {stats.mentions} mentions ({stats.writes} writes) in "
          f"{stats.total_s:.1f} s (mentions {stats.mentions_s:.1f} s, "
          f"{stats.to_json()['mention_us']:.0f} us a mention; papers {stats.papers_s:.1f} s); "
          f"as of {stats.as_of}")
    if args.json:
        print(json.dumps(stats.to_json()))


if __name__ == "__main__":
    main()
