"""Benchmark the Jetstream consumer's processing (`stream bluesky`) against a baseline
measured in the same run.

The input is generated (fixed seed) in the recorded Jetstream v1 format, one compact JSON
event per line, and written to a file in a temporary folder: about 70% likes, 10%
reposts, 12% post creates (about 1% of those name an arXiv paper, a third are replies,
some quote), follows, deletes of likes and posts, and a few identity/account events.
A few hundred posts are tracked: stored in the database beforehand, and a small share of
likes, reposts, replies and quotes point at them. The events are dated from the script's
own clock (the last about a minute before it starts), which is also the clock the ingest
checks them against, so none is skipped as out of range.

  baseline  `json.loads` of every line, nothing else
  ingest    `JetstreamIngest.feed` of every line, then the final flush: classify, filter,
            count and store into a fresh temporary SQLite file (batches of 500 events or
            one second of stream time, each one transaction with the cursor)

Each pass runs `--repeat` times over the lines read from the file; the script prints the
medians in events/s and the ratio ingest/baseline (the goal: >= 50k events/s).

    python benchmarks/jetstream_ingest.py --events 200000 --seed 1
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hotpapers.jobs.jetstream_ingest import JetstreamIngest
from hotpapers.models import Account, Mention, Observation
from hotpapers.sources.bluesky.jetstream import to_time_us
from hotpapers.store.db import connect
from hotpapers.store.mentions import save_mention

POST, LIKE, REPOST = "app.bsky.feed.post", "app.bsky.feed.like", "app.bsky.feed.repost"
FOLLOW = "app.bsky.graph.follow"
B32 = "abcdefghijklmnopqrstuvwxyz234567"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
WORDS = ("the a of to and in is it that for on with this was you just my be at have so not "
         "but are what like all about out one more today new people time good really think "
         "know day love can back great still now see here post thread paper model data "
         "result week work year read news game music art photo happy morning night").split()


class Generator:
    def __init__(self, rng: random.Random, tracked: int, start_us: int) -> None:
        self.rng = rng
        self.dids = [self.did() for _ in range(20_000)]
        self.tracked = [self.uri(self.rng.choice(self.dids), POST) for _ in range(tracked)]
        self.recent: list[str] = []  # posts seen in the stream, for likes and replies
        self.records: list[tuple[str, str, str]] = []  # (did, collection, rkey) to delete
        self.time_us = start_us

    def did(self) -> str:
        return "did:plc:" + "".join(self.rng.choices(B32, k=24))

    def tid(self) -> str:
        return "3m" + "".join(self.rng.choices(B32, k=11))

    def cid(self) -> str:
        return "bafyrei" + "".join(self.rng.choices(B32, k=52))

    def uri(self, did: str, collection: str, rkey: str | None = None) -> str:
        return f"at://{did}/{collection}/{rkey or self.tid()}"

    def iso(self) -> str:
        at = EPOCH + timedelta(microseconds=self.time_us - self.rng.randrange(2_000_000))
        return at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"

    def text(self) -> str:
        words = self.rng.choices(WORDS, k=self.rng.randint(3, 45))
        if self.rng.random() < 0.1:
            words.append("🙂")
        return " ".join(words)

    def target(self) -> str:
        """A post to like, repost, reply to or quote: 2% tracked, else some other post."""
        roll = self.rng.random()
        if roll < 0.02:
            return self.rng.choice(self.tracked)
        if roll < 0.5 and self.recent:
            return self.rng.choice(self.recent)
        return self.uri(self.rng.choice(self.dids), POST)

    def commit(self, did: str, operation: str, collection: str, rkey: str,
               record: dict | None = None) -> str:
        commit: dict = {"rev": self.tid(), "operation": operation, "collection": collection,
                        "rkey": rkey}
        if record is not None:
            commit["record"] = record
            commit["cid"] = self.cid()
        return json.dumps({"did": did, "time_us": self.time_us, "kind": "commit",
                           "commit": commit}, ensure_ascii=False, separators=(",", ":"))

    def subject_record(self, did: str, collection: str) -> str:
        rkey = self.tid()
        self.records.append((did, collection, rkey))
        record = {"$type": collection, "createdAt": self.iso(),
                  "subject": {"cid": self.cid(), "uri": self.target()}}
        return self.commit(did, "create", collection, rkey, record)

    def post(self, did: str) -> str:
        rkey = self.tid()
        text = self.text()
        record: dict = {"$type": POST, "createdAt": self.iso()}
        roll = self.rng.random()
        if self.rng.random() < 0.01:  # names a paper
            arxiv = f"{self.rng.randint(2301, 2607)}.{self.rng.randrange(100000):05d}"
            url = f"https://arxiv.org/abs/{arxiv}"
            shown = f"arxiv.org/abs/{arxiv[:6]}..."
            start = len((text + " ").encode())
            text = f"{text} {shown}"
            record["facets"] = [{"features": [{"$type": "app.bsky.richtext.facet#link",
                                               "uri": url}],
                                 "index": {"byteEnd": len(text.encode()), "byteStart": start}}]
        elif roll < 0.1:
            record["embed"] = {"$type": "app.bsky.embed.external", "external": {
                "description": self.text(), "title": self.text()[:60],
                "uri": f"https://example.com/{self.tid()}"}}
        elif roll < 0.15:
            record["embed"] = {"$type": "app.bsky.embed.record",
                               "record": {"cid": self.cid(), "uri": self.target()}}
        record["langs"] = ["en"]
        if roll > 0.66:
            parent = self.target()
            record["reply"] = {"parent": {"cid": self.cid(), "uri": parent},
                               "root": {"cid": self.cid(), "uri": parent}}
        record["text"] = text
        self.recent.append(self.uri(did, POST, rkey))
        if len(self.recent) > 5000:
            self.recent = self.recent[-2500:]
        self.records.append((did, POST, rkey))
        return self.commit(did, "create", POST, rkey, record)

    def event(self) -> str:
        self.time_us += self.rng.randint(200, 1800)  # about a thousand events a second
        did = self.rng.choice(self.dids)
        roll = self.rng.random()
        if roll < 0.70:
            return self.subject_record(did, LIKE)
        if roll < 0.80:
            return self.subject_record(did, REPOST)
        if roll < 0.92:
            return self.post(did)
        if roll < 0.96:
            record = {"$type": FOLLOW, "createdAt": self.iso(),
                      "subject": self.rng.choice(self.dids)}
            return self.commit(did, "create", FOLLOW, self.tid(), record)
        if roll < 0.995 and self.records:
            owner, collection, rkey = self.records.pop(self.rng.randrange(len(self.records)))
            return self.commit(owner, "delete", collection, rkey)
        kind = self.rng.choice(("identity", "account"))
        return json.dumps({"did": did, "time_us": self.time_us, "kind": kind,
                           kind: {"did": did, "seq": self.rng.randrange(10**10),
                                  "time": self.iso()}}, separators=(",", ":"))


def store_tracked(engine, uris: list[str], at: datetime) -> None:
    with engine.begin() as conn:
        for i, uri in enumerate(uris):
            did = uri.removeprefix("at://").split("/", 1)[0]
            save_mention(conn, Mention(
                "bluesky", uri, [f"2607.{i:05d}"], account=Account("bluesky", did),
                created_at=at, observations=[Observation(at, likes=5, reposts=1, quotes=0,
                                                         replies=2)]), at)


def timed(run: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tracked", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    now = datetime.now(UTC)  # the benchmark's clock: events end about a minute before it
    start_us = to_time_us(now) - 60_000_000 - args.events * 1000  # ~1000 events a second
    generator = Generator(random.Random(args.seed), args.tracked, start_us)
    with tempfile.TemporaryDirectory(prefix="jetstream-bench-") as folder:
        path = Path(folder) / "events.jsonl"
        with path.open("w", encoding="utf-8") as out:
            for _ in range(args.events):
                out.write(generator.event() + "\n")
        lines = path.read_text(encoding="utf-8").splitlines()
        size = path.stat().st_size
        print(f"{len(lines)} events, {size / len(lines):.0f} bytes each on average, "
              f"{args.tracked} tracked posts, seed {args.seed}")

        def baseline() -> int:
            for line in lines:
                json.loads(line)
            return len(lines)

        runs = iter(range(args.repeat))

        def ingest() -> object:
            engine = connect(f"sqlite:///{Path(folder) / f'ingest-{next(runs)}.sqlite3'}")
            store_tracked(engine, generator.tracked, now - timedelta(hours=1))
            processor = JetstreamIngest(engine, lambda: now)
            start = time.perf_counter()
            for line in lines:
                processor.feed(line)
            processor.flush()
            elapsed = time.perf_counter() - start
            engine.dispose()
            return elapsed, processor.summary

        base, _ = timed(baseline, args.repeat)
        results = [ingest() for _ in range(args.repeat)]
        ours = statistics.median(elapsed for elapsed, _ in results)
        summary = results[-1][1]
    if summary.out_of_range or summary.malformed:
        raise SystemExit(f"{summary.out_of_range} events out of range and {summary.malformed} "
                         "malformed: the generated events and the clock disagree")
    print(f"baseline json.loads: {len(lines) / base:12,.0f} events/s")
    print(f"ingest (store+count): {len(lines) / ours:11,.0f} events/s   "
          f"ratio ingest/baseline {base / ours:.2f}")
    print(f"  {summary.line()}; {summary.batches} batches")


if __name__ == "__main__":
    main()
