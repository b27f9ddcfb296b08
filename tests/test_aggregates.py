"""The attention totals kept on write: after any sequence of new posts, new counts (api and
stream), re-deliveries of older counts, deletions, retention thinning and accounts whose
age becomes known, the totals equal a rebuild from scratch, and the hot and trending
rankings they give equal the exact path's over observations (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import threading
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import delete, func, select

from hotpapers.config import Settings
from hotpapers.jobs.aggregates import rebuild_aggregates, rules_json
from hotpapers.jobs.ranking import Method, Window, rank_papers, rules_from
from hotpapers.models import Account, Mention, Observation, Paper
from hotpapers.store.listings import save_listing
from hotpapers.store.mentions import mark_deleted, save_mention, thin_observations
from hotpapers.store.papers import save_paper
from hotpapers.store.schema import (
    account_totals,
    accounts,
    aggregate_state,
    mention_papers,
    mention_totals,
    mentions,
    observations,
    paper_source_totals,
)
from hotpapers.store.stream_state import save_stream_observations
from hotpapers.store.totals import AccountRow, load_account_rows, load_state, save_account_rows

DAY = date(2026, 11, 23)
T0 = datetime(2026, 11, 23, 6, tzinfo=UTC)
PAPERS = ("2611.00001", "2611.00002", "2611.00003", "2611.00004")
SOURCES = ("x", "bluesky", "hn")
SETTINGS = Settings(hot_min_score=0, trending_min_score=0, hot_max_papers=None,
                    trending_max_papers=None)


def totals(conn) -> dict:
    """The (paper, source) sums and account rows, floats rounded for comparison."""
    sums = {(r.paper_id, r.source): (round(r.raw, 9), r.people, r.posts, r.reposts_capped,
                                     r.new_accounts, r.first_at)
            for r in conn.execute(select(paper_source_totals))}
    rows = {(r.paper_id, r.source, r.who): (r.posts, r.likes, r.reposts, r.kept, r.quotes,
                                            r.replies, r.points, r.first_at,
                                            r.account_created_at, round(r.value, 9))
            for r in conn.execute(select(account_totals))}
    return {"sums": sums, "rows": rows}


def ranking(engine, method: Method, as_of: datetime, exact: bool) -> list:
    with engine.connect() as conn:
        ranked = rank_papers(conn, DAY, method, Window.day, SETTINGS, as_of, exact=exact)
    return [(r.paper_id, round(r.score, 5), r.parts.to_json()) for r in ranked.rows]


def same_rankings(engine, as_of: datetime) -> None:
    for method in (Method.hot, Method.trending):
        fast, exact = (ranking(engine, method, as_of, flag) for flag in (False, True))
        assert [r[:2] for r in fast] == [r[:2] for r in exact]
        for (_, _, a), (_, _, b) in zip(fast, exact, strict=True):  # parts: raw to 4 places
            assert {s: {k: v for k, v in p.items() if k != "top_accounts"}
                    for s, p in a["sources"].items()} == \
                   {s: {k: v for k, v in p.items() if k != "top_accounts"}
                    for s, p in b["sources"].items()}
            # the same best authors named, equal ones in the order they were stored
            assert {s: p["top_accounts"] for s, p in a["sources"].items()} \
                == {s: p["top_accounts"] for s, p in b["sources"].items()}


class Writes(RuleBasedStateMachine):
    """Random writes through the store's own functions, the way the stages make them."""

    posts = Bundle("posts")

    def __init__(self, engine) -> None:
        super().__init__()
        self.engine = engine
        self.clock = T0
        self.count = 0

    def tick(self, minutes: int) -> datetime:
        self.clock += timedelta(minutes=minutes)
        return self.clock

    @initialize()
    def empty(self) -> None:
        with self.engine.begin() as conn:
            for table in (observations, mention_papers, mention_totals, account_totals,
                          paper_source_totals, mentions, accounts):
                conn.execute(delete(table))
        with self.engine.begin() as conn:
            conn.execute(aggregate_state.update().values(data_until=None))

    @rule(target=posts, source=st.sampled_from(SOURCES),
          papers=st.lists(st.sampled_from(PAPERS), min_size=1, max_size=2, unique=True),
          author=st.one_of(st.none(), st.integers(0, 4)),
          kind=st.sampled_from(("post", "post", "quote", "repost")),
          counts=st.tuples(st.integers(0, 50), st.integers(0, 500), st.integers(0, 5)),
          age=st.sampled_from((None, 5, 400)))
    def new_post(self, source, papers, author, kind, counts, age):
        self.count += 1
        native = f"{source}-{self.count}"
        at = self.tick(7)
        account = None
        if author is not None:
            created = at - timedelta(days=age) if age is not None else None
            account = Account(source, f"{source}-acct-{author}", f"h{author}",
                              created_at=created)
        likes, reposts, points = counts
        mention = Mention(source, native, list(papers), account=account, kind=kind,
                          created_at=at - timedelta(minutes=3),
                          observations=[Observation(at, likes=likes, reposts=reposts,
                                                    points=points or None)])
        with self.engine.begin() as conn:
            save_mention(conn, mention, at)
        return mention

    @rule(post=posts, grow=st.tuples(st.integers(0, 30), st.integers(0, 300)),
          stream=st.booleans())
    def new_counts(self, post, grow, stream):
        at = self.tick(11)
        last = post.observations[-1]
        seen = Observation(at, likes=(last.likes or 0) + grow[0],
                           reposts=(last.reposts or 0) + grow[1], points=last.points,
                           via="stream" if stream else "api")
        post.observations.append(seen)
        with self.engine.begin() as conn:
            if stream:
                [mention_id] = conn.execute(select(mentions.c.id).where(
                    mentions.c.source == post.source,
                    mentions.c.native_id == post.native_id)).scalars()
                save_stream_observations(conn, {mention_id: seen})
            else:
                save_mention(conn, Mention(post.source, post.native_id, post.paper_ids,
                                           account=post.account, kind=post.kind,
                                           created_at=post.created_at, observations=[seen]),
                             at)

    @rule(post=posts)
    def redelivered_with_older_counts(self, post):
        first = post.observations[0]
        older = Observation(first.observed_at - timedelta(minutes=1), likes=1, reposts=1)
        with self.engine.begin() as conn:
            save_mention(conn, Mention(post.source, post.native_id, post.paper_ids,
                                       account=post.account, kind=post.kind,
                                       created_at=post.created_at, observations=[older]),
                         self.tick(1))

    @rule(post=posts)
    def deleted(self, post):
        with self.engine.begin() as conn:
            mark_deleted(conn, post.source, [post.native_id], self.tick(2))

    @rule(post=posts, days=st.integers(1, 900))
    def author_age_known(self, post, days):
        if post.account is None:
            return
        post.account.created_at = post.created_at - timedelta(days=days)
        with self.engine.begin() as conn:
            save_mention(conn, Mention(post.source, post.native_id, post.paper_ids,
                                       account=post.account, kind=post.kind,
                                       created_at=post.created_at), self.tick(1))

    @rule()
    def thinned(self):
        with self.engine.begin() as conn:
            thin_observations(conn, self.tick(60 * 24 * 3), detail_days=1)

    def teardown(self) -> None:
        if not hasattr(self, "clock"):
            return
        with self.engine.connect() as conn:
            kept = totals(conn)
            until = load_state(conn).data_until
        assert until is None or until <= self.clock
        same_rankings(self.engine, self.clock)
        rebuild_aggregates(self.engine, rules_from(SETTINGS), self.clock)
        with self.engine.connect() as conn:
            assert totals(conn) == kept


@pytest.fixture
def day_store(engine):
    with engine.begin() as conn:
        for pid in PAPERS:
            save_paper(conn, Paper(pid, f"Paper {pid}", ["A. Author"], ["cs.LG"],
                                   announced_on=DAY), T0)
        save_listing(conn, DAY, [(pid, "new") for pid in PAPERS])
    return engine


def test_kept_totals_equal_a_rebuild_and_rank_as_the_exact_path(day_store):
    with day_store.connect() as conn:
        assert load_state(conn).rules == rules_json(rules_from(SETTINGS))  # built when empty
    run_state_machine_as_test(
        lambda: Writes(day_store),
        settings=hypothesis_settings(max_examples=25, stateful_step_count=25))


def test_an_earlier_as_of_takes_the_exact_path(day_store):
    machine = Writes(day_store)
    machine.empty()
    post = machine.new_post("x", [PAPERS[0]], 1, "post", (10, 2, 0), 400)
    early = machine.clock
    machine.new_counts(post, (500, 0), stream=False)  # later counts
    machine.new_post("hn", [PAPERS[1]], 2, "post", (0, 0, 40), None)
    for as_of in (early, machine.clock):
        assert ranking(day_store, Method.hot, as_of, False) == \
            ranking(day_store, Method.hot, as_of, True)
    then = ranking(day_store, Method.hot, early, False)
    assert [r[0] for r in then] == [PAPERS[0]]  # the hn post came later
    assert then[0][2]["sources"]["x"]["raw"] < \
        ranking(day_store, Method.hot, machine.clock, False)[0][2]["sources"]["x"]["raw"]


def test_other_rules_take_the_exact_path_until_a_rebuild(day_store):
    machine = Writes(day_store)
    machine.empty()
    machine.new_post("x", [PAPERS[0]], 1, "post", (10, 30, 0), 400)
    machine.new_post("x", [PAPERS[1]], 2, "post", (10, 0, 0), 400)
    other = Settings(hot_kind_weights={"likes": 1.0, "reposts": 0.0, "quotes": 2.0,
                                       "replies": 1.0, "points": 1.0})
    with day_store.connect() as conn:
        assert load_state(conn).rules != rules_json(rules_from(other))
        fast = rank_papers(conn, DAY, Method.hot, Window.day, other, machine.clock)
        exact = rank_papers(conn, DAY, Method.hot, Window.day, other, machine.clock,
                            exact=True)
    assert [(r.paper_id, r.score) for r in fast.rows] == \
        [(r.paper_id, r.score) for r in exact.rows]
    rebuild_aggregates(day_store, rules_from(other), machine.clock)
    with day_store.connect() as conn:
        assert load_state(conn).rules == rules_json(rules_from(other))


def test_fast_path_names_the_most_valuable_authors(day_store):
    """Eight authors and two accountless posts on one paper: more likes is more value, so
    the five named are the five most liked, best first; equal values name the account
    stored first; a post without an account is named by the post."""
    machine = Writes(day_store)
    machine.empty()
    for author, likes in [(3, 30), (0, 0), (7, 70), (1, 10), (5, 50), (2, 20), (6, 60),
                          (4, 40)]:
        machine.new_post("x", [PAPERS[0]], author, "post", (likes, 0, 0), 400)
    machine.new_post("bluesky", [PAPERS[0]], None, "post", (90, 0, 0), None)
    machine.new_post("bluesky", [PAPERS[0]], 8, "post", (5, 0, 0), 400)
    machine.new_post("bluesky", [PAPERS[0]], 9, "post", (5, 0, 0), 400)
    with day_store.connect() as conn:
        [row] = [r for r in rank_papers(conn, DAY, Method.hot, Window.day, SETTINGS,
                                        machine.clock).rows if r.paper_id == PAPERS[0]]
    named = {s: [a.account for a in p.top_accounts] for s, p in row.parts.sources.items()}
    assert named == {"x": ["h7", "h6", "h5", "h4", "h3"],
                     "bluesky": ["post:bluesky-9", "h8", "h9"]}
    values = [a.value for a in row.parts.sources["x"].top_accounts]
    assert values == sorted(values, reverse=True) and len(set(values)) == 5


def test_equal_authors_are_named_alike_by_both_paths(day_store):
    """Twelve authors of equal value on one paper: the fast and the exact path name the
    same five, the five stored first, whatever order the database groups them in."""
    machine = Writes(day_store)
    machine.empty()
    for author in (11, 4, 9, 0, 7, 2, 10, 5, 1, 8, 3, 6):
        machine.new_post("x", [PAPERS[0]], author, "post", (10, 1, 0), 400)
    named = {}
    for exact in (False, True):
        with day_store.connect() as conn:
            if conn.dialect.name == "postgresql":  # group by hashing, as larger tables do
                conn.exec_driver_sql("SET enable_sort TO off")
            [row] = [r for r in rank_papers(conn, DAY, Method.hot, Window.day, SETTINGS,
                                            machine.clock, exact=exact).rows
                     if r.paper_id == PAPERS[0]]
        named[exact] = [a.account for a in row.parts.sources["x"].top_accounts]
    assert named[False] == named[True] == ["h11", "h4", "h9", "h0", "h7"]


@pytest.mark.skipif(not os.environ.get("HOTPAPERS_TEST_POSTGRES"),
                    reason="PostgreSQL only: SQLite has one writer at a time already")
def test_concurrent_writers_lose_no_count(day_store):
    """Two writers counting posts of different authors about the same papers at once
    (PostgreSQL runs their transactions side by side): the totals equal a rebuild."""
    def writer(first: int) -> None:
        for n in range(first, first + 80, 2):
            with day_store.begin() as conn:
                save_mention(conn, Mention("x", f"c{n}", [PAPERS[(n // 2) % 2]],
                                           account=Account("x", f"acct{n}", "h"),
                                           created_at=T0, observations=[
                                               Observation(T0, likes=n, reposts=1)]), T0)
    threads = [threading.Thread(target=writer, args=(start,)) for start in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with day_store.connect() as conn:
        kept = totals(conn)
        assert conn.execute(select(func.count()).select_from(mentions)).scalar() == 80
    rebuild_aggregates(day_store, rules_from(SETTINGS), T0 + timedelta(days=1))
    with day_store.connect() as conn:
        assert totals(conn) == kept


def test_rebuild_aggregates_needs_an_existing_store(cli, tmp_path, monkeypatch):
    missing = tmp_path / "nowhere" / "store.sqlite3"
    monkeypatch.setenv("HOTPAPERS_DB", f"sqlite:///{missing}")
    result = cli("store", "rebuild-aggregates")
    assert result.code == 2 and str(missing) in result.err
    assert len(result.err.strip().splitlines()) == 1 and not missing.exists()


def test_account_rows_are_found_and_removed_by_their_whole_key(engine):
    """More keys than one statement takes; a key that shares its paper and source (or its
    author) with stored rows finds nothing."""
    rows = [AccountRow((PAPERS[i % 4], SOURCES[i % 3], i), 1 + i % 3, [i, i % 5, 0, 1, 0, 2],
                       T0 + timedelta(minutes=i),
                       None if i % 4 else T0 - timedelta(days=i), i / 7) for i in range(1, 1101)]
    with engine.begin() as conn:
        save_account_rows(conn, rows)
        absent = [(PAPERS[1], SOURCES[1], 99_999), ("2611.99999", SOURCES[1], 1)]
        assert load_account_rows(conn, [r.key for r in rows[::5]] + absent) == {
            r.key: r for r in rows[::5]}
        save_account_rows(conn, [replace(r, posts=0) for r in rows[:600]])  # no posts: gone
        assert set(load_account_rows(conn, [r.key for r in rows])) == {
            r.key for r in rows[600:]}
        assert conn.execute(select(func.count()).select_from(account_totals)).scalar() == 500
