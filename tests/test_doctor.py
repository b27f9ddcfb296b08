"""`hotpapers doctor` end to end: every base URL pointed at a real loopback server (or a
closed port), real SQLite files; credentials from the environment are never printed nor
sent to the probed servers."""

from __future__ import annotations

import json
import re
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hotpapers.config import Settings
from hotpapers.jobs.doctor import (
    FAILED,
    OK,
    SKIPPED,
    Check,
    Probe,
    SourcePlan,
    StoreFacts,
    daily_check,
    exit_code,
    reach_check,
    store_check,
)
from hotpapers.store.db import connect, migrate
from hotpapers.store.revision import HEAD_REVISION

SECRET_VARIABLES = ("X_BEARER_TOKEN", "BSKY_HANDLE", "BSKY_APP_PASSWORD", "MASTODON_TOKEN",
                    "REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET", "SMTP_PASSWORD",
                    "WEBHOOK_URLS", "ALERT_WEBHOOK_URL")


@pytest.fixture
def probed(monkeypatch, httpserver):
    """Every URL setting on the loopback server, which answers anything with 200; no
    secret in the environment."""
    httpserver.expect_request(re.compile(".*")).respond_with_data("ok")
    urls = {
        "ARXIV_API_URL": "/arxiv/api/query", "ARXIV_OAI_URL": "/arxiv/oai",
        "ARXIV_RSS_URL": "/arxiv/rss", "X_API_URL": "/x/2", "BSKY_API_URL": "/bsky/xrpc",
        "BSKY_PUBLIC_URL": "/bsky-public/xrpc", "HN_API_URL": "/hn/api/v1",
        "HF_API_URL": "/hf/api", "REDDIT_API_URL": "/reddit-oauth",
        "REDDIT_AUTH_URL": "/reddit/api/v1/access_token", "REDDIT_FEED_URL": "/reddit",
    }
    for name, path in urls.items():
        monkeypatch.setenv(f"HOTPAPERS_{name}", httpserver.url_for(path))
    monkeypatch.setenv("HOTPAPERS_MASTODON_INSTANCES",
                       json.dumps([httpserver.url_for("/mastodon-a"),
                                   httpserver.url_for("/mastodon-b")]))
    for name in SECRET_VARIABLES:
        monkeypatch.delenv(f"HOTPAPERS_{name}", raising=False)
    monkeypatch.delenv("HOTPAPERS_DAILY_TARGETS", raising=False)
    monkeypatch.delenv("HOTPAPERS_MENTION_SOURCES", raising=False)
    return httpserver


@pytest.fixture
def store(db_url: str) -> str:
    connect(db_url).dispose()
    return db_url


def _line(out: str, name: str) -> str:
    [line] = [line for line in out.splitlines() if line.startswith(f"{name}: ")]
    return line


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_empty_environment_skips_x_and_bluesky_and_reaches_the_free_sources(
        cli, probed, store):
    result = cli("doctor")
    assert result.code == 0, result.out + result.err
    assert _line(result.out, "x").startswith("x: skipped: ")
    assert "HOTPAPERS_X_BEARER_TOKEN" in _line(result.out, "x")
    assert _line(result.out, "bluesky").startswith("bluesky: skipped: ")
    assert "HOTPAPERS_BSKY_APP_PASSWORD" in _line(result.out, "bluesky")
    for name in ("arxiv", "hn", "hf", "mastodon", "reddit"):
        assert _line(result.out, name).startswith(f"{name}: ok: reachable: "), name
    assert probed.url_for("/mastodon-b") in _line(result.out, "mastodon")
    assert "no counts" in _line(result.out, "reddit")
    assert _line(result.out, "database").startswith("database: ok: ")
    assert f"schema {HEAD_REVISION} (current)" in _line(result.out, "database")
    assert _line(result.out, "config").startswith("config: ok: no file at ")
    daily = _line(result.out, "daily")
    assert "reads hn, hf, mastodon, reddit (x, bluesky skipped: no credentials)" in daily
    assert "publishes to: nothing (daily_targets is empty)" in daily
    probed_paths = {request.path for request, _ in probed.log}
    assert "/hn/api/v1" in probed_paths and "/x/2" not in probed_paths  # x was skipped
    assert len(probed.log) == len(probed_paths)  # one GET per distinct URL
    assert all(request.method == "GET" for request, _ in probed.log)


def test_an_unreachable_source_fails_naming_it(cli, probed, store, monkeypatch):
    closed = f"http://127.0.0.1:{_closed_port()}/api"
    monkeypatch.setenv("HOTPAPERS_HF_API_URL", closed)
    result = cli("doctor")
    assert result.code == 1
    line = _line(result.out, "hf")
    assert line.startswith(f"hf: FAILED: not reachable: {closed}: connection failed")
    assert _line(result.out, "hn").startswith("hn: ok: ")


def test_secrets_are_neither_printed_nor_sent_to_the_probed_servers(
        cli, probed, store, monkeypatch):
    secrets = {"X_BEARER_TOKEN": "sekrit-123", "BSKY_HANDLE": "me.example",
               "BSKY_APP_PASSWORD": "app-pass-456", "MASTODON_TOKEN": "masto-789",
               "REDDIT_CLIENT_ID": "reddit-id", "REDDIT_CLIENT_SECRET": "reddit-secret-0",
               "WEBHOOK_URLS": json.dumps(["https://hooks.example/T000/sekrit-hook"])}
    for name, value in secrets.items():
        monkeypatch.setenv(f"HOTPAPERS_{name}", value)
    monkeypatch.setenv("HOTPAPERS_DAILY_TARGETS", '["webhook"]')
    for args in (["doctor"], ["doctor", "--json"]):
        result = cli(*args)
        assert result.code == 0, result.out + result.err
        for value in ("sekrit-123", "app-pass-456", "masto-789", "reddit-secret-0",
                      "sekrit-hook", "hooks.example/T000"):
            assert value not in result.out + result.err
    report = json.loads(result.out)
    assert report["exit_code"] == 0
    statuses = {check["name"]: check["status"] for check in report["checks"]}
    assert statuses["x"] == statuses["bluesky"] == statuses["target webhook"] == OK
    assert "1 URL(s)" in _line(cli("doctor").out, "target webhook")
    assert "/x/2" in {request.path for request, _ in probed.log}
    for request, _ in probed.log:
        sent = f"{request.url} {dict(request.headers)} {request.get_data(as_text=True)}"
        assert "Authorization" not in request.headers  # case-insensitive
        for value in secrets.values():
            assert value not in sent and "sekrit" not in sent


def test_a_missing_store_is_reported_and_not_created(cli, probed, tmp_path, monkeypatch):
    path = tmp_path / "stores" / "missing.sqlite3"  # a SQLite file on either database
    monkeypatch.setenv("HOTPAPERS_DB", f"sqlite:///{path}")
    result = cli("doctor")
    assert result.code == 0, result.out + result.err
    line = _line(result.out, "database")
    assert line.startswith("database: skipped: ") and f"no database at {path}" in line
    assert not path.exists() and not list(path.parent.glob("*.sqlite3*"))


def test_a_store_that_does_not_open_fails(cli, probed, tmp_path, monkeypatch):
    path = tmp_path / "garbage.sqlite3"
    path.write_bytes(b"not a database, not at all" * 100)
    monkeypatch.setenv("HOTPAPERS_DB", f"sqlite:///{path}")
    result = cli("doctor")
    assert result.code == 1
    assert _line(result.out, "database").startswith("database: FAILED: ")


def test_an_older_schema_is_reported_not_migrated(cli, probed, db_url):
    engine = connect(db_url, migrate_schema=False)
    migrate(engine, "0001")
    engine.dispose()
    result = cli("doctor")
    assert result.code == 0, result.out + result.err
    assert f"schema 0001, older than the code's {HEAD_REVISION}" in _line(result.out,
                                                                        "database")
    result = cli("doctor")  # still 0001: doctor migrates nothing
    assert "schema 0001" in _line(result.out, "database")


def test_a_configured_target_without_its_credentials_fails(cli, probed, store, monkeypatch):
    monkeypatch.setenv("HOTPAPERS_DAILY_TARGETS", '["webhook", "email"]')
    result = cli("doctor")
    assert result.code == 1
    assert _line(result.out, "target webhook").startswith("target webhook: FAILED: ")
    assert "HOTPAPERS_WEBHOOK_URLS" in _line(result.out, "target webhook")
    assert "email_from" in _line(result.out, "target email")
    assert "publishes to: webhook, email" in _line(result.out, "daily")


def test_a_bad_config_is_one_line_and_exit_2(cli, probed, tmp_path, monkeypatch):
    bad = tmp_path / "bad.toml"
    bad.write_text("mention_sources = ['myspace']\n")
    result = cli("--config", bad, "doctor")
    assert result.code == 2 and result.out == ""
    assert len(result.err.strip().splitlines()) == 1 and "myspace" in result.err


def test_quiet_prints_only_failures(cli, probed, store, monkeypatch):
    monkeypatch.setenv("HOTPAPERS_HN_API_URL", f"http://127.0.0.1:{_closed_port()}/")
    result = cli("-q", "doctor")
    assert result.code == 1
    assert [line.split(":")[0] for line in result.out.splitlines()] == ["hn"]


# --- the pure part ---------------------------------------------------------------------------

def test_the_exit_code_counts_failures_only() -> None:
    assert exit_code([Check("x", SKIPPED, "needs a token"), Check("hn", OK, "")]) == 0
    assert exit_code([Check("x", SKIPPED, ""), Check("hf", FAILED, "down")]) == 1
    assert Check("daily", "", "ranks by hot").line() == "daily: ranks by hot"


def test_store_lines() -> None:
    shown = "postgresql://me:***@db/hp"
    assert store_check(StoreFacts(shown, revision=HEAD_REVISION)).status == OK
    assert store_check(StoreFacts(shown, revision="9999")).status == FAILED
    assert store_check(StoreFacts(shown, revision=None)).status == OK
    assert store_check(StoreFacts(shown, error="refused")).line() == \
        f"database: FAILED: {shown}: refused"
    assert store_check(StoreFacts(shown, missing="no file", creatable=False)).status == FAILED


def test_reach_lines_name_each_url_that_failed() -> None:
    probes = {"http://a": Probe("http://a", status=404),
              "http://b": Probe("http://b", error="timed out after 5 s")}
    assert reach_check("m", ["http://a"], probes).line() == \
        "m: ok: reachable: http://a (HTTP 404)"
    assert reach_check("m", ["http://a", "http://b"], probes).line() == \
        "m: FAILED: not reachable: http://b: timed out after 5 s"


def test_the_daily_line_says_when_classic_counts_no_source_it_reads() -> None:
    settings = Settings.model_construct(daily_method="classic")
    plans = [SourcePlan("x", skipped="needs a token"), SourcePlan("hn", ("http://hn",))]
    line = daily_check(settings, plans, Path("/posts")).line()
    assert line.startswith("daily: ranks by classic (counts x, which it does not read); "
                           "reads hn (x skipped: no credentials); writes the post to /posts")


def test_credentials_inside_urls_are_neither_printed_nor_sent(cli, probed, store, monkeypatch):
    """A URL setting with user info, a database URL with a password in its query."""
    host = probed.url_for("/mastodon-a").replace("http://", "http://bob:hunter22@")
    monkeypatch.setenv("HOTPAPERS_MASTODON_INSTANCES", json.dumps([host]))
    monkeypatch.setenv("HOTPAPERS_DB", f"{store}?password=qsecret99")
    result = cli("doctor")
    assert "hunter22" not in result.out + result.err and "bob:" not in result.out
    assert "qsecret99" not in result.out + result.err
    assert _line(result.out, "mastodon").startswith("mastodon: ok: reachable: ")
    for request, _ in probed.log:
        assert "Authorization" not in request.headers


def test_the_attention_totals_line_says_when_a_rebuild_is_due(cli, probed, store, monkeypatch):
    assert _line(cli("doctor").out, "totals").startswith(
        "totals: ok: attention totals built under the configured hot rules")
    monkeypatch.setenv("HOTPAPERS_HOT_REPOST_RATIO", "5")
    line = _line(cli("doctor").out, "totals")
    assert line.startswith("totals: skipped: attention totals built under other hot rules")
    assert "hotpapers store rebuild-aggregates" in line
    assert cli("store", "rebuild-aggregates").code == 0
    assert _line(cli("doctor").out, "totals").startswith("totals: ok: ")


def test_the_stream_line_names_the_consumer_that_writes(cli, probed, store):
    from datetime import UTC, datetime

    from hotpapers.jobs.jetstream_ingest import CURSOR
    from hotpapers.store.stream_lease import release_lease, take_lease

    assert "stream bluesky" not in cli("doctor").out  # no consumer ever ran: no line
    engine = connect(store)
    with engine.begin() as conn:
        lease, _ = take_lease(conn, CURSOR, "host-a:41:abc", datetime.now(UTC), 3600)
    line = _line(cli("doctor").out, "stream bluesky")
    assert line.startswith("stream bluesky: host-a:41:abc writes (lease epoch 1, renewed until ")
    with engine.begin() as conn:
        release_lease(conn, lease, datetime.now(UTC))
    engine.dispose()
    assert _line(cli("doctor").out, "stream bluesky") == (
        "stream bluesky: no consumer holds the lease; the next `stream bluesky` takes it")


def test_a_search_dropped_by_a_stopped_import_is_named_and_init_makes_it(cli, probed, store):
    from hotpapers.models import Paper
    from hotpapers.store.fulltext import drop_search, search_papers
    from hotpapers.store.papers import save_paper

    engine = connect(store)
    with engine.begin() as conn:
        save_paper(conn, Paper(id="2401.00001", title="Quantum gravel"),
                   datetime.now(UTC))
    assert "search" not in [line.split(":")[0] for line in cli("doctor").out.splitlines()]
    with engine.begin() as conn:
        drop_search(conn)  # what a large import does until its end
    line = _line(cli("doctor").out, "search")
    assert line.startswith("search: skipped: the full-text search is not made")
    assert "`hotpapers init` makes it" in line
    assert cli("init").code == 0
    assert "search" not in [line.split(":")[0] for line in cli("doctor").out.splitlines()]
    with engine.connect() as conn:
        assert [paper for paper, _ in search_papers(conn, "gravel", 10)] == ["2401.00001"]
    engine.dispose()
