"""One builder per page kind, as pelican has one generator per kind: each queues the files it
makes on the build's Output, from the views `SiteBuild` makes once for all of them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from hotpapers.models import SiteData, SiteDetails, SiteStamps
from hotpapers.render.feeds import (
    FeedDay,
    FeedWindow,
    category_slugs,
    documents,
    window_documents,
)
from hotpapers.site.categories import by_day as _by_day
from hotpapers.site.categories import category_index
from hotpapers.site.charts import attention_of
from hotpapers.site.context import (
    DayView,
    PaperView,
    day_cards,
    day_view,
    mention_card,
    paper_view,
)
from hotpapers.site.output import Digests, Output, fingerprint
from hotpapers.site.windows import WINDOW_PAGES, window_lists

__all__ = ["BUILDERS", "SiteBuild"]

HERE = Path(__file__).parent
FEEDS = ("rss.xml", "atom.xml", "feed.json")
SEARCHED = ("day.html", "paper.html")  # the pages whose main content search indexes


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
    category_page: int  # papers on a category's page
    # With stamps, a page's key is made from the stamps of the days and papers it shows,
    # and `details` gives the heavy data of the pages to make only; without, from its data.
    stamps: SiteStamps | None = None
    details: Callable[..., SiteDetails] | None = None
    # made from the data here, once (the categories: unless given):
    categories: list[str] | None = None  # those of the posts' papers, sorted
    days: list[DayView] = field(init=False)  # newest first, as the posts
    papers: dict[str, PaperView] = field(init=False)  # the latest post's view of each
    digest: Digests = field(init=False, default_factory=Digests)
    feed_items: dict = field(init=False, default_factory=dict)  # shared by the feeds
    searched: list[str] = field(init=False, default_factory=list)  # the pages search indexes
    category_urls: list[str] = field(init=False, default_factory=list)  # their pages 2, 3...

    def __post_init__(self) -> None:
        posts = self.data.posts
        if self.categories is None:
            self.categories = category_slugs(posts)
        known = set(self.categories)
        by_key = None if self.stamps is not None else self._by_key()  # else when made
        self.days = [day_view(p, self.base, known, by_key, self.site["embeds"]) for p in posts]
        self._day_keys: dict[int, object] = {}
        self._cards: dict | None = None  # the mentions the days' cards show (see prepare)
        self._carded: set[int] = set()
        self.papers = {}  # and the days each was on
        self._known, self._paper_of = known, {}
        for post, day in zip(posts, self.days, strict=True):
            for rank, entry in enumerate(post.entries, start=1):
                if entry.paper.id not in self.papers:
                    self.papers[entry.paper.id] = paper_view(entry.paper, self.base, known)
                    self._paper_of[entry.paper.id] = entry.paper
                self.papers[entry.paper.id].days.append((day.day, day.url, rank))

    def _by_key(self) -> dict:
        return {(m.source, m.native_id): m for ms in self.data.mentions.values() for m in ms}

    def day_key(self, index: int) -> object:
        """What the `index`th day shows: its stamp and its papers' (with stamps), else the
        digest of its view."""
        found = self._day_keys.get(index)
        if found is None:
            if self.stamps is None:
                found = self.digest(self.days[index])
            else:
                post, stamps = self.data.posts[index], self.stamps
                day = post.day.isoformat()
                found = (day, stamps.days.get(day, 0),
                         tuple(stamps.papers.get(e.paper.id, 0) for e in post.entries))
            self._day_keys[index] = found
        return found

    def paper_key(self, view: PaperView) -> object:
        """What a paper's page shows: its stamp and its days' (with stamps), else its data."""
        if self.stamps is None:
            return completed(view, self.data, self.site["embeds"])
        days = self.stamps.days
        return (self.stamps.papers.get(view.id, 0),
                [(*shown, days.get(shown[0], 0)) for shown in view.days])

    def prepare(self, needs: list) -> None:
        """Before the pages to make are made (with stamps): read the details of the days
        and papers they show (`needs`: ("day", index), ("paper", id) and, for pages that
        list papers of days, ("titles", ((index, positions or None for all), ...)) or
        ("numbered", ((index, ((number, position), ...)), ...)))."""
        if self.stamps is None:
            return
        days = sorted({i for kind, i in needs if kind == "day"})
        papers = list(dict.fromkeys(p for kind, p in needs if kind == "paper"))
        posts = self.data.posts
        listed = [posts[i].entries if at is None else [posts[i].entries[p] for p in at]
                  for kind, shown in needs if kind == "titles" for i, at in shown]
        listed += [[posts[i].entries[p] for _, p in numbered]
                   for kind, shown in needs if kind == "numbered" for i, numbered in shown]
        if self.details is not None:
            found = self.details([posts[i].day for i in days], papers,
                                 [e.paper.id for entries in listed for e in entries])
            for i in days:
                for position, entry in enumerate(posts[i].entries, start=1):
                    entry.shown = found.shown.get((posts[i].day, position), [])
            self.data.mentions.update(found.mentions)
            self.data.totals.update(found.totals)
            by_key = found.by_key
        else:
            by_key = self._by_key()
        self._cards = by_key  # the cards are made with the pages (in parallel): see card_day

    def complete(self, view: PaperView) -> PaperView:
        """A paper's view as its page shows it (see completed); with stamps, its fields are
        made again from its paper, whose fields were read after the view was made."""
        if self.stamps is not None:
            fresh = paper_view(self._paper_of[view.id], self.base, self._known)
            view.__dict__.update({name: value for name, value in fresh.__dict__.items()
                                  if name not in ("days", "mentions", "attention")})
        return completed(view, self.data, self.site["embeds"])

    def card_day(self, index: int) -> None:
        """Give the `index`th day's view its mention cards, if not yet (with stamps)."""
        if self._cards is not None and index not in self._carded:
            self._carded.add(index)
            day_cards(self.days[index].papers, self.data.posts[index], self._cards,
                      self.site["embeds"])

    @property
    def base(self) -> str:
        return self.site["base"]

    @property
    def pages(self) -> int:
        """How many home pages the days fill."""
        return max(1, -(-len(self.days) // self.per_page))

    def page(self, template: str, relative: str, key: Callable[[], object],
             needs: tuple | None = None, ready: Callable[[], object] | None = None,
             later: Callable[[], dict] | None = None, **context: object) -> None:
        """A page to make from `template`; `key()` gives what it shows, `needs` the details
        making it needs (see prepare), `ready()` is called before it is made, `later()` gives
        more of its context then."""
        url = self.base + "/" + relative.removesuffix("index.html")
        env, site, searched = self.env, self.site, template in SEARCHED
        if searched:
            self.searched.append(relative)

        def make() -> str:
            if ready is not None:
                ready()
            more = later() if later is not None else {}
            return env.get_template(template).render(site=site, page=url, searched=searched,
                                                     **context, **more)

        self.output.add_file(relative, lambda: fingerprint(template, key()), make, needs)

    def home_url(self, number: int) -> str:
        return f"{self.base}/" if number == 1 else f"{self.base}/page/{number}/"


def day_pages(build: SiteBuild) -> None:
    """`{day}/index.html`: the day's papers, with links to the days before and after."""
    days = build.days
    for i, day in enumerate(days):
        newer = days[i - 1] if i > 0 else None
        older = days[i + 1] if i + 1 < len(days) else None
        neighbours = [(d.url, d.label) if d else None for d in (newer, older)]
        build.page("day.html", f"{day.day}/index.html", lambda i=i, neighbours=neighbours: (
            build.day_key(i), neighbours), ("day", i), partial(build.card_day, i), day=day,
            newer=newer, older=older)


def home_pages(build: SiteBuild) -> None:
    """`index.html`, `page/N/index.html`: the latest days, newest first, `per_page` a page."""
    pages, per_page = build.pages, build.per_page
    for number in range(1, pages + 1):
        first = (number - 1) * per_page
        shown = build.days[first:number * per_page]
        links = (build.home_url(number - 1) if number > 1 else None,
                 build.home_url(number + 1) if number < pages else None)
        build.page("index.html", "index.html" if number == 1 else f"page/{number}/index.html",
                   lambda first=first, shown=shown, number=number, links=links: (
                       [build.day_key(first + j) for j in range(len(shown))], number, pages,
                       links), ("titles", tuple((first + j, None) for j in range(len(shown)))),
                   days=shown, number=number, pages=pages, newer=links[0], older=links[1])


def paper_pages(build: SiteBuild) -> None:
    """`papers/{slug}.html`: a paper, its days, every live mention, its attention."""
    for view in build.papers.values():
        build.page("paper.html", view.url.removeprefix(build.base + "/"),
                   lambda view=view: build.paper_key(view), ("paper", view.id),
                   partial(build.complete, view), paper=view)


def completed(view: PaperView, data: SiteData, embeds: str) -> PaperView:
    """The paper's view with every mention and its attention per source (made with its
    page)."""
    if view.attention is None and not view.mentions:
        mentions = data.mentions.get(view.id, [])
        view.mentions = [mention_card(m, None, embeds) for m in mentions]
        view.attention = attention_of(mentions, data.totals.get(view.id, []))
    return view


def category_pages(build: SiteBuild) -> None:
    """`categories/{cat}/index.html`, `categories/{cat}/page/N/index.html`: the category's
    papers, newest day first and in their day's order, numbered across its pages, at most
    `category_page` a page; that category's feeds; `categories/index.html`."""
    days, posts, size = build.days, build.data.posts, build.category_page
    for category, having in category_index(posts, build.categories).items():
        papers = [(i, p) for i, positions in having for p in positions]  # (day, position)
        count, pages = len(papers), max(1, -(-len(papers) // size))
        for number in range(1, pages + 1):
            first = (number - 1) * size
            shown = _by_day(papers[first:first + size], first + 1)
            links = [_category_url(build.base, category, n) if 1 <= n <= pages else None
                     for n in (number - 1, number + 1)]
            url = _category_url(build.base, category, number)
            if number > 1:
                build.category_urls.append(url)
            build.page(
                "category.html", url.removeprefix(build.base + "/") + "index.html",
                lambda category=category, number=number, pages=pages, count=count,
                shown=shown: (category, number, pages, count,
                              [(build.day_key(i), numbered) for i, numbered in shown]),
                ("numbered", shown),
                category=category, number=number, pages=pages, count=count,
                later=lambda shown=shown: {"listed": [
                    (days[i], [(n, days[i].papers[p]) for n, p in numbered])
                    for i, numbered in shown]},
                newer=links[0], older=links[1])
        if build.root:
            entries = [FeedDay(posts[i], [(p + 1, posts[i].entries[p]) for p in positions],
                               build.root, category, build.feed_items)
                       for i, positions in having[:build.feed_limit]]
            _feed(build, f"categories/{category}/", entries, category,
                  having[:build.feed_limit])
    categories = build.categories
    build.page("categories.html", "categories/index.html", lambda: categories,
               categories=[(c, f"{build.base}/categories/{c}/") for c in categories])


def _category_url(base: str, category: str, number: int) -> str:
    """A category's page `number` (from 1): its folder's URL under `base`."""
    return f"{base}/categories/{category}/" + (f"page/{number}/" if number > 1 else "")


def feeds(build: SiteBuild) -> None:
    """`rss.xml`, `atom.xml`, `feed.json`: the latest `feed_limit` days, every paper (with
    `site_url` only: a feed's links and ids are absolute URLs)."""
    if not build.root:
        return
    posts = build.data.posts[:build.feed_limit]
    entries = [FeedDay(post, list(enumerate(post.entries, start=1)), build.root, None,
                       build.feed_items) for post in posts]
    _feed(build, "", entries, None, [(i, None) for i in range(len(posts))])


def _feed(build: SiteBuild, folder: str, entries: list[FeedDay], category: str | None,
          shown: list[tuple[int, object]]) -> None:
    """The three documents of one feed, made together; `shown`: (day index, positions)."""
    def key() -> str:
        if build.stamps is None:
            return fingerprint(category, [e.inputs() for e in entries])
        return fingerprint(category, [(build.day_key(i), positions) for i, positions in shown])

    build.output.add([folder + name for name in FEEDS], key,
                     partial(_feed_documents, entries, build.root, build.site["title"], category),
                     ("titles", tuple(shown)))


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
        (m, [(d.url, d.label, d.count) for d in ds]) for m, ds in months.items()],
        months=list(months.items()))


def window_pages(build: SiteBuild) -> None:
    """`week/index.html`, `month/index.html`: the newest published day's hot ranking of the
    week and of the month, and its trending one when that differs (site/windows.py)."""
    pages = {paper_id: view.url for paper_id, view in build.papers.items()}
    for window, (hot, trending) in window_lists(build.data.windows, pages).items():
        lists = [("hot", hot)] + ([("trending", trending)] if trending is not None else [])
        build.page("window.html", f"{window}/index.html", lambda lists=lists: lists,
                   heading=WINDOW_PAGES[window], window=window, hot=hot, lists=lists)
    if not build.root:  # feeds need absolute URLs
        return
    for ranking in build.data.windows:
        if ranking.method == "hot":
            entry = FeedWindow(ranking, build.root)
            build.output.add([f"{ranking.window}/{name}" for name in FEEDS],
                             lambda entry=entry: fingerprint(entry.inputs()),
                             partial(_window_feed, entry, build.root, build.site["title"]))


def _window_feed(entry: FeedWindow, root: str, title: str) -> list[bytes]:
    made = window_documents([entry], root, entry.ranking.window, title)
    return [made[name] for name in FEEDS]


def not_found_page(build: SiteBuild) -> None:
    build.page("404.html", "404.html", lambda: None)


def sitemap(build: SiteBuild) -> None:
    """`sitemap.xml`: every page but the 404, each day's with the time it was made (with
    `site_url` only: the protocol wants absolute URLs)."""
    base, root = build.base, build.root
    if not root:
        return
    locations = [f"{base}/", *(f"{base}/{w}/" for w in build.site["windows"]),
                 f"{base}/archive/", f"{base}/categories/",
                 *(f"{base}/page/{n}/" for n in range(2, build.pages + 1)),
                 *(d.url for d in build.days), *(p.url for p in build.papers.values()),
                 *(f"{base}/categories/{c}/" for c in build.categories),
                 *build.category_urls]
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
    """`favicon.svg`, `static/style.css`, `static/search.js` (with search), copied as they
    are."""
    scripts = ("static/search.js",) if build.site["search"] else ()
    for name in ("favicon.svg", "static/style.css", *scripts):
        build.output.add_file(name, lambda: "static", lambda name=name: (
            HERE / "static" / Path(name).name).read_bytes())


# In the order their files are queued (and so made).
BUILDERS: tuple[Callable[[SiteBuild], None], ...] = (
    day_pages, home_pages, paper_pages, category_pages, feeds, archive_page,
    window_pages, not_found_page, sitemap, robots, static_files)
