"""The static site, rendered with Jinja2 from the data `jobs/build_site.py` reads.

Pages (root-relative links under the path of `site_url`):

- `index.html`, `page/N/index.html`: the latest days, newest first, `per_page` a page;
- `{day}/index.html`: the day's papers in the post's order, with the mentions it showed;
- `papers/{slug}.html`: a paper, its days, every live mention, a sparkline;
- `categories/index.html`, `categories/{cat}/index.html` (+ that category's feeds);
- `archive/index.html` (by month), `404.html`, `sitemap.xml`, `robots.txt`, `favicon.svg`,
  `rss.xml`, `atom.xml`, `feed.json`, `search-index.json`, `static/style.css`,
  `static/search.js`.

Each kind of page has its builder in `pages.py`; `build_from` runs them in turn, then makes
the files they queued.

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

__all__ = ["EMBED_MODES", "BuildSummary", "build_from"]

EMBED_MODES = ("static", "oembed")
HERE = Path(__file__).parent


@dataclass
class BuildSummary:
    out: Path
    written: list[str] = field(default_factory=list)
    unchanged: int = 0
    rendered: int = 0  # files made this time (written or found the same), not kept as were
    removed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def index(self) -> Path:
        return self.out / "index.html"

    def line(self) -> str:
        removed = f", {len(self.removed)} removed" if self.removed else ""
        return (f"Done: {len(self.written)} pages written, {self.unchanged} unchanged{removed} "
                f"in {self.seconds:.2f} s: {self.index}")


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
    """Build the site of `data` into `out` (see _build), one build at a time per folder."""
    embeds = options.get("embeds", "static")
    if embeds not in EMBED_MODES:
        raise ValueError(f"embeds must be one of {', '.join(EMBED_MODES)}: {embeds!r}")
    if options.get("per_page", 1) < 1:
        raise ValueError("per_page must be at least 1")
    with folder_lock(Path(out)):
        return _build(data, Path(out), **options)


def _build(data: SiteData, out: Path, *, site_url: str = "", embeds: str = "static",
           title: str = "Hot Papers", per_page: int = 10, feed_limit: int = 30,
           workers: int | None = None) -> BuildSummary:
    """Build the site of `data` into `out`: every builder queues its files, which are then
    made in `workers` processes (default: one per processor)."""
    started = time.perf_counter()
    root = site_url.rstrip("/")
    site = {"title": title, "base": base_path(site_url), "embeds": embeds}
    output = Output(out, _salt(site_url=site_url, embeds=embeds, title=title,
                               per_page=per_page, feed_limit=feed_limit))
    env = environment(site)
    build = SiteBuild(data, output, env, site, root, per_page, feed_limit)
    for builder in BUILDERS:
        builder(build)
    prepare(env)  # what every process needs, made once before they part
    output.run(workers if workers is not None else _processors())
    removed = output.finish()
    warnings = [] if root else [
        "site_url is not set, so the feeds' links and entry ids are relative: feed readers "
        "cannot follow them. Set site_url (or HOTPAPERS_SITE_URL) to the site's address"]
    return BuildSummary(out=out, written=output.written, unchanged=output.unchanged,
                        rendered=output.rendered, removed=removed, warnings=warnings,
                        seconds=time.perf_counter() - started)


def _processors() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
