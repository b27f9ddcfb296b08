"""No secret leaks when servers echo them: a loopback server that sends every request header
and body back (in error answers, and in 200 answers that are not what was asked), against
each source that signs in and each publisher, at -vv; stdout, stderr, the run records and
the alert webhook's bodies must hold no secret nor any encoded form of one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from werkzeug import Request, Response

from conftest import FIXTURES
from fakes import FakeClock
from hotpapers import secrets as registry
from hotpapers.config import Secrets, Settings
from hotpapers.jobs.daily import run_daily
from hotpapers.jobs.legacy import import_legacy
from hotpapers.secrets import encoded_forms
from hotpapers.store.db import connect
from hotpapers.store.runs import load_runs, recorded_run

X_TOKEN = 'AAAAx-bearer/+="tok1'
BSKY_PASSWORD = 'bsky-app/+"pass2'
BSKY_JWT = 'eyJbsky.access+/="jwt3'
BSKY_REFRESH = 'eyJbsky.refresh+/="jwt4'
MASTODON_TOKEN = 'masto/+"token5'
REDDIT_ID = "reddit-client-id"
REDDIT_SECRET = 'rdsecret/+"s6'
REDDIT_TOKEN = 'reddit-access+/="tok7'
SMTP_USER = "bot"
SMTP_PASSWORD = 'smtp/+"pass8'
HOOK_TOKEN = "hook-secret-token9"
ALERT_TOKEN = "alert-secret-token0"
# every secret carries a marker, so that even a piece of one cut short is found
MARKERS = ["x-bearer", "bsky-app", "bsky.access", "bsky.refresh", "masto/", "rdsecret",
           "reddit-access", "smtp/", "hook-secret", "alert-secret"]
MODES = ["refuse", "error-after-sign-in", "ok-after-sign-in"]


def forbidden() -> list[str]:
    """Each secret and each of its encoded forms (Basic and PLAIN credentials too)."""
    found = set(MARKERS)
    for value in (X_TOKEN, BSKY_PASSWORD, BSKY_JWT, BSKY_REFRESH, MASTODON_TOKEN,
                  REDDIT_TOKEN, HOOK_TOKEN, ALERT_TOKEN):
        found |= encoded_forms(value)
    found |= encoded_forms(REDDIT_SECRET, REDDIT_ID) | encoded_forms(SMTP_PASSWORD, SMTP_USER)
    return sorted(found)


def leaks(text: str) -> list[str]:
    return [form for form in forbidden() if form in text]


class EchoServer:
    """Answers every request with its own headers, path and body: as an error (`refuse`),
    or after granting the sign-ins, as an error or as a 200 that is not JSON. /alert/ keeps
    what it receives."""

    def __init__(self, server, mode: str) -> None:
        self.server, self.mode, self.alerts = server, mode, []
        server.expect_request("/alert/" + ALERT_TOKEN).respond_with_handler(self.alert)
        server.expect_request("").respond_with_handler(self.echo)  # any other path

    def alert(self, request: Request) -> Response:
        self.alerts.append(request.get_data(as_text=True))
        return Response("ok")

    def echo(self, request: Request) -> Response:
        auth = request.headers.get("Authorization", "")
        others = " | ".join(f"{k}: {v}" for k, v in request.headers.items()
                            if k.lower() != "authorization")
        text = (f"ECHO {auth} | {request.get_data(as_text=True)} | {request.full_path} "
                f"| {others}")  # what matters first, before any cut
        granting = self.mode != "refuse"
        if granting and request.path.endswith("createSession"):
            return Response(json.dumps({"did": "did:plc:echo", "handle": "bot.example",
                                        "accessJwt": BSKY_JWT, "refreshJwt": BSKY_REFRESH}),
                            content_type="application/json")
        if granting and request.path.endswith("access_token"):
            return Response(json.dumps({"access_token": REDDIT_TOKEN, "token_type": "bearer",
                                        "expires_in": 3600}), content_type="application/json")
        if self.mode == "ok-after-sign-in":
            return Response(text, content_type="text/plain")
        return Response(json.dumps({"error": text, "message": text, "detail": text,
                                    "title": text, "errors": [{"message": text}]}),
                        status=403, content_type="application/json")


@pytest.fixture(autouse=True)
def _forget_secrets():
    registry.clear()
    yield
    registry.clear()


def smtp_echo(server, session, envelope, mechanism, auth_data) -> AuthResult:
    login = getattr(auth_data, "login", b"").decode()
    password = getattr(auth_data, "password", b"").decode()
    return AuthResult(success=False, handled=False,
                      message=f"535 5.7.8 bad {mechanism} {login} {password}")


@pytest.fixture
def smtp_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = Controller(object(), hostname="127.0.0.1", port=port,
                            authenticator=smtp_echo, auth_require_tls=False)
    controller.start()
    yield port
    controller.stop()


def environment(server, db_url: str, tmp_path: Path, smtp_port: int) -> dict[str, str]:
    url = server.url_for
    values = {
        "DB": db_url, "X_API_URL": url("/x/2"), "BSKY_API_URL": url("/bsky/xrpc"),
        "BSKY_PUBLIC_URL": url("/public/xrpc"), "MASTODON_INSTANCES": json.dumps([url("/m")]),
        "REDDIT_API_URL": url("/reddit"), "REDDIT_AUTH_URL": url("/auth/access_token"),
        "X_BEARER_TOKEN": X_TOKEN, "BSKY_HANDLE": "bot.example",
        "BSKY_APP_PASSWORD": BSKY_PASSWORD, "MASTODON_TOKEN": MASTODON_TOKEN,
        "REDDIT_CLIENT_ID": REDDIT_ID, "REDDIT_CLIENT_SECRET": REDDIT_SECRET,
        "SMTP_PASSWORD": SMTP_PASSWORD, "SMTP_USERNAME": SMTP_USER,
        "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_port), "SMTP_SECURITY": "none",
        "EMAIL_FROM": "bot@example.org", "EMAIL_TO": '["ada@example.org"]',
        "EMAIL_UNSUBSCRIBE": "unsubscribe@example.org",
        "WEBHOOK_URLS": json.dumps([url("/hook/" + HOOK_TOKEN)]),
        "ALERT_WEBHOOK_URL": url("/alert/" + ALERT_TOKEN),
        "SOURCE_INTERVAL": "0", "HTTP_RETRIES": "0", "FETCH_MISSING_PAPERS": "false",
        "HTTP_TIMEOUT": "5",
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTPAPERS_")}
    env |= {f"HOTPAPERS_{k}": v for k, v in values.items()}
    env |= {"XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data"),
            "COLUMNS": "200"}
    return env


def hotpapers(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "hotpapers", "-vv", *args], env=env,
                          capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    return done


def stored_runs(db_url: str) -> str:
    engine = connect(db_url)
    with engine.connect() as conn:
        rows = load_runs(conn, 100)
    engine.dispose()
    return json.dumps(rows, default=str, ensure_ascii=False)


@pytest.mark.parametrize("mode", MODES)
def test_p12_sources_that_sign_in_leak_nothing_at_vv(httpserver, db_url, tmp_path, smtp_port,
                                                     mode):
    EchoServer(httpserver, mode)
    env = environment(httpserver, db_url, tmp_path, smtp_port)
    done = hotpapers(env, "fetch", "mentions", "--source", "x", "--source", "bluesky",
                     "--source", "mastodon", "--source", "reddit")  # the last 24 hours
    assert "ECHO" in done.stdout + done.stderr, done.stderr  # the echoes did reach the output
    assert leaks(done.stdout) == [] and leaks(done.stderr) == []
    records = stored_runs(db_url)
    assert "ECHO" in records and leaks(records) == []


@pytest.mark.parametrize("mode, targets", [
    ("refuse", ["bluesky", "mastodon", "webhook", "email"]),
    ("error-after-sign-in", ["bluesky"])])
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_p12_publishers_leak_nothing_at_vv(httpserver, engine, db_url, tmp_path, smtp_port,
                                           mode, targets):
    EchoServer(httpserver, mode)
    env = environment(httpserver, db_url, tmp_path, smtp_port)
    import_post(engine)
    for target in targets:
        done = hotpapers(env, "publish", "--date", "2024-03-04", "--to", target)
        assert done.returncode == 1 and f"{target}: " in done.stderr, done.stderr
        assert leaks(done.stdout) == [] and leaks(done.stderr) == [], target
    assert leaks(stored_runs(db_url)) == []


def import_post(engine) -> None:
    import_legacy(engine, [FIXTURES / "posts" / "2024-03-04---Hot-Papers.md"],
                  datetime(2024, 3, 5, 8, tzinfo=UTC))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_p12_the_daily_alert_and_run_record_leak_nothing(httpserver, engine, db_url, tmp_path,
                                                         smtp_port, mode, monkeypatch):
    arxiv = FIXTURES / "arxiv"
    httpserver.expect_request("/rss/cs+stat.ML").respond_with_data(
        (arxiv / "rss-cs+stat.ML.xml").read_bytes(), content_type="application/rss+xml")
    echo = EchoServer(httpserver, mode)
    env = environment(httpserver, db_url, tmp_path, smtp_port)
    for name, value in env.items():
        if name.startswith("HOTPAPERS_"):
            monkeypatch.setenv(name, value)
    settings = Settings(mention_sources=["x", "bluesky", "mastodon", "reddit"],
                        daily_targets=["bluesky", "mastodon", "webhook", "email"],
                        posts_dir=str(tmp_path / "posts"),
                        arxiv_rss_url=httpserver.url_for("/rss"))
    import_post(engine)
    now = datetime(2024, 3, 5, 12, tzinfo=UTC)
    failures = []
    for day, fetch in ((None, True), (date(2024, 3, 4), False)):  # sources, then targets
        with recorded_run(engine, "daily", lambda: now) as run:
            result = run_daily(engine, settings, Secrets(), lambda: now, run, day=day,
                               fetch=fetch, http_clock=FakeClock(now))
        failures += result.failures + result.mentions + result.warnings
    assert len(echo.alerts) == 2 and "ECHO" in " ".join(echo.alerts)
    assert any(f.startswith("bluesky: ") for f in failures), failures
    assert leaks(" ".join(echo.alerts)) == []
    assert leaks(" ".join(failures)) == []
    assert leaks(stored_runs(db_url)) == []
