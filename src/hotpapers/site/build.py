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

Incremental: every file has a fingerprint of the data it is made from (see `output.py`); a
rebuild renders only the files whose fingerprint changed, writes them only when their bytes
differ, and removes the files an earlier build made that are no longer made. Output depends
only on the store, never on the clock.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from hotpapers import __version__
from hotpapers.models import SiteData
from hotpapers.site.context import base_path
from hotpapers.site.jinja import environment, prepare
from hotpapers.site.output import Output, fingerprint, folder_lock
from hotpapers.site.pages import BUILDERS, SiteBuild
from hotpapers.site.search_index import Pagefind, SearchRun, find_pagefind, index_site
from hotpapers.site.windows import WINDOW_PAGES

__all__ = ["EMBED_MODES", "BuildSummary", "build_from"]

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


def _salt(**options: object) -> str:
    """What every file depends on besides its data: the build's options, and the code and
    templates that render (so that a new version, even unreleased, makes every file again)."""
    package = HERE.parent
    sources = [*HERE.rglob("*"), *(package / "render").rglob("*"), package / "models.py",
               package / "store" / "site_data.py"]
    parts = [__version__, sorted(options.items())]
    parts += [(str(path.relative_to(package)), path.read_bytes())
              for path in sorted(sources) if path.is_file() and path.suffix != ".pyc"]
    return fingerprint(*parts)


def build_from(data: SiteData, out: Path, **options) -> BuildSummary:
    """Build the site of `data` into `out` (see _build), one build at a time per folder.
    When Pagefind fails on the pages made, they are made again without a search box."""
    embeds = options.get("embeds", "static")
    if embeds not in EMBED_MODES:
        raise ValueError(f"embeds must be one of {', '.join(EMBED_MODES)}: {embeds!r}")
    for name in ("per_page", "category_page"):
        if options.get(name, 1) < 1:
            raise ValueError(f"{name} must be at least 1")
    with folder_lock(Path(out)):
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
           pagefind: Pagefind | None = None) -> BuildSummary:
    """Build the site of `data` into `out`: every builder queues its files, which are then
    made in `workers` processes (default: one per processor); then the search index, when
    `pagefind` is ready."""
    started = time.perf_counter()
    root = site_url.rstrip("/")
    search = pagefind is not None and pagefind.ready
    windows = [w for w in WINDOW_PAGES if any(r.window == w and r.method == "hot"
                                              for r in data.windows)]
    site = {"title": title, "base": base_path(site_url), "embeds": embeds,
            "feeds": bool(root), "search": search, "windows": windows}
    output = Output(out, _salt(site_url=site_url, embeds=embeds, title=title,
                               per_page=per_page, category_page=category_page,
                               feed_limit=feed_limit, search=search, windows=windows))
    env = environment(site)
    build = SiteBuild(data, output, env, site, root, per_page, feed_limit, category_page)
    for builder in BUILDERS:
        builder(build)
    prepare(env)  # what every process needs, made once before they part
    output.run(workers if workers is not None else _processors())
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
