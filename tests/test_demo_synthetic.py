"""`hotpapers demo` on the bundled synthetic day: hot and trending tables and an explanation,
labelled synthetic, without touching the seed day's post."""

from __future__ import annotations

import re

from hotpapers.jobs.demo import synthetic_snapshot
from hotpapers.jobs.snapshot import read_snapshot


def synthetic_section(out: str) -> list[str]:
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Synthetic day "))
    return lines[start:-1]  # up to the summary line


def test_demo_shows_the_synthetic_hot_and_trending_tables_and_an_explanation(cli, tmp_path):
    result = cli("demo", "--out", tmp_path / "demo")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].startswith("Post: ") and lines[-1].startswith(
        "Done: 8 papers listed, 8 tweets shown, 1 file written")
    section = synthetic_section(result.out)
    assert section[0].startswith("Synthetic day 2026-01-05 (generated data")
    assert "as of 2026-01-07 " in section[0]
    hot = section.index("  synthetic hot, top 5:")
    trending = section.index("  synthetic trending, top 5:")
    explained = section.index("  synthetic hot #1, explained:")
    assert trending == hot + 6 and explained == trending + 6
    rows = section[hot + 1:hot + 6] + section[trending + 1:trending + 6]
    for rank, row in zip([1, 2, 3, 4, 5] * 2, rows, strict=True):
        assert re.match(rf"\s+{rank}\. 2601\.\d{{5}} .* people on .*: \[synthetic\] ", row), row
    first = rows[0].split()[1]
    assert section[explained + 1].strip().startswith(f"{first} [synthetic] ")
    assert any(line.strip().startswith("rank 1 of ") for line in section[explained:])
    assert any(line.strip().startswith("x: ") for line in section[explained:])
    assert sum("synthetic" in line for line in section) >= 12


def test_the_synthetic_section_is_the_same_on_every_run(cli, tmp_path):
    first = cli("demo", "--out", tmp_path / "a")
    second = cli("demo", "--out", tmp_path / "b")
    assert synthetic_section(first.out) == synthetic_section(second.out)


def test_quiet_demo_prints_nothing_but_still_loads_the_synthetic_day(cli, tmp_path):
    from hotpapers.store.db import connect
    from hotpapers.store.papers import load_papers

    result = cli("-q", "demo", "--out", tmp_path / "q")
    assert (result.code, result.out) == (0, "")
    ids = [r["id"] for _, r in read_snapshot(synthetic_snapshot()) if r["type"] == "paper"]
    engine = connect(f"sqlite:///{tmp_path / 'q' / 'hotpapers.sqlite3'}")
    with engine.connect() as conn:
        stored = load_papers(conn, ids)
    engine.dispose()
    assert len(stored) == len(ids) == 45
    assert all(p.title.startswith("[synthetic] ") for p in stored.values())


def test_the_seed_post_is_still_written_byte_for_byte(cli, tmp_path, seed_post):
    result = cli("demo", "--out", tmp_path / "demo")
    assert result.code == 0, result.err
    written = tmp_path / "demo" / "posts" / "2021-01-18---Hot-Papers.md"
    assert written.read_bytes() == seed_post.read_bytes()
    assert list((tmp_path / "demo" / "posts").iterdir()) == [written]
