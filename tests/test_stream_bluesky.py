"""`stream bluesky`: Jetstream events parsed (real captures and our own), applied to the store
through a real loopback websocket server that replays from the cursor and can drop the
connection; counts stay exact across disconnects, restarts and re-deliveries."""

from __future__ import annotations

import json
import socket
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import serve

from conftest import shared_path
from fakes import FakeClock
from hotpapers.cli.common import State
from hotpapers.cli.stream import stream_app
from hotpapers.config import Settings
from hotpapers.errors import SourceError
from hotpapers.jobs.jetstream_ingest import CURSOR, JetstreamIngest
from hotpapers.jobs.stream_bluesky import stream_bluesky
from hotpapers.models import Account, Mention, Observation
from hotpapers.sources.bluesky.jetstream import (
    BadEvent,
    Deletion,
    Engagement,
    NewPost,
    classify,
    classify_line,
    from_time_us,
)
from hotpapers.store.mentions import latest_observations, save_mention
from hotpapers.store.schema import engagements, mentions, observations, runs, source_cursors

FIXTURES = Path(__file__).with_name("fixtures") / "jetstream"
REAL = ("fixtures", "real", "bluesky")
CAPTURE = "jetstream-v1-subscribe.contiguous-152-events.2026-07-04"
WANTED = ["app.bsky.feed.post", "app.bsky.feed.like", "app.bsky.feed.repost"]

ALICE = "at://did:plc:alicexk4zq3ftwz2mfv7hc3u/app.bsky.feed.post/3mpaperalice1"
BOB = "at://did:plc:bobw6hvn2ql3s4ytk5ap7ex2/app.bsky.feed.post/3mpaperbob22a"
CAROL = "at://did:plc:carolq2s5mxkb7dn4lrf6tzu/app.bsky.feed.post/3mpapercarol3"
DAVE = "at://did:plc:davey3bq6fw2zkdm5nxr4hcl/app.bsky.feed.post/3mpaperdave44"
SAM = "at://did:plc:samr4kq7zx2m5bw3nf6ytd2h/app.bsky.feed.post/3mstoredsam11"

# What burst.jsonl leaves behind, worked out by hand from the file: engagement rows per
# post and kind (the like by fan02 and fan04, and fan05's reply, were deleted; the like on
# Carol's post after she deleted it is not counted), and the counts they add up to.
BURST_ROWS = {(ALICE, "like"): 4, (ALICE, "repost"): 1, (ALICE, "quote"): 1,
              (BOB, "like"): 3, (BOB, "repost"): 1, (BOB, "quote"): 1,
              (CAROL, "like"): 1, (DAVE, "like"): 1}
BURST_COUNTS = {ALICE: (4, 1, 1, 0), BOB: (3, 1, 1, 0), DAVE: (1, 0, 0, 0)}


def read_lines(name: str) -> list[str]:
    return (FIXTURES / name).read_text().splitlines()


def time_of(line: str) -> int:
    return json.loads(line)["time_us"]


def clock_after(lines: list[str]) -> FakeClock:
    """A clock a minute after the newest of `lines`: the consumer checks times against it."""
    return FakeClock(start=from_time_us(max(map(time_of, lines))) + timedelta(minutes=1))


def shifted(lines: list[str], end: datetime) -> list[str]:
    """The events moved in time so that the newest happened at `end` (for a real clock)."""
    offset = int((end - from_time_us(max(map(time_of, lines)))).total_seconds() * 1e6)
    return [json.dumps({**event, "time_us": event["time_us"] + offset}, ensure_ascii=False,
                       separators=(",", ":")) for event in map(json.loads, lines)]


def wanted(line: str, collections: list[str]) -> bool:
    event = json.loads(line)
    return event["kind"] != "commit" or event["commit"]["collection"] in collections


class Jetstream:
    """A loopback Jetstream: on each connection it replays its events from the `cursor`
    query parameter (all of them without one), keeping the wanted collections; it cuts
    the n-th connection after `drops[n]` events and otherwise holds it open."""

    def __init__(self, events: list[str], drops: list[int] | None = None) -> None:
        self.events = events
        self.drops = list(drops or [])
        self.queries: list[dict[str, list[str]]] = []
        self.closes: list[int | None] = []  # how the client closed each connection it left
        self.left = threading.Event()
        self.server = serve(self.handle, "127.0.0.1", 0)
        self.url = f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}/subscribe"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def cursors(self) -> list[int | None]:
        return [int(q["cursor"][0]) if "cursor" in q else None for q in self.queries]

    def handle(self, ws) -> None:
        query = parse_qs(urlsplit(ws.request.path).query)
        self.queries.append(query)
        cursor = int(query["cursor"][0]) if "cursor" in query else None
        collections = query.get("wantedCollections", WANTED)
        drop = self.drops.pop(0) if self.drops else None
        sent = 0
        try:
            for line in self.events:
                if (cursor is not None and time_of(line) < cursor) \
                        or not wanted(line, collections):
                    continue
                if sent == drop:
                    ws.socket.shutdown(socket.SHUT_RDWR)  # the connection drops
                    return
                ws.send(line)
                sent += 1
            for _ in ws:  # hold the connection until the client leaves
                pass
        except ConnectionClosed as exc:
            self.closes.append(exc.rcvd.code if exc.rcvd else None)
        else:
            self.closes.append(ws.close_code)
        self.left.set()

    def __enter__(self) -> Jetstream:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.thread.join(5)


def settings_for(url: str, rewind: float = 5.0) -> Settings:
    return Settings(bsky_jetstream_url=url, bsky_rewind_seconds=rewind, http_timeout=5)


def consume(engine, server: Jetstream, clock: FakeClock, rewind: float = 5.0, **options):
    """Run the consumer against `server` until it applied the server's newest event."""
    last = max(time_of(line) for line in server.events if wanted(line, WANTED))
    options.setdefault("stop", lambda summary: summary.cursor == last)
    return stream_bluesky(engine, settings_for(server.url, rewind), clock=clock,
                          idle_seconds=0.05, **options)


def engagement_rows(engine) -> Counter:
    with engine.connect() as conn:
        return Counter(conn.execute(
            select(mentions.c.native_id, engagements.c.kind)
            .join(mentions, mentions.c.id == engagements.c.mention_id)).all())


def latest_stream_counts(engine) -> dict[str, tuple[int, int, int, int]]:
    """Per live mention: the counts of its latest stream observation."""
    found = {}
    with engine.connect() as conn:
        rows = conn.execute(
            select(mentions.c.native_id, observations)
            .join(mentions, mentions.c.id == observations.c.mention_id)
            .where(observations.c.via == "stream", mentions.c.deleted_at.is_(None))
            .order_by(observations.c.observed_at)).mappings()
        for row in rows:
            found[row["native_id"]] = (row["likes"], row["reposts"], row["quotes"],
                                       row["replies"])
    return found


def stored_cursor(engine) -> int | None:
    with engine.connect() as conn:
        value = conn.execute(select(source_cursors.c.value)
                             .where(source_cursors.c.name == CURSOR)).scalar_one_or_none()
    return value["time_us"] if value else None


def assert_burst_applied(engine) -> None:
    assert engagement_rows(engine) == BURST_ROWS
    assert latest_stream_counts(engine) == BURST_COUNTS
    with engine.connect() as conn:
        stored = {r.native_id: r for r in conn.execute(select(mentions))}
    assert set(stored) == {ALICE, BOB, CAROL, DAVE}
    assert stored[CAROL].deleted_at is not None
    assert [uri for uri, row in stored.items() if row.deleted_at is None] == [ALICE, BOB, DAVE]
    burst = read_lines("burst.jsonl")
    assert stored_cursor(engine) == max(time_of(line) for line in burst)


# ---------------------------------------------------------------- real captures

def test_the_real_contiguous_capture_parses_with_the_manifest_counts():
    lines = shared_path(*REAL, f"{CAPTURE}.jsonl").read_text().splitlines()
    manifest = json.loads(shared_path(*REAL, f"{CAPTURE}.manifest.json").read_text())
    events = [orjson.loads(line) for line in lines]
    commits = [e["commit"] for e in events if e["kind"] == "commit"]
    kinds = Counter((c["collection"], c["operation"]) for c in commits)
    # the facts of the manifest and PROVENANCE.md
    assert len(lines) == manifest["v1_events"] == 152
    assert kinds[("app.bsky.feed.like", "create")] == 105
    assert kinds[("app.bsky.feed.post", "create")] == 17
    assert kinds[("app.bsky.feed.post", "delete")] == 1
    assert kinds[("app.bsky.feed.repost", "create")] == 15
    ops = Counter(c["operation"] for c in commits)
    assert (ops["create"], ops["update"], ops["delete"]) == (
        manifest["creates"], manifest["updates"], manifest["deletes"]) == (144, 2, 4)
    assert Counter(e["kind"] for e in events)["identity"] == manifest["identity"] == 1
    assert {e["did"] for e in events if e["kind"] == "commit"} == set(manifest["commit_dids"])

    # nothing tracked: only the post deletion is worth looking at; no post names a paper
    untracked = [classify_line(line, set()) for line in lines]
    assert Counter(type(item).__name__ for _, item in untracked) == {"NoneType": 151,
                                                                      "Deletion": 1}
    # every liked, reposted and replied-to post tracked: each like and repost counts
    tracked = set()
    for commit in commits:
        record = commit.get("record") or {}
        subject = record.get("subject")
        if isinstance(subject, dict):
            tracked.add(subject["uri"])
        if "reply" in record:
            tracked.add(record["reply"]["parent"]["uri"])
    items = [item for _, item in (classify_line(line, tracked) for line in lines)]
    engaged = Counter(i.kind for i in items if isinstance(i, Engagement))
    assert engaged == {"like": 105, "repost": 15}
    replies = [i for i in items if isinstance(i, NewPost)]
    assert len(replies) == sum("reply" in (c.get("record") or {}) for c in commits
                               if c["collection"] == "app.bsky.feed.post")
    assert all(i.engagement.kind == "reply" and i.mention is None for i in replies)
    assert [i.collection for i in items if isinstance(i, Deletion)] == ["app.bsky.feed.post"]
    # the raw-line scan answers as the full parse does, and every time_us is read
    for tracking in (set(), tracked):
        for line, event in zip(lines, events, strict=True):
            assert classify_line(line, tracking) == classify(event, tracking)
            assert classify_line(line, tracking)[0] == event["time_us"]


def test_the_real_contiguous_capture_streams_through_the_ingest(engine):
    lines = shared_path(*REAL, f"{CAPTURE}.jsonl").read_text().splitlines()
    ingest = JetstreamIngest(engine, clock_after(lines).now)
    for line in lines:
        ingest.feed(line)
    ingest.flush()
    assert (ingest.summary.events, ingest.summary.malformed, ingest.summary.posts) == (152, 0, 0)
    assert stored_cursor(engine) == max(json.loads(line)["time_us"] for line in lines)


def test_the_real_selected_events():
    lines = shared_path(*REAL, "jetstream-v1-subscribe.10-selected-events.jsonl"
                        ).read_text().splitlines()
    liked = "at://did:plc:vfnmgxg2yscfliemmcxzyfyh/app.bsky.feed.post/3mmoodizfwc2j"
    reposted = "at://did:plc:hjloomm2tkve3pmfgbxegl3v/app.bsky.feed.post/3mmood3a6hc25"
    parent = "at://did:plc:j76trmiofvaxxpvx2vnb2vwf/app.bsky.feed.post/3mmojbrjwbs26"
    items = [classify_line(line, {liked, reposted, parent}) for line in lines]
    assert items[0] == (1779719009132431, Engagement(
        "at://did:plc:mcc5yghbk7tixqryac2yxku7/app.bsky.feed.like/3mmoojp7etg2g", liked,
        "like", "did:plc:mcc5yghbk7tixqryac2yxku7", 1779719009132431))
    reply = items[1][1]
    assert isinstance(reply, NewPost) and reply.mention is None
    assert (reply.engagement.kind, reply.engagement.subject, reply.engagement.account) == (
        "reply", parent, "did:plc:q235v55g5unth4zjjdpacfdr")
    assert items[2][1].kind == "repost" and items[2][1].subject == reposted
    # a follow, a profile update, a delete in another collection, identity, account, block
    assert [item for _, item in items[3:]] == [None] * 7
    assert [t for t, _ in items[7:9]] == [1779719010267528, 1779719010272410]
    assert all(item is None for _, item in (classify_line(line, set()) for line in lines))


# ---------------------------------------------------------------- our own events

def test_our_events_classify_as_written():
    lines = read_lines("burst.jsonl")
    tracked: set[str] = set()
    found = []
    for line in lines:
        _, item = classify_line(line, tracked)
        assert (_, item) == classify(orjson.loads(line), tracked)
        if isinstance(item, NewPost) and item.mention is not None:
            tracked.add(item.uri)
            found.append(item.mention)
    assert [(m.native_id, m.paper_ids, m.kind) for m in found] == [
        (ALICE, ["2401.01234"], "post"), (BOB, ["2312.00001"], "post"),
        (CAROL, ["2402.00042"], "post"), (DAVE, ["2401.05678"], "quote")]
    dave = found[3]
    assert dave.parent_native_id == ALICE
    assert dave.account == Account("bluesky", "did:plc:davey3bq6fw2zkdm5nxr4hcl")
    assert dave.permalink == \
        "https://bsky.app/profile/did:plc:davey3bq6fw2zkdm5nxr4hcl/post/3mpaperdave44"
    assert dave.created_at == datetime(2026, 7, 4, 14, 38, 8, 500000, tzinfo=UTC)
    assert dave.observations == [Observation(from_time_us(time_of(lines[18])), 0, 0, 0, 0,
                                             via="stream")]


def test_irrelevant_events_are_settled_without_decoding_the_line():
    lines = read_lines("burst.jsonl")
    like, chatter = lines[4], lines[6]  # a like of an untracked post, a post naming nothing
    assert '"app.bsky.feed.like"' in like and "good morning" in chatter
    # cut short after the part the scan reads: still answered, so never decoded
    cut_like = like[:like.index('"}},"cid"') + 1]
    cut_post = chatter[:-20]
    assert classify_line(cut_like, {ALICE}) == (time_of(like), None)
    assert classify_line(cut_post, {ALICE}) == (time_of(chatter), None)
    # the same cut lines need decoding once they concern a tracked post: then they fail
    untracked = json.loads(like)["commit"]["record"]["subject"]["uri"]
    with pytest.raises(BadEvent, match="not JSON"):
        classify_line(cut_like, {untracked})
    with pytest.raises(BadEvent, match="not JSON"):
        classify_line(cut_post.replace("good morning", "arxiv.org/abs/2401.01234"), set())


def test_malformed_lines_are_counted_and_skipped(engine):
    first = read_lines("burst.jsonl")[0]
    ingest = JetstreamIngest(engine, clock_after([first]).now)
    bad_commit = {"did": "did:plc:x", "time_us": time_of(first), "kind": "commit",
                  "commit": {"operation": "x"}}
    for line in ["not json", '{"did":"did:plc:x","kind":"commit"}', "[1,2]",
                 json.dumps(bad_commit)]:
        ingest.feed(line)
    ingest.feed(first)
    ingest.flush()
    assert (ingest.summary.events, ingest.summary.malformed, ingest.summary.posts) == (5, 4, 1)


def test_batches_commit_with_the_cursor(engine):
    lines = read_lines("burst.jsonl")
    ingest = JetstreamIngest(engine, clock_after(lines).now, batch_size=10, batch_seconds=60)
    for line in lines[:25]:
        ingest.feed(line)
    assert (ingest.summary.batches, ingest.pending) == (2, 5)
    assert stored_cursor(engine) == max(time_of(line) for line in lines[:20])


def test_one_second_of_stream_time_closes_a_batch(engine):
    lines = read_lines("burst.jsonl")  # events 50 ms apart
    ingest = JetstreamIngest(engine, clock_after(lines).now, batch_size=500, batch_seconds=1)
    for line in lines[:20]:
        ingest.feed(line)
    assert (ingest.summary.batches, ingest.pending) == (0, 20)
    ingest.feed(lines[20])
    assert (ingest.summary.batches, ingest.pending) == (1, 0)
    assert stored_cursor(engine) == time_of(lines[20])


def test_a_burst_through_the_websocket(engine):
    events = read_lines("burst.jsonl")
    clock = clock_after(events)
    with Jetstream(events) as server:
        summary = consume(engine, server, clock)
    # live: no cursor yet; frames over 4 MiB are not wanted
    assert server.queries == [{"wantedCollections": WANTED, "maxMessageSizeBytes": ["4194304"]}]
    assert_burst_applied(engine)
    # 35 lines, of which the server filters a follow and a profile update
    assert (summary.events, summary.posts, summary.engagements, summary.deletions,
            summary.reconnects, summary.malformed) == (33, 4, 16, 4, 0, 0)
    assert clock.sleeps == []
    with engine.connect() as conn:
        run = conn.execute(select(runs)).mappings().one()
    assert (run["command"], run["status"]) == ("stream bluesky", "ok")
    assert run["counts"]["engagements"] == 16 and run["cursors"] == {CURSOR: summary.cursor}
    assert summary.line().startswith(
        "Read 33 events: 4 posts stored, 16 engagements counted, 4 deletions, 0 reconnects")


@pytest.mark.parametrize(("drops", "rewind"), [([12], 5.0), ([3, 20], 5.0), ([26], 0.2),
                                               ([30], 0.0)])
def test_a_dropped_connection_loses_and_doubles_nothing(engine, drops, rewind):
    events = read_lines("burst.jsonl")
    delivered = [line for line in events if wanted(line, WANTED)]
    clock = clock_after(events)
    with Jetstream(events, drops=drops) as server:
        summary = consume(engine, server, clock, rewind=rewind)
    assert_burst_applied(engine)
    assert summary.reconnects == len(drops)
    assert clock.sleeps == [1.0] * len(drops)  # each reconnect follows a received event
    # after the first drop, the consumer resumed from what it had applied, rewound
    applied = max(time_of(line) for line in delivered[:drops[0]])
    assert server.cursors[0] is None
    assert server.cursors[1] == applied - int(rewind * 1_000_000)
    assert server.cursors[1] <= applied


def test_a_restart_resumes_from_the_stored_cursor(engine):
    events = read_lines("burst.jsonl")
    with Jetstream(events) as server:
        first = stream_bluesky(engine, settings_for(server.url), clock=clock_after(events),
                               max_events=15, idle_seconds=0.05)
    assert first.events == 15
    stored = stored_cursor(engine)
    assert stored == max(time_of(line) for line in events[:15])
    with Jetstream(events) as server:
        consume(engine, server, clock_after(events))
    assert server.cursors == [stored - 5_000_000]
    assert_burst_applied(engine)
    with engine.connect() as conn:
        assert [r.status for r in conn.execute(select(runs.c.status))] == ["ok", "ok"]


def test_likes_add_to_the_api_counts_of_a_stored_post(engine):
    lines = read_lines("stored-post.jsonl")
    api_at = from_time_us(1783175888000000 + 1_000_000)
    with engine.begin() as conn:
        save_mention(conn, Mention(
            "bluesky", SAM, ["2401.01234"],
            account=Account("bluesky", "did:plc:samr4kq7zx2m5bw3nf6ytd2h"),
            created_at=from_time_us(1783175880000000),
            observations=[Observation(api_at, likes=10, reposts=2, quotes=1, replies=None)]),
            api_at)
    with Jetstream(lines) as server:
        consume(engine, server, clock_after(lines))
    # one like before the api observation (already in its 10), three likes and a repost after
    assert latest_stream_counts(engine) == {SAM: (13, 3, 1, 0)}
    with engine.connect() as conn:
        latest = latest_observations(conn, ["2401.01234"], ["bluesky"],
                                     from_time_us(max(map(time_of, lines))))
    [(key, observation)] = latest["2401.01234"]
    assert key == ("bluesky", SAM) and (observation.likes, observation.reposts) == (13, 3)


def test_redelivered_events_change_nothing(engine):
    lines = read_lines("burst.jsonl")

    def snapshot() -> tuple:
        with engine.connect() as conn:
            return tuple(sorted(map(tuple, conn.execute(select(table)).all()), key=repr)
                         for table in (mentions, engagements, observations, source_cursors))

    ingest = JetstreamIngest(engine, clock_after(lines).now, batch_size=7)
    for line in lines:
        ingest.feed(line)
    ingest.flush()
    assert_burst_applied(engine)
    before = snapshot()
    for line in lines:  # the same events again, in the same session
        ingest.feed(line)
    ingest.flush()
    assert snapshot() == before
    again = JetstreamIngest(engine, clock_after(lines).now, batch_size=11)  # and after a restart
    for line in lines:
        again.feed(line)
    again.flush()
    assert snapshot() == before


def test_ctrl_c_applies_the_pending_events(engine):
    events = read_lines("burst.jsonl")

    def interrupt(summary) -> bool:
        if summary.events == 9:
            raise KeyboardInterrupt
        return False

    with Jetstream(events) as server:
        summary = stream_bluesky(engine, settings_for(server.url), clock=clock_after(events),
                                 stop=interrupt, idle_seconds=0.05)
    assert server.left.wait(5) and server.closes == [1000]  # a normal close
    assert summary.events == 9 and summary.cursor == max(map(time_of, events[:9]))
    assert stored_cursor(engine) == summary.cursor
    assert engagement_rows(engine)[(ALICE, "like")] == 2
    with engine.connect() as conn:
        assert conn.execute(select(runs.c.status)).scalar_one() == "ok"


def test_it_gives_up_after_failing_to_connect_repeatedly(engine):
    with socket.socket() as s:  # a port where nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    clock = FakeClock()
    with pytest.raises(SourceError, match=r"^jetstream: 4 connection attempts in a row"):
        stream_bluesky(engine, settings_for(f"ws://127.0.0.1:{port}/subscribe"), clock=clock,
                       max_failures=3)
    assert clock.sleeps == [1.0, 2.0, 4.0]
    with engine.connect() as conn:
        assert conn.execute(select(runs.c.status)).scalar_one() == "failed"


def test_the_command_prints_one_summary_line(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("HOTPAPERS_CONFIG", raising=False)
    app = typer.Typer()

    @app.callback()
    def root(ctx: typer.Context) -> None:
        ctx.obj = State(db=db_url)

    app.add_typer(stream_app, name="stream")
    events = shifted(read_lines("burst.jsonl"), datetime.now(UTC) - timedelta(minutes=1))
    with Jetstream(events) as server:  # the command reads the real clock
        monkeypatch.setenv("HOTPAPERS_BSKY_JETSTREAM_URL", server.url)
        result = CliRunner().invoke(app, ["stream", "bluesky", "--max-events", "33"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        "Read 33 events: 4 posts stored, 16 engagements counted, 4 deletions, 0 reconnects")


def test_a_post_stored_by_another_process_after_the_start_is_counted(engine):
    lines = read_lines("stored-post.jsonl")
    ingest = JetstreamIngest(engine, clock_after(lines).now, batch_size=1)  # nothing tracked yet
    ingest.feed(lines[0])  # a like on a post nobody stored: not counted
    with engine.begin() as conn:  # e.g. `fetch mentions --source bluesky` finds the post
        save_mention(conn, Mention(
            "bluesky", SAM, ["2401.01234"],
            account=Account("bluesky", "did:plc:samr4kq7zx2m5bw3nf6ytd2h"),
            created_at=from_time_us(1783175880000000)), from_time_us(1783175880000000))
    ingest.feed(lines[0])  # this flush looks for posts stored since
    for line in lines[1:]:
        ingest.feed(line)
    ingest.flush()
    assert engagement_rows(engine)[(SAM, "like")] >= 1
