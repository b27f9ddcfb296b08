"""Benchmark one daily run of X attention gathering: HTTP requests, posts read (what X
bills) and wall time, for our design and the original one, against a loopback fake X API.

Setup. `fake_x_api.make_day` generates a day (fixed seed): `--papers` papers with
heavy-tailed attention (most get 0-3 posts, a few hundreds) and `--mentions` posts in the
24 hours before 2026-03-10T00:00Z, ~35% of them retweets of earlier posts, some quotes,
~10% naming two papers, each linking its papers by t.co links that expand to
https://arxiv.org/abs/<id>. `fake_x_api.FakeXAPI` serves it on 127.0.0.1 (a free port, in
a thread, stopped when the benchmark ends) as X API v2 recent search and the oEmbed
endpoint, and counts requests per endpoint and the posts it returns (data +
includes.tweets, as X bills reads). Both designs read the same day and pick the tweets to
show by the classic rules (`hotpapers.rank.classic.rank_classic`: tweet score = retweets
+ likes, a paper is listed at a total of 50 or more, at most 10 tweets scoring 25 or more
shown under it), then get the embed HTML of each shown tweet.

  ours      `hotpapers.sources.x.search.XSource`: ONE recent search over the whole window
            with the default `x_query` (retweets left out by -is:retweet, the originals'
            counts carry them), pages of 100 by next_token, expansions author_id and
            referenced_tweets.id. It builds each post's embed HTML from the search result
            (the markup oEmbed serves), so `TweetEmbeds` (oEmbed) is asked only for shown
            tweets without one: none here. Its clock says it is 5 minutes after the window.
  original  simulated here with httpx: for EACH paper of the day one recent search for
            url:"arxiv.org/abs/<id>" (following next_token), which returns every post
            linking it, retweets included (the original read them as tweets), expansion
            author_id only; then one oEmbed per shown tweet. For a fair comparison the
            tweets are chosen from de-duplicated counts (a retweet is folded into its
            original, whose retweet_count already holds it), so both designs should list
            the same papers and show the same tweets: the script checks that.

Each design runs once untimed (warm-up), then `--repeat` times, alternately; the table
gives the requests and posts read (the same every run) and the median wall time, and
the ratios ours/original beside the goals: total requests at most 1/4 of the original's,
and no more posts read. The exit status is 1 when the designs disagree on the papers.

    . .venv/bin/activate
    python benchmarks/x_daily_run.py                  # 1,000 papers, 20,000 posts
    python benchmarks/x_daily_run.py --papers 3000 --mentions 60000 --repeat 5 --seed 7
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
from fake_x_api import WINDOW_END, WINDOW_START, Counts, Day, FakeXAPI, make_day

from hotpapers.config import Secrets, Settings
from hotpapers.http import Clock
from hotpapers.rank.classic import ClassicRules, TweetScore, rank_classic
from hotpapers.sources.base import Span
from hotpapers.sources.x.oembed import TweetEmbeds
from hotpapers.sources.x.search import XSource

DEFAULTS = Settings.model_fields
CLASSIC = ClassicRules(
    paper_threshold=DEFAULTS["classic_paper_threshold"].default,
    tweet_threshold=DEFAULTS["classic_tweet_threshold"].default,
    max_tweets=DEFAULTS["classic_max_tweets"].default,
)
REQUESTS_GOAL = 0.25  # ours/original, at most
READS_GOAL = 1.0
TOKEN = "bench"
ORIGINAL_FIELDS = "public_metrics,created_at,entities,referenced_tweets,author_id"


@dataclass
class Outcome:
    """What one run of a design did: its counts (as the server saw them), wall time, and
    the papers it lists with the tweets shown under each."""

    counts: Counts
    seconds: float
    shown: dict[str, list[Hashable]]
    client: tuple[int, int] = (0, 0)  # (requests, reads) as the client counted them
    notes: list[str] = field(default_factory=list)


def classic(listing: Sequence[str], tweets: Mapping[str, list[TweetScore]]
            ) -> dict[str, list[Hashable]]:
    """The listed papers, best first, each with the keys of the tweets it shows."""
    ranked = rank_classic(listing, tweets, CLASSIC, with_pdf=set(listing))
    return {r.paper_id: list(r.parts.shown) for r in ranked}


def loopback() -> httpx.HTTPTransport:
    """Plain HTTP to the loopback server (no CA bundle loaded: that is slow)."""
    return httpx.HTTPTransport(verify=False)


# -- the designs ------------------------------------------------------------------------


def run_ours(base_url: str, day: Day) -> tuple[dict[str, list[Hashable]], tuple[int, int],
                                               list[str]]:
    settings = Settings(x_api_url=f"{base_url}/2", x_oembed_url=f"{base_url}/oembed",
                        source_interval=0, http_retries=0, x_read_budget=10**9,
                        x_query=DEFAULTS["x_query"].default)
    clock = Clock(now=lambda: WINDOW_END + timedelta(minutes=5))
    source = XSource(settings, Secrets(x_bearer_token=TOKEN), clock=clock,
                     transport=loopback())
    embeds = TweetEmbeds(settings, clock, transport=loopback())
    try:
        tweets: dict[str, list[TweetScore]] = {p: [] for p in day.papers}
        permalinks: dict[str, str] = {}
        has_embed: set[str] = set()
        for mention in source.mentions(Span(WINDOW_START, WINDOW_END)):
            seen = mention.observations[-1]
            permalinks[mention.native_id] = mention.permalink or ""
            if mention.embed_html:
                has_embed.add(mention.native_id)
            for paper in mention.paper_ids:
                if paper in tweets:
                    tweets[paper].append(TweetScore(mention.native_id, seen.reposts or 0,
                                               seen.likes or 0))
        shown = classic(day.papers, tweets)
        # `hotpapers post` asks oEmbed only for shown tweets stored without embed HTML;
        # the search results already give XSource what it needs to build them
        missing = [key for keys in shown.values() for key in keys
                   if str(key) not in has_embed and embeds.embed(permalinks[str(key)]) is None]
    finally:
        source.http.client.close()
        embeds.http.client.close()
    notes = [*source.report.notes, *([f"ours: {len(missing)} embeds missing"] * bool(missing))]
    return shown, (source.report.requests + embeds.requests, source.report.reads), notes


def run_original(base_url: str, day: Day) -> tuple[dict[str, list[Hashable]],
                                                   tuple[int, int], list[str]]:
    requests = reads = 0
    window = {"start_time": WINDOW_START.strftime("%Y-%m-%dT%H:%M:%SZ"),
              "end_time": WINDOW_END.strftime("%Y-%m-%dT%H:%M:%SZ")}
    tweets: dict[str, list[TweetScore]] = {}
    usernames: dict[str, str] = {}
    authors: dict[str, str] = {}
    unfolded = 0
    with httpx.Client(base_url=base_url, transport=loopback(), timeout=30,
                      headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        for paper in day.papers:
            params: dict[str, Any] = {
                "query": f'url:"arxiv.org/abs/{paper}"', **window, "max_results": 100,
                "tweet.fields": ORIGINAL_FIELDS, "expansions": "author_id",
                "user.fields": "username",
            }
            posts: list[dict[str, Any]] = []
            while True:
                response = client.get("/2/tweets/search/recent", params=params)
                requests += 1
                response.raise_for_status()
                body = response.json()
                data = body.get("data", [])
                reads += len(data) + len(body.get("includes", {}).get("tweets", []))
                posts.extend(data)
                for user in body.get("includes", {}).get("users", []):
                    usernames[user["id"]] = user["username"]
                token = body["meta"].get("next_token")
                if not token:
                    break
                params["next_token"] = token
            # De-duplicated for choosing: a retweet is folded into its original, which is
            # among the posts (it links the paper too) and whose retweet_count counts it.
            ids = {post["id"] for post in posts}
            chosen = tweets.setdefault(paper, [])
            for post in posts:
                kinds = {ref["type"]: ref["id"] for ref in post.get("referenced_tweets", [])}
                if "retweeted" in kinds:
                    unfolded += kinds["retweeted"] not in ids
                    continue
                metrics = post["public_metrics"]
                chosen.append(TweetScore(post["id"], metrics["retweet_count"],
                                    metrics["like_count"]))
                authors[post["id"]] = post["author_id"]
        shown = classic(day.papers, tweets)
        missing = 0
        for keys in shown.values():
            for key in keys:
                url = f"https://twitter.com/{usernames[authors[str(key)]]}/status/{key}"
                response = client.get("/oembed", params={"url": url})
                requests += 1
                if response.status_code == 404:
                    missing += 1
                    continue
                response.raise_for_status()
                if not isinstance(response.json().get("html"), str):
                    raise ValueError(f"oEmbed of {url}: no html")
    notes = []
    if unfolded:
        notes.append(f"original: {unfolded} retweets of posts it did not read")
    if missing:
        notes.append(f"original: {missing} embeds missing")
    return shown, (requests, reads), notes


DESIGNS: dict[str, Callable[[str, Day], tuple[dict[str, list[Hashable]], tuple[int, int],
                                              list[str]]]] = {
    "ours": run_ours,
    "original": run_original,
}


def measure(fake: FakeXAPI, name: str) -> Outcome:
    before = fake.snapshot()
    start = time.perf_counter()
    shown, client, notes = DESIGNS[name](fake.base_url, fake.day)
    seconds = time.perf_counter() - start
    return Outcome(fake.snapshot() - before, seconds, shown, client, notes)


# -- report -----------------------------------------------------------------------------


def describe(day: Day) -> str:
    per_paper = dict.fromkeys(day.papers, 0)
    for post in day.posts:
        for paper in post.papers:
            per_paper[paper] += 1
    counts = sorted(per_paper.values())
    retweets = sum(p.retweet_of is not None for p in day.posts)
    quotes = sum(p.quote_of is not None for p in day.posts)
    two = sum(len(p.papers) > 1 for p in day.posts if p.retweet_of is None)
    few = sum(c <= 3 for c in counts)
    return (f"day: {len(day.papers):,} papers, {len(day.posts):,} posts ({retweets:,} retweets, "
            f"{quotes:,} quotes, {two:,} originals naming 2 papers), "
            f"{WINDOW_START:%Y-%m-%dT%H:%MZ} to {WINDOW_END:%Y-%m-%dT%H:%MZ}\n"
            f"posts per paper: {few / len(counts):.0%} of papers have 0-3, median "
            f"{statistics.median(counts):g}, {sum(c >= 100 for c in counts)} have 100+, "
            f"top {', '.join(str(c) for c in counts[:-6:-1])}")


def ratio(ours: float, original: float) -> str:
    return f"{ours / original:.3f}" if original else "-"


def report(day: Day, runs: dict[str, list[Outcome]], repeat: int) -> bool:
    print(describe(day))
    rows = {}
    for name, outcomes in runs.items():
        first = outcomes[0].counts
        if any(o.counts != first for o in outcomes):
            print(f"warning: {name}: the counts differ between runs")
        rows[name] = (first.search, first.oembed, first.requests, first.reads,
                      statistics.median(o.seconds for o in outcomes))
        client = outcomes[0].client
        if client != (first.requests, first.reads):
            print(f"warning: {name}: the client counted {client[0]} requests and {client[1]} "
                  f"reads, the server {first.requests} and {first.reads}")
        for note in dict.fromkeys(n for o in outcomes for n in o.notes):
            print(f"note: {note}")
    print(f"\nwall time: median of {repeat} timed run(s) of each, alternating, after a "
          "warm-up run of each")
    header = ("design", "search", "oEmbed", "requests", "posts read", "wall s")
    print(f"{header[0]:<12}" + "".join(f"{h:>12}" for h in header[1:]))
    for name, (search, oembed, total, reads, seconds) in rows.items():
        print(f"{name:<12}{search:>12,}{oembed:>12,}{total:>12,}{reads:>12,}{seconds:>12.3f}")
    ours, original = rows["ours"], rows["original"]
    print(f"{'ours/orig':<12}" + "".join(f"{ratio(a, b):>12}"
                                         for a, b in zip(ours, original, strict=True)))
    total_ratio = ours[2] / original[2]
    reads_ratio = ours[3] / original[3] if original[3] else 1.0
    print(f"\ngoal: requests <= {REQUESTS_GOAL:g} x the original's: {total_ratio:.3f} -> "
          f"{'met' if total_ratio <= REQUESTS_GOAL else 'NOT met'}")
    print(f"goal: posts read <= the original's: {reads_ratio:.3f} -> "
          f"{'met' if reads_ratio <= READS_GOAL else 'NOT met'}")
    print(f"  (oEmbed calls: ours {ours[1]:,}, the original {original[1]:,}: ours builds the "
          "embeds of the tweets it read from the search results)")

    ours_shown, original_shown = runs["ours"][0].shown, runs["original"][0].shown
    same_papers = set(ours_shown) == set(original_shown)
    same_tweets = ours_shown == original_shown
    tweets = sum(len(keys) for keys in ours_shown.values())
    print(f"sanity: both list the same papers ({len(ours_shown)} listed, {tweets} tweets "
          f"shown): {'yes' if same_papers else 'NO'}; same tweets shown in the same order: "
          f"{'yes' if same_tweets else 'NO'}")
    if not same_papers:
        print(f"  only ours: {sorted(set(ours_shown) - set(original_shown))[:10]}")
        print(f"  only original: {sorted(set(original_shown) - set(ours_shown))[:10]}")
    return same_papers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=1000, help="papers of the day")
    parser.add_argument("--mentions", type=int, default=20000, help="posts in the window")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each design")
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated day")
    args = parser.parse_args()
    if args.papers < 1 or args.mentions < 1 or args.repeat < 1:
        parser.error("--papers, --mentions and --repeat must be at least 1")
    day = make_day(args.papers, args.mentions, args.seed)
    runs: dict[str, list[Outcome]] = {name: [] for name in DESIGNS}
    with FakeXAPI(day) as fake:
        for name in DESIGNS:
            measure(fake, name)  # warm-up: imports, connections, the server's match cache
        for i in range(args.repeat):
            order = list(DESIGNS) if i % 2 == 0 else list(reversed(DESIGNS))
            for name in order:
                runs[name].append(measure(fake, name))
    if not report(day, runs, args.repeat):
        sys.exit(1)


if __name__ == "__main__":
    main()
