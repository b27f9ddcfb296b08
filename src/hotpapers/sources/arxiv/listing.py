"""Which papers make up a day's listing: category matching, new/cross/replace
classification and OAI set names. Pure."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from hotpapers.models import Paper
from hotpapers.sources.arxiv.schedule import listing_date

__all__ = ["KINDS", "ListedPaper", "announced_on", "classify", "in_categories", "oai_sets", "order"]

TOP_LEVEL_SETS = frozenset({"cs", "econ", "eess", "math", "physics", "q-bio", "q-fin", "stat"})
KINDS = ("new", "cross", "replace", "replace-cross")


@dataclass
class ListedPaper:
    """A paper of a listing with the way it was announced."""

    paper: Paper
    announce_type: str


def _matches(category: str, wanted: str) -> bool:
    """`cs` matches every `cs.*`; `stat.ML` matches itself; `hep-th` matches itself."""
    return category == wanted or ("." not in wanted and category.startswith(wanted + "."))


def in_categories(categories: Iterable[str], wanted: Collection[str]) -> bool:
    return any(_matches(c, w) for c in categories for w in wanted)


def classify(paper: Paper, wanted: Collection[str], replaced: bool = False) -> str | None:
    """`new` (or `replace`) when the primary category is wanted, `cross` (or
    `replace-cross`) when only another one is, None when none is."""
    if not paper.categories or not in_categories(paper.categories, wanted):
        return None
    primary = in_categories(paper.categories[:1], wanted)
    if replaced:
        return "replace" if primary else "replace-cross"
    return "new" if primary else "cross"


def oai_sets(wanted: Iterable[str]) -> list[str]:
    """OAI-PMH sets covering the wanted categories (`cs`, `stat`, `physics:hep-th` ...)."""
    sets = []
    for category in wanted:
        archive = category.split(".")[0]
        spec = archive if archive in TOP_LEVEL_SETS else f"physics:{archive}"
        if spec not in sets:
            sets.append(spec)
    return sets


def announced_on(paper: Paper, day: date, wanted: Collection[str],
                 holidays: Collection[date] = ()) -> str | None:
    """How `paper` appears in the listing dated `day`, judged from its versions' submission
    times: new or cross for its first version, replace for a later one; None if not at all."""
    if not paper.versions:
        return None
    first = min(paper.versions, key=lambda v: v.number)
    if first.submitted_at is not None and listing_date(first.submitted_at, holidays) == day:
        return classify(paper, wanted)
    if any(v.submitted_at is not None and listing_date(v.submitted_at, holidays) == day
           for v in paper.versions if v is not first):
        return classify(paper, wanted, replaced=True)
    return None


def order(listed: Sequence[ListedPaper]) -> list[ListedPaper]:
    """arXiv's listing order: new, cross-lists, replacements; by id within each part."""
    return sorted(listed, key=lambda item: (KINDS.index(item.announce_type), item.paper.id))
