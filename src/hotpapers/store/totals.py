"""The attention aggregates' rows: each mention's contribution as last counted, per (paper,
source, author) totals, per (paper, source) sums and the state row; read and written here,
computed by jobs/aggregates.py (which holds the hot formula's part, from rank/)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import (
    Connection,
    Integer,
    String,
    and_,
    bindparam,
    column,
    delete,
    func,
    or_,
    select,
    values,
)

from hotpapers.store.schema import (
    account_totals,
    accounts,
    aggregate_state,
    mention_papers,
    mention_totals,
    mentions,
    observations,
    paper_source_totals,
)
from hotpapers.store.upsert import bulk_execute, upsert, upsert_statement

__all__ = [
    "COUNTED",
    "AccountRow",
    "AggregateState",
    "Contribution",
    "account_ages",
    "advance_data_until",
    "aged_rows",
    "clear_aggregates",
    "current_contributions",
    "earlier",
    "first_posts",
    "load_account_rows",
    "load_contributions",
    "load_state",
    "named_papers",
    "save_account_rows",
    "save_contributions",
    "save_state",
    "update_source_rows",
]

COUNTED = ("likes", "reposts", "kept", "quotes", "replies", "points")
Key = tuple[str, str, int]  # paper id, source, who
_CHUNK = 1000  # keys a statement


@dataclass(frozen=True)
class Contribution:
    """What one mention adds to the totals of each paper it names: nothing unless live."""

    source: str
    who: int
    live: bool
    created_at: datetime | None
    papers: tuple[str, ...]
    counts: tuple[int, ...] = (0, 0, 0, 0, 0, 0)  # COUNTED
    observed_at: datetime | None = None  # its latest observation (not stored)

    def counted_keys(self) -> list[Key]:
        return [(p, self.source, self.who) for p in self.papers] if self.live else []


@dataclass
class AccountRow:
    """One author's live posts about a paper on a source: their count, latest counts
    summed, the earliest post, the account's age and its hot value."""

    key: Key
    posts: int = 0
    counts: list[int] = field(default_factory=lambda: [0] * len(COUNTED))
    first_at: datetime | None = None
    account_created_at: datetime | None = None
    value: float = 0.0

    def copy(self) -> AccountRow:
        return replace(self, counts=list(self.counts))


@dataclass(frozen=True)
class AggregateState:
    rules: dict
    data_until: datetime | None
    built_at: datetime


def earlier(a: datetime | None, b: datetime | None) -> datetime | None:
    """The earlier of two times, either of which may be unknown."""
    return b if a is None else a if b is None else min(a, b)


def _listed(name: str, ids: list[int]):
    """A list of integer ids for IN, written into the statement when it runs: SQLAlchemy
    otherwise names and processes one parameter per id, which costs more than the query
    for the thousands of a batch."""
    return bindparam(name, ids, expanding=True, literal_execute=True)


def _cap(likes: int, reposts: int, ratio: float) -> int:
    """A post's reposts after the cap, as the exact path's SQL computes it."""
    return min(reposts, int(ratio * (likes + 1)))


def current_contributions(conn: Connection, mention_ids: Iterable[int], repost_ratio: float
                          ) -> dict[int, Contribution]:
    """The contribution each mention makes now: its author, whether it counts, its papers
    and its latest counts (the last observation, whenever it was made)."""
    ids = list(dict.fromkeys(mention_ids))
    if not ids:
        return {}
    latest = (select(observations.c.mention_id, func.max(observations.c.observed_at).label("at"))
              .where(observations.c.mention_id.in_(_listed("latest_ids", ids)))
              .group_by(observations.c.mention_id).subquery())
    m, o = mentions.c, observations.c
    rows = conn.execute(
        select(m.id, m.source, m.account_id, m.kind, m.deleted_at, m.created_at, o.observed_at,
               o.likes, o.reposts, o.quotes, o.replies, o.points)
        .outerjoin(latest, latest.c.mention_id == m.id)
        .outerjoin(observations, and_(o.mention_id == m.id, o.observed_at == latest.c.at))
        .where(m.id.in_(_listed("mention_ids", ids)))).all()
    linked: dict[int, list[str]] = {}
    for mention_id, paper_id in conn.execute(
            select(mention_papers.c.mention_id, mention_papers.c.paper_id)
            .where(mention_papers.c.mention_id.in_(_listed("linked_ids", ids)))
            .order_by(mention_papers.c.mention_id, mention_papers.c.paper_id)):
        linked.setdefault(mention_id, []).append(paper_id)
    found = {}
    for mention_id, source, account, kind, deleted, created, observed, likes, reposts, \
            quotes, replies, points in rows:
        likes, reposts = likes or 0, reposts or 0
        counts = (likes, reposts, _cap(likes, reposts, repost_ratio), quotes or 0,
                  replies or 0, points or 0)
        found[mention_id] = Contribution(
            source, account if account is not None else -mention_id,
            deleted is None and kind != "repost", created,
            tuple(linked.get(mention_id, ())), counts, observed)
    return found


def named_papers(conn: Connection, mention_ids: Iterable[int]) -> list[str]:
    """The papers these mentions name."""
    ids = list(mention_ids)
    return list(conn.execute(select(mention_papers.c.paper_id).where(
        mention_papers.c.mention_id.in_(ids)).distinct()).scalars())


def load_contributions(conn: Connection, mention_ids: Iterable[int]) -> dict[int, Contribution]:
    """Each mention's contribution as last counted (none: never counted)."""
    ids = list(dict.fromkeys(mention_ids))
    query = select(mention_totals).where(mention_totals.c.mention_id.in_(_listed("ids", ids)))
    return {r["mention_id"]: Contribution(r["source"], r["who"], r["live"], r["created_at"],
                                          tuple(r["papers"]), tuple(r[c] for c in COUNTED))
            for r in conn.execute(query).mappings()}


def save_contributions(conn: Connection, found: Mapping[int, Contribution]) -> None:
    rows = [{"mention_id": mention_id, "source": c.source, "who": c.who, "live": c.live,
             "created_at": c.created_at, "papers": list(c.papers),
             **dict(zip(COUNTED, c.counts, strict=True))} for mention_id, c in found.items()]
    if rows:
        stmt = upsert_statement(conn.dialect.name, mention_totals, ("mention_id",),
                                tuple(c for c in rows[0] if c != "mention_id"), False, None)
        bulk_execute(conn, stmt, rows)


def _account_rows(conn: Connection, query) -> dict[Key, AccountRow]:
    return {(r["paper_id"], r["source"], r["who"]): AccountRow(
        (r["paper_id"], r["source"], r["who"]), r["posts"], [r[c] for c in COUNTED],
        r["first_at"], r["account_created_at"], r["value"])
        for r in conn.execute(query).mappings()}


def _wanted(keys: list[Key]):
    """These (paper, source, who) keys as a table to join: both databases then look each
    one up by its index (SQLite scans the whole table for a tuple IN)."""
    return values(column("paper_id", String), column("source", String),
                  column("who", Integer), name="wanted").data(keys).cte("wanted")


def load_account_rows(conn: Connection, keys: Iterable[Key]) -> dict[Key, AccountRow]:
    """The stored rows of these keys: joined with the keys as a VALUES table, which both
    databases look up key by key in the primary key (SQLite scans the whole table for a
    tuple IN). Written out by hand: compiling a VALUES of a thousand rows costs more than
    running it."""
    keys = list(dict.fromkeys(keys))
    dialect = conn.dialect
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    names = [c.name for c in account_totals.c]
    times = ("first_at", "account_created_at")  # the only ones the drivers do not convert
    results = [c.type.dialect_impl(dialect).result_processor(dialect, None)
               if c.name in times else None for c in account_totals.c]
    found: dict[Key, AccountRow] = {}
    for i in range(0, len(keys), _CHUNK):
        part = keys[i:i + _CHUNK]
        sql = (f"WITH wanted (paper_id, source, who) AS (VALUES "
               f"{', '.join([f'({mark}, {mark}, {mark})'] * len(part))}) "
               f"SELECT {', '.join(f't.{n}' for n in names)} FROM wanted "
               "JOIN account_totals t ON t.paper_id = wanted.paper_id AND "
               "t.source = wanted.source AND t.who = wanted.who")
        for raw in conn.exec_driver_sql(sql, tuple(v for key in part for v in key)):
            r = dict(zip(names, (f(v) if f else v for f, v in zip(results, raw, strict=True)),
                         strict=True))
            key = (r["paper_id"], r["source"], r["who"])
            found[key] = AccountRow(key, r["posts"], [r[c] for c in COUNTED], r["first_at"],
                                    r["account_created_at"], r["value"])
    return found


def aged_rows(conn: Connection, whos: Iterable[int]) -> dict[Key, AccountRow]:
    """The rows of these authors whose account age differs from the account's now (it
    became known, or changed): their values are out of date."""
    ids = [w for w in dict.fromkeys(whos) if w > 0]
    if not ids:
        return {}
    stored, known = account_totals.c.account_created_at, accounts.c.created_at
    differs = or_(stored != known, and_(stored.is_(None), known.is_not(None)),
                  and_(stored.is_not(None), known.is_(None)))
    joined = select(account_totals).join(accounts, accounts.c.id == account_totals.c.who)
    return _account_rows(conn, joined.where(account_totals.c.who.in_(_listed("whos", ids)),
                                            differs))


def first_posts(conn: Connection, keys: Iterable[Key]) -> dict[Key, datetime]:
    """The earliest live post of each (paper, source, author), from the counted mentions."""
    keys = list(keys)
    found: dict[Key, datetime] = {}
    linked, counted = mention_papers.c, mention_totals.c
    for i in range(0, len(keys), _CHUNK):
        wanted = _wanted(keys[i:i + _CHUNK])
        query = (select(wanted.c.paper_id, wanted.c.source, wanted.c.who,
                        func.min(counted.created_at))
                 .join_from(wanted, mention_papers, linked.paper_id == wanted.c.paper_id)
                 .join(mention_totals, and_(counted.mention_id == linked.mention_id,
                                            counted.source == wanted.c.source,
                                            counted.who == wanted.c.who))
                 .where(counted.live.is_(True))
                 .group_by(wanted.c.paper_id, wanted.c.source, wanted.c.who))
        found |= {(p, s, w): at for p, s, w, at in conn.execute(query) if at is not None}
    return found


def account_ages(conn: Connection, whos: Iterable[int]) -> dict[int, datetime | None]:
    ids = [w for w in dict.fromkeys(whos) if w > 0]
    return dict(conn.execute(select(accounts.c.id, accounts.c.created_at)
                             .where(accounts.c.id.in_(_listed("whos", ids)))).all()) \
        if ids else {}


def _delete_keyed(table, keys: tuple[str, ...]):
    """DELETE one row by its key columns (bound by name): run for many keys at once."""
    return delete(table).where(*(table.c[k] == bindparam(k) for k in keys))


def save_account_rows(conn: Connection, rows: Iterable[AccountRow]) -> None:
    """Store the rows; a row without posts is removed."""
    keep, gone = [], []
    for row in rows:
        (keep if row.posts > 0 else gone).append(row)
    if gone:
        conn.execute(_delete_keyed(account_totals, ("paper_id", "source", "who")),
                     [dict(zip(("paper_id", "source", "who"), r.key, strict=True))
                      for r in gone])
    if keep:
        columns = ("posts", *COUNTED, "first_at", "account_created_at", "value")
        stmt = upsert_statement(conn.dialect.name, account_totals, ("paper_id", "source", "who"),
                                columns, False, None)
        bulk_execute(conn, stmt, [
            {"paper_id": r.key[0], "source": r.key[1], "who": r.key[2], "posts": r.posts,
             **dict(zip(COUNTED, r.counts, strict=True)), "first_at": r.first_at,
             "account_created_at": r.account_created_at, "value": r.value} for r in keep])


def _by_papers(conn: Connection, table, pairs: list[tuple[str, str]], *columns) -> list:
    """Rows of `table` (keyed by paper_id, source) for these pairs: read by paper id
    (its index), the other sources of those papers left out here."""
    wanted, found = set(pairs), []
    papers = sorted({p for p, _ in pairs})
    for i in range(0, len(papers), 500):
        query = select(*columns) if columns else select(table)
        found += [r for r in conn.execute(query.where(table.c.paper_id.in_(papers[i:i + 500])))
                  if (r.paper_id, r.source) in wanted]
    return found


def update_source_rows(conn: Connection, deltas: Mapping[tuple[str, str], list[float]],
                       earliest: Mapping[tuple[str, str], datetime | None],
                       later: set[tuple[str, str]]) -> None:
    """Add `deltas` (raw, people, posts, reposts capped, new accounts) to the (paper,
    source) sums; their earliest post is the earlier of the stored one and `earliest`,
    or, for the pairs in `later` (that may have lost theirs), found again from the
    author rows. A sum left without people goes."""
    pairs = list(deltas)
    stored = {(r.paper_id, r.source): r for r in _by_papers(conn, paper_source_totals, pairs)}
    firsts = {}
    if later:
        found = _by_papers(conn, account_totals, sorted(later), account_totals.c.paper_id,
                           account_totals.c.source, account_totals.c.first_at)
        for r in found:
            firsts[(r.paper_id, r.source)] = earlier(firsts.get((r.paper_id, r.source)),
                                                     r.first_at)
    rows, gone = [], []
    for pair, delta in deltas.items():
        old = stored.get(pair)
        base = [old.raw, old.people, old.posts, old.reposts_capped, old.new_accounts] \
            if old is not None else [0.0, 0, 0, 0, 0]
        raw, people, posts, capped, new = (b + d for b, d in zip(base, delta, strict=True))
        if people <= 0:
            gone.append(pair)
            continue
        first = firsts.get(pair) if pair in later else \
            earlier(old.first_at if old is not None else None, earliest.get(pair))
        rows.append({"paper_id": pair[0], "source": pair[1], "raw": raw, "people": int(people),
                     "posts": int(posts), "reposts_capped": int(capped),
                     "new_accounts": int(new), "first_at": first})
    if gone:
        conn.execute(_delete_keyed(paper_source_totals, ("paper_id", "source")),
                     [{"paper_id": p, "source": s} for p, s in gone])
    if rows:
        stmt = upsert_statement(conn.dialect.name, paper_source_totals, ("paper_id", "source"),
                                ("raw", "people", "posts", "reposts_capped", "new_accounts",
                                 "first_at"), False, None)
        bulk_execute(conn, stmt, rows)


def load_state(conn: Connection) -> AggregateState | None:
    row = conn.execute(select(aggregate_state).where(aggregate_state.c.id == 1)).first()
    return AggregateState(row.rules, row.data_until, row.built_at) if row else None


def save_state(conn: Connection, rules: dict, data_until: datetime | None,
               built_at: datetime) -> None:
    upsert(conn, aggregate_state, {"id": 1, "rules": rules, "data_until": data_until,
                                   "built_at": built_at}, keys=["id"])


def advance_data_until(conn: Connection, moment: datetime | None) -> None:
    """Record that data as late as `moment` is counted (the fast path serves as-of times
    at or after it)."""
    if moment is not None:
        conn.execute(aggregate_state.update().where(
            aggregate_state.c.id == 1,
            or_(aggregate_state.c.data_until.is_(None), aggregate_state.c.data_until < moment)
        ).values(data_until=moment))


def clear_aggregates(conn: Connection) -> None:
    for table in (mention_totals, account_totals, paper_source_totals, aggregate_state):
        conn.execute(delete(table))
