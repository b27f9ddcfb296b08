"""The helpers the attention sources share: counting requests, lookups by id, one-line JSON
errors, lenient readers of counts and times, text helpers and the filter of new mentions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from fakes import FakeClock
from hotpapers.config import Settings
from hotpapers.errors import SourceError
from hotpapers.models import Mention
from hotpapers.sources.base import Span
from hotpapers.sources.common import (
    HttpSource,
    NewMentions,
    count,
    first_line,
    json_body,
    one_line,
    parse_time,
    plural,
    utc_time,
)

WINDOW = Span(datetime(2026, 1, 4, tzinfo=UTC), datetime(2026, 1, 5, tzinfo=UTC))
INSIDE = datetime(2026, 1, 4, 12, tzinfo=UTC)


class Probe(HttpSource):
    name = "probe"


def probe(handler: Any) -> Probe:
    settings = Settings(source_interval=0, http_retries=0, http_timeout=1.0)
    return Probe(settings, FakeClock(), httpx.MockTransport(handler))


def answer(body: str, status: int = 200, content_type: str = "application/json"
           ) -> httpx.Response:
    return httpx.Response(status, text=body, headers={"content-type": content_type},
                          request=httpx.Request("GET", "http://test/"))


def mention(native_id: str, created_at: datetime = INSIDE, papers: tuple[str, ...] = ("2601.00001",)
            ) -> Mention:
    return Mention(source="probe", native_id=native_id, paper_ids=list(papers),
                   created_at=created_at)


# --- readers ------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "expected"), [
    (3, 3), (0, 0), (-2, -2), (True, None), (False, None), (2.0, None), ("3", None), (None, None),
])
def test_count_takes_ints_but_not_bools(value, expected):
    assert count(value) == expected


def test_a_zoned_time_is_converted_to_utc():
    assert parse_time("2026-01-04T14:00:00+02:00") == datetime(2026, 1, 4, 12, tzinfo=UTC)
    assert utc_time("2026-01-04T12:00:00.5Z", naive="none") == \
        datetime(2026, 1, 4, 12, 0, 0, 500000, tzinfo=UTC)
    assert parse_time("2026-01-04T12:00:00Z").tzinfo is UTC


def test_a_naive_time_is_utc_or_refused_as_asked():
    assert parse_time("2026-01-04T12:00:00") == INSIDE
    assert utc_time("2026-01-04T12:00:00") == INSIDE
    assert utc_time("2026-01-04T12:00:00", naive="none") is None
    with pytest.raises(ValueError, match="has no zone"):
        parse_time("2026-01-04T12:00:00", naive="none")


@pytest.mark.parametrize("value", [None, 1767528000, "", "yesterday", "2026-13-01T00:00:00Z"])
def test_what_is_no_time_is_none(value):
    assert utc_time(value) is None
    assert utc_time(value, naive="none") is None


def test_parse_time_raises_on_what_is_no_time():
    with pytest.raises(ValueError):
        parse_time("yesterday")
    with pytest.raises(TypeError):
        parse_time(1767528000)  # type: ignore[arg-type]


def test_one_line_folds_white_space_and_first_line_keeps_the_first_line():
    text = "\n\n  Over   capacity\n\tplease retry  \n"
    assert one_line(text) == "Over capacity please retry"
    assert one_line(text, 8) == "Over cap"
    assert first_line(text) == "Over   capacity"
    assert first_line("x" * 300) == "x" * 200
    assert first_line(" \n \n") == "" and one_line("") == ""


def test_plural():
    assert plural(1, "post") == "1 post"
    assert plural(0, "post") == "0 posts"
    assert plural(2, "malformed search hit") == "2 malformed search hits"
    assert plural(1, "entry", "entries") == "1 entry"
    assert plural(3, "entry", "entries") == "3 entries"


# --- JSON bodies --------------------------------------------------------------------------

def test_json_body_returns_the_decoded_body():
    assert json_body(answer('{"a": [1]}'), "probe: x", dict) == {"a": [1]}
    assert json_body(answer("[1, 2]"), "probe: x", list) == [1, 2]
    assert json_body(answer("null"), "probe: x") is None


@pytest.mark.parametrize(("body", "expected_type", "kwargs", "message"), [
    ("<html>down</html>", None, {}, "probe: x: the answer is not JSON"),
    ("[1]", dict, {}, "probe: x: the answer is not a JSON object"),
    ('{"a": 1}', list, {}, "probe: x: the answer is not a JSON list"),
    ("<html>\n down\n</html>", dict, {"detail": lambda r: repr(one_line(r.text, 60))},
     "probe: x: the answer is not JSON ('<html> down </html>')"),
    ("<html>down</html>", dict,
     {"lead": "unexpected answer:", "detail": lambda r: r.headers["content-type"]},
     "probe: x: unexpected answer: not JSON (text/html)"),
    ("[1]", dict, {"lead": "unexpected answer:"}, "probe: x: unexpected answer: not a JSON object"),
])
def test_json_body_fails_in_one_line(body, expected_type, kwargs, message):
    content_type = "text/html" if body.startswith("<") else "application/json"
    with pytest.raises(SourceError) as caught:
        json_body(answer(body, content_type=content_type), "probe: x", expected_type, **kwargs)
    assert str(caught.value) == message


def test_detail_is_asked_only_for_a_body_that_is_not_json():
    def detail(response: httpx.Response) -> str:
        raise AssertionError("not asked")

    assert json_body(answer("{}"), "probe: x", dict, detail=detail) == {}


# --- requests and lookups -----------------------------------------------------------------

def test_requests_are_counted_in_the_report_also_when_they_fail():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404 if request.url.path == "/missing" else 200, json={})

    source = probe(handler)
    assert source._request("GET", "http://test/ok", "probe: ok").status_code == 200
    assert source.report.requests == 1
    with pytest.raises(SourceError, match=r"^probe: missing: HTTP 404"):
        source._request("GET", "http://test/missing", "probe: missing")
    assert source.report.requests == source.http.requests == 2


def parse_thing(body: Any, observed_at: datetime) -> Mention | None:
    if not isinstance(body, dict):
        raise ValueError("not an object")
    if body.get("deleted"):
        return None
    return mention(body["id"], observed_at - timedelta(days=1))


def test_look_up_each_reports_404s_and_nones_as_gone():
    bodies = {"/things/1": {"id": "1"}, "/things/2": {"id": "2", "deleted": True}}

    def handler(request: httpx.Request) -> httpx.Response:
        body = bodies.get(request.url.path)
        return httpx.Response(404) if body is None else httpx.Response(200, json=body)

    source = probe(handler)
    result = source._look_up_each(["1", "2", "3"], "http://test/things", "thing", parse_thing)
    assert [m.native_id for m in result.mentions] == ["1"]
    assert result.gone == ["2", "3"]
    assert source.report.requests == 3


@pytest.mark.parametrize(("body", "message"), [
    ("[1]", "probe: thing 7: not an object"),
    ("oops", "probe: thing 7: the answer is not JSON"),
])
def test_look_up_each_fails_naming_the_request(body, message):
    source = probe(lambda request: httpx.Response(200, text=body))
    with pytest.raises(SourceError) as caught:
        source._look_up_each(["7"], "http://test/things", "thing", parse_thing)
    assert str(caught.value) == message


# --- new mentions -------------------------------------------------------------------------

def test_new_mentions_keep_paper_mentions_of_the_window_once_and_count_nones():
    keep = NewMentions(WINDOW)
    first = [mention("a"), None, mention("b", papers=()), mention("a"),
             mention("c", WINDOW.until), mention("d", WINDOW.since)]
    assert [m.native_id for m in keep(first)] == ["a", "d"]
    assert [m.native_id for m in keep([None, mention("d"), mention("e")])] == ["e"]
    assert keep.malformed == 2


def test_new_mentions_read_lazily():
    read: list[str] = []

    def found():
        for native_id in ("a", "b"):
            read.append(native_id)
            yield mention(native_id)

    kept = NewMentions(WINDOW)(found())
    assert next(kept).native_id == "a" and read == ["a"]


def test_a_time_in_another_zone_counts_in_the_window():
    east = timezone(timedelta(hours=5))
    keep = NewMentions(WINDOW)
    assert [m.native_id for m in keep([mention("a", datetime(2026, 1, 5, 4, tzinfo=east))])] \
        == ["a"]
