"""Which days and papers each category's pages list: a paper is in a category when one of
its categories is it or lies under it (`cs` holds `cs.LG`)."""

from __future__ import annotations

from hotpapers.models import Post

__all__ = ["by_day", "category_index"]


def by_day(papers: list[tuple[int, int]], start: int
           ) -> list[tuple[int, list[tuple[int, int]]]]:
    """(day, position) pairs numbered from `start`, grouped by day, in order:
    [(day, [(number, position), ...]), ...]."""
    grouped: list[tuple[int, list[tuple[int, int]]]] = []
    for number, (day, position) in enumerate(papers, start=start):
        if not grouped or grouped[-1][0] != day:
            grouped.append((day, []))
        grouped[-1][1].append((number, position))
    return grouped


def category_index(posts: list[Post], categories: list[str]
                   ) -> dict[str, list[tuple[int, list[int]]]]:
    """For each category, the days (index in `posts`) having its papers, and the positions
    of those papers: a paper is in a category when one of its categories is it or lies
    under it (`cs` holds `cs.LG`), as `feeds.matches_category` says."""
    holders = _Holders(set(categories))
    index: dict[str, list[tuple[int, list[int]]]] = {c: [] for c in categories}
    held: dict[tuple, list[str]] = {}  # by a paper's categories: few sets recur in many papers
    for i, post in enumerate(posts):
        chosen: dict[str, list[int]] = {}
        for position, entry in enumerate(post.entries):
            try:
                names = tuple(entry.paper.categories)
                found = held.get(names)
            except TypeError:  # not strings (a pinned field): matched as below, not kept
                names, found = None, None
            if found is None:
                found = list(dict.fromkeys(c for name in entry.paper.categories
                                           if isinstance(name, str) for c in holders(name)))
                if names is not None:
                    held[names] = found
            for category in found:
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
