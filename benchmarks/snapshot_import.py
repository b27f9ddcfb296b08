"""Benchmark `hotpapers import arxiv-snapshot` against a baseline measured in the same run.

The input is generated: records in the real snapshot format (the fields of the public
arXiv metadata snapshot: id, submitter, authors, title, comments, journal-ref, doi,
report-no, categories, license, abstract, versions, update_date, authors_parsed) with
realistic sizes: 1-12 authors, 1-4 categories, 1-4 versions, abstracts of 80-250 words,
new-style ids from 2007 to 2026. The baseline is what a minimal loader does: parse each
line with the standard json module and executemany (id, line) into one SQLite table.
Both run as separate processes, alternately, `--repeat` times; the script prints medians
of records/s, CPU seconds (user + system, the parser process included: steadier than wall
time on a loaded machine) and peak RSS (the larger of the importing process and its parser
process), the ratio ours/baseline. `--db postgresql://...` imports into a fresh database
made on that server for each run (dropped after; the baseline stays SQLite).

    python benchmarks/snapshot_import.py --records 200000
    python benchmarks/snapshot_import.py --db postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

WORDS = tuple(
    "model learning data network graph neural attention we show that the of a and in for "
    "with results method training task performance propose new large language robust "
    "efficient approach problem optimal bound theory analysis".split()
)
CATEGORIES = tuple(
    "cs.LG cs.CV cs.CL cs.AI stat.ML math.OC cs.RO cs.CR math.ST quant-ph hep-th "
    "cond-mat.stat-mech eess.SP cs.DS cs.IT".split()
)
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

BASELINE = """
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[2])
db.execute("create table if not exists records (id text primary key, line text)")
batch = []
with open(sys.argv[1], encoding="utf-8") as handle:
    for line in handle:
        batch.append((json.loads(line)["id"], line))
        if len(batch) == 2000:
            db.executemany("insert or replace into records values (?, ?)", batch)
            db.commit()
            batch = []
db.executemany("insert or replace into records values (?, ?)", batch)
db.commit()
"""


def record(rng: random.Random, number: int) -> dict:
    year, month = rng.randint(7, 26), rng.randint(1, 12)
    if (year, month) < (7, 4):
        year, month = 7, 4
    width = 4 if (year, month) < (15, 1) else 5
    paper_id = f"{year:02d}{month:02d}.{number % 10**width:0{width}d}"
    people = [(rng.choice(WORDS).title(), f"{rng.choice('ABCDEFGHJKLMN')}.", "")
              for _ in range(rng.randint(1, 12))]
    versions = []
    for v in range(1, rng.randint(1, 4) + 1):
        day = rng.randint(1, 28)
        versions.append({"version": f"v{v}", "created": (
            f"{rng.choice(DAYS)}, {day} {MONTHS[month - 1]} {2000 + year} "
            f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d} GMT")})
    return {
        "id": paper_id, "submitter": " ".join(people[0][1::-1]),
        "authors": ", ".join(f"{first} {last}" for last, first, _ in people),
        "title": " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 14))).title(),
        "comments": f"{rng.randint(4, 40)} pages" if rng.random() < 0.7 else None,
        "journal-ref": None, "doi": None, "report-no": None,
        "categories": " ".join(rng.sample(CATEGORIES, rng.randint(1, 4))), "license": None,
        "abstract": " ".join(rng.choice(WORDS) for _ in range(rng.randint(80, 250))),
        "versions": versions, "update_date": f"20{year:02d}-{month:02d}-28",
        "authors_parsed": [list(p) for p in people],
    }


def generate(path: Path, records: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as handle:
        for number in range(records):
            handle.write(json.dumps(record(rng, number)) + "\n")


def measure(command: list[str], env: dict) -> tuple[float, float, float]:
    """Wall seconds, peak RSS (MiB) and CPU seconds of one child process (and of the
    processes it waited for)."""
    started = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) not in (0, 2):
        raise SystemExit(f"{command[0]} failed")
    return elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


@contextmanager
def store(url: str | None, tmp: Path, name: str) -> Iterator[str]:
    """A fresh store: a SQLite file in `tmp`, or a new database on the PostgreSQL server
    of `url`, dropped afterwards."""
    if url is None:
        yield f"sqlite:///{tmp / f'{name}.db'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    database = f"hp_bench_{os.getpid()}_{name}"
    server = make_url(url).set(drivername="postgresql+psycopg")
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    try:
        yield server.set(database=database).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db", help="a PostgreSQL server URL to import into (default: "
                        "SQLite files)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hp-bench-") as tmp:
        data = Path(tmp) / "snapshot.jsonl"
        generate(data, args.records)
        runs: dict[str, list[tuple[float, float, float]]] = {"baseline": [], "hotpapers": []}
        for i in range(args.repeat):
            base_db = Path(tmp) / f"base{i}.db"
            runs["baseline"].append(measure(
                [sys.executable, "-c", BASELINE, str(data), str(base_db)], dict(os.environ)))
            with store(args.db, Path(tmp), f"ours{i}") as url:
                runs["hotpapers"].append(measure(
                    [sys.executable, "-m", "hotpapers", "-q", "--db", url,
                     "import", "arxiv-snapshot", str(data)], dict(os.environ)))
        target = "PostgreSQL" if args.db else "SQLite"
        print(f"records: {args.records:,}, runs: {args.repeat} each, alternating; "
              f"hotpapers into {target}")
        rates = {}
        for name, results in runs.items():
            seconds = statistics.median(r[0] for r in results)
            rss = statistics.median(r[1] for r in results)
            cpu = statistics.median(r[2] for r in results)
            rates[name] = args.records / seconds
            print(f"{name:>10}: {rates[name]:>10,.0f} records/s  "
                  f"({seconds:.1f} s, CPU {cpu:.1f} s, peak RSS {rss:.0f} MiB)")
        print(f"     ratio: {rates['hotpapers'] / rates['baseline']:.2f} x baseline")


if __name__ == "__main__":
    main()
