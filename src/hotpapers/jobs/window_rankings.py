"""The week's and the month's rankings kept with a published day: when a day is published
(by any method), its hot and trending rankings over the 7 and 30 announcement days ending
with it are stored as of the day's own ranking, so the static site's "this week" and "this
month" pages show what was current when the day went out, from the store alone."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Connection, Engine, select

from hotpapers.config import Settings
from hotpapers.errors import NothingToDo
from hotpapers.jobs.ranking import Method, Window, rank_papers
from hotpapers.store.posts import RankingRow, StoredRanking, load_ranking, save_ranking
from hotpapers.store.schema import rankings

__all__ = ["WINDOWS", "WINDOW_METHODS", "keep_window_rankings"]

WINDOWS = (Window.week, Window.month)
WINDOW_METHODS = (Method.hot, Method.trending)


def keep_window_rankings(conn: Connection, day: date, settings: Settings, as_of: datetime,
                         now: datetime) -> list[StoredRanking]:
    """Rank the week and the month ending with `day` by hot and trending as of `as_of`
    (the listed rows, under the settings' thresholds and filters) and store each as that
    day's ranking of its window, replacing an earlier one; a window with no papers stored
    is left out. Nothing for a day older than one that has them already: the site shows
    the newest day's only, and ranking a past month as of a past time takes the exact,
    slower path (a backfill of old days would pay it for nothing)."""
    if conn.execute(select(rankings.c.id).where(rankings.c.window == Window.week.value,
                                                rankings.c.day > day).limit(1)).first():
        return []
    kept = []
    for window in WINDOWS:
        for method in WINDOW_METHODS:
            try:
                ranked = rank_papers(conn, day, method, window, settings, as_of)
            except NothingToDo:
                continue
            ranking = StoredRanking(
                day=day, method=method.value, window=window.value, as_of=ranked.as_of,
                rows=[RankingRow(r.paper_id, r.score, r.parts.to_json()) for r in ranked.rows],
                settings={"window": window.value, "from": ranked.start.isoformat()})
            ranking.id = save_ranking(conn, ranking, now)
            kept.append(ranking)
    return kept


def fill_window_rankings(engine: Engine, day: date, method: str, settings: Settings,
                         now: datetime) -> bool:
    """For a day published already (by `method`, e.g. imported from a post or a snapshot)
    and published again: keep its week and month rankings, as of its ranking, when it has
    none yet. Whether they were made."""
    with engine.begin() as conn:
        published = load_ranking(conn, day, method)
        if published is None or load_ranking(conn, day, "hot", "week") is not None:
            return False
        return bool(keep_window_rankings(conn, day, settings, published.as_of, now))
