"""What a live stream keeps in the store: the posts it tracks, engagements (likes, reposts,
replies, quotes) on them, the counts it derives from those, and its resume cursor."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite

from hotpapers.models import Observation
from hotpapers.store.counting import count_mentions
from hotpapers.store.schema import (
    UtcDateTime,
    accounts,
    engagements,
    mentions,
    observations,
    source_cursors,
)
from hotpapers.store.stamps import bump_for_mentions
from hotpapers.store.upsert import upsert

__all__ = [
    "add_engagements", "engaged_accounts", "load_cursor", "remove_engagements",
    "save_cursor", "save_stream_observations", "stream_counts", "tracked_posts", "value_limits",
]

_COUNTED = {"like": "likes", "repost": "reposts", "quote": "quotes", "reply": "replies"}
_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}
_CHUNK = 500  # ids per IN (...) list


def value_limits() -> dict[str, int]:
    """The longest values a stream may store, from the column types: post URIs (mentions
    and their parents), other record URIs (engagements) and account ids."""
    def length(*columns) -> int:
        return min(column.type.length for column in columns)
    return {"post_uri": length(mentions.c.native_id, mentions.c.parent_native_id),
            "record_uri": length(engagements.c.native_id),
            "account": length(accounts.c.native_id, engagements.c.account)}


def _chunks(items: list[Any]) -> Iterable[list[Any]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i:i + _CHUNK]


def tracked_posts(conn: Connection, source: str, prefix: str = "at://", after_id: int = 0
                  ) -> dict[str, int]:
    """The live (not deleted) mentions of `source` whose native id starts with `prefix`:
    native id -> row id; with `after_id`, only those stored after that row."""
    query = select(mentions.c.native_id, mentions.c.id).where(
        mentions.c.source == source, mentions.c.deleted_at.is_(None), mentions.c.id > after_id,
        mentions.c.native_id.startswith(prefix, autoescape=True))
    return {native_id: row_id for native_id, row_id in conn.execute(query)}


def load_cursor(conn: Connection, name: str) -> Any:
    """The stored value of cursor `name`, or None."""
    return conn.execute(select(source_cursors.c.value).where(source_cursors.c.name == name)
                        ).scalar_one_or_none()


def save_cursor(conn: Connection, name: str, value: Any, now: datetime) -> None:
    upsert(conn, source_cursors, {"name": name, "value": value, "updated_at": now},
           keys=["name"], keep_stored=False)


def engaged_accounts(conn: Connection, source: str) -> set[str]:
    """The accounts with a stored engagement: only their deletions can remove one."""
    return set(conn.execute(select(engagements.c.account).distinct()
                            .where(engagements.c.source == source)).scalars())


def add_engagements(conn: Connection, rows: list[Mapping[str, Any]]) -> set[str]:
    """Store engagement rows (source, native_id, mention_id, kind, account, created_at);
    one already stored is left as it is, so a re-delivered event changes nothing.
    Returns the native ids of the rows that were new."""
    if not rows:
        return set()
    return set(conn.execute(_insert_new(conn.dialect.name), list(rows)).scalars())


@lru_cache(maxsize=4)
def _insert_new(dialect: str) -> Any:
    return _INSERTS[dialect](engagements).on_conflict_do_nothing(
        index_elements=["source", "native_id"]).returning(engagements.c.native_id)


def remove_engagements(conn: Connection, source: str, native_ids: Iterable[str]
                       ) -> dict[str, int]:
    """Delete these engagement records where stored; returns native id -> the mention each
    was on, for those that were."""
    gone: dict[str, int] = {}
    for chunk in _chunks(list(set(native_ids))):
        where = (engagements.c.source == source) & engagements.c.native_id.in_(chunk)
        found = dict(conn.execute(select(engagements.c.native_id, engagements.c.mention_id)
                                  .where(where)).all())
        if found:
            conn.execute(engagements.delete().where(
                engagements.c.source == source, engagements.c.native_id.in_(list(found))))
            gone.update(found)
    return gone


_IDS = bindparam("ids", expanding=True)
_AT = bindparam("at", type_=UtcDateTime())
_LAST_API = (
    select(observations.c.mention_id, func.max(observations.c.observed_at).label("at"))
    .where(observations.c.mention_id.in_(_IDS), observations.c.via == "api",
           observations.c.observed_at <= _AT)
    .group_by(observations.c.mention_id).subquery())
_API_COUNTS = select(observations).join(
    _LAST_API, (_LAST_API.c.mention_id == observations.c.mention_id)
    & (_LAST_API.c.at == observations.c.observed_at))
_ENGAGED_SINCE = (
    select(engagements.c.mention_id, engagements.c.kind, func.count())
    .outerjoin(_LAST_API, _LAST_API.c.mention_id == engagements.c.mention_id)
    .where(engagements.c.mention_id.in_(_IDS), engagements.c.created_at <= _AT,
           _LAST_API.c.at.is_(None) | (engagements.c.created_at > _LAST_API.c.at))
    .group_by(engagements.c.mention_id, engagements.c.kind))


def stream_counts(conn: Connection, mention_ids: Iterable[int], at: datetime
                  ) -> dict[int, Observation]:
    """The counts of each mention at `at`, as a stream sees them: its latest `api`
    observation at or before `at` (zeros without one), plus the stored engagements of each
    kind created after that observation and at or before `at`. Points stay None."""
    result: dict[int, Observation] = {}
    for chunk in _chunks(sorted(set(mention_ids))):
        params = {"ids": chunk, "at": at}
        base = {row.mention_id: row for row in conn.execute(_API_COUNTS, params)}
        for mention_id in chunk:
            row = base.get(mention_id)
            result[mention_id] = Observation(
                at, via="stream", **{c: (getattr(row, c) or 0) if row is not None else 0
                                     for c in _COUNTED.values()})
        for mention_id, kind, n in conn.execute(_ENGAGED_SINCE, params):
            field = _COUNTED.get(kind)
            if field is not None:
                observation = result[mention_id]
                setattr(observation, field, getattr(observation, field) + n)
    return result


_FIELDS = ("likes", "reposts", "quotes", "replies", "points")


@lru_cache(maxsize=4)
def _upsert_stream(dialect: str) -> Any:
    stmt = _INSERTS[dialect](observations)
    return stmt.on_conflict_do_update(
        index_elements=["mention_id", "observed_at"],
        set_={c: stmt.excluded[c] for c in _FIELDS}, where=observations.c.via == "stream")


def save_stream_observations(conn: Connection, counts: Mapping[int, Observation]) -> None:
    """Store stream observations (count them in the attention totals, bump their papers);
    at a time where one is stored already, a stream one is replaced and an `api` one is
    kept."""
    if not counts:
        return
    conn.execute(_upsert_stream(conn.dialect.name),
                 [{"mention_id": mention_id, "observed_at": o.observed_at, "via": o.via,
                   **{c: getattr(o, c) for c in _FIELDS}}
                        for mention_id, o in counts.items()])
    count_mentions(conn, counts)
    # a new observation shows on its papers' pages even when its counts are the last ones
    bump_for_mentions(conn, counts)
