"""The classic ranking: the original rules, exactly, and its invariants."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hotpapers.rank.classic import PaperTweets, TweetScore, rank_classic


def paper(pid: str, *scores: tuple[int, int], pdf: bool = True) -> PaperTweets:
    return PaperTweets(pid, pdf, [TweetScore(f"{pid}-t{i}", rt, fav) for i, (rt, fav) in
                                  enumerate(scores)])


def test_score_threshold_and_pdf_rule():
    ranked = rank_classic([
        paper("a", (30, 19)),            # 49: below 50
        paper("b", (30, 20)),            # 50: listed
        paper("c", (100, 100), pdf=False),
        paper("d", (1, 2), (40, 40)),    # 83
    ])
    assert [(r.paper_id, r.score) for r in ranked] == [("d", 83), ("b", 50)]


def test_totals_count_every_tweet_but_only_strong_tweets_are_shown():
    ranked = rank_classic([paper("a", (10, 10), (20, 5), (3, 1), (60, 0))])
    (row,) = ranked
    assert (row.reposts, row.likes, row.score) == (93, 16, 109)
    # 60 and 25 reach the tweet threshold, 20 and 4 do not (the first tweet is no exception)
    assert row.shown == ["a-t3", "a-t1"]


def test_a_listed_paper_can_show_no_tweet():
    (row,) = rank_classic([paper("a", (12, 12), (12, 12), (1, 1))])
    assert row.score == 50 and row.shown == []


def test_at_most_ten_tweets_are_shown_best_first():
    scores = [(i, 30) for i in range(15)]
    (row,) = rank_classic([paper("a", *scores)])
    assert row.shown == [f"a-t{i}" for i in range(14, 4, -1)]


def test_ties_come_out_in_reverse_crawl_order():
    ranked = rank_classic([paper("first", (50, 0)), paper("second", (25, 25)),
                           paper("top", (99, 1)), paper("third", (0, 50))])
    assert [r.paper_id for r in ranked] == ["top", "third", "second", "first"]
    (row,) = rank_classic([paper("a", (20, 10), (10, 20), (30, 0))])
    assert row.shown == ["a-t2", "a-t1", "a-t0"]


def test_thresholds_are_parameters():
    papers = [paper("a", (5, 5)), paper("b", (1, 0))]
    ranked = rank_classic(papers, paper_threshold=1, tweet_threshold=10, max_tweets=1)
    assert [(r.paper_id, r.shown) for r in ranked] == [("a", ["a-t0"]), ("b", [])]


counts = st.tuples(st.integers(0, 200), st.integers(0, 200))
days = st.lists(st.lists(counts, max_size=6), min_size=1, max_size=12).map(
    lambda papers: [paper(f"p{i}", *tweets) for i, tweets in enumerate(papers)])


@given(days, st.data())
def test_raising_a_count_never_lowers_a_paper(papers, data):
    target = data.draw(st.integers(0, len(papers) - 1))
    if not papers[target].tweets:
        return
    which = data.draw(st.integers(0, len(papers[target].tweets) - 1))
    extra = data.draw(st.integers(1, 500))
    before = [r.paper_id for r in rank_classic(papers)]
    tweets = list(papers[target].tweets)
    old = tweets[which]
    tweets[which] = TweetScore(old.key, old.reposts + extra, old.likes)
    raised = [*papers[:target], PaperTweets(papers[target].paper_id, True, tweets),
              *papers[target + 1:]]
    after = [r.paper_id for r in rank_classic(raised)]
    pid = papers[target].paper_id
    if pid in before:
        assert pid in after and after.index(pid) <= before.index(pid)


@given(days, st.randoms(use_true_random=False))
def test_input_order_changes_only_the_order_of_ties(papers, rng):
    shuffled = list(papers)
    rng.shuffle(shuffled)
    first, second = rank_classic(papers), rank_classic(shuffled)
    assert [r.score for r in first] == [r.score for r in second]
    assert sorted(r.paper_id for r in first) == sorted(r.paper_id for r in second)
    assert all(r.score >= 50 for r in first)
    assert [r.score for r in first] == sorted((r.score for r in first), reverse=True)
