"""Without a terminal (cron, systemd, CI), `daily` and `fetch` write one time-stamped line
per step and per source to stderr as they go, not only at the end."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from datetime import UTC, datetime

import pytest
from werkzeug import Request, Response

from conftest import FIXTURES

ARXIV = FIXTURES / "arxiv"
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ hotpapers: ")


def hn_story(object_id: str, paper: str) -> dict:
    at = datetime(2024, 3, 5, 3, tzinfo=UTC)
    return {"objectID": object_id, "title": f"Paper {paper}", "author": f"user{object_id}",
            "url": f"https://arxiv.org/abs/{paper}", "points": 120, "num_comments": 3,
            "created_at": at.isoformat().replace("+00:00", "Z"),
            "created_at_i": int(at.timestamp()), "story_text": None}


@pytest.fixture
def sources(httpserver):
    """arXiv's OAI-PMH (one page of cs), Hacker News, and Hugging Face, which answers (503)
    only once the test has read Hacker News' line from the running process."""
    page = (ARXIV / "oai-cs-page1.xml").read_bytes()
    page = re.sub(rb"<resumptionToken[^>]*>[^<]*</resumptionToken>", b"", page)
    httpserver.expect_request("/oai").respond_with_data(page, content_type="text/xml")
    hits = [hn_story("1", "2403.00001"), hn_story("2", "2403.00002")]
    httpserver.expect_request("/hn/search_by_date").respond_with_data(
        json.dumps({"hits": hits, "nbHits": 2, "nbPages": 1, "page": 0, "hitsPerPage": 100}),
        content_type="application/json")
    hn_line_read = threading.Event()
    answered_after_hn_line: list[bool] = []

    def hf(_request: Request) -> Response:
        answered_after_hn_line.append(hn_line_read.wait(30))
        return Response("down", status=503)

    httpserver.expect_request("/hf/daily_papers").respond_with_handler(hf)
    return httpserver, hn_line_read, answered_after_hn_line


def run_logged(args: list[str], env: dict, hn_line_read: threading.Event
               ) -> tuple[int, list[str]]:
    """Run hotpapers with stderr a pipe, reading its lines as they come."""
    process = subprocess.Popen([sys.executable, "-m", "hotpapers", *args], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    try:
        for line in process.stderr:
            lines.append(line.rstrip("\n"))
            if STAMP.match(line) and "hn: " in line:
                hn_line_read.set()
        process.stdout.read()
        return process.wait(60), lines
    finally:
        hn_line_read.set()
        process.kill()
        process.wait()


def environment(db_url, server, tmp_path) -> dict:
    return {k: v for k, v in os.environ.items() if not k.startswith("HOTPAPERS_")} | {
        "HOTPAPERS_DB": db_url, "HOTPAPERS_CATEGORIES": '["cs"]',
        "HOTPAPERS_ARXIV_OAI_URL": server.url_for("/oai"),
        "HOTPAPERS_HN_API_URL": server.url_for("/hn"),
        "HOTPAPERS_HF_API_URL": server.url_for("/hf"),
        "HOTPAPERS_MENTION_SOURCES": '["hn", "hf"]', "HOTPAPERS_SOURCE_INTERVAL": "0",
        "HOTPAPERS_HTTP_RETRIES": "0", "HOTPAPERS_FETCH_MISSING_PAPERS": "false",
        "HOTPAPERS_POSTS_DIR": str(tmp_path / "posts"), "HOTPAPERS_DAILY_METHOD": "hot",
        "HOTPAPERS_HOT_MIN_SCORE": "0", "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "XDG_DATA_HOME": str(tmp_path / "data")}


def positions(lines: list[str], *needles: str) -> list[int]:
    """Where each needle first appears among the time-stamped lines (-1: nowhere)."""
    logged = [line for line in lines if STAMP.match(line)]
    return [next((i for i, line in enumerate(logged) if needle in line), -1)
            for needle in needles]


def test_p22_daily_logs_each_step_and_source_as_it_goes(db_url, sources, tmp_path):
    server, hn_line_read, answered_after_hn_line = sources
    code, lines = run_logged(["daily", "--date", "2024-03-05"],
                             environment(db_url, server, tmp_path), hn_line_read)
    assert code == 0, lines
    found = positions(lines, "papers fetched", "hn: 2 mentions", "hf: ", "mentions fetched",
                      "post written", "published")
    assert -1 not in found and found == sorted(found), lines
    assert answered_after_hn_line == [True]  # the hn line was out while hf was being asked


def test_p22_fetch_logs_each_source_and_page(db_url, sources, tmp_path):
    server, hn_line_read, answered_after_hn_line = sources
    env = environment(db_url, server, tmp_path)
    code, lines = run_logged(["fetch", "mentions", "--source", "hn", "--source", "hf",
                              "--since", "2024-03-05", "--until", "2024-03-06"], env,
                             hn_line_read)
    assert code == 0, lines
    found = positions(lines, "hn: 2 mentions", "hf: ")
    assert -1 not in found and found == sorted(found), lines
    assert answered_after_hn_line == [True]
    code, lines = run_logged(["fetch", "papers", "--date", "2024-03-05"], env, hn_line_read)
    assert code == 0, lines
    assert -1 not in positions(lines, "listing of 2024-03-05", "records")
