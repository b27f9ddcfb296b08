"""The static site, rendered with Jinja2 from the data `jobs/build_site.py` reads.

Pages (root-relative links under the path of `site_url`):

- `index.html`, `page/N/index.html`: the latest days, newest first, `per_page` a page;
- `{day}/index.html`: the day's papers in the post's order, with the mentions it showed;
- `papers/{slug}.html`: a paper, its days, every live mention, a sparkline;
- `categories/index.html`, `categories/{cat}/index.html` and `.../page/N/index.html`: a
  category's papers, newest day first, numbered, at most `category_page` a page;
- `archive/index.html` (by month), `404.html`, `robots.txt`, `favicon.svg`,
  `static/style.css`, `static/search.js`;
- with `site_url` only (they need absolute URLs): `sitemap.xml`, and the feeds `rss.xml`,
  `atom.xml`, `feed.json` of all days and of each category; without it none is made (nor
  linked to) and the build warns;
- `pagefind/`: the search index, when the Pagefind binary runs (see `search_index.py`);
  without it the pages have no search box and the build warns.

Each kind of page has its builder in `pages.py`; `build_from` runs them in turn, then makes
the files they queued, then the search index from the pages made.

Incremental: every file has a key of what it is made from (see `output.py`); a rebuild
renders only the files whose key changed, writes them only when their bytes differ, and
removes the files an earlier build made that are no longer made. From the store
(`build_incremental`), keys are made from the change stamps of the days and papers a page
shows (store/stamps.py), and the heavy data (mentions, observations, totals) is read only
for the pages to make; when the store's stamp, the options and the code are those of the
last build and its files are all there, nothing more is read. Output depends only on the
store, never on the clock.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Protocol

from hotpapers import __version__
from hotpapers.models import SiteData, SiteDetails, SiteStamps
from hotpapers.render.feeds import category_slugs
from hotpapers.site.context import base_path
from hotpapers.site.jinja import environment, prepare
from hotpapers.site.output import Output, fingerprint, folder_lock, interrupted, read_manifest
from hotpapers.site.pages import BUILDERS, SiteBuild
from hotpapers.site.search_index import Pagefind, SearchRun, find_pagefind, index_site
from hotpapers.site.windows import WINDOW_PAGES

__all__ = ["EMBED_MODES", "BuildSummary", "SiteSource", "build_from", "build_incremental"]

EMBED_MODES = ("static", "oembed")
HERE = Path(__file__).parent
NO_SITE_URL = ("site_url is not set, so no feeds and no sitemap were made (they need absolute "
               "URLs). Set site_url (or HOTPAPERS_SITE_URL) to the site's address")


@dataclass
class BuildSummary:
    out: Path
    written: list[str] = field(default_factory=list)
    unchanged: int = 0
    rendered: int = 0  # files made this time (written or found the same), not kept as were
    removed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    search: SearchRun | None = None  # None: the site has no search

    @property
    def index(self) -> Path:
        return self.out / "index.html"

    def line(self) -> str:
        removed = f", {len(self.removed)} removed" if self.removed else ""
        search = ""
        if self.search is not None and self.search.problem is None:
            search = (f" (search index: {self.search.pages} pages in "
                      f"{self.search.seconds:.2f} s)" if self.search.ran
                      else " (search index unchanged)")
        return (f"Done: {len(self.written)} pages written, {self.unchanged} unchanged{removed} "
                f"in {self.seconds:.2f} s{search}: {self.index}")


class SiteSource(Protocol):
    """Where an incremental build reads the site's data (store/site_parts.py's reader)."""

    def latest(self) -> int: ...
    def outline(self) -> tuple[SiteData, SiteStamps]: ...
    def details(self, days: list, paper_ids: list[str], titled: list = ()) -> SiteDetails: ...


@cache
def _code() -> str:
    """The code and templates that render (so that a new version, even unreleased, makes
    every file again)."""
    package = HERE.parent
    sources = [*HERE.rglob("*"), *(package / "render").rglob("*"), package / "models.py",
               package / "store" / "site_data.py", package / "store" / "site_parts.py"]
    return fingerprint(__version__, [(str(path.relative_to(package)), path.read_bytes())
                                     for path in sorted(sources)
                                     if path.is_file() and path.suffix != ".pyc"])


def _salt(**options: object) -> str:
    """What every file depends on besides its data: the build's options, and the code."""
    return fingerprint(_code(), sorted(options.items()))


def _check(options: dict) -> None:
    embeds = options.get("embeds", "static")
    if embeds not in EMBED_MODES:
        raise ValueError(f"embeds must be one of {', '.join(EMBED_MODES)}: {embeds!r}")
    for name in ("per_page", "category_page"):
        if options.get(name, 1) < 1:
            raise ValueError(f"{name} must be at least 1")


def build_from(data: SiteData, out: Path, **options) -> BuildSummary:
    """Build the site of `data` into `out` (see _build), one build at a time per folder.
    When Pagefind fails on the pages made, they are made again without a search box."""
    _check(options)
    with folder_lock(Path(out)):
        return _build_searched(data, Path(out), **options)


def build_incremental(source: SiteSource, out: Path, **options) -> BuildSummary:
    """Build the site of `source` into `out`, keyed by change stamps: nothing is read but the
    store's stamp when it, the options and the code are the last build's and every file it
    made is there; else the outline, then the details of the pages to make only."""
    _check(options)
    started = time.perf_counter()
    with folder_lock(Path(out)):
        latest = source.latest()
        fmt = getattr(source, "fmt", None)  # the posts' format
        kept = _unchanged(Path(out), latest, {**options, "fmt": fmt})
        if kept is not None:
            kept.seconds = time.perf_counter() - started
            return kept
        data, stamps = source.outline()
        return _build_searched(data, Path(out), stamps=stamps, details=source.details,
                               fmt=fmt, **options)


def _unchanged(out: Path, latest: int, options: dict) -> BuildSummary | None:
    """The summary of a build that has nothing to do, or None when it has."""
    recorded = read_manifest(out)
    if recorded is None or interrupted(out) or recorded.get("stamp") != latest or recorded.get(
            "options") != _options_key(options):
        return None
    searched, warnings = None, [] if options.get("site_url") else [NO_SITE_URL]
    if recorded.get("posts"):
        pagefind = find_pagefind()
        searched = pagefind.version if pagefind.ready else None
        if not pagefind.ready:
            warnings.append(f"search is off: {pagefind.problem}")
    if searched != recorded.get("search") or not all(
            os.path.exists(out / name) for name in recorded["files"]):
        return None
    return BuildSummary(out=out, unchanged=len(recorded["files"]), warnings=warnings,
                        search=SearchRun(pages=0) if searched else None)


# The options of _build that change its files, with their defaults.
OPTIONS = {"site_url": "", "embeds": "static", "title": "Hot Papers", "per_page": 10,
           "category_page": 50, "feed_limit": 30}


def _options_key(options: dict) -> str:
    return _salt(fmt=options.get("fmt"),
                 **{name: options.get(name, default) for name, default in OPTIONS.items()})


def _build_searched(data: SiteData, out: Path, **options) -> BuildSummary:
    """_build, with the search index when Pagefind runs (see build_from)."""
    pagefind = find_pagefind() if data.posts else None  # nothing to search: no box
    summary = _build(data, Path(out), pagefind=pagefind, **options)
    failed = summary.search.problem if summary.search else None
    if failed:
        again = _build(data, Path(out), pagefind=None, **options)
        again.written = sorted({*summary.written, *again.written})
        again.removed = sorted({*summary.removed, *again.removed})
        again.warnings = [*again.warnings, f"search is off: {failed}"]
        summary = again
    elif pagefind is not None and not pagefind.ready:
        summary.warnings.append(f"search is off: {pagefind.problem}")
    return summary


def _build(data: SiteData, out: Path, *, site_url: str = "", embeds: str = "static",
           title: str = "Hot Papers", per_page: int = 10, category_page: int = 50,
           feed_limit: int = 30, workers: int | None = None,
           pagefind: Pagefind | None = None, stamps: SiteStamps | None = None,
           details: Callable[..., SiteDetails] | None = None,
           fmt: str | None = None) -> BuildSummary:
    """Build the site of `data` into `out`: every builder queues its files, which are then
    made in `workers` processes (default: one per processor); then the search index, when
    `pagefind` is ready. With `stamps`, files are keyed by them (see SiteBuild)."""
    started = time.perf_counter()
    root = site_url.rstrip("/")
    search = pagefind is not None and pagefind.ready
    windows = [w for w in WINDOW_PAGES if any(r.window == w and r.method == "hot"
                                              for r in data.windows)]
    site = {"title": title, "base": base_path(site_url), "embeds": embeds,
            "feeds": bool(root), "search": search, "windows": windows}
    options = {"site_url": site_url, "embeds": embeds, "title": title, "per_page": per_page,
               "category_page": category_page, "feed_limit": feed_limit}
    categories = category_slugs(data.posts)
    keyed = {} if stamps is None else {  # a bulk load, or a new category: every file
        "everything": stamps.everything, "categories": categories}
    output = Output(out, _salt(**options, search=search, windows=windows, **keyed))
    if stamps is not None:
        output.meta = {"stamp": stamps.latest, "options": _options_key({**options, "fmt": fmt}),
                       "posts": bool(data.posts),
                       "search": pagefind.version if search and pagefind else None}
    env = environment(site)
    build = SiteBuild(data, output, env, site, root, per_page, feed_limit, category_page,
                      stamps, details, categories)
    for builder in BUILDERS:
        builder(build)
    prepare(env)  # what every process needs, made once before they part
    output.run(workers if workers is not None else _processors(), build.prepare)
    ran = index_site(output, pagefind, build.searched) if search and pagefind else None
    removed = output.finish()
    return BuildSummary(out=out, written=output.written, unchanged=output.unchanged,
                        rendered=output.rendered, removed=removed,
                        warnings=[] if root else [NO_SITE_URL], search=ran,
                        seconds=time.perf_counter() - started)


def _processors() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
