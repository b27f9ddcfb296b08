"""The "hot" and "trending" rankings: attention from several sources, counting people
rather than clicks, each source normalised against its own distribution. Pure functions;
docs/ranking.md gives the formula and its reasons."""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hotpapers.models import AccountAttention

__all__ = ["AccountAttention", "HotRules", "RankedRow", "rank_hot", "rank_trending"]


@dataclass(frozen=True)
class HotRules:
    """The tunable parts of the formula (settings `hot_*`)."""

    source_weights: Mapping[str, float] = field(default_factory=dict)  # default 1.0
    kind_weights: Mapping[str, float] = field(default_factory=lambda: {
        "likes": 1.0, "reposts": 1.0, "quotes": 2.0, "replies": 1.0, "points": 1.0})
    repost_ratio: float = 3.0
    new_account_days: float = 30.0
    new_account_weight: float = 0.25
    scale_quantile: float = 0.9
    gravity: float = 1.8


@dataclass
class RankedRow:
    """A ranked paper: its score and the parts that explain it."""

    paper_id: str
    score: float
    parts: dict


def kept_reposts(a: AccountAttention, rules: HotRules) -> int:
    """Reposts after the cap: at most `repost_ratio` times (likes + 1) per post. The store
    caps post by post; rows built without that are capped as one post."""
    if a.reposts_kept is not None:
        return a.reposts_kept
    return min(a.reposts, math.floor(rules.repost_ratio * ((a.likes or 0) + a.posts)))


def engagement(a: AccountAttention, rules: HotRules) -> float:
    """The weighted engagement of an account's posts about a paper, reposts capped."""
    weight = rules.kind_weights.get
    return (weight("likes", 0.0) * max(a.likes or 0, 0)
            + weight("reposts", 0.0) * max(kept_reposts(a, rules) or 0, 0)
            + weight("quotes", 0.0) * max(a.quotes or 0, 0)
            + weight("replies", 0.0) * max(a.replies or 0, 0)
            + weight("points", 0.0) * max(a.points or 0, 0))


def author_weight(a: AccountAttention, rules: HotRules) -> float:
    """1, or `new_account_weight` for an account created shortly before it posted."""
    if a.account_created_at is None or a.first_at is None:
        return 1.0
    young = a.first_at - a.account_created_at < timedelta(days=rules.new_account_days)
    return rules.new_account_weight if young else 1.0


def person_value(a: AccountAttention, rules: HotRules) -> float:
    """One person (whatever their number of posts) plus the log of their engagement."""
    return author_weight(a, rules) * (1.0 + math.log1p(engagement(a, rules)))


def _leave_one_out_scales(raw: Mapping[str, float], q: float) -> dict[str, float]:
    """For each paper, the `q` quantile of the other papers' values (at least 1): a paper's
    own attention never moves its own yardstick, so more attention always scores higher."""
    ordered = sorted(raw.items(), key=lambda item: item[1])
    values = [v for _, v in ordered]
    n = len(values)
    if n <= 1:
        return {p: 1.0 for p in raw}
    j = min(n - 2, round(q * (n - 2)))  # index among the n - 1 others
    scales = {}
    for i, (paper, _) in enumerate(ordered):
        other = values[j + 1] if i <= j else values[j]
        scales[paper] = max(other, 1.0)
    return scales


def _source_parts(attention: Sequence[AccountAttention], rules: HotRules
                  ) -> dict[str, dict[str, dict]]:
    """source -> paper -> raw value, people, posts and damping facts."""
    parts: dict[str, dict[str, dict]] = defaultdict(dict)
    for a in attention:
        by_paper = parts[a.source]
        part = by_paper.get(a.paper_id)
        if part is None:
            part = by_paper[a.paper_id] = {"raw": 0.0, "people": 0, "posts": 0,
                                           "reposts_capped": 0, "new_accounts": 0,
                                           "accounts": []}
        weight = author_weight(a, rules)
        value = weight * (1.0 + math.log1p(engagement(a, rules)))  # person_value
        part["raw"] += value
        part["people"] += 1
        part["posts"] += a.posts
        part["reposts_capped"] += a.reposts - kept_reposts(a, rules)
        part["new_accounts"] += weight < 1.0
        part["accounts"].append((value, a.handle or a.account, a.posts))
    return parts


def rank_hot(papers: Sequence[str], attention: Sequence[AccountAttention],
             rules: HotRules = HotRules(), min_score: float = 0.0,
             max_papers: int | None = None, top_accounts: int = 5) -> list[RankedRow]:
    """Papers (given in listing order) by hot score, best first; ties keep listing order.

    Per source, a paper's raw value sums, over the distinct accounts that posted about
    it, weight * (1 + ln(1 + engagement)); it is divided by the `scale_quantile` of the
    values of the other papers discussed on that source, compressed by ln(1 + x) and
    weighted by the source."""
    known = list(dict.fromkeys(papers))
    wanted = set(known)
    per_source = _source_parts([a for a in attention if a.paper_id in wanted], rules)
    scores = dict.fromkeys(known, 0.0)
    explained: dict[str, dict] = {p: {"sources": {}} for p in known}
    for source, by_paper in sorted(per_source.items()):
        scales = _leave_one_out_scales({p: part["raw"] for p, part in by_paper.items()},
                                       rules.scale_quantile)
        weight = rules.source_weights.get(source, 1.0)
        for paper, part in by_paper.items():
            normalised = math.log1p(part["raw"] / scales[paper])
            contribution = weight * normalised
            scores[paper] += contribution
            best = heapq.nsmallest(top_accounts, part.pop("accounts"), key=lambda t: -t[0])
            explained[paper]["sources"][source] = {
                **part, "raw": round(part["raw"], 4), "scale": round(scales[paper], 4),
                "normalised": round(normalised, 4), "weight": weight,
                "contribution": round(contribution, 4),
                "top_accounts": [{"account": name, "posts": posts, "value": round(v, 4)}
                                 for v, name, posts in best]}
    rounded = {p: round(score, 6) for p, score in scores.items()}
    order = sorted(known, key=lambda p: -rounded[p])  # stable: ties keep listing order
    rows = [RankedRow(p, rounded[p], explained[p]) for p in order
            if rounded[p] > 0 and rounded[p] >= min_score]
    return rows[:max_papers] if max_papers is not None else rows


def rank_trending(papers: Sequence[str], attention: Sequence[AccountAttention],
                  as_of: datetime, rules: HotRules = HotRules(), min_score: float = 0.0,
                  max_papers: int | None = None) -> list[RankedRow]:
    """Papers by momentum: hot score / (hours since the first mention + 2) ** gravity, the
    gravity of Hacker News's front page, so fresh attention beats old attention."""
    first: dict[str, datetime] = {}
    for a in attention:
        if a.first_at is not None and (a.paper_id not in first or a.first_at < first[a.paper_id]):
            first[a.paper_id] = a.first_at
    rows = []
    for row in rank_hot(papers, attention, rules):
        since = first.get(row.paper_id)
        hours = max((as_of - since).total_seconds() / 3600, 0.0) if since else 0.0
        score = row.score / (hours + 2.0) ** rules.gravity
        rows.append(RankedRow(row.paper_id, round(score, 9),
                              {**row.parts, "hot": row.score, "hours": round(hours, 2),
                               "gravity": rules.gravity}))
    rows.sort(key=lambda r: -r.score)
    rows = [r for r in rows if r.score >= min_score]
    return rows[:max_papers] if max_papers is not None else rows
