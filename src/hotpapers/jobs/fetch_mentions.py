"""The fetch stage for attention: mentions from each source into the store, counts of
stored mentions looked up again, deletions honoured, papers named but not yet stored
fetched from arXiv, old observations thinned. One source failing never stops the others."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from sqlalchemy import Engine

from hotpapers.config import Secrets, Settings
from hotpapers.errors import MissingCredentials
from hotpapers.http import Clock
from hotpapers.jobs.fetch_papers import arxiv_http
from hotpapers.models import Mention, Paper
from hotpapers.secrets import scrub as scrub_secrets
from hotpapers.sources.arxiv.api import ArxivApi, some_ids, unanswered
from hotpapers.sources.arxiv.schedule import listing_date
from hotpapers.sources.base import MentionSource, Span
from hotpapers.sources.registry import Skipped, build_sources
from hotpapers.store.mentions import (
    mark_deleted,
    save_mentions,
    stored_in_window,
    thin_observations,
    unknown_paper_ids,
)
from hotpapers.store.papers import save_paper
from hotpapers.store.runs import RunLog, load_runs

__all__ = ["MentionFetch", "MentionsFetched", "SourceOutcome", "fetch_mentions",
           "fetch_unknown_papers"]

COMMAND = "fetch mentions"
BATCH = 200
REFRESH_BATCH = 100
UNKNOWN_PAPER_DAYS = 7


@dataclass
class SourceOutcome:
    """What one source did in a run."""

    name: str
    mentions: int = 0
    papers: set[str] = field(default_factory=set)
    refreshed: int = 0
    deleted: int = 0
    requests: int = 0
    reads: int = 0
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    skipped: str | None = None
    searched: bool = True

    def record(self) -> dict:
        """The run record's view of this outcome."""
        return {"mentions": self.mentions, "papers": len(self.papers),
                "refreshed": self.refreshed, "deleted": self.deleted,
                "requests": self.requests, "reads": self.reads, "notes": self.notes,
                "failed": self.error is not None, "skipped": self.skipped is not None,
                "searched": self.searched}

    @property
    def named_error(self) -> str:
        """The error, starting with the source's name (once)."""
        error = self.error or ""
        return error if error.startswith(f"{self.name}:") else f"{self.name}: {error}"

    def summary(self) -> str:
        if self.skipped:
            return f"{self.name}: skipped: {self.skipped}"
        text = (f"{self.name}: {self.mentions} mentions of {len(self.papers)} papers, "
                f"{self.refreshed} refreshed, {self.deleted} deleted "
                f"({self.requests} requests" + (f", {self.reads} posts read)" if self.reads
                                                else ")"))
        if self.error:
            text += f"; FAILED: {self.error}"
        return "; ".join([text, *self.notes])


@dataclass
class MentionsFetched:
    """What a run of the stage did, source by source."""

    window: Span
    outcomes: list[SourceOutcome] = field(default_factory=list)
    papers_fetched: int = 0
    papers_asked: int = 0
    papers_missing: list[str] = field(default_factory=list)
    thinned: int = 0

    @property
    def papers_unknown(self) -> int:
        return len(self.papers_missing)

    def papers_line(self) -> str:
        """What arXiv said about the papers mentions name, naming (some of) those it lacks."""
        missing = f": {some_ids(self.papers_missing)}" if self.papers_missing else ""
        return (f"{self.papers_fetched} papers fetched from arXiv, "
                f"{self.papers_unknown} not found there{missing}")

    @property
    def failed(self) -> list[SourceOutcome]:
        return [o for o in self.outcomes if o.error]

    @property
    def all_failed(self) -> bool:
        tried = [o for o in self.outcomes if not o.skipped]
        return bool(tried) and all(o.error for o in tried)


def _store(engine: Engine, batch: Sequence[Mention], now: datetime) -> None:
    with engine.begin() as conn:
        save_mentions(conn, batch, now)


def _read(engine: Engine, source: MentionSource, window: Span, clock: Callable[[], datetime],
          outcome: SourceOutcome) -> set[str]:
    """Store the source's mentions for the window in batches, and what was read before a
    failure too; returns their native ids."""
    seen: set[str] = set()
    batch: list[Mention] = []

    def flush() -> None:
        _store(engine, batch, clock())
        for mention in batch:
            seen.add(mention.native_id)
            outcome.papers.update(mention.paper_ids)
        outcome.mentions = len(seen)
        batch.clear()

    try:
        for mention in source.mentions(window):
            batch.append(mention)
            if len(batch) >= BATCH:
                flush()
    except Exception:
        with suppress(Exception):  # keep what was read; the source's error is the one to tell
            flush()
        raise
    flush()
    return seen


def _refresh(engine: Engine, source: MentionSource, window: Span, seen: set[str],
             clock: Callable[[], datetime], outcome: SourceOutcome) -> None:
    """Look up again the stored mentions of the window that this run did not see."""
    with engine.connect() as conn:
        stale = [n for n in stored_in_window(conn, source.name, window.since, window.until)
                 if n not in seen]
    size = getattr(source, "refresh_batch", REFRESH_BATCH)
    for i in range(0, len(stale), size):
        found = source.refresh(stale[i:i + size])
        _store(engine, found.mentions, clock())
        outcome.refreshed += len(found.mentions)
        with engine.begin() as conn:
            outcome.deleted += mark_deleted(conn, source.name, found.gone, clock())


def _hours(cursors: object) -> float | None:
    try:
        since, until = (datetime.fromisoformat(cursors[k]) for k in ("since", "until"))
    except (KeyError, TypeError, ValueError):
        return None
    return (until - since).total_seconds() / 3600 or None


def _usual_rates(engine: Engine, runs: int = 5) -> dict[str, float]:
    """For each source, the mentions per hour of window it found in its last `runs`
    successful runs (read once per run of the stage), so a short window is not compared
    with a long one."""
    rates: dict[str, list[float]] = {}
    with engine.connect() as conn:
        history = load_runs(conn, 100)
    for r in history:
        counts = r.get("counts") if r["command"] == COMMAND else None
        hours = _hours(r.get("cursors"))
        if not isinstance(counts, dict) or not hours:
            continue
        for name, mine in counts.items():
            if isinstance(mine, dict) and not mine.get("failed") \
                    and not mine.get("skipped") and mine.get("searched", True):
                found = rates.setdefault(name, [])
                if len(found) < runs:
                    found.append(mine["mentions"] / hours)
    return {name: sum(found) / len(found) for name, found in rates.items()}


def _one_source(engine: Engine, source: MentionSource, window: Span,
                clock: Callable[[], datetime], refresh: bool, usual_rate: float
                ) -> SourceOutcome:
    outcome = SourceOutcome(source.name)
    usual = usual_rate * (window.until - window.since).total_seconds() / 3600
    searched = True
    try:
        try:
            seen = _read(engine, source, window, clock, outcome)
        except MissingCredentials as exc:  # e.g. Bluesky: search needs a sign-in, lookups not
            outcome.notes.append(f"not searched: {exc}")
            seen, searched = set(), False
        if refresh:
            _refresh(engine, source, window, seen, clock, outcome)
    except Exception as exc:  # one source failing must not stop the others
        outcome.error = str(exc) or type(exc).__name__
    outcome.requests, outcome.reads = source.report.requests, source.report.reads
    outcome.notes.extend(source.report.notes)
    outcome.searched = searched and source.report.searched
    if outcome.mentions == 0 and outcome.searched and not outcome.error and usual >= 1:
        outcome.notes.append(f"warning: nothing found, though its last runs found "
                             f"{usual:.0f} mentions a window like this on average")
    return outcome


def fetch_unknown_papers(engine: Engine, papers: Callable[[list[str]], Iterable[Paper]],
                         clock: Callable[[], datetime], holidays: Sequence = ()
                         ) -> tuple[int, int, list[str]]:
    """Fetch (in the batches `papers` makes) the papers that stored mentions name but the
    store lacks; the mentions link to them at once. Returns how many were fetched, how
    many asked, and the ids arXiv did not answer for."""
    with engine.connect() as conn:  # papers named lately: an id arXiv lacks is not asked forever
        wanted = unknown_paper_ids(conn, clock() - timedelta(days=UNKNOWN_PAPER_DAYS))
    fetched, answered = 0, []
    for paper in papers(wanted):
        answered.append(paper.id)
        if paper.announced_on is None and paper.versions:
            first = min(paper.versions, key=lambda v: v.number)
            if first.submitted_at is not None:
                paper.announced_on = listing_date(first.submitted_at, holidays)
        with engine.begin() as conn:
            save_paper(conn, paper, clock())
        fetched += 1
    return fetched, len(wanted), unanswered(wanted, answered)


def _record_missing(fetched: MentionsFetched, run: RunLog) -> None:
    """Keep in the run how many papers were fetched and which ids arXiv did not answer."""
    run.counts["papers fetched"] = fetched.papers_fetched
    run.counts["papers not found"] = fetched.papers_unknown
    if fetched.papers_missing:
        run.errors.append(f"arXiv answered nothing for {fetched.papers_unknown} of "
                          f"{fetched.papers_asked} "
                          f"papers named by mentions: {some_ids(fetched.papers_missing)}")


def fetch_mentions(engine: Engine, sources: Sequence[MentionSource | Skipped],
                   window: Span, clock: Callable[[], datetime], run: RunLog, *,
                   refresh: bool = True,
                   papers: Callable[[list[str]], Iterable[Paper]] | None = None,
                   holidays: Sequence = (), detail_days: int = 7,
                   done: Callable[[SourceOutcome], None] = lambda _: None,
                   scrub: Callable[[str], str] = scrub_secrets) -> MentionsFetched:
    """Run every source over `window` (one that could not be set up arrives as Skipped),
    then fetch unknown papers and thin observations.
    Failures are kept in `run` and the outcomes; nothing here raises for one source.
    `scrub` removes secrets from what a source said (errors, notes) before it is kept."""
    fetched = MentionsFetched(window)
    usual = _usual_rates(engine)
    run.cursors = {"since": window.since.isoformat(), "until": window.until.isoformat()}
    for source in sources:
        if isinstance(source, Skipped):
            outcome = SourceOutcome(source.name, skipped=source.reason)
        else:
            outcome = _one_source(engine, source, window, clock, refresh,
                                  usual.get(source.name, 0.0))
        outcome.error = scrub(outcome.error) if outcome.error else None
        outcome.notes = [scrub(note) for note in outcome.notes]
        if outcome.error:
            run.errors.append(outcome.named_error)
        fetched.outcomes.append(outcome)
        run.counts[outcome.name] = outcome.record()
        run.checkpoint()
        done(outcome)
    if papers is not None:
        try:
            fetched.papers_fetched, fetched.papers_asked, fetched.papers_missing = \
                fetch_unknown_papers(engine, papers, clock, holidays)
        except Exception as exc:  # the mentions are stored; say what failed
            run.errors.append(f"arXiv details of mentioned papers: {exc}")
        _record_missing(fetched, run)
    with engine.begin() as conn:
        fetched.thinned = thin_observations(conn, clock(), detail_days)
    run.counts["observations thinned"] = fetched.thinned
    return fetched


@dataclass
class MentionFetch:
    """A mention fetch as `fetch mentions` and `daily` run it: the sources asked for, set up
    from settings and secrets, and (with fetch_missing_papers) arXiv's lookup of the
    papers they name that the store lacks. Setting up refuses bad input (an unknown
    source; the only source asked for lacking its credentials) before anything runs."""

    settings: Settings
    secrets: Secrets
    sources: list[MentionSource | Skipped]
    papers: Callable[[list[str]], Iterable[Paper]] | None = None

    @classmethod
    def setup(cls, names: list[str], settings: Settings, secrets: Secrets,
              http_clock: Clock | None = None, transport: httpx.BaseTransport | None = None
              ) -> MentionFetch:
        """The sources called `names` ("all": the mention_sources setting); `http_clock`
        and `transport` pace and carry their requests (tests pass fakes and loopback)."""
        sources = build_sources(names, settings, secrets, http_clock, transport)
        papers = None
        if settings.fetch_missing_papers:
            papers = ArxivApi(arxiv_http(settings, http_clock, transport),
                              settings.arxiv_api_url).papers
        return cls(settings, secrets, sources, papers)

    def run(self, engine: Engine, window: Span, clock: Callable[[], datetime], run: RunLog,
            *, refresh: bool = True,
            done: Callable[[SourceOutcome], None] = lambda _: None) -> MentionsFetched:
        """Fetch the mentions of `window` into the store (see fetch_mentions)."""
        return fetch_mentions(engine, self.sources, window, clock, run, refresh=refresh,
                              papers=self.papers, holidays=self.settings.arxiv_holidays,
                              detail_days=self.settings.observation_detail_days,
                              done=done, scrub=self.secrets.scrub)
