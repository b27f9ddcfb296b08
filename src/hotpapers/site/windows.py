"""The site's "this week" and "this month" pages: the newest published day's hot ranking
over the 7 or 30 announcement days that end with it, and its trending ranking when that
lists other papers or another order (jobs/window_rankings.py keeps them with the day)."""

from __future__ import annotations

from dataclasses import dataclass, field

from hotpapers.models import WindowRanking
from hotpapers.render.cards import SOURCE_LABELS
from hotpapers.render.links import http_url

__all__ = ["WINDOW_PAGES", "WindowList", "WindowPaper", "window_lists"]

WINDOW_PAGES = {"week": "This week", "month": "This month"}


@dataclass(frozen=True)
class WindowPaper:
    """One paper of a window's list, as its page shows it."""

    rank: int
    title: str
    url: str  # its page on the site, else its arXiv abstract
    authors: str
    score: float
    sources: tuple[str, ...]  # "X: 12 people, 14 posts", largest share first


@dataclass(frozen=True)
class WindowList:
    method: str
    day: str
    start: str
    as_of: str
    papers: tuple[WindowPaper, ...] = field(default=())


def _sources(parts: dict) -> tuple[str, ...]:
    found = parts.get("sources") if isinstance(parts, dict) else None
    if not isinstance(found, dict):
        return ()
    lines = []
    for source, part in sorted(found.items(), key=lambda item: -_number(item[1], "contribution")):
        people, posts = int(_number(part, "people")), int(_number(part, "posts"))
        lines.append(f"{SOURCE_LABELS.get(source, source)}: {people} "
                     f"{'person' if people == 1 else 'people'}, {posts} "
                     f"post{'' if posts == 1 else 's'}")
    return tuple(lines)


def _number(part: object, key: str) -> float:
    value = part.get(key) if isinstance(part, dict) else None
    return value if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _listed(ranking: WindowRanking, pages: dict[str, str]) -> WindowList:
    papers = tuple(
        WindowPaper(rank, e.paper.title, pages.get(e.paper.id)
                    or http_url(e.paper.abs_url) or f"https://arxiv.org/abs/{e.paper.id}",
                    ", ".join(e.paper.authors), round(e.score, 4), _sources(e.parts))
        for rank, e in enumerate(ranking.entries, start=1))
    start = ranking.start.isoformat() if ranking.start else ""
    return WindowList(ranking.method, ranking.day.isoformat(), start,
                      ranking.as_of.strftime("%Y-%m-%d %H:%M UTC"), papers)


def window_lists(windows: list[WindowRanking], pages: dict[str, str]
                 ) -> dict[str, tuple[WindowList, WindowList | None]]:
    """Per window ("week", "month"): the hot list, and the trending list when it differs
    (else None); `pages` maps paper ids to their pages on the site."""
    found = {(w.window, w.method): w for w in windows}
    lists = {}
    for window in WINDOW_PAGES:
        hot, trending = found.get((window, "hot")), found.get((window, "trending"))
        if hot is None:
            continue
        shown = _listed(hot, pages)
        other = _listed(trending, pages) if trending is not None else None
        if other is not None and [p.url for p in other.papers] == [p.url for p in shown.papers]:
            other = None
        lists[window] = (shown, other)
    return lists
