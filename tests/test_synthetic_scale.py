"""The scale generator (`python -m hotpapers.jobs.synthetic --days D --mentions N`): skewed
attention written through the ingest code, deterministic for a seed, labelled synthetic,
and a store the rankings read."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hotpapers.config import Settings
from hotpapers.jobs.ranking import Method, Window, rank_papers
from hotpapers.jobs.synthetic import main
from hotpapers.jobs.synthetic_scale import announcement_days, generate_store
from hotpapers.store.db import connect
from hotpapers.store.schema import accounts, mention_papers, mentions, metadata, papers


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> tuple:
    engine = connect(f"sqlite:///{tmp_path_factory.mktemp('scale') / 'scale.sqlite3'}")
    stats = generate_store(engine, 2000, days=3, seed=5)
    yield engine, stats
    engine.dispose()


def contents(engine) -> dict[str, list[tuple]]:
    """Every row of every table but the migrations' own, in a fixed order; the change
    stamps and the totals' state row, which say when (by the wall clock) they were
    written, without those times."""
    clocked = {"change_stamps": "changed_at", "aggregate_state": "built_at"}
    with engine.connect() as conn:
        return {t.name: sorted(conn.execute(select(*(c for c in t.columns
                                                     if c.name != clocked.get(t.name)))
                                            ).all(), key=repr)
                for t in metadata.sorted_tables}


def test_counts_days_and_labels(store):
    engine, stats = store
    assert stats.mentions == 2000 and len(stats.days) == 3
    assert stats.days == announcement_days(stats.days[-1], 3)
    assert all(d.weekday() < 5 for d in stats.days)
    assert 1500 <= stats.papers <= 2100 and stats.writes >= stats.mentions
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(mentions)).scalar() == 2000
        titles = conn.execute(select(papers.c.title)).scalars().all()
        handles = conn.execute(select(accounts.c.handle)).scalars().all()
        texts = conn.execute(select(mentions.c.text)).scalars().all()
        sources = set(conn.execute(select(mentions.c.source)).scalars())
    assert all(t.startswith("[synthetic] ") for t in titles)
    assert all(h.startswith("synthetic-") for h in handles)
    assert sum("[synthetic]" in t for t in texts) >= 0.9 * len(texts)
    assert sources == {"x", "bluesky", "mastodon", "hn", "reddit", "hf"}
    assert any(h.startswith("synthetic-bot-") for h in handles)


def test_attention_is_skewed_over_papers(store):
    engine, _ = store
    with engine.connect() as conn:
        ids = conn.execute(select(papers.c.id)).scalars().all()
        per = Counter(dict(conn.execute(select(mention_papers.c.paper_id, func.count())
                                        .group_by(mention_papers.c.paper_id)).all()))
    counts = [per.get(p, 0) for p in ids]
    discussed = [c for c in counts if c]
    assert sum(c <= 3 for c in counts) > 0.8 * len(counts)  # most papers: 0-3 mentions
    assert max(counts) >= 50 * statistics.median(discussed)


def test_the_hot_and_trending_rankings_read_it(store):
    engine, stats = store
    with engine.connect() as conn:
        for method in (Method.hot, Method.trending):
            ranked = rank_papers(conn, stats.days[-1], method, Window.week, Settings(),
                                 stats.as_of)
            assert len(ranked.rows) >= 5
            assert ranked.rows[0].score >= ranked.rows[-1].score


def test_the_same_seed_gives_the_same_store(tmp_path: Path, capsys):
    urls = [f"sqlite:///{tmp_path / name}.sqlite3" for name in ("a", "b", "c")]
    for url, seed in zip(urls, (3, 3, 4), strict=True):
        main(["--days", "2", "--mentions", "400", "--seed", str(seed), "--db", url, "--quiet"])
    assert "Done: " in capsys.readouterr().out
    engines = [connect(url) for url in urls]
    a, b, c = (contents(e) for e in engines)
    assert a == b and a["observations"] and a["mentions"] != c["mentions"]
    with pytest.raises(ValueError, match="already has a listing"):
        generate_store(engines[0], 10, days=2, seed=3)
    for engine in engines:
        engine.dispose()


def test_no_mentions_is_a_store_of_papers_only(tmp_path: Path):
    engine = connect(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    stats = generate_store(engine, 0, days=1, seed=1, end_day=date(2026, 3, 1))  # a Sunday
    assert stats.days == [date(2026, 2, 27)] and stats.papers >= 500
    assert stats.to_json()["as_of"] is None and stats.to_json()["mention_us"] == 0
    engine.dispose()
