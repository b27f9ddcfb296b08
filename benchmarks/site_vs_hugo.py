"""Benchmark `hotpapers site build` against Hugo building the same posts, in the same run.

Setup (done by the script, in a temporary folder):

1. Two SQLite stores, one per size. The small one imports the 126 real posts of
   ../shared/corpus/legacy-posts with `hotpapers import legacy`; the large one (`--days`,
   default 294) imports them plus re-dated copies: copy k shifts every date in a post's
   file name and front matter (title, date, slug, description) by k*200 days, so the
   copies are new, valid days for the importer (their papers and tweets are the same
   ones, so the larger size adds day pages but no new paper pages).
2. One Hugo site per size, with a minimal theme written here (baseof, single, list and
   index templates; taxonomies off; goldmark's unsafe renderer so the tweet embeds pass)
   and, in content/posts/, each day's post as `hotpapers post --format hugo` renders it
   from a copy of that store (ISO-8601 dates, the same data as our build).

Then, after one untimed warm-up round, `--runs` times, alternating per size: `hugo --quiet`
into a fresh folder, `hotpapers site build` into a fresh folder (a full build), and
`hotpapers site build` again into the same folder (a rebuild where nothing changed). Each
is a separate process: wall time with time.perf_counter, peak RSS from os.wait4. The
table shows medians, the ratio ours/Hugo, the per-day cost (the slope between the two
sizes) and the goals of issue 6 (per-day cost <= 0.5x Hugo's, whole process <= 1x Hugo
at the larger size).

Needs Hugo (Debian's `hugo` package) on PATH and the hotpapers venv active:

    cd /work/main && . .venv/bin/activate
    python benchmarks/site_vs_hugo.py               # 126 and 294 days, 5 runs
    python benchmarks/site_vs_hugo.py --days 500 --runs 3 --keep
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent.parent / "shared" / "corpus" / "legacy-posts"
SHIFT_DAYS = 200
ISO_DAY = re.compile(r"\d{4}-\d\d-\d\d")

HUGO_CONFIG = """baseURL = "http://localhost/"
languageCode = "en"
title = "Hot Papers"
disableKinds = ["taxonomy", "term"]
[markup.goldmark.renderer]
unsafe = true
"""

BASEOF = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ block "title" . }}{{ .Site.Title }}{{ end }}</title>
</head>
<body>
<header><a href="{{ "/" | relURL }}">{{ .Site.Title }}</a></header>
<main>{{ block "main" . }}{{ end }}</main>
<footer>Hot Papers</footer>
</body>
</html>
"""

SINGLE = """{{ define "title" }}{{ .Title }} | {{ .Site.Title }}{{ end }}
{{ define "main" }}
<article>
<h1>{{ .Title }}</h1>
<time datetime="{{ .Date.Format "2006-01-02T15:04:05Z07:00" }}">
{{- .Date.Format "2006-01-02" }}</time>
{{ .Content }}
</article>
{{ end }}
"""

LIST = """{{ define "main" }}
<h1>{{ .Title }}</h1>
<ul>
{{ range .Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a>
{{ .Date.Format "2006-01-02" }}</li>
{{ end }}</ul>
{{ end }}
"""

INDEX = """{{ define "main" }}
<h1>{{ .Site.Title }}</h1>
{{ $paginator := .Paginate (where .Site.RegularPages "Section" "posts") }}
{{ range $paginator.Pages }}<section><h2><a href="{{ .RelPermalink }}">{{ .Title }}</a></h2>
<p>{{ .Summary }}</p></section>
{{ end }}
{{ if $paginator.HasNext }}<a href="{{ $paginator.Next.URL }}">Older</a>{{ end }}
{{ end }}
"""

# Renders each day given on the command line with the public CLI, in one process (one
# process per day would take minutes of start-up).
HUGO_POSTS = """
import sys
from hotpapers.cli.main import main
db, out, days = sys.argv[1], sys.argv[2], sys.argv[3:]
for day in days:
    try:
        main(["--db", db, "-q", "post", "--date", day, "--format", "hugo", "--out", out])
    except SystemExit as exc:
        if exc.code:
            raise
"""


def shift_post(text: str, days: int) -> str:
    """The post with every date in its front matter moved by `days` days."""
    end = text.index("\n---\n", 4)

    def moved(match: re.Match[str]) -> str:
        return (date.fromisoformat(match[0]) + timedelta(days=days)).isoformat()

    return ISO_DAY.sub(moved, text[:end]) + text[end:]


def make_posts(folder: Path, originals: list[Path], count: int) -> list[str]:
    """Write `count` posts into folder (originals, then re-dated copies); return their days."""
    folder.mkdir(parents=True)
    days = []
    copy = 0
    while len(days) < count:
        for source in originals:
            if len(days) == count:
                break
            text = source.read_text(encoding="utf-8")
            shift = copy * SHIFT_DAYS
            if shift:
                text = shift_post(text, shift)
            day = ISO_DAY.match(source.name)
            assert day, source
            new_day = (date.fromisoformat(day[0]) + timedelta(days=shift)).isoformat()
            name = new_day + source.name[10:]
            (folder / name).write_text(text, encoding="utf-8")
            days.append(new_day)
        copy += 1
    return days


def run(cmd: list[str], log: Path) -> tuple[float, int, str]:
    """Run cmd; return (wall seconds, peak RSS in MiB, its output). Fails if it fails."""
    with log.open("w+b") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    if proc.returncode:
        sys.exit(f"site_vs_hugo: {' '.join(cmd)} failed ({proc.returncode}):\n{text}")
    return wall, usage.ru_maxrss // 1024, text


def write_hugo_site(site: Path) -> None:
    layouts = site / "layouts" / "_default"
    layouts.mkdir(parents=True)
    (site / "config.toml").write_text(HUGO_CONFIG)
    (layouts / "baseof.html").write_text(BASEOF)
    (layouts / "single.html").write_text(SINGLE)
    (layouts / "list.html").write_text(LIST)
    (site / "layouts" / "index.html").write_text(INDEX)
    (site / "content" / "posts").mkdir(parents=True)


def prepare(work: Path, originals: list[Path], size: int, hotpapers: str) -> dict:
    """Posts, store and Hugo site for one size."""
    base = work / f"d{size}"
    days = make_posts(base / "legacy", originals, size)
    db = f"sqlite:///{base / 'store.db'}"
    wall, _, text = run([hotpapers, "--db", db, "import", "legacy", str(base / "legacy")],
                        base / "import.log")
    print(f"  {size} days: imported in {wall:.1f} s: {text.strip().splitlines()[-1]}")
    shutil.copy(base / "store.db", base / "scratch.db")  # `post --out` publishes the day
    site = base / "hugo"
    write_hugo_site(site)
    posts = site / "content" / "posts"
    run([sys.executable, "-c", HUGO_POSTS, f"sqlite:///{base / 'scratch.db'}",
         f"{posts}/", *days], base / "posts.log")
    written = len(list(posts.glob("*.md")))
    if written != size:
        sys.exit(f"site_vs_hugo: {written} Hugo posts written for {size} days")
    return {"size": size, "base": base, "db": db, "site": site}


def pages_line(text: str) -> str:
    found = re.search(r"(\d+) pages written, (\d+) unchanged", text)
    return f"{found[1]} written, {found[2]} unchanged" if found else "?"


def measure(setups: list[dict], runs: int, hugo: str, hotpapers: str) -> dict:
    """Run 0 is an untimed warm-up (page cache, .pyc files); runs 1..runs are timed."""
    results: dict = {s["size"]: {"hugo": [], "ours": [], "rebuild": []} for s in setups}
    for i in range(runs + 1):
        for setup in setups:
            size, base = setup["size"], setup["base"]
            res = results[size]
            for folder in ("hugo-out", "site-out"):
                shutil.rmtree(base / folder, ignore_errors=True)
            jobs = [
                ("hugo", [hugo, "--quiet", "--source", str(setup["site"]),
                          "--destination", str(base / "hugo-out")]),
                ("ours", [hotpapers, "--db", setup["db"], "site", "build",
                          "--out", str(base / "site-out")]),
                ("rebuild", [hotpapers, "--db", setup["db"], "site", "build",
                             "--out", str(base / "site-out")]),
            ]
            if i % 2:  # alternate who goes first
                jobs = [jobs[1], jobs[2], jobs[0]]
            for name, cmd in jobs:
                wall, rss, text = run(cmd, base / f"{name}.log")
                if i == 0:
                    continue
                res[name].append((wall, rss))
                if name != "hugo":
                    res[f"{name}-pages"] = pages_line(text)
            if i == 0:
                print(f"  warm-up, {size} days: done")
                continue
            print(f"  run {i}/{runs}, {size} days: " + ", ".join(
                f"{name} {res[name][-1][0]:.2f} s" for name in ("hugo", "ours", "rebuild")))
    return results


def median(values: list[tuple[float, int]], index: int) -> float:
    return statistics.median(v[index] for v in values)


def report(results: dict, sizes: list[int]) -> None:
    print()
    print(f"{'days':>5} {'hugo s':>8} {'ours s':>8} {'ours/hugo':>10} {'hugo MiB':>9} "
          f"{'ours MiB':>9} {'rebuild s':>10}  pages (full; rebuild)")
    for size in sizes:
        res = results[size]
        hugo, ours, again = (median(res[k], 0) for k in ("hugo", "ours", "rebuild"))
        print(f"{size:>5} {hugo:>8.3f} {ours:>8.3f} {ours / hugo:>9.2f}x "
              f"{median(res['hugo'], 1):>9.0f} {median(res['ours'], 1):>9.0f} {again:>10.3f}  "
              f"{res['ours-pages']}; {res['rebuild-pages']}")
    small, large = sizes
    span = large - small

    def slope(kind: str) -> float:
        return (median(results[large][kind], 0) - median(results[small][kind], 0)) / span

    hugo_slope, ours_slope = slope("hugo"), slope("ours")
    ratio = ours_slope / hugo_slope if hugo_slope > 0 else float("nan")
    noisy = hugo_slope <= 0 or ours_slope <= 0  # sizes too close for the noise
    verdict = "n/a: a negative slope, use sizes further apart" if noisy else (
        "met" if ratio <= 0.5 else "NOT met")
    whole = median(results[large]["ours"], 0) / median(results[large]["hugo"], 0)
    print()
    print(f"per-day cost ({small}->{large} days): hugo {hugo_slope * 1000:.2f} ms, "
          f"ours {ours_slope * 1000:.2f} ms, ratio {ratio:.2f}x "
          f"(goal <= 0.5x: {verdict})")
    print(f"whole process at {large} days: ratio {whole:.2f}x "
          f"(goal <= 1x: {'met' if whole <= 1 else 'NOT met'})")
    print(f"rebuild with nothing changed: {median(results[small]['rebuild'], 0):.3f} s "
          f"({small} days), {median(results[large]['rebuild'], 0):.3f} s ({large} days); "
          f"rebuild slope {slope('rebuild') * 1000:.2f} ms/day")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=294, help="the larger size (days)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per tool and size")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="folder of legacy posts")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    originals = sorted(args.corpus.glob("*.md")) if args.corpus.is_dir() else []
    if not originals:
        print(f"site_vs_hugo: skipped: no legacy posts in {args.corpus}")
        return
    hugo, hotpapers = shutil.which("hugo"), shutil.which("hotpapers")
    if not hugo or not hotpapers:
        print("site_vs_hugo: skipped: needs `hugo` and `hotpapers` on PATH "
              "(apt-get install hugo; activate the venv)")
        return
    small = len(originals)
    if args.days <= small:
        parser.error(f"--days must be more than the {small} real posts")
    version = subprocess.run([hugo, "version"], capture_output=True, text=True).stdout.strip()
    print(f"{version}\n{os.cpu_count()} CPUs; {small} and {args.days} days, {args.runs} runs")
    work = Path(tempfile.mkdtemp(prefix="site_vs_hugo-"))
    try:
        setups = [prepare(work, originals, size, hotpapers) for size in (small, args.days)]
        results = measure(setups, args.runs, hugo, hotpapers)
        report(results, [small, args.days])
    finally:
        if args.keep:
            print(f"kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
