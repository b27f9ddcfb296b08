"""The JSON-lines snapshot: the bundled demo day, round trips and bad lines."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime

import pytest

from hotpapers.config import Settings
from hotpapers.errors import InputError
from hotpapers.jobs.demo import demo_snapshot
from hotpapers.jobs.post import render_post, write_post
from hotpapers.jobs.snapshot import FORMAT, export_days, import_records, read_snapshot
from hotpapers.store.posts import load_post, load_ranking, save_ranking

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_bundled_day_holds_the_seed_post_facts(engine):
    records = read_snapshot(demo_snapshot())
    kinds = [r["type"] for _, r in records]
    assert kinds.count("paper") == 8 and kinds.count("post") == 1
    with engine.begin() as conn:
        import_records(conn, records, NOW)
    post = write_post(engine, date(2021, 1, 18), Settings(), NOW)
    first = post.entries[0]
    assert first.paper.id == "2101.06046"
    assert first.paper.title == "Counterfactual Generative Networks"
    assert (first.reposts, first.likes) == (576, 138)
    assert post.generated_at == datetime(2021, 1, 19, 8, 57, 46, tzinfo=UTC)
    assert [e.paper.id for e in post.entries][-1] == "2101.06013"


def test_bundled_day_is_the_seed_post(engine, seed_post):
    with engine.begin() as conn:
        import_records(conn, read_snapshot(demo_snapshot()), NOW)
    text = render_post(write_post(engine, date(2021, 1, 18), Settings(), NOW), "lumen",
                       Settings()).text
    assert text.encode() == seed_post.read_bytes()


def test_export_import_export_is_stable(engine, db_url, tmp_path):
    from hotpapers.store.db import connect

    with engine.begin() as conn:
        import_records(conn, read_snapshot(demo_snapshot()), NOW)
    with engine.connect() as conn:
        first = list(export_days(conn, [date(2021, 1, 18)]))
    other = connect(f"sqlite:///{tmp_path / 'other.sqlite3'}")
    with other.begin() as conn:
        counts = import_records(conn, [dict(r) for r in first[1:]], NOW)
    with other.connect() as conn:
        second = list(export_days(conn, [date(2021, 1, 18)]))
    assert counts == {"paper": 8, "listing": 1, "mention": 8, "attention": 8, "ranking": 1,
                      "post": 1}
    assert second == first


def write_lines(path, lines):
    path.write_text("".join(json.dumps(x) + "\n" if not isinstance(x, str) else x + "\n"
                            for x in lines), encoding="utf-8")
    return path


HEADER = {"type": "snapshot", "format": FORMAT, "version": 1, "days": []}


@pytest.mark.parametrize(("lines", "reason"), [
    ([HEADER, {"type": "paper", "id": "1"}, "{not json"], ":3: not JSON"),
    ([HEADER, {"type": "gossip"}], ":2: unknown record type 'gossip'"),
    ([HEADER, [1, 2]], ":2: not a JSON object"),
    ([{"type": "paper"}], ":1: not a hotpapers-snapshot file"),
])
def test_bad_snapshot_lines_are_named(tmp_path, lines, reason):
    path = write_lines(tmp_path / "s.jsonl", lines)
    with pytest.raises(InputError) as caught:
        read_snapshot(path)
    assert str(caught.value).startswith(str(path))
    assert reason in str(caught.value)


def test_gzipped_snapshot_reads_like_plain(tmp_path):
    plain = demo_snapshot().read_bytes()
    packed = tmp_path / "day.jsonl.gz"
    packed.write_bytes(gzip.compress(plain))
    assert read_snapshot(packed) == read_snapshot(demo_snapshot())


@pytest.mark.parametrize(("record", "reason"), [
    ({"type": "paper", "title": "No id"}, "s.jsonl:2: paper record: missing 'id'"),
    # JSON of another type than the field's: a string would be stored letter by letter
    ({"type": "paper", "id": "2403.09999", "title": "T", "categories": "cs.LG"},
     "s.jsonl:2: paper record: categories: not a list of texts"),
    ({"type": "paper", "id": "2403.09999", "title": "T", "authors": [1, 2]},
     "s.jsonl:2: paper record: authors: not a list of texts"),
    ({"type": "paper", "id": 2403.09999, "title": "T"}, "s.jsonl:2: paper record: id: not a text"),
    ({"type": "paper", "id": "2403.09999", "title": "T", "latest_version": "3"},
     "s.jsonl:2: paper record: latest_version: not a whole number"),
    ({"type": "listing", "day": "2024-03-05", "papers": [["2403.09999", "new"]]},
     "s.jsonl:2: listing record: "),
    ({"type": "attention", "paper_id": "x", "source": "legacy", "observed_at": "2024-03-05"},
     "s.jsonl:2: attention record: "),
])
def test_a_record_that_cannot_be_stored_names_its_line(engine, tmp_path, record, reason):
    path = write_lines(tmp_path / "s.jsonl", [HEADER, record])
    with pytest.raises(InputError) as caught, engine.begin() as conn:
        import_records(conn, read_snapshot(path), NOW, origin=str(path))
    assert str(caught.value).startswith(str(tmp_path / reason.split(":")[0]))
    assert reason.split(":", 1)[1] in str(caught.value)
    if record["type"] == "listing":
        assert "foreign key" in str(caught.value).lower()  # worded by SQLite or PostgreSQL


def test_a_newer_snapshot_version_is_refused(tmp_path):
    path = write_lines(tmp_path / "s.jsonl", [{**HEADER, "version": 99}])
    with pytest.raises(InputError, match=r"s.jsonl:1: snapshot version 99; this hotpapers "
                                         r"reads version 1"):
        read_snapshot(path)


def _demo_with_ranking_parts(parts: dict) -> list[tuple[int, dict]]:
    """The bundled day, its stored classic ranking's first row given `parts`."""
    records = read_snapshot(demo_snapshot())
    for _, record in records:
        if record["type"] == "ranking":
            record["rows"][0]["parts"] = parts
    return records


@pytest.mark.parametrize("parts", [{"likes": 3}, {"reposts": "many", "likes": 3},
                                   {"reposts": 1.5, "likes": 3}])
def test_a_classic_ranking_without_whole_totals_is_refused_at_import(engine, parts):
    records = _demo_with_ranking_parts(parts)
    line = next(n for n, r in records if r["type"] == "ranking")
    with pytest.raises(InputError, match=rf"day.jsonl:{line}: ranking record: classic parts "
                                         r"need a whole number 'reposts'"), engine.begin() as conn:
        import_records(conn, records, NOW, origin="day.jsonl")
    with engine.connect() as conn:  # all or nothing
        assert load_ranking(conn, date(2021, 1, 18), "classic") is None
        assert load_post(conn, date(2021, 1, 18), "lumen") is None


def test_a_stored_classic_ranking_without_totals_is_one_store_error(engine):
    """A store written before imports checked this ranks with one line, not a traceback."""
    from hotpapers.errors import StoreError
    from hotpapers.jobs.ranking import Method, Window, rank_stored

    with engine.begin() as conn:
        import_records(conn, read_snapshot(demo_snapshot()), NOW)
        ranking = load_ranking(conn, date(2021, 1, 18), "classic")
        ranking.rows[0].parts = {"likes": 3}
        save_ranking(conn, ranking, NOW)
    with pytest.raises(StoreError, match=r"the stored classic ranking of 2021-01-18, paper "
                                         r"2101.06046: classic parts need a whole number "
                                         r"'reposts', got None"):
        rank_stored(engine, date(2021, 1, 18), Method.classic, Window.day, Settings(), NOW)


def test_a_bad_snapshot_file_is_refused_before_a_store_is_made(cli, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("garbage\n")
    store = tmp_path / "new" / "store.sqlite3"
    store.parent.mkdir()
    result = cli("--db", f"sqlite:///{store}", "import", "snapshot", bad)
    assert result.code == 2
    assert result.err.strip() == f"hotpapers: error: {bad}:1: not a hotpapers-snapshot file"
    assert list(store.parent.iterdir()) == []  # no database, no migration lock


@pytest.mark.parametrize(("parts", "printed"), [
    ({"reposts": 3, "likes": 4, "note": "hand-made"},
     {"reposts": 3, "likes": 4, "note": "hand-made", "day": "2021-01-18"}),
    ({"likes": 4, "tweets_shown": None, "reposts": 3, "day": 20210118},
     {"likes": 4, "tweets_shown": None, "reposts": 3, "day": "2021-01-18"}),
])
def test_stored_classic_parts_print_with_their_own_keys(engine, parts, printed):
    """Keys the ranker does not know, nulls and the stored order are printed as stored; a
    stored day that is not one is replaced by the ranking's day, as always."""
    from hotpapers.jobs.ranking import Method, Window, rank_stored

    with engine.begin() as conn:
        import_records(conn, read_snapshot(demo_snapshot()), NOW)
        ranking = load_ranking(conn, date(2021, 1, 18), "classic")
        ranking.rows[0].parts = parts
        save_ranking(conn, ranking, NOW)
    ranked = rank_stored(engine, date(2021, 1, 18), Method.classic, Window.day, Settings(), NOW)
    first = next(r for r in ranked.rows if r.paper_id == ranking.rows[0].paper_id)
    assert first.parts.to_json() == printed
    assert list(first.parts.to_json()) == list(printed)
