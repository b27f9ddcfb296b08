"""The mentions stage on a real SQLite file: batches, a failing source among good ones,
refresh and deletions, unknown papers, the empty-result warning, thinning, idempotence."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from conftest import postgres_only
from hotpapers.errors import MissingCredentials, SourceError
from hotpapers.jobs.fetch_mentions import fetch_mentions
from hotpapers.models import Account, Mention, Observation, Paper, Version
from hotpapers.sources.base import Refreshed, SourceReport, Span
from hotpapers.sources.registry import Skipped
from hotpapers.store.db import connect
from hotpapers.store.mentions import latest_observations, load_mentions, thin_observations
from hotpapers.store.papers import load_papers
from hotpapers.store.runs import load_runs, recorded_run
from hotpapers.store.schema import mentions, observations

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
WINDOW = Span(NOW - timedelta(days=1), NOW)


def mention(source: str, native_id: str, paper: str, likes: int = 1,
            created: datetime = NOW - timedelta(hours=3)) -> Mention:
    return Mention(source=source, native_id=native_id, paper_ids=[paper],
                   account=Account(source, f"acct-{native_id}"), created_at=created,
                   observations=[Observation(NOW, likes=likes)])


class ListSource:
    """A source that serves a fixed list, optionally failing after `fail_after` items."""

    def __init__(self, name: str, items: Sequence[Mention], fail_after: int | None = None,
                 gone: Sequence[str] = ()) -> None:
        self.name, self.items, self.fail_after, self.gone = name, items, fail_after, gone
        self.report = SourceReport()
        self.refreshed: list[list[str]] = []

    def mentions(self, window: Span) -> Iterator[Mention]:
        for i, item in enumerate(self.items):
            if self.fail_after is not None and i == self.fail_after:
                raise SourceError(f"{self.name}: HTTP 503 after 5 tries")
            self.report.requests += 1
            yield item

    def refresh(self, native_ids: Sequence[str]) -> Refreshed:
        self.refreshed.append(list(native_ids))
        return Refreshed(gone=[n for n in native_ids if n in self.gone])


def run_stage(engine, sources, **kwargs):
    with recorded_run(engine, "fetch mentions", lambda: NOW) as run:
        return fetch_mentions(engine, sources, WINDOW, lambda: NOW, run, **kwargs)


def stored(engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return sorted(conn.execute(select(mentions.c.source, mentions.c.native_id)).all())


def test_a_failing_source_keeps_what_it_read_and_does_not_stop_the_others(engine):
    broken = ListSource("bluesky", [mention("bluesky", "b1", "2611.00001"),
                                    mention("bluesky", "b2", "2611.00002")], fail_after=1)
    good = ListSource("hn", [mention("hn", "h1", "2611.00003")])
    fetched = run_stage(engine, [broken, Skipped("x", "needs HOTPAPERS_X_BEARER_TOKEN"), good])

    assert stored(engine) == [("bluesky", "b1"), ("hn", "h1")]
    outcome = {o.name: o for o in fetched.outcomes}
    assert outcome["bluesky"].error == "bluesky: HTTP 503 after 5 tries"
    assert outcome["bluesky"].mentions == 1
    assert outcome["x"].skipped and not outcome["x"].error
    assert outcome["hn"].mentions == 1 and outcome["hn"].error is None
    assert not fetched.all_failed
    with engine.connect() as conn:
        run = load_runs(conn, 1)[0]
    assert run["status"] == "partial"
    assert run["errors"] == ["bluesky: HTTP 503 after 5 tries"]
    assert run["counts"]["hn"]["mentions"] == 1 and run["counts"]["x"]["skipped"]


def test_every_source_failing_is_all_failed(engine):
    fetched = run_stage(engine, [ListSource("hn", [mention("hn", "h1", "1")], fail_after=0)])
    assert fetched.all_failed


def test_stored_mentions_not_seen_again_are_looked_up_and_deletions_honoured(engine):
    first = ListSource("bluesky", [mention("bluesky", "b1", "2611.00001"),
                                   mention("bluesky", "b2", "2611.00001")])
    run_stage(engine, [first])
    again = ListSource("bluesky", [mention("bluesky", "b1", "2611.00001", likes=5)],
                       gone=["b2"])
    fetched = run_stage(engine, [again])

    assert again.refreshed == [["b2"]]
    assert fetched.outcomes[0].deleted == 1
    with engine.connect() as conn:
        latest = latest_observations(conn, ["2611.00001"], ["bluesky"], NOW)
        shown = load_mentions(conn, ["2611.00001"])
    assert [key for key, _ in latest["2611.00001"]] == [("bluesky", "b1")]
    assert [m.native_id for m in shown] == ["b1"]


def test_refresh_can_be_turned_off(engine):
    run_stage(engine, [ListSource("hn", [mention("hn", "h1", "1")])])
    source = ListSource("hn", [])
    run_stage(engine, [source], refresh=False)
    assert source.refreshed == []


def test_papers_named_but_not_stored_are_fetched_and_dated(engine):
    asked: list[list[str]] = []

    def papers(ids: list[str]) -> Iterator[Paper]:
        asked.append(ids)
        submitted = datetime(2026, 11, 24, 20, tzinfo=UTC)  # Tuesday 15:00 ET: after 14:00
        yield Paper(id="2611.00001", title="A paper", versions=[Version(1, submitted)])

    source = ListSource("hn", [mention("hn", "h1", "2611.00001"),
                               mention("hn", "h2", "2611.00001"),
                               mention("hn", "h3", "2611.09999")])
    fetched = run_stage(engine, [source], papers=papers)

    assert asked == [["2611.00001", "2611.09999"]]  # most mentioned first
    assert (fetched.papers_fetched, fetched.papers_unknown) == (1, 1)
    with engine.connect() as conn:
        paper = load_papers(conn, ["2611.00001"])["2611.00001"]
    assert paper.announced_on == date(2026, 11, 26)


def test_a_source_that_usually_finds_mentions_warns_when_it_finds_none(engine):
    run_stage(engine, [ListSource("hn", [mention("hn", f"h{i}", "1") for i in range(4)])])
    fetched = run_stage(engine, [ListSource("hn", [])], refresh=False)
    assert any("warning: nothing found" in note for note in fetched.outcomes[0].notes)
    assert "warning" in fetched.outcomes[0].summary()


def test_a_quiet_source_with_no_history_does_not_warn(engine):
    fetched = run_stage(engine, [ListSource("hn", [])])
    assert fetched.outcomes[0].notes == []


def test_fetching_the_same_mentions_twice_changes_nothing_but_new_observations(engine):
    items = [mention("hn", "h1", "2611.00001"), mention("hn", "h2", "2611.00002")]
    run_stage(engine, [ListSource("hn", items)], refresh=False)
    run_stage(engine, [ListSource("hn", items)], refresh=False)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(mentions)).scalar() == 2
        assert conn.execute(select(func.count()).select_from(observations)).scalar() == 2


def test_thinning_keeps_recent_detail_and_the_last_observation_of_each_older_day(engine):
    start = NOW - timedelta(days=10)
    hourly = [Observation(start + timedelta(hours=h), likes=h) for h in range(24 * 10)]
    m = mention("x", "t1", "1")
    m.observations = hourly
    run_stage(engine, [ListSource("x", [m])], refresh=False, detail_days=7)

    with engine.connect() as conn:
        kept = [row.observed_at for row in conn.execute(
            select(observations.c.observed_at).order_by(observations.c.observed_at))]
    cutoff = NOW - timedelta(days=7)
    old = [t for t in kept if t < cutoff]
    recent = [t for t in kept if t >= cutoff]
    assert recent == [o.observed_at for o in hourly if o.observed_at >= cutoff]
    # one per UTC day before the cutoff, the last one of that day (or of the part before it)
    by_day: dict[date, datetime] = {}
    for o in hourly:
        if o.observed_at < cutoff:
            by_day[o.observed_at.date()] = o.observed_at
    assert old == sorted(by_day.values())
    with engine.begin() as conn:
        assert thin_observations(conn, NOW, 7) == 0  # thinning again removes nothing


@pytest.mark.parametrize("since, until", [(NOW, NOW), (NOW, NOW - timedelta(hours=1))])
def test_an_empty_window_is_refused(since, until):
    with pytest.raises(ValueError, match="empty window"):
        Span(since, until)


def test_a_source_that_can_look_up_but_not_search_without_credentials_still_refreshes(engine):
    run_stage(engine, [ListSource("bluesky", [mention("bluesky", "b1", "1")])])

    class SignedOut(ListSource):
        def mentions(self, window):
            raise MissingCredentials("bluesky search needs HOTPAPERS_BSKY_HANDLE")
            yield

    source = SignedOut("bluesky", [], gone=["b1"])
    fetched = run_stage(engine, [source])
    outcome = fetched.outcomes[0]
    assert outcome.error is None and outcome.deleted == 1
    assert outcome.notes == ["not searched: bluesky search needs HOTPAPERS_BSKY_HANDLE"]


@postgres_only("a server time zone other than UTC is a PostgreSQL setting")
def test_thinning_cuts_utc_days_whatever_the_servers_time_zone(db_url):
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = make_url(db_url).database
    with create_engine(db_url, isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(text(f"ALTER DATABASE \"{name}\" SET timezone TO 'America/New_York'"))
    engine = connect(db_url)
    try:
        test_thinning_keeps_recent_detail_and_the_last_observation_of_each_older_day(engine)
    finally:
        engine.dispose()


def test_a_short_window_is_not_compared_with_long_ones(engine):
    run_stage(engine, [ListSource("hn", [mention("hn", f"h{i}", "1") for i in range(4)])])
    with recorded_run(engine, "fetch mentions", lambda: NOW) as run:
        hour = Span(NOW - timedelta(hours=1), NOW)
        fetched = fetch_mentions(engine, [ListSource("hn", [])], hour, lambda: NOW, run,
                                 refresh=False)
    assert fetched.outcomes[0].notes == []  # 4 a day is 0.17 an hour: nothing to warn about


def test_a_source_that_did_not_search_does_not_warn(engine):
    run_stage(engine, [ListSource("x", [mention("x", f"t{i}", "1") for i in range(4)])])
    quiet = ListSource("x", [])
    quiet.report.searched = False  # e.g. X: the window is older than recent search reaches
    fetched = run_stage(engine, [quiet], refresh=False)
    assert fetched.outcomes[0].notes == []


def test_unknown_papers_are_asked_for_while_their_mentions_are_recent(engine):
    asked: list[list[str]] = []

    def papers(ids):
        asked.append(ids)
        return []

    run_stage(engine, [ListSource("hn", [mention("hn", "h1", "2611.09999")])], papers=papers)
    later = NOW + timedelta(days=8)
    with recorded_run(engine, "fetch mentions", lambda: later) as run:
        fetch_mentions(engine, [], WINDOW, lambda: later, run, papers=papers)
    assert asked == [["2611.09999"], []]


def test_p7_ids_arxiv_does_not_answer_are_named_and_recorded(engine, httpserver):
    from fakes import FakeClock
    from hotpapers.config import Settings
    from hotpapers.jobs.fetch_papers import arxiv_http
    from hotpapers.sources.arxiv.api import ArxivApi

    empty = (b'<feed xmlns="http://www.w3.org/2005/Atom" xmlns:opensearch="http://a9.com/-/spec/'
             b'opensearch/1.1/"><opensearch:totalResults>0</opensearch:totalResults></feed>')
    httpserver.expect_request("/api/query").respond_with_data(empty)
    settings = Settings(arxiv_api_url=httpserver.url_for("/api/query"))
    api = ArxivApi(arxiv_http(settings, FakeClock(NOW)), settings.arxiv_api_url)
    ids = [f"2611.{i:05d}" for i in range(1, 13)]
    source = ListSource("hn", [mention("hn", f"h{i}", paper) for i, paper in enumerate(ids)])
    fetched = run_stage(engine, [source], papers=api.papers)
    assert httpserver.log[0][0].args["id_list"].split(",") == ids
    assert (fetched.papers_fetched, fetched.papers_missing) == (0, ids)
    named = ", ".join(ids[:10]) + " and 2 more"
    assert fetched.papers_line() == f"0 papers fetched from arXiv, 12 not found there: {named}"
    with engine.connect() as conn:
        run = load_runs(conn)[0]
    assert run["counts"]["papers not found"] == 12
    assert run["errors"] == [f"arXiv answered nothing for 12 of 12 papers named by mentions: "
                             f"{named}"]
