"""The one threshold and top-N step every ranking goes through before it is listed, and the
same rule asked of one row (is the paper at this place listed?)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

__all__ = ["Limits", "listed", "select"]


class HasScore(Protocol):
    @property
    def score(self) -> float: ...


Row = TypeVar("Row", bound=HasScore)


@dataclass(frozen=True)
class Limits:
    """What a ranking lists: rows scoring at least `min_score`, at most `max_papers` of
    them (None: no cap). The defaults list every row."""

    min_score: float = -math.inf
    max_papers: int | None = None


def select(rows: Sequence[Row], limits: Limits) -> list[Row]:
    """The listed rows of `rows` (ranked best first: a ranking's rows, or scores not yet
    explained): those reaching the floor, then the
    first `max_papers` of them."""
    return [r for r in rows if r.score >= limits.min_score][:limits.max_papers]


def listed(place: int, row: HasScore, limits: Limits) -> bool:
    """Whether `select` lists `row`, ranked at `place` (from 1) of rows ranked best first:
    the rows that reach the floor come first, so its place among them is `place`."""
    return row.score >= limits.min_score and (limits.max_papers is None
                                              or place <= limits.max_papers)
