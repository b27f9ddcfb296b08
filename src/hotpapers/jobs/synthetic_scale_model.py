"""The model of the scale generator (`synthetic_scale.py`, whose docstring tells it and
why): announcement days, papers with a skewed appeal, mentions per paper, accounts with
Zipf activity, organic mentions with growing counts, and bot bursts."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from hotpapers.jobs.synthetic_papers import ML, PRIMARY, make_papers
from hotpapers.models import Account, Mention, Observation, Paper, Version
from hotpapers.sources.arxiv.schedule import announcement_time

__all__ = ["SHARES", "MentionMaker", "ScalePaper", "announced_at", "announcement_days",
           "bot_bursts", "make_day_papers", "mention_counts"]

SHARES = {"x": 0.45, "bluesky": 0.27, "mastodon": 0.10, "reddit": 0.06, "hn": 0.04, "hf": 0.08}
_TALKED, _SIGMA, _QUIET_SHARE, _BOT_SHARE = 0.3, 1.8, 0.25, 0.02
_TAU = {"x": 6.0, "bluesky": 8.0, "mastodon": 10.0, "hn": 3.0, "reddit": 5.0, "hf": 8.0}
_BORN = {"x": 2008, "bluesky": 2023}


def announcement_days(end: date, count: int) -> list[date]:
    """The `count` weekdays ending with `end` (or the weekday before it), oldest first."""
    found: list[date] = []
    day = end
    while len(found) < count:
        if day.weekday() < 5:
            found.append(day)
        day -= timedelta(days=1)
    return found[::-1]


def announced_at(day: date) -> datetime:
    return announcement_time(day) or datetime.combine(day, time(1), UTC)


class People:
    """One source's accounts, created when first drawn, with Zipf activity."""

    def __init__(self, rng: random.Random, source: str, size: int, start: date):
        self.rng, self.source, self.start = rng, source, start
        self.cum = cumulative([1 / (i + 3) for i in range(size)])
        self.ids = range(size)
        self.made: dict[int, tuple[Account, float]] = {}

    def pick(self) -> tuple[Account, float]:
        number = self.rng.choices(self.ids, cum_weights=self.cum)[0]
        if number not in self.made:
            self.made[number] = self._account(number)
        return self.made[number]

    def _account(self, number: int) -> tuple[Account, float]:
        rng, source = self.rng, self.source
        young = rng.random() < 0.03
        born = None
        if source in _BORN:
            first = datetime(_BORN[source], 4, 1, tzinfo=UTC)
            end = datetime.combine(self.start, time(12), UTC)
            born = end - timedelta(days=rng.uniform(1, 30)) if young else \
                first + (end - timedelta(days=40) - first) * rng.random()
        handle = f"synthetic-{source}-{number}"
        account = Account(source, f"synthetic-{source}-{number}", handle,
                          f"Synthetic User {number}", whole(born))
        return account, rng.lognormvariate(1.0, 1.4) * (0.2 if young else 1.0)


def cumulative(weights: Sequence[float]) -> list[float]:
    total, found = 0.0, []
    for weight in weights:
        total += weight
        found.append(total)
    return found


def whole(moment: datetime | None) -> datetime | None:
    return moment.replace(microsecond=0) if moment is not None else None


@dataclass
class ScalePaper:
    """What the mentions need of a paper: its id, day, topic factor, appeal, field."""

    id: str
    day: int
    topic: float
    appeal: float
    ml: bool


def make_day_papers(rng: random.Random, days: list[date]
                    ) -> tuple[list[list[Paper]], list[ScalePaper]]:
    """Each day's papers (ids unique over the days) and their appeal."""
    by_day, light, numbers = [], [], {}
    for index, day in enumerate(days):
        records = make_papers(rng, day, rng.randint(500, 700), announced_at(day))
        month = records[0]["id"][:4]
        number = numbers.get(month, rng.randint(1, 400))
        made = []
        for record in records:
            number += rng.randint(1, 3)
            paper_id = f"{month}.{number:05d}"
            primary = record["categories"][0]
            topic = PRIMARY[primary][1]
            talked = rng.random() < min(0.9, _TALKED * topic / 1.2)
            appeal = topic * rng.lognormvariate(0, _SIGMA) if talked else 0.0
            light.append(ScalePaper(paper_id, index, topic, appeal, primary in ML))
            made.append(to_paper(record, paper_id, day))
        numbers[month] = number
        by_day.append(made)
    return by_day, light


def to_paper(record: dict, paper_id: str, day: date) -> Paper:
    submitted = datetime.fromisoformat(record["submitted_at"])
    return Paper(id=paper_id, title=record["title"], authors=list(record["authors"]),
                 categories=list(record["categories"]), abstract=record["abstract"],
                 abs_url=f"https://arxiv.org/abs/{paper_id}",
                 pdf_url=f"https://arxiv.org/pdf/{paper_id}", latest_version=1,
                 comments=record["comments"], submitted_at=submitted, updated_at=submitted,
                 announced_on=day, versions=[Version(1, submitted)])


def mention_counts(rng: random.Random, papers: list[ScalePaper], total: int) -> list[int]:
    """Mentions per paper: a quarter uniformly on the quiet papers (at most one each on
    average), the rest by appeal over the discussed ones."""
    quiet = [i for i, p in enumerate(papers) if p.appeal == 0]
    talked = [i for i, p in enumerate(papers) if p.appeal > 0]
    on_quiet = min(round(total * _QUIET_SHARE), len(quiet)) if talked else total
    counts = [0] * len(papers)
    for i in rng.choices(quiet, k=on_quiet) if quiet else []:
        counts[i] += 1
    cum = cumulative([papers[i].appeal for i in talked])
    left = total - (on_quiet if quiet else 0)
    while left > 0 and talked:
        chunk = min(left, 100_000)
        for i in rng.choices(talked, cum_weights=cum, k=chunk):
            counts[i] += 1
        left -= chunk
    return counts


class MentionMaker:
    """Builds mentions: serial native ids, engagement, the crawls that observe them."""

    def __init__(self, rng: random.Random, seed: int, total: int, start: date):
        self.rng, self.seed, self.serial = rng, seed, 0
        self.people = {s: People(rng, s, max(50, round(total * share / 5)), start)
                       for s, share in SHARES.items()}
        self.hf_pages: set[str] = set()
        self.sources, self.cum = list(SHARES), cumulative(list(SHARES.values()))

    def source(self, paper: ScalePaper) -> str:
        source = self.rng.choices(self.sources, cum_weights=self.cum)[0]
        if source == "hf" and not paper.ml:
            return "x"
        if source == "hf" and paper.id in self.hf_pages:
            return "reddit"
        if source == "hf":
            self.hf_pages.add(paper.id)
        return source

    def mention(self, source: str, account: Account, paper: ScalePaper, at: datetime,
                final: dict[str, int], kind: str = "post") -> Mention:
        self.serial += 1
        rng, native = self.rng, f"synthetic-{self.seed}-{self.serial}"
        if source == "hf":
            native = paper.id
        elif kind == "post" and source == "x":
            kind = rng.choices(("post", "quote", "reply"), (0.9, 0.05, 0.05))[0]
        if source in ("hn", "reddit"):
            kind = "story"
        elif source == "hf":
            kind = "upvote-page"
        crawl, observations = at, []
        for i in range(rng.choice((1, 2, 2, 3, 3))):
            crawl = whole(crawl + timedelta(
                hours=rng.uniform(0.5, 12) if i == 0 else rng.uniform(6, 30)))
            grown = 1 - math.exp(-(crawl - at).total_seconds() / 3600 / _TAU[source])
            observations.append(Observation(crawl, **{k: round(v * grown)
                                                      for k, v in final.items()}))
        return Mention(source=source, native_id=native, paper_ids=[paper.id],
                       permalink=f"https://synthetic.example/{source}/{native}",
                       account=account, kind=kind, created_at=at, observations=observations,
                       text=f"[synthetic] post {self.serial} https://arxiv.org/abs/{paper.id}")

    def organic(self, paper: ScalePaper, announced: datetime) -> Mention:
        rng = self.rng
        source = self.source(paper)
        account, reach = self.people[source].pick()
        hours = min(240.0, rng.lognormvariate(math.log(8.0), 1.1))
        at = whole(announced + timedelta(hours=hours))
        lift = (1 + paper.appeal) ** 0.4 * rng.lognormvariate(0, 0.8)
        if source in ("hn", "reddit", "hf"):
            points = 1 + round(reach * 3 * lift)
            final = {"points": points, "replies": round(points * rng.uniform(0, 0.6))}
        else:
            likes = round(reach * lift * (1.0 if source == "x" else 0.5))
            final = {"likes": likes, "reposts": round(likes * rng.uniform(0.05, 0.35)),
                     "quotes": round(likes * rng.uniform(0, 0.05)),
                     "replies": round(likes * rng.uniform(0.01, 0.1))}
        return self.mention(source, account, paper, at, final)

    def burst(self, number: int, size: int, paper: ScalePaper, announced: datetime
              ) -> list[Mention]:
        """A bot burst: `size` posts about one paper from a few fresh accounts."""
        rng = self.rng
        source = rng.choice(("x", "bluesky"))
        start = announced + timedelta(hours=rng.uniform(1, 30))
        bots = [Account(source, f"synthetic-bot-{number}-{j}", f"synthetic-bot-{number}-{j}",
                        f"Synthetic Bot {number}-{j}",
                        whole(start - timedelta(days=rng.uniform(1, 10))))
                for j in range(max(1, size // rng.randint(3, 8)))]
        return [self.mention(source, rng.choice(bots), paper,
                             whole(start + timedelta(minutes=rng.uniform(0, 45))),
                             {"likes": rng.randint(0, 3), "reposts": rng.randint(200, 3000)})
                for _ in range(size)]


def bot_bursts(rng: random.Random, papers: list[ScalePaper], days: int, total: int
               ) -> list[list[tuple[int, int]]]:
    """Per day, the bot bursts as (paper index, size): 2 % of the mentions in all."""
    left, found = round(total * _BOT_SHARE), [[] for _ in range(days)]
    while left > 0:
        size = min(left, rng.randint(10, 80))
        target = rng.randrange(len(papers))
        found[papers[target].day].append((target, size))
        left -= size
    return found
