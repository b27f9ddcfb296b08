"""The original Hot Papers ranking, exactly: score = retweets + favorites over a paper's
tweets; listed at >= 50 with a PDF; ties in reverse crawl order; at most 10 tweets shown,
each scoring >= 25."""

from __future__ import annotations

from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass

from hotpapers.rank.rows import ClassicParts, RankedRow

__all__ = ["ClassicRules", "TweetScore", "rank_classic"]


@dataclass(frozen=True)
class TweetScore:
    """One original tweet's counts at the ranking's as-of time; `key` identifies it."""

    key: Hashable
    reposts: int
    likes: int

    @property
    def score(self) -> int:
        return self.reposts + self.likes


@dataclass(frozen=True)
class ClassicRules:
    """The original's thresholds (settings `classic_*`): the lowest paper score listed, the
    lowest tweet score shown, and how many tweets a paper shows at most."""

    paper_threshold: int = 50
    tweet_threshold: int = 25
    max_tweets: int = 10


def _descending(items: Sequence, key) -> list:
    """The original's order: a stable ascending sort, reversed; ties end up in reverse order."""
    return list(reversed(sorted(items, key=key)))


def rank_classic(papers: Sequence[str], tweets: Mapping[str, Sequence[TweetScore]],
                 rules: ClassicRules, *, with_pdf: Collection[str]) -> list[RankedRow]:
    """The listed papers of `papers` (in crawl order), best first, each with the keys of the
    tweets its block shows in its parts. `tweets` holds each paper's tweets in crawl order
    (a paper without an entry has none); `with_pdf` the papers that have a PDF link."""
    ranked = []
    for paper_id in papers:
        found = tweets.get(paper_id, ())
        score = sum(t.score for t in found)
        if score < rules.paper_threshold or paper_id not in with_pdf:
            continue
        best = _descending(found, key=lambda t: t.score)[:rules.max_tweets]
        shown = tuple(t.key for t in best if t.score >= rules.tweet_threshold)
        ranked.append(RankedRow(paper_id, score, ClassicParts(
            reposts=sum(t.reposts for t in found), likes=sum(t.likes for t in found),
            tweets_shown=len(shown), shown=shown)))
    return _descending(ranked, key=lambda r: r.score)
