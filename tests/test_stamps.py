"""Change stamps: a day or paper gets the store's next counter value in the transaction of
any write that changes what it shows, and only then."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import delete

from hotpapers.models import Account, Mention, Observation, Paper, Post, PostEntry
from hotpapers.store.bulk import save_papers_bulk
from hotpapers.store.listings import save_listing
from hotpapers.store.mentions import mark_deleted, save_mention
from hotpapers.store.papers import save_paper
from hotpapers.store.posts import StoredRanking, save_post, save_ranking
from hotpapers.store.schema import aggregate_state
from hotpapers.store.stamps import latest_stamp, load_stamps

DAY, OTHER = date(2026, 11, 23), date(2026, 11, 24)
T = datetime(2026, 11, 23, 12, tzinfo=UTC)
PAPER = Paper("2611.00001", "A title", ["A. Author"], ["cs.LG"], announced_on=DAY)


def stamps(engine) -> tuple[int, dict, dict]:
    with engine.connect() as conn:
        return latest_stamp(conn), load_stamps(conn, "day"), load_stamps(conn, "paper")


def write(engine, action) -> None:
    with engine.begin() as conn:
        action(conn)


def post_about(native: str, likes: int) -> Mention:
    return Mention("x", native, [PAPER.id], account=Account("x", "a1", "ada"), created_at=T,
                   observations=[Observation(T, likes=likes)])


@pytest.mark.parametrize("built", [True, False], ids=["totals built", "totals not built"])
def test_writes_that_change_what_is_shown_bump_it_and_only_those(engine, built):
    if not built:
        write(engine, lambda c: c.execute(delete(aggregate_state)))
    assert stamps(engine) == (0, {}, {})
    write(engine, lambda c: save_paper(c, PAPER, T))
    first, days, papers = stamps(engine)
    assert first == 1 and days == {DAY.isoformat(): 1} and papers == {PAPER.id: 1}
    write(engine, lambda c: save_paper(c, PAPER, T))  # the same again: nothing changed
    assert stamps(engine)[0] == 1
    write(engine, lambda c: save_listing(c, OTHER, [(PAPER.id, "cross")]))
    assert stamps(engine)[1] == {DAY.isoformat(): 1, OTHER.isoformat(): 2}
    write(engine, lambda c: save_mention(c, post_about("1", 5), T))
    latest, days, papers = stamps(engine)
    assert latest > 2 and papers[PAPER.id] == latest  # its page shows the post
    assert days == {DAY.isoformat(): latest, OTHER.isoformat(): latest}  # both days rank it
    write(engine, lambda c: save_mention(c, post_about("1", 5), T))  # re-delivered as is
    # without totals: no way to tell
    assert (stamps(engine)[0] == latest) == built
    before = stamps(engine)[0]
    write(engine, lambda c: mark_deleted(c, "x", ["1"], T))
    deleted = stamps(engine)[0]
    assert deleted > before and stamps(engine)[2][PAPER.id] == deleted
    ranking = StoredRanking(day=OTHER, method="hot", as_of=T, rows=[])
    write(engine, lambda c: save_ranking(c, ranking, T))
    assert stamps(engine)[1][OTHER.isoformat()] == deleted + 1
    post = Post(day=DAY, generated_at=T, entries=[PostEntry(PAPER, 0, 0, T)])
    write(engine, lambda c: save_post(c, post, "lumen", {}))
    assert stamps(engine)[1][DAY.isoformat()] == deleted + 2


def test_a_write_rolled_back_leaves_the_stamps_as_they_were(engine):
    write(engine, lambda c: save_paper(c, PAPER, T))
    with pytest.raises(RuntimeError), engine.begin() as conn:
        save_paper(conn, Paper(PAPER.id, "Another title", announced_on=DAY), T)
        raise RuntimeError("the write fails after the bump")
    assert stamps(engine) == (1, {DAY.isoformat(): 1}, {PAPER.id: 1})


def test_a_bulk_load_stamps_everything(engine):
    with engine.begin() as conn:
        save_papers_bulk(conn, [PAPER, Paper("2611.00002", "Another", announced_on=DAY)], T)
    with engine.connect() as conn:
        assert load_stamps(conn, "store") == {"*": 1}
    with engine.begin() as conn:  # the same papers again: nothing written, nothing bumped
        assert save_papers_bulk(conn, [PAPER], T) == 1
    assert stamps(engine)[0] == 1

