"""Accounts, mentions, their links to papers and their metric observations."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, select, tuple_

from hotpapers.models import Account, Mention, Observation, strip_controls
from hotpapers.store.counting import count_mentions
from hotpapers.store.schema import accounts, mention_papers, mentions, observations, papers
from hotpapers.store.stamps import bump_for_mentions, bump_for_papers
from hotpapers.store.totals import named_papers
from hotpapers.store.upsert import upsert

__all__ = [
    "latest_observations", "load_embeds", "load_mentions", "mark_deleted", "mention_ids",
    "save_account", "save_embed", "save_mention", "save_mentions", "stored_in_window",
    "thin_observations",
    "unknown_paper_ids",
]

_COUNTS = ("likes", "reposts", "quotes", "replies", "points")
# The columns of a mention the site and posts show (a None given keeps the stored value).
_SHOWN = ("permalink", "account_id", "text", "created_at", "kind", "embed_html",
          "parent_native_id")


def _changes(stored: object, row: dict, fields: tuple[str, ...]) -> bool:
    """Whether upserting `row` (a None keeps the stored value) changes the `stored` row."""
    return stored is None or any(row[f] is not None and row[f] != getattr(stored, f)
                                 for f in fields)


def save_account(conn: Connection, account: Account) -> int:
    """Upsert an account; a new handle, name or creation time bumps the stamps of the
    papers its mentions name (every card of theirs shows it)."""
    row = {"source": account.source, "native_id": account.native_id,
           "handle": account.handle, "name": account.name, "created_at": account.created_at}
    stored = conn.execute(select(accounts.c.id, accounts.c.handle, accounts.c.name,
                                 accounts.c.created_at).where(
        accounts.c.source == account.source, accounts.c.native_id == account.native_id)).first()
    account_id = upsert(conn, accounts, row, keys=["source", "native_id"], returning="id")
    if stored is not None and _changes(stored, row, ("handle", "name", "created_at")):
        bump_for_mentions(conn, list(conn.execute(select(mentions.c.id).where(
            mentions.c.account_id == account_id)).scalars()))
    return account_id


def save_mentions(conn: Connection, found: Iterable[Mention], now: datetime,
                  verbatim: bool = False) -> list[int]:
    """`save_mention` for many, counted in the attention totals once for all (far
    cheaper than one by one); their row ids."""
    ids = [save_mention(conn, mention, now, verbatim, count=False) for mention in found]
    count_mentions(conn, ids)
    return ids


def save_mention(conn: Connection, mention: Mention, now: datetime,
                 verbatim: bool = False, count: bool = True) -> int:
    """Upsert a mention with its author, paper links and observations, and count it in the
    attention totals (unless `count` is off: the caller counts it in this transaction,
    see save_mentions); returns its row id. Its texts lose their control characters
    (`strip_controls`) unless `verbatim`."""
    mention = mention if verbatim else strip_controls(mention)
    account_id = save_account(conn, mention.account) if mention.account else None
    row = {
        "source": mention.source, "native_id": mention.native_id,
        "permalink": mention.permalink, "account_id": account_id, "text": mention.text,
        "created_at": mention.created_at, "kind": mention.kind,
        "embed_html": mention.embed_html, "first_seen_at": now,
        "parent_native_id": mention.parent_native_id,
    }
    update = [c for c in row if c not in ("source", "native_id", "first_seen_at")]
    stored = conn.execute(select(mentions.c.id, *(mentions.c[c] for c in _SHOWN)).where(
        mentions.c.source == mention.source, mentions.c.native_id == mention.native_id)).first()
    changed = _changes(stored, row, _SHOWN) or _new_observations(conn, stored, mention)
    mention_id = upsert(conn, mentions, row, keys=["source", "native_id"], update=update,
                        returning="id")
    linked = set(named_papers(conn, [mention_id])) if stored is not None else set()
    upsert(conn, mention_papers,
           [{"mention_id": mention_id, "paper_id": p} for p in dict.fromkeys(mention.paper_ids)],
           keys=["mention_id", "paper_id"], update=())
    upsert(conn, observations,
           [{"mention_id": mention_id, "observed_at": o.observed_at,
             "via": o.via, **{c: getattr(o, c) for c in _COUNTS}}
            for o in mention.observations],
           keys=["mention_id", "observed_at"], keep_stored=False)
    if changed:  # what its papers' pages and the posts showing it show
        bump_for_mentions(conn, [mention_id])
    elif not set(mention.paper_ids) <= linked:
        bump_for_papers(conn, set(mention.paper_ids))
    if count:
        count_mentions(conn, [mention_id])
    return mention_id


def _new_observations(conn: Connection, stored: object, mention: Mention) -> bool:
    """Whether any of the mention's observations is not stored as it is."""
    if not mention.observations:
        return False
    if stored is None:
        return True
    found = {row.observed_at: row for row in conn.execute(
        select(observations).where(observations.c.mention_id == stored.id,
                                   observations.c.observed_at.in_(
                                       [o.observed_at for o in mention.observations])))}
    return any(o.observed_at not in found or o.via != found[o.observed_at].via
               or any(getattr(o, c) != getattr(found[o.observed_at], c) for c in _COUNTS)
               for o in mention.observations)


def latest_observations(
    conn: Connection, paper_ids: Iterable[str], sources: Iterable[str], as_of: datetime
) -> dict[str, list[tuple[tuple[str, str], Observation]]]:
    """For each paper, its mentions on `sources` as ((source, native id), last observation
    at or before `as_of`), in the order first stored. Mentions with no observation by then,
    and reposts, are left out."""
    paper_ids = list(paper_ids)
    last = (
        select(observations.c.mention_id, func.max(observations.c.observed_at).label("at"))
        .where(observations.c.observed_at <= as_of)
        .group_by(observations.c.mention_id)
        .subquery()
    )
    query = (
        select(mention_papers.c.paper_id, mentions.c.source, mentions.c.native_id, observations)
        .join(mentions, mentions.c.id == mention_papers.c.mention_id)
        .join(last, last.c.mention_id == mentions.c.id)
        .join(observations, (observations.c.mention_id == last.c.mention_id)
              & (observations.c.observed_at == last.c.at))
        .where(mention_papers.c.paper_id.in_(paper_ids), mentions.c.source.in_(list(sources)),
               mentions.c.kind != "repost", mentions.c.deleted_at.is_(None))
        .order_by(mention_papers.c.paper_id, mentions.c.id)
    )
    found: dict[str, list[tuple[tuple[str, str], Observation]]] = {p: [] for p in paper_ids}
    for row in conn.execute(query).mappings():
        observation = Observation(observed_at=row["observed_at"],
                                  **{c: row[c] for c in _COUNTS})
        found[row["paper_id"]].append(((row["source"], row["native_id"]), observation))
    return found


def load_mentions(conn: Connection, paper_ids: Iterable[str]) -> list[Mention]:
    """Every stored mention naming one of `paper_ids`, with author, links and observations;
    mentions deleted at their source are left out."""
    paper_ids = list(paper_ids)
    linked = select(mention_papers.c.mention_id).where(mention_papers.c.paper_id.in_(paper_ids))
    rows = conn.execute(
        select(mentions, accounts.c.source.label("a_source"), accounts.c.native_id.label("a_id"),
               accounts.c.handle, accounts.c.name, accounts.c.created_at.label("a_created"))
        .outerjoin(accounts, accounts.c.id == mentions.c.account_id)
        .where(mentions.c.id.in_(linked), mentions.c.deleted_at.is_(None))
        .order_by(mentions.c.id)
    ).mappings().all()
    by_id: dict[int, Mention] = {}
    for r in rows:
        account = (Account(r["a_source"], r["a_id"], r["handle"], r["name"], r["a_created"])
                   if r["a_id"] is not None else None)
        by_id[r["id"]] = Mention(
            source=r["source"], native_id=r["native_id"], paper_ids=[],
            permalink=r["permalink"], account=account, text=r["text"],
            created_at=r["created_at"], kind=r["kind"], embed_html=r["embed_html"],
            parent_native_id=r["parent_native_id"])
    for mention_id, paper_id in conn.execute(
            select(mention_papers).where(mention_papers.c.mention_id.in_(list(by_id)))
            .order_by(mention_papers.c.mention_id, mention_papers.c.paper_id)):
        by_id[mention_id].paper_ids.append(paper_id)
    for r in conn.execute(select(observations).where(observations.c.mention_id.in_(list(by_id)))
                          .order_by(observations.c.mention_id, observations.c.observed_at)
                          ).mappings():
        by_id[r["mention_id"]].observations.append(
            Observation(r["observed_at"], **{c: r[c] for c in _COUNTS}, via=r["via"]))
    return list(by_id.values())


def mention_ids(conn: Connection, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Row ids of the mentions with these (source, native id) keys."""
    keys = list(set(keys))
    if not keys:
        return {}
    query = select(mentions.c.source, mentions.c.native_id, mentions.c.id).where(
        tuple_(mentions.c.source, mentions.c.native_id).in_(keys))
    return {(source, native_id): row_id for source, native_id, row_id in conn.execute(query)}


def load_embeds(conn: Connection, keys: Iterable[tuple[str, str]]
                ) -> dict[tuple[str, str], tuple[str | None, str | None]]:
    """(permalink, embed HTML) of the mentions with these (source, native id) keys."""
    keys = list(set(keys))
    if not keys:
        return {}
    query = select(mentions.c.source, mentions.c.native_id, mentions.c.permalink,
                   mentions.c.embed_html).where(
        tuple_(mentions.c.source, mentions.c.native_id).in_(keys))
    return {(source, native_id): (link, html)
            for source, native_id, link, html in conn.execute(query)}


def mark_deleted(conn: Connection, source: str, native_ids: Iterable[str], now: datetime) -> int:
    """Mark these mentions deleted at their source (they leave every output and the
    attention totals); returns how many were stored and not yet marked."""
    native_ids = list(native_ids)
    if not native_ids:
        return 0
    marked = conn.execute(
        mentions.update().where(mentions.c.source == source,
                                mentions.c.native_id.in_(native_ids),
                                mentions.c.deleted_at.is_(None))
        .values(deleted_at=now)).rowcount
    if marked:
        ids = list(mention_ids(conn, [(source, n) for n in native_ids]).values())
        count_mentions(conn, ids)
        bump_for_mentions(conn, ids)  # the posts that showed them
    return marked


def stored_in_window(conn: Connection, source: str, since: datetime, until: datetime
                     ) -> list[str]:
    """Native ids of the live mentions of `source` created in [since, until)."""
    query = select(mentions.c.native_id).where(
        mentions.c.source == source, mentions.c.deleted_at.is_(None),
        mentions.c.created_at >= since, mentions.c.created_at < until).order_by(mentions.c.id)
    return list(conn.execute(query).scalars())


def unknown_paper_ids(conn: Connection, seen_since: datetime) -> list[str]:
    """Papers named by live mentions first seen since `seen_since` but not stored yet,
    most mentioned first."""
    query = (
        select(mention_papers.c.paper_id)
        .join(mentions, mentions.c.id == mention_papers.c.mention_id)
        .where(mentions.c.deleted_at.is_(None), mentions.c.first_seen_at >= seen_since,
               ~mention_papers.c.paper_id.in_(select(papers.c.id)))
        .group_by(mention_papers.c.paper_id)
        .order_by(func.count().desc(), mention_papers.c.paper_id)
    )
    return list(conn.execute(query).scalars())


def thin_observations(conn: Connection, now: datetime, detail_days: int) -> int:
    """The retention policy: observations younger than `detail_days` are all kept; of older
    ones, only the last of each UTC day per mention and source of counts (`via`) stays.
    Returns how many were removed."""
    cutoff = now - timedelta(days=detail_days)
    day = func.date(observations.c.observed_at) if conn.dialect.name == "sqlite" else \
        func.date_trunc("day", observations.c.observed_at)
    keep = (
        select(observations.c.mention_id, func.max(observations.c.observed_at))
        .where(observations.c.observed_at < cutoff)
        .group_by(observations.c.mention_id, observations.c.via, day)
    )
    old = (observations.c.observed_at < cutoff,
           tuple_(observations.c.mention_id, observations.c.observed_at).not_in(keep))
    thinned = list(conn.execute(select(observations.c.mention_id).where(*old).distinct())
                   .scalars())
    removed = conn.execute(observations.delete().where(*old)).rowcount
    if removed:  # their papers' pages chart the observations
        bump_for_mentions(conn, thinned)
    return removed


def save_embed(conn: Connection, key: tuple[str, str], html: str) -> str:
    """Cache the embed HTML of the mention with this (source, native id) key, without
    control characters; returns it as stored."""
    source, native_id = key
    html = strip_controls(html)
    stored = conn.execute(select(mentions.c.id, mentions.c.embed_html).where(
        mentions.c.source == source, mentions.c.native_id == native_id)).first()
    if stored is None or stored.embed_html == html:
        return html
    conn.execute(mentions.update().where(mentions.c.id == stored.id).values(embed_html=html))
    bump_for_mentions(conn, [stored.id])
    return html


def counts_over_time(conn: Connection, paper_ids: Iterable[str], until: datetime
                     ) -> dict[str, list[tuple[int, datetime, int]]]:
    """For each paper, its live mentions' observations at or before `until`, as (mention
    id, time, likes + reposts + quotes + replies + points): all a sparkline needs, in one
    read, without the mentions' texts and authors."""
    ids = list(dict.fromkeys(paper_ids))
    found: dict[str, list[tuple[int, datetime, int]]] = {paper_id: [] for paper_id in ids}
    if not ids:
        return found
    total = sum(func.coalesce(observations.c[c], 0) for c in _COUNTS)
    query = (select(mention_papers.c.paper_id, observations.c.mention_id,
                    observations.c.observed_at, total)
             .join(mentions, mentions.c.id == mention_papers.c.mention_id)
             .join(observations, observations.c.mention_id == mentions.c.id)
             .where(mention_papers.c.paper_id.in_(ids), mentions.c.deleted_at.is_(None),
                    observations.c.observed_at <= until))
    for paper_id, mention_id, observed_at, value in conn.execute(query):
        found[paper_id].append((mention_id, observed_at, int(value)))
    return found
