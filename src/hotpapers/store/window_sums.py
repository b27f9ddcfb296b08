"""The reads the fast path ranks from: a window's kept (paper, source) sums, and the top
accounts of the (paper, source) pairs a ranking lists. Both are a few statements however
large the window, so a month ranks at the cost of reading its sums."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import Connection, String, TextClause, select, text, type_coerce

from hotpapers.models import AccountValue, SourceSums
from hotpapers.store.attention import window_ids
from hotpapers.store.schema import paper_source_totals

__all__ = ["top_accounts", "window_source_sums"]

PAIRS_PER_READ = 200  # (paper, source) pairs in one statement (SQLite allows 500 SELECTs)


def _utc_text(value: datetime | str | None) -> datetime | None:
    """A time read as text (SQLite: ISO without zone, UTC) or as a datetime (PostgreSQL)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(f"{value}+00:00")  # six times faster than .replace()


def window_source_sums(conn: Connection, start: date, end: date, first_at: bool = True
                       ) -> list[SourceSums]:
    """The (paper, source) sums of the papers announced from `start` to `end` (listed,
    or dated to those days), without top accounts; the first posts' times only with
    `first_at` (trending needs them, hot does not). One statement: the window's ids are a
    subquery, not a list sent along. Times are read raw and parsed here: the column type's
    per-row parsing cost more than the query."""
    t = paper_source_totals.c
    columns = [t.paper_id, t.source, t.raw, t.people, t.posts, t.reposts_capped,
               t.new_accounts]
    if first_at:
        columns.append(type_coerce(t.first_at, String))
    query = select(*columns).where(t.paper_id.in_(window_ids(start, end)))
    rows = conn.execute(query).all()
    if not first_at:
        return [SourceSums(*row[:7]) for row in rows]
    return [SourceSums(*row[:7], _utc_text(row[7])) for row in rows]


_NAMES = ("LEFT OUTER JOIN accounts ON accounts.id = top.who "
          "LEFT OUTER JOIN mentions ON mentions.id = -top.who")
_SELECTED = ("SELECT top.paper_id, top.source, top.posts, top.value, accounts.handle, "
             "accounts.native_id, mentions.native_id")
_ORDER = "ORDER BY top.paper_id, top.source, top.value DESC, top.who"
# PostgreSQL: one plan for any number of pairs (a UNION of hundreds of them takes longer to
# plan than to run there); each pair's authors walk the (paper, source, value) index.
_LATERAL = text(
    f"{_SELECTED} FROM unnest(CAST(:papers AS text[]), CAST(:sources AS text[])) "
    "AS pair(paper_id, source) CROSS JOIN LATERAL ("
    "SELECT pair.paper_id, pair.source, a.who, a.posts, a.value FROM account_totals AS a "
    "WHERE a.paper_id = pair.paper_id AND a.source = pair.source "
    "ORDER BY a.value DESC, a.who LIMIT :limit) AS top "
    f"{_NAMES} {_ORDER}")


@functools.lru_cache(maxsize=16)
def _union_statement(pairs: int, limit: int) -> TextClause:
    """SQLite (no LATERAL): one read of the `limit` best authors of each of `pairs` pairs,
    a UNION of short walks of the (paper, source, value) index, joined to names once."""
    one = ("SELECT paper_id, source, who, posts, value FROM account_totals "
           "WHERE paper_id = :p{i} AND source = :s{i} ORDER BY value DESC, who LIMIT {limit}")
    members = " UNION ALL ".join(f"SELECT * FROM ({one.format(i=i, limit=limit)}) AS t{i}"
                                 for i in range(pairs))
    return text(f"{_SELECTED} FROM ({members}) AS top {_NAMES} {_ORDER}")


def _top_rows(conn: Connection, pairs: list[tuple[str, str]], limit: int) -> Iterable:
    if conn.dialect.name == "postgresql":
        return conn.execute(_LATERAL, {"papers": [p for p, _ in pairs],
                                       "sources": [s for _, s in pairs], "limit": limit})
    rows = []
    for i in range(0, len(pairs), PAIRS_PER_READ):
        chunk = pairs[i:i + PAIRS_PER_READ]
        params = {}
        for j, (paper, source) in enumerate(chunk):
            params[f"p{j}"], params[f"s{j}"] = paper, source
        rows += conn.execute(_union_statement(len(chunk), limit), params).all()
    return rows


def top_accounts(conn: Connection, pairs: Iterable[tuple[str, str]], limit: int
                 ) -> dict[tuple[str, str], tuple[AccountValue, ...]]:
    """The `limit` most valuable authors of each of these (paper, source) pairs (ties:
    the older account first), named by handle, else account id, else the post (an author
    known by a post only)."""
    wanted = list(dict.fromkeys(pairs))
    found: dict[tuple[str, str], list[AccountValue]] = {pair: [] for pair in wanted}
    if wanted:
        for paper, source, posts, value, handle, native, post in _top_rows(conn, wanted,
                                                                            limit):
            found[(paper, source)].append(
                AccountValue(handle or native or f"post:{post}", posts, value))
    return {pair: tuple(values) for pair, values in found.items()}
