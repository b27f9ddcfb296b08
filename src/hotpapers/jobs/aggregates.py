"""`hotpapers store rebuild-aggregates`: recompute the attention totals from mentions and
observations under the configured hot rules (they are otherwise kept up to date on
write, by store/counting.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine, select

from hotpapers.person_value import StoredRules, ValueRules
from hotpapers.store.counting import BATCH, recount
from hotpapers.store.schema import mentions
from hotpapers.store.totals import clear_aggregates, save_state

__all__ = ["rebuild_aggregates", "rules_json"]


def rules_json(rules: ValueRules) -> dict:
    """The rules a person's value depends on, as the totals' state row keeps them."""
    return StoredRules.of(rules).as_json()


def rebuild_aggregates(engine: Engine, rules: ValueRules, now: datetime,
                       progress: Callable[[int], None] = lambda _: None) -> int:
    """Recompute the totals from mentions and observations under `rules`, in one
    transaction (readers keep the old ones until it commits); returns the mentions read."""
    with engine.begin() as conn:
        clear_aggregates(conn)
        save_state(conn, rules_json(rules), None, now)
        last = done = 0
        while True:
            ids = list(conn.execute(select(mentions.c.id).where(mentions.c.id > last)
                                    .order_by(mentions.c.id).limit(BATCH)).scalars())
            if not ids:
                return done
            recount(conn, ids, rules)
            last, done = ids[-1], done + len(ids)
            progress(done)
