"""Bounds on HTTP time and size: a deadline per try (a body dripped slowly, a server that
never answers), a largest body, and a time budget per source run; real loopback servers."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from werkzeug import Response

from fakes import FakeClock
from hotpapers.config import Secrets, Settings
from hotpapers.errors import SourceError
from hotpapers.http import Clock, PoliteClient, source_http
from hotpapers.jobs.fetch_mentions import fetch_mentions
from hotpapers.sources.base import Span
from hotpapers.sources.registry import build_sources
from hotpapers.store.db import connect
from hotpapers.store.runs import load_runs, recorded_run

NOW = datetime(2026, 6, 13, tzinfo=UTC)


class SlowServer:
    """A loopback HTTP server that answers each request with headers and then one byte of
    body every `drip` seconds (or, with `drip=None`, never answers at all)."""

    def __init__(self, drip: float | None, length: int = 100_000) -> None:
        self.drip, self.length = drip, length
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slow"

    def _serve(self) -> None:
        self.sock.settimeout(0.1)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:  # closed
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            if self.drip is None:
                self.stop.wait(30)
                return
            try:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                             b"Content-Length: %d\r\n\r\n" % self.length)
                for _ in range(self.length):
                    if self.stop.wait(self.drip):
                        return
                    conn.sendall(b"x")
            except OSError:  # the client gave up: that is the point
                return

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


@pytest.fixture
def slow_server() -> Iterator[type[SlowServer]]:
    made: list[SlowServer] = []

    def make(*args, **kwargs) -> SlowServer:
        server = SlowServer(*args, **kwargs)
        made.append(server)
        return server

    yield make
    for server in made:
        server.close()


def real_client(**kwargs) -> PoliteClient:
    return PoliteClient(httpx.Client(timeout=5.0), retries=0, clock=Clock(),
                        jitter=lambda: 0.0, **kwargs)


def test_p11_a_body_dripped_slowly_ends_at_the_deadline(slow_server):
    server = slow_server(drip=0.02)
    client = real_client(deadline=0.5)
    started = time.monotonic()
    with pytest.raises(SourceError, match=r"slow body: .*0\.5 s.*http_deadline"):
        client.get(server.url, what="slow body")
    assert time.monotonic() - started < 2.0


def test_p11_a_server_that_never_answers_ends_at_the_deadline(slow_server):
    server = slow_server(drip=None)
    client = real_client(deadline=0.5)  # the read timeout alone (5 s) would wait longer
    started = time.monotonic()
    with pytest.raises(SourceError, match="mute: "):
        client.get(server.url, what="mute")
    assert time.monotonic() - started < 2.0


def test_p11_the_deadline_is_measured_with_the_injected_clock(httpserver):
    clock = FakeClock()
    ticking = Clock(monotonic=lambda: clock.t, sleep=clock.sleep, now=clock.now)

    def chunks() -> Iterator[bytes]:
        for _ in range(50):
            clock.t += 1.0  # each chunk "takes" a second
            yield b"x" * 10

    httpserver.expect_request("/q").respond_with_response(Response(chunks()))
    client = PoliteClient(httpx.Client(timeout=5.0), retries=0, clock=ticking, deadline=20.0)
    with pytest.raises(SourceError, match="longer than 20 s"):
        client.get(httpserver.url_for("/q"), what="ticking")


def test_p11_a_50_mb_body_is_refused_without_reading_it_whole(httpserver):
    def big() -> Iterator[bytes]:
        for _ in range(50):
            yield b"0" * 1_000_000

    httpserver.expect_request("/big").respond_with_response(Response(big()))
    client = source_http(Settings(http_retries=0), FakeClock())
    with pytest.raises(SourceError, match=r"big: the answer is larger than 32 MB "
                                          r"\(setting http_max_body_mb\)"):
        client.get(httpserver.url_for("/big"), what="big")


def test_p11_a_declared_length_over_the_limit_is_refused_before_reading(httpserver):
    httpserver.expect_request("/big").respond_with_data("x" * 3000)
    client = PoliteClient(httpx.Client(), retries=0, clock=FakeClock(), max_body=1000)
    with pytest.raises(SourceError, match="larger than"):
        client.get(httpserver.url_for("/big"), what="big")


def test_p11_retries_stop_when_the_source_budget_is_used_up(httpserver):
    httpserver.expect_request("/q").respond_with_data("busy", status=503)
    clock = FakeClock()
    client = PoliteClient(httpx.Client(), retries=10, backoff=5.0, clock=clock,
                          jitter=lambda: 0.0, budget=60.0)
    with pytest.raises(SourceError, match=r"q: .*time budget of 60 s.*source_budget"):
        client.get(httpserver.url_for("/q"), what="q")
    assert sum(clock.sleeps) <= 60.0
    assert client.requests == 4  # 0, 5, 15, 35 s: the next try would start at 75 s


def test_p11_a_source_over_its_budget_fails_and_the_others_go_on(httpserver, db_url):
    httpserver.expect_request("/hf/daily_papers").respond_with_data("busy", status=503)
    httpserver.expect_request("/hn/search_by_date").respond_with_json(
        {"hits": [], "nbPages": 1, "page": 0})
    settings = Settings(hf_api_url=httpserver.url_for("/hf"),
                        hn_api_url=httpserver.url_for("/hn"), http_retries=20,
                        source_interval=0, source_budget=100.0)
    clock = FakeClock(NOW)
    sources = build_sources(["hf", "hn"], settings, Secrets(), clock)
    engine = connect(db_url)
    with recorded_run(engine, "fetch mentions", lambda: NOW) as run:
        fetched = fetch_mentions(engine, sources, Span(NOW - timedelta(days=1), NOW),
                                 lambda: NOW, run, refresh=False)
    with engine.connect() as conn:
        [record] = load_runs(conn, 1)
    engine.dispose()
    hf, hn = fetched.outcomes
    assert hf.error and "time budget of 100 s" in hf.error and "source_budget" in hf.error
    assert hn.error is None
    assert record["status"] == "partial" and "source_budget" in record["errors"][0]
    assert clock.t - 1000.0 <= 100.0
