"""`hotpapers doctor`: what this machine can reach and what `daily` would do. The I/O
(one unauthenticated GET per distinct base URL, a look at the store that neither creates
nor migrates it) gathers facts; pure functions turn them into one line per check and an
exit code."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from hotpapers.config import Secrets, Settings
from hotpapers.errors import HotpapersError, InputError, MissingCredentials
from hotpapers.http import user_agent
from hotpapers.jobs.aggregates import rules_json
from hotpapers.jobs.daily import posts_folder
from hotpapers.jobs.jetstream_ingest import CURSOR as STREAM_CURSOR
from hotpapers.jobs.ranking import rules_from
from hotpapers.publish.registry import build_publisher
from hotpapers.secrets import scrub
from hotpapers.sources.registry import build_source
from hotpapers.store.db import connect, current_revision
from hotpapers.store.fulltext import search_ready
from hotpapers.store.revision import HEAD_REVISION
from hotpapers.store.stream_lease import Lease, read_lease
from hotpapers.store.totals import load_state

__all__ = ["FAILED", "OK", "SKIPPED", "Check", "DoctorReport", "Probe", "SourcePlan",
           "StoreFacts", "run_doctor"]

OK, SKIPPED, FAILED = "ok", "skipped", "FAILED"
PROBE_TIMEOUT = 5.0  # seconds; never more than the http_timeout setting


@dataclass(frozen=True)
class Check:
    """One line of the report: `name: status: detail` (no status: `name: detail`)."""

    name: str
    status: str
    detail: str

    def line(self) -> str:
        text = f"{self.name}: {self.status}: {self.detail}" if self.status else \
            f"{self.name}: {self.detail}"
        return scrub(text)


@dataclass(frozen=True)
class Probe:
    """What one GET of a URL gave: an HTTP status (reachable, whatever it is) or an error."""

    url: str
    status: int | None = None
    error: str | None = None

    @property
    def reachable(self) -> bool:
        return self.status is not None

    def text(self) -> str:
        return f"{self.url} (HTTP {self.status})" if self.reachable else \
            f"{self.url}: {self.error}"


@dataclass(frozen=True)
class SourcePlan:
    """An attention source as `daily` would see it: the base URLs it would call, or why it
    is skipped (missing credentials), and a note on what it reads."""

    name: str
    urls: tuple[str, ...] = ()
    skipped: str | None = None
    note: str = ""


@dataclass(frozen=True)
class StoreFacts:
    """The store as found: its URL (password hidden), whether the SQLite file is missing,
    the error opening it, its schema revision."""

    shown: str
    missing: str | None = None
    error: str | None = None
    revision: str | None = None
    creatable: bool = True
    totals: dict | None = None  # the rules the attention totals were built under
    lease: Lease | None = None  # the live stream's, when a consumer ever took it
    search: bool = True  # whether the full-text search is made (a stopped import drops it)


@dataclass
class DoctorReport:
    checks: list[Check] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return exit_code(self.checks)

    def lines(self) -> list[str]:
        return [check.line() for check in self.checks]

    def as_json(self) -> dict:
        return {"checks": [{"name": c.name, "status": c.status, "detail": scrub(c.detail)}
                           for c in self.checks], "exit_code": self.exit_code}


# --- pure: facts -> lines ------------------------------------------------------------------

def exit_code(checks: Iterable[Check]) -> int:
    """1 when a check failed (a skipped one is not a failure), else 0."""
    return 1 if any(check.status == FAILED for check in checks) else 0


def config_check(path: Path, exists: bool) -> Check:
    if exists:
        return Check("config", OK, f"{path} loads and validates")
    return Check("config", OK, f"no file at {path}: defaults and HOTPAPERS_* variables "
                 "(`hotpapers init` writes one)")


def store_check(facts: StoreFacts) -> Check:
    """The database line: missing (not created), failing to open, or its schema revision
    against the code's."""
    if facts.missing:
        if not facts.creatable:
            return Check("database", FAILED, f"{facts.shown}: {facts.missing}, and it cannot "
                         "be created there (the folder is not writable)")
        return Check("database", SKIPPED, f"{facts.shown}: {facts.missing} (not created; "
                     "`hotpapers init` creates it, and so would `daily`)")
    if facts.error:
        return Check("database", FAILED, f"{facts.shown}: {facts.error}")
    if facts.revision is None:
        return Check("database", OK, f"{facts.shown} opens; no schema yet (the code's is "
                     f"{HEAD_REVISION}; `hotpapers init` or the next command creates it)")
    if facts.revision == HEAD_REVISION:
        return Check("database", OK, f"{facts.shown} opens; schema {facts.revision} (current)")
    if _older(facts.revision, HEAD_REVISION):
        return Check("database", OK, f"{facts.shown} opens; schema {facts.revision}, older "
                     f"than the code's {HEAD_REVISION} (the next command migrates it)")
    return Check("database", FAILED, f"{facts.shown} opens, but its schema {facts.revision} "
                 f"is unknown to this code (it expects {HEAD_REVISION}): a newer hotpapers "
                 "migrated it?")


def totals_check(facts: StoreFacts, settings: Settings) -> Check | None:
    """The attention totals' line: built under the configured hot rules (hot and trending
    rank fast), or not (they take the exact path until a rebuild)."""
    if facts.totals is None:
        return None
    rebuild = "hot and trending take the exact, slower path until `hotpapers store " \
        "rebuild-aggregates`"
    if not facts.totals:
        return Check("totals", SKIPPED, f"attention totals not built; {rebuild}")
    if facts.totals != rules_json(rules_from(settings)):
        return Check("totals", SKIPPED, "attention totals built under other hot rules than "
                     f"the settings'; {rebuild}")
    return Check("totals", OK, "attention totals built under the configured hot rules")


def stream_check(facts: StoreFacts, now: datetime) -> Check | None:
    """Who writes the Jetstream now: the lease's holder and expiry (see `stream bluesky`)."""
    lease = facts.lease
    if lease is None or lease.epoch == 0:
        return None
    if lease.free(now):
        since = f" (expired {lease.expires_at:%Y-%m-%d %H:%M:%S} UTC)" if lease.holder else ""
        return Check("stream bluesky", "", f"no consumer holds the lease{since}; the next "
                     "`stream bluesky` takes it")
    return Check("stream bluesky", "", f"{lease.holder} writes (lease epoch {lease.epoch}, "
                 f"renewed until {lease.expires_at:%Y-%m-%d %H:%M:%S} UTC); others stand by")


def search_check(facts: StoreFacts) -> Check | None:
    """A line only when the full-text search is missing: an import of the arXiv snapshot
    dropped it for a large load and was stopped before making it again."""
    if facts.search:
        return None
    return Check("search", SKIPPED, "the full-text search is not made (an import of the arXiv "
                 "snapshot was stopped before its end); `hotpapers init` makes it")


def _older(revision: str, head: str) -> bool:
    return revision.isdigit() and head.isdigit() and int(revision) < int(head)


def reach_check(name: str, urls: Sequence[str], probes: dict[str, Probe],
                note: str = "") -> Check:
    """`name: ok: URL (HTTP 200), ...` when every URL answered; else FAILED naming the
    URLs that did not, and why."""
    found = [probes[url] for url in urls]
    failed = [probe for probe in found if not probe.reachable]
    suffix = f"; {note}" if note else ""
    if not failed:
        return Check(name, OK, "reachable: " + ", ".join(p.text() for p in found) + suffix)
    return Check(name, FAILED, "not reachable: " + "; ".join(p.text() for p in failed) + suffix)


def source_check(plan: SourcePlan, probes: dict[str, Probe]) -> Check:
    if plan.skipped is not None:
        return Check(plan.name, SKIPPED, plan.skipped)
    return reach_check(plan.name, plan.urls, probes, plan.note)


def daily_check(settings: Settings, plans: Sequence[SourcePlan], posts_dir: Path) -> Check:
    """What `daily` would do, in one line: its ranking, the sources it reads (and those
    skipped), where the post goes and which targets get it."""
    runs = [p.name for p in plans if p.skipped is None]
    skipped = [p.name for p in plans if p.skipped is not None]
    method = settings.daily_method
    ranks = f"ranks by {method}"
    if method == "classic":
        counts = settings.classic_sources
        unread = "" if any(s in runs for s in counts) else \
            ", which it does not read" if len(counts) == 1 else ", none of which it reads"
        ranks += f" (counts {', '.join(counts) or 'no source'}{unread})"
    reads = f"reads {', '.join(runs) or 'no source'}"
    if skipped:
        reads += f" ({', '.join(skipped)} skipped: no credentials)"
    targets = ", ".join(settings.daily_targets) or "nothing (daily_targets is empty)"
    return Check("daily", "", f"{ranks}; {reads}; writes the post to {posts_dir}; "
                 f"publishes to: {targets}")


def source_note(name: str, secrets: Secrets) -> str:
    """What a runnable source reads with the credentials it has."""
    if name == "reddit" and not secrets.reddit_client_id:
        return ("public Atom feed, no counts (HOTPAPERS_REDDIT_CLIENT_ID and "
                "HOTPAPERS_REDDIT_CLIENT_SECRET give counts)")
    if name == "mastodon" and secrets.mastodon_token is None:
        return "public tag timelines (HOTPAPERS_MASTODON_TOKEN, optional, adds search)"
    return ""


def source_urls(name: str, settings: Settings, secrets: Secrets) -> tuple[str, ...]:
    """The base URLs a source calls (the ones its settings name)."""
    urls = {
        "x": [settings.x_api_url],
        "bluesky": [settings.bsky_api_url, settings.bsky_public_url],
        "hn": [settings.hn_api_url],
        "hf": [settings.hf_api_url],
        "mastodon": list(settings.mastodon_instances),
        "reddit": [settings.reddit_api_url, settings.reddit_auth_url]
        if secrets.reddit_client_id else [settings.reddit_feed_url],
    }[name]
    return tuple(dict.fromkeys(public_url(url) for url in urls))


def public_url(url: str) -> str:
    """`url` without user info (`https://user:pass@host/` -> `https://host/`): a probe
    sends no credentials, and a line shows none."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def _without_name(name: str, message: str) -> str:
    """`x needs ...` -> `needs ...` (the line already starts with the name)."""
    return message[len(name) + 1:] if message.startswith(f"{name} ") else message


# --- I/O: gathering the facts --------------------------------------------------------------

def plan_source(name: str, settings: Settings, secrets: Secrets) -> SourcePlan:
    """Build the source as `daily` would (no request is made) to learn whether its
    credentials are there; a source may also offer `check_credentials()` for what it needs
    only when it runs (Bluesky's search)."""
    try:
        source = build_source(name, settings, secrets)
        check = getattr(source, "check_credentials", None)
        if check is not None:
            check()
    except MissingCredentials as exc:
        return SourcePlan(name, skipped=_without_name(name, str(exc)))
    return SourcePlan(name, source_urls(name, settings, secrets), note=source_note(name, secrets))


def target_check(name: str, settings: Settings, secrets: Secrets) -> Check:
    """`target NAME: ok` when the publisher can be built (its settings and credentials are
    complete), FAILED with the reason otherwise: it was configured."""
    try:
        publisher = build_publisher(name, settings, secrets)
    except InputError as exc:  # MissingCredentials included
        return Check(f"target {name}", FAILED, str(exc))
    detail = {
        "git": f"checkout {settings.git_checkout}",
        "email": f"SMTP {settings.smtp_host}:{settings.smtp_port}, "
                 f"{len(settings.email_to)} recipient(s)",
        "webhook": f"{len(getattr(publisher, 'urls', ()))} URL(s) in HOTPAPERS_WEBHOOK_URLS",
    }.get(name, "credentials set")
    return Check(f"target {name}", OK, f"settings and credentials complete ({detail})")


def probe_urls(urls: Iterable[str], settings: Settings, timeout: float = PROBE_TIMEOUT,
               transport: httpx.BaseTransport | None = None) -> dict[str, Probe]:
    """One GET per distinct URL, in parallel, with no credentials (only a User-Agent) and
    the body left unread; any HTTP answer means reachable."""
    distinct = list(dict.fromkeys(urls))
    if not distinct:
        return {}
    seconds = min(timeout, settings.http_timeout)
    client = httpx.Client(timeout=seconds, transport=transport, follow_redirects=False,
                          headers={"User-Agent": user_agent(settings.contact_email)})
    with client, ThreadPoolExecutor(max_workers=min(8, len(distinct))) as pool:
        found = list(pool.map(lambda url: _probe(client, url, seconds), distinct))
    return {probe.url: probe for probe in found}


def _probe(client: httpx.Client, url: str, seconds: float) -> Probe:
    try:
        with client.stream("GET", url) as response:
            return Probe(url, status=response.status_code)
    except httpx.TimeoutException:
        return Probe(url, error=f"timed out after {seconds:g} s")
    except httpx.TransportError as exc:
        return Probe(url, error=f"connection failed ({scrub(str(exc)) or type(exc).__name__})")
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
        return Probe(url, error=f"not a usable URL ({scrub(str(exc)) or type(exc).__name__})")


def store_facts(db_url: str) -> StoreFacts:
    """Look at the store without creating or migrating it: a missing SQLite file is
    reported as such (with whether its folder would let it be created)."""
    try:
        parsed = make_url(db_url)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        return StoreFacts("(not shown)", error="not a database URL")
    # the query may hold a password too (`?password=`): never shown
    shown = parsed.set(query={}).render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database).expanduser()
        if not path.is_file():
            return StoreFacts(shown, missing=f"no database at {path}",
                              creatable=_writable_ancestor(path.parent))
    try:
        engine = connect(db_url, migrate_schema=False, create=False)
    except HotpapersError as exc:
        return StoreFacts(shown, error=str(exc))
    try:
        revision = current_revision(engine)
        totals = None
        if revision == HEAD_REVISION:
            with engine.connect() as conn:
                state = load_state(conn)
                lease = read_lease(conn, STREAM_CURSOR)
                search = search_ready(conn)
            totals = state.rules if state is not None else {}
            return StoreFacts(shown, revision=revision, totals=totals, lease=lease,
                              search=search)
        return StoreFacts(shown, revision=revision, totals=totals)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        return StoreFacts(shown, error=f"does not open: {reason[0] if reason else exc}")
    finally:
        engine.dispose()


def _writable_ancestor(folder: Path) -> bool:
    """Whether `folder` exists and is writable, or could be made in its nearest existing
    ancestor."""
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)


def run_doctor(settings: Settings, secrets: Secrets, db_url: str, config: Path,
               config_exists: bool, *, timeout: float = PROBE_TIMEOUT,
               transport: httpx.BaseTransport | None = None,
               now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> DoctorReport:
    """Every check, in order: config, database (and its attention totals), arXiv, each
    source of `mention_sources`, each target of `daily_targets`, then what `daily` would
    do."""
    plans = [plan_source(name, settings, secrets) for name in settings.mention_sources]
    arxiv = tuple(dict.fromkeys(public_url(url) for url in (
        settings.arxiv_api_url, settings.arxiv_oai_url, settings.arxiv_rss_url)))
    probes = probe_urls([*arxiv, *(url for plan in plans for url in plan.urls)], settings,
                        timeout, transport)
    facts = store_facts(db_url)
    extra = [c for c in (totals_check(facts, settings), search_check(facts),
                         stream_check(facts, now())) if c]
    report = DoctorReport([config_check(config, config_exists), store_check(facts), *extra,
                           reach_check("arxiv", arxiv, probes)])
    report.checks += [source_check(plan, probes) for plan in plans]
    report.checks += [target_check(name, settings, secrets) for name in settings.daily_targets]
    report.checks.append(daily_check(settings, plans, posts_folder(settings)))
    return report
