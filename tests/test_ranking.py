"""The rank stage on a real database: SQL aggregation per account, windows over
announcement dates, filters, explain, and classic on every imported real day."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotpapers.config import Settings
from hotpapers.jobs.digest import _summary
from hotpapers.jobs.legacy import import_legacy
from hotpapers.jobs.ranking import Method, Window, explain_paper, rank_papers, window_range
from hotpapers.models import Account, Mention, Observation, Paper
from hotpapers.render.lumen_parse import parse_post
from hotpapers.store.attention import account_attention, window_paper_ids
from hotpapers.store.listings import load_listing, save_listing
from hotpapers.store.mentions import mark_deleted, save_mention
from hotpapers.store.papers import save_paper

DAY = date(2026, 11, 23)  # a Monday
AS_OF = datetime(2026, 11, 25, 12, tzinfo=UTC)
EARLY = datetime(2026, 11, 23, 6, tzinfo=UTC)


def paper(pid: str, title: str, categories=("cs.LG",), day=DAY, authors=("Ada Lovelace",)):
    return Paper(id=pid, title=title, authors=list(authors), categories=list(categories),
                 abstract=f"We study {title.lower()}.", pdf_url=f"https://arxiv.org/pdf/{pid}",
                 announced_on=day)


def post(source, native_id, pid, account, *counts, kind="post", created=EARLY,
         account_created=None):
    return Mention(source=source, native_id=native_id, paper_ids=[pid], kind=kind,
                   account=Account(source, account, account, created_at=account_created),
                   created_at=created,
                   observations=[Observation(at, likes=likes, reposts=reposts, points=points)
                                 for at, likes, reposts, points in counts])


@pytest.fixture
def week(engine):
    """Four papers of DAY, one of the day before, one of a month before (discussed now)."""
    with engine.begin() as conn:
        for p in (paper("2611.10001", "Graph attention", ("cs.LG", "stat.ML")),
                  paper("2611.10002", "Robot hands", ("cs.RO",), authors=("Grace Hopper",)),
                  paper("2611.10003", "Quantum codes", ("quant-ph", "cs.IT")),
                  paper("2611.10004", "Silent paper"),
                  paper("2611.09001", "Yesterday's paper", day=DAY - timedelta(days=3)),
                  paper("2610.01234", "An old classic", day=DAY - timedelta(days=40))):
            save_paper(conn, p, EARLY)
        save_listing(conn, DAY, [("2611.10001", "new"), ("2611.10002", "new"),
                                 ("2611.10003", "cross"), ("2611.10004", "new")])
        t1, t2 = EARLY + timedelta(hours=1), AS_OF - timedelta(hours=1)
        for m in (
            # three people on X about the first paper, one of them twice
            post("x", "1", "2611.10001", "alice", (t1, 10, 2, None), (t2, 40, 5, None)),
            post("x", "2", "2611.10001", "alice", (t2, 5, 0, None)),
            post("x", "3", "2611.10001", "bob", (t2, 8, 1, None)),
            post("bluesky", "b1", "2611.10001", "carol", (t2, 12, 3, None)),
            # one inflated post on the second paper: 5000 reposts, 2 likes
            post("x", "4", "2611.10002", "booster", (t2, 2, 5000, None)),
            post("x", "5", "2611.10002", "repost-bot", (t2, 0, 0, None), kind="repost"),
            post("hn", "h1", "2611.10003", "dan", (t2, None, None, 250)),
            post("x", "6", "2611.10003", "erin", (t2, 3, 0, None)),
            post("x", "7", "2611.10003", "gone", (t2, 900, 900, None)),  # deleted below
            post("x", "8", "2611.09001", "frank", (t2, 30, 3, None)),
            post("x", "9", "2610.01234", "gina", (t2, 500, 100, None)),  # old paper, new talk
            post("x", "10", "2611.10004", "late", (AS_OF + timedelta(hours=1), 99, 0, None),
                 created=AS_OF + timedelta(minutes=30)),  # after as-of: not counted
        ):
            save_mention(conn, m, EARLY)
        mark_deleted(conn, "x", ["7"], AS_OF - timedelta(hours=2))
    return engine


def test_attention_is_aggregated_per_account_with_reposts_capped_per_post(week):
    with week.connect() as conn:
        rows = {(a.paper_id, a.source, a.account): a
                for a in account_attention(conn, DAY, DAY, AS_OF, repost_ratio=3.0)}
    alice = rows[("2611.10001", "x", "alice")]
    assert (alice.posts, alice.likes, alice.reposts) == (2, 45, 5)  # last counts by as-of
    booster = rows[("2611.10002", "x", "booster")]
    assert (booster.reposts, booster.reposts_kept) == (5000, 9)  # 3 x (2 likes + 1)
    assert rows[("2611.10003", "hn", "dan")].points == 250
    assert ("2611.10002", "x", "repost-bot") not in rows  # reposts are not mentions
    assert ("2611.10003", "x", "gone") not in rows  # deleted at its source
    assert ("2611.10004", "x", "late") not in rows  # posted after the as-of time
    assert ("2611.09001", "x", "frank") not in rows  # announced before the day
    with week.connect() as conn:
        then = account_attention(conn, DAY, DAY, EARLY + timedelta(hours=2), 3.0)
    earlier = {(a.paper_id, a.account): a.likes for a in then}
    assert earlier[("2611.10001", "alice")] == 10  # the observation of that time


def test_hot_counts_people_and_breadth_not_inflated_reposts(week):
    with week.connect() as conn:
        ranked = rank_papers(conn, DAY, Method.hot, Window.day, Settings(hot_min_score=0),
                             AS_OF)
    order = [r.paper_id for r in ranked.rows]
    assert order.index("2611.10001") < order.index("2611.10002")
    assert "2611.10004" not in order  # no attention counted by the as-of time
    first = ranked.rows[order.index("2611.10001")].parts.sources
    assert first["x"].people == 2 and first["x"].posts == 3
    assert set(first) == {"x", "bluesky"}


def test_windows_are_keyed_on_announcement_dates(week):
    assert window_range(DAY, Window.week) == (DAY - timedelta(days=6), DAY)
    with week.connect() as conn:
        day = rank_papers(conn, DAY, Method.hot, Window.day, Settings(hot_min_score=0), AS_OF)
        month = rank_papers(conn, DAY, Method.hot, Window.month, Settings(hot_min_score=0),
                            AS_OF)
    assert "2611.09001" not in [r.paper_id for r in day.rows]
    assert "2611.09001" in [r.paper_id for r in month.rows]
    # discussed this week, announced 40 days ago: in no window ending on DAY shorter than that
    assert "2610.01234" not in [r.paper_id for r in month.rows]


def test_the_threshold_shows_fewer_papers_rather_than_weak_ones(week):
    with week.connect() as conn:
        everyone = rank_papers(conn, DAY, Method.hot, Window.day, Settings(hot_min_score=0),
                               AS_OF)
        strict = rank_papers(conn, DAY, Method.hot, Window.day,
                             Settings(hot_min_score=everyone.rows[0].score), AS_OF)
        top = rank_papers(conn, DAY, Method.hot, Window.day,
                          Settings(hot_min_score=0, hot_max_papers=1), AS_OF)
    assert [r.paper_id for r in strict.rows] == [everyone.rows[0].paper_id]
    assert len(top.rows) == 1


def test_trending_ranks_by_momentum(week):
    with week.connect() as conn:
        ranked = rank_papers(conn, DAY, Method.trending, Window.week, Settings(), AS_OF)
    assert ranked.rows and all(r.parts.hours > 0 for r in ranked.rows)
    assert [r.score for r in ranked.rows] == sorted((r.score for r in ranked.rows),
                                                    reverse=True)


@pytest.mark.parametrize("options, expected", [
    (["--category", "cs.RO"], ["2611.10002"]),
    (["--category", "cs", "--primary-only"], ["2611.10001", "2611.10002", "2611.10004"]),
    (["--category", "cs.IT"], ["2611.10003"]),  # a cross-list counts without --primary-only
    (["--exclude-category", "quant-ph", "--exclude-category", "cs.RO"],
     ["2611.10001", "2611.10004"]),
    (["--keyword", "ROBOT"], ["2611.10002"]),
    (["--author", "hopper"], ["2611.10002"]),
])
def test_filters_narrow_every_method(cli, week, monkeypatch, options, expected):
    # every paper with attention; the command ranks as of now, so the late post counts too
    monkeypatch.setenv("HOTPAPERS_HOT_MIN_SCORE", "0")
    hot = cli("rank", "--date", DAY.isoformat(), "--method", "hot", "--json", *options)
    assert hot.code == 0, hot.err
    assert sorted(p["id"] for p in json.loads(hot.out)["papers"]) == sorted(expected)
    classic = cli("rank", "--date", DAY.isoformat(), "--json", *options)
    # classic lists, by X retweets + likes: 5002, then 99 (the late post), then 59
    listed = [p for p in ("2611.10002", "2611.10004", "2611.10001") if p in expected]
    assert [p["id"] for p in json.loads(classic.out)["papers"]] == listed


def test_explain_shows_the_parts_and_the_damping(cli, week):
    result = cli("explain", "2611.10002", "--date", DAY.isoformat(), "--json")
    assert result.code == 0, result.err
    found = json.loads(result.out)
    assert found["rank"] >= 1 and found["method"] == "hot"
    assert found["parts"]["sources"]["x"]["reposts_capped"] == 5000 - 9
    text = cli("explain", "arXiv:2611.10002v2", "--date", DAY.isoformat())
    assert text.code == 0
    assert "reposts over the cap" in text.out and "booster" in text.out


@pytest.mark.parametrize("arxiv_id, message", [
    ("not-an-id", "not an arXiv id"),
    ("2611.19999", "no such paper stored"),
])
def test_explain_refuses_bad_ids_in_one_line(cli, week, arxiv_id, message):
    result = cli("explain", arxiv_id)
    assert result.code == 2 and message in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_explain_a_paper_nobody_discussed(week):
    with week.connect() as conn:
        found = explain_paper(conn, "2611.10004", None, Method.hot, Window.day, Settings(),
                              AS_OF)
    assert found.rank is None and not found.listed and found.score == 0.0
    assert found.to_json()["parts"] == {} and found.to_json()["of"] == found.of > 0


@pytest.mark.parametrize("method", [Method.hot, Method.trending, Method.classic])
def test_explain_says_listed_for_exactly_the_papers_the_ranking_lists(week, method):
    settings = Settings(hot_min_score=0, hot_max_papers=2, trending_min_score=0,
                        trending_max_papers=1)
    with week.connect() as conn:
        shown = rank_papers(conn, DAY, method, Window.day, settings, AS_OF)
        every = rank_papers(conn, DAY, method, Window.day, settings, AS_OF, limits=False)
        found = [explain_paper(conn, r.paper_id, DAY, method, Window.day, settings, AS_OF)
                 for r in every.rows]
    assert len(every.rows) > len(shown.rows) or method is Method.classic
    assert [f.paper.id for f in found if f.listed] == [r.paper_id for r in shown.rows]
    assert [f.row for f in found] == every.rows  # the same typed parts the ranking has
    assert [f.rank for f in found] == list(range(1, len(every.rows) + 1))


def test_the_digest_summary_reads_the_typed_parts(week):
    with week.connect() as conn:
        hot = rank_papers(conn, DAY, Method.hot, Window.day, Settings(hot_min_score=0), AS_OF)
        classic = rank_papers(conn, DAY, Method.classic, Window.day, Settings(), AS_OF)
    row = next(r for r in hot.rows if r.paper_id == "2611.10001")
    assert _summary(row) == "3 people on bluesky, x"
    top = classic.rows[0]
    assert _summary(top) == (f"retweets: {top.parts.reposts}, "
                                             f"favorites: {top.parts.likes}")
    assert top.parts.day == DAY and top.parts.tweets_shown is not None


def test_classic_on_every_imported_real_day_lists_the_posts_papers_in_order(engine,
                                                                           corpus_dir):
    files = sorted(corpus_dir.glob("*.md"))
    import_legacy(engine, files, AS_OF)
    with engine.connect() as conn:
        for path in files:
            legacy = parse_post(path.read_text(encoding="utf-8"), str(path))
            ranked = rank_papers(conn, legacy.post.day, Method.classic, Window.day,
                                 Settings(), AS_OF)
            assert [r.paper_id for r in ranked.rows] == [e.paper.id
                                                         for e in legacy.post.entries], path


def test_a_filter_narrows_the_list_and_never_moves_a_score(week):
    from hotpapers.rank.filters import Filters

    settings = Settings(hot_min_score=0)
    with week.connect() as conn:
        everything = rank_papers(conn, DAY, Method.hot, Window.day, settings, AS_OF)
        narrowed = rank_papers(conn, DAY, Method.hot, Window.day, settings, AS_OF,
                               Filters(exclude_categories=("quant-ph",)))
    scores = {r.paper_id: r.score for r in everything.rows}
    assert "2611.10003" in scores  # the Hacker News paper shapes the others' yardsticks
    assert narrowed.rows and all(r.score == scores[r.paper_id] for r in narrowed.rows)
    assert "2611.10003" not in {r.paper_id for r in narrowed.rows}


def test_the_repost_cap_keeps_whole_reposts_on_every_database(engine):
    with engine.begin() as conn:
        save_paper(conn, paper("2611.10001", "Graph attention"), EARLY)
        save_listing(conn, DAY, [("2611.10001", "new")])
        save_mention(conn, post("x", "1", "2611.10001", "a", (EARLY, 0, 5, None)), EARLY)
    with engine.connect() as conn:
        [row] = account_attention(conn, DAY, DAY, AS_OF, repost_ratio=1.5)
    assert row.reposts_kept == 1  # 1.5 x (0 likes + 1) reposts: one whole repost


@settings(max_examples=25)
@given(st.lists(st.tuples(st.sampled_from(["1", "2", "3", "4"]),
                          st.sampled_from(["2611.10001", "2611.10002"]),
                          st.sampled_from(["alice", "bob"]),
                          st.integers(0, 10**6), st.integers(0, 10**6)),
                min_size=1, max_size=12),
       st.randoms(use_true_random=False))
def test_ingesting_the_same_mentions_again_changes_no_score(tmp_path_factory, rows, rng):
    from hotpapers.store.db import connect as open_db

    def scores(mentions) -> dict:
        path = tmp_path_factory.mktemp("db") / "h.sqlite3"
        engine = open_db(f"sqlite:///{path}")
        with engine.begin() as conn:
            for pid in ("2611.10001", "2611.10002"):
                save_paper(conn, paper(pid, f"Paper {pid}"), EARLY)
            save_listing(conn, DAY, [("2611.10001", "new"), ("2611.10002", "new")])
            for m in mentions:
                save_mention(conn, m, EARLY)
        with engine.connect() as conn:
            ranked = rank_papers(conn, DAY, Method.hot, Window.day,
                                 Settings(hot_min_score=0), AS_OF)
        engine.dispose()
        return {r.paper_id: r.score for r in ranked.rows}

    # one post per native id (the first seen wins, as a source would report it)
    first: dict[str, tuple] = {}
    for row in rows:
        first.setdefault(row[0], row)
    once = [post("x", n, pid, who, (EARLY + timedelta(hours=1), likes, reposts, None))
            for n, pid, who, likes, reposts in first.values()]
    twice = once + [once[rng.randrange(len(once))] for _ in range(len(once))]
    rng.shuffle(twice)
    assert scores(twice) == scores(once)


def test_a_day_listed_twice_orders_equal_positions_by_id(engine):
    """A day whose listing was merged from two (a snapshot imported over a crawl) holds two
    papers at one position: both reads give them in id order, whichever was stored first."""
    with engine.begin() as conn:
        for pid in ("2611.10002", "2611.10001"):
            save_paper(conn, paper(pid, f"Paper {pid}"), EARLY)
            save_listing(conn, DAY, [(pid, "new")])
    with engine.connect() as conn:
        assert [p for p, _ in load_listing(conn, DAY)] == ["2611.10001", "2611.10002"]
        assert window_paper_ids(conn, DAY, DAY) == ["2611.10001", "2611.10002"]
