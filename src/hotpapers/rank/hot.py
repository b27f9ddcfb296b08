"""The "hot" and "trending" rankings: attention from several sources, counting people
rather than clicks, each source normalised against its own distribution. Pure functions;
docs/ranking.md gives the formula and its reasons. Both read per-(paper, source) sums
(`source_sums` makes them from per-account attention)."""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import NamedTuple

from hotpapers.models import AccountAttention, AccountValue, SourceSums
from hotpapers.person_value import account_value, kept_reposts
from hotpapers.rank.rows import HotParts, RankedRow, SourcePart, TrendingParts

__all__ = ["TOP_ACCOUNTS", "AccountAttention", "HotRules", "Scored", "SourceSums", "Term",
           "account_value", "explain", "hot_scores", "rank_hot", "rank_trending",
           "source_sums", "trending_scores", "with_top_accounts"]

TOP_ACCOUNTS = 5  # accounts an explanation names per source


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


class _Sum:
    """The running sums of one (paper, source) while `source_sums` reads its accounts."""

    def __init__(self) -> None:
        self.raw, self.people, self.posts, self.capped, self.new = 0.0, 0, 0, 0, 0
        self.first_at: datetime | None = None
        self.accounts: list[AccountValue] = []

    def add(self, a: AccountAttention, rules: HotRules) -> None:
        value, new = account_value(a, rules)
        self.raw += value
        self.people += 1
        self.posts += a.posts
        self.capped += a.reposts - kept_reposts(a, rules)
        self.new += new
        self.accounts.append(AccountValue(a.handle or a.account, a.posts, value))
        if a.first_at is not None and (self.first_at is None or a.first_at < self.first_at):
            self.first_at = a.first_at


def source_sums(attention: Iterable[AccountAttention], rules: HotRules,
                top_accounts: int = TOP_ACCOUNTS) -> list[SourceSums]:
    """Per (paper, source), in order of first appearance: the sum of the accounts' values
    (summed in input order), people, posts, dampings, the earliest post and the
    `top_accounts` most valuable accounts (ties in input order)."""
    sums: dict[tuple[str, str], _Sum] = {}
    for a in attention:
        key = (a.paper_id, a.source)
        found = sums.get(key)
        if found is None:
            found = sums[key] = _Sum()
        found.add(a, rules)
    return [SourceSums(paper, source, s.raw, s.people, s.posts, s.capped, s.new, s.first_at,
                       tuple(heapq.nsmallest(top_accounts, s.accounts, key=lambda a: -a.value)))
            for (paper, source), s in sums.items()]


class Term(NamedTuple):
    """One source's share of a paper's score, unrounded: what its explanation is made of."""

    source: str
    sums: SourceSums
    scale: float
    normalised: float
    weight: float
    contribution: float


@dataclass(slots=True)
class Scored:
    """A paper's hot or trending score and the terms it was summed from, not yet made into
    an explanation (`explain`): a ranking scores every paper of its window and explains
    only those it lists. Trending keeps the hot score it divided and the hours."""

    paper_id: str
    score: float
    terms: tuple[Term, ...]
    hot: float | None = None
    hours: float | None = None
    gravity: float | None = None


def _part(term: Term) -> SourcePart:
    """The explanation of one source's contribution, rounded as shown."""
    sums = term.sums
    return SourcePart(
        raw=round(sums.raw, 4), people=sums.people, posts=sums.posts,
        reposts_capped=sums.reposts_capped, new_accounts=sums.new_accounts,
        scale=round(term.scale, 4), normalised=round(term.normalised, 4), weight=term.weight,
        contribution=round(term.contribution, 4),
        top_accounts=tuple(AccountValue(a.account, a.posts, round(a.value, 4))
                           for a in sums.top_accounts))


def explain(scored: Scored) -> RankedRow:
    """The ranked row of a scored paper, with the parts an explanation shows."""
    sources = {term.source: _part(term) for term in scored.terms}
    if scored.hot is None:
        return RankedRow(scored.paper_id, scored.score, HotParts(sources))
    return RankedRow(scored.paper_id, scored.score, TrendingParts(
        sources, hot=scored.hot, hours=scored.hours, gravity=scored.gravity))


def hot_scores(papers: Sequence[str], sums: Sequence[SourceSums], rules: HotRules
               ) -> list[Scored]:
    """Papers (given in listing order) with attention, by hot score, best first; ties keep
    listing order. `sums` holds one entry per (paper, source); others' papers are ignored.

    Per source, a paper's raw value sums, over the distinct accounts that posted about
    it, weight * (1 + ln(1 + engagement)); it is divided by the `scale_quantile` of the
    values of the other papers discussed on that source, compressed by ln(1 + x) and
    weighted by the source."""
    known = list(dict.fromkeys(papers))
    wanted = set(known)
    per_source: dict[str, list[SourceSums]] = defaultdict(list)
    for one in sums:
        if one.paper_id in wanted:
            per_source[one.source].append(one)
    scores = dict.fromkeys(known, 0.0)
    terms: dict[str, list[Term]] = defaultdict(list)
    log1p = math.log1p
    for source, group in sorted(per_source.items()):
        scales = _leave_one_out_scales({s.paper_id: s.raw for s in group},
                                       rules.scale_quantile)
        weight = rules.source_weights.get(source, 1.0)
        for one in group:
            scale = scales[one.paper_id]
            normalised = log1p(one.raw / scale)
            contribution = weight * normalised
            scores[one.paper_id] += contribution
            terms[one.paper_id].append(
                Term(source, one, scale, normalised, weight, contribution))
    rounded = {p: round(score, 6) for p, score in scores.items()}
    order = sorted(known, key=lambda p: -rounded[p])  # stable: ties keep listing order
    return [Scored(p, rounded[p], tuple(terms[p])) for p in order if rounded[p] > 0]


def trending_scores(papers: Sequence[str], sums: Sequence[SourceSums], rules: HotRules, *,
                    as_of: datetime) -> list[Scored]:
    """Papers by momentum: hot score / (hours since the first mention + 2) ** gravity, the
    gravity of Hacker News's front page, so fresh attention beats old attention."""
    first: dict[str, datetime] = {}
    for one in sums:
        if one.first_at is not None and (one.paper_id not in first
                                         or one.first_at < first[one.paper_id]):
            first[one.paper_id] = one.first_at
    rows = []
    for hot in hot_scores(papers, sums, rules):
        since = first.get(hot.paper_id)
        hours = max((as_of - since).total_seconds() / 3600, 0.0) if since else 0.0
        score = hot.score / (hours + 2.0) ** rules.gravity
        rows.append(Scored(hot.paper_id, round(score, 9), hot.terms, hot=hot.score,
                           hours=round(hours, 2), gravity=rules.gravity))
    rows.sort(key=lambda r: -r.score)
    return rows


def rank_hot(papers: Sequence[str], sums: Sequence[SourceSums], rules: HotRules
             ) -> list[RankedRow]:
    """`hot_scores`, every row explained."""
    return [explain(s) for s in hot_scores(papers, sums, rules)]


def rank_trending(papers: Sequence[str], sums: Sequence[SourceSums], rules: HotRules, *,
                  as_of: datetime) -> list[RankedRow]:
    """`trending_scores`, every row explained."""
    return [explain(s) for s in trending_scores(papers, sums, rules, as_of=as_of)]


def with_top_accounts(row: RankedRow, accounts: Mapping[tuple[str, str], Sequence[AccountValue]]
                      ) -> RankedRow:
    """`row` with each source part naming its top accounts among those it names and
    `accounts` (values rounded as shown), for a ranking made from sums that did not carry
    them all. Equal values name `accounts` first, as `source_sums` does (a snapshot's
    published totals come after the posts' authors there)."""
    parts = row.parts
    named = {}
    for source, part in parts.sources.items():
        more = [AccountValue(a.account, a.posts, round(a.value, 4))
                for a in accounts.get((row.paper_id, source), ())]
        best = sorted([*more, *part.top_accounts], key=lambda a: -a.value)[:TOP_ACCOUNTS]
        named[source] = replace(part, top_accounts=tuple(best))
    return RankedRow(row.paper_id, row.score, replace(parts, sources=named))
