"""Start-up cost of the command line and of each layer's imports, beside a bare interpreter.

Each case is a fresh process (`python -X importtime` is not used: it slows what it times);
cases run alternately, `--runs` rounds after one untimed warm-up round, and the table
shows each case's median wall time, its ratio to `python -c pass` measured in the same
rounds, and the time above that baseline. This is the measurement that decides whether an
import may stay lazy (a `# lazy:` comment in the code says why it does).

    cd /work/main && . .venv/bin/activate
    python benchmarks/startup.py              # 15 rounds
    python benchmarks/startup.py --runs 31
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

CASES = {
    "python -c pass (baseline)": [sys.executable, "-c", "pass"],
    "hotpapers --help": [sys.executable, "-m", "hotpapers", "--help"],
    "hotpapers rank --help": [sys.executable, "-m", "hotpapers", "rank", "--help"],
    "import hotpapers.config": [sys.executable, "-c", "import hotpapers.config"],
    "import sqlalchemy": [sys.executable, "-c", "import sqlalchemy"],
    "import alembic.command": [sys.executable, "-c", "import alembic.command"],
    "import hotpapers.store.db": [sys.executable, "-c", "import hotpapers.store.db"],
    "import hotpapers.jobs.ranking": [sys.executable, "-c", "import hotpapers.jobs.ranking"],
    "import hotpapers.jobs.build_site": [sys.executable, "-c",
                                         "import hotpapers.jobs.build_site"],
    "import hotpapers.jobs.daily": [sys.executable, "-c", "import hotpapers.jobs.daily"],
}


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="timed rounds (default 15)")
    args = parser.parse_args(argv)
    for command in CASES.values():  # warm-up: bytecode caches, page cache
        timed(command)
    times: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(args.runs):
        for name, command in CASES.items():
            times[name].append(timed(command))
    base = statistics.median(times["python -c pass (baseline)"])
    print(f"{'case':36} {'median ms':>10} {'x baseline':>11} {'above ms':>9}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:36} {median * 1000:10.1f} {median / base:11.2f} "
              f"{(median - base) * 1000:9.1f}")
    print(f"Done: {len(CASES)} cases, {args.runs} rounds each")


if __name__ == "__main__":
    main()
