"""The rank stage: a day's or window's papers, ranked by a named method (classic, hot,
trending) under the output filters, and the explanation of one paper's score."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Connection

from hotpapers.config import Settings
from hotpapers.errors import InputError, NothingToDo
from hotpapers.models import Paper
from hotpapers.rank.classic import PaperTweets, TweetScore, rank_classic
from hotpapers.rank.filters import Filters
from hotpapers.rank.hot import HotRules, RankedRow, rank_hot, rank_trending
from hotpapers.rank.names import Method, Window
from hotpapers.sources.arxiv.schedule import listing_dates
from hotpapers.store.attention import account_attention, published_totals, window_paper_ids
from hotpapers.store.listings import load_listing
from hotpapers.store.mentions import latest_observations
from hotpapers.store.papers import load_papers
from hotpapers.store.posts import RankingRow, StoredRanking, load_ranking

__all__ = ["Method", "Ranked", "Window", "classic_ranking", "explain_paper", "filters_from",
           "rank_papers", "rules_from", "window_range"]


DAY_PAPERS = ("new", "cross")  # replacements are not papers of the day
DAYS = {Window.day: 1, Window.week: 7, Window.month: 30}


def window_range(day: date, window: Window) -> tuple[date, date]:
    """The announcement dates a window covers: the day itself, or the 7 or 30 days that
    end with it. Windows are keyed on announcement dates, never on post dates, so an old
    paper discussed again does not top this week."""
    return day - timedelta(days=DAYS[window] - 1), day


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
    inputs = [PaperTweets(paper_id=p, has_pdf=bool(papers[p].pdf_url), tweets=[
        TweetScore(key, o.reposts or 0, o.likes or 0) for key, o in attention[p]])
        for p in listing]
    ranked = rank_classic(inputs, settings.classic_paper_threshold,
                          settings.classic_tweet_threshold, settings.classic_max_tweets)
    rows = [RankingRow(r.paper_id, r.score, r.parts) for r in ranked]
    ranking = StoredRanking(day=day, method="classic", as_of=as_of, rows=rows,
                            settings={"sources": settings.classic_sources})
    return ranking, {r.paper_id: r.shown for r in ranked}


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
        rows += [RankedRow(r.paper_id, r.score, {**r.parts, "day": one.isoformat()})
                 for r in ranking.rows]
    if not stamps:
        raise NothingToDo(f"no papers stored for {start} to {end}: fetch or import them first")
    rows.sort(key=lambda r: -r.score)
    seen: set[str] = set()  # a paper new one day and cross-listed later is listed once
    rows = [r for r in rows if not (r.paper_id in seen or seen.add(r.paper_id))]
    return rows, max(stamps)


def rank_papers(conn: Connection, day: date, method: Method, window: Window,
                settings: Settings, as_of: datetime, filters: Filters | None = None,
                limits: bool = True, classic: StoredRanking | None = None) -> Ranked:
    """Rank the window's papers, then keep those the filters pass: a filter narrows the
    list and never moves a score (every paper is measured against the whole window).
    Thresholds and top-N come from settings unless `limits` is off (explain ranks
    everything to place one paper). `classic` is a classic ranking of one day that the
    caller made already (a preview post's): that day is not ranked again."""
    filters = filters if filters is not None else filters_from(settings)
    if method is Method.classic:
        rows, as_of = _classic_rows(conn, day, window, settings, as_of, classic)
    else:
        start, end = window_range(day, window)
        ids = window_paper_ids(conn, start, end)
        if not ids:
            raise NothingToDo(f"no papers stored for {start} to {end}: fetch them first")
        attention = (account_attention(conn, start, end, as_of, settings.hot_repost_ratio)
                     + published_totals(conn, start, end, as_of))
        rules = rules_from(settings)
        rows = (rank_hot(ids, attention, rules) if method is Method.hot
                else rank_trending(ids, attention, as_of, rules))
    papers = load_papers(conn, [r.paper_id for r in rows]) if filters.active else {}
    if filters.active:
        rows = [r for r in rows if filters.matches(papers[r.paper_id])]
    if limits and method is not Method.classic:
        hot = method is Method.hot
        floor = settings.hot_min_score if hot else settings.trending_min_score
        cap = settings.hot_max_papers if hot else settings.trending_max_papers
        rows = [r for r in rows if r.score >= floor][:cap]
    shown = papers or load_papers(conn, [r.paper_id for r in rows])
    return Ranked(day, method, window, as_of, rows, shown, filters)


def explain_paper(conn: Connection, paper_id: str, day: date | None, method: Method,
                  window: Window, settings: Settings, as_of: datetime) -> dict:
    """Why `paper_id` ranks where it does: its place among all the window's papers, its
    score and the parts of it (per source: people, posts, raw value, the yardstick it was
    divided by, dampings; the top accounts), and whether the thresholds list it."""
    paper = load_papers(conn, [paper_id]).get(paper_id)
    if paper is None:
        raise InputError(f"{paper_id}: no such paper stored (fetch it, or its day, first)")
    day = day or paper.announced_on
    if day is None:
        raise InputError(f"{paper_id}: its announcement date is unknown; give --date")
    ranked = rank_papers(conn, day, method, window, settings, as_of, Filters(), limits=False)
    place = next((i for i, r in enumerate(ranked.rows, 1) if r.paper_id == paper_id), None)
    row = ranked.rows[place - 1] if place else None
    listed = row is not None
    if row is not None and method is not Method.classic:
        hot = method is Method.hot
        floor = settings.hot_min_score if hot else settings.trending_min_score
        cap = settings.hot_max_papers if hot else settings.trending_max_papers
        listed = row.score >= floor and (cap is None or place <= cap)
    return {
        "id": paper_id, "title": paper.title, "method": method.value,
        "window": window.value, "day": day.isoformat(),
        "from": ranked.start.isoformat(), "as_of": ranked.as_of.isoformat(),
        "rank": place, "of": len(ranked.rows), "listed": listed,
        "score": row.score if row else 0.0, "parts": row.parts if row else {},
    }
