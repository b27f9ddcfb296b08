"""What one person's posts about a paper on one source are worth to the hot ranking:
weight * (1 + ln(1 + engagement)), reposts capped, a new account weighed less. Pure; the
hot ranker (rank/hot.py) sums these values, and the store keeps them summed on write
(store/counting.py), so both use this one definition."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from hotpapers.models import AccountAttention

__all__ = ["StoredRules", "ValueRules", "account_value", "author_weight", "engagement",
           "kept_reposts"]


class ValueRules(Protocol):
    """The rules a person's value depends on (the hot rules have them)."""

    kind_weights: Mapping[str, float]
    repost_ratio: float
    new_account_days: float
    new_account_weight: float


@dataclass(frozen=True)
class StoredRules:
    """ValueRules as the store keeps them with its sums (`as_json` / `from_json`)."""

    kind_weights: Mapping[str, float] = field(default_factory=dict)
    repost_ratio: float = 3.0
    new_account_days: float = 30.0
    new_account_weight: float = 0.25

    @classmethod
    def of(cls, rules: ValueRules) -> StoredRules:
        return cls(dict(rules.kind_weights), rules.repost_ratio, rules.new_account_days,
                   rules.new_account_weight)

    def as_json(self) -> dict:
        return {"kind_weights": dict(self.kind_weights), "repost_ratio": self.repost_ratio,
                "new_account_days": self.new_account_days,
                "new_account_weight": self.new_account_weight}

    @classmethod
    def from_json(cls, found: Mapping) -> StoredRules:
        return cls(dict(found["kind_weights"]), float(found["repost_ratio"]),
                   float(found["new_account_days"]), float(found["new_account_weight"]))


def kept_reposts(a: AccountAttention, rules: ValueRules) -> int:
    """Reposts after the cap: at most `repost_ratio` times (likes + 1) per post. The store
    caps post by post; rows built without that are capped as one post."""
    if a.reposts_kept is not None:
        return a.reposts_kept
    return min(a.reposts, math.floor(rules.repost_ratio * ((a.likes or 0) + a.posts)))


def engagement(a: AccountAttention, rules: ValueRules) -> float:
    """The weighted engagement of an account's posts about a paper, reposts capped."""
    weight = rules.kind_weights.get
    return (weight("likes", 0.0) * max(a.likes or 0, 0)
            + weight("reposts", 0.0) * max(kept_reposts(a, rules) or 0, 0)
            + weight("quotes", 0.0) * max(a.quotes or 0, 0)
            + weight("replies", 0.0) * max(a.replies or 0, 0)
            + weight("points", 0.0) * max(a.points or 0, 0))


def author_weight(a: AccountAttention, rules: ValueRules) -> float:
    """1, or `new_account_weight` for an account created shortly before it posted."""
    if a.account_created_at is None or a.first_at is None:
        return 1.0
    young = a.first_at - a.account_created_at < timedelta(days=rules.new_account_days)
    return rules.new_account_weight if young else 1.0


def account_value(a: AccountAttention, rules: ValueRules) -> tuple[float, bool]:
    """A person's value for a paper on a source, weight * (1 + ln(1 + engagement)): one
    person (whatever their number of posts) plus the log of their engagement; and whether
    they counted as a new account."""
    weight = author_weight(a, rules)
    return weight * (1.0 + math.log1p(engagement(a, rules))), weight < 1.0
