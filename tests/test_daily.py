"""The daily job end to end against loopback servers: arXiv's feed and API, Hacker News,
a source that is down; the post written; the lock between two processes."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime

import pytest
from werkzeug import Request, Response

from conftest import FIXTURES
from fakes import FakeClock
from hotpapers.config import Secrets, Settings
from hotpapers.errors import NothingToDo
from hotpapers.jobs.daily import lock_path, run_daily
from hotpapers.sources.arxiv.schedule import announcement_time
from hotpapers.store.db import connect
from hotpapers.store.runs import load_runs, recorded_run

ARXIV = FIXTURES / "arxiv"
TUESDAY = date(2024, 3, 5)
NOW = datetime(2024, 3, 5, 12, tzinfo=UTC)  # the 2024-03-05 listing is the latest


def hn_story(object_id: str, paper: str, points: int, at: datetime) -> dict:
    return {"objectID": object_id, "title": f"Paper {paper}", "author": f"user{object_id}",
            "url": f"https://arxiv.org/abs/{paper}", "points": points, "num_comments": 3,
            "created_at": at.isoformat().replace("+00:00", "Z"),
            "created_at_i": int(at.timestamp()), "story_text": None}


def serve_arxiv(httpserver) -> None:
    """arXiv's announcement feed and the details of its papers, on loopback."""
    httpserver.expect_request("/rss/cs+stat.ML").respond_with_data(
        (ARXIV / "rss-cs+stat.ML.xml").read_bytes(), content_type="application/rss+xml")
    httpserver.expect_request("/api/query").respond_with_data(
        (ARXIV / "api-details.xml").read_bytes(), content_type="application/atom+xml")


@pytest.fixture
def loopback(httpserver):
    """arXiv (feed + details), Hacker News with two stories, Hugging Face down."""
    serve_arxiv(httpserver)
    stories = [hn_story("1", "2403.00001", 120, datetime(2024, 3, 5, 3, tzinfo=UTC)),
               hn_story("2", "2403.00002", 40, datetime(2024, 3, 5, 4, tzinfo=UTC))]

    def hn(request: Request) -> Response:
        return Response(json.dumps({"hits": stories, "nbHits": 2, "nbPages": 1, "page": 0,
                                    "hitsPerPage": 100}), content_type="application/json")

    httpserver.expect_request("/hn/search_by_date").respond_with_handler(hn)
    httpserver.expect_request("/hf/daily_papers").respond_with_data("down", status=503)
    return httpserver


def settings_for(server, tmp_path, **overrides) -> Settings:
    values = dict(
        arxiv_api_url=server.url_for("/api/query"), arxiv_rss_url=server.url_for("/rss"),
        arxiv_interval=3.0, hn_api_url=server.url_for("/hn"), hf_api_url=server.url_for("/hf"),
        mention_sources=["hn", "hf"], source_interval=0, http_retries=0,
        fetch_missing_papers=False, posts_dir=str(tmp_path / "posts"),
        daily_method="hot", hot_min_score=0)
    return Settings(**(values | overrides))


def daily(engine, settings, **kwargs):
    with recorded_run(engine, "daily", lambda: NOW) as run:
        return run_daily(engine, settings, Secrets(), lambda: NOW, run,
                         http_clock=FakeClock(NOW), **kwargs)


def test_a_day_is_fetched_ranked_and_written_with_a_source_down(engine, loopback, tmp_path):
    result = daily(engine, settings_for(loopback, tmp_path))
    assert result.day == TUESDAY
    assert "new" in result.papers
    assert any(line.startswith("hn: 2 mentions") for line in result.mentions)
    assert [f for f in result.failures if f.startswith("hf: ")]  # says which source failed
    assert result.post == tmp_path / "posts" / "2024-03-05---Hot-Papers.md"
    assert result.post.read_text().startswith("---\ntitle: Hot Papers 2024-03-05\n")
    with engine.connect() as conn:
        [run] = load_runs(conn, 1)
    assert run["command"] == "daily" and run["status"] == "partial"
    assert any(e.startswith("hf: ") for e in run["errors"])


def test_a_second_run_renders_the_same_post(engine, loopback, tmp_path):
    first = daily(engine, settings_for(loopback, tmp_path)).post.read_bytes()
    again = daily(engine, settings_for(loopback, tmp_path), fetch=False).post.read_bytes()
    assert again == first


def test_a_day_without_announcement_is_nothing_to_do(engine, loopback, tmp_path):
    with pytest.raises(NothingToDo, match="no listing that day"):
        daily(engine, settings_for(loopback, tmp_path), day=date(2024, 3, 3))  # a Sunday


def test_daily_fetches_mentions_as_fetch_mentions_does(cli, loopback, tmp_path, monkeypatch):
    """Both run one MentionFetch: over the same window and sources, the same lines."""
    engine = connect(f"sqlite:///{tmp_path / 'daily.sqlite3'}")
    try:
        result = daily(engine, settings_for(loopback, tmp_path))
    finally:
        engine.dispose()
    for name, value in {"HN_API_URL": loopback.url_for("/hn"),
                        "HF_API_URL": loopback.url_for("/hf"),
                        "MENTION_SOURCES": '["hn", "hf"]', "SOURCE_INTERVAL": "0",
                        "HTTP_RETRIES": "0", "FETCH_MISSING_PAPERS": "false"}.items():
        monkeypatch.setenv(f"HOTPAPERS_{name}", value)
    since = announcement_time(TUESDAY)  # where daily's window starts; it ends at NOW
    fetched = cli("fetch", "mentions", "--source", "all", "--since", since.isoformat(),
                  "--until", NOW.isoformat())
    lines = fetched.out.strip().splitlines()
    assert lines[-1].startswith("Done: 2024-03-05 01:00 to 2024-03-05 12:00 UTC; ")
    assert lines[:-1] == result.mentions
    assert [line.split(":")[0] for line in result.mentions] == ["hn", "hf"]
    errors = [line.split("hotpapers: error: ")[1] for line in fetched.err.splitlines()
              if "hotpapers: error: " in line]
    assert errors == result.failures and errors[0].startswith("hf: ")


def test_two_daily_processes_never_overlap(cli, db_url, tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys
        from hotpapers.jobs.daily import daily_lock
        with daily_lock({db_url!r}):
            print("locked", flush=True)
            sys.stdin.readline()
        """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        result = cli("daily", "--date", "2024-03-05")
        assert result.code == 3
        assert "another `hotpapers daily` is running" in result.err
        held = ("PostgreSQL advisory lock" if db_url.startswith("postgresql")
                else str(lock_path(db_url)))
        assert held in result.err
    finally:
        holder.communicate("\n", timeout=10)
    assert holder.returncode == 0


# -- publishing to a real bare git repository and a real SMTP server ---------------------

def git(*args) -> str:
    done = subprocess.run(["git", *map(str, args)], capture_output=True, text=True,
                          check=True, stdin=subprocess.DEVNULL)
    return done.stdout


@pytest.fixture
def blog(tmp_path, monkeypatch):
    """A bare 'remote' blog repository with one commit, and a checkout of it."""
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    bare, checkout = tmp_path / "blog.git", tmp_path / "blog"
    git("init", "--quiet", "--bare", "--initial-branch=main", bare)
    git("clone", "--quiet", bare, checkout)
    (checkout / "README.md").write_text("my blog\n")
    git("-C", checkout, "add", "README.md")
    git("-C", checkout, "-c", "user.name=me", "-c", "user.email=me@example.org", "commit",
        "--quiet", "-m", "initial")
    git("-C", checkout, "push", "--quiet", "origin", "HEAD:refs/heads/main")
    return bare, checkout


@pytest.fixture
def inbox():
    from aiosmtpd.controller import Controller

    class Inbox:
        def __init__(self):
            self.messages: list[bytes] = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append(envelope.content)
            return "250 OK"

    handler = Inbox()
    with socket.socket() as sock:  # a free port (the controller checks it by connecting)
        sock.bind(("127.0.0.1", 0))
        handler.port = sock.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port)
    controller.start()
    yield handler
    controller.stop()


def test_daily_publishes_to_git_and_email_once_with_a_source_down(engine, loopback, tmp_path,
                                                                  blog, inbox):
    from email import message_from_bytes

    bare, checkout = blog
    settings = settings_for(
        loopback, tmp_path, daily_targets=["git", "email"], git_checkout=str(checkout),
        smtp_host="127.0.0.1", smtp_port=inbox.port, smtp_security="none",
        email_from="digest@papers.example.org", email_to=["ada@example.org"],
        email_unsubscribe="unsubscribe@papers.example.org")
    first = daily(engine, settings)
    assert [p.target for p in first.published if p.receipt] == ["git", "email"]
    assert any(f.startswith("hf: ") for f in first.failures)  # said, and still published
    post = git("--git-dir", bare, "show", "main:content/posts/2024-03-05---Hot-Papers.md")
    assert post == first.post.read_text()
    assert git("--git-dir", bare, "log", "-1", "--format=%s", "main").startswith(
        "Hot Papers 2024-03-05")
    [raw] = inbox.messages
    message = message_from_bytes(raw)
    assert message["Subject"].startswith("Hot Papers 2024-03-05")
    assert message["To"] == "ada@example.org"

    commits = git("--git-dir", bare, "rev-list", "--count", "main")
    again = daily(engine, settings)
    assert [p.already is not None for p in again.published] == [True, True]
    assert git("--git-dir", bare, "rev-list", "--count", "main") == commits
    assert len(inbox.messages) == 1  # nothing new was sent


@pytest.mark.parametrize("target, expected", [
    ("git", "Hot Papers 2024-03-04: "),
    ("email", "Subject: Hot Papers 2024-03-04: top "),
    ("webhook", '"text": '),
    ("bluesky", '"$type": "app.bsky.feed.post"'),
    ("mastodon", '"visibility": "public"'),
])
def test_publish_dry_run_prints_the_exact_payload_of_every_target(cli, monkeypatch, tmp_path,
                                                                  blog, target, expected):
    _, checkout = blog
    for name, value in {
        "EMAIL_FROM": "digest@papers.example.org", "EMAIL_TO": '["ada@example.org"]',
        "EMAIL_UNSUBSCRIBE": "unsubscribe@papers.example.org",
        "WEBHOOK_URLS": '["https://hooks.example.org/T000/B000/sekrit"]',
        "BSKY_HANDLE": "papers.example.org", "BSKY_APP_PASSWORD": "app-pass-sekrit",
        "MASTODON_TOKEN": "token-sekrit", "MASTODON_INSTANCES": '["https://m.example.org"]',
    }.items():
        monkeypatch.setenv(f"HOTPAPERS_{name}", value)
    assert cli("import", "legacy", FIXTURES / "posts").code == 0
    result = cli("publish", "--date", "2024-03-04", "--to", target, "--dry-run",
                 "--checkout", checkout)
    assert result.code == 0, result.err
    assert result.out.startswith(f"--- {target}: ")
    assert expected in result.out
    assert "sekrit" not in result.out + result.err
    assert git("-C", checkout, "status", "--porcelain") == ""  # nothing was written


def test_a_dry_run_does_not_publish_the_day(cli, engine, loopback, tmp_path, blog):
    from hotpapers.store.posts import post_generated_at

    _, checkout = blog
    daily(engine, settings_for(loopback, tmp_path), fetch=True)  # fetched, post written
    with engine.begin() as conn:
        from hotpapers.store.schema import posts
        conn.execute(posts.delete())  # as if the day had only been fetched
    result = cli("publish", "--date", "2024-03-05", "--to", "git", "--dry-run",
                 "--checkout", checkout)
    assert result.code == 0, result.err
    with engine.connect() as conn:
        assert post_generated_at(conn, TUESDAY, "lumen") is None


def test_a_crash_between_render_and_publish_is_published_once_on_rerun(engine, loopback,
                                                                       tmp_path, blog):
    bare, checkout = blog
    broken = settings_for(loopback, tmp_path, daily_targets=["git"],
                          git_checkout=str(tmp_path / "no-such-checkout"))
    first = daily(engine, broken)  # the post is written, publishing fails
    assert first.post.exists() and not [p for p in first.published if p.receipt]
    assert any(f.startswith("git: ") and "git_checkout" in f for f in first.failures)
    fixed = settings_for(loopback, tmp_path, daily_targets=["git"], git_checkout=str(checkout))
    second = daily(engine, fixed, fetch=False)
    third = daily(engine, fixed, fetch=False)
    assert [p.receipt is not None for p in second.published] == [True]
    assert [p.already is not None for p in third.published] == [True]
    assert second.post.read_bytes() == first.post.read_bytes()
    log = git("--git-dir", bare, "log", "--format=%s", "main").splitlines()
    assert sum(line.startswith("Hot Papers 2024-03-05") for line in log) == 1


def test_p8_a_bad_feed_date_falls_back_to_the_stored_listing(engine, loopback, tmp_path):
    daily(engine, settings_for(loopback, tmp_path))
    loopback.clear()
    feed = (ARXIV / "rss-cs+stat.ML.xml").read_bytes().replace(
        b"<pubDate>Tue, 05 Mar 2024 00:00:00 -0500</pubDate>",
        b"<pubDate>Thu, 99 Foo 2026</pubDate>", 1)
    loopback.expect_request("/rss/cs+stat.ML").respond_with_data(feed)  # the rest is down
    result = daily(engine, settings_for(loopback, tmp_path))
    assert result.papers == "4 papers stored before (arXiv failed)"
    [failure] = [f for f in result.failures if f.startswith("arXiv")]
    assert failure.startswith("arXiv: arXiv feed http://") and "<pubDate>" in failure
    assert result.post.exists()


def test_p7_daily_names_mentioned_papers_arxiv_does_not_answer(engine, httpserver, tmp_path):
    httpserver.expect_request("/rss/cs+stat.ML").respond_with_data(
        (ARXIV / "rss-cs+stat.ML.xml").read_bytes())
    def api(request: Request) -> Response:  # it knows neither 2403.09998 nor 2403.09999
        if "2403.09998" in request.args["id_list"]:
            return Response(b'<feed xmlns="http://www.w3.org/2005/Atom"/>')
        return Response((ARXIV / "api-details.xml").read_bytes())

    httpserver.expect_request("/api/query").respond_with_handler(api)
    stories = [hn_story(str(i), paper, 10, datetime(2024, 3, 5, 3, tzinfo=UTC))
               for i, paper in enumerate(["2403.00001", "2403.09998", "2403.09999"])]
    httpserver.expect_request("/hn/search_by_date").respond_with_json(
        {"hits": stories, "nbHits": 3, "nbPages": 1, "page": 0, "hitsPerPage": 100})
    result = daily(engine, settings_for(httpserver, tmp_path, mention_sources=["hn"],
                                        fetch_missing_papers=True))
    assert ("arXiv: 0 papers fetched from arXiv, 2 not found there: 2403.09998, 2403.09999"
            in result.mentions)
    with engine.connect() as conn:
        [run] = load_runs(conn, 1)
    assert run["counts"]["papers not found"] == 2
    assert any("2 of 2 papers named by mentions: 2403.09998, 2403.09999" in e
               for e in run["errors"])


def test_p1_daily_falls_back_when_a_past_days_harvest_fails(engine, loopback, tmp_path):
    daily(engine, settings_for(loopback, tmp_path))  # the day's listing, from the feed
    loopback.expect_request("/oai").respond_with_data("busy", status=503)
    later = datetime(2024, 3, 12, 10, tzinfo=UTC)
    settings = settings_for(loopback, tmp_path, arxiv_oai_url=loopback.url_for("/oai"))
    with recorded_run(engine, "daily", lambda: later) as run:
        result = run_daily(engine, settings, Secrets(), lambda: later, run, day=TUESDAY,
                           http_clock=FakeClock(later))
    assert result.papers == "4 papers stored before (arXiv failed)"
    assert any(f.startswith("arXiv: OAI-PMH ListRecords") for f in result.failures)
