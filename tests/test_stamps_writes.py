"""Change stamps against random writes: after any write, every day and paper whose site data
(what load_site_data gives for it) changed has a bigger stamp than before."""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotpapers.models import Account, Mention, Observation, Paper, Post, PostEntry, ShownMention
from hotpapers.store.db import connect
from hotpapers.store.listings import save_listing
from hotpapers.store.mentions import (
    mark_deleted,
    mention_ids,
    save_embed,
    save_mention,
    thin_observations,
)
from hotpapers.store.papers import save_attention, save_paper
from hotpapers.store.posts import save_post
from hotpapers.store.raw import open_raw
from hotpapers.store.site_data import load_site_data
from hotpapers.store.stamps import load_stamps
from hotpapers.store.stream_state import save_stream_observations
from hotpapers.store.totals import named_papers

DAYS = [date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 25)]
IDS = ["2611.00001", "2611.00002", "2611.00003"]
T = datetime(2026, 11, 23, 12, tzinfo=UTC)
WORDS = ["one", "two", None]
small = st.integers(0, 2)


def paper(i: int, title: str = "A title", other: bool = False) -> Paper:
    """Paper i; `other` adds a category no other paper has (its page appears)."""
    return Paper(IDS[i], title, ["A. Author"],
                 ["cs.LG", "stat.ML"][: 1 + i % 2] + (["math.CO"] if other else []),
                 announced_on=DAYS[i])


def mention(n: int, i: int, text: str | None, handle: str | None, likes: int, hour: int
            ) -> Mention:
    return Mention("x", str(n), [IDS[i]], permalink=f"https://x.com/a/status/{n}",
                   account=Account("x", f"a{n % 2}", handle, handle and handle.upper()),
                   text=text, created_at=T, observations=[
                       Observation(T + timedelta(hours=hour), likes=likes)])


def shown(conn, day: int, papers: list[int], likes: int) -> None:
    """A post of `day` showing `papers`, each with the first stored mention naming it (as
    posts show them)."""
    found = mention_ids(conn, [("x", str(n)) for n in range(3)])
    naming = {i: sorted(native for (_, native), row in found.items()
                        if IDS[i] in named_papers(conn, [row])) for i in range(len(IDS))}
    entries = [PostEntry(paper(i), 0, likes, T, [
        ShownMention(native, None, None, "x") for native in naming[i][:1]])
        for i in dict.fromkeys(papers)]
    save_post(conn, Post(DAYS[day], T, entries), "lumen", found)


WRITES = st.one_of(
    st.tuples(small, st.sampled_from(["A title", "Another"]), st.booleans()).map(
        lambda w: lambda c: save_paper(c, paper(*w), T)),
    st.tuples(st.just("listing"), small, small).map(
        lambda w: lambda c: save_listing(c, DAYS[w[1]], [(IDS[w[2]], "cross")])),
    st.tuples(small, small, st.sampled_from(WORDS), st.sampled_from(["ada", "bob"]),
              st.sampled_from([(1, 0), (2, 1)])).map(  # (likes, hour): often as stored
        lambda w: lambda c: save_mention(c, mention(*w[:4], *w[4]), T)),
    st.tuples(small, st.sampled_from(["<p>a</p>", "<p>b</p>"])).map(
        lambda w: lambda c: save_embed(c, ("x", str(w[0])), w[1])),
    small.map(lambda n: lambda c: mark_deleted(c, "x", [str(n)], T)),
    st.tuples(small, st.lists(small, min_size=1, max_size=3), st.integers(0, 1)).map(
        lambda w: lambda c: shown(c, *w)),
    st.tuples(small, st.integers(0, 2), small).map(
        lambda w: lambda c: save_attention(c, IDS[w[0]], "x", T + timedelta(hours=w[2]),
                                           likes=w[1])),
    st.integers(0, 3).map(lambda hours: lambda c: thin_observations(
        c, T + timedelta(days=1, hours=hours), detail_days=1)),
    st.tuples(small, st.integers(0, 2), small).map(
        lambda w: lambda c: save_stream_observations(c, {
            i: Observation(T + timedelta(hours=w[2]), likes=w[1], via="stream")
            for i in mention_ids(c, [("x", str(w[0]))]).values()})),
)


def shown_by_key(url: str) -> tuple[dict, dict]:
    """What the site shows of each day and each paper (as comparable text)."""
    with open_raw(url, create=False) as store:
        data = load_site_data(store)
    papers: dict[str, list] = {}
    for post in data.posts:
        for entry in post.entries:
            papers.setdefault(entry.paper.id, []).append(entry.paper)
    # A paper's page also shows its days' posts (their stamps count for it too).
    papers = {p: repr((data.mentions.get(p), data.totals.get(p))) for p in papers}
    by_key = {(m.source, m.native_id): m for ms in data.mentions.values() for m in ms}
    days = {post.day.isoformat(): repr((post, [papers[e.paper.id] for e in post.entries],
                                        [by_key.get(s.key) for e in post.entries
                                         for s in e.shown]))
            for post in data.posts}
    return days, papers


def stamped(engine) -> tuple[dict, dict]:
    with engine.connect() as conn:
        return load_stamps(conn, "day"), load_stamps(conn, "paper")


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A store holding the papers, a post showing them and a mention of each (made once:
    a new store costs its migrations)."""
    path = tmp_path_factory.mktemp("stamps") / "template.sqlite3"
    engine = connect(f"sqlite:///{path}")
    with engine.begin() as conn:
        for i in range(len(IDS)):
            save_paper(conn, paper(i), T)
        for i in range(len(IDS)):
            save_mention(conn, mention(i, i, "text", "ada", 1, 0), T)
        shown(conn, 2, [0, 1, 2], 1)
    engine.dispose()
    return path


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(writes=st.lists(WRITES, min_size=1, max_size=10))
def test_whatever_changes_on_the_site_gets_a_bigger_stamp(template, writes):
    with tempfile.TemporaryDirectory() as folder:
        shutil.copy(template, Path(folder) / "store.sqlite3")
        url = f"sqlite:///{Path(folder) / 'store.sqlite3'}"
        engine = connect(url)
        try:
            before, stamps = shown_by_key(url), stamped(engine)
            for write in writes:
                with engine.begin() as conn:
                    write(conn)
                after, now = shown_by_key(url), stamped(engine)
                for kind, old, new, was, got in zip(("day", "paper"), before, after, stamps, now,
                                                   strict=True):
                    for key in (set(old) | set(new)) if kind == "day" else set(old) & set(new):
                        if old.get(key) != new.get(key):
                            assert got.get(key, 0) > was.get(key, 0), (kind, key)
                before, stamps = after, now
        finally:
            engine.dispose()
