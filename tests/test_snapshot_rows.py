"""The lean parse of the arXiv snapshot (sources/arxiv/kaggle_rows.py) against the reference
path it replaces in `import arxiv-snapshot`: `read_lines` (`parse_record`), then the store's
row codec on the paper without control characters. Every line, good or hostile, must give
the same row or the same reason."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hotpapers.models import strip_controls
from hotpapers.sources.arxiv.kaggle import read_lines
from hotpapers.sources.arxiv.kaggle_rows import ROW_FIELDS, RowMaker, read_rows
from hotpapers.sources.arxiv.schedule import listing_date
from hotpapers.store.paper_rows import PAPER_COLUMNS, codec

DIALECTS = ("sqlite", "postgresql")
HOLIDAYS = (date(2021, 12, 24), date(2021, 12, 31), date(2024, 3, 4), date(2007, 4, 4))


def old_path(lines: list[bytes], dialect: str, holidays=()) -> list:
    rows = codec(dialect)
    return [(line.number, None, line.error) if line.error else
            (line.number, rows.record(strip_controls(line.paper)), None)
            for line in read_lines(lines, holidays)]


def new_path(lines: list[bytes], dialect: str, holidays=()) -> list:
    rows = codec(dialect)
    return list(read_rows(lines, RowMaker(holidays, rows.time, rows.day, rows.flag,
                                          rows.at_clock)))


def same_outcome(lines: list[bytes], holidays=()) -> list:
    """Both paths' lines, the same for both dialects (or the same exception)."""
    for dialect in DIALECTS:
        try:
            expected = old_path(lines, dialect, holidays)
        except Exception as exc:  # the lean path must fail alike
            with pytest.raises(type(exc)):
                new_path(lines, dialect, holidays)
            return []
        assert new_path(lines, dialect, holidays) == expected
    return expected


# -- generated records: mostly good fields, each sometimes hostile --------------------


def mostly(good, *hostile):
    """`good` about four times in five, else one of `hostile` (a plain one_of weighs each
    of its flattened branches alike)."""
    bad = st.one_of(*hostile)
    return st.integers(0, 4).flatmap(lambda pick: bad if pick == 1 else good)


ODD = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=False),
                st.lists(st.integers(0, 3), max_size=2),
                st.dictionaries(st.text(max_size=2), st.integers(), max_size=1))
SPACES = " \t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u2028\u3000"
CONTROLS = "\x00\x01\x07\x1b\x7f\u200b\ud7ff"
TEXT_CHARS = st.one_of(st.sampled_from("ab Z9.-,;:withdrawnWITHDRAWN" + SPACES + CONTROLS),
                       st.characters(codec="utf-8"))
TEXT = st.one_of(st.text(TEXT_CHARS, max_size=30),
                 st.builds(lambda t, n: t * n, st.text(TEXT_CHARS, min_size=1, max_size=8),
                           st.integers(500, 5000)))  # huge strings
FIELD = mostly(TEXT, ODD)


def _new_id(year: int, month: int, number: int) -> str:
    width = 4 if (year, month) < (15, 1) else 5
    return f"{year:02d}{month:02d}.{number % 10**width:0{width}d}"


VALID_ID = st.builds(_new_id, st.integers(8, 26), st.integers(1, 12), st.integers(0, 99999))
IDS = mostly(
    VALID_ID,
    st.from_regex(r"[0-9]{4}\.[0-9]{4,5}", fullmatch=True),
    st.sampled_from(["0704.0001", "0703.9999", "1412.12345", "1501.0001", "2413.00001",
                     "hep-th/9901001", "math.AG/0601001", "cs/0112017v2", "2403.00010v3",
                     " 2403.00010 ", "arXiv:2403.00010", "https://arxiv.org/abs/2403.00010v2",
                     "10.48550/arXiv.2403.00010", "２４０３.０００１０", "٢٤٠٣.٠٠٠١٠",
                     "2403.0001²", "2403x00010", "2403.000100", ""]),
    st.builds(lambda a, b: a + b, VALID_ID, st.text(TEXT_CHARS, max_size=3)), ODD, TEXT)

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
GOOD_CREATED = st.builds(lambda at: at.strftime(f"%a, {at.day} %b {at.year} %H:%M:%S GMT"),
                         st.datetimes(datetime(1890, 1, 1), datetime(2040, 1, 1)))
CREATED = mostly(
    GOOD_CREATED,
    st.builds(lambda d, day, m, y, h, mi, s, z: f"{d}, {day} {m} {y} {h}:{mi}:{s} {z}",
              st.sampled_from(["Mon", "Sun", "Xyz"]),
              st.sampled_from(["1", "02", "29", "31", "0", "+3", "x"]),
              st.sampled_from([*MONTHS, "April", "jan"]),
              st.sampled_from(["2007", "1", "9999", "10000", "1899", "0",
                               "99999999999999999999"]),
              st.sampled_from(["0", "13", "23", "24", "-1"]), st.sampled_from(["00", "59", "60"]),
              st.sampled_from(["00", "42", "61"]), st.sampled_from(["GMT", "GMT", "UTC", ""])),
    st.sampled_from(["Fri, 31 Dec 9999 23:00:00 GMT", "Mon, 1 Jan 1 00:00:00 GMT",
                     "Mon, 2 Apr 2007 19:18:42", "Mon, 2 Apr 2007 19:18 GMT", "yesterday",
                     "Mon,  2 Apr 2007 19:18:42 GMT extra"]),
    ODD)
NUMBER = st.one_of(st.sampled_from(["v1", "v2", "v3", "v10", "v01", "1", "vv2", "v-1", "v",
                                    "x", "v 3", "v1_0", "v٣", "v2147483647", "v2147483648",
                                    "v-2147483648", "v-2147483649", "v" + "9" * 30]), ODD)
GOOD_VERSIONS = st.lists(st.fixed_dictionaries({
    "version": st.sampled_from(["v1", "v2", "v3", "v4"]), "created": GOOD_CREATED}),
    min_size=1, max_size=4)
VERSION = mostly(st.fixed_dictionaries({"version": NUMBER, "created": CREATED}),
                 st.fixed_dictionaries({}, optional={"version": NUMBER, "created": CREATED}),
                 ODD, TEXT)
VERSIONS = mostly(GOOD_VERSIONS, st.lists(VERSION, max_size=4), ODD, TEXT)

GOOD_PARSED = st.lists(st.tuples(TEXT, TEXT, st.sampled_from(["", "Jr", "III"])).map(list),
                       max_size=8)
AUTHORS_PARSED = mostly(
    GOOD_PARSED, st.lists(st.lists(mostly(TEXT, st.just(""), ODD), max_size=5), max_size=6),
    st.lists(st.one_of(TEXT, ODD), max_size=3), ODD, TEXT)
AUTHORS = mostly(st.sampled_from(["Ada Example and Brook Sample", "A. One, B. Two, and C. Three",
                                  "Solo"]), FIELD)
CATEGORIES = mostly(st.sampled_from(["cs.LG", "cs.LG stat.ML", " hep-th  math.QA\n"]), FIELD)
TITLE = mostly(st.text(TEXT_CHARS, min_size=1, max_size=30), FIELD)

RECORD = st.fixed_dictionaries({"id": IDS, "title": TITLE, "versions": VERSIONS}, optional={
    "authors_parsed": AUTHORS_PARSED, "authors": AUTHORS, "categories": CATEGORIES,
    "abstract": FIELD, "comments": FIELD, "journal-ref": FIELD, "doi": FIELD,
    "submitter": FIELD, "update_date": FIELD})
TOP = mostly(RECORD, ODD, TEXT, st.lists(RECORD, max_size=1))


def as_line(value, ascii_only: bool) -> bytes:
    return json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


@settings(max_examples=200)
@given(values=st.lists(TOP, min_size=1, max_size=4), ascii_only=st.booleans(),
       holidays=st.sampled_from([(), HOLIDAYS]))
@example(values=[{"id": "2403.00010", "title": "x", "versions": [
    {"version": "v1", "created": "Fri, 31 Dec 9999 23:00:00 GMT"}]}], ascii_only=True,
    holidays=())
def test_the_lean_parse_gives_the_reference_row_or_reason(values, ascii_only, holidays):
    same_outcome([as_line(value, ascii_only) for value in values], holidays)


@given(lines=st.lists(st.one_of(
    st.binary(max_size=40), st.sampled_from([b"", b"  \n", b"\xef\xbb\xbf{}", b"{oops",
                                             b"[1, 2]", b"null", b'{"id": 1e999}',
                                             b'{"id": 123456789012345678901234567890}',
                                             b"[" * 2000 + b"]" * 2000])), max_size=4))
def test_raw_bytes_give_the_reference_reasons(lines):
    same_outcome(lines)


def test_sample_records_agree():
    """Plain records, and each field in turn odd, good rows among them."""
    base = {"id": "2403.00010", "title": "A Title\n  Over Two Lines",
            "authors_parsed": [["Example", "Ada", ""], ["Sample", "Brook", "Jr"], ["", "", ""],
                               ["Solo", "", ""], ["", "Han", "II"], ["", "", "Jr"],
                               ["Four", "Of", "", "x"]],
            "categories": "cs.LG stat.ML", "abstract": "  First line\nsecond line.\n",
            "comments": "Withdrawn by the author", "journal-ref": "J. Ref", "doi": "10.1/x",
            "versions": [{"version": "v2", "created": "Tue, 5 Mar 2024 09:00:00 GMT"},
                         {"version": "v1", "created": "Fri, 1 Mar 2024 18:59:00 GMT"}]}
    variants = [base, base | {"authors_parsed": [["A\x00b", "C\r\nd", ""]]},
                base | {"authors_parsed": [["Two", "Parts"], ["One"], [], ["", "", "Jr"]]},
                base | {"title": "\x01"}, base | {"comments": "with\x02drawn\r\n"},
                base | {"journal-ref": "J.\u2028Ref"}, base | {"doi": "10.1/x\x1f"},
                base | {"versions": []}, base | {"authors_parsed": None, "authors": "X and Y, Z"},
                base | {"abstract": "a  b\tc"}, base | {"id": "hep-th/9901001v2"},
                base | {"categories": "cs.LG\x01 stat.ML"},
                base | {"authors_parsed": [["Car\rriage", "Re\r\nturn", ""]]}]
    found = same_outcome([json.dumps(v).encode() for v in variants], HOLIDAYS)
    assert all(row is not None for _, row, _ in found)


def test_version_dates_of_a_day_seen_before_agree():
    """A day's date is parsed once: later times of that day, in every clock form, and days
    before 1900 (New York's offset then not whole hours) give the reference's row or reason."""
    clocks = ["19:18:42", "00:00:00", "23:59:59", "24:00:00", "23:60:00", "23:59:60",
              "9:18:42", "1_9:18:42", "+9:18:42", "19:18", "19:18:42:00", "١٩:18:42",
              "19:18:4２", "-1:00:00"]
    days = ["Mon, 2 Apr 2007", "Tue, 29 Feb 2000", "Sat, 1 Jan 1880", "Thu, 1 Jan 1880",
            "Fri, 31 Dec 1899", "Mon, 1 Jan 1900"]
    first = {"version": "v1", "created": "Sun, 1 Apr 2007 10:00:00 GMT"}
    lines = [json.dumps({"id": "2101.00001", "title": "t", "versions": [
        *before, {"version": "v2", "created": f"{day} {clock} GMT"}]}).encode()
        for day in days for clock in clocks for before in ([], [first])]
    lines += [json.dumps({"id": "2101.00001", "title": "t", "versions": [
        {"version": "v1", "created": f"Sat, 1 Jan 1880 {clock} GMT"}]}).encode()
        for clock in ("18:56:00", "18:57:00", "18:55:00", "19:03:00")]  # near LMT's 14:00
    found = same_outcome(lines, HOLIDAYS)
    assert sum(row is not None for _, row, _ in found) > len(days) * 3


@pytest.mark.parametrize("faults", [
    {"authors_parsed": 5, "categories": 5}, {"comments": 5, "authors_parsed": 5},
    {"categories": 5, "abstract": 5}, {"abstract": 5, "journal-ref": 5},
    {"journal-ref": 5, "doi": 5}, {"title": 5, "versions": 5}, {"versions": 5, "comments": 5},
    {"id": 5, "title": 5}, {"doi": 5, "versions": [{"version": "v1",
                                                    "created": "Fri, 31 Dec 9999 23:00:00 GMT"}]},
    {"versions": [{"version": "x", "created": "yesterday"}]},
    {"versions": [{"version": "v" + "9" * 30, "created": "yesterday"}]},
    {"versions": [{"version": "v1", "created": "yesterday"}, {"version": "v" + "9" * 30}]},
    {"versions": [{"version": "v1", "created": "yesterday"}, {"version": "x"}]}])
def test_a_record_with_two_faults_is_refused_for_the_same_one(faults):
    record = {"id": "2403.00010", "title": "t", "authors_parsed": [["A", "B", ""]],
              "versions": [{"version": "v1", "created": "Fri, 1 Mar 2024 18:59:00 GMT"}]}
    [(_, row, reason)] = same_outcome([json.dumps(record | faults).encode()])
    assert row is None and reason


def test_listing_dates_agree_at_every_hour_of_a_year():
    """The announcement date is cached per ET day and side of the cutoff: every hour of a
    year with its clock changes and holidays, a second either side of the hour too."""
    rows = codec("postgresql")
    maker = RowMaker(HOLIDAYS, rows.time, rows.day, rows.flag)
    start = datetime(2021, 1, 1, tzinfo=UTC)
    for hour in range(366 * 24):
        for at in (start + timedelta(hours=hour, seconds=s) for s in (-1, 0, 1)):
            created = at.strftime(f"%a, {at.day} %b %Y %H:%M:%S GMT")
            made = maker.row({"id": "2101.00001", "title": "t",
                              "versions": [{"version": "v1", "created": created}]})
            assert made[0][ROW_FIELDS.index("announced_on")] == listing_date(at, HOLIDAYS), at


def test_the_row_fields_are_the_stores_columns():
    assert ROW_FIELDS == PAPER_COLUMNS


def test_the_caches_of_days_and_listing_dates_stay_bounded(monkeypatch):
    """A file of ever new dates cannot make the parser's caches grow without end; rows
    stay right across a clearing."""
    from hotpapers.sources.arxiv import kaggle_rows

    monkeypatch.setattr(kaggle_rows, "_CACHE_SIZE", 3)
    rows = codec("sqlite")
    maker = RowMaker(HOLIDAYS, rows.time, rows.day, rows.flag, rows.at_clock)
    start = datetime(2021, 12, 20, 9, tzinfo=UTC)
    for n in range(12):
        at = start + timedelta(days=n % 6, hours=10 * (n // 6))
        created = at.strftime(f"%a, {at.day} %b %Y %H:%M:%S GMT")
        made = maker.row({"id": "2101.00001", "title": "t",
                          "versions": [{"version": "v1", "created": created}]})
        assert made[0][ROW_FIELDS.index("announced_on")] == listing_date(
            at, HOLIDAYS).isoformat(), at
        assert len(maker._days) <= 3 and len(maker._listed) <= 3
