"""The reliability suite at big sizes: kill -9 of five commands at random moments (seeded),
a faulty Jetstream, and the HTTP fault matrix of every source; prints per fault class the
trials, failures, rows lost and rows duplicated, and exits 1 if any is not 0.

The machinery is tests/reliability/harness (the same as the CI suite's); see its modules
for what each trial checks and what a row comparison leaves out.

    python benchmarks/reliability.py                 # 50 kill trials per command
    python benchmarks/reliability.py --trials 5 --only kill-import-legacy --jobs 1

Fault classes run two at a time (--jobs); a class that cannot run at all counts as failed.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "reliability"))

from harness.data import jetstream_events
from harness.digest import compare
from harness.faults import MATRIX_SOURCES, fetch_run, time_bound
from harness.kills import SCENARIOS, kill_trials
from harness.servers import FAULTS
from harness.streams import stream_pass

SIZES = {"import-legacy": 40, "import-arxiv-snapshot": 3000, "fetch-mentions": 0,
         "stream-bluesky": 2000, "site-build": 15}


@dataclass
class Row:
    name: str
    trials: int = 0
    failures: int = 0
    lost: int = 0
    duplicated: int = 0
    seconds: float = 0.0
    notes: str = ""


def kill_class(name: str, trials: int, seed: int, work: Path) -> Row:
    _, results = kill_trials(name, work, SIZES[name], trials, seed)
    row = Row(f"kill-{name}", len(results), sum(t.failed for t in results),
              sum(t.lost for t in results), sum(t.duplicated for t in results))
    bad = [t for t in results if t.integrity != "ok" or t.code != 0]
    row.notes = (f"{sum(t.killed for t in results)} killed before the end; "
                 f"{len(bad)} unsound or failed reruns; processes outlived the kill by up to "
                 f"{max((t.outlived for t in results), default=0):.2f} s")
    failed = [t for t in results if t.failed]
    if failed:  # why the first one failed
        row.notes += (f"; first failure: outlived {failed[0].outlived:.2f} s, "
                      f"integrity {failed[0].integrity}, {failed[0].detail[:300]}")
    return row


def jetstream_class(trials: int, seed: int, work: Path) -> Row:
    events = jetstream_events(SIZES["stream-bluesky"], seed)
    clean = stream_pass(work / "clean.sqlite3", events)
    row = Row("jetstream-faults", notes="" if not clean.error else f"clean: {clean.error}")
    rng = random.Random(seed)
    for n in range(trials):
        faults = {"drops": [rng.randrange(len(events)) for _ in range(rng.randint(0, 5))],
                  "duplicate_every": rng.choice([0, 3, 7]), "garbage_every": rng.choice(
                      [0, 5, 11]), "oversize_every": rng.choice([0, 0, 500])}
        result = stream_pass(work / f"faulty-{n}.sqlite3", events, limit=60, **faults)
        lost, duplicated = compare(clean.rows, result.rows)
        row.trials += 1
        row.failures += bool(result.error or lost or duplicated or clean.error)
        row.lost, row.duplicated = row.lost + lost, row.duplicated + duplicated
    return row


def http_class(fault: str, work: Path) -> Row:
    reference = fetch_run(work / "healthy.sqlite3", work, None)
    faulty = fetch_run(work / "faulty.sqlite3", work, fault)
    rerun = fetch_run(work / "faulty.sqlite3", work, None)
    lines = [line for line in faulty.run.err.splitlines() if line.startswith("hotpapers: error:")]
    lost, duplicated = compare(reference.rows, rerun.rows)
    _, kept_wrong = compare(reference.rows, faulty.rows)
    failed = (faulty.run.seconds > time_bound() or "Traceback" in faulty.run.err
              or len(lines) != len(MATRIX_SOURCES) or kept_wrong or rerun.run.code != 0
              or lost or duplicated)
    return Row(f"http-{fault}", 1, int(bool(failed)), lost, duplicated + kept_wrong,
               notes=f"faulty run {faulty.run.seconds:.1f} s (bound {time_bound():.0f} s)")


def classes(trials: int, seed: int) -> Iterator[tuple[str, Callable[[Path], Row]]]:
    for name in SCENARIOS:
        yield f"kill-{name}", lambda work, name=name: kill_class(name, trials, seed, work)
    yield "jetstream-faults", lambda work: jetstream_class(max(3, trials // 5), seed, work)
    for fault in FAULTS:
        yield f"http-{fault}", lambda work, fault=fault: http_class(fault, work)


def run_class(name: str, run: Callable[[Path], Row]) -> Row:
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"reliability-{name}-") as work:
        try:
            row = run(Path(work))
        except Exception as exc:  # a class that cannot run is a failure, not a crash
            row = Row(name, 1, 1, notes=f"{type(exc).__name__}: {str(exc)[:200]}")
    row.seconds = time.monotonic() - start
    print(f"done: {row.name} in {row.seconds:.0f} s: {row.failures} of {row.trials} failed; "
          f"{row.notes}", flush=True)
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=50, help="kill trials per command")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--only", action="append", default=[],
                        help="run only this fault class (repeatable)")
    parser.add_argument("--jobs", type=int, default=2, help="fault classes run at once")
    args = parser.parse_args()
    chosen = [(name, run) for name, run in classes(args.trials, args.seed)
              if not args.only or name in args.only]
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        rows = list(pool.map(lambda item: run_class(*item), chosen))
    print(f"\n{'fault class':28} {'trials':>6} {'failures':>8} {'rows lost':>9} "
          f"{'rows duplicated':>15} {'seconds':>7}")
    for row in rows:
        print(f"{row.name:28} {row.trials:6} {row.failures:8} {row.lost:9} "
              f"{row.duplicated:15} {row.seconds:7.1f}")
    return 1 if any(r.failures or r.lost or r.duplicated for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
