"""The classic ranking: the original rules, exactly, and its invariants."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hotpapers.rank.classic import ClassicRules, TweetScore, rank_classic
from hotpapers.rank.rows import ClassicParts

RULES = ClassicRules()


class Day:
    """A day's papers in crawl order, their tweets, and which have a PDF."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.tweets: dict[str, list[TweetScore]] = {}
        self.pdf: set[str] = set()

    def add(self, pid: str, *scores: tuple[int, int], pdf: bool = True) -> Day:
        self.ids.append(pid)
        self.tweets[pid] = [TweetScore(f"{pid}-t{i}", rt, fav)
                            for i, (rt, fav) in enumerate(scores)]
        if pdf:
            self.pdf.add(pid)
        return self

    def rank(self, rules: ClassicRules = RULES):
        return rank_classic(self.ids, self.tweets, rules, with_pdf=self.pdf)


def one(pid: str, *scores: tuple[int, int]):
    return Day().add(pid, *scores).rank()


def test_score_threshold_and_pdf_rule():
    ranked = (Day().add("a", (30, 19))           # 49: below 50
              .add("b", (30, 20))                # 50: listed
              .add("c", (100, 100), pdf=False)
              .add("d", (1, 2), (40, 40))        # 83
              .rank())
    assert [(r.paper_id, r.score) for r in ranked] == [("d", 83), ("b", 50)]


def test_totals_count_every_tweet_but_only_strong_tweets_are_shown():
    (row,) = one("a", (10, 10), (20, 5), (3, 1), (60, 0))
    assert (row.parts.reposts, row.parts.likes, row.score) == (93, 16, 109)
    # 60 and 25 reach the tweet threshold, 20 and 4 do not (the first tweet is no exception)
    assert row.parts.shown == ("a-t3", "a-t1") and row.parts.tweets_shown == 2
    assert row.parts.to_json() == {"reposts": 93, "likes": 16, "tweets_shown": 2}


def test_a_listed_paper_can_show_no_tweet():
    (row,) = one("a", (12, 12), (12, 12), (1, 1))
    assert row.score == 50 and row.parts.shown == ()


def test_at_most_ten_tweets_are_shown_best_first():
    (row,) = one("a", *[(i, 30) for i in range(15)])
    assert row.parts.shown == tuple(f"a-t{i}" for i in range(14, 4, -1))


def test_ties_come_out_in_reverse_crawl_order():
    ranked = (Day().add("first", (50, 0)).add("second", (25, 25)).add("top", (99, 1))
              .add("third", (0, 50)).rank())
    assert [r.paper_id for r in ranked] == ["top", "third", "second", "first"]
    (row,) = one("a", (20, 10), (10, 20), (30, 0))
    assert row.parts.shown == ("a-t2", "a-t1", "a-t0")


def test_thresholds_are_parameters():
    day = Day().add("a", (5, 5)).add("b", (1, 0))
    ranked = day.rank(ClassicRules(paper_threshold=1, tweet_threshold=10, max_tweets=1))
    assert [(r.paper_id, r.parts.shown) for r in ranked] == [("a", ("a-t0",)), ("b", ())]


def test_a_paper_without_tweets_is_not_listed_and_unknown_ids_are_ignored():
    ranked = rank_classic(["a", "b"], {"b": [TweetScore("b-t0", 60, 0)],
                                       "zz": [TweetScore("z", 900, 0)]},
                          ClassicRules(paper_threshold=0), with_pdf={"a", "b", "zz"})
    assert [r.paper_id for r in ranked] == ["b", "a"]


def test_stored_parts_print_as_stored():
    # the bundled snapshot's rankings were written with sorted keys; imports have no count
    # of shown tweets
    stored = {"likes": 138, "reposts": 576}
    parts = ClassicParts.from_dict(stored)
    assert parts == ClassicParts(576, 138) and list(parts.to_json().items()) == [
        ("likes", 138), ("reposts", 576)]


counts = st.tuples(st.integers(0, 200), st.integers(0, 200))
days = st.lists(st.lists(counts, max_size=6), min_size=1, max_size=12).map(
    lambda papers: [(f"p{i}", tweets) for i, tweets in enumerate(papers)])


def build(papers) -> Day:
    day = Day()
    for pid, tweets in papers:
        day.add(pid, *tweets)
    return day


@given(days, st.data())
def test_raising_a_count_never_lowers_a_paper(papers, data):
    target = data.draw(st.integers(0, len(papers) - 1))
    pid, tweets = papers[target]
    if not tweets:
        return
    which = data.draw(st.integers(0, len(tweets) - 1))
    extra = data.draw(st.integers(1, 500))
    before = [r.paper_id for r in build(papers).rank()]
    raised = list(tweets)
    raised[which] = (tweets[which][0] + extra, tweets[which][1])
    after = [r.paper_id for r in build([*papers[:target], (pid, raised),
                                        *papers[target + 1:]]).rank()]
    if pid in before:
        assert pid in after and after.index(pid) <= before.index(pid)


@given(days, st.randoms(use_true_random=False))
def test_input_order_changes_only_the_order_of_ties(papers, rng):
    shuffled = list(papers)
    rng.shuffle(shuffled)
    first, second = build(papers).rank(), build(shuffled).rank()
    assert [r.score for r in first] == [r.score for r in second]
    assert sorted(r.paper_id for r in first) == sorted(r.paper_id for r in second)
    assert all(r.score >= 50 for r in first)
    assert [r.score for r in first] == sorted((r.score for r in first), reverse=True)
