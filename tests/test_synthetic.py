"""The synthetic-day generator: deterministic, importable, labelled, heavy-tailed, with
cross-posting people, growing counts and an optional bot attack."""

from __future__ import annotations

import json
import statistics
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from hotpapers.arxiv_ids import parse
from hotpapers.config import Settings
from hotpapers.jobs.demo import synthetic_snapshot
from hotpapers.jobs.ranking import Method, Window, rank_papers
from hotpapers.jobs.snapshot import import_records, read_snapshot
from hotpapers.jobs.synthetic import generate_day, main, write_day

DAY = date(2026, 1, 5)
NOW = datetime(2026, 1, 9, tzinfo=UTC)


@pytest.fixture(scope="module")
def day() -> list[dict]:
    return generate_day(DAY, seed=3)


def of_type(records: list[dict], kind: str) -> list[dict]:
    return [r for r in records if r["type"] == kind]


def test_the_same_seed_gives_the_same_records_and_another_seed_others(day):
    assert generate_day(DAY, seed=3) == day
    assert generate_day(DAY, seed=4) != day
    assert json.dumps(day, sort_keys=True) == json.dumps(generate_day(DAY, 3), sort_keys=True)


def test_records_import_cleanly(engine, day):
    with engine.begin() as conn:
        counts = import_records(conn, day[1:], NOW)
    assert counts["paper"] == 120 and counts["listing"] == 1
    assert counts["mention"] == len(of_type(day, "mention"))
    with engine.begin() as conn:  # importing twice changes nothing and does not fail
        assert import_records(conn, day[1:], NOW) == counts


def test_everything_is_labelled_synthetic(day):
    header = day[0]
    assert header["type"] == "snapshot" and header["synthetic"] is True
    assert "synthetic" in header["note"]
    for paper in of_type(day, "paper"):
        assert paper["title"].startswith("[synthetic] ")
        assert "synthetic" in paper["abstract"]
    for mention in of_type(day, "mention"):
        assert "synthetic" in mention["account"]["handle"]
        assert "[synthetic]" in mention["text"]


def test_papers_are_plausible_new_submissions_of_the_day(day):
    papers = of_type(day, "paper")
    for paper in papers:
        assert parse(paper["id"]).id == paper["id"] and paper["id"].startswith("2601.")
        assert paper["announced_on"] == "2026-01-05" and 1 <= len(paper["authors"]) <= 12
        assert 3 <= paper["abstract"].count(". ") + 1 <= 5
    assert len({p["id"] for p in papers}) == len(papers)
    assert sum(len(p["categories"]) > 1 for p in papers) > len(papers) / 4  # cross-lists
    assert of_type(day, "listing")[0]["papers"] == [[p["id"], "new"] for p in papers]


def test_attention_is_heavy_tailed_and_on_every_source(day):
    per_paper = Counter(m["paper_ids"][0] for m in of_type(day, "mention"))
    counts = [per_paper.get(p["id"], 0) for p in of_type(day, "paper")]
    assert max(counts) >= 8 * statistics.median(counts)
    assert {m["source"] for m in of_type(day, "mention")} == {
        "x", "bluesky", "mastodon", "hn", "reddit", "hf"}


def test_people_cross_post_the_same_paper_on_x_and_bluesky(day):
    def person(mention: dict) -> str:
        return mention["account"]["handle"].split(".")[0].replace("-", "_")

    posted = {(m["source"], person(m), m["paper_ids"][0]) for m in of_type(day, "mention")}
    both = {(who, paper) for source, who, paper in posted if source == "x"} & {
        (who, paper) for source, who, paper in posted if source == "bluesky"}
    assert len(both) >= 10


def test_counts_grow_over_days_and_accounts_have_creation_dates(day):
    mentions = of_type(day, "mention")
    assert statistics.mean(len(m["observations"]) for m in mentions) >= 2.5
    for mention in mentions:
        seen = mention["observations"]
        assert [o["observed_at"] for o in seen] == sorted(o["observed_at"] for o in seen)
        for kind in ("likes", "reposts", "points"):
            values = [o.get(kind) or 0 for o in seen]
            assert values == sorted(values)
    span = {o["observed_at"][:10] for m in mentions for o in m["observations"]}
    assert span == {"2026-01-05", "2026-01-06", "2026-01-07"}  # three days of crawls
    dated = [m for m in mentions if m["source"] in ("x", "bluesky")]
    assert all(m["account"].get("created_at") for m in dated)


def test_a_few_x_posts_have_inflated_reposts_unless_turned_off(day):
    def inflated(records):
        return [m for m in of_type(records, "mention") if m["source"] == "x"
                and m["observations"][-1].get("reposts", 0)
                > 3 * m["observations"][-1].get("likes", 0) + 250]

    assert 1 <= len(inflated(day)) <= 20
    clean = generate_day(DAY, seed=3, inflation=False)
    assert inflated(clean) == []
    assert len(of_type(clean, "mention")) == len(of_type(day, "mention"))


def test_sources_keep_only_those_mentions(day):
    x_only = generate_day(DAY, seed=3, sources=("x",))
    assert of_type(x_only, "mention") == [m for m in of_type(day, "mention")
                                          if m["source"] == "x"]


def test_a_bot_attack_is_one_post_with_10000_reposts_from_a_fresh_account(day):
    target = of_type(day, "paper")[60]["id"]
    attacked = generate_day(DAY, seed=3, bot_attack=target)
    extra = [m for m in of_type(attacked, "mention") if m not in of_type(day, "mention")]
    assert len(extra) == 1 and len(of_type(attacked, "mention")) == len(
        of_type(day, "mention")) + 1
    [post] = extra
    last = post["observations"][-1]
    assert post["paper_ids"] == [target] and post["source"] == "x"
    assert last["reposts"] == 10_000 and last["likes"] <= 3
    born = datetime.fromisoformat(post["account"]["created_at"])
    assert timedelta(days=1) < datetime(2026, 1, 5, 12, tzinfo=UTC) - born < timedelta(days=7)
    assert "synthetic" in post["account"]["handle"]


def test_hot_keeps_the_attacked_paper_out_of_its_top_10_where_classic_ranks_it_first(
        engine, day):
    quiet = Counter(m["paper_ids"][0] for m in of_type(day, "mention"))
    target = min(of_type(day, "paper"), key=lambda p: (quiet[p["id"]], p["id"]))["id"]
    attacked = generate_day(DAY, seed=3, bot_attack=target)
    with engine.begin() as conn:
        import_records(conn, attacked[1:], NOW)
    as_of = datetime.fromisoformat(attacked[0]["observed_until"])
    with engine.connect() as conn:
        classic = rank_papers(conn, DAY, Method.classic, Window.day, Settings(), as_of).rows
        hot = rank_papers(conn, DAY, Method.hot, Window.day, Settings(), as_of,
                          limits=False).rows
    assert classic[0].paper_id == target
    assert target not in [r.paper_id for r in hot[:10]]


def test_bad_options_are_refused(capsys):
    with pytest.raises(ValueError, match="not one of the day's papers"):
        generate_day(DAY, seed=3, papers=5, bot_attack="2601.99999")
    with pytest.raises(ValueError, match="unknown sources"):
        generate_day(DAY, seed=3, papers=5, sources=("x", "myspace"))
    with pytest.raises(SystemExit) as exited:
        main(["--day", "2026-01-05", "--seed", "1", "--bot-attack", "1", "--out", "x"])
    assert exited.value.code == 2 and "not one of the day's papers" in capsys.readouterr().err


def test_the_command_writes_a_snapshot_file(tmp_path: Path, capsys):
    out = tmp_path / "day.jsonl"
    main(["--day", "2026-01-05", "--seed", "7", "--papers", "10", "--out", str(out)])
    assert "Done:" in capsys.readouterr().out
    records = read_snapshot(out)
    assert [r for _, r in records] == generate_day(DAY, 7, 10)[1:]
    assert json.loads(out.read_text(encoding="utf-8").splitlines()[0])["synthetic"] is True


def test_the_bundled_demo_day_is_what_the_documented_command_writes(tmp_path: Path):
    # python -m hotpapers.jobs.synthetic --day 2026-01-05 --seed 7 --papers 45 --out FILE
    bundled = synthetic_snapshot()
    write_day(generate_day(DAY, 7, 45), tmp_path / "again.jsonl")
    assert (tmp_path / "again.jsonl").read_bytes() == bundled.read_bytes()
    assert bundled.stat().st_size < 300_000
