"""Which papers an output shows: categories (included, excluded, primary only), keywords
in the title or abstract, authors. Pure; every ranking and output uses the same rules."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hotpapers.models import Paper

__all__ = ["Filters"]


def _in(category: str, wanted: Sequence[str]) -> bool:
    """`cs` covers every cs.* category; `cs.LG` only itself."""
    return any(category == w or category.startswith(f"{w}.") for w in wanted)


@dataclass(frozen=True)
class Filters:
    """Empty lists mean "no condition". Keywords and authors match case-insensitively, a
    paper passing when any keyword (or author) matches."""

    categories: tuple[str, ...] = ()
    exclude_categories: tuple[str, ...] = ()
    primary_only: bool = False
    keywords: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return bool(self.categories or self.exclude_categories or self.keywords
                    or self.authors or (self.primary_only and self.categories))

    def matches(self, paper: Paper) -> bool:
        cats = paper.categories[:1] if self.primary_only else paper.categories
        if self.categories and not any(_in(c, self.categories) for c in cats):
            return False
        if self.exclude_categories and any(_in(c, self.exclude_categories)
                                           for c in paper.categories[:1] or cats):
            return False
        if self.keywords:
            text = f"{paper.title}\n{paper.abstract}".casefold()
            if not any(k.casefold() in text for k in self.keywords):
                return False
        if self.authors:
            names = [a.casefold() for a in paper.authors]
            if not any(w.casefold() in name for w in self.authors for name in names):
                return False
        return True

    def describe(self) -> dict:
        """The active conditions, for run records and JSON output."""
        return {k: list(v) if isinstance(v, tuple) else v
                for k, v in self.__dict__.items() if v}
