"""The daily job: fetch a day's papers and its mentions, rank, write the post, publish to
the configured targets; one run at a time per store (on PostgreSQL across hosts; `publish`
of one day to one target takes the same lock), safe to run again (a published day keeps its
as-of time and is not published twice)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import platformdirs
from filelock import FileLock, Timeout
from sqlalchemy import Engine

from hotpapers.config import Secrets, Settings
from hotpapers.errors import HotpapersError, NothingToDo
from hotpapers.http import Clock
from hotpapers.jobs.digest import Published, make_digest, publish_once
from hotpapers.jobs.fetch_mentions import MentionFetch
from hotpapers.jobs.fetch_papers import arxiv_http, fetch_papers
from hotpapers.publish.base import Publisher
from hotpapers.publish.registry import build_publisher
from hotpapers.publish.webhook import send_alert
from hotpapers.render.write import write_atomic
from hotpapers.sources.arxiv.schedule import announcement_time, latest_listing_date
from hotpapers.sources.base import Span
from hotpapers.store.db import parse_url
from hotpapers.store.listings import load_listing
from hotpapers.store.locks import DAILY_LOCK, advisory_lock
from hotpapers.store.runs import RunLog

__all__ = ["DailyResult", "daily_lock", "posts_folder", "publish_day", "run_daily"]


@dataclass
class DailyResult:
    """What a daily run did, stage by stage, for the summary."""

    day: date
    papers: str = ""
    mentions: list[str] = field(default_factory=list)
    listed: int = 0
    post: Path | None = None
    published: list[Published] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    targets_failed: list[str] = field(default_factory=list)


def posts_folder(settings: Settings) -> Path:
    """Where `daily` writes the post: `posts_dir`, else `posts` in the user data folder."""
    return Path(settings.posts_dir) if settings.posts_dir else \
        Path(platformdirs.user_data_dir("hotpapers")) / "posts"


def lock_path(db_url: str) -> Path:
    """The file lock: beside a SQLite file, else in the user data directory."""
    parsed = parse_url(db_url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return Path(f"{Path(parsed.database).expanduser().resolve()}.daily.lock")
    return Path(platformdirs.user_data_dir("hotpapers")) / "daily.lock"


@contextmanager
def daily_lock(db_url: str, wait: float = 0.0,
               sleep: Callable[[float], None] = time.sleep) -> Iterator[str]:
    """Hold the daily lock of the store at `db_url`: on PostgreSQL an advisory lock, which
    holds across hosts and is released when its connection ends; otherwise a file lock
    beside the SQLite file. NothingToDo (exit 3) when another run holds it after `wait`
    seconds: that run is doing the work. Yields what the lock is, for messages."""
    if parse_url(db_url).get_backend_name() == "postgresql":
        what = f"PostgreSQL advisory lock {DAILY_LOCK}"
        with advisory_lock(db_url, DAILY_LOCK, wait, sleep) as held:
            if not held:
                raise NothingToDo(f"another `hotpapers daily` is running ({what})")
            yield what
        return
    path = lock_path(db_url)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=wait)
    except Timeout:
        raise NothingToDo(f"another `hotpapers daily` is running (lock {path})") from None
    try:
        yield str(path)
    finally:
        lock.release()


def publish_day(engine: Engine, db_url: str, day: date, settings: Settings,
                publisher: Publisher, clock: Callable[[], datetime], *, dry_run: bool = False,
                force: bool = False) -> Published:
    """Make the day's digest and publish it to `publisher` once (see publish_once), holding
    the daily lock of `db_url` (waiting up to a minute for a daily run). A dry run takes no
    lock, builds the digest and changes nothing."""
    with daily_lock(db_url, wait=60) if not dry_run else nullcontext():
        digest = make_digest(engine, day, settings, clock(), keep=not dry_run)
        return publish_once(engine, digest, publisher, clock, dry_run=dry_run, force=force)


def _fetch_papers(engine: Engine, day: date, settings: Settings, clock, run: RunLog,
                  result: DailyResult, transport, http_clock) -> None:
    try:
        fetched = fetch_papers(engine, arxiv_http(settings, http_clock, transport), day,
                               settings, clock(), run)
        result.papers = fetched.summary()
    except NothingToDo:
        raise
    except HotpapersError as exc:
        with engine.connect() as conn:
            stored = load_listing(conn, day)
        if not stored:
            raise
        result.failures.append(f"arXiv: {exc}")
        result.papers = f"{len(stored)} papers stored before (arXiv failed)"


def _fetch_mentions(engine: Engine, day: date, settings: Settings, secrets: Secrets, clock,
                    run: RunLog, result: DailyResult, transport, http_clock,
                    note: Callable[[str], None] = lambda _: None) -> None:
    since = announcement_time(day, settings.arxiv_holidays)
    until = clock()
    if since is None or since >= until:
        return
    fetch = MentionFetch.setup(["all"], settings, secrets, http_clock, transport)
    fetched = fetch.run(engine, Span(since, until), clock, run,
                        done=lambda outcome: note(outcome.summary()))
    for outcome in fetched.outcomes:
        result.mentions.append(outcome.summary())
        if outcome.error:
            result.failures.append(outcome.named_error)
        result.warnings += [f"{outcome.name}: {n}" for n in outcome.notes if "warning" in n]
    if fetch.papers is not None:
        result.mentions.append(f"arXiv: {fetched.papers_line()}")


def _alert(settings: Settings, secrets: Secrets, result: DailyResult, http_clock,
           transport) -> None:
    """Tell HOTPAPERS_ALERT_WEBHOOK_URL (when set) what went wrong or looked wrong."""
    problems = [*result.failures, *result.warnings]
    if problems:
        text = f"hotpapers daily {result.day}: " + "; ".join(problems)
        send_alert(settings, secrets, text, http_clock, transport)


def run_daily(engine: Engine, settings: Settings, secrets: Secrets,
              clock: Callable[[], datetime], run: RunLog, *, day: date | None = None,
              force: bool = False, fetch: bool = True, transport=None,
              http_clock: Clock | None = None,
              step: Callable[[str], None] = lambda _: None,
              note: Callable[[str], None] = lambda _: None) -> DailyResult:
    """Fetch, rank, write the post, publish; see the module docstring. A source failing
    is reported and the digest made from the others; a target failing is reported and
    the other targets still get the digest. `http_clock` paces and times the requests
    (tests pass a fake one). `step` is told each of the 4 stages done, `note` each source
    and target done."""

    day = day or latest_listing_date(clock(), settings.arxiv_holidays)
    result = DailyResult(day)
    run.cursors = {"day": day.isoformat()}
    if fetch:
        _fetch_papers(engine, day, settings, clock, run, result, transport, http_clock)
        step(f"papers fetched for {day}: {result.papers}")
        _fetch_mentions(engine, day, settings, secrets, clock, run, result, transport,
                        http_clock, note)
        step("mentions fetched")
    digest = make_digest(engine, day, settings, clock())
    result.listed = len(digest.papers)
    result.post = write_atomic(posts_folder(settings) / digest.post_name, digest.post_text)
    step(f"post written: {result.post}")
    for target in settings.daily_targets:
        try:
            publisher = build_publisher(target, settings, secrets, http_clock, transport)
            result.published.append(publish_once(engine, digest, publisher, clock,
                                                 force=force))
            note(result.published[-1].line())
        except NothingToDo as exc:  # e.g. no paper listed: nothing to post there
            result.warnings.append(f"{target}: {exc}")
        except HotpapersError as exc:
            result.failures.append(secrets.scrub(f"{target}: {exc}"))
            result.targets_failed.append(target)
            note(result.failures[-1])
    step(f"published to {len(result.published)} of {len(settings.daily_targets)} targets")
    _alert(settings, secrets, result, http_clock, transport)
    run.counts.update({"listed": result.listed, "targets": len(settings.daily_targets),
                       "published": sum(p.receipt is not None for p in result.published)})
    run.errors.extend(result.failures)
    return result
