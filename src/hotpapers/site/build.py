"""`hotpapers site build`: the static site, rendered from the store with Jinja2.

Pages (root-relative links under the path of `site_url`):

- `index.html`, `page/N/index.html`: the latest days, newest first, `per_page` a page;
- `{day}/index.html`: the day's papers in the post's order, with the mentions it showed;
- `papers/{slug}.html`: a paper, its days, every live mention, a sparkline;
- `categories/index.html`, `categories/{cat}/index.html` (+ that category's feeds);
- `archive/index.html` (by month), `404.html`, `sitemap.xml`, `robots.txt`, `favicon.svg`,
  `rss.xml`, `atom.xml`, `feed.json`, `search-index.json`, `static/style.css`,
  `static/search.js`.

Incremental: every file has a fingerprint of the data it is made from (see `output.py`); a
rebuild renders only the files whose fingerprint changed, writes them only when their bytes
differ, and removes the files an earlier build made that are no longer made. Output depends
only on the store, never on the clock.
"""

from __future__ import annotations

import json
import os
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from hotpapers import __version__
from hotpapers.models import Mention, Post, SiteData
from hotpapers.render.feeds import FeedDay, category_slugs, documents
from hotpapers.site.context import (
    COUNTS,
    DayView,
    PaperView,
    base_path,
    day_view,
    mention_card,
    paper_view,
    sparkline,
    total_series,
)
from hotpapers.site.jinja import environment, prepare
from hotpapers.site.output import Digests, Output, fingerprint, folder_lock

__all__ = ["EMBED_MODES", "BuildSummary", "build_from"]

EMBED_MODES = ("static", "oembed")
HERE = Path(__file__).parent
STATIC_FILES = ("style.css", "search.js")
SNIPPET = 240


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


def _attention_points(mentions: list[Mention], totals: list[dict]
                      ) -> list[tuple[datetime, int]]:
    """A paper's attention over time: its mentions' observed counts summed; a paper with no
    observed mention falls back on the paper-level totals stored (imported days)."""
    series = [[(o.observed_at, sum(getattr(o, c) or 0 for c in COUNTS))
               for o in m.observations] for m in mentions if m.observations]
    if not series:
        by_source: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
        for row in totals:
            by_source[row["source"]].append(
                (row["observed_at"], sum(row.get(c) or 0 for c in COUNTS)))
        series = list(by_source.values())
    return total_series(series)


def _pages(count: int, per_page: int) -> int:
    return max(1, -(-count // per_page))


def _category_index(posts: list[Post], categories: list[str]
                    ) -> dict[str, list[tuple[int, list[int]]]]:
    """For each category, the days (index in `posts`) having its papers, and the positions
    of those papers: a paper is in a category when one of its categories is it or lies
    under it (`cs` holds `cs.LG`), as `feeds.matches_category` says."""
    known = set(categories)
    under: dict[str, list[str]] = {}  # a paper's category -> the known ones it is in

    def holders(name: str) -> list[str]:
        found = under.get(name)
        if found is None:
            parts = name.split(".")
            found = under[name] = [p for p in (".".join(parts[:n])
                                               for n in range(1, len(parts) + 1)) if p in known]
        return found

    index: dict[str, list[tuple[int, list[int]]]] = {c: [] for c in categories}
    for i, post in enumerate(posts):
        chosen: dict[str, list[int]] = {}
        for position, entry in enumerate(post.entries):
            for category in dict.fromkeys(c for name in entry.paper.categories
                                          if isinstance(name, str) for c in holders(name)):
                chosen.setdefault(category, []).append(position)
        for category, positions in chosen.items():
            index[category].append((i, positions))
    return index



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
    """Build the site of `data` into `out`, rendering in `workers` processes (default: one
    per processor)."""
    started = time.perf_counter()
    out = Path(out)
    base = base_path(site_url)
    root = site_url.rstrip("/")
    site = {"title": title, "base": base, "embeds": embeds}
    output = Output(out, _salt(site_url=site_url, embeds=embeds, title=title,
                               per_page=per_page, feed_limit=feed_limit))
    env = environment(site)
    digest = Digests()

    def page(template: str, relative: str, key: Callable[[], object], **context) -> None:
        """A page to make from `template`; `key()` gives the data it shows (called where the
        page is made, so in parallel)."""
        url = base + "/" + relative.removesuffix("index.html")
        output.add_file(relative, lambda: fingerprint(template, key()), lambda: env.get_template(
            template).render(site=site, page=url, **context))

    posts = data.posts
    categories = category_slugs(posts)
    known = set(categories)
    by_key = {(m.source, m.native_id): m for ms in data.mentions.values() for m in ms}
    days = [day_view(p, base, known, by_key, embeds) for p in posts]

    # Days, and the home page in pages.
    for i, day in enumerate(days):
        newer = days[i - 1] if i > 0 else None
        older = days[i + 1] if i + 1 < len(days) else None
        neighbours = [(d.url, d.label) if d else None for d in (newer, older)]
        page("day.html", f"{day.day}/index.html", lambda day=day, neighbours=neighbours: (
            digest(day), neighbours), day=day, newer=newer, older=older)
    pages = _pages(len(days), per_page)

    def page_url(n: int) -> str:
        return f"{base}/" if n == 1 else f"{base}/page/{n}/"

    for number in range(1, pages + 1):
        shown = days[(number - 1) * per_page:number * per_page]
        links = (page_url(number - 1) if number > 1 else None,
                 page_url(number + 1) if number < pages else None)
        page("index.html", "index.html" if number == 1 else f"page/{number}/index.html",
             lambda shown=shown, number=number, links=links: (
                 [digest(d) for d in shown], number, pages, links),
             days=shown, number=number, pages=pages, newer=links[0], older=links[1])

    # Papers: the latest post's view of each, every live mention, the days it was on.
    papers: dict[str, PaperView] = {}
    for post, day in zip(posts, days, strict=True):
        for entry, view in zip(post.entries, day.papers, strict=True):
            if entry.paper.id not in papers:
                papers[entry.paper.id] = paper_view(entry.paper, base, known)
            papers[entry.paper.id].days.append((day.day, day.url, view.rank))

    def completed(view: PaperView) -> PaperView:
        """The paper's view with every mention and the sparkline (made with its page)."""
        if view.sparkline is None and not view.mentions:
            mentions = data.mentions.get(view.id, [])
            view.mentions = [mention_card(m, None, embeds) for m in mentions]
            view.sparkline = sparkline(_attention_points(mentions, data.totals.get(view.id, [])))
        return view

    search = []
    for view in papers.values():
        page("paper.html", view.url.removeprefix(base + "/"),
             lambda view=view: completed(view), paper=view)
        abstract = " ".join(view.abstract.split())
        search.append({"id": view.id, "title": view.title, "authors": view.authors,
                       "abstract": abstract[:SNIPPET] + ("…" if len(abstract) > SNIPPET else ""),
                       "url": view.url})
    output.add_file("search-index.json", lambda: fingerprint(search), lambda: json.dumps(
        search, ensure_ascii=False, separators=(",", ":")) + "\n")

    # Categories and their feeds; the feeds of all days.
    items: dict = {}  # a paper's feed item, made once per day and rank
    for category, having in _category_index(posts, categories).items():
        listed = [(days[i], [days[i].papers[p] for p in positions]) for i, positions in having]
        page("category.html", f"categories/{category}/index.html",
             lambda category=category, having=having: (
                 category, [(digest(days[i]), positions) for i, positions in having]),
             category=category, listed=listed)
        entries = [FeedDay(posts[i], [(p + 1, posts[i].entries[p]) for p in positions],
                           root, category, items) for i, positions in having[:feed_limit]]
        _feeds(output, f"categories/{category}/", entries, root, title, category)
    page("categories.html", "categories/index.html", lambda: categories,
         categories=[(c, f"{base}/categories/{c}/") for c in categories])
    entries = [FeedDay(post, list(enumerate(post.entries, start=1)), root, None, items)
               for post in posts[:feed_limit]]
    _feeds(output, "", entries, root, title, None)

    # Archive by month, 404, sitemap, robots, static files.
    months: dict[str, list] = {}
    for day in days:
        months.setdefault(day.day[:7], []).append(day)
    page("archive.html", "archive/index.html", lambda: [
        (m, [(d.url, d.label, len(d.papers)) for d in ds]) for m, ds in months.items()],
         months=list(months.items()))
    page("404.html", "404.html", lambda: None)
    locations = [f"{base}/", f"{base}/archive/", f"{base}/categories/",
                 *(f"{base}/page/{n}/" for n in range(2, pages + 1)),
                 *(d.url for d in days), *(p.url for p in papers.values()),
                 *(f"{base}/categories/{c}/" for c in categories)]
    origin = root.removesuffix(base) if base else root
    urls = [(origin + loc, lastmod) for loc, lastmod in _lastmods(locations, days)]
    output.add_file("sitemap.xml", lambda: fingerprint(urls),
                    lambda: env.get_template("sitemap.xml").render(urls=urls))
    robots = "User-agent: *\nAllow: /\n"
    if root:
        robots += f"Sitemap: {root}/sitemap.xml\n"
    output.add_file("robots.txt", lambda: fingerprint(robots), lambda: robots)
    for name in ("favicon.svg", *(f"static/{n}" for n in STATIC_FILES)):
        output.add_file(name, lambda: "static", lambda name=name: (
            HERE / "static" / Path(name).name).read_bytes())

    prepare(env)  # what every process needs, made once before they part
    output.run(workers if workers is not None else _processors())
    removed = output.finish()
    warnings = [] if root else [
        "site_url is not set, so the feeds' links and entry ids are relative: feed readers "
        "cannot follow them. Set site_url (or HOTPAPERS_SITE_URL) to the site's address"]
    return BuildSummary(out=out, written=output.written, unchanged=output.unchanged,
                        rendered=output.rendered, removed=removed, warnings=warnings,
                        seconds=time.perf_counter() - started)


def _feeds(output: Output, folder: str, entries: list[FeedDay], root: str, title: str,
           category: str | None) -> None:
    """The three documents of one feed, made together."""
    names = ("rss.xml", "atom.xml", "feed.json")

    def key() -> str:
        return fingerprint(category, [e.inputs() for e in entries])

    def make() -> list[bytes]:
        made = documents(entries, root, title, category)
        return [made[name] for name in names]

    output.add([folder + name for name in names], key, make)


def _processors() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _lastmods(locations: list[str], days: list[DayView]) -> list[tuple[str, str | None]]:
    dated = {d.url: d.generated or None for d in days}
    return [(loc, dated.get(loc)) for loc in dict.fromkeys(locations)]
