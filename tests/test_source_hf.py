"""The Hugging Face daily papers source: pure parsing of two real recorded lists and of our
own fixtures, and the source against a loopback HTTP server.

Our fixtures follow the shape of the real lists (an entry wraps a `paper` object; the entry
holds numComments and submittedBy); `not-an-arxiv-paper` is a made-up id standing for a
paper page that has no arXiv id."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from conftest import shared_path
from fakes import FakeClock
from hotpapers.config import Secrets, Settings
from hotpapers.errors import SourceError
from hotpapers.models import Account
from hotpapers.sources.base import MentionSource, Span
from hotpapers.sources.hf import (
    HuggingFaceSource,
    NotArxiv,
    parse_daily_papers,
    parse_entry,
    parse_paper,
    window_days,
)

FIXTURES = Path(__file__).with_name("fixtures") / "hf"
REAL = ("fixtures", "real", "hf-daily-papers")
SEEN_AT = datetime(2026, 6, 14, 9, tzinfo=UTC)
JUNE_12 = Span(datetime(2026, 6, 12, tzinfo=UTC), datetime(2026, 6, 13, tzinfo=UTC))
TWO_DAYS = Span(datetime(2026, 6, 12, tzinfo=UTC), datetime(2026, 6, 14, tzinfo=UTC))


def fixture(name: str):
    return json.loads((FIXTURES / name).read_text())


def real(name: str):
    return json.loads(shared_path(*REAL, name).read_text())


def source(server: HTTPServer, clock: FakeClock, **settings) -> HuggingFaceSource:
    values = {"hf_api_url": server.url_for("/api"), "source_interval": 0,
              "http_retries": 2, "http_timeout": 2.0, **settings}
    return HuggingFaceSource(Settings(**values), Secrets(), clock=clock)


def serve_days(server: HTTPServer, days: dict[str, list], seen: list[dict]) -> None:
    """Answer daily_papers with the list of the date asked for ([] for other dates)."""
    def answer(request: Request) -> Response:
        seen.append(dict(request.args))
        return Response(json.dumps(days.get(request.args["date"], [])),
                        content_type="application/json")

    server.expect_request("/api/daily_papers").respond_with_handler(answer)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=SEEN_AT)


# --- the real recorded bodies ----------------------------------------------------------

def test_real_list_of_30_entries_makes_30_mentions():
    entries = parse_daily_papers(real("api-daily_papers.2026-06-12.30-entries.json"),
                                 date(2026, 6, 12))
    mentions = [parse_entry(e, SEEN_AT) for e in entries]
    assert len(mentions) == 30
    first = mentions[0]
    assert (first.native_id, first.paper_ids) == ("2606.00467", ["2606.00467"])
    assert first.permalink == "https://huggingface.co/papers/2606.00467"
    assert first.account == Account("hf", "RKocielnik", "RKocielnik", "Rafal Kocielnik")
    assert first.text.startswith("On the Limits of LLM Adaptability")
    assert first.created_at == datetime(2026, 6, 12, tzinfo=UTC)
    assert first.kind == "upvote-page"
    assert (first.observations[0].points, first.observations[0].replies) == (0, 2)
    by_id = {m.native_id: m for m in mentions}
    assert (by_id["2606.13392"].observations[0].points,
            by_id["2606.13392"].observations[0].replies) == (103, 4)
    assert by_id["2606.13681"].observations[0].points == 118
    assert by_id["2606.13289"].account.native_id == "zgzaacm"


def test_real_pretty_printed_list_of_3_entries():
    entries = real("api-daily_papers.2026-08-03.3-entries.pretty-printed.json")
    mentions = [parse_entry(e, SEEN_AT) for e in parse_daily_papers(entries, date(2026, 8, 3))]
    assert [m.native_id for m in mentions] == ["2607.26654", "2607.28229", "2607.27851"]
    first = mentions[0]
    assert first.account == Account("hf", "hunarbatra", "hunarbatra", "Hunar Batra")
    assert first.text == "Constitutional Midtraining: Content Presence Drives Alignment Gains"
    assert (first.observations[0].points, first.observations[0].replies) == (3, 1)
    assert mentions[1].account.native_id == "luigi-s"
    assert mentions[1].observations[0].points == 4


def test_the_real_list_served_for_its_date(httpserver, clock):
    serve_days(httpserver, {"2026-06-12": real("api-daily_papers.2026-06-12.30-entries.json")},
               [])
    hf = source(httpserver, clock)
    assert len(list(hf.mentions(JUNE_12))) == 30
    assert hf.report.requests == 1
    assert hf.report.notes == []


# --- pure parsing ----------------------------------------------------------------------

def test_window_days_are_the_utc_dates_the_window_overlaps():
    assert window_days(TWO_DAYS) == [date(2026, 6, 12), date(2026, 6, 13)]
    assert window_days(JUNE_12) == [date(2026, 6, 12)]  # until is excluded
    evening = Span(datetime(2026, 6, 12, 18, tzinfo=UTC), datetime(2026, 6, 13, 6, tzinfo=UTC))
    assert window_days(evening) == [date(2026, 6, 12), date(2026, 6, 13)]
    assert window_days(TWO_DAYS, today=date(2026, 6, 12)) == [date(2026, 6, 12)]


def test_an_entry_without_an_arxiv_id_is_refused():
    with pytest.raises(NotArxiv):
        parse_entry(fixture("daily_papers.2026-06-13.json")[1], SEEN_AT)
    with pytest.raises(ValueError):
        parse_entry({"title": "no paper object"}, SEEN_AT)


def test_the_paper_answer_makes_the_same_mention_with_new_counts():
    mention = parse_paper(fixture("papers.2606.20001.json"), SEEN_AT)
    assert (mention.native_id, mention.paper_ids) == ("2606.20001", ["2606.20001"])
    assert mention.account == Account("hf", "mira-k", "mira-k", "Mira Kovacs")
    assert mention.created_at == datetime(2026, 6, 12, tzinfo=UTC)
    assert (mention.observations[0].points, mention.observations[0].replies) == (57, None)


# --- the source against a loopback server ----------------------------------------------

def test_one_request_per_utc_date_of_the_window(httpserver, clock):
    seen: list[dict] = []
    serve_days(httpserver, {"2026-06-12": fixture("daily_papers.2026-06-12.json"),
                            "2026-06-13": fixture("daily_papers.2026-06-13.json")}, seen)
    hf = source(httpserver, clock)
    mentions = list(hf.mentions(TWO_DAYS))
    assert seen == [{"date": "2026-06-12", "limit": "100"},
                    {"date": "2026-06-13", "limit": "100"}]
    assert [m.native_id for m in mentions] == [
        "2606.20001", "2606.20002", "2606.20003", "2606.20004"]
    last = mentions[-1]
    assert last.account == Account("hf", "lena-b", "lena-b", "Lena Braun")
    assert last.created_at == datetime(2026, 6, 13, tzinfo=UTC)
    [observed] = last.observations
    assert (observed.points, observed.replies, observed.observed_at) == (9, 5, SEEN_AT)
    assert hf.report.requests == 2
    assert hf.report.notes == ["hf: skipped 1 entry whose id is not an arXiv id"]


def test_the_source_has_the_shape_the_pipeline_expects(httpserver, clock):
    hf = source(httpserver, clock)
    assert isinstance(hf, MentionSource)
    assert hf.name == "hf"


def test_days_after_today_are_not_asked_for(httpserver):
    seen: list[dict] = []
    serve_days(httpserver, {}, seen)
    hf = source(httpserver, FakeClock(start=datetime(2026, 6, 12, 15, tzinfo=UTC)))
    assert list(hf.mentions(TWO_DAYS)) == []
    assert [s["date"] for s in seen] == ["2026-06-12"]


def test_an_empty_day_gives_no_mentions(httpserver, clock):
    serve_days(httpserver, {"2026-06-12": []}, [])
    hf = source(httpserver, clock)
    assert list(hf.mentions(JUNE_12)) == []
    assert hf.report.notes == []


def test_a_paper_is_yielded_once_per_run(httpserver, clock):
    serve_days(httpserver, {"2026-06-12": fixture("daily_papers.2026-06-12.json")}, [])
    hf = source(httpserver, clock)
    assert len(list(hf.mentions(JUNE_12))) == 2
    assert list(hf.mentions(JUNE_12)) == []


def test_a_full_day_is_noted(httpserver, clock):
    template = fixture("daily_papers.2026-06-12.json")[0]
    full = [json.loads(json.dumps(template).replace("2606.20001", f"2606.{30000 + n}"))
            for n in range(100)]
    serve_days(httpserver, {"2026-06-12": full}, [])
    hf = source(httpserver, clock)
    assert len(list(hf.mentions(JUNE_12))) == 100
    assert hf.report.notes == [
        "hf: 2026-06-12 lists 100 papers, as many as one request returns; some may be missing"]


def test_429_with_retry_after_is_waited_out(httpserver, clock):
    httpserver.expect_ordered_request("/api/daily_papers").respond_with_response(
        Response("Too Many Requests", status=429, headers={"Retry-After": "12"}))
    httpserver.expect_ordered_request("/api/daily_papers").respond_with_json(
        fixture("daily_papers.2026-06-12.json"))
    hf = source(httpserver, clock)
    assert len(list(hf.mentions(JUNE_12))) == 2
    assert clock.sleeps == [12.0]
    assert hf.report.requests == 2


def test_a_server_error_is_retried_after_a_backoff(httpserver, clock):
    httpserver.expect_ordered_request("/api/daily_papers").respond_with_data(
        "unavailable", status=503)
    httpserver.expect_ordered_request("/api/daily_papers").respond_with_json(
        fixture("daily_papers.2026-06-12.json"))
    hf = source(httpserver, clock)
    assert len(list(hf.mentions(JUNE_12))) == 2
    [wait] = clock.sleeps
    assert 5.0 <= wait <= 6.25  # 5 s backoff with up to 25 % jitter


def test_a_timeout_fails_the_source(httpserver, clock):
    released = threading.Event()

    def slow(_request: Request) -> Response:
        released.wait(2.0)  # longer than the timeout; set when the test is done
        return Response("[]", content_type="application/json")

    httpserver.expect_request("/api/daily_papers").respond_with_handler(slow)
    hf = source(httpserver, clock, http_timeout=0.1, http_retries=0)
    try:
        with pytest.raises(SourceError) as caught:
            list(hf.mentions(JUNE_12))
    finally:
        released.set()
    assert str(caught.value) == "hf: daily papers of 2026-06-12: timed out after 1 tries"


@pytest.mark.parametrize(("body", "message"), [
    ({"error": "Invalid date"}, "hf: daily papers of 2026-06-12: the answer is a JSON dict, "
                                "not a list"),
    ("[not json", "hf: daily papers of 2026-06-12: the answer is not JSON"),
])
def test_a_malformed_answer_fails_in_one_line(httpserver, clock, body, message):
    if isinstance(body, str):
        httpserver.expect_request("/api/daily_papers").respond_with_data(body)
    else:
        httpserver.expect_request("/api/daily_papers").respond_with_json(body)
    with pytest.raises(SourceError) as caught:
        list(source(httpserver, clock).mentions(JUNE_12))
    assert str(caught.value) == message


def test_a_malformed_entry_is_skipped_and_noted(httpserver, clock):
    serve_days(httpserver, {"2026-06-12": [*fixture("daily_papers.2026-06-12.json"), "odd"]},
               [])
    hf = source(httpserver, clock)
    assert len(list(hf.mentions(JUNE_12))) == 2
    assert hf.report.notes == ["hf: skipped 1 entry (malformed)"]


def test_refresh_reads_upvotes_and_reports_404_gone(httpserver, clock):
    httpserver.expect_request("/api/papers/2606.20001").respond_with_json(
        fixture("papers.2606.20001.json"))
    httpserver.expect_request("/api/papers/2606.29999").respond_with_json(
        {"error": "Paper not found"}, status=404)
    hf = source(httpserver, clock)
    found = hf.refresh(["2606.20001", "2606.29999"])
    assert found.gone == ["2606.29999"]
    [mention] = found.mentions
    assert mention.native_id == "2606.20001"
    assert mention.observations[0].points == 57
    assert hf.report.requests == 2
