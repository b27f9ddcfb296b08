"""One ranker shape: hot and trending from per-(paper, source) sums give, bit for bit, what
the per-account computation gave; typed parts print the JSON they always printed and read
it back; the one threshold step and its per-row question agree."""

from __future__ import annotations

import heapq
import json
import math
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from hotpapers.models import AccountValue
from hotpapers.person_value import author_weight, engagement, kept_reposts
from hotpapers.rank.hot import (
    AccountAttention,
    HotRules,
    _leave_one_out_scales,
    rank_hot,
    rank_trending,
    source_sums,
)
from hotpapers.rank.rows import (
    ClassicParts,
    HotParts,
    RankedRow,
    SourcePart,
    TrendingParts,
    parts_from_dict,
)
from hotpapers.rank.select import Limits, listed, select

AS_OF = datetime(2026, 11, 26, 12, tzinfo=UTC)
PAPERS = [f"2611.{i:05d}" for i in range(7)]
SOURCES = ("x", "bluesky", "hn", "legacy")


def reference_hot(papers, attention, rules, top_accounts=5) -> list[tuple[str, float, dict]]:
    """The hot ranker as it was before sums (per account, dict parts), kept as the yardstick."""
    known = list(dict.fromkeys(papers))
    wanted = set(known)
    per_source: dict[str, dict[str, dict]] = defaultdict(dict)
    for a in attention:
        if a.paper_id not in wanted:
            continue
        part = per_source[a.source].setdefault(a.paper_id, {
            "raw": 0.0, "people": 0, "posts": 0, "reposts_capped": 0, "new_accounts": 0,
            "accounts": []})
        weight = author_weight(a, rules)
        value = weight * (1.0 + math.log1p(engagement(a, rules)))
        part["raw"] += value
        part["people"] += 1
        part["posts"] += a.posts
        part["reposts_capped"] += a.reposts - kept_reposts(a, rules)
        part["new_accounts"] += weight < 1.0
        part["accounts"].append((value, a.handle or a.account, a.posts))
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
    order = sorted(known, key=lambda p: -rounded[p])
    return [(p, rounded[p], explained[p]) for p in order if rounded[p] > 0]


def reference_trending(papers, attention, as_of, rules) -> list[tuple[str, float, dict]]:
    first: dict[str, datetime] = {}
    for a in attention:
        if a.first_at is not None and (a.paper_id not in first or a.first_at < first[a.paper_id]):
            first[a.paper_id] = a.first_at
    rows = []
    for paper, hot, parts in reference_hot(papers, attention, rules):
        since = first.get(paper)
        hours = max((as_of - since).total_seconds() / 3600, 0.0) if since else 0.0
        rows.append((paper, round(hot / (hours + 2.0) ** rules.gravity, 9),
                     {**parts, "hot": hot, "hours": round(hours, 2), "gravity": rules.gravity}))
    rows.sort(key=lambda r: -r[1])
    return rows


def printed(rows: list[RankedRow]) -> str:
    """What `rank --json` prints of rows: ids, scores (repr: every bit) and parts in order."""
    return json.dumps([(r.paper_id, repr(r.score), r.parts.to_json()) for r in rows])


def printed_reference(rows) -> str:
    return json.dumps([(p, repr(score), parts) for p, score, parts in rows])


counts = st.integers(min_value=0, max_value=10**7)
# (likes, reposts, quotes, replies, points): a few shared profiles make accounts tie
profiles = st.sampled_from([(0, 0, 0, 0, 0), (5, 1, 0, 0, 0), (50, 400, 1, 2, 0)]) | st.tuples(
    counts, counts, counts, counts, counts)
hours_ago = st.none() | st.integers(0, 24 * 60).map(lambda m: AS_OF - timedelta(minutes=m))
accounts = st.builds(
    lambda counted, **fields: AccountAttention(**fields, **dict(zip(
        ("likes", "reposts", "quotes", "replies", "points"), counted, strict=True))),
    profiles, paper_id=st.sampled_from([*PAPERS[:-1], "9912.00001"]),
    source=st.sampled_from(SOURCES), account=st.sampled_from([f"acct{i}" for i in range(9)]),
    posts=st.integers(1, 5), reposts_kept=st.none() | st.integers(0, 1000),
    first_at=hours_ago,
    account_created_at=st.none() | st.integers(0, 90).map(
        lambda d: AS_OF - timedelta(days=d, hours=30)),
    handle=st.none() | st.sampled_from(["@a", "@b", "@c"]))
# a crowd: several accounts doing the same about one paper on one source (ties in value)
crowds = st.tuples(accounts, st.integers(2, 5)).map(
    lambda found: [replace(found[0], account=f"crowd{i}", handle=None)
                   for i in range(found[1])])
attention = st.lists(accounts.map(lambda a: [a]) | crowds, max_size=15).map(
    lambda groups: list({(r.paper_id, r.source, r.account): r
                         for group in groups for r in group}.values()))
rules = st.builds(
    HotRules, source_weights=st.dictionaries(st.sampled_from(SOURCES),
                                             st.sampled_from([0.5, 1, 1.5, 2.0])),
    repost_ratio=st.sampled_from([1.5, 3.0, 10.0]),
    new_account_days=st.sampled_from([0.0, 30.0, 60.0]),
    scale_quantile=st.sampled_from([0.0, 0.5, 0.9, 1.0]),
    gravity=st.sampled_from([1.0, 1.8]))


@given(attention, rules, st.permutations(PAPERS))
def test_hot_from_sums_is_the_per_account_computation_bit_for_bit(rows, rules, papers):
    found = rank_hot(papers, source_sums(rows, rules), rules)
    assert printed(found) == printed_reference(reference_hot(papers, rows, rules))


@given(attention, rules)
def test_trending_from_sums_is_the_per_account_computation_bit_for_bit(rows, rules):
    found = rank_trending(PAPERS, source_sums(rows, rules), rules, as_of=AS_OF)
    assert printed(found) == printed_reference(reference_trending(PAPERS, rows, AS_OF, rules))


@given(attention, st.integers(0, 6))
def test_source_sums_keep_one_entry_per_paper_and_source(rows, top):
    sums = source_sums(rows, HotRules(), top)
    assert len({(s.paper_id, s.source) for s in sums}) == len(sums)
    assert sum(s.people for s in sums) == len(rows)
    assert all(len(s.top_accounts) == min(top, s.people) for s in sums)
    for s in sums:
        times = [a.first_at for a in rows if (a.paper_id, a.source) == (s.paper_id, s.source)
                 and a.first_at is not None]
        assert s.first_at == (min(times) if times else None)


def test_a_damped_account_is_counted_in_the_sums():
    young = AccountAttention(PAPERS[0], "x", "a", likes=4, reposts=100,
                             first_at=AS_OF, account_created_at=AS_OF - timedelta(days=1))
    [sums] = source_sums([young], HotRules())
    assert (sums.people, sums.new_accounts, sums.reposts_capped) == (1, 1, 100 - 3 * 5)
    assert sums.raw == 0.25 * (1 + math.log1p(4 + 15))


values = st.floats(-1e6, 1e6, allow_nan=False).map(lambda v: round(v, 4))
source_parts = st.builds(
    SourcePart, raw=values, people=st.integers(0, 99), posts=st.integers(0, 99),
    reposts_capped=st.integers(0, 9999), new_accounts=st.integers(0, 99), scale=values,
    normalised=values, weight=st.sampled_from([1.0, 0.5, 2]), contribution=values,
    top_accounts=st.lists(st.builds(AccountValue, st.text(max_size=8), st.integers(1, 9),
                                    values), max_size=5).map(tuple))
hot_parts = st.builds(HotParts, st.dictionaries(st.sampled_from(SOURCES), source_parts)
                      .map(lambda found: dict(sorted(found.items()))))
trending_parts = st.builds(TrendingParts, hot_parts.map(lambda h: h.sources), values,
                           values, st.sampled_from([1.0, 1.8]))
classic_parts = st.builds(ClassicParts, st.integers(0, 10**6), st.integers(0, 10**6),
                          st.none() | st.integers(0, 10),
                          st.none() | st.dates().filter(lambda d: d.year >= 1000))
any_parts = classic_parts | hot_parts | trending_parts


@given(any_parts)
def test_parts_read_back_from_their_json(parts):
    again = parts_from_dict(json.loads(json.dumps(parts.to_json())))
    assert type(again) is type(parts) and again == parts
    assert json.dumps(again.to_json()) == json.dumps(parts.to_json())


@given(classic_parts, st.permutations(["reposts", "likes", "tweets_shown", "day"]))
def test_stored_classic_parts_print_back_in_their_key_order(parts, order):
    stored = parts.to_json()
    stored = {key: stored[key] for key in order if key in stored}
    assert json.dumps(ClassicParts.from_dict(stored).to_json()) == json.dumps(stored)


def test_the_json_of_each_part_kind_is_the_one_always_printed():
    part = SourcePart(1.5, 2, 3, 4, 0, 1.0, 0.9163, 1.0, 0.9163,
                      (AccountValue("@a", 2, 1.0),))
    assert list(part.to_json()) == ["raw", "people", "posts", "reposts_capped",
                                    "new_accounts", "scale", "normalised", "weight",
                                    "contribution", "top_accounts"]
    assert part.to_json()["top_accounts"] == [{"account": "@a", "posts": 2, "value": 1.0}]
    trending = TrendingParts({"x": part}, hot=0.9163, hours=1.5, gravity=1.8)
    assert list(trending.to_json()) == ["sources", "hot", "hours", "gravity"]
    assert trending.people == 2 and isinstance(trending, HotParts)
    assert ClassicParts(5, 6).to_json() == {"reposts": 5, "likes": 6}


scores = st.lists(st.floats(0, 100, allow_nan=False), max_size=12).map(
    lambda found: sorted(found, reverse=True))


@given(scores, st.none() | st.floats(0, 100), st.none() | st.integers(0, 12))
def test_listed_asks_select_of_one_row(found, floor, cap):
    rows = [RankedRow(f"p{i}", score, ClassicParts(0, 0)) for i, score in enumerate(found)]
    limits = Limits(-math.inf if floor is None else floor, cap)
    kept = {r.paper_id for r in select(rows, limits)}
    assert kept == {r.paper_id for place, r in enumerate(rows, 1) if listed(place, r, limits)}
    if floor is None and cap is None:
        assert len(kept) == len(rows)
