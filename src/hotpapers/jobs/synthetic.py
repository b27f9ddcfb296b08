"""Synthetic days: a documented, seeded generator of realistic multi-source days, written as
snapshot records (docs/snapshot.md), for the demo and the ranking evaluation.

Everything it makes is labelled synthetic: the header says `"synthetic": true` and carries a
note, titles and post texts begin with "[synthetic] ", every abstract ends with a sentence
saying it was generated, and every handle contains "synthetic". Pure Python: one
`random.Random(seed)` drives it all, so a (day, seed, options) triple always gives the same
records.

The model, and why:

* Papers. `papers` new submissions (default 120), submitted at uniform times in the day's
  arXiv submission window, with new-style ids of that month rising with submission time
  (small gaps, as other categories interleave); a primary category drawn from a weighted
  list where machine learning dominates, as on arXiv's busiest days, and cross-lists to
  related categories for about half of them. Titles and four-sentence abstracts (the last
  says they are synthetic) come from templates with each field's vocabulary; 1-12 authors
  (1 + exponential, mean 4.5); announced on the day, all "new" in its listing.
* Appeal. Each paper has a latent appeal, log-normal with sigma 1.3, times a topic factor
  (machine learning is discussed far more than mathematics). A log-normal gives the heavy
  tail seen on real days: most papers get one or two posts, a handful get dozens.
* Sources. The number of people posting on X is Poisson(1.1 x appeal x topic). Bluesky gets
  0.3 of that from its own users plus cross-posts; Mastodon 0.12. Hacker News, Reddit and
  Hugging Face get at most a story or an upvote page per paper, with a probability rising
  with appeal (Hugging Face only for machine-learning papers), and log-normal points, so a
  few stories reach hundreds of points and most stay at a handful.
* Accounts. Each source has its own population (about 6, 3, 1 and 0.5 accounts per paper on
  X, Bluesky, Mastodon and HN/Reddit), drawn with Zipf-like activity (a few accounts post
  about many papers) and a log-normal reach (median a few likes per post, some accounts
  hundreds). X and Bluesky accounts carry creation dates, as those sources report them:
  years old for most, 3 % created in the last month. Feed accounts post every computer
  science paper and get almost no engagement, as arXiv feed bots do.
* People on two sources. A third of Bluesky accounts and a fifth of Mastodon accounts belong
  to a person who also has an X account (same number in the handle: `synthetic_user_12` on
  X, `synthetic-user-12.bsky.social` on Bluesky); when such a person posts a paper on X,
  they cross-post the same text to Bluesky with probability 0.7 (Mastodon 0.5) minutes
  later.
* Engagement. A post's final likes are its author's reach x appeal^0.6 x log-normal noise;
  reposts 8-35 % of likes (boosts on Mastodon up to 60 %), a few quotes and replies. On 2 %
  of X posts, reposts are inflated by 300-5,000 with no matching likes, as bought or
  looped retweets do (the original blog's top papers had thousands of retweets and a
  handful of favorites).
* Time. Attention starts at the announcement for 80 % of papers and 18-40 hours later for
  the rest (a paper discovered on the second day); each post comes a log-normal delay
  (median 5 hours) after that. A post's counts grow as final x (1 - exp(-hours / tau)),
  tau 3-10 hours by source, and are observed at the crawls 6, 20, 44 and 68 hours
  after the announcement that follow it, so counts grow over three days and the trending
  ranking has momentum to measure.
* Bot attack (optional, `bot_attack=PAPER_ID`): one extra X post about that paper by an
  account created 2-6 days before, with 10,000 reposts (from fresh accounts, not stored one
  by one) and 0-3 likes. It draws from its own random stream, so the rest of the day is
  identical with or without it; so are `inflation=False` and `sources=(...)`, which only
  remove things.

The header's `observed_until` is the time of the day's last observation, the as-of time at
which the day is best ranked. `python -m hotpapers.jobs.synthetic --day 2026-01-05 --seed 7
--out FILE` writes a snapshot file that `hotpapers import snapshot FILE` loads; the demo's
bundled day is that command with `--papers 45`. With `--days` or `--mentions` the command
writes a synthetic store of many days and mentions instead (`synthetic_scale.py`).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from hotpapers.jobs import synthetic_scale
from hotpapers.jobs.snapshot import FORMAT, VERSION
from hotpapers.jobs.synthetic_papers import GENERATOR, ML, PRIMARY, iso, make_papers
from hotpapers.render.write import write_atomic
from hotpapers.sources.arxiv.schedule import announcement_time

__all__ = ["CRAWL_HOURS", "SOURCES", "generate_day", "main", "write_day"]

SOURCES = ("x", "bluesky", "mastodon", "hn", "reddit", "hf")
CRAWL_HOURS = (6, 20, 44, 68)  # observation times, hours after the announcement
NOTE = f"synthetic data made by {GENERATOR}: no paper, person or post here is real"
_SAY = ("New paper:", "Worth a read:", "Interesting:", "Our new work:", "Nice result:",
        "Thread on", "Just out:", "Reading this today:")
# per source: rate relative to X, share of twins of X people, cross-post probability,
# accounts per paper, growth time constant (hours), engagement scale
_SOURCE = {"x": (1.0, 0.0, 0.0, 6.0, 6.0, 1.0), "bluesky": (0.3, 0.33, 0.7, 3.0, 8.0, 0.6),
           "mastodon": (0.12, 0.2, 0.5, 1.0, 10.0, 0.3), "hn": (0.0, 0.0, 0.0, 0.5, 3.0, 1.0),
           "reddit": (0.0, 0.0, 0.0, 0.5, 5.0, 1.0), "hf": (0.0, 0.0, 0.0, 0.34, 8.0, 1.0)}
_BORN = {"x": 2008, "bluesky": 2023}  # first year of the sources that report creation dates


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, product = math.exp(-lam), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


class _Accounts:
    """One source's population: handles, creation dates, reach and Zipf-like activity."""

    def __init__(self, rng: random.Random, source: str, size: int, day: date, twins: int):
        self.source, self.rng = source, rng
        first = 0 if source == "x" else 100_000 * (SOURCES.index(source) + 1)
        numbers = [first + i for i in range(size)]
        for i in range(min(twins, size)):  # people who also post on X, under their X number
            numbers[i] = i
        self.people = [self._account(n, day) for n in numbers]
        self.twins = {p["number"]: p for p in self.people[:twins]}
        self.cum = list(_cumulative([1 / (i + 5) ** 0.9 for i in range(size)]))

    def _account(self, number: int, day: date) -> dict:
        rng, source = self.rng, self.source
        handle = {"bluesky": f"synthetic-user-{number}.bsky.social",
                  "mastodon": f"synthetic_user_{number}@synthetic.example"}.get(
            source, f"synthetic_user_{number}")
        native = {"x": str(10**9 + number), "bluesky": f"did:plc:synthetic{number}",
                  "mastodon": f"https://synthetic.example/@synthetic_user_{number}"}.get(
            source, handle)
        account = {"source": source, "native_id": native, "handle": handle,
                   "name": f"Synthetic User {number}"}
        new = rng.random() < 0.03
        if source in _BORN:
            start = datetime(_BORN[source], 4, 1, tzinfo=UTC)
            end = datetime.combine(day, time(12), UTC) - timedelta(days=40)
            born = (end + timedelta(days=40 - rng.uniform(1, 29))) if new else \
                start + (end - start) * rng.random()
            account["created_at"] = iso(born)
        reach = rng.lognormvariate(1.0, 1.4) * (0.2 if new else 1.0)
        return {"account": account, "reach": reach, "number": number}

    def pick(self, taken: set[int] | None = None) -> dict:
        """An account by activity; one not in `taken` (those that already posted about the
        paper) unless three draws in a row hit it: a second post by one person is rare."""
        for _ in range(3):
            person = self.rng.choices(self.people, cum_weights=self.cum)[0]
            if taken is None or person["number"] not in taken:
                break
        if taken is not None:
            taken.add(person["number"])
        return person


def _cumulative(weights: Sequence[float]):
    total = 0.0
    for w in weights:
        total += w
        yield total


class _Day:
    """The state of one generation: the clock, the crawls, the records made so far."""

    def __init__(self, rng: random.Random, day: date, announced: datetime):
        self.rng, self.day, self.announced = rng, day, announced
        self.crawls = {s: [announced + timedelta(hours=h, minutes=rng.uniform(0, 20))
                           for h in CRAWL_HOURS] for s in SOURCES}
        self.mentions: list[dict] = []
        self.serial = 0

    def post(self, source: str, person: dict, paper_id: str, at: datetime, final: dict,
             kind: str = "post", text: str | None = None) -> None:
        """One mention whose counts grow towards `final`, observed at each later crawl."""
        self.serial += 1
        handle = person["account"]["handle"]
        if source == "x":
            native = str(((int(at.timestamp() * 1000) - 1288834974657) << 22) + self.serial)
            link = f"https://x.com/{handle}/status/{native}"
        elif source == "bluesky":
            native = f"at://{person['account']['native_id']}/app.bsky.feed.post/s{self.serial}"
            link = f"https://bsky.app/profile/{handle}/post/s{self.serial}"
        elif source == "hf":
            native, link = paper_id, f"https://huggingface.co/papers/{paper_id}"
        else:
            native = f"synthetic-{source}-{self.serial}"
            link = f"https://synthetic.example/{source}/{self.serial}"
        tau = _SOURCE[source][4]
        observations = []
        for crawl in self.crawls[source]:
            if crawl > at:
                grown = 1 - math.exp(-(crawl - at).total_seconds() / 3600 / tau)
                observations.append({"observed_at": iso(crawl), **{
                    k: round(v * grown) for k, v in final.items()}})
        self.mentions.append({
            "type": "mention", "source": source, "native_id": native, "paper_ids": [paper_id],
            "permalink": link, "account": person["account"], "created_at": iso(at),
            "kind": kind, "observations": observations,
            "text": text or f"[synthetic] {self.rng.choice(_SAY)} "
                            f"https://arxiv.org/abs/{paper_id}"})

    def when(self, onset: float, median_hours: float = 5.0) -> datetime:
        hours = onset + self.rng.lognormvariate(math.log(median_hours), 1.0)
        return self.announced + timedelta(hours=min(hours, CRAWL_HOURS[-1] - 1.5))


def _engagement(rng: random.Random, reach: float, appeal: float, scale: float,
                boost_share: float = 0.35) -> dict:
    likes = round(reach * appeal ** 0.6 * scale * rng.lognormvariate(0, 0.7))
    return {"likes": likes, "reposts": round(likes * rng.uniform(0.08, boost_share)),
            "quotes": round(likes * rng.uniform(0, 0.05)),
            "replies": round(likes * rng.uniform(0.01, 0.1))}


def _social(state: _Day, pops: dict[str, _Accounts], paper: dict, appeal: float,
            onset: float, inflate: bool) -> None:
    """The X, Bluesky and Mastodon posts about one paper, with cross-posts of twins."""
    rng = state.rng
    topic = PRIMARY[paper["categories"][0]][1]
    lam = 1.1 * appeal * topic
    for source in ("x", "bluesky", "mastodon"):
        rate, _, _, _, _, scale = _SOURCE[source]
        taken: set[int] = set()
        for _ in range(_poisson(rng, rate * lam)):
            person = pops[source].pick(taken)
            at = state.when(onset)
            final = _engagement(rng, person["reach"], appeal, scale,
                                0.6 if source == "mastodon" else 0.35)
            if source == "x" and rng.random() < 0.02:
                extra = rng.randint(300, 5000)  # drawn either way: the day stays the same
                final["reposts"] += extra if inflate else 0
            text = f"[synthetic] {rng.choice(_SAY)} https://arxiv.org/abs/{paper['id']}"
            state.post(source, person, paper["id"], at, final, text=text)
            if source == "x":
                _cross_post(state, pops, person, paper["id"], at, appeal, text)


def _cross_post(state: _Day, pops: dict[str, _Accounts], person: dict, paper_id: str,
                at: datetime, appeal: float, text: str) -> None:
    rng = state.rng
    for source in ("bluesky", "mastodon"):
        other = pops[source].twins.get(person["number"])
        if other is not None and rng.random() < _SOURCE[source][2]:
            final = _engagement(rng, other["reach"], appeal, _SOURCE[source][5])
            state.post(source, other, paper_id, at + timedelta(minutes=rng.uniform(1, 25)),
                       final, text=text)


def _stories(state: _Day, pops: dict[str, _Accounts], paper: dict, appeal: float,
             onset: float) -> None:
    """Hacker News and Reddit stories and a Hugging Face upvote page, for a few papers."""
    rng = state.rng
    topic = PRIMARY[paper["categories"][0]][1]
    for source, chance, mu in (("hn", 0.012, 0.8), ("reddit", 0.02, 1.5)):
        if rng.random() < min(0.5, chance * appeal * topic):
            points = 1 + round(rng.lognormvariate(mu, 1.6) * appeal ** 0.5)
            final = {"points": points, "replies": round(points * rng.uniform(0.2, 0.8))}
            state.post(source, pops[source].pick(), paper["id"], state.when(onset, 8.0),
                       final, kind="story", text=paper["title"])
    if paper["categories"][0] in ML and rng.random() < min(0.85, 0.12 * appeal):
        final = {"points": 1 + round(rng.lognormvariate(1.0, 1.0) * appeal ** 0.7),
                 "replies": rng.randint(0, 3)}
        state.post("hf", pops["hf"].pick(), paper["id"], state.when(onset, 10.0), final,
                   kind="upvote-page", text=paper["title"])


def _feeds(state: _Day, papers: list[dict]) -> None:
    """Feed accounts that post every computer-science paper, to near-silence."""
    for source, handle, number in (("x", "synthetic_arxiv_feed", 999_999),
                                   ("bluesky", "synthetic-arxiv-feed.bsky.social", 999_998)):
        native = str(10**9 + number) if source == "x" else f"did:plc:synthetic{number}"
        feed = {"account": {"source": source, "native_id": native, "handle": handle,
                            "name": "Synthetic arXiv feed",
                            "created_at": "2023-06-01T00:00:00+00:00"}, "number": number}
        for paper in papers:
            if paper["categories"][0].startswith(("cs.", "stat.ML")):
                at = state.announced + timedelta(minutes=state.rng.uniform(5, 90))
                final = {"likes": state.rng.randint(0, 2), "reposts": state.rng.randint(0, 1)}
                state.post(source, feed, paper["id"], at, final,
                           text=f"{paper['title']} https://arxiv.org/abs/{paper['id']}")


def _attack(state: _Day, day: date, seed: int, paper_id: str) -> None:
    """One X post with 10,000 reposts from fresh accounts and almost no likes."""
    rng = random.Random(f"bot-attack:{seed}:{paper_id}")
    born = datetime.combine(day, time(12), UTC) - timedelta(days=rng.uniform(2, 6))
    bot = {"account": {"source": "x", "native_id": str(10**9 + 888_888),
                       "handle": "synthetic_bot_0", "name": "Synthetic Bot 0",
                       "created_at": iso(born)}, "reach": 0.0, "number": 888_888}
    at = state.announced + timedelta(hours=rng.uniform(1, 3))
    state.post("x", bot, paper_id, at, {"likes": rng.randint(0, 3), "reposts": 10_000},
               text=f"[synthetic] [bot attack] https://arxiv.org/abs/{paper_id}")


def generate_day(day: date, seed: int, papers: int = 120, *,
                 sources: Sequence[str] = SOURCES, inflation: bool = True,
                 bot_attack: str | None = None) -> list[dict]:
    """The snapshot records of a synthetic day: a header, the papers, the listing and the
    mentions (with their accounts and observations); see the module docstring."""
    unknown = set(sources) - set(SOURCES)
    if unknown:
        raise ValueError(f"unknown sources {sorted(unknown)}: choose among {', '.join(SOURCES)}")
    rng = random.Random(f"hotpapers-synthetic:{day.isoformat()}:{seed}")
    announced = announcement_time(day) or datetime.combine(day, time(1), UTC)
    made = make_papers(rng, day, papers, announced)
    state = _Day(rng, day, announced)
    pops = {s: _Accounts(rng, s, max(20, round(_SOURCE[s][3] * papers)), day,
                         round(_SOURCE[s][1] * _SOURCE[s][3] * papers)) for s in SOURCES}
    _feeds(state, made)
    for paper in made:
        appeal = rng.lognormvariate(0, 1.3)
        onset = rng.uniform(0, 3) if rng.random() < 0.8 else rng.uniform(18, 40)
        _social(state, pops, paper, appeal, onset, inflation)
        _stories(state, pops, paper, appeal, onset)
    if bot_attack is not None:
        if bot_attack not in {p["id"] for p in made}:
            raise ValueError(f"bot_attack {bot_attack!r} is not one of the day's papers")
        _attack(state, day, seed, bot_attack)
    mentions = sorted((m for m in state.mentions if m["source"] in sources),
                      key=lambda m: (m["created_at"], m["source"], m["native_id"]))
    until = max((o["observed_at"] for m in mentions for o in m["observations"]), default=None)
    header = {"type": "snapshot", "format": FORMAT, "version": VERSION,
              "days": [day.isoformat()], "synthetic": True, "note": NOTE,
              "generator": {"module": GENERATOR, "seed": seed, "papers": papers,
                            "sources": list(sources), "inflation": inflation,
                            "bot_attack": bot_attack},
              "observed_until": until}
    listing = {"type": "listing", "day": day.isoformat(),
               "papers": [[p["id"], "new"] for p in made]}
    return [header, *made, listing, *mentions]


def write_day(records: Sequence[dict], path: Path) -> int:
    """Write records as a snapshot file (compact JSON lines); returns its size in bytes."""
    text = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
                   + "\n" for r in records)
    write_atomic(path, text)
    return len(text.encode("utf-8"))


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: write one synthetic day as a snapshot file; with `--days` or
    `--mentions`, a synthetic store of many days instead (`synthetic_scale.main`)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if any(a.split("=")[0] in ("--days", "--mentions") for a in argv):
        synthetic_scale.main(argv)
        return
    parser = argparse.ArgumentParser(prog="python -m hotpapers.jobs.synthetic",
                                     description="Write a synthetic day as a snapshot file.")
    parser.add_argument("--day", required=True, type=date.fromisoformat, help="YYYY-MM-DD")
    parser.add_argument("--seed", required=True, type=int)
    parser.add_argument("--papers", type=int, default=120)
    parser.add_argument("--sources", default=",".join(SOURCES),
                        help="comma-separated sources to keep")
    parser.add_argument("--no-inflation", action="store_true", help="no inflated reposts")
    parser.add_argument("--bot-attack", metavar="PAPER_ID", help="paper given a bot attack")
    parser.add_argument("--out", required=True, type=Path, help="the snapshot file to write")
    args = parser.parse_args(argv)
    try:
        records = generate_day(args.day, args.seed, args.papers,
                               sources=tuple(args.sources.split(",")),
                               inflation=not args.no_inflation, bot_attack=args.bot_attack)
    except ValueError as exc:
        parser.error(str(exc))
    size = write_day(records, args.out)
    print(f"Done: {len(records) - 1} records, {size} bytes written to {args.out}")


if __name__ == "__main__":
    main()
