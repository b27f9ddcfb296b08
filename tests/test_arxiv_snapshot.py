"""`import arxiv-snapshot`: the public metadata snapshot, streamed, with bad lines named."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from conftest import shared_path
from hotpapers.config import Settings
from hotpapers.jobs.arxiv_snapshot import BATCH, import_arxiv_snapshot
from hotpapers.sources.arxiv.kaggle import parse_record
from hotpapers.store.papers import load_papers
from hotpapers.store.schema import paper_authors, paper_versions, papers

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def record(paper_id: str, **extra) -> dict:
    base = {
        "id": paper_id, "submitter": "Ada Example", "authors": "Ada Example and Brook Sample",
        "title": "A Title\n  Over Two Lines", "comments": None, "journal-ref": None,
        "doi": None, "report-no": None, "categories": "cs.LG stat.ML", "license": None,
        "abstract": "  First line\nsecond line.\n",
        "versions": [{"version": "v1", "created": "Fri, 1 Mar 2024 18:59:00 GMT"},
                     {"version": "v2", "created": "Tue, 5 Mar 2024 09:00:00 GMT"}],
        "update_date": "2024-03-05",
        "authors_parsed": [["Example", "Ada", ""], ["Sample", "Brook", "Jr"]],
    }
    return base | extra


def write(path, lines):
    path.write_text("".join((json.dumps(x) if isinstance(x, dict) else x) + "\n"
                            for x in lines), encoding="utf-8")
    return path


def count(engine, table=papers) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


def test_a_record_becomes_a_paper():
    paper = parse_record(record("2403.00010"))
    assert paper.title == "A Title Over Two Lines"
    assert paper.authors == ["Ada Example", "Brook Sample Jr"]
    assert paper.categories == ["cs.LG", "stat.ML"]
    assert paper.abstract == "First line second line."
    assert [v.number for v in paper.versions] == [1, 2]
    assert paper.submitted_at == datetime(2024, 3, 1, 18, 59, tzinfo=UTC)
    assert paper.announced_on == date(2024, 3, 4)  # before Friday's 14:00 EST cutoff
    assert paper.latest_version == 2


def test_the_real_sample_stores_200_papers(engine):
    sample = shared_path("fixtures", "real", "kaggle-arxiv-metadata",
                         "arxiv-metadata-oai-snapshot.first-200-lines.jsonl")
    result = import_arxiv_snapshot(engine, sample, Settings(), NOW)
    assert (result.stored, result.bad) == (200, [])
    assert count(engine) == 200
    with engine.connect() as conn:
        first = load_papers(conn, ["0704.0001"])["0704.0001"]
    assert first.categories == ["hep-ph"]
    assert first.authors[0] == "C. Balázs"
    assert [(v.number, v.submitted_at) for v in first.versions] == [
        (1, datetime(2007, 4, 2, 19, 18, 42, tzinfo=UTC)),
        (2, datetime(2007, 7, 24, 20, 10, 27, tzinfo=UTC))]
    assert first.doi == "10.1103/PhysRevD.76.013009"


def test_bad_lines_are_named_and_the_rest_imported(engine, tmp_path):
    path = write(tmp_path / "s.jsonl", [
        record("2403.00010"), "{not json", record("not-an-id"), record("2403.00011", title=""),
        "", record("2403.00012", versions=[{"version": "v1", "created": "yesterday"}]),
        "[1, 2]", record("2403.00013")])
    result = import_arxiv_snapshot(engine, path, Settings(), NOW)
    assert result.stored == 2
    assert [line for line, _ in result.bad] == [2, 3, 4, 6, 7]
    reasons = dict(result.bad)
    assert reasons[2].startswith("not JSON")
    assert reasons[3] == "no valid arXiv id in 'id' ('not-an-id')"
    assert reasons[4] == "empty 'title'"
    assert reasons[7] == "not a JSON object"


def test_a_version_date_out_of_range_is_a_bad_line_not_a_crash(engine, tmp_path):
    path = write(tmp_path / "s.jsonl", [
        record("2403.00010", versions=[{"version": "v1",
                                        "created": "Fri, 31 Dec 9999 23:00:00 GMT"}]),
        record("2403.00011", versions=[{"version": "v1",
                                        "created": "Mon, 1 Jan 99999999999999999999 0:0:0 GMT"}]),
        record("2403.00012")])
    result = import_arxiv_snapshot(engine, path, Settings(), NOW)
    assert result.stored == 1
    assert [line for line, _ in result.bad] == [1, 2]


def test_a_version_number_too_large_for_the_store_is_a_bad_line(engine, tmp_path):
    path = write(tmp_path / "s.jsonl", [
        record("2403.00010", versions=[{"version": "v" + "9" * 30,
                                        "created": "Mon, 1 Apr 2024 10:00:00 GMT"}]),
        record("2403.00011", versions=[{"version": "v2147483648",
                                        "created": "Mon, 1 Apr 2024 10:00:00 GMT"}]),
        record("2403.00012", versions=[{"version": "v2147483647",
                                        "created": "Mon, 1 Apr 2024 10:00:00 GMT"}])])
    result = import_arxiv_snapshot(engine, path, Settings(), NOW)
    assert result.stored == 1
    assert result.bad == [(1, f"version number out of range: 'v{'9' * 30}'"),
                          (2, "version number out of range: 'v2147483648'")]


def test_a_record_naming_a_version_twice_is_stored_on_both_databases(engine, tmp_path):
    """SQLite upserts its versions; PostgreSQL's COPY gets one row per number alike."""
    twice = [{"version": "v1", "created": "Mon, 1 Apr 2024 10:00:00 GMT"},
             {"version": "v1", "created": "Mon, 1 Apr 2024 11:00:00 GMT"}]
    path = write(tmp_path / "s.jsonl", [record("2403.00010", versions=twice)])
    assert import_arxiv_snapshot(engine, path, Settings(), NOW).stored == 1
    path = write(tmp_path / "t.jsonl", [record("2403.00010", title="New", versions=twice)])
    assert import_arxiv_snapshot(engine, path, Settings(), NOW).stored == 1
    with engine.connect() as conn:
        rows = conn.execute(select(paper_versions.c.version, paper_versions.c.submitted_at)
                            ).all()
    assert rows == [(1, datetime(2024, 4, 1, 11, tzinfo=UTC))]


def test_gzip_and_batches_and_reimport(engine, tmp_path):
    lines = [json.dumps(record(f"2403.{i:05d}")) for i in range(BATCH + 5)]
    path = tmp_path / "s.jsonl.gz"
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    seen = []
    result = import_arxiv_snapshot(engine, path, Settings(), NOW, progress=seen.append)
    assert result.stored == BATCH + 5 and len(seen) == 2 and seen[-1] == path.stat().st_size
    assert count(engine) == BATCH + 5 and count(engine, paper_authors) == 2 * (BATCH + 5)
    import_arxiv_snapshot(engine, path, Settings(), NOW)
    assert count(engine) == BATCH + 5 and count(engine, paper_authors) == 2 * (BATCH + 5)


def test_a_truncated_gzip_keeps_what_was_read(engine, tmp_path):
    lines = [json.dumps(record(f"2403.{i:05d}")) for i in range(3 * BATCH)]
    packed = gzip.compress(("\n".join(lines) + "\n").encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(packed[: len(packed) * 3 // 4])
    from hotpapers.errors import InputError
    with pytest.raises(InputError, match=r"cut.jsonl.gz: cannot read after \d+ papers"):
        import_arxiv_snapshot(engine, path, Settings(), NOW)
    assert count(engine) >= BATCH


def test_cli_reports_bad_lines_and_exits_2(cli, tmp_path, db_url):
    path = write(tmp_path / "s.jsonl", [record("2403.00010"), "{oops"])
    result = cli("import", "arxiv-snapshot", path)
    assert result.code == 2
    assert f"{path}:2: not JSON" in result.err
    assert "Done: 1 papers changed, 0 unchanged, 1 bad lines skipped" in result.out


def test_an_older_record_never_replaces_a_newer_version(engine, tmp_path):
    newer = write(tmp_path / "new.jsonl", [record("2403.00010", title="Newer")])
    older = write(tmp_path / "old.jsonl", [record(
        "2403.00010", title="Older",
        versions=[{"version": "v1", "created": "Fri, 1 Mar 2024 18:59:00 GMT"}])])
    import_arxiv_snapshot(engine, newer, Settings(), NOW)
    import_arxiv_snapshot(engine, older, Settings(), NOW)
    with engine.connect() as conn:
        paper = load_papers(conn, ["2403.00010"])["2403.00010"]
    assert (paper.title, paper.latest_version) == ("Newer", 2)


def test_odd_but_readable_records(tmp_path):
    paper = parse_record(record("2403.00010", authors_parsed=[[], ["Solo", "Han", ""]]))
    assert paper.authors == ["Han Solo"]
    loose = parse_record(record("2403.00011", authors_parsed=None,
                                authors="A. One, B. Two, and C. Three"))
    assert loose.authors == ["A. One", "B. Two", "C. Three"]
    with pytest.raises(ValueError, match="not a version date: 'Mon, 2 April 2007"):
        parse_record(record("2403.00012", versions=[
            {"version": "v1", "created": "Mon, 2 April 2007 19:18:42 GMT"}]))


def test_a_byte_order_mark_and_a_corrupt_gzip(engine, tmp_path):
    from hotpapers.errors import InputError

    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(record("2403.00010")).encode() + b"\n")
    assert import_arxiv_snapshot(engine, path, Settings(), NOW).stored == 1
    packed = bytearray(gzip.compress(b"\n".join(json.dumps(record(f"2403.{i:05d}")).encode()
                                                 for i in range(50))))
    packed[len(packed) // 2] ^= 0xFF
    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(bytes(packed))
    with pytest.raises(InputError, match=r"broken\.jsonl\.gz: cannot read after"):
        import_arxiv_snapshot(engine, broken, Settings(), NOW)


# --- a file that is not the snapshot (issue 13, point 21) -------------------------------------

def binary_file(path, size=200_000):
    """Random bytes with their share of newlines: like an executable or an image."""
    import random

    path.write_bytes(random.Random(21).randbytes(size))
    return path


def test_p21_a_binary_file_is_refused_in_one_line_and_nothing_is_written(cli, tmp_path,
                                                                           engine):
    path = binary_file(tmp_path / "a.out")
    result = cli("import", "arxiv-snapshot", path)
    assert result.code == 2
    [line] = result.err.strip().splitlines()
    assert line.startswith(f"hotpapers: error: {path}: does not look like the arXiv "
                           "JSON-lines snapshot")
    assert "first 100 lines" in line
    assert count(engine) == 0


def test_p21_good_lines_after_100_bad_ones_are_not_half_imported(engine, tmp_path):
    from hotpapers.errors import InputError

    path = write(tmp_path / "s.jsonl", ["{oops"] * 100 + [record("2403.00010")])
    with pytest.raises(InputError, match=r"s\.jsonl: does not look like the arXiv JSON-lines"):
        import_arxiv_snapshot(engine, path, Settings(), NOW)
    assert count(engine) == 0
    mixed = write(tmp_path / "m.jsonl", ["{oops"] * 99 + [record("2403.00010")])
    assert import_arxiv_snapshot(engine, mixed, Settings(), NOW).stored == 1


def test_p21_many_bad_lines_show_the_first_10_and_a_count(cli, tmp_path):
    path = write(tmp_path / "s.jsonl", [record("2403.00010")] + ["{oops"] * 45)
    result = cli("import", "arxiv-snapshot", path)
    assert result.code == 2
    errors = result.err.strip().splitlines()
    assert [e.split(": not JSON (")[0] for e in errors[:10]] == [
        f"hotpapers: error: {path}:{n}" for n in range(2, 12)]
    assert errors[10:] == ["hotpapers: error: ... and 35 more bad lines"]
    assert "Done: 1 papers changed, 0 unchanged, 45 bad lines skipped" in result.out


def test_p23_a_reimport_of_the_snapshot_says_what_changed(cli, tmp_path):
    records = [record(f"2403.{i:05d}") for i in range(10, 15)]
    path = write(tmp_path / "s.jsonl", records)
    first = cli("import", "arxiv-snapshot", path)
    assert first.code == 0, first.err
    assert "Done: 5 papers changed, 0 unchanged, 0 bad lines skipped" in first.out
    again = cli("import", "arxiv-snapshot", path)
    assert "Done: 0 papers changed, 5 unchanged, 0 bad lines skipped" in again.out
    write(path, [*records[:4], record("2403.00014", title="A New Title"),
                 record("2403.00015")])
    third = cli("import", "arxiv-snapshot", path)
    assert "Done: 2 papers changed, 4 unchanged, 0 bad lines skipped" in third.out
