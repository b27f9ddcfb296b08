"""Evaluate the hot ranking and print a table: each figure beside its goal, met or NOT met.

Not a test and not run in CI. The data: synthetic days from `hotpapers.jobs.synthetic` (one per
seed; see that module for the model) and, when ../shared/corpus/legacy-posts exists, the
real posts imported with `hotpapers.jobs.legacy.import_legacy` into a temporary SQLite file.

    python benchmarks/ranking_eval.py                       # 10 seeds, 100,000 mentions
    python benchmarks/ranking_eval.py --mentions 1000000    # the issue's size: ~400 MB
                                                            # of temporary SQLite, minutes

The figures:

a. Bot attack. Per seed, a paper drawn (by the seed) from the lower half of the clean
   day's hot ranking or from its papers without attention gets one X post with 10,000
   reposts and 0-3 likes from an account created days before. Its rank under classic
   (X only, the original rule) and under hot; goal: outside hot's top 10 on every seed.
b. Source outage. Per seed and source, the hot top 30 with every source against the hot
   top 30 without that source (top 30 by score, no score floor). The two lists are compared
   by Kendall's tau-b over the union of their papers, a paper absent from a list being
   placed at rank 31 there (all absent papers tied at the bottom). Goal: >= 0.7 (the
   figure is the mean over seeds; the minimum is printed beside it).
c. Agreement. On clean single-source days (X only, no bots, no inflated reposts), the
   Spearman correlation (average ranks for ties) between hot and classic scores over all
   the listed papers (0 for a paper with no attention); goal >= 0.8. The same on each
   imported real day over the post's papers: there hot sees the published per-paper totals
   as one pseudo-account per paper (source `legacy`) plus the tweets the post showed as X
   accounts without counts (people, no engagement); classic is the published score.
d. Cost. A day with --mentions mentions (2 observations each) written into a SQLite file
   with executemany: seconds for rank_papers(method=hot) beside the seconds to merely read
   the mentions and their latest observations into Python tuples. Goal < 1 s.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from hotpapers.config import Settings
from hotpapers.jobs.ranking import Method, Window, rank_papers, rules_from
from hotpapers.jobs.snapshot import import_records
from hotpapers.jobs.synthetic import SOURCES, generate_day
from hotpapers.rank.hot import rank_hot, source_sums
from hotpapers.store.attention import account_attention, window_paper_ids
from hotpapers.store.db import connect

DAY = date(2026, 1, 5)
TOP = 30
ROOT = Path(__file__).resolve().parents[1]


# ---- statistics ------------------------------------------------------------------------

def kendall_tau_b(x: Sequence[float], y: Sequence[float]) -> float:
    """Kendall's tau-b of two paired sequences (ties allowed); 1.0 when either is constant
    on every pair that the other separates."""
    concordant = discordant = ties_x = ties_y = 0
    n = len(x)
    for i in range(n):
        for j in range(i + 1, n):
            dx, dy = x[i] - x[j], y[i] - y[j]
            if dx == 0 and dy == 0:
                continue
            if dx == 0:
                ties_x += 1
            elif dy == 0:
                ties_y += 1
            elif (dx > 0) == (dy > 0):
                concordant += 1
            else:
                discordant += 1
    denominator = math.sqrt((concordant + discordant + ties_x) * (concordant + discordant + ties_y))
    return (concordant - discordant) / denominator if denominator else 1.0


def average_ranks(values: Sequence[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rho: Pearson's correlation of the average ranks."""
    rx, ry = average_ranks(x), average_ranks(y)
    mx, my = statistics.fmean(rx), statistics.fmean(ry)
    sxy = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    sxx, syy = sum((a - mx) ** 2 for a in rx), sum((b - my) ** 2 for b in ry)
    return sxy / math.sqrt(sxx * syy) if sxx and syy else 1.0


def top_tau(full: Sequence[str], reduced: Sequence[str], k: int = TOP) -> float:
    """Kendall's tau-b of two top-k lists over the union of their papers, absent papers
    placed at rank k + 1 (tied at the bottom)."""
    a, b = list(full[:k]), list(reduced[:k])
    union = list(dict.fromkeys(a + b))
    place_a = {p: i for i, p in enumerate(a, 1)}
    place_b = {p: i for i, p in enumerate(b, 1)}
    return kendall_tau_b([place_a.get(p, k + 1) for p in union],
                         [place_b.get(p, k + 1) for p in union])


# ---- synthetic days ----------------------------------------------------------------------

class Day:
    """A generated day loaded into its own SQLite file."""

    def __init__(self, folder: Path, name: str, records: list[dict]):
        self.engine = connect(f"sqlite:///{folder / name}.sqlite3")
        with self.engine.begin() as conn:
            import_records(conn, records[1:], datetime.now(UTC))
        self.as_of = datetime.fromisoformat(records[0]["observed_until"])

    def ranking(self, method: Method, settings: Settings) -> list:
        with self.engine.connect() as conn:
            return rank_papers(conn, DAY, method, Window.day, settings, self.as_of,
                               limits=False).rows

    def attention(self, settings: Settings) -> tuple[list[str], list]:
        with self.engine.connect() as conn:
            return (window_paper_ids(conn, DAY, DAY),
                    account_attention(conn, DAY, DAY, self.as_of, settings.hot_repost_ratio))


def place(rows: list, paper_id: str) -> int | None:
    return next((i for i, r in enumerate(rows, 1) if r.paper_id == paper_id), None)


def bot_attack(folder: Path, seed: int, papers: int, settings: Settings) -> tuple:
    clean = generate_day(DAY, seed, papers)
    before = Day(folder, f"clean-{seed}", clean).ranking(Method.hot, settings)
    listed = [p["id"] for p in clean if p["type"] == "paper"]
    ranked = [r.paper_id for r in before]
    lower = ranked[len(ranked) // 2:] + [p for p in listed if p not in ranked]
    target = random.Random(f"target:{seed}").choice(lower)
    attacked = Day(folder, f"attack-{seed}", generate_day(DAY, seed, papers, bot_attack=target))
    classic = attacked.ranking(Method.classic, settings)
    hot = attacked.ranking(Method.hot, settings)
    return place(before, target), place(classic, target), place(hot, target), len(listed)


def outage(folder: Path, seed: int, papers: int, settings: Settings) -> dict[str, float]:
    ids, attention = Day(folder, f"clean-{seed}", generate_day(DAY, seed, papers)) \
        .attention(settings)
    rules = rules_from(settings)
    full = [r.paper_id for r in rank_hot(ids, source_sums(attention, rules), rules)[:TOP]]
    return {source: top_tau(full, [r.paper_id for r in rank_hot(
        ids, source_sums([a for a in attention if a.source != source], rules), rules)[:TOP]])
        for source in SOURCES}


def agreement(folder: Path, seed: int, papers: int, settings: Settings) -> tuple[float, float]:
    records = generate_day(DAY, seed, papers, sources=("x",), inflation=False)
    day = Day(folder, f"x-only-{seed}", records)
    everyone = settings.model_copy(update={"classic_paper_threshold": 0})
    hot = {r.paper_id: r.score for r in day.ranking(Method.hot, settings)}
    classic = {r.paper_id: r.score for r in day.ranking(Method.classic, everyone)}
    listed = [p["id"] for p in records if p["type"] == "paper"]
    talked = [p for p in listed if classic.get(p, 0) > 0 or p in hot]
    return (spearman([hot.get(p, 0.0) for p in listed], [classic.get(p, 0) for p in listed]),
            spearman([hot.get(p, 0.0) for p in talked], [classic.get(p, 0) for p in talked]))


def real_days(folder: Path, corpus: Path, settings: Settings) -> list[tuple[date, int, float]]:
    from hotpapers.jobs.legacy import import_legacy

    engine = connect(f"sqlite:///{folder / 'legacy.sqlite3'}")
    now = datetime.now(UTC)
    results = import_legacy(engine, [corpus], now)
    found = []
    with engine.connect() as conn:
        for day in sorted({r.day for r in results if r.error is None}):
            classic = rank_papers(conn, day, Method.classic, Window.day, settings, now).rows
            if len(classic) < 3:  # a post of fewer than 3 papers orders too little to compare
                continue
            hot = {r.paper_id: r.score for r in rank_papers(
                conn, day, Method.hot, Window.day, settings, now, limits=False).rows}
            found.append((day, len(classic), spearman(
                [r.score for r in classic], [hot.get(r.paper_id, 0.0) for r in classic])))
    return found


# ---- cost --------------------------------------------------------------------------------

def _stamp(moment: datetime) -> str:
    """A time as SQLAlchemy stores a UTC DateTime in SQLite."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def bulk_day(path: Path, mentions: int, papers: int = 1000, seed: int = 1) -> datetime:
    """A day with `mentions` mentions of `papers` papers (Zipf-like over papers and accounts,
    six sources, 2 observations each), inserted with executemany; returns the as-of."""
    engine = connect(f"sqlite:///{path}")
    rng = random.Random(seed)
    announced = datetime(2026, 1, 5, 1, tzinfo=UTC)
    ids = [f"2601.{10000 + i:05d}" for i in range(papers)]
    raw = engine.raw_connection()
    cur = raw.cursor()
    now = _stamp(datetime.now(UTC))
    cur.executemany("INSERT INTO papers (id, title, abstract, announced_on, withdrawn, "
                    "stored_at, pdf_url) VALUES (?, ?, '', ?, 0, ?, ?)",
                    [(p, f"[synthetic] bulk paper {p}", DAY.isoformat(), now, "x")
                     for p in ids])
    cur.executemany("INSERT INTO listings (day, paper_id, position, announce_type) "
                    "VALUES (?, ?, ?, 'new')", [(DAY.isoformat(), p, i)
                                                for i, p in enumerate(ids)])
    shares = {"x": 0.5, "bluesky": 0.3, "mastodon": 0.1, "hn": 0.03, "reddit": 0.03, "hf": 0.04}
    accounts, first = {}, 1
    for source, share in shares.items():
        size = max(100, int(mentions * share / 4))
        accounts[source] = (first, size)
        born = announced - timedelta(days=400)
        cur.executemany("INSERT INTO accounts (id, source, native_id, handle, created_at) "
                        "VALUES (?, ?, ?, ?, ?)",
                        [(first + i, source, f"{source}:{i}", f"synthetic_user_{i}",
                          _stamp(born + timedelta(hours=i % 9000))) for i in range(size)])
        first += size
    paper_weights = list(_cumulative([1 / (i + 3) for i in range(papers)]))
    sources = rng.choices(list(shares), list(shares.values()), k=mentions)
    on_paper = rng.choices(ids, cum_weights=paper_weights, k=mentions)
    crawl = (announced + timedelta(hours=20), announced + timedelta(hours=44))
    rows, links, seen = [], [], []
    for m, (source, paper) in enumerate(zip(sources, on_paper, strict=True), start=1):
        start, size = accounts[source]
        account = start + min(size - 1, int(rng.paretovariate(1.2)) - 1 + rng.randrange(size)
                              // 4)
        at = announced + timedelta(minutes=rng.uniform(0, 1100))
        rows.append((m, source, str(m), account, _stamp(at), now))
        links.append((m, paper))
        likes = int(rng.lognormvariate(1.0, 1.5))
        seen.append((m, _stamp(crawl[0]), likes // 2, likes // 8, 0, 0, 0))
        seen.append((m, _stamp(crawl[1]), likes, likes // 4, likes // 30, likes // 20, 0))
    cur.executemany("INSERT INTO mentions (id, source, native_id, account_id, created_at, "
                    "kind, first_seen_at) VALUES (?, ?, ?, ?, ?, 'post', ?)", rows)
    cur.executemany("INSERT INTO mention_papers (mention_id, paper_id) VALUES (?, ?)", links)
    cur.executemany("INSERT INTO observations (mention_id, observed_at, likes, reposts, "
                    "quotes, replies, points, via) VALUES (?, ?, ?, ?, ?, ?, ?, 'api')", seen)
    raw.commit()
    cur.execute("ANALYZE")
    raw.close()
    engine.dispose()
    return crawl[1] + timedelta(hours=1)


def _cumulative(weights):
    total = 0.0
    for w in weights:
        total += w
        yield total


READ = """
SELECT mp.paper_id, m.source, m.account_id, o.likes, o.reposts, o.quotes, o.replies, o.points
FROM mention_papers mp JOIN mentions m ON m.id = mp.mention_id
JOIN observations o ON o.mention_id = m.id
WHERE o.observed_at = (SELECT max(observed_at) FROM observations
                       WHERE mention_id = m.id AND observed_at <= ?)
"""


def cost(path: Path, as_of: datetime, settings: Settings, repeat: int = 3) -> dict:
    """Best of `repeat` seconds: the plain read, the SQL aggregation alone, and the whole
    rank_papers(method=hot)."""
    engine = connect(f"sqlite:///{path}")
    times: dict[str, list[float]] = {"read": [], "aggregate": [], "rank": []}
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        for _ in range(repeat):
            started = time.perf_counter()
            rows = raw.execute(READ, (_stamp(as_of),)).fetchall()
            times["read"].append(time.perf_counter() - started)
            started = time.perf_counter()
            groups = account_attention(conn, DAY, DAY, as_of, settings.hot_repost_ratio)
            times["aggregate"].append(time.perf_counter() - started)
            started = time.perf_counter()
            ranked = rank_papers(conn, DAY, Method.hot, Window.day, settings, as_of)
            times["rank"].append(time.perf_counter() - started)
    engine.dispose()
    return {"mentions": len(rows), "groups": len(groups), "listed": len(ranked.rows),
            **{k: min(v) for k, v in times.items()}}


# ---- the table -----------------------------------------------------------------------------

def line(figure: str, value: str, goal: str = "", met: bool | None = None) -> None:
    verdict = "" if met is None else ("met" if met else "NOT met")
    print(f"{figure:<58} {value:>28}  {goal:<8} {verdict}".rstrip())


def ranks(values: Sequence[int | None]) -> str:
    return ",".join("-" if v is None else str(v) for v in values)


def report_attacks(attacks: list[tuple]) -> None:
    line("a. bot attack: attacked paper's clean hot rank, per seed",
         ranks([a[0] for a in attacks]))
    line("a.   its rank under classic (X only), per seed", ranks([a[1] for a in attacks]))
    line("a.   its rank under hot, per seed", ranks([a[2] for a in attacks]))
    best = min(h or 10**6 for _, _, h, _ in attacks)
    line("a.   its best rank under hot over the seeds", str(best), "> 10", best > 10)


def report_outages(taus: list[dict[str, float]]) -> None:
    for source in SOURCES:
        values = [t[source] for t in taus]
        mean = statistics.fmean(values)
        line(f"b. outage of {source}: Kendall tau of top-{TOP} (mean; min)",
             f"{mean:.3f}; {min(values):.3f}", ">= 0.7", mean >= 0.7)


def report_agreement(agree: list[tuple[float, float]], corpus: Path, folder: Path,
                     settings: Settings) -> None:
    rho = statistics.fmean(a for a, _ in agree)
    line("c. agreement, X only: Spearman hot/classic (mean; min)",
         f"{rho:.3f}; {min(a for a, _ in agree):.3f}", ">= 0.8", rho >= 0.8)
    line("c.   same over the papers with any attention (mean)",
         f"{statistics.fmean(b for _, b in agree):.3f}")
    if not corpus.exists():
        line("c. real days: skipped", f"{corpus} absent")
        return
    real = real_days(folder, corpus, settings)
    values = [r for _, _, r in real]
    median = statistics.median(values)
    line(f"c. real days ({len(real)} of >= 3 papers): Spearman (median; min)",
         f"{median:.3f}; {min(values):.3f}", ">= 0.8", median >= 0.8)
    below = sorted((r, d, n) for d, n, r in real if r < 0.8)
    line("c.   real days under 0.8", f"{len(below)} of {len(real)}")
    for r, d, n in below[:5]:
        print(f"       {d}: {n} papers, {r:.2f}")


def report_cost(folder: Path, mentions: int, settings: Settings) -> None:
    path = folder / "bulk.sqlite3"
    started = time.perf_counter()
    as_of = bulk_day(path, mentions)
    built = time.perf_counter() - started
    found = cost(path, as_of, settings)
    line(f"d. cost: {found['mentions']:,} mentions, {path.stat().st_size >> 20} MB SQLite "
         f"(built in {built:.0f} s)", "")
    line("d.   read mentions + latest counts into tuples (s)", f"{found['read']:.2f}")
    line(f"d.   SQL aggregation: {found['groups']:,} account rows (s)",
         f"{found['aggregate']:.2f}")
    line(f"d.   rank_papers(method=hot), {found['listed']} listed (s)", f"{found['rank']:.2f}",
         "< 1 s", found["rank"] < 1)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=10, help="synthetic days (default 10)")
    parser.add_argument("--papers", type=int, default=120, help="papers per synthetic day")
    parser.add_argument("--mentions", type=int, default=100_000, help="mentions of the cost day")
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus"
                        / "legacy-posts", help="real posts to import (skipped when absent)")
    parser.add_argument("--skip-cost", action="store_true", help="leave out figure d")
    args = parser.parse_args(argv)
    settings = Settings()
    seeds = range(1, args.seeds + 1)
    with tempfile.TemporaryDirectory(prefix="hp-eval-") as tmp:
        folder = Path(tmp)
        print(f"hot ranking evaluation: {args.seeds} synthetic days of {args.papers} papers "
              f"(seeds 1-{args.seeds}, day {DAY})")
        line("figure", "value", "goal", None)
        report_attacks([bot_attack(folder, s, args.papers, settings) for s in seeds])
        report_outages([outage(folder, s, args.papers, settings) for s in seeds])
        report_agreement([agreement(folder, s, args.papers, settings) for s in seeds],
                         args.corpus, folder, settings)
        if not args.skip_cost:
            report_cost(folder, args.mentions, settings)


if __name__ == "__main__":
    sys.exit(main())
