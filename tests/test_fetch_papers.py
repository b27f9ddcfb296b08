"""`fetch papers` against a real HTTP server on loopback serving recorded and own bodies."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from werkzeug import Response

from conftest import FIXTURES, shared_path
from fakes import FakeClock
from hotpapers.config import Settings
from hotpapers.errors import NothingToDo, SourceError
from hotpapers.jobs.fetch_papers import arxiv_http, fetch_papers
from hotpapers.store.listings import load_listing
from hotpapers.store.papers import load_papers
from hotpapers.store.runs import load_runs, recorded_run
from hotpapers.store.schema import metadata

ARXIV = FIXTURES / "arxiv"
TUESDAY = date(2024, 3, 5)
ON_TUESDAY = datetime(2024, 3, 5, 12, tzinfo=UTC)   # the 2024-03-05 listing is the latest
A_WEEK_LATER = datetime(2024, 3, 12, 10, tzinfo=UTC)
OAI_START = {"verb": "ListRecords", "metadataPrefix": "arXivRaw", "from": "2024-02-29"}


@pytest.fixture
def settings(httpserver) -> Settings:
    return Settings(arxiv_api_url=httpserver.url_for("/api/query"),
                    arxiv_oai_url=httpserver.url_for("/oai"),
                    arxiv_rss_url=httpserver.url_for("/rss"), contact_email="ops@example.org")


def run_fetch(engine, settings, day, now, clock=None):
    http = arxiv_http(settings, clock=clock or FakeClock(now))
    with recorded_run(engine, "fetch papers", lambda: now) as run:
        return fetch_papers(engine, http, day, settings, now, run), http


def listing(engine, day=TUESDAY):
    with engine.connect() as conn:
        return load_listing(conn, day)


def serve_feed(httpserver, feed: bytes, details: bytes):
    httpserver.expect_request("/rss/cs+stat.ML").respond_with_data(
        feed, content_type="application/rss+xml")
    httpserver.expect_request("/api/query").respond_with_data(
        details, content_type="application/atom+xml")


def test_current_listing_comes_from_the_feed_with_api_details(engine, httpserver, settings):
    serve_feed(httpserver, (ARXIV / "rss-cs+stat.ML.xml").read_bytes(),
               (ARXIV / "api-details.xml").read_bytes())
    clock = FakeClock(ON_TUESDAY)
    fetched, http = run_fetch(engine, settings, TUESDAY, ON_TUESDAY, clock)
    assert listing(engine) == [("2403.00001", "new"), ("2403.00007", "new"),
                               ("2403.00002", "cross"), ("2402.11111", "replace")]
    assert fetched.summary().startswith("2 new, 1 cross-listed, 1 replaced, 0 unchanged")
    api_call = httpserver.log[1][0]
    assert api_call.args["id_list"] == "2403.00001,2403.00007,2403.00002,2402.11111"
    assert api_call.headers["User-Agent"].endswith("(mailto:ops@example.org)")
    assert http.requests == 2 and clock.sleeps == [3.0]
    with engine.connect() as conn:
        papers = load_papers(conn, ["2403.00001", "2403.00007", "2402.11111", "2403.00002"])
    ada = papers["2403.00001"]
    assert ada.title == "Weekend Lanterns: Attention on Saturdays"
    assert ada.comments == "12 pages" and ada.announced_on == TUESDAY
    assert ada.submitted_at == datetime(2024, 3, 2, 10, tzinfo=UTC)
    assert papers["2403.00007"].abstract == "Only the feed describes it."
    assert papers["2403.00002"].categories == ["math.OC", "cs.LG"]
    revised = papers["2402.11111"]
    assert (revised.latest_version, revised.journal_ref) == (2, "Journal of Examples 1 (2024)")
    assert revised.announced_on is None  # a replacement is not announced as new


def dump(engine):
    """Every table but the run records and the change stamps (a write may bump them)."""
    with engine.connect() as conn:
        return {name: sorted(map(repr, conn.execute(select(table)).all()))
                for name, table in metadata.tables.items()
                if name not in ("runs", "change_stamps")}


def test_fetching_again_changes_nothing(engine, httpserver, settings):
    serve_feed(httpserver, (ARXIV / "rss-cs+stat.ML.xml").read_bytes(),
               (ARXIV / "api-details.xml").read_bytes())
    run_fetch(engine, settings, TUESDAY, ON_TUESDAY)
    before = dump(engine)
    again, _ = run_fetch(engine, settings, TUESDAY, datetime(2024, 3, 5, 13, tzinfo=UTC))
    assert dump(engine) == before
    assert again.summary().startswith("0 new, 0 cross-listed, 0 replaced, 4 unchanged")


def serve_harvest(httpserver, second_page=None):
    httpserver.expect_request("/oai", query_string={**OAI_START, "set": "cs"}).respond_with_data(
        (ARXIV / "oai-cs-page1.xml").read_bytes(), content_type="text/xml")
    token = {"verb": "ListRecords", "resumptionToken": "cs-token-2"}
    handler = httpserver.expect_request("/oai", query_string=token)
    if second_page is None:
        handler.respond_with_data((ARXIV / "oai-cs-page2.xml").read_bytes())
    else:
        handler.respond_with_response(second_page)
    httpserver.expect_request("/oai", query_string={**OAI_START, "set": "stat"}
                              ).respond_with_data((ARXIV / "oai-stat-page1.xml").read_bytes())


EXPECTED_HARVEST = [("2403.00001", "new"), ("2403.00006", "new"), ("2403.00002", "cross"),
                    ("2402.11111", "replace")]


def test_a_past_day_is_harvested_from_oai_pmh(engine, httpserver, settings):
    serve_harvest(httpserver)
    clock = FakeClock(A_WEEK_LATER)
    fetched, http = run_fetch(engine, settings, TUESDAY, A_WEEK_LATER, clock)
    assert listing(engine) == EXPECTED_HARVEST
    assert fetched.via == "oai-pmh"
    assert fetched.summary() == "2 new, 1 cross-listed, 1 replaced, 0 unchanged"
    assert http.requests == 3 and clock.sleeps == [3.0, 3.0]
    with engine.connect() as conn:
        papers = load_papers(conn, [p for p, _ in EXPECTED_HARVEST])
    assert papers["2403.00001"].authors == ["Ada Example", "Brook Sample", "Cy Placeholder"]
    assert papers["2403.00001"].abstract == ("A paper submitted on a Saturday is announced "
                                             "with the Monday cutoff.")
    assert papers["2403.00006"].withdrawn is True
    assert [(v.number, v.submitted_at) for v in papers["2402.11111"].versions] == [
        (1, datetime(2024, 2, 15, 9, 30, tzinfo=UTC)), (2, datetime(2024, 3, 3, 12, tzinfo=UTC))]


def test_an_interrupted_harvest_continues_from_its_token(engine, httpserver, settings):
    serve_harvest(httpserver, second_page=Response("busy", status=503))
    with pytest.raises(SourceError, match="resumptionToken=cs-token-2: HTTP 503 after 5 tries"):
        run_fetch(engine, settings, TUESDAY, A_WEEK_LATER)
    with engine.connect() as conn:
        failed = load_runs(conn)[0]
    assert failed["status"] == "failed" and failed["cursors"]["token"] == "cs-token-2"
    assert failed["cursors"]["staged"] == 2  # page 1 is kept, staged
    assert listing(engine) == []  # the day's listing changes only when the harvest is complete
    httpserver.clear()
    serve_harvest(httpserver)
    run_fetch(engine, settings, TUESDAY, A_WEEK_LATER)
    asked = [request.args.get("set") or request.args.get("resumptionToken")
             for request, _ in httpserver.log]
    assert asked == ["cs-token-2", "stat"]
    assert listing(engine) == EXPECTED_HARVEST


@pytest.mark.parametrize(("day", "now", "reason"), [
    (date(2024, 3, 9), A_WEEK_LATER, "no listing that day"),
    (date(2024, 11, 29), datetime(2024, 12, 9, tzinfo=UTC), "no listing that day"),
    (date(2024, 3, 13), A_WEEK_LATER, "not announced yet (the latest listing is 2024-03-12)"),
])
def test_days_without_a_listing_are_nothing_to_do(engine, settings, day, now, reason):
    settings.arxiv_holidays = [date(2024, 11, 28)]
    with pytest.raises(NothingToDo, match=re.escape(reason)):
        run_fetch(engine, settings, day, now)
    with engine.connect() as conn:
        assert load_runs(conn)[0]["status"] == "nothing"


def test_a_malformed_feed_names_the_request(engine, httpserver, settings):
    serve_feed(httpserver, b"<rss><channel><item>", b"")
    with pytest.raises(SourceError, match=r"arXiv feed http://localhost:\d+/rss/cs\+stat.ML: "
                                          r"malformed XML at line 1"):
        run_fetch(engine, settings, TUESDAY, ON_TUESDAY)
    assert listing(engine) == []


def test_an_oai_error_names_its_code(engine, httpserver, settings):
    httpserver.expect_request("/oai").respond_with_data(
        b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><error code="badArgument">'
        b"Illegal set</error></OAI-PMH>")
    with pytest.raises(SourceError, match="OAI-PMH error badArgument: Illegal set"):
        run_fetch(engine, settings, TUESDAY, A_WEEK_LATER)


def test_the_real_announcement_feed(engine, httpserver, settings):
    feed = shared_path("fixtures", "real", "arxiv-rss",
                       "rss-cs.LG+cs.AI+cs.CL+stat.ML.2026-09-24.trimmed-upstream-4-items.xml")
    empty = shared_path("fixtures", "real", "arxiv-api", "query-id_list-0000.0000.empty.atom.xml")
    serve_feed(httpserver, feed.read_bytes(), empty.read_bytes())
    day, now = date(2026, 9, 24), datetime(2026, 9, 24, 9, tzinfo=UTC)
    fetched, _ = run_fetch(engine, settings, day, now)
    assert fetched.summary() == ("2 new, 1 cross-listed, 1 replaced, 0 unchanged (no details "
                                 "from the export API for 4 of 4 papers: 2609.26811, "
                                 "2609.26820, 2205.06398, 2009.13987)")
    assert listing(engine, day) == [("2609.26811", "new"), ("2609.26820", "new"),
                                    ("2205.06398", "cross"), ("2009.13987", "replace")]
    with engine.connect() as conn:
        cross = load_papers(conn, ["2205.06398"])["2205.06398"]
    assert cross.categories == ["stat.ME", "stat.AP", "stat.ML"]
    assert cross.doi == "10.1093/bioinformatics/btac431"


def test_a_harvest_failing_in_its_second_set_continues_with_that_set(engine, httpserver,
                                                                      settings):
    serve_harvest(httpserver)
    httpserver.clear()
    httpserver.expect_request("/oai", query_string={**OAI_START, "set": "cs"}).respond_with_data(
        (ARXIV / "oai-cs-page1.xml").read_bytes())
    httpserver.expect_request("/oai", query_string={"verb": "ListRecords",
                                                    "resumptionToken": "cs-token-2"}
                              ).respond_with_data((ARXIV / "oai-cs-page2.xml").read_bytes())
    httpserver.expect_request("/oai", query_string={**OAI_START, "set": "stat"}
                              ).respond_with_response(Response("down", status=500))
    with pytest.raises(SourceError):
        run_fetch(engine, settings, TUESDAY, A_WEEK_LATER)
    httpserver.clear()
    serve_harvest(httpserver)
    fetched, _ = run_fetch(engine, settings, TUESDAY, A_WEEK_LATER)
    assert [r.args.get("set") for r, _ in httpserver.log] == ["stat"]  # cs is not asked again
    assert listing(engine) == EXPECTED_HARVEST
    assert fetched.summary() == "1 new, 0 cross-listed, 0 replaced, 1 unchanged"


def test_a_finished_run_is_not_resumed(engine, httpserver, settings):
    serve_harvest(httpserver)
    run_fetch(engine, settings, TUESDAY, A_WEEK_LATER)
    first = len(httpserver.log)
    fetched, _ = run_fetch(engine, settings, TUESDAY, A_WEEK_LATER)
    assert len(httpserver.log) == 2 * first  # the whole harvest again, from the start
    assert fetched.summary() == "0 new, 0 cross-listed, 0 replaced, 4 unchanged"


BAD_TOKEN = (b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><error '
             b'code="badResumptionToken">expired</error></OAI-PMH>')


def test_an_expired_token_restarts_its_set(engine, httpserver, settings):
    serve_harvest(httpserver, second_page=Response("busy", status=503))
    with pytest.raises(SourceError):
        run_fetch(engine, settings, TUESDAY, A_WEEK_LATER)
    httpserver.clear()
    httpserver.expect_ordered_request("/oai", query_string={
        "verb": "ListRecords", "resumptionToken": "cs-token-2"}).respond_with_data(BAD_TOKEN)
    serve_harvest(httpserver)
    run_fetch(engine, settings, TUESDAY, A_WEEK_LATER)
    asked = [r.args.get("set") or r.args.get("resumptionToken") for r, _ in httpserver.log]
    assert asked == ["cs-token-2", "cs", "cs-token-2", "stat"]
    assert listing(engine) == EXPECTED_HARVEST


def test_other_categories_neither_resume_nor_keep_an_old_listing(engine, httpserver, settings):
    serve_harvest(httpserver, second_page=Response("busy", status=503))
    with pytest.raises(SourceError):
        run_fetch(engine, settings, TUESDAY, A_WEEK_LATER)
    httpserver.clear()
    serve_harvest(httpserver)
    run_fetch(engine, settings.model_copy(update={"categories": ["stat.ML"]}), TUESDAY,
              A_WEEK_LATER)
    assert [r.args.get("set") for r, _ in httpserver.log] == ["stat"]
    assert listing(engine) == [("2403.00006", "new"), ("2403.00001", "cross")]


def test_the_feed_alone_serves_when_the_api_is_down(engine, httpserver, settings):
    httpserver.expect_request("/rss/cs+stat.ML").respond_with_data(
        (ARXIV / "rss-cs+stat.ML.xml").read_bytes())
    httpserver.expect_request("/api/query").respond_with_data("down", status=502)
    fetched, _ = run_fetch(engine, settings, TUESDAY, ON_TUESDAY)
    assert fetched.summary() == "2 new, 1 cross-listed, 1 replaced, 0 unchanged"
    with engine.connect() as conn:
        run = load_runs(conn)[0]
        ada = load_papers(conn, ["2403.00001"])["2403.00001"]
    assert run["status"] == "partial" and "export API incomplete" in run["errors"][0]
    assert ada.abstract.startswith("A paper submitted on a Saturday") and ada.comments is None


def test_a_feed_not_yet_rebuilt_is_an_error_to_retry(engine, httpserver, settings):
    serve_feed(httpserver, (ARXIV / "rss-cs+stat.ML.xml").read_bytes(), b"")
    wednesday = datetime(2024, 3, 6, 2, tzinfo=UTC)  # announced at 01:00 UTC, feed not rebuilt
    with pytest.raises(SourceError, match="still shows the listing of 2024-03-05, not "
                                          "2024-03-06; try again later"):
        run_fetch(engine, settings, date(2024, 3, 6), wednesday)


def test_metadata_added_later_is_stored(engine, httpserver, settings):
    serve_feed(httpserver, (ARXIV / "rss-cs+stat.ML.xml").read_bytes(),
               (ARXIV / "api-details.xml").read_bytes())
    run_fetch(engine, settings, TUESDAY, ON_TUESDAY)
    httpserver.clear()
    serve_harvest(httpserver)
    fetched, _ = run_fetch(engine, settings, TUESDAY, A_WEEK_LATER)
    with engine.connect() as conn:
        ada = load_papers(conn, ["2403.00001"])["2403.00001"]
    assert [(v.number, v.size) for v in ada.versions] == [(1, "812kb")]  # from the harvest
    assert ada.comments == "12 pages"
    # every paper gained what the feed and the API did not say (sizes, 2403.00006 itself)
    assert fetched.summary() == "2 new, 1 cross-listed, 1 replaced, 0 unchanged"


def test_p8_a_bad_feed_date_is_one_line_at_the_cli(cli, httpserver, monkeypatch):
    from hotpapers.sources.arxiv.schedule import latest_listing_date

    day = latest_listing_date(datetime.now(UTC), [])
    feed = (ARXIV / "rss-cs+stat.ML.xml").read_bytes().replace(
        b"Tue, 05 Mar 2024 00:00:00 -0500", b"Thu, 99 Foo 2026")
    httpserver.expect_request("/rss/cs+stat.ML").respond_with_data(feed)
    monkeypatch.setenv("HOTPAPERS_ARXIV_RSS_URL", httpserver.url_for("/rss"))
    monkeypatch.setenv("HOTPAPERS_ARXIV_HOLIDAYS", "[]")
    result = cli("fetch", "papers", "--date", day.isoformat())
    assert result.code == 1
    assert "Traceback" not in result.err
    # without a terminal, progress lines come first; the error is one line, the last
    [line] = [x for x in result.err.splitlines() if x.startswith("hotpapers: error")]
    assert result.err.splitlines()[-1] == line
    assert "<pubDate> is not a date: 'Thu, 99 Foo 2026'" in line


def test_p7_papers_the_export_api_does_not_answer_are_reported(engine, httpserver, settings):
    serve_feed(httpserver, (ARXIV / "rss-cs+stat.ML.xml").read_bytes(),
               (ARXIV / "api-details.xml").read_bytes())  # it lacks 2403.00007
    fetched, _ = run_fetch(engine, settings, TUESDAY, ON_TUESDAY)
    note = "no details from the export API for 1 of 4 papers: 2403.00007"
    assert fetched.summary() == f"2 new, 1 cross-listed, 1 replaced, 0 unchanged ({note})"
    with engine.connect() as conn:
        run = load_runs(conn)[0]
    assert run["status"] == "partial" and run["errors"] == [note]
    assert run["counts"]["details missing"] == 1


def test_p7_an_empty_answer_for_many_ids_names_some_of_them(engine, httpserver, settings):
    items = b"".join(
        b"<item><title>P%d</title><link>https://arxiv.org/abs/2403.%05d</link><description>"
        b"arXiv:2403.%05dv1 Announce Type: new Abstract: A.</description><category>cs.LG"
        b"</category><arxiv:announce_type>new</arxiv:announce_type></item>" % (i, i, i)
        for i in range(1, 15))
    feed = (b'<rss xmlns:arxiv="http://arxiv.org/schemas/atom" version="2.0"><channel>'
            b"<pubDate>Tue, 05 Mar 2024 00:00:00 -0500</pubDate>" + items + b"</channel></rss>")
    empty = (b'<feed xmlns="http://www.w3.org/2005/Atom" xmlns:opensearch="http://a9.com/-/spec/'
             b'opensearch/1.1/"><opensearch:totalResults>0</opensearch:totalResults></feed>')
    serve_feed(httpserver, feed, empty)
    fetched, _ = run_fetch(engine, settings, TUESDAY, ON_TUESDAY)
    ids = ", ".join(f"2403.{i:05d}" for i in range(1, 11))
    assert fetched.summary().endswith(f"(no details from the export API for 14 of 14 papers: "
                                      f"{ids} and 4 more)")
