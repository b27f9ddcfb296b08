"""`hotpapers site build`: the static site, rendered from the store with Jinja2.

Pages (root-relative links under the path of `site_url`):

- `index.html`, `page/N/index.html`: the latest days, newest first, `per_page` a page;
- `{day}/index.html`: the day's papers in the post's order, with the mentions it showed;
- `papers/{slug}/index.html`: a paper, its days, every live mention, a sparkline;
- `categories/index.html`, `categories/{cat}/index.html` (+ that category's feeds);
- `archive/index.html` (by month), `404.html`, `sitemap.xml`, `robots.txt`, `favicon.svg`,
  `rss.xml`, `atom.xml`, `feed.json`, `search-index.json`, `static/style.css`,
  `static/search.js`.

Incremental: each file is rendered, compared with the file on disk and written (atomically)
only when its bytes differ. Output depends only on the store, never on the clock.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, select

from hotpapers.models import Mention, Post
from hotpapers.render.feeds import category_slugs, feed_documents, matches_category
from hotpapers.render.write import write_atomic
from hotpapers.site.context import (
    COUNTS,
    base_path,
    day_view,
    mention_card,
    paper_view,
    sparkline,
    total_series,
)
from hotpapers.store.mentions import load_mentions
from hotpapers.store.papers import load_attention
from hotpapers.store.posts import load_post
from hotpapers.store.schema import posts as posts_table

__all__ = ["EMBED_MODES", "BuildSummary", "build_site", "load_site_posts"]

EMBED_MODES = ("static", "oembed")
HERE = Path(__file__).parent
STATIC_FILES = ("style.css", "search.js")
SNIPPET = 240
_CHUNK = 500


@dataclass
class BuildSummary:
    out: Path
    written: list[str] = field(default_factory=list)
    unchanged: int = 0
    seconds: float = 0.0

    @property
    def index(self) -> Path:
        return self.out / "index.html"

    def line(self) -> str:
        return (f"Done: {len(self.written)} pages written, {self.unchanged} unchanged in "
                f"{self.seconds:.2f} s: {self.index}")


class _Writer:
    """Writes a file only when its bytes differ from the file on disk."""

    def __init__(self, out: Path, summary: BuildSummary):
        self.out = out
        self.summary = summary

    def __call__(self, relative: str, content: str | bytes) -> None:
        data = content.encode("utf-8") if isinstance(content, str) else content
        path = self.out / relative
        try:
            if path.read_bytes() == data:
                self.summary.unchanged += 1
                return
        except OSError:
            pass
        write_atomic(path, data, durable=False)  # the store is the record; rebuildable
        self.summary.written.append(relative)


def _environment():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    return Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True,
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                       keep_trailing_newline=True)


def load_site_posts(engine: Engine, fmt: str = "lumen") -> list[Post]:
    """Every day's published post in format `fmt`, newest first."""
    with engine.connect() as conn:
        days = conn.execute(select(posts_table.c.day).where(posts_table.c.format == fmt)
                            .order_by(posts_table.c.day.desc())).scalars().all()
        found = [load_post(conn, day, fmt) for day in days]
    return [p for p in found if p is not None]


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]


def _load_attention(engine: Engine, paper_ids: list[str]
                    ) -> tuple[dict[str, list[Mention]], dict[str, list[dict]]]:
    by_paper: dict[str, list[Mention]] = defaultdict(list)
    totals: dict[str, list[dict]] = defaultdict(list)
    with engine.connect() as conn:
        for chunk in _chunks(paper_ids):
            for mention in load_mentions(conn, chunk):
                for paper_id in mention.paper_ids:
                    by_paper[paper_id].append(mention)
            for row in load_attention(conn, chunk):
                totals[row["paper_id"]].append(row)
    return by_paper, totals


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


def build_site(engine: Engine, out: Path, *, site_url: str = "", embeds: str = "static",
               title: str = "Hot Papers", fmt: str = "lumen", per_page: int = 10,
               feed_limit: int = 30) -> BuildSummary:
    """Build the site into `out` from the store; returns what was written."""
    if embeds not in EMBED_MODES:
        raise ValueError(f"embeds must be one of {', '.join(EMBED_MODES)}: {embeds!r}")
    if per_page < 1:
        raise ValueError("per_page must be at least 1")
    started = time.perf_counter()
    out = Path(out)
    summary = BuildSummary(out=out)
    write = _Writer(out, summary)
    env = _environment()
    base = base_path(site_url)
    root = site_url.rstrip("/")
    site = {"title": title, "base": base, "embeds": embeds}

    def render(template: str, relative: str, **context) -> None:
        page = "/" + relative.removesuffix("index.html")
        html = env.get_template(template).render(site=site, page=base + page, **context)
        write(relative, html)

    posts = load_site_posts(engine, fmt)
    categories = category_slugs(posts)
    known = set(categories)
    paper_ids = list(dict.fromkeys(e.paper.id for p in posts for e in p.entries))
    mentions_of, totals_of = _load_attention(engine, paper_ids)
    by_key = {(m.source, m.native_id): m for ms in mentions_of.values() for m in ms}
    days = [day_view(p, base, known, by_key, embeds) for p in posts]

    # Days, and the home page in pages.
    for i, day in enumerate(days):
        newer = days[i - 1] if i > 0 else None
        older = days[i + 1] if i + 1 < len(days) else None
        render("day.html", f"{day.day}/index.html", day=day, newer=newer, older=older)
    pages = _pages(len(days), per_page)
    for number in range(1, pages + 1):
        relative = "index.html" if number == 1 else f"page/{number}/index.html"

        def page_url(n: int) -> str:
            return f"{base}/" if n == 1 else f"{base}/page/{n}/"

        render("index.html", relative, days=days[(number - 1) * per_page:number * per_page],
               number=number, pages=pages,
               newer=page_url(number - 1) if number > 1 else None,
               older=page_url(number + 1) if number < pages else None)

    # Papers: the latest post's view of each, every live mention, the days it was on.
    papers = {}
    for post, day in zip(posts, days, strict=True):
        for entry, view in zip(post.entries, day.papers, strict=True):
            if entry.paper.id not in papers:
                papers[entry.paper.id] = paper_view(entry.paper, base, known)
            papers[entry.paper.id].days.append((day.day, day.url, view.rank))
    search = []
    for paper_id, view in papers.items():
        mentions = mentions_of.get(paper_id, [])
        view.mentions = [mention_card(m, None, embeds) for m in mentions]
        view.sparkline = sparkline(_attention_points(mentions, totals_of.get(paper_id, [])))
        render("paper.html", f"papers/{view.url.removeprefix(base + '/papers/')}index.html",
               paper=view)
        abstract = " ".join(view.abstract.split())
        search.append({"id": view.id, "title": view.title, "authors": view.authors,
                       "abstract": abstract[:SNIPPET] + ("…" if len(abstract) > SNIPPET else ""),
                       "url": view.url})
    write("search-index.json",
          json.dumps(search, ensure_ascii=False, separators=(",", ":")) + "\n")

    # Categories and their feeds; the feeds of all days.
    for category in categories:
        listed, having = [], []  # the days with papers of the category, and their posts
        for post, day in zip(posts, days, strict=True):
            chosen = [p for p in day.papers
                      if matches_category([c for c, _ in p.categories], category)]
            if chosen:
                listed.append((day, chosen))
                having.append(post)
        render("category.html", f"categories/{category}/index.html", category=category,
               listed=listed)
        for name, data in feed_documents(having, root, title, category, feed_limit).items():
            write(f"categories/{category}/{name}", data)
    render("categories.html", "categories/index.html",
           categories=[(c, f"{base}/categories/{c}/") for c in categories])
    for name, data in feed_documents(posts, root, title, None, feed_limit).items():
        write(name, data)

    # Archive by month, 404, sitemap, robots, static files.
    months: dict[str, list] = {}
    for day in days:
        months.setdefault(day.day[:7], []).append(day)
    render("archive.html", "archive/index.html", months=list(months.items()))
    render("404.html", "404.html")
    locations = [f"{base}/", f"{base}/archive/", f"{base}/categories/",
                 *(f"{base}/page/{n}/" for n in range(2, pages + 1)),
                 *(d.url for d in days), *(p.url for p in papers.values()),
                 *(f"{base}/categories/{c}/" for c in categories)]
    origin = root.removesuffix(base) if base else root
    write("sitemap.xml", env.get_template("sitemap.xml").render(
        urls=[(origin + loc, lastmod) for loc, lastmod in _lastmods(locations, days)]))
    robots = "User-agent: *\nAllow: /\n"
    if root:
        robots += f"Sitemap: {root}/sitemap.xml\n"
    write("robots.txt", robots)
    write("favicon.svg", (HERE / "static" / "favicon.svg").read_bytes())
    for name in STATIC_FILES:
        write(f"static/{name}", (HERE / "static" / name).read_bytes())
    summary.seconds = time.perf_counter() - started
    return summary


def _lastmods(locations: list[str], days: list) -> list[tuple[str, str | None]]:
    dated = {d.url: d.generated or None for d in days}
    return [(loc, dated.get(loc)) for loc in dict.fromkeys(locations)]
