"""Inputs of the suite, generated from a seed or taken from the real corpus: legacy posts,
arXiv snapshot lines and Jetstream events dated from the harness's own clock."""

from __future__ import annotations

import json
import os
import random
import shutil
import time
from pathlib import Path

__all__ = ["ROOT", "jetstream_events", "legacy_posts", "snapshot_file"]

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures"
SHARED = Path(os.environ.get("HOTPAPERS_SHARED", ROOT.parent / "shared"))

WORDS = ("model learning data network graph neural attention we show that the of a and in "
         "for with results method training task performance propose robust efficient "
         "approach problem optimal bound theory analysis").split()
CATEGORIES = "cs.LG cs.CV cs.CL cs.AI stat.ML math.OC cs.RO cs.CR quant-ph".split()


def legacy_posts(folder: Path, count: int | None) -> Path:
    """`folder` filled with the first `count` real posts (all with None) of the corpus in
    ../shared, or of tests/fixtures/posts when the corpus is absent."""
    corpus = SHARED / "corpus" / "legacy-posts"
    source = corpus if corpus.is_dir() else FIXTURES / "posts"
    folder.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.glob("*.md"))[:count]:
        shutil.copy(path, folder / path.name)
    return folder


def _created(rng: random.Random, year: int, month: int) -> str:
    day = rng.randint(1, 28)
    weekday = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[(day + month) % 7]
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
              "Dec")
    return (f"{weekday}, {day} {months[month - 1]} {year} "
            f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00 GMT")


def snapshot_record(rng: random.Random, number: int) -> dict:
    """One record in the public arXiv metadata snapshot's format."""
    year, month = 2020 + number % 6, 1 + number % 12
    authors = [f"{rng.choice('ABCDEFG')}. {rng.choice(WORDS).title()}"
               for _ in range(rng.randint(1, 5))]
    versions = [{"version": f"v{v}", "created": _created(rng, year, month)}
                for v in range(1, rng.randint(1, 3) + 1)]
    return {
        "id": f"{year % 100:02d}{month:02d}.{number % 100000:05d}",
        "submitter": authors[0], "authors": ", ".join(authors),
        "title": " ".join(rng.choices(WORDS, k=rng.randint(4, 10))).capitalize(),
        "comments": f"{rng.randint(5, 40)} pages", "journal-ref": None, "doi": None,
        "report-no": None, "categories": " ".join(rng.sample(CATEGORIES, rng.randint(1, 3))),
        "license": None, "abstract": " ".join(rng.choices(WORDS, k=rng.randint(40, 120))),
        "versions": versions, "update_date": f"{year}-{month:02d}-28",
        "authors_parsed": [[a.split(". ")[1], a.split(". ")[0] + ".", ""] for a in authors],
    }


def snapshot_file(path: Path, records: int, seed: int) -> Path:
    """A JSON-lines arXiv snapshot of `records` distinct papers."""
    rng = random.Random(seed)
    with path.open("w") as out:
        for number in range(records):
            out.write(json.dumps(snapshot_record(rng, number)) + "\n")
    return path


B32 = "abcdefghijklmnopqrstuvwxyz234567"


def _event(did: str, time_us: int, collection: str, rkey: str, record: dict) -> dict:
    return {"did": did, "time_us": time_us, "kind": "commit",
            "commit": {"rev": rkey, "operation": "create", "collection": collection,
                       "rkey": rkey, "record": record, "cid": "bafyrei" + rkey}}


def jetstream_events(count: int, seed: int, now_us: int | None = None) -> list[str]:
    """`count` Jetstream events with increasing `time_us` ending about a minute before
    `now_us` (default: the wall clock): a post naming a paper every 10 events, the rest
    likes and reposts of those posts, each by its own account."""
    rng = random.Random(seed)
    end = now_us if now_us is not None else int(time.time() * 1e6)
    start = end - 60_000_000 - count * 1000
    posts: list[str] = []
    lines = []
    for n in range(count):
        time_us = start + n * 1000
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time_us / 1e6))
        did = "did:plc:" + "".join(rng.choices(B32, k=24))
        rkey = f"3m{n:011d}"
        if n % 10 == 0 or not posts:
            paper = f"2601.{rng.randint(1, 99999):05d}"
            uri = f"https://arxiv.org/abs/{paper}"
            text = f"New paper {uri}"
            record = {"$type": "app.bsky.feed.post", "createdAt": stamp, "langs": ["en"],
                      "text": text, "facets": [{
                          "features": [{"$type": "app.bsky.richtext.facet#link", "uri": uri}],
                          "index": {"byteStart": 10, "byteEnd": len(text)}}]}
            posts.append(f"at://{did}/app.bsky.feed.post/{rkey}")
            event = _event(did, time_us, "app.bsky.feed.post", rkey, record)
        else:
            collection = rng.choice(["app.bsky.feed.like", "app.bsky.feed.like",
                                     "app.bsky.feed.repost"])
            record = {"$type": collection, "createdAt": stamp,
                      "subject": {"cid": "bafyreisubject", "uri": rng.choice(posts)}}
            event = _event(did, time_us, collection, rkey, record)
        lines.append(json.dumps(event, separators=(",", ":")))
    return lines
