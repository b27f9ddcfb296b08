"""The rank stage: a day's or window's papers, ranked by a named method (classic, hot,
trending) under the output filters, and the explanation of one paper's score."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import TypeVar

from sqlalchemy import Connection, Engine

from hotpapers.config import Settings
from hotpapers.errors import InputError, NothingToDo, StoreError
from hotpapers.gc_pause import gc_paused
from hotpapers.jobs.aggregates import rules_json
from hotpapers.models import Paper, SourceSums
from hotpapers.rank.classic import ClassicRules, TweetScore, rank_classic
from hotpapers.rank.filters import Filters
from hotpapers.rank.hot import (
    TOP_ACCOUNTS,
    HotRules,
    Scored,
    explain,
    hot_scores,
    source_sums,
    trending_scores,
    with_top_accounts,
)
from hotpapers.rank.names import Method, Window
from hotpapers.rank.rows import ClassicParts, RankedRow, parts_from_dict
from hotpapers.rank.select import Limits, listed, select
from hotpapers.sources.arxiv.schedule import FIRST_LISTING, listing_dates
from hotpapers.store.attention import account_attention, published_totals, window_paper_ids
from hotpapers.store.listings import load_listing
from hotpapers.store.mentions import latest_observations
from hotpapers.store.papers import load_papers
from hotpapers.store.posts import RankingRow, StoredRanking, load_ranking
from hotpapers.store.totals import load_state
from hotpapers.store.window_sums import top_accounts, window_source_sums

__all__ = ["Explanation", "Method", "Ranked", "Window", "classic_ranking", "explain_paper",
           "explain_stored", "filters_from", "limits_from", "rank_papers", "rank_stored",
           "ranked_rows", "rules_from", "stored_parts", "window_range"]


DAY_PAPERS = ("new", "cross")  # replacements are not papers of the day
DAYS = {Window.day: 1, Window.week: 7, Window.month: 30}


def window_range(day: date, window: Window) -> tuple[date, date]:
    """The announcement dates a window covers: the day itself, or the 7 or 30 days that
    end with it. Windows are keyed on announcement dates, never on post dates, so an old
    paper discussed again does not top this week. None starts before FIRST_LISTING, and
    a day before it has nothing to rank (NothingToDo; the date arithmetic of a window near
    year 1 would fail)."""
    if day < FIRST_LISTING:
        raise NothingToDo(f"{day}: before arXiv's first listing ({FIRST_LISTING})")
    return max(day - timedelta(days=DAYS[window] - 1), FIRST_LISTING), day


def filters_from(settings: Settings) -> Filters:
    return Filters(tuple(settings.filter_categories), tuple(settings.filter_exclude_categories),
                   settings.filter_primary_only, tuple(settings.filter_keywords),
                   tuple(settings.filter_authors))


def rules_from(settings: Settings) -> HotRules:
    return HotRules(source_weights=settings.hot_source_weights,
                    kind_weights=settings.hot_kind_weights,
                    repost_ratio=settings.hot_repost_ratio,
                    new_account_days=settings.hot_new_account_days,
                    new_account_weight=settings.hot_new_account_weight,
                    scale_quantile=settings.hot_scale_quantile,
                    gravity=settings.trending_gravity)


def limits_from(settings: Settings, method: Method) -> Limits:
    """What a method lists (settings `hot_*`, `trending_*`); classic's thresholds are its
    ranker's own rules, so its rankings list every row."""
    if method is Method.hot:
        return Limits(settings.hot_min_score, settings.hot_max_papers)
    if method is Method.trending:
        return Limits(settings.trending_min_score, settings.trending_max_papers)
    return Limits()


@dataclass
class Ranked:
    """A ranking with what it was made from."""

    day: date
    method: Method
    window: Window
    as_of: datetime
    rows: list[RankedRow]
    papers: dict[str, Paper] = field(default_factory=dict)
    filters: Filters = field(default_factory=Filters)

    @property
    def start(self) -> date:
        return window_range(self.day, self.window)[0]


def classic_ranking(conn: Connection, day: date, settings: Settings, as_of: datetime
                    ) -> tuple[StoredRanking, dict[str, list[tuple[str, str]]]]:
    """The day's classic ranking and the tweets shown per paper: the stored ranking of a
    published or imported day, else computed from the day's listing and mentions."""
    stored = load_ranking(conn, day, "classic")
    if stored is not None:
        return stored, {}
    listing = [paper_id for paper_id, kind in load_listing(conn, day) if kind in DAY_PAPERS]
    if not listing:
        raise NothingToDo(f"no papers stored for {day}: fetch or import that day first")
    papers = load_papers(conn, listing)
    attention = latest_observations(conn, listing, settings.classic_sources, as_of)
    tweets = {p: [TweetScore(key, o.reposts or 0, o.likes or 0) for key, o in attention[p]]
              for p in listing}
    rules = ClassicRules(settings.classic_paper_threshold, settings.classic_tweet_threshold,
                         settings.classic_max_tweets)
    ranked = rank_classic(listing, tweets, rules,
                          with_pdf={p for p in listing if papers[p].pdf_url})
    rows = [RankingRow(r.paper_id, r.score, r.parts.to_json()) for r in ranked]
    ranking = StoredRanking(day=day, method="classic", as_of=as_of, rows=rows,
                            settings={"sources": settings.classic_sources})
    return ranking, {r.paper_id: list(r.parts.shown) for r in ranked}


def stored_parts(ranking: StoredRanking) -> list[ClassicParts]:
    """The typed parts of a classic ranking's rows; a stored row without whole-number
    totals (from a hand-made snapshot) is a StoreError naming the day and the paper."""
    parts = []
    for row in ranking.rows:
        try:
            parts.append(ClassicParts.from_dict(row.parts))
        except (ValueError, TypeError, AttributeError) as exc:
            raise StoreError(f"the stored classic ranking of {ranking.day}, paper "
                             f"{row.paper_id}: {exc}; import that day again from its post "
                             "or a complete snapshot") from None
    return parts


def ranked_rows(ranking: StoredRanking) -> list[RankedRow]:
    """A stored ranking's rows with typed parts, whichever method made it; a row whose
    parts do not read back is a StoreError naming the day and the paper."""
    rows = []
    for row in ranking.rows:
        try:
            rows.append(RankedRow(row.paper_id, row.score, parts_from_dict(row.parts)))
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            raise StoreError(f"the stored {ranking.method} ranking of {ranking.day}, paper "
                             f"{row.paper_id}: bad parts ({exc!r}); publish that day "
                             "again") from None
    return rows


def _classic_rows(conn: Connection, day: date, window: Window, settings: Settings,
                  as_of: datetime, known: StoredRanking | None = None
                  ) -> tuple[list[RankedRow], datetime]:
    """The classic rows of each listing day in the window (a published or imported day as
    it was published, `known` for its day), pooled and ordered by score; ties keep day
    order."""
    start, end = window_range(day, window)
    days = [end] if window is Window.day else listing_dates(start, end, settings.arxiv_holidays)
    rows: list[RankedRow] = []
    stamps = []
    for one in days:
        try:
            ranking = (known if known is not None and known.day == one
                       else classic_ranking(conn, one, settings, as_of)[0])
        except NothingToDo:
            if window is Window.day:
                raise
            continue
        stamps.append(ranking.as_of)
        rows += [RankedRow(r.paper_id, r.score, replace(parts, day=one))
                 for r, parts in zip(ranking.rows, stored_parts(ranking), strict=True)]
    if not stamps:
        raise NothingToDo(f"no papers stored for {start} to {end}: fetch or import them first")
    rows.sort(key=lambda r: -r.score)
    seen: set[str] = set()  # a paper new one day and cross-listed later is listed once
    rows = [r for r in rows if not (r.paper_id in seen or seen.add(r.paper_id))]
    return rows, max(stamps)


def _current_sums(conn: Connection, start: date, end: date, rules: HotRules,
                  as_of: datetime, first_at: bool) -> list[SourceSums] | None:
    """The window's (paper, source) sums from the aggregates, when they answer for `as_of`:
    built under these rules, and nothing counted in them is later than `as_of`. None: take
    the exact path."""
    state = load_state(conn)
    if state is None or state.rules != rules_json(rules):
        return None
    if state.data_until is not None and as_of < state.data_until:
        return None
    return window_source_sums(conn, start, end, first_at)


def merged(sums: list[SourceSums], more: list[SourceSums]) -> list[SourceSums]:
    """`sums` with `more` added to the entry of the same (paper, source), or appended (a
    snapshot's published totals may be on a source that also has posts)."""
    found = {(s.paper_id, s.source): i for i, s in enumerate(sums)}
    out = list(sums)
    for extra in more:
        i = found.get((extra.paper_id, extra.source))
        if i is None:
            found[(extra.paper_id, extra.source)] = len(out)
            out.append(extra)
            continue
        one = out[i]
        firsts = [t for t in (one.first_at, extra.first_at) if t is not None]
        out[i] = one._replace(raw=one.raw + extra.raw, people=one.people + extra.people,
                              posts=one.posts + extra.posts,
                              reposts_capped=one.reposts_capped + extra.reposts_capped,
                              new_accounts=one.new_accounts + extra.new_accounts,
                              first_at=min(firsts, default=None),
                              top_accounts=one.top_accounts + extra.top_accounts)
    return out


def _hot_scores(conn: Connection, day: date, method: Method, window: Window,
                settings: Settings, as_of: datetime, exact: bool = False
                ) -> tuple[list[Scored], bool]:
    """The window's papers by hot or trending score, from their per-source sums: kept up
    to date on write (the fast path) or, with `exact` or for an earlier as-of, summed from
    the observations. Also whether the fast path answered (its sums name no top accounts)."""
    start, end = window_range(day, window)
    ids = window_paper_ids(conn, start, end)
    if not ids:
        raise NothingToDo(f"no papers stored for {start} to {end}: fetch them first")
    rules = rules_from(settings)
    sums = None if exact else _current_sums(conn, start, end, rules, as_of,
                                            first_at=method is Method.trending)
    fast = sums is not None
    published = published_totals(conn, start, end, as_of)
    if fast:
        sums = merged(sums, source_sums(published, rules)) if published else sums
    else:
        sums = source_sums(account_attention(conn, start, end, as_of, settings.hot_repost_ratio)
                           + published, rules)
    if method is Method.hot:
        return hot_scores(ids, sums, rules), fast
    return trending_scores(ids, sums, rules, as_of=as_of), fast


Row = TypeVar("Row", RankedRow, Scored)
FILTER_CHUNK = 500  # papers loaded at a time to apply the filters to a ranking


def _filtered(conn: Connection, rows: list[Row], filters: Filters, limits: Limits | None
              ) -> tuple[list[Row], dict[str, Paper]]:
    """The rows whose papers the filters pass, best first, and those papers. With `limits`
    it stops once the rows it kept fill them (or scores fall below their floor), so a
    narrow filter over a month loads the papers it looks at, not all of them."""
    if not filters.active:
        return rows, {}
    kept: list[Row] = []
    papers: dict[str, Paper] = {}
    for i in range(0, len(rows), FILTER_CHUNK):
        chunk = rows[i:i + FILTER_CHUNK]
        found = load_papers(conn, [r.paper_id for r in chunk])
        papers.update(found)
        kept += [r for r in chunk if filters.matches(found[r.paper_id])]
        if limits is not None and (
                (limits.max_papers is not None and len(kept) >= limits.max_papers)
                or chunk[-1].score < limits.min_score):
            break
    return kept, papers


def _scored(conn: Connection, day: date, method: Method, window: Window,
            settings: Settings, as_of: datetime, classic: StoredRanking | None,
            exact: bool) -> tuple[list[RankedRow] | list[Scored], datetime, bool]:
    """Every paper of the window with its score, best first (classic rows come explained,
    hot and trending ones not yet), the as-of time, and whether the fast path answered."""
    if method is Method.classic:
        rows, as_of = _classic_rows(conn, day, window, settings, as_of, classic)
        return rows, as_of, False
    scored, fast = _hot_scores(conn, day, method, window, settings, as_of, exact)
    return scored, as_of, fast


def _explained(conn: Connection, rows: list[RankedRow] | list[Scored], fast: bool
               ) -> list[RankedRow]:
    """Rows with the parts an explanation shows; from the fast path, naming their top
    accounts (the kept sums carry none)."""
    explained = [explain(r) if isinstance(r, Scored) else r for r in rows]
    if not fast:
        return explained
    top = top_accounts(conn, [(r.paper_id, source) for r in explained
                              for source in r.parts.sources], TOP_ACCOUNTS)
    return [with_top_accounts(r, top) for r in explained]


def rank_papers(conn: Connection, day: date, method: Method, window: Window,
                settings: Settings, as_of: datetime, filters: Filters | None = None,
                limits: bool = True, classic: StoredRanking | None = None,
                exact: bool = False) -> Ranked:
    """Rank the window's papers, then keep those the filters pass: a filter narrows the
    list and never moves a score (every paper is measured against the whole window).
    Thresholds and top-N come from settings unless `limits` is off (every row listed).
    `classic` is a classic ranking of one day that the caller made already (a preview
    post's): that day is not ranked again. Hot and trending read the aggregates when they
    answer for `as_of`; `exact` sums the observations instead (the reference; same
    ranking). Only the listed rows are explained."""
    filters = filters if filters is not None else filters_from(settings)
    with gc_paused():  # about 100,000 short-lived tuples for a month
        rows, as_of, fast = _scored(conn, day, method, window, settings, as_of, classic,
                                    exact)
        bounds = limits_from(settings, method) if limits else None
        rows, papers = _filtered(conn, rows, filters, bounds)
        if bounds is not None:
            rows = select(rows, bounds)
        listed_rows = _explained(conn, rows, fast)
        del rows
    shown = {p: papers[p] for p in (r.paper_id for r in listed_rows) if p in papers}
    if len(shown) < len(listed_rows):
        shown = load_papers(conn, [r.paper_id for r in listed_rows])
    return Ranked(day, method, window, as_of, listed_rows, shown, filters)


@dataclass
class Explanation:
    """Why a paper ranks where it does in a ranking of every paper of the window: its place
    (None: no attention counted), whether the thresholds list it, and its row."""

    paper: Paper
    method: Method
    window: Window
    day: date
    start: date
    as_of: datetime
    rank: int | None
    of: int
    listed: bool
    row: RankedRow | None

    @property
    def score(self) -> float:
        return self.row.score if self.row is not None else 0.0

    def to_json(self) -> dict:
        return {
            "id": self.paper.id, "title": self.paper.title, "method": self.method.value,
            "window": self.window.value, "day": self.day.isoformat(),
            "from": self.start.isoformat(), "as_of": self.as_of.isoformat(),
            "rank": self.rank, "of": self.of, "listed": self.listed, "score": self.score,
            "parts": self.row.parts.to_json() if self.row is not None else {},
        }


def explain_paper(conn: Connection, paper_id: str, day: date | None, method: Method,
                  window: Window, settings: Settings, as_of: datetime) -> Explanation:
    """Why `paper_id` ranks where it does: its place among all the window's papers, its
    score and the parts of it (per source: people, posts, raw value, the yardstick it was
    divided by, dampings; the top accounts), and whether the thresholds list it."""
    paper = load_papers(conn, [paper_id]).get(paper_id)
    if paper is None:
        raise InputError(f"{paper_id}: no such paper stored (fetch it, or its day, first)")
    day = day or paper.announced_on
    if day is None:
        raise InputError(f"{paper_id}: its announcement date is unknown; give --date")
    with gc_paused():
        rows, as_of, fast = _scored(conn, day, method, window, settings, as_of, None, False)
        place = next((i for i, r in enumerate(rows, 1) if r.paper_id == paper_id), None)
        row = _explained(conn, [rows[place - 1]], fast)[0] if place else None
    return Explanation(
        paper, method, window, day, window_range(day, window)[0], as_of, place, len(rows),
        row is not None and listed(place, row, limits_from(settings, method)), row)


def rank_stored(engine: Engine, day: date, method: Method, window: Window,
                settings: Settings, as_of: datetime, filters: Filters | None = None) -> Ranked:
    """`rank_papers` in a read of its own, for the command line and the web app."""
    with engine.connect() as conn:
        return rank_papers(conn, day, method, window, settings, as_of, filters)


def explain_stored(engine: Engine, paper_id: str, day: date | None, method: Method,
                   window: Window, settings: Settings, as_of: datetime) -> Explanation:
    """`explain_paper` in a read of its own."""
    with engine.connect() as conn:
        return explain_paper(conn, paper_id, day, method, window, settings, as_of)
