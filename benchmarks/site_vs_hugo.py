"""Benchmark `hotpapers site build` against Hugo building the same posts, in the same run.

Setup (done by the script, in a temporary folder):

1. One SQLite store per size. The small one imports the 126 real posts of
   ../shared/corpus/legacy-posts with `hotpapers import legacy`; each larger one (`--days`,
   default 294; several may be given) imports them plus re-dated copies: copy k shifts
   every date in a post's file name and front matter (title, date, slug, description) by
   k*200 days, so the
   copies are new, valid days for the importer (their papers and tweets are the same
   ones, so the larger size adds day pages but no new paper pages).
2. One Hugo site per size, with a minimal theme written here (baseof, single, list and
   index templates; taxonomies off; goldmark's unsafe renderer so the tweet embeds pass)
   and, in content/posts/, each day's post as `hotpapers post --format hugo` renders it
   from a copy of that store (ISO-8601 dates, the same data as our build).

Our timed builds run without Pagefind (see NO_SEARCH); one more full build per size with
it gives Pagefind's own time, printed apart. Then, after one untimed warm-up round,
`--runs` times, alternating per size (each after `sync`, so that no build pays for the
disk writes of the one before): `hugo --quiet`
into a fresh folder, `hotpapers site build` into a fresh folder (a full build),
`hotpapers site build` again into the same folder (a rebuild where nothing changed), and
once more after one day's post changed (one paper's likes, set with sqlite3). Each is a
separate process: wall time with time.perf_counter, peak RSS from os.wait4. With a tmpfs
at /dev/shm, both tools also build into it (no disk, so what is left is their own work).
The "floor" is the time this machine takes to create as many empty files as each output
has files and folders: on some file systems that, not the rendering, is most of a build.
The table shows medians, the ratio ours/Hugo, the per-day cost (the slope between the two
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
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent.parent / "shared" / "corpus" / "legacy-posts"
SHM = Path("/dev/shm")
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


# Our timed builds run without Pagefind (the binary named here does not exist: the build
# warns and makes no search box); Pagefind is timed apart, once per size (`search_time`).
NO_SEARCH = {**os.environ, "PAGEFIND_BINARY_PATH": "/nonexistent/pagefind"}


def run(cmd: list[str], log: Path, env: dict | None = None) -> tuple[float, int, str]:
    """Run cmd; return (wall seconds, peak RSS in MiB, its output). Fails if it fails."""
    with log.open("w+b") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
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
    return {"size": size, "base": base, "db": db, "site": site, "days": days}


def pages_line(text: str) -> str:
    found = re.search(r"(\d+) pages written, (\d+) unchanged", text)
    return f"{found[1]} written, {found[2]} unchanged" if found else "?"


def inodes(folder: Path) -> int:
    """Files and folders under `folder`: what a build has to create."""
    return sum(1 + len(files) for _, _, files in os.walk(folder)) - 1


def create_empty(count: int, folder: Path) -> float:
    """Seconds to create `count` empty files in a fresh folder: the file system's floor."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    os.sync()
    started = time.perf_counter()
    for i in range(count):
        os.close(os.open(folder / f"{i}.html", os.O_WRONLY | os.O_CREAT, 0o666))
    return time.perf_counter() - started


def change_one_day(db: str, day: str, likes: int) -> None:
    """Change one paper's likes on `day`, as a new observation would (sqlite3: the
    benchmark's own doing, outside hotpapers), and bump the day's change stamp in the same
    transaction, as the store's own writes do (store/stamps.py)."""
    with sqlite3.connect(db.removeprefix("sqlite:///")) as conn:
        conn.execute("UPDATE post_entries SET likes = ? WHERE position = 1 AND post_id = "
                     "(SELECT id FROM posts WHERE day = ?)", (likes, day))
        conn.execute("INSERT INTO change_stamps (scope, key, stamp, changed_at) VALUES "
                     "('day', ?, (SELECT coalesce(max(stamp), 0) + 1 FROM change_stamps), "
                     "?) ON CONFLICT (scope, key) DO UPDATE SET stamp = excluded.stamp, "
                     "changed_at = excluded.changed_at",
                     (day, datetime.now(UTC).replace(tzinfo=None).isoformat(" ")))


def measure(setups: list[dict], runs: int, hugo: str, hotpapers: str,
            scratch: Path | None) -> dict:
    """Run 0 is an untimed warm-up (page cache, .pyc files); runs 1..runs are timed. Each
    tool builds into a fresh folder on the work folder's file system and, with `scratch`
    (a tmpfs), also there."""
    kinds = ["hugo", "ours", "rebuild", "one-day", "floor-hugo", "floor-ours"]
    if scratch:
        kinds += ["hugo-tmpfs", "ours-tmpfs"]
    results: dict = {s["size"]: {k: [] for k in kinds} for s in setups}
    for i in range(runs + 1):
        for setup in setups:
            size, base, db = setup["size"], setup["base"], setup["db"]
            res = results[size]
            outs = {"hugo": base / "hugo-out", "ours": base / "site-out"}
            if scratch:
                outs |= {"hugo-tmpfs": scratch / f"hugo-{size}",
                         "ours-tmpfs": scratch / f"site-{size}"}
            for folder in outs.values():
                shutil.rmtree(folder, ignore_errors=True)
            os.sync()  # the deletions' disk work is done before the clock starts

            def hugo_job(out: Path, site: Path = setup["site"]) -> list[str]:
                return [hugo, "--quiet", "--source", str(site), "--destination", str(out)]

            def ours_job(out: Path, db: str = db) -> list[str]:
                return [hotpapers, "--db", db, "site", "build", "--out", str(out)]

            jobs = [("hugo", hugo_job(outs["hugo"])), ("ours", ours_job(outs["ours"])),
                    ("rebuild", ours_job(outs["ours"]))]
            if i % 2:  # alternate who goes first
                jobs = [jobs[1], jobs[2], jobs[0]]
            if scratch:
                jobs += [("hugo-tmpfs", hugo_job(outs["hugo-tmpfs"])),
                         ("ours-tmpfs", ours_job(outs["ours-tmpfs"]))]
            for name, cmd in jobs:
                os.sync()  # the last build's writeback is not charged to this one
                wall, rss, text = run(cmd, base / f"{name}.log",
                                      None if name.startswith("hugo") else NO_SEARCH)
                if i == 0:
                    continue
                res[name].append((wall, rss))
                if name in ("ours", "rebuild"):
                    res[f"{name}-pages"] = pages_line(text)
            change_one_day(db, setup["days"][len(setup["days"]) // 2], 1000 + i)
            os.sync()
            wall, rss, text = run(ours_job(outs["ours"]), base / "one-day.log", NO_SEARCH)
            if i == 0:
                print(f"  warm-up, {size} days: done")
                continue
            res["one-day"].append((wall, rss))
            res["one-day-pages"] = pages_line(text)
            res["biggest"] = biggest_page(outs["ours"])
            for name in ("hugo", "ours"):
                res[f"{name}-inodes"] = inodes(outs[name])
                floor = create_empty(res[f"{name}-inodes"], base / "floor")
                res[f"floor-{name}"].append((floor, 0))
            shutil.rmtree(base / "floor", ignore_errors=True)
            print(f"  run {i}/{runs}, {size} days: " + ", ".join(
                f"{name} {res[name][-1][0]:.2f} s" for name in kinds))
    return results


def biggest_page(folder: Path) -> tuple[int, str]:
    """The largest HTML file of a site: (bytes, its path in the site)."""
    return max((page.stat().st_size, str(page.relative_to(folder)))
               for page in folder.rglob("*.html"))


def search_time(setup: dict, hotpapers: str) -> str:
    """Pagefind over a full build of `setup`'s site (apart from the timed builds): the
    time the build reports for it."""
    out = setup["base"] / "search-out"
    shutil.rmtree(out, ignore_errors=True)
    _, _, text = run([hotpapers, "--db", setup["db"], "site", "build", "--out", str(out)],
                     setup["base"] / "search.log")
    found = re.search(r"search index: (\d+) pages in ([\d.]+) s", text)
    return f"{found[2]} s for {found[1]} pages" if found else "not run (" + (
        text.strip().splitlines() or ["no output"])[-1][:120] + ")"


def median(values: list[tuple[float, int]], index: int) -> float:
    return statistics.median(v[index] for v in values)


def report(results: dict, sizes: list[int]) -> None:
    print()
    print(f"{'days':>5} {'hugo s':>8} {'ours s':>8} {'ours/hugo':>10} {'hugo MiB':>9} "
          f"{'ours MiB':>9} {'rebuild s':>10} {'one day s':>10}  pages (full; rebuild; one day)")
    for size in sizes:
        res = results[size]
        hugo, ours, again, one = (median(res[k], 0)
                                  for k in ("hugo", "ours", "rebuild", "one-day"))
        print(f"{size:>5} {hugo:>8.3f} {ours:>8.3f} {ours / hugo:>9.2f}x "
              f"{median(res['hugo'], 1):>9.0f} {median(res['ours'], 1):>9.0f} {again:>10.3f} "
              f"{one:>10.3f}  {res['ours-pages']}; {res['rebuild-pages']}; "
              f"{res['one-day-pages']}")
    small, large = sizes[0], sizes[-1]
    base = sizes[1]  # the first --days size: the one the goals name (294)
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
    print("rebuild after one day changed: " + ", ".join(
        f"{median(results[size]['one-day'], 0):.3f} s ({size} days)" for size in sizes))
    whole = median(results[base]["ours"], 0) / median(results[base]["hugo"], 0)
    one_vs_hugo = median(results[base]["one-day"], 0) / median(results[base]["hugo"], 0)
    before = base if large != base else small
    growth = median(results[large]["one-day"], 0) / median(results[before]["one-day"], 0)
    size, where = results[large]["biggest"]
    print()
    print("issue 16 goals (without Pagefind; Pagefind timed apart below):")
    print(f"  whole build at {base} days vs Hugo: {whole:.2f}x (goal <= 1.0x)")
    print(f"  rebuild after one day changed, {base} days, vs Hugo's full build: "
          f"{one_vs_hugo:.2f}x (goal <= 0.6x)")
    print(f"  one-day rebuild at {large} days vs at {before} days: {growth:.2f}x "
          "(goal <= 1.2x, asked of 1000 vs 294: run with --days 294 1000)")
    print(f"  biggest HTML page at {large} days: {size / 1000:.1f} KB, {where} (goal < 100 KB)")
    for one in sizes:
        print(f"  Pagefind at {one} days: {results[one]['search']}")
    for size in sizes:
        res = results[size]
        hugo_each = median(res["hugo"], 0) / res["hugo-inodes"] * 1000
        ours_each = median(res["ours"], 0) / res["ours-inodes"] * 1000
        print(f"time per file or folder made at {size} days: hugo {hugo_each:.2f} ms, ours "
              f"{ours_each:.2f} ms, ratio {ours_each / hugo_each:.2f}x (the sites differ: "
              "ours has a page per paper and per category, and feeds per category)")
        print(f"files and folders created at {size} days: hugo {res['hugo-inodes']}, ours "
              f"{res['ours-inodes']}; creating as many empty files here takes "
              f"{median(res['floor-hugo'], 0):.3f} s and {median(res['floor-ours'], 0):.3f} s")
        if res.get("hugo-tmpfs"):
            hugo, ours = median(res["hugo-tmpfs"], 0), median(res["ours-tmpfs"], 0)
            print(f"  built into a tmpfs at {size} days: hugo {hugo:.3f} s, ours {ours:.3f} s, "
                  f"ratio {ours / hugo:.2f}x")
    if results[large].get("hugo-tmpfs"):
        hugo_slope, ours_slope = slope("hugo-tmpfs"), slope("ours-tmpfs")
        print(f"per-day cost in a tmpfs: hugo {hugo_slope * 1000:.2f} ms, ours "
              f"{ours_slope * 1000:.2f} ms, ratio {ours_slope / hugo_slope:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, nargs="+", default=[294],
                        help="the larger sizes (days), e.g. 294 1000")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per tool and size")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="folder of legacy posts")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--no-tmpfs", action="store_true",
                        help=f"do not also build into a tmpfs ({SHM})")
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
    days = sorted(set(args.days))
    if days[0] <= small:
        parser.error(f"--days must be more than the {small} real posts")
    sizes = [small, *days]
    version = subprocess.run([hugo, "version"], capture_output=True, text=True).stdout.strip()
    print(f"{version}\n{os.cpu_count()} CPUs; {', '.join(map(str, sizes))} days, "
          f"{args.runs} runs")
    work = Path(tempfile.mkdtemp(prefix="site_vs_hugo-"))
    try:
        setups = [prepare(work, originals, size, hotpapers) for size in sizes]
        scratch = None if args.no_tmpfs or not SHM.is_dir() else Path(
            tempfile.mkdtemp(prefix="site_vs_hugo-", dir=SHM))
        try:
            results = measure(setups, args.runs, hugo, hotpapers, scratch)
            for setup in setups:
                results[setup["size"]]["search"] = search_time(setup, hotpapers)
        finally:
            if scratch:
                shutil.rmtree(scratch, ignore_errors=True)
        report(results, sizes)
    finally:
        if args.keep:
            print(f"kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
