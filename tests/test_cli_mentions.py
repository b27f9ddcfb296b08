"""`hotpapers fetch mentions` end to end: real sources against loopback servers, one of
them down, one without credentials; the run record and the summary say what happened."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from werkzeug import Request, Response

from conftest import FIXTURES
from hotpapers.store.db import connect
from hotpapers.store.runs import load_runs
from hotpapers.store.schema import mention_papers, mentions

HN = FIXTURES / "hn"


@pytest.fixture
def sources_env(monkeypatch, httpserver):
    """HN serves its two recorded-format pages; Hugging Face answers 503; X has no token."""
    def hn_page(request: Request) -> Response:
        page = request.args.get("page", "0")
        return Response((HN / f"search_by_date.page{page}.json").read_text(),
                        content_type="application/json")

    httpserver.expect_request("/hn/search_by_date").respond_with_handler(hn_page)
    httpserver.expect_request("/hf/daily_papers").respond_with_data("down", status=503)
    for name, value in {
        "HN_API_URL": httpserver.url_for("/hn"), "HF_API_URL": httpserver.url_for("/hf"),
        "MENTION_SOURCES": json.dumps(["x", "hf", "hn"]), "SOURCE_INTERVAL": "0",
        "HTTP_RETRIES": "0", "FETCH_MISSING_PAPERS": "false",
    }.items():
        monkeypatch.setenv(f"HOTPAPERS_{name}", value)
    monkeypatch.delenv("HOTPAPERS_X_BEARER_TOKEN", raising=False)
    return httpserver


def test_all_sources_complete_with_partial_results_when_one_is_down(cli, sources_env, db_url):
    result = cli("fetch", "mentions", "--source", "all",
                 "--since", "2026-06-12", "--until", "2026-06-13")

    assert result.code == 0, result.err
    assert "x: skipped: " in result.out and "HOTPAPERS_X_BEARER_TOKEN" in result.out
    assert "hn: 5 mentions of 5 papers" in result.out
    assert "hf: 0 mentions" in result.out and "FAILED" in result.out
    assert result.err.count("hotpapers: error: hf: ") == 1 and "503" in result.err
    assert "hf: hf:" not in result.err + result.out
    engine = connect(db_url)
    with engine.connect() as conn:
        stored = set(conn.execute(select(mentions.c.source, mentions.c.native_id)))
        papers = set(conn.execute(select(mention_papers.c.paper_id)).scalars())
        [run] = load_runs(conn, 1)
    engine.dispose()
    assert {source for source, _ in stored} == {"hn"}
    assert "2606.01234" in papers and "2605.04321" in papers
    assert run["command"] == "fetch mentions" and run["status"] == "partial"
    assert run["errors"][0].startswith("hf: ") and "503" in run["errors"][0]
    assert run["counts"]["x"]["skipped"] and run["counts"]["hn"]["mentions"] == 5


def test_the_only_source_asked_for_without_credentials_is_refused(cli, monkeypatch, db_url):
    monkeypatch.delenv("HOTPAPERS_X_BEARER_TOKEN", raising=False)
    result = cli("fetch", "mentions", "--source", "x")
    assert result.code == 2
    assert result.err.strip().splitlines() == [result.err.strip()]
    assert "HOTPAPERS_X_BEARER_TOKEN" in result.err
    engine = connect(db_url)
    with engine.connect() as conn:  # refused while setting up: before any run is recorded
        assert load_runs(conn, 1) == []
    engine.dispose()


def test_every_source_failing_exits_1(cli, sources_env):
    result = cli("fetch", "mentions", "--source", "hf", "--since", "2026-06-12",
                 "--until", "2026-06-13")
    assert result.code == 1 and "hf: " in result.err


@pytest.mark.parametrize("args, message", [
    (["--source", "myspace"], "--source myspace: unknown source"),
    (["--source", "hn", "--since", "yesterday"], "--since 'yesterday': not an ISO 8601"),
    # times whose zone, or the day before, is past what a date can hold
    (["--source", "hn", "--until", "0001-01-01"], "--until '0001-01-01': out of range"),
    (["--source", "hn", "--since", "0001-01-01T00:00+05:00", "--until", "2021-01-01"],
     "--since '0001-01-01T00:00+05:00': out of range"),
    (["--source", "hn", "--since", "9999-12-31T23:00-05:00"],
     "--since '9999-12-31T23:00-05:00': out of range"),
    (["--source", "hn", "--since", "2026-06-13", "--until", "2026-06-12"], "empty window"),
])
def test_bad_options_are_one_line_errors(cli, args, message):
    result = cli("fetch", "mentions", *args)
    assert result.code == 2 and message in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_a_secret_never_reaches_the_output_or_the_run_record(cli, sources_env, monkeypatch,
                                                             db_url):
    monkeypatch.setenv("HOTPAPERS_X_BEARER_TOKEN", "sekrit-token-123")
    monkeypatch.setenv("HOTPAPERS_X_API_URL", sources_env.url_for("/x"))
    sources_env.expect_request("/x/tweets/search/recent").respond_with_json(
        {"title": "Unauthorized", "detail": "bad token sekrit-token-123", "status": 401},
        status=401)
    result = cli("fetch", "mentions", "--source", "x", "--source", "hn")  # the last 24 hours
    engine = connect(db_url)
    with engine.connect() as conn:
        [run] = load_runs(conn, 1)
    engine.dispose()
    assert "401" in result.err
    assert "sekrit-token-123" not in result.out + result.err + json.dumps(run, default=str)


@pytest.mark.parametrize("variable", ["HOTPAPERS_BSKY_APP_PASSWORD", "HOTPAPERS_MASTODON_TOKEN",
                                      "HOTPAPERS_REDDIT_CLIENT_SECRET"])
def test_a_server_echoing_a_secret_does_not_put_it_in_the_output(cli, sources_env,
                                                                   monkeypatch, db_url,
                                                                   variable):
    secret = "hunter2-" + variable.lower()
    monkeypatch.setenv(variable, secret)
    monkeypatch.setenv("HOTPAPERS_HF_API_URL", sources_env.url_for("/hf-echo"))
    sources_env.expect_request("/hf-echo/daily_papers").respond_with_data(
        f"no such token {secret}", status=400)
    result = cli("fetch", "mentions", "--source", "hf", "--source", "hn",
                 "--since", "2026-06-12", "--until", "2026-06-13")
    engine = connect(db_url)
    with engine.connect() as conn:
        [run] = load_runs(conn, 1)
    engine.dispose()
    assert "no such token ***" in result.err
    assert secret not in result.out + result.err + json.dumps(run, default=str)
