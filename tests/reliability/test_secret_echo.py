"""Fault class (e): every authenticating source and publisher, at -vv, against a server that
echoes every header and body back: no fake secret, nor a token obtained at run time, nor
their base64 or URL-encoded forms, reaches stdout, stderr, the runs table or the alerts."""

from __future__ import annotations

import json
import shutil

import pytest
from harness.data import FIXTURES
from harness.procs import hp_env, run_hp
from harness.secrets import leaks, secret_forms
from harness.servers import EchoServer, FaultServer, Reply
from harness.sources import SECRETS, source_settings
from sqlalchemy import create_engine, text

from conftest import sqlite_only

pytestmark = sqlite_only("its stores are SQLite files of real processes; it runs once")

WEBHOOK_TOKEN = "T000/B000/webhook-Fake+Token"
ALERT_TOKEN = "T111/B111/alert-Fake+Token"
DAY = "2024-03-04"


@pytest.fixture
def servers():
    with EchoServer() as echo, FaultServer(lambda *_: Reply()) as alerts:
        yield echo, alerts


@pytest.fixture
def store(tmp_path):
    posts = tmp_path / "posts"
    posts.mkdir()
    shutil.copy(FIXTURES / "posts" / f"{DAY}---Hot-Papers.md", posts)
    db = tmp_path / "s.sqlite3"
    run = run_hp(["import", "legacy", str(posts)], hp_env(tmp_path / "home", f"sqlite:///{db}"))
    assert run.code == 0, run.err
    return db


def _env(tmp_path, db, echo, alerts, status_settings=None):
    return hp_env(
        tmp_path / "home", f"sqlite:///{db}", **SECRETS, **source_settings(echo.url),
        MENTION_SOURCES=json.dumps(["x", "bluesky", "mastodon", "reddit", "hn", "hf"]),
        MASTODON_POST_INSTANCE=f"{echo.url}/one", WEBHOOK_FORMAT="json",
        WEBHOOK_URLS=json.dumps([f"{echo.url}/hooks/{WEBHOOK_TOKEN}"]),
        ALERT_WEBHOOK_URL=f"{alerts.url}/alerts/{ALERT_TOKEN}", HTTP_RETRIES="0",
        HTTP_TIMEOUT="5", DAILY_TARGETS='["bluesky", "mastodon", "webhook"]',
        ARXIV_INTERVAL="3", **(status_settings or {}))


COMMANDS = {
    "fetch-mentions": ["-vv", "fetch", "mentions", "--source", "all"],
    "publish-bluesky": ["-vv", "publish", "--date", DAY, "--to", "bluesky", "--force"],
    "publish-mastodon": ["-vv", "publish", "--date", DAY, "--to", "mastodon", "--force"],
    "publish-webhook": ["-vv", "publish", "--date", DAY, "--to", "webhook", "--force"],
    "daily": ["-vv", "daily", "--date", DAY, "--force", "--wait", "0"],
}


# refused: every request is refused with an echo (the sign-in's own secrets are echoed);
# signed-in-then-refused: sign-ins succeed and issue tokens, then the calls using them are
# refused with an echo of those tokens
CASES = [(command, sign_in_ok) for command in COMMANDS for sign_in_ok in (False, True)
         if sign_in_ok or command in ("fetch-mentions", "publish-bluesky")]


@pytest.mark.parametrize("command, sign_in_ok", CASES, ids=[
    f"{c}-{'signed-in-then-refused' if ok else 'refused'}" for c, ok in CASES])
def test_no_secret_reaches_output_runs_or_alerts_when_a_server_echoes_it(
        command, sign_in_ok, servers, store, tmp_path):
    echo, alerts = servers
    echo.status, echo.sign_in_ok = 401, sign_in_ok
    run = run_hp(COMMANDS[command], _env(tmp_path, store, echo, alerts), timeout=90)
    assert echo.requests, run.err  # the command did talk to the echo server
    engine = create_engine(f"sqlite:///{store}")
    with engine.connect() as conn:
        runs = json.dumps([list(row) for row in conn.execute(text("SELECT * FROM runs"))],
                          default=str)
    engine.dispose()
    alerts_sent = " ".join(body.decode("utf-8", "replace") for *_, body in alerts.requests)
    forms = secret_forms({"WEBHOOK_URLS": WEBHOOK_TOKEN, "ALERT_WEBHOOK_URL": ALERT_TOKEN})
    found = {where: leaks(content, forms) for where, content in [
        ("stdout", run.out), ("stderr", run.err), ("runs", runs), ("alerts", alerts_sent)]}
    assert not any(found.values()), f"{found}\nstderr: {run.err[-1500:]}"
