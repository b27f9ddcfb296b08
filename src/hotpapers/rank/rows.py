"""The one shape every ranker returns: ranked rows whose typed parts explain the score, each
parts type with the JSON it has always been printed and stored as, and back."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from datetime import date

from hotpapers.models import AccountValue

__all__ = ["ClassicParts", "HotParts", "Parts", "RankedRow", "SourcePart", "TrendingParts",
           "parts_from_dict"]

_CLASSIC_KEYS = ("reposts", "likes", "tweets_shown", "day")


@dataclass(frozen=True)
class ClassicParts:
    """A classic score's parts: the retweet and favorite totals over the paper's tweets, how
    many tweets its block shows (None for imported totals: not known) and, in a pooled
    ranking, the listing day. `shown` holds the shown tweets' keys, best first (only when
    ranked here, not printed); `key_order` the key order of stored parts (the bundled
    snapshot's were written sorted), so a stored ranking prints as it was stored."""

    reposts: int
    likes: int
    tweets_shown: int | None = None
    day: date | None = None
    shown: tuple[Hashable, ...] = ()
    key_order: tuple[str, ...] = field(default=(), compare=False, repr=False)
    extra: tuple[tuple[str, object], ...] = field(default=(), compare=False, repr=False)

    def to_json(self) -> dict:
        values = {"reposts": self.reposts, "likes": self.likes,
                  "tweets_shown": self.tweets_shown,
                  "day": self.day.isoformat() if self.day is not None else None}
        values.update(self.extra)
        order = dict.fromkeys([*self.key_order, *_CLASSIC_KEYS])
        return {key: values[key] for key in order
                if values[key] is not None or key in self.key_order}

    @classmethod
    def from_dict(cls, found: Mapping) -> ClassicParts:
        """Parts read back, keys the ranker does not know kept as they were; ValueError
        names a total that is missing or not a whole number."""
        for key in ("reposts", "likes"):
            if type(found.get(key)) is not int:
                raise ValueError(f"classic parts need a whole number {key!r}, "
                                 f"got {found.get(key)!r}")
        return cls(reposts=found["reposts"], likes=found["likes"],
                   tweets_shown=found.get("tweets_shown"), day=_day(found.get("day")),
                   key_order=tuple(found),
                   extra=tuple((k, v) for k, v in found.items() if k not in _CLASSIC_KEYS))


def _day(value: object) -> date | None:
    """A stored listing day; anything else is not one (a pooled ranking sets its own)."""
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


@dataclass(frozen=True)
class SourcePart:
    """One source's share of a hot score: people, posts and dampings; the raw value, the
    yardstick it was divided by, ln(1 + raw / scale), the source's weight and the
    contribution; and the top accounts. Values rounded as shown (4 decimals)."""

    raw: float
    people: int
    posts: int
    reposts_capped: int
    new_accounts: int
    scale: float
    normalised: float
    weight: float
    contribution: float
    top_accounts: tuple[AccountValue, ...] = ()

    def to_json(self) -> dict:
        return {"raw": self.raw, "people": self.people, "posts": self.posts,
                "reposts_capped": self.reposts_capped, "new_accounts": self.new_accounts,
                "scale": self.scale, "normalised": self.normalised, "weight": self.weight,
                "contribution": self.contribution,
                "top_accounts": [{"account": a.account, "posts": a.posts, "value": a.value}
                                 for a in self.top_accounts]}

    @classmethod
    def from_dict(cls, found: Mapping) -> SourcePart:
        accounts = tuple(AccountValue(a["account"], a["posts"], a["value"])
                         for a in found.get("top_accounts", ()))
        return cls(found["raw"], found["people"], found["posts"], found["reposts_capped"],
                   found["new_accounts"], found["scale"], found["normalised"],
                   found["weight"], found["contribution"], accounts)


@dataclass(frozen=True)
class HotParts:
    """A hot score's parts: one part per source (sources in name order); the score is the
    sum of their contributions."""

    sources: Mapping[str, SourcePart]

    @property
    def people(self) -> int:
        """Accounts counted over all sources (one person on two sources counts twice)."""
        return sum(part.people for part in self.sources.values())

    def to_json(self) -> dict:
        return {"sources": {name: part.to_json() for name, part in self.sources.items()}}

    @classmethod
    def from_dict(cls, found: Mapping) -> HotParts:
        return cls(_sources(found))


@dataclass(frozen=True)
class TrendingParts(HotParts):
    """A trending score's parts: the hot parts, the hot score, the hours since the first
    mention and the gravity; score = hot / (hours + 2) ** gravity."""

    hot: float
    hours: float
    gravity: float

    def to_json(self) -> dict:
        return {**super().to_json(), "hot": self.hot, "hours": self.hours,
                "gravity": self.gravity}

    @classmethod
    def from_dict(cls, found: Mapping) -> TrendingParts:
        return cls(_sources(found), found["hot"], found["hours"], found["gravity"])


def _sources(found: Mapping) -> dict[str, SourcePart]:
    return {name: SourcePart.from_dict(part) for name, part in found["sources"].items()}


Parts = ClassicParts | HotParts | TrendingParts


def parts_from_dict(found: Mapping) -> Parts:
    """Parts read back from their JSON, whichever ranker made them."""
    if "sources" not in found:
        return ClassicParts.from_dict(found)
    return TrendingParts.from_dict(found) if "hot" in found else HotParts.from_dict(found)


@dataclass
class RankedRow:
    """A ranked paper: its score and the parts that explain it."""

    paper_id: str
    score: float
    parts: Parts
