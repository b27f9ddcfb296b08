"""Keeping the attention totals (store/totals.py) up to date on write: each write that
changes mentions (new posts, new counts, deletions, re-deliveries) calls `count_mentions`
in its own transaction, which replaces each changed mention's contribution by delta: per
(paper, source, author) the live posts' latest counts and value, per (paper, source) the
sums the hot and trending rankers read."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection

from hotpapers.models import AccountAttention
from hotpapers.person_value import StoredRules, ValueRules, account_value
from hotpapers.store.stamps import bump_for_papers, one_writer_at_a_time
from hotpapers.store.totals import (
    AccountRow,
    Contribution,
    account_ages,
    advance_data_until,
    aged_rows,
    current_contributions,
    earlier,
    first_posts,
    load_account_rows,
    load_contributions,
    load_state,
    named_papers,
    save_account_rows,
    save_contributions,
    update_source_rows,
)

__all__ = ["BATCH", "count_mentions", "recount"]

BATCH = 5000  # mentions counted together (one read and one write of each table)
_NONE = Contribution("", 0, False, None, ())


def _attention(row: AccountRow) -> AccountAttention:
    likes, reposts, kept, quotes, replies, points = row.counts
    paper, source, who = row.key
    return AccountAttention(paper, source, str(who), row.posts, likes, reposts, kept, quotes,
                            replies, points, row.first_at, row.account_created_at)


def _shares(row: AccountRow, rules: ValueRules) -> list[float]:
    """What one account row adds to its (paper, source) sums: raw, people, posts, reposts
    capped, new accounts."""
    if row.posts <= 0:
        return [0.0, 0, 0, 0, 0]
    value, new = account_value(_attention(row), rules)
    row.value = value
    return [value, 1, row.posts, row.counts[1] - row.counts[2], int(new)]


def _apply(rows: dict, old: Contribution, new: Contribution, recheck: set) -> None:
    """Take `old` out of the account rows it was counted in and put `new` in; a row that
    may have lost its earliest post goes to `recheck`."""
    new_keys = set(new.counted_keys())
    same_time = old.created_at == new.created_at
    for key in old.counted_keys():
        row = rows.setdefault(key, AccountRow(key))
        row.posts -= 1
        row.counts = [c - d for c, d in zip(row.counts, old.counts, strict=True)]
        if not (same_time and key in new_keys) and old.created_at is not None and \
                row.first_at is not None and old.created_at <= row.first_at:
            recheck.add(key)
    for key in new_keys:
        row = rows.setdefault(key, AccountRow(key))
        row.posts += 1
        row.counts = [c + d for c, d in zip(row.counts, new.counts, strict=True)]
        row.first_at = earlier(row.first_at, new.created_at)


def _refresh_rows(conn: Connection, rows: dict, before: dict, rules: ValueRules,
                  recheck: set) -> None:
    """Give the changed rows their earliest post, account age and value, store them and
    move their (paper, source) sums by the difference (and their earliest post)."""
    firsts = first_posts(conn, recheck)
    ages = account_ages(conn, (key[2] for key in rows))
    deltas: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0, 0, 0, 0])
    earliest: dict[tuple[str, str], datetime | None] = {}
    later: set[tuple[str, str]] = set()  # a pair whose earliest post may have gone
    for key, row in sorted(rows.items()):  # one order of summing, whatever the reads'
        if key in recheck:
            row.first_at = firsts.get(key)
        row.account_created_at = ages.get(key[2])
        was = before.get(key)
        shares = _shares(was, rules) if was is not None else [0.0, 0, 0, 0, 0]
        now = _shares(row, rules)
        total = deltas[key[:2]]
        for i, (a, b) in enumerate(zip(now, shares, strict=True)):
            total[i] += a - b
        if row.posts > 0:
            earliest[key[:2]] = earlier(earliest.get(key[:2]), row.first_at)
        if was is not None and was.first_at is not None and (
                row.posts <= 0 or row.first_at is None or row.first_at > was.first_at):
            later.add(key[:2])
    save_account_rows(conn, rows.values())
    update_source_rows(conn, deltas, earliest, later)


def count_mentions(conn: Connection, mention_ids: Iterable[int]) -> None:
    """Bring the totals up to date with these mentions as they are now stored, and bump
    the change stamps of what they changed (call it in the transaction that wrote them).
    While the totals are not built (a store that held mentions before they existed, until
    `store rebuild-aggregates`), only the stamps of the papers they name are bumped."""
    ids = list(dict.fromkeys(mention_ids))
    if not ids:
        return
    one_writer_at_a_time(conn)  # the totals are read, changed and written back
    state = load_state(conn)
    if state is None:  # no totals to keep: what the papers show changed all the same
        bump_for_papers(conn, named_papers(conn, ids))
        return
    rules = StoredRules.from_json(state.rules)
    for start in range(0, len(ids), BATCH):
        _count(conn, ids[start:start + BATCH], rules)


def _count(conn: Connection, ids: list[int], rules: ValueRules) -> None:
    current = current_contributions(conn, ids, rules.repost_ratio)
    previous = load_contributions(conn, ids)
    changed = {i: c for i, c in current.items() if previous.get(i, _NONE) != _strip(c)}
    aged = aged_rows(conn, {c.who for c in current.values()})  # an author's age learnt
    moments = [m for c in current.values() for m in (c.created_at, c.observed_at) if m]
    if changed or aged:
        keys = {k for i, c in changed.items() for k in (*previous.get(i, _NONE).counted_keys(),
                                                        *c.counted_keys())}
        stored = load_account_rows(conn, keys) | aged
        before = {key: row.copy() for key, row in stored.items()}
        rows = dict(stored)
        recheck: set = set()
        for mention_id, contribution in changed.items():
            _apply(rows, previous.get(mention_id, _NONE), contribution, recheck)
        save_contributions(conn, {i: _strip(c) for i, c in changed.items()})
        _refresh_rows(conn, rows, before, rules, recheck)
        bump_for_papers(conn, {key[0] for key in rows})  # what they and their days show
    advance_data_until(conn, max(moments, default=None))


def _strip(contribution: Contribution) -> Contribution:
    """The contribution as stored (its observation time is not)."""
    return Contribution(contribution.source, contribution.who, contribution.live,
                        contribution.created_at, contribution.papers, contribution.counts)


def recount(conn: Connection, ids: list[int], rules: ValueRules) -> None:
    """Count these mentions under `rules` (a rebuild, batch by batch)."""
    for start in range(0, len(ids), BATCH):
        _count(conn, ids[start:start + BATCH], rules)
