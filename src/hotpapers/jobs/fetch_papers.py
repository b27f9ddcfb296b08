"""The fetch stage for papers: the listing of a day from arXiv into the store. The current
listing comes from the announcement feed (details from the export API); past days from an
OAI-PMH harvest, staged page by page (resumable from the token kept in the run record) and
swapped in only when complete, so a failed harvest never loses the stored listing."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta

import httpx
from sqlalchemy import Connection, Engine

from hotpapers.config import Settings
from hotpapers.errors import NothingToDo, SourceError
from hotpapers.http import MB, Clock, PoliteClient, user_agent
from hotpapers.models import Paper
from hotpapers.sources.arxiv.api import ArxivApi, some_ids, unanswered
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
from hotpapers.store.listings import (
    clear_listing,
    count_staged,
    drop_stale_staging,
    save_listing,
    stage_listing,
    swap_listing,
)
from hotpapers.store.papers import load_papers, save_paper
from hotpapers.store.runs import RunLog, last_cursors

__all__ = ["PapersFetched", "arxiv_http", "fetch_papers"]

STALE_HARVEST = timedelta(days=2)  # staged pages no run added to since: an abandoned harvest


@dataclass
class PapersFetched:
    """What a fetch stored: papers stored or updated, by announce type, and papers that were
    already stored as they are (`unchanged`); each paper is counted once."""

    day: date
    via: str
    counts: Counter = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        c = self.counts
        notes = f" ({'; '.join(self.notes)})" if self.notes else ""
        return (f"{c['new']} new, {c['cross']} cross-listed, "
                f"{c['replace'] + c['replace-cross']} replaced, {c['unchanged']} unchanged"
                f"{notes}")


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
           fetched: PapersFetched) -> None:
    """Store (or update) the papers of a listing; the listing itself is the caller's."""
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


def _from_feed(http: PoliteClient, day: date, settings: Settings, run: RunLog,
               fetched: PapersFetched) -> list[ListedPaper]:
    url = f"{settings.arxiv_rss_url.rstrip('/')}/{'+'.join(settings.categories)}"
    feed = parse_listing(http.get(url, what=f"arXiv feed {url}").content, f"arXiv feed {url}")
    if feed.day != day:  # announced at 20:00 US Eastern, the feed is rebuilt hours later
        raise SourceError(f"arXiv feed {url} still shows the listing of {feed.day}, not {day}; "
                          "try again later")
    items = [i for i in feed.items if in_categories(i.paper.categories, settings.categories)]
    details: dict[str, Paper] = {}
    asked = [i.paper.id for i in items]
    try:
        for paper in ArxivApi(http, settings.arxiv_api_url).papers(asked):
            details[paper.id] = paper
    except SourceError as exc:  # the feed alone still describes each paper
        run.errors.append(f"details from the export API incomplete: {exc}")
    else:
        if missing := unanswered(asked, details):
            note = (f"no details from the export API for {len(missing)} of {len(asked)} "
                    f"papers: {some_ids(missing)}")
            fetched.notes.append(note)
            fetched.counts["details missing"] = len(missing)
            run.errors.append(note)
    return [ListedPaper(details.get(i.paper.id, i.paper), i.announce_type) for i in items]


def _begin_harvest(engine: Engine, scope: dict, now: datetime) -> dict:
    """Where the harvest of `scope` stands: the place an unfinished run kept, when its
    staged pages are all still there; else a fresh harvest with a new key."""
    with engine.begin() as conn:
        resume = last_cursors(conn, "fetch papers", scope)
        harvest = resume.get("harvest")  # runs older than staging kept no key
        if harvest and count_staged(conn, harvest) >= resume.get("staged", 0):
            return resume
        drop_stale_staging(conn, now - STALE_HARVEST)
    return {**scope, "harvest": uuid.uuid4().hex, "staged": 0, "done_sets": []}


def _harvest(engine: Engine, http: PoliteClient, day: date, settings: Settings,
             now: datetime, run: RunLog, fetched: PapersFetched,
             page_done: Callable[[int], None]) -> str:
    """Harvest the listing of `day` page by page into the staging area, keeping the place
    in the run so that an interrupted run continues it; returns the harvest's key."""
    holidays = settings.arxiv_holidays
    start = submission_window(day, holidays)[0].date() - timedelta(days=1)
    scope = {"day": day.isoformat(), "categories": sorted(settings.categories)}
    place = _begin_harvest(engine, scope, now)
    key, resumed_set, token = place["harvest"], place.get("set"), place.get("token")
    done_sets = list(place.get("done_sets", []))
    _checkpoint(run, fetched, place, done_sets, resumed_set, token)  # carried on, whatever happens
    harvest = OaiHarvest(http, settings.arxiv_oai_url)
    seen: set[str] = set()  # a paper in two sets (cs and stat) is listed once
    for set_spec in oai_sets(settings.categories):
        if set_spec in done_sets:
            continue
        for page in _pages(harvest, set_spec, start, token if resumed_set == set_spec else None):
            found = [ListedPaper(r.paper, kind) for r in page.records
                     if r.paper is not None and r.paper.id not in seen
                     for kind in [announced_on(r.paper, day, settings.categories, holidays)]
                     if kind is not None]
            seen.update(item.paper.id for item in found)
            with engine.begin() as conn:
                _store(conn, day, found, now, fetched)
                stage_listing(conn, key, day, [(i.paper.id, i.announce_type) for i in found],
                              now)
                place["staged"] = count_staged(conn, key)
            _checkpoint(run, fetched, place, done_sets, set_spec, page.token)
            page_done(len(page.records))
        done_sets.append(set_spec)
        _checkpoint(run, fetched, place, done_sets, None, None)
    return key


def _pages(harvest: OaiHarvest, set_spec: str, start: date, token: str | None
           ) -> Iterator[OaiPage]:
    """The set's pages from `token`; from the start again when arXiv no longer knows it."""
    try:
        yield from harvest.pages(set_spec, start, token=token)
    except SourceError as exc:
        if token is None or "badResumptionToken" not in str(exc):
            raise
        yield from harvest.pages(set_spec, start)


def _checkpoint(run: RunLog, fetched: PapersFetched, place: dict, done_sets: list[str],
                set_spec: str | None, token: str | None) -> None:
    """Keep where the harvest is (its scope, key and staged count in `place`), so that an
    interrupted run continues from there."""
    run.cursors = {**place, "set": set_spec, "token": token, "done_sets": list(done_sets)}
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
        listed = order(_from_feed(http, day, settings, run, fetched))
        with engine.begin() as conn:
            _store(conn, day, listed, now, fetched)
            if listed:  # an empty feed does not wipe a stored listing
                clear_listing(conn, day)
                save_listing(conn, day, [(i.paper.id, i.announce_type) for i in listed])
    else:
        fetched = PapersFetched(day, "oai-pmh")
        key = _harvest(engine, http, day, settings, now, run, fetched, page_done)
        with engine.begin() as conn:  # the complete listing replaces the stored one at once
            listed = swap_listing(conn, key, day, KINDS)
    if not listed:
        raise NothingToDo(f"{day}: the listing has no papers in {', '.join(settings.categories)}")
    run.counts = dict(fetched.counts)
    return fetched

