"""One builder per page kind, as pelican has one generator per kind: each queues the files it
makes on the build's Output, from the views `SiteBuild` makes once for all of them."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from hotpapers.models import Post, SiteData
from hotpapers.render.feeds import FeedDay, category_slugs, documents
from hotpapers.site.charts import attention_of
from hotpapers.site.context import DayView, PaperView, day_view, mention_card, paper_view
from hotpapers.site.output import Digests, Output, fingerprint

__all__ = ["BUILDERS", "SiteBuild"]

HERE = Path(__file__).parent
STATIC_FILES = ("style.css", "search.js")
SNIPPET = 240
FEEDS = ("rss.xml", "atom.xml", "feed.json")


@dataclass
class SiteBuild:
    """What the builders share: the data, the views made once from it, where files go."""

    data: SiteData
    output: Output
    env: Any  # the Jinja2 environment (site/jinja.py)
    site: dict  # what every template sees as `site`: title, base, embeds
    root: str  # site_url without its trailing slash: the feeds' and sitemap's origin
    per_page: int
    feed_limit: int
    # made from the data here, once:
    categories: list[str] = field(init=False)  # those of the posts' papers, sorted
    days: list[DayView] = field(init=False)  # newest first, as the posts
    papers: dict[str, PaperView] = field(init=False)  # the latest post's view of each
    digest: Digests = field(init=False, default_factory=Digests)
    feed_items: dict = field(init=False, default_factory=dict)  # shared by the feeds

    def __post_init__(self) -> None:
        posts = self.data.posts
        self.categories = category_slugs(posts)
        known = set(self.categories)
        by_key = {(m.source, m.native_id): m for ms in self.data.mentions.values() for m in ms}
        self.days = [day_view(p, self.base, known, by_key, self.site["embeds"]) for p in posts]
        self.papers = {}  # and the days each was on
        for post, day in zip(posts, self.days, strict=True):
            for entry, view in zip(post.entries, day.papers, strict=True):
                if entry.paper.id not in self.papers:
                    self.papers[entry.paper.id] = paper_view(entry.paper, self.base, known)
                self.papers[entry.paper.id].days.append((day.day, day.url, view.rank))

    @property
    def base(self) -> str:
        return self.site["base"]

    @property
    def pages(self) -> int:
        """How many home pages the days fill."""
        return max(1, -(-len(self.days) // self.per_page))

    def page(self, template: str, relative: str, key: Callable[[], object],
             **context: object) -> None:
        """A page to make from `template`; `key()` gives the data it shows (called where the
        page is made, so in parallel)."""
        url = self.base + "/" + relative.removesuffix("index.html")
        env, site = self.env, self.site
        self.output.add_file(relative, lambda: fingerprint(template, key()),
                             lambda: env.get_template(template).render(site=site, page=url,
                                                                       **context))

    def home_url(self, number: int) -> str:
        return f"{self.base}/" if number == 1 else f"{self.base}/page/{number}/"


def day_pages(build: SiteBuild) -> None:
    """`{day}/index.html`: the day's papers, with links to the days before and after."""
    days, digest = build.days, build.digest
    for i, day in enumerate(days):
        newer = days[i - 1] if i > 0 else None
        older = days[i + 1] if i + 1 < len(days) else None
        neighbours = [(d.url, d.label) if d else None for d in (newer, older)]
        build.page("day.html", f"{day.day}/index.html", lambda day=day, neighbours=neighbours: (
            digest(day), neighbours), day=day, newer=newer, older=older)


def home_pages(build: SiteBuild) -> None:
    """`index.html`, `page/N/index.html`: the latest days, newest first, `per_page` a page."""
    pages, per_page, digest = build.pages, build.per_page, build.digest
    for number in range(1, pages + 1):
        shown = build.days[(number - 1) * per_page:number * per_page]
        links = (build.home_url(number - 1) if number > 1 else None,
                 build.home_url(number + 1) if number < pages else None)
        build.page("index.html", "index.html" if number == 1 else f"page/{number}/index.html",
                   lambda shown=shown, number=number, links=links: (
                       [digest(d) for d in shown], number, pages, links),
                   days=shown, number=number, pages=pages, newer=links[0], older=links[1])


def paper_pages(build: SiteBuild) -> None:
    """`papers/{slug}.html`: a paper, its days, every live mention, its attention."""
    data, embeds = build.data, build.site["embeds"]
    for view in build.papers.values():
        build.page("paper.html", view.url.removeprefix(build.base + "/"),
                   lambda view=view: completed(view, data, embeds), paper=view)


def completed(view: PaperView, data: SiteData, embeds: str) -> PaperView:
    """The paper's view with every mention and its attention per source (made with its
    page)."""
    if view.attention is None and not view.mentions:
        mentions = data.mentions.get(view.id, [])
        view.mentions = [mention_card(m, None, embeds) for m in mentions]
        view.attention = attention_of(mentions, data.totals.get(view.id, []))
    return view


def search_index(build: SiteBuild) -> None:
    """`search-index.json`: each paper's id, title, authors, the start of its abstract."""
    search = []
    for view in build.papers.values():
        abstract = " ".join(view.abstract.split())
        search.append({"id": view.id, "title": view.title, "authors": view.authors,
                       "abstract": abstract[:SNIPPET] + ("…" if len(abstract) > SNIPPET else ""),
                       "url": view.url})
    build.output.add_file("search-index.json", lambda: fingerprint(search), lambda: json.dumps(
        search, ensure_ascii=False, separators=(",", ":")) + "\n")


def category_pages(build: SiteBuild) -> None:
    """`categories/{cat}/index.html` and that category's feeds; `categories/index.html`."""
    days, posts, digest = build.days, build.data.posts, build.digest
    for category, having in category_index(posts, build.categories).items():
        listed = [(days[i], [days[i].papers[p] for p in positions]) for i, positions in having]
        build.page("category.html", f"categories/{category}/index.html",
                   lambda category=category, having=having: (
                       category, [(digest(days[i]), positions) for i, positions in having]),
                   category=category, listed=listed)
        entries = [FeedDay(posts[i], [(p + 1, posts[i].entries[p]) for p in positions],
                           build.root, category, build.feed_items)
                   for i, positions in having[:build.feed_limit]]
        _feed(build, f"categories/{category}/", entries, category)
    categories = build.categories
    build.page("categories.html", "categories/index.html", lambda: categories,
               categories=[(c, f"{build.base}/categories/{c}/") for c in categories])


def category_index(posts: list[Post], categories: list[str]
                   ) -> dict[str, list[tuple[int, list[int]]]]:
    """For each category, the days (index in `posts`) having its papers, and the positions
    of those papers: a paper is in a category when one of its categories is it or lies
    under it (`cs` holds `cs.LG`), as `feeds.matches_category` says."""
    holders = _Holders(set(categories))
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


class _Holders:
    """The known categories a paper's category is in (itself, and those it lies under)."""

    def __init__(self, known: set[str]):
        self.known = known
        self.found: dict[str, list[str]] = {}

    def __call__(self, name: str) -> list[str]:
        found = self.found.get(name)
        if found is None:
            parts = name.split(".")
            found = self.found[name] = [
                p for p in (".".join(parts[:n]) for n in range(1, len(parts) + 1))
                if p in self.known]
        return found


def feeds(build: SiteBuild) -> None:
    """`rss.xml`, `atom.xml`, `feed.json`: the latest `feed_limit` days, every paper."""
    entries = [FeedDay(post, list(enumerate(post.entries, start=1)), build.root, None,
                       build.feed_items) for post in build.data.posts[:build.feed_limit]]
    _feed(build, "", entries, None)


def _feed(build: SiteBuild, folder: str, entries: list[FeedDay], category: str | None) -> None:
    """The three documents of one feed, made together."""
    build.output.add([folder + name for name in FEEDS],
                     lambda: fingerprint(category, [e.inputs() for e in entries]),
                     partial(_feed_documents, entries, build.root, build.site["title"], category))


def _feed_documents(entries: list[FeedDay], root: str, title: str,
                    category: str | None) -> list[bytes]:
    made = documents(entries, root, title, category)
    return [made[name] for name in FEEDS]


def archive_page(build: SiteBuild) -> None:
    """`archive/index.html`: the days by month."""
    months: dict[str, list] = {}
    for day in build.days:
        months.setdefault(day.day[:7], []).append(day)
    build.page("archive.html", "archive/index.html", lambda: [
        (m, [(d.url, d.label, len(d.papers)) for d in ds]) for m, ds in months.items()],
        months=list(months.items()))


def not_found_page(build: SiteBuild) -> None:
    build.page("404.html", "404.html", lambda: None)


def sitemap(build: SiteBuild) -> None:
    """`sitemap.xml`: every page but the 404, each day's with the time it was made."""
    base, root = build.base, build.root
    locations = [f"{base}/", f"{base}/archive/", f"{base}/categories/",
                 *(f"{base}/page/{n}/" for n in range(2, build.pages + 1)),
                 *(d.url for d in build.days), *(p.url for p in build.papers.values()),
                 *(f"{base}/categories/{c}/" for c in build.categories)]
    origin = root.removesuffix(base) if base else root
    dated = {d.url: d.generated or None for d in build.days}
    urls = [(origin + loc, dated.get(loc)) for loc in dict.fromkeys(locations)]
    env = build.env
    build.output.add_file("sitemap.xml", lambda: fingerprint(urls),
                          lambda: env.get_template("sitemap.xml").render(urls=urls))


def robots(build: SiteBuild) -> None:
    robots = "User-agent: *\nAllow: /\n"
    if build.root:
        robots += f"Sitemap: {build.root}/sitemap.xml\n"
    build.output.add_file("robots.txt", lambda: fingerprint(robots), lambda: robots)


def static_files(build: SiteBuild) -> None:
    """`favicon.svg`, `static/style.css`, `static/search.js`, copied as they are."""
    for name in ("favicon.svg", *(f"static/{n}" for n in STATIC_FILES)):
        build.output.add_file(name, lambda: "static", lambda name=name: (
            HERE / "static" / Path(name).name).read_bytes())


# In the order their files are queued (and so made).
BUILDERS: tuple[Callable[[SiteBuild], None], ...] = (
    day_pages, home_pages, paper_pages, search_index, category_pages, feeds, archive_page,
    not_found_page, sitemap, robots, static_files)
