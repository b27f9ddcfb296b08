"""The original Hot Papers ranking, exactly: score = retweets + favorites over a paper's
tweets; listed at >= 50 with a PDF; ties in reverse crawl order; at most 10 tweets shown,
each scoring >= 25."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

__all__ = ["PaperTweets", "RankedPaper", "TweetScore", "rank_classic"]


@dataclass(frozen=True)
class TweetScore:
    """One original tweet's counts at the ranking's as-of time; `key` identifies it."""

    key: Hashable
    reposts: int
    likes: int

    @property
    def score(self) -> int:
        return self.reposts + self.likes


@dataclass
class PaperTweets:
    """A paper of the day, in crawl order, with its tweets in crawl order."""

    paper_id: str
    has_pdf: bool
    tweets: Sequence[TweetScore] = ()


@dataclass
class RankedPaper:
    paper_id: str
    score: int
    reposts: int
    likes: int
    shown: list[Hashable] = field(default_factory=list)  # tweet keys, best first

    @property
    def parts(self) -> dict:
        return {"reposts": self.reposts, "likes": self.likes, "tweets_shown": len(self.shown)}


def _descending(items: Sequence, key) -> list:
    """The original's order: a stable ascending sort, reversed; ties end up in reverse order."""
    return list(reversed(sorted(items, key=key)))


def rank_classic(
    papers: Sequence[PaperTweets],
    paper_threshold: int = 50,
    tweet_threshold: int = 25,
    max_tweets: int = 10,
) -> list[RankedPaper]:
    """Listed papers, best first, each with the tweets its block shows."""
    ranked = []
    for paper in papers:
        score = sum(t.score for t in paper.tweets)
        if score < paper_threshold or not paper.has_pdf:
            continue
        best = _descending(paper.tweets, key=lambda t: t.score)[:max_tweets]
        ranked.append(RankedPaper(
            paper_id=paper.paper_id,
            score=score,
            reposts=sum(t.reposts for t in paper.tweets),
            likes=sum(t.likes for t in paper.tweets),
            shown=[t.key for t in best if t.score >= tweet_threshold],
        ))
    return _descending(ranked, key=lambda r: r.score)
