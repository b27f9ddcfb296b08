"""Benchmark paper-id resolution over a firehose-like mix of posts.

The posts are generated (fixed seed): short social posts of 5-50 words, most with no
arXiv link at all, some with other links (news, GitHub, YouTube, t.co), and about 1 in 200
naming a paper the ways they are written in the wild (abs/pdf/html URLs with versions,
"arXiv:ID", DOIs, huggingface.co/papers, alphaxiv). Three passes over the same list:

  baseline   the id regex of `arxiv_ids.find_ids` on every post (no prefilter)
  prefilter  `resolve.might_name_paper` on every post (the goal: >= 1M posts/s)
  resolve    `resolve.paper_ids` on every post (prefilter, then the regex where needed)

Each pass is timed `--repeat` times; the script prints medians, posts/s and the ratios to
the baseline, and checks that `resolve` finds exactly the papers the baseline finds in
posts that carry a marker (the prefilter must not lose a paper written in a known form).

    python benchmarks/resolve_firehose.py --posts 1000000
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable

from hotpapers.arxiv_ids import find_ids
from hotpapers.resolve import might_name_paper, paper_ids

WORDS = tuple(
    "the a this that new paper model we our is are really great thread today just "
    "love wow results data learning code open source release check out read here why how "
    "science research lab team week talk slides video demo 🚀 🔥 👀 lol nice agree".split()
)
OTHER_LINKS = ("https://t.co/{}", "https://github.com/org/{}", "https://youtu.be/{}",
               "https://www.nytimes.com/2026/11/{}.html", "https://bsky.app/profile/{}")
PAPER_FORMS = ("https://arxiv.org/abs/{id}", "https://arxiv.org/pdf/{id}v2",
               "arxiv.org/html/{id}v1", "arXiv:{id}", "https://doi.org/10.48550/arXiv.{id}",
               "https://huggingface.co/papers/{id}", "https://www.alphaxiv.org/abs/{id}",
               "ArXiv: {id}")


def make_posts(count: int, seed: int, paper_rate: float) -> list[str]:
    rng = random.Random(seed)
    posts = []
    for _ in range(count):
        words = [rng.choice(WORDS) for _ in range(rng.randint(5, 50))]
        if rng.random() < 0.3:
            words.insert(rng.randrange(len(words)),
                         rng.choice(OTHER_LINKS).format(rng.randrange(10**9)))
        if rng.random() < paper_rate:
            ident = f"{rng.randint(20, 26)}{rng.randint(1, 12):02d}.{rng.randint(0, 99999):05d}"
            words.insert(rng.randrange(len(words)), rng.choice(PAPER_FORMS).format(id=ident))
        posts.append(" ".join(words))
    return posts


def timed(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200_000)
    parser.add_argument("--paper-rate", type=float, default=0.005)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    posts = make_posts(args.posts, args.seed, args.paper_rate)

    passes = {
        "baseline": lambda: [find_ids(p) for p in posts],
        "prefilter": lambda: [p for p in posts if might_name_paper(p)],
        "resolve": lambda: [paper_ids(p) for p in posts],
    }
    seconds = {name: timed(run, args.repeat) for name, run in passes.items()}
    found = sum(1 for p in posts if paper_ids(p))
    lost = sum(1 for p in posts if find_ids(p) and not paper_ids(p) and might_name_paper(p))

    print(f"{args.posts:,} posts, {found:,} naming a paper, median of {args.repeat}")
    print(f"{'pass':<10} {'seconds':>8} {'posts/s':>12} {'vs baseline':>12}")
    for name, secs in seconds.items():
        print(f"{name:<10} {secs:8.3f} {args.posts / secs:12,.0f} "
              f"{seconds['baseline'] / secs:11.1f}x")
    print(f"papers lost by the prefilter among posts with a marker: {lost}")


if __name__ == "__main__":
    main()
