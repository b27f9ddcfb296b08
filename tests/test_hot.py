"""The hot and trending rankers: pure, property-tested invariants and worked examples."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from hotpapers.rank.hot import AccountAttention, HotRules, source_sums, with_top_accounts
from hotpapers.rank.hot import rank_hot as rank_sums
from hotpapers.rank.hot import rank_trending as trending_sums
from hotpapers.rank.select import Limits, select

AS_OF = datetime(2026, 11, 26, 12, tzinfo=UTC)
RULES = HotRules()
PAPERS = [f"2611.{i:05d}" for i in range(6)]
SOURCES = ("x", "bluesky", "hn")

counts = st.integers(min_value=0, max_value=10**6)
attention_rows = st.lists(st.builds(
    AccountAttention, paper_id=st.sampled_from(PAPERS), source=st.sampled_from(SOURCES),
    account=st.sampled_from([f"acct{i}" for i in range(8)]),
    posts=st.integers(1, 5), likes=counts, reposts=counts, quotes=counts, replies=counts,
    points=counts), max_size=30).map(
    lambda rows: list({(r.paper_id, r.source, r.account): r for r in rows}.values()))


def rank_hot(papers, rows, rules: HotRules = RULES, top_accounts: int = 5):
    return rank_sums(papers, source_sums(rows, rules, top_accounts), rules)


def rank_trending(papers, rows, as_of, rules: HotRules = RULES):
    return trending_sums(papers, source_sums(rows, rules), rules, as_of=as_of)


def scores(rows) -> dict[str, float]:
    found = {r.paper_id: r.score for r in rank_hot(PAPERS, rows)}
    return {p: found.get(p, 0.0) for p in PAPERS}


@given(attention_rows, st.data())
def test_adding_a_like_never_lowers_a_papers_score(rows, data):
    if not rows:
        return
    i = data.draw(st.integers(0, len(rows) - 1))
    liked = [*rows[:i], replace(rows[i], likes=rows[i].likes + 1), *rows[i + 1:]]
    assert scores(liked)[rows[i].paper_id] >= scores(rows)[rows[i].paper_id]


@given(attention_rows, st.sampled_from(SOURCES))
def test_removing_a_source_never_raises_another_sources_normalised_score(rows, dropped):
    def normalised(rows):
        return {(r.paper_id, s): part.normalised
                for r in rank_hot(PAPERS, rows) for s, part in r.parts.sources.items()}
    before = normalised(rows)
    after = normalised([r for r in rows if r.source != dropped])
    for key, value in after.items():
        assert value <= before[key] + 1e-9


@given(attention_rows)
def test_scores_are_finite_and_positive_only_with_attention(rows):
    ranked = rank_hot(PAPERS, rows)
    assert all(math.isfinite(r.score) and r.score > 0 for r in ranked)
    assert {r.paper_id for r in ranked} == {r.paper_id for r in rows}


def test_huge_counts_stay_finite():
    rows = [AccountAttention(PAPERS[0], "x", "a", likes=10**18, reposts=10**18, points=10**18)]
    [row] = rank_hot(PAPERS, rows)
    assert math.isfinite(row.score)


def test_many_people_beat_one_inflated_post():
    # the original blog's #1: 12,268 retweets and 15 favorites, from one tweet
    inflated = [AccountAttention(PAPERS[0], "x", "bot-fan", likes=15, reposts=12268)]
    discussed = [AccountAttention(PAPERS[1], "x", f"researcher{i}", likes=20, reposts=4)
                 for i in range(12)]
    ranked = rank_hot(PAPERS, inflated + discussed)
    assert [r.paper_id for r in ranked] == [PAPERS[1], PAPERS[0]]
    assert ranked[1].parts.sources["x"].reposts_capped == 12268 - 3 * (15 + 1)


def test_one_account_posting_twice_is_one_person():
    one = [AccountAttention(PAPERS[0], "x", "a", posts=2, likes=10)]
    [row] = rank_hot(PAPERS, one)
    assert row.parts.sources["x"].people == 1 and row.parts.people == 1
    assert row.parts.sources["x"].posts == 2


def test_new_accounts_count_less():
    posted = AS_OF - timedelta(hours=1)
    young = AccountAttention(PAPERS[0], "x", "a", likes=5, first_at=posted,
                             account_created_at=posted - timedelta(days=2))
    old = replace(young, paper_id=PAPERS[1], account_created_at=posted - timedelta(days=900))
    ranked = rank_hot(PAPERS, [young, old])
    assert [r.paper_id for r in ranked] == [PAPERS[1], PAPERS[0]]
    assert ranked[1].parts.sources["x"].new_accounts == 1


def test_a_big_source_does_not_drown_a_small_one():
    # X counts are a thousand times Hacker News's; each source is measured on its own scale
    x = [AccountAttention(PAPERS[i], "x", f"x{i}-{j}", likes=1000 * (i + 1))
         for i in range(4) for j in range(3)]
    hn = [AccountAttention(PAPERS[4], "hn", "hn-a", points=300),
          AccountAttention(PAPERS[5], "hn", "hn-b", points=30)]
    ranked = {r.paper_id: r for r in rank_hot(PAPERS, x + hn)}
    assert ranked[PAPERS[4]].score > ranked[PAPERS[0]].score


def test_thresholds_show_fewer_rather_than_weak_papers():
    rows = [AccountAttention(p, "x", f"a{i}", likes=10 ** i) for i, p in enumerate(PAPERS)]
    everything = rank_hot(PAPERS, rows)
    strong = select(everything, Limits(min_score=everything[2].score))
    assert [r.paper_id for r in strong] == [r.paper_id for r in everything[:3]]
    assert len(select(everything, Limits(max_papers=2))) == 2


def test_ties_keep_listing_order():
    rows = [AccountAttention(p, "x", "a", likes=3) for p in reversed(PAPERS)]
    assert [r.paper_id for r in rank_hot(PAPERS, rows)] == PAPERS


def test_trending_prefers_fresh_attention():
    old = [AccountAttention(PAPERS[0], "x", f"a{i}", likes=50,
                            first_at=AS_OF - timedelta(days=3)) for i in range(10)]
    fresh = [AccountAttention(PAPERS[1], "x", f"b{i}", likes=50,
                              first_at=AS_OF - timedelta(hours=2)) for i in range(6)]
    hot = [r.paper_id for r in rank_hot(PAPERS, old + fresh)]
    trending = rank_trending(PAPERS, old + fresh, AS_OF)
    assert hot == [PAPERS[0], PAPERS[1]]
    assert [r.paper_id for r in trending] == [PAPERS[1], PAPERS[0]]
    assert trending[0].parts.hours == 2.0


def test_top_accounts_are_the_most_valuable_ties_in_input_order():
    rows = [AccountAttention(PAPERS[0], "x", name, likes=likes)
            for name, likes in (("a", 1), ("b", 50), ("c", 1), ("d", 50), ("e", 7), ("f", 0))]
    [row] = rank_hot(PAPERS, rows, top_accounts=3)
    assert [a.account for a in row.parts.sources["x"].top_accounts] == ["b", "d", "e"]


def test_attention_about_papers_not_listed_is_ignored():
    rows = [AccountAttention("9912.00001", "x", "a", likes=10**6),
            AccountAttention(PAPERS[0], "x", "b", likes=1)]
    assert [r.paper_id for r in rank_hot(PAPERS, rows)] == [PAPERS[0]]
    assert rank_hot(PAPERS[:1], rows)[0].parts.sources["x"].scale == 1.0


def test_equal_accounts_are_named_alike_when_named_from_the_store():
    """The fast path names the published totals from the sums and the authors from the
    store: among equal values it names them in the order the exact path does."""
    author = AccountAttention(PAPERS[0], "x", "alice", likes=5)
    totals = AccountAttention(PAPERS[0], "x", "(published totals)", likes=5)
    [exact] = rank_hot(PAPERS, [author, totals])
    named = [a.account for a in exact.parts.sources["x"].top_accounts]
    assert named == ["alice", "(published totals)"]
    part = exact.parts.sources["x"]
    alice, published = part.top_accounts
    assert alice.value == published.value
    fast = replace(exact, parts=replace(exact.parts, sources={
        "x": replace(part, top_accounts=(published,))}))
    again = with_top_accounts(fast, {(PAPERS[0], "x"): [alice]})
    assert [a.account for a in again.parts.sources["x"].top_accounts] == named
