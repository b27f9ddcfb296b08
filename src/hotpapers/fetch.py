"""The fetch stage for papers: the listing of a day from arXiv into the store. The current
listing comes from the announcement feed (details from the export API); past days from an
OAI-PMH harvest, resumable from the token kept in the run record."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import httpx
from sqlalchemy import Connection, Engine

from hotpapers.config import Settings
from hotpapers.errors import NothingToDo
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
from hotpapers.sources.arxiv.oai import OaiHarvest
from hotpapers.sources.arxiv.rss import parse_listing
from hotpapers.sources.arxiv.schedule import (
    is_listing_date,
    latest_listing_date,
    submission_window,
)
from hotpapers.sources.http import Clock, PoliteClient, user_agent
from hotpapers.store.listings import load_listing, reorder_listing, save_listing
from hotpapers.store.papers import load_papers, save_paper, shown_fields
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
                        retries=settings.http_retries, clock=clock)


def _store(conn: Connection, day: date, listed: Sequence[ListedPaper], now: datetime,
           fetched: PapersFetched, start: int) -> None:
    stored = load_papers(conn, [item.paper.id for item in listed])
    for item in listed:
        old = stored.get(item.paper.id)
        if item.announce_type in ("new", "cross"):
            item.paper.announced_on = day
        elif old is not None:
            item.paper.announced_on = old.announced_on
        if old is not None and old.latest_version == item.paper.latest_version \
                and shown_fields(old) == shown_fields(item.paper):
            fetched.counts["unchanged"] += 1
        else:
            save_paper(conn, item.paper, now)
            fetched.counts[item.announce_type] += 1
    save_listing(conn, day, [(i.paper.id, i.announce_type) for i in listed], start=start)


def _from_feed(http: PoliteClient, day: date, settings: Settings) -> list[ListedPaper]:
    url = f"{settings.arxiv_rss_url.rstrip('/')}/{'+'.join(settings.categories)}"
    feed = parse_listing(http.get(url, what=f"arXiv feed {url}").content, f"arXiv feed {url}")
    if feed.day != day:
        raise NothingToDo(f"the arXiv feed shows the listing of {feed.day}, not {day}")
    items = [i for i in feed.items if in_categories(i.paper.categories, settings.categories)]
    details: dict[str, Paper] = {}
    if items:
        api = ArxivApi(http, settings.arxiv_api_url)
        details = {p.id: p for p in api.papers([i.paper.id for i in items])}
    return [ListedPaper(details.get(i.paper.id, i.paper), i.announce_type) for i in items]


def _harvest(engine: Engine, http: PoliteClient, day: date, settings: Settings,
             now: datetime, run: RunLog, fetched: PapersFetched,
             page_done: Callable[[int], None]) -> list[ListedPaper]:
    holidays = settings.arxiv_holidays
    start = submission_window(day, holidays)[0].date() - timedelta(days=1)
    with engine.connect() as conn:
        resume = last_cursors(conn, "fetch papers", {"day": day.isoformat()})
    done_sets = list(resume.get("done_sets", []))
    harvest = OaiHarvest(http, settings.arxiv_oai_url)
    listed: list[ListedPaper] = []
    seen: set[str] = set()  # a paper in two sets (cs and stat) is listed once
    for set_spec in oai_sets(settings.categories):
        if set_spec in done_sets:
            continue
        token = resume.get("token") if resume.get("set") == set_spec else None
        for page in harvest.pages(set_spec, start, token=token):
            found = [ListedPaper(r.paper, kind) for r in page.records
                     if r.paper is not None and r.paper.id not in seen
                     for kind in [announced_on(r.paper, day, settings.categories, holidays)]
                     if kind is not None]
            seen.update(item.paper.id for item in found)
            with engine.begin() as conn:
                _store(conn, day, found, now, fetched, start=len(listed))
            listed += found
            _checkpoint(run, fetched, day, done_sets, set_spec, page.token)
            page_done(len(page.records))
        done_sets.append(set_spec)
        _checkpoint(run, fetched, day, done_sets, None, None)
    return listed


def _checkpoint(run: RunLog, fetched: PapersFetched, day: date, done_sets: list[str],
                set_spec: str | None, token: str | None) -> None:
    """Keep where the harvest is, so that an interrupted run continues from there."""
    run.cursors = {"day": day.isoformat(), "set": set_spec, "token": token,
                   "done_sets": list(done_sets)}
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
        listed = _from_feed(http, day, settings)
        with engine.begin() as conn:
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

