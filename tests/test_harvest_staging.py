"""A past day's listing is replaced only by a complete harvest: pages are staged per
harvest (resumable), then swapped in with one transaction. Loopback servers that fail
with 503 or close the connection; the issue's repro at the CLI."""

from __future__ import annotations

import socket
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from werkzeug import Request, Response

import test_fetch_papers
from hotpapers.errors import SourceError
from hotpapers.store.runs import load_runs
from test_fetch_papers import (
    A_WEEK_LATER,
    ARXIV,
    EXPECTED_HARVEST,
    OAI_START,
    ON_TUESDAY,
    TUESDAY,
    listing,
    run_fetch,
    serve_feed,
    serve_harvest,
)

settings = test_fetch_papers.settings  # the fixture: loopback URLs for every arXiv interface
FEED_LISTING = [("2403.00001", "new"), ("2403.00007", "new"), ("2403.00002", "cross"),
                ("2402.11111", "replace")]


def staged(engine) -> list[tuple[str, str]]:
    from hotpapers.store.schema import listing_staging

    with engine.connect() as conn:
        rows = conn.execute(select(listing_staging.c.paper_id, listing_staging.c.announce_type)
                            .order_by(listing_staging.c.paper_id))
        return [tuple(row) for row in rows]


@pytest.fixture
def closing_server():
    """A loopback server that accepts each connection and closes it without a word."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/oai"
    stop.set()
    server.close()
    thread.join(timeout=5)


def fetch_the_feed_listing(engine, httpserver, settings):
    serve_feed(httpserver, (ARXIV / "rss-cs+stat.ML.xml").read_bytes(),
               (ARXIV / "api-details.xml").read_bytes())
    run_fetch(engine, settings, TUESDAY, ON_TUESDAY)
    httpserver.clear()
    assert listing(engine) == FEED_LISTING


def test_p1_a_harvest_refused_with_503_keeps_the_stored_listing(engine, httpserver, settings):
    fetch_the_feed_listing(engine, httpserver, settings)
    httpserver.expect_request("/oai").respond_with_response(Response("busy", status=503))
    with pytest.raises(SourceError, match="HTTP 503"):
        run_fetch(engine, settings.model_copy(update={"http_retries": 0}), TUESDAY,
                  A_WEEK_LATER)
    assert listing(engine) == FEED_LISTING


def test_p1_a_harvest_whose_server_hangs_up_keeps_the_stored_listing(engine, httpserver,
                                                                    settings, closing_server):
    fetch_the_feed_listing(engine, httpserver, settings)
    broken = settings.model_copy(update={"http_retries": 0, "arxiv_oai_url": closing_server})
    with pytest.raises(SourceError, match="OAI-PMH ListRecords set=cs"):
        run_fetch(engine, broken, TUESDAY, A_WEEK_LATER)
    assert listing(engine) == FEED_LISTING


def test_p1_a_complete_harvest_replaces_the_listing_at_once(engine, httpserver, settings):
    fetch_the_feed_listing(engine, httpserver, settings)
    seen_during: list = []

    def second_page(request: Request) -> Response:  # the harvest is half done here
        seen_during.append(listing(engine))
        return Response((ARXIV / "oai-cs-page2.xml").read_bytes(), content_type="text/xml")

    serve_harvest(httpserver)
    httpserver.clear()
    httpserver.expect_request("/oai", query_string={**OAI_START, "set": "cs"}).respond_with_data(
        (ARXIV / "oai-cs-page1.xml").read_bytes())
    httpserver.expect_request("/oai", query_string={
        "verb": "ListRecords", "resumptionToken": "cs-token-2"}).respond_with_handler(second_page)
    httpserver.expect_request("/oai", query_string={**OAI_START, "set": "stat"}
                              ).respond_with_data((ARXIV / "oai-stat-page1.xml").read_bytes())
    run_fetch(engine, settings, TUESDAY, A_WEEK_LATER)
    assert seen_during == [FEED_LISTING]  # not cleared, not half-replaced
    assert listing(engine) == EXPECTED_HARVEST  # 2403.00007 is not in the day's harvest
    assert staged(engine) == []


def test_p1_an_interrupted_harvest_resumes_from_its_staged_pages(engine, httpserver, settings):
    fetch_the_feed_listing(engine, httpserver, settings)
    serve_harvest(httpserver, second_page=Response("busy", status=503))
    with pytest.raises(SourceError, match="resumptionToken=cs-token-2"):
        run_fetch(engine, settings.model_copy(update={"http_retries": 0}), TUESDAY,
                  A_WEEK_LATER)
    assert listing(engine) == FEED_LISTING
    assert staged(engine) == [("2403.00001", "new"), ("2403.00002", "cross")]  # page 1
    with engine.connect() as conn:
        failed = load_runs(conn)[0]["cursors"]
    httpserver.clear()
    serve_harvest(httpserver)
    run_fetch(engine, settings, TUESDAY, A_WEEK_LATER)
    asked = [r.args.get("set") or r.args.get("resumptionToken") for r, _ in httpserver.log]
    assert asked == ["cs-token-2", "stat"]
    assert listing(engine) == EXPECTED_HARVEST and staged(engine) == []
    with engine.connect() as conn:
        assert load_runs(conn)[0]["cursors"]["harvest"] == failed["harvest"]


def test_p1_a_fresh_harvest_does_not_reuse_another_harvests_pages(engine, httpserver,
                                                                 settings):
    serve_harvest(httpserver, second_page=Response("busy", status=503))
    with pytest.raises(SourceError):
        run_fetch(engine, settings.model_copy(update={"http_retries": 0}), TUESDAY,
                  A_WEEK_LATER)
    httpserver.clear()
    serve_harvest(httpserver)
    only_stat = settings.model_copy(update={"categories": ["stat.ML"]})
    run_fetch(engine, only_stat, TUESDAY, A_WEEK_LATER)
    assert listing(engine) == [("2403.00006", "new"), ("2403.00001", "cross")]
    assert staged(engine) == [("2403.00001", "new"), ("2403.00002", "cross")]  # cs's, kept


def test_p1_the_issue_repro_keeps_the_imported_listing(cli, engine, corpus_dir,
                                                       closing_server, monkeypatch):
    post = corpus_dir / "2020-12-29---Hot-Papers.md"
    assert cli("import", "legacy", post).code == 0
    day = date(2020, 12, 29)
    before = listing(engine, day)
    assert len(before) == 14
    monkeypatch.setenv("HOTPAPERS_ARXIV_OAI_URL", closing_server)
    monkeypatch.setenv("HOTPAPERS_HTTP_RETRIES", "0")
    result = cli("fetch", "papers", "--date", day.isoformat())
    assert result.code == 1 and "connection" in result.err
    assert listing(engine, day) == before


def test_p1_a_harvest_whose_staged_pages_were_dropped_starts_again(engine, httpserver,
                                                                  settings):
    from hotpapers.store.listings import drop_stale_staging

    serve_harvest(httpserver, second_page=Response("busy", status=503))
    with pytest.raises(SourceError):
        run_fetch(engine, settings.model_copy(update={"http_retries": 0}), TUESDAY,
                  A_WEEK_LATER)
    with engine.begin() as conn:  # e.g. judged abandoned by a later harvest
        assert drop_stale_staging(conn, A_WEEK_LATER + timedelta(days=30)) == 2
    httpserver.clear()
    serve_harvest(httpserver)
    run_fetch(engine, settings, TUESDAY, A_WEEK_LATER)
    asked = [r.args.get("set") or r.args.get("resumptionToken") for r, _ in httpserver.log]
    assert asked == ["cs", "cs-token-2", "stat"]  # not a listing without page 1
    assert listing(engine) == EXPECTED_HARVEST
