"""Rankings at scale: time `rank_papers` on a synthetic store of N mentions, measure peak
memory, and the ingest cost per mention with the attention aggregates against without.

Not a test and not run in CI.

    python benchmarks/rank_scale.py --mentions 100000            # ~10 minutes, 2 cores
    python benchmarks/rank_scale.py --mentions 1000000 --repeat 5
    python benchmarks/rank_scale.py --mentions 100000 --db postgresql://localhost/bench
    python benchmarks/rank_scale.py --skip-rankings --ingest-repeat 5   # ingest alone

1. The store: `python -m hotpapers.jobs.synthetic --days D --mentions N --seed S` (the scale
   generator, `hotpapers.jobs.synthetic_scale`: D announcement days of 500-700 papers,
   skewed attention, bots, six sources, written through the real ingest code), run in a
   subprocess into a SQLite file under --cache (default /tmp/hotpapers-bench) keyed by N,
   seed, days and DATA_REVISION, and reused when it is complete (a `.json` beside it
   holds the generator's figures); opening it migrates it to this tree's schema.
   `--store PATH` (SQLite) or `--db URL` use that database: built when it has no listing
   yet, used as it is otherwise.
2. Rankings: `rank_papers` for the store's last announcement day, as of its last
   observation, windows day, week and month, methods hot and trending, each by the default
   path and by `exact=True` (the reference over observations), in one process on one
   connection, --repeat times each; medians. When `rank_papers` has no `exact` parameter
   (before the per-(paper, source) aggregates), both are today's path. The listed rows of
   the two paths are compared (ids and scores to 1e-9).
3. Memory: the peak RSS of this process (resource.getrusage) after one default-path
   ranking of each method and window, before the exact path runs (reported as peak_mib);
   the peak with the exact path too is printed above it. The generator reports its own
   when it builds the store.
4. Ingest overhead: the same small generation (--ingest-mentions over --ingest-days,
   default 20,000 over 5) run by this tree's code in three variants, each in a subprocess:
   `ours-on`, the aggregates kept as in production; `ours-off`, the same code on a store
   whose aggregates are not built (the driver removes their state row before generating:
   each write then only bumps the change stamps of the papers it names, as
   store/counting.py does until `store rebuild-aggregates`); `ours-none`, nothing counted
   (the generator's call to `count_mentions` dropped: no stamps either). With --parent REV
   also REV's code (`git worktree add` into a temporary folder, that tree on PYTHONPATH;
   the generator's two files come from this tree, so only the code they call differs).
   Microseconds of the generator's CPU time (SQLite runs in it) in the mention-writing
   transactions per mention, which other processes disturb far less than wall time (also
   printed), best of --ingest-repeat runs, the variants interleaved (their order reversed
   every other run). The overhead is ours-on / ours-off (with aggregates vs without; 1.0:
   none); ours-on / ours-none is printed beside it. `--skip-rankings` runs this comparison alone.

The figures come last, on one line:
`rank_scale mentions=N day_s=... week_s=... month_s=... ingest_overhead=... peak_mib=...`
(day_s, week_s, month_s: the hot ranking by the default path, medians in seconds).
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from hotpapers.config import Settings
from hotpapers.jobs.ranking import Method, Window, rank_papers
from hotpapers.store.db import connect
from hotpapers.store.schema import listings, mentions, observations

ROOT = Path(__file__).resolve().parents[1]
GENERATOR_FILES = ("synthetic_scale_model", "synthetic_scale")  # loaded in this order
HAS_EXACT = "exact" in inspect.signature(rank_papers).parameters
WINDOWS = (Window.day, Window.week, Window.month)
# The schema revision whose tables the generator last wrote differently: a store cached
# under it is reused (and migrated on opening) until a migration changes what is written.
DATA_REVISION = "0005"

# Runs the generator's files from this tree against the `hotpapers` on PYTHONPATH. Mode
# "off" (only ever given with this tree): the store is created first and its aggregates'
# state row removed, so every write counts nothing and only bumps the change stamps of the
# papers it names, as on a store whose totals are not built (store/counting.py); mode
# "none": `count_mentions` is not called at all (neither totals nor stamps).
DRIVER = """
import importlib.util, json, sys
folder, mode, args = sys.argv[1], sys.argv[2], sys.argv[3:]
if mode == "off":
    from hotpapers.store.db import connect
    from hotpapers.store.schema import aggregate_state
    engine = connect(args[args.index("--db") + 1])
    with engine.begin() as conn:
        conn.execute(aggregate_state.delete())
    engine.dispose()
for name in ("synthetic_scale_model", "synthetic_scale"):
    spec = importlib.util.spec_from_file_location(f"hotpapers.jobs.{name}",
                                                  f"{folder}/{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
if mode == "none":
    import hotpapers.store.mentions
    hotpapers.store.mentions.count_mentions = lambda conn, ids: None
    module.count_mentions = None
module.main(args)
import hotpapers, resource
print(json.dumps({"hotpapers": hotpapers.__file__,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


# ---- the store ---------------------------------------------------------------------------

def _run_generator(src: Path, cwd: Path, args: list[str], mode: str = "on") -> dict:
    """Run the generator (this tree's files) with `src` on PYTHONPATH, aggregates kept
    (`mode` on), not built (off) or not counted at all (none); its figures, and the
    `hotpapers` package it used."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, str(ROOT / "src" / "hotpapers" / "jobs"), mode, *args,
         "--json"], cwd=cwd, env=env, stdout=subprocess.PIPE, text=True, check=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    figures, process = json.loads(lines[-2]), json.loads(lines[-1])
    used, figures["peak_mib"] = process["hotpapers"], process["peak_mib"]
    if not Path(used).resolve().is_relative_to(src.resolve()):
        raise SystemExit(f"the generator used {used}, not the tree at {src}")
    return figures


def _has_listing(url: str) -> bool:
    engine = connect(url)
    with engine.connect() as conn:
        found = conn.execute(select(func.count()).select_from(listings)).scalar()
    engine.dispose()
    return bool(found)


def prepare(args: argparse.Namespace) -> tuple[str, dict | None]:
    """The store's URL, and the generator's figures when this run built it (or a cached
    build recorded them)."""
    if args.db or args.store:
        url = args.db or f"sqlite:///{Path(args.store).resolve()}"
        if _has_listing(url):
            print(f"store: {url} used as it is (it has listings already)")
            return url, None
        return url, _build(url, args)
    folder = Path(args.cache)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (f"rank-scale-m{args.mentions}-s{args.seed}-d{args.days}"
                     f"-r{DATA_REVISION}.sqlite3")
    marker = path.with_suffix(".json")
    url = f"sqlite:///{path}"
    if path.exists() and marker.exists():
        print(f"store: {path} reused (built before: {marker.name})")
        return url, json.loads(marker.read_text())
    for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), marker):
        stale.unlink(missing_ok=True)
    figures = _build(url, args)
    marker.write_text(json.dumps(figures))
    return url, figures


def _build(url: str, args: argparse.Namespace) -> dict:
    print(f"store: building {url}: {args.mentions:,} mentions over {args.days} days, "
          f"seed {args.seed}", flush=True)
    figures = _run_generator(ROOT / "src", Path.cwd(), [
        "--days", str(args.days), "--mentions", str(args.mentions), "--seed", str(args.seed),
        "--db", url, "--quiet"])
    print(f"store: built in {figures['total_s']:.0f} s: {figures['papers']:,} papers, "
          f"{figures['mentions']:,} mentions, {figures['writes']:,} writes; mentions "
          f"{figures['mentions_s']:.0f} s ({figures['mention_us']:.0f} us a mention), "
          f"papers {figures['papers_s']:.1f} s; peak RSS {figures['peak_mib']:.0f} MiB",
          flush=True)
    return figures


# ---- rankings ----------------------------------------------------------------------------

def _utc(value) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def time_rankings(url: str, repeat: int) -> tuple[dict, dict, int, float]:
    """Median seconds per (method, window, path), whether the paths list the same rows,
    the mentions stored, and the peak RSS (MiB) after the default path alone."""
    engine = connect(url, create=False)
    settings = Settings()
    medians, same = {}, {}
    with engine.connect() as conn:
        day = conn.execute(select(func.max(listings.c.day))).scalar()
        as_of = _utc(conn.execute(select(func.max(observations.c.observed_at))).scalar())
        stored = conn.execute(select(func.count()).select_from(mentions)).scalar()
        print(f"rankings: day {day}, as of {as_of:%Y-%m-%d %H:%M}, {stored:,} mentions; "
              f"rank_papers exact=: {'yes' if HAS_EXACT else 'absent (both paths exact)'}")
        for method in (Method.hot, Method.trending):  # the default path alone first: its
            for window in WINDOWS:  # peak memory is the one reported (ru_maxrss only grows)
                rank_papers(conn, day, method, window, settings, as_of)
        peak = _peak_mib()
        for method in (Method.hot, Method.trending):
            for window in WINDOWS:
                times: dict[str, list[float]] = {"default": [], "exact": []}
                rows = {}
                for run in range(repeat):  # alternate which path runs first
                    for path in ("default", "exact")[::1 if run % 2 == 0 else -1]:
                        extra = {"exact": True} if path == "exact" and HAS_EXACT else {}
                        started = time.perf_counter()
                        ranked = rank_papers(conn, day, method, window, settings, as_of,
                                             **extra)
                        times[path].append(time.perf_counter() - started)
                        rows[path] = [(r.paper_id, round(r.score, 9)) for r in ranked.rows]
                for path, values in times.items():
                    medians[method, window, path] = statistics.median(values)
                same[method, window] = rows["default"] == rows["exact"]
    engine.dispose()
    return medians, same, stored, peak


# ---- ingest overhead ---------------------------------------------------------------------

def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], check=True, text=True,
                          capture_output=True).stdout.strip()


INGEST_VARIANTS = {"on": "aggregates kept", "off": "aggregates not built (stamps only)",
                   "none": "nothing counted (no stamps either)"}


def ingest_overhead(args: argparse.Namespace) -> tuple[dict[str, float], str | None]:
    """Best microseconds a mention for each variant of this tree (INGEST_VARIANTS) and,
    with --parent, for the parent commit's code (which commit that is)."""
    gen = ["--days", str(args.ingest_days), "--mentions", str(args.ingest_mentions),
           "--seed", str(args.seed), "--quiet"]
    runs: dict[str, tuple[Path, str]] = {f"ours-{m}": (ROOT / "src", m) for m in INGEST_VARIANTS}
    best = dict.fromkeys(runs, float("inf"))
    wall = dict(best)
    label = None
    with tempfile.TemporaryDirectory(prefix="hp-rank-scale-") as tmp:
        folder = Path(tmp)
        tree = folder / "parent"
        if args.parent:
            parent = _git("rev-parse", "--verify", f"{args.parent}^{{commit}}")
            label = f"{parent[:10]} {_git('log', '-1', '--format=%s', parent)[:60]}"
            _git("worktree", "add", "--detach", str(tree), parent)
            runs["parent"], best["parent"] = (tree / "src", "on"), float("inf")
            wall["parent"] = float("inf")
        try:
            for run in range(args.ingest_repeat):
                order = list(runs) if run % 2 == 0 else list(runs)[::-1]  # interleaved
                for name in order:
                    src, mode = runs[name]
                    url = f"sqlite:///{folder / f'{name}-{run}.sqlite3'}"
                    figures = _run_generator(src, folder, [*gen, "--db", url], mode)
                    best[name] = min(best[name], figures["mention_cpu_us"])
                    wall[name] = min(wall[name], figures["mention_us"])
                    print(f"ingest: {name} run {run + 1}: {figures['mention_cpu_us']:.0f} us "
                          f"CPU a mention, {figures['mention_us']:.0f} us wall "
                          f"({figures['writes'] / figures['mentions']:.2f} writes a mention)",
                          flush=True)
        finally:
            if args.parent:
                _git("worktree", "remove", "--force", str(tree))
    return best, wall, label


# ---- report ------------------------------------------------------------------------------

def _peak_mib() -> float:
    """This process's peak RSS (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _ingest_report(args: argparse.Namespace) -> str:
    """Run the ingest comparison, print its figures; the overhead with aggregates (ours-on
    / ours-off, formatted)."""
    best, wall, label = ingest_overhead(args)
    base = best["ours-off"]
    for name, us in best.items():
        what = INGEST_VARIANTS.get(name[5:], f"parent ({label})")
        print(f"ingest: {name}: {us:.0f} us CPU a mention, {us / base:.3f}x ours-off "
              f"(wall {wall[name]:.0f} us, {wall[name] / wall['ours-off']:.3f}x); {what}")
    overhead = f"{best['ours-on'] / base:.3f}"
    print(f"ingest: with aggregates vs without: {overhead}x CPU (ours-on / ours-off; wall "
          f"{wall['ours-on'] / wall['ours-off']:.3f}x); vs nothing counted: "
          f"{best['ours-on'] / best['ours-none']:.3f}x CPU")
    return overhead


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mentions", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=30, help="announcement days (default 30)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", help="database URL to use (built when it has no listing)")
    parser.add_argument("--store", help="SQLite file to use (built when it has no listing)")
    parser.add_argument("--cache", default="/tmp/hotpapers-bench", help="where stores are kept")
    parser.add_argument("--repeat", type=int, default=3, help="timings per ranking (median)")
    parser.add_argument("--parent", help="a commit to compare ingest with too (e.g. HEAD~1)")
    parser.add_argument("--ingest-mentions", type=int, default=20_000)
    parser.add_argument("--ingest-days", type=int, default=5)
    parser.add_argument("--ingest-repeat", type=int, default=3)
    parser.add_argument("--skip-ingest", action="store_true", help="no ingest comparison")
    parser.add_argument("--skip-rankings", action="store_true",
                        help="no store and no rankings: the ingest comparison alone")
    args = parser.parse_args(argv)
    if args.skip_rankings:
        _ingest_report(args)
        return
    url, _ = prepare(args)
    medians, same, stored, peak = time_rankings(url, args.repeat)
    print(f"peak RSS: {peak:.0f} MiB after the default path, {_peak_mib():.0f} MiB with the "
          "exact path too")
    for method in (Method.hot, Method.trending):
        for path in ("exact", "default") if method is Method.hot else ("default", "exact"):
            print(f"{method.value} {path}: " + " ".join(
                f"{w.value}_s={medians[method, w, path]:.3f}" for w in WINDOWS))
    print("same listed rows, default vs exact: " + " ".join(
        f"{m.value}/{w.value}={'yes' if ok else 'NO'}" for (m, w), ok in same.items()))
    overhead = "nan" if args.skip_ingest else _ingest_report(args)
    hot = {w: medians[Method.hot, w, "default"] for w in WINDOWS}
    print(f"rank_scale mentions={stored} day_s={hot[Window.day]:.3f} "
          f"week_s={hot[Window.week]:.3f} month_s={hot[Window.month]:.3f} "
          f"ingest_overhead={overhead} peak_mib={peak:.0f}")


if __name__ == "__main__":
    sys.exit(main())
