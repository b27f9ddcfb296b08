"""The fetch stage for papers: the listing of a day from arXiv into the store. The current
listing comes from the announcement feed (details from the export API); past days from an
OAI-PMH harvest, resumable from the token kept in the run record."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta

import httpx
from sqlalchemy import Connection, Engine

from hotpapers.config import Settings
from hotpapers.errors import NothingToDo, SourceError
from hotpapers.models import Paper
from hotpapers.sources.arxiv.api import ArxivApi
from hotpapers.sources.arxiv.listing import (
    KINDS,
    ListedPaper,
    announced_on,
    in_categories,
    oai_sets,
    order,
)
from hotpapers.sources.arxiv.oai import OaiHarvest, OaiPage
from hotpapers.sources.arxiv.rss import parse_listing
from hotpapers.sources.arxiv.schedule import (
    is_listing_date,
    latest_listing_date,
    submission_window,
)
from hotpapers.sources.http import MB, Clock, PoliteClient, user_agent
from hotpapers.store.listings import clear_listing, load_listing, reorder_listing, save_listing
from hotpapers.store.papers import load_papers, save_paper
from hotpapers.store.runs import RunLog, last_cursors

__all__ = ["PapersFetched", "arxiv_http", "fetch_papers"]


@dataclass
class PapersFetched:
    """What a fetch stored: papers stored or updated, by announce type, and papers that were
    already stored as they are (`unchanged`); each paper is counted once."""

    day: date
    via: str
    counts: Counter = field(default_factory=Counter)

    def summary(self) -> str:
        c = self.counts
        return (f"{c['new']} new, {c['cross']} cross-listed, "
                f"{c['replace'] + c['replace-cross']} replaced, {c['unchanged']} unchanged")


def arxiv_http(settings: Settings, clock: Clock | None = None,
               transport: httpx.BaseTransport | None = None) -> PoliteClient:
    """One polite client for every arXiv interface: arXiv's rule is per client, not per host."""
    client = httpx.Client(timeout=settings.http_timeout, transport=transport,
                          headers={"User-Agent": user_agent(settings.contact_email)},
                          follow_redirects=True)
    return PoliteClient(client, min_interval=settings.arxiv_interval,
                        retries=settings.http_retries, clock=clock,
                        deadline=settings.http_deadline,
                        max_body=int(settings.http_max_body_mb * MB))


def _merged(old: Paper | None, new: Paper) -> Paper:
    """`new`, with what it does not know (None, empty) taken from the stored `old`."""
    if old is None:
        return new
    values = {f.name: getattr(new, f.name) for f in fields(Paper)}
    for name, value in values.items():
        if value is None or value == []:
            values[name] = getattr(old, name)
    known = {v.number: v for v in old.versions} | {v.number: v for v in new.versions}
    values["versions"] = [known[n] for n in sorted(known)]
    return Paper(**values)


def _store(conn: Connection, day: date, listed: Sequence[ListedPaper], now: datetime,
           fetched: PapersFetched, start: int) -> None:
    stored = load_papers(conn, [item.paper.id for item in listed])
    for item in listed:
        old = stored.get(item.paper.id)
        if item.announce_type in ("new", "cross"):
            item.paper.announced_on = day
        paper = _merged(old, item.paper)
        if paper == old:
            fetched.counts["unchanged"] += 1
        else:
            save_paper(conn, paper, now, stored=old)
            fetched.counts[item.announce_type] += 1
    save_listing(conn, day, [(i.paper.id, i.announce_type) for i in listed], start=start)


def _from_feed(http: PoliteClient, day: date, settings: Settings,
               run: RunLog) -> list[ListedPaper]:
    url = f"{settings.arxiv_rss_url.rstrip('/')}/{'+'.join(settings.categories)}"
    feed = parse_listing(http.get(url, what=f"arXiv feed {url}").content, f"arXiv feed {url}")
    if feed.day != day:  # announced at 20:00 US Eastern, the feed is rebuilt hours later
        raise SourceError(f"arXiv feed {url} still shows the listing of {feed.day}, not {day}; "
                          "try again later")
    items = [i for i in feed.items if in_categories(i.paper.categories, settings.categories)]
    details: dict[str, Paper] = {}
    api = ArxivApi(http, settings.arxiv_api_url)
    try:
        for paper in api.papers([i.paper.id for i in items]):
            details[paper.id] = paper
    except SourceError as exc:  # the feed alone still describes each paper
        run.errors.append(f"details from the export API incomplete: {exc}")
    return [ListedPaper(details.get(i.paper.id, i.paper), i.announce_type) for i in items]


def _harvest(engine: Engine, http: PoliteClient, day: date, settings: Settings,
             now: datetime, run: RunLog, fetched: PapersFetched,
             page_done: Callable[[int], None]) -> list[ListedPaper]:
    holidays = settings.arxiv_holidays
    start = submission_window(day, holidays)[0].date() - timedelta(days=1)
    scope = {"day": day.isoformat(), "categories": sorted(settings.categories)}
    with engine.connect() as conn:
        resume = last_cursors(conn, "fetch papers", scope)
        if not resume:  # a fresh run: the listing is made anew
            clear_listing(conn, day)
            conn.commit()
    done_sets = list(resume.get("done_sets", []))
    if resume:  # this run carries the place on, whatever happens to it
        _checkpoint(run, fetched, scope, done_sets, resume.get("set"), resume.get("token"))
    harvest = OaiHarvest(http, settings.arxiv_oai_url)
    listed: list[ListedPaper] = []
    seen: set[str] = set()  # a paper in two sets (cs and stat) is listed once
    for set_spec in oai_sets(settings.categories):
        if set_spec in done_sets:
            continue
        token = resume.get("token") if resume.get("set") == set_spec else None
        for page in _pages(harvest, set_spec, start, token):
            found = [ListedPaper(r.paper, kind) for r in page.records
                     if r.paper is not None and r.paper.id not in seen
                     for kind in [announced_on(r.paper, day, settings.categories, holidays)]
                     if kind is not None]
            seen.update(item.paper.id for item in found)
            with engine.begin() as conn:
                _store(conn, day, found, now, fetched, start=len(listed))
            listed += found
            _checkpoint(run, fetched, scope, done_sets, set_spec, page.token)
            page_done(len(page.records))
        done_sets.append(set_spec)
        _checkpoint(run, fetched, scope, done_sets, None, None)
    return listed


def _pages(harvest: OaiHarvest, set_spec: str, start: date, token: str | None
           ) -> Iterator[OaiPage]:
    """The set's pages from `token`; from the start again when arXiv no longer knows it."""
    try:
        yield from harvest.pages(set_spec, start, token=token)
    except SourceError as exc:
        if token is None or "badResumptionToken" not in str(exc):
            raise
        yield from harvest.pages(set_spec, start)


def _checkpoint(run: RunLog, fetched: PapersFetched, scope: dict, done_sets: list[str],
                set_spec: str | None, token: str | None) -> None:
    """Keep where the harvest is, so that an interrupted run continues from there."""
    run.cursors = {**scope, "set": set_spec, "token": token, "done_sets": list(done_sets)}
    run.counts = dict(fetched.counts)
    run.checkpoint()


def fetch_papers(engine: Engine, http: PoliteClient, day: date, settings: Settings,
                 now: datetime, run: RunLog,
                 page_done: Callable[[int], None] = lambda _: None) -> PapersFetched:
    """Store the papers announced in the listing dated `day` in the configured categories,
    cross-lists included, each once; NothingToDo when arXiv published no such listing."""
    holidays = settings.arxiv_holidays
    if not is_listing_date(day, holidays):
        raise NothingToDo(f"{day}: arXiv publishes no listing that day (weekend or holiday)")
    latest = latest_listing_date(now, holidays)
    if day > latest:
        raise NothingToDo(f"{day}: not announced yet (the latest listing is {latest})")
    if day == latest:
        fetched = PapersFetched(day, "feed")
        listed = _from_feed(http, day, settings, run)
        with engine.begin() as conn:
            clear_listing(conn, day)
            _store(conn, day, order(listed), now, fetched, start=0)
    else:
        fetched = PapersFetched(day, "oai-pmh")
        _harvest(engine, http, day, settings, now, run, fetched, page_done)
        with engine.begin() as conn:  # final positions in arXiv's listing order
            reorder_listing(conn, day, KINDS)
            listed = load_listing(conn, day)  # a resumed run stored part of it before
    if not listed:
        raise NothingToDo(f"{day}: the listing has no papers in {', '.join(settings.categories)}")
    run.counts = dict(fetched.counts)
    return fetched

