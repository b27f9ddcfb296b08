"""The lean parse of the arXiv snapshot for bulk loads: a decoded record straight to the
plain row the bulk writer stores (store/paper_rows.py's PaperRecord), with no Paper or
Version object made on the way. It does what `kaggle.parse_record`, the store's row codec
and `strip_controls` do together (cleaning, id normalisation, authors, versions, listing
date, withdrawn flag, control characters), with the same error for a bad record:
tests/test_snapshot_rows.py checks both paths on generated records. Pure.

The rows hold the values a database driver takes; how times, dates and flags are written
is the caller's (the store's codec): `RowMaker(holidays, time, day, flag, at_clock)`."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Iterator
from datetime import UTC, date, datetime
from operator import itemgetter
from typing import Any

from hotpapers import arxiv_ids
from hotpapers.models import strip_controls
from hotpapers.sources.arxiv import kaggle
from hotpapers.sources.arxiv.common import abs_url, clean, pdf_url
from hotpapers.sources.arxiv.schedule import ARXIV_TZ, CUTOFF, listing_date

__all__ = ["ROW_FIELDS", "Row", "RowLine", "RowMaker", "read_rows"]

# The fields of a row, in its order (store/paper_rows.py's PAPER_COLUMNS, tests check it).
ROW_FIELDS = ("id", "title", "abstract", "abs_url", "pdf_url", "latest_version", "comments",
              "journal_ref", "doi", "submitted_at", "updated_at", "announced_on", "withdrawn",
              "primary_category")

# (papers row, authors, categories, versions as (number, submitted_at, size)).
Row = tuple[tuple, tuple[str, ...], tuple[str, ...], tuple[tuple, ...]]
# A line of the file: (its number, its row or None, the reason it is skipped or None).
RowLine = tuple[int, Row | None, str | None]

_NUMBER = itemgetter(0)
_CACHED_FROM = 1900  # listing dates of earlier years are not cached (zone history)
_CACHE_SIZE = 100_000  # days, and listing dates, remembered at most (all arXiv's: ~25,000)
_CUTOFF_HOUR = CUTOFF.hour
# By UTC hour, (days back, after the cutoff) of the ET time: from _CACHED_FROM on, New York
# is 5 or 4 hours behind UTC (changed at 06:00 or 07:00 UTC), so every hour but 4 and 18
# (None: either side, by the offset) falls on the same ET day and side of 14:00 with both.
_SIDES = tuple((1, True) if hour < 4 else (0, False) if 5 <= hour < 18 else
               (0, True) if hour >= 19 else None for hour in range(24))
_CLOCK = re.compile(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]")  # what isoformat writes
# The escapes of the C0 characters that strip_controls changes (it keeps tab and newline):
# a JSON string has no other way to hold them. Backslash-b also matches inside `\\beta`
# (TeX's \beta written in JSON): such a line is only checked the slower way.
_CONTROL_ESCAPES = (b"\\u00", b"\\b", b"\\f", b"\\r")


class RowMaker:
    """Snapshot records into rows, for one database: `time` writes an aware UTC datetime,
    `day` a date, `flag` a bool as that database's driver takes them, and `at_clock` the
    UTC time `HH:MM:SS` on a day as `time` would (made from the datetime if not given)."""

    def __init__(self, holidays: Collection[date], time: Callable[[datetime], Any],
                 day: Callable[[date], Any], flag: Callable[[bool], Any],
                 at_clock: Callable[[date, str], Any] | None = None) -> None:
        self._holidays = frozenset(holidays)
        self._time = time
        self._day = day
        self._flags = (flag(False), flag(True))
        self._at_clock = at_clock or (lambda on, clock: time(datetime(
            on.year, on.month, on.day, int(clock[:2]), int(clock[3:5]), int(clock[6:]),
            tzinfo=UTC)))
        self._days: dict[tuple[str, str, str], date] = {}  # by (day, month, year) as written
        self._listed: dict[tuple[int, bool], Any] = {}  # converted, by ET day and side

    def row(self, record: Any, line: bytes | None = None) -> Row:
        """The row of one decoded record (`line`, its JSON, when known, lets texts without
        escapes skip some checks); ValueError (KeyError, TypeError ...) names what is
        wrong, as `parse_record` does. The order of the steps is parse_record's, so that a
        record with two faults is refused for the same one."""
        if not isinstance(record, dict):
            raise ValueError("not a JSON object")
        # a line of ASCII without escapes: its texts' only whitespace is the space and
        # they hold no control character
        plain = line is not None and line.isascii() and b"\\" not in line
        clean_ = _plain_clean if plain else _clean
        get = record.get
        paper_id = _paper_id(get("id"))
        title = clean_(get("title"))
        if not title:
            raise ValueError("empty 'title'")
        when = self._when
        versions = [(kaggle.version_number(v["version"]), when(v["created"]))
                    for v in get("versions") or []]
        versions.sort(key=_NUMBER)
        comments = clean_(get("comments")) or None
        authors = _authors(record)
        categories = (get("categories") or "").split()
        abstract = clean_(get("abstract"))
        journal_ref = clean_(get("journal-ref")) or None
        doi = clean_(get("doi")) or None
        made = tuple([(number, at[0], None) for number, at in versions])
        if versions:
            submitted, updated = made[0][1], made[-1][1]
            announced = self._announced(*versions[0][1][1:])
            latest: int | None = versions[-1][0]
        else:
            submitted = updated = announced = latest = None
        withdrawn = self._flags[bool(comments and "withdrawn" in comments.lower())]
        row = (paper_id, title, abstract, abs_url(paper_id), pdf_url(paper_id), latest,
               comments, journal_ref, doi, submitted, updated, announced, withdrawn,
               categories[0] if categories else None)
        if (plain or (line is not None and not any(e in line for e in _CONTROL_ESCAPES))
                or _printable(title, abstract, comments, journal_ref, doi, authors,
                              categories)):
            return row, tuple(authors), tuple(categories), made
        return strip_controls((row, tuple(authors), tuple(categories), made))

    def _when(self, text: Any) -> tuple[Any, date, int, datetime | None]:
        """(the stored value, UTC day, hour, datetime or None) of a version date: written
        straight from the text of a day seen before and a clock as isoformat writes it,
        else through `kaggle.created_at` (which refuses a bad date as parse_record does)."""
        parts = text.split()
        if len(parts) == 6 and parts[5] == "GMT":
            on = self._days.get((parts[1], parts[2], parts[3]))  # only from _CACHED_FROM
            clock = parts[4]
            if on is not None and _CLOCK.fullmatch(clock):
                return self._at_clock(on, clock), on, int(clock[:2]), None
        at = kaggle.created_at(text)
        on = at.date()
        if on.year >= _CACHED_FROM:  # earlier, the zone's offsets were not whole hours
            if len(self._days) >= _CACHE_SIZE:  # a bound on memory, for odd files
                self._days.clear()
            self._days[(parts[1], parts[2], parts[3])] = on
        return self._time(at), on, at.hour, at

    def _announced(self, on: date, hour: int, at: datetime | None) -> Any:
        """The listing date of a first version submitted at `hour` on `on` (UTC), converted:
        computed once per date (ET) and side of that day's 14:00 cutoff, which is all it
        depends on, from _CACHED_FROM on (see _SIDES)."""
        if at is None:
            at = datetime(on.year, on.month, on.day, hour, tzinfo=UTC)
        if on.year < _CACHED_FROM:
            return self._day(listing_date(at, self._holidays))
        side = _SIDES[hour]
        if side is None:
            local = at.astimezone(ARXIV_TZ)
            key = (local.toordinal(), local.hour >= _CUTOFF_HOUR)
        else:
            key = (on.toordinal() - side[0], side[1])
        found = self._listed.get(key)
        if found is None:
            if len(self._listed) >= _CACHE_SIZE:
                self._listed.clear()
            found = self._listed[key] = self._day(listing_date(at, self._holidays))
        return found


def read_rows(lines: Iterable[bytes], maker: RowMaker) -> Iterator[RowLine]:
    """Each non-blank line as a row or the reason it is skipped (`kaggle.read_lines`'s
    reasons); never stops at a bad line."""
    return kaggle.parsed_lines(lines, maker.row, with_line=True)


def _paper_id(value: Any) -> str:
    """The versionless id of a record's `id`, as parse_record finds it: a bare new-style
    id (the snapshot's usual form) is checked without the regular expressions."""
    if (type(value) is str and len(value) in (9, 10) and value[4] == "." and value.isascii()
            and value[:4].isdigit() and value[5:].isdigit()):
        if arxiv_ids.valid_new(value):
            return value
    else:
        found = arxiv_ids.parse(str(value or ""))
        if found is not None:
            return found.id
    raise ValueError(f"no valid arXiv id in 'id' ({value!r})")


def _clean(text: Any) -> str:
    """`clean(text)`: whitespace runs as single spaces, ends stripped. A text whose only
    whitespace, once its ends are stripped and its line breaks made spaces, is single
    spaces is that already (`isprintable` is false for every other whitespace)."""
    if type(text) is not str:
        return clean(text)
    done = text.strip()
    if "\n" in done:
        done = done.replace("\n", " ")
    if "  " not in done and done.isprintable():
        return done
    return " ".join(text.split())


def _plain_clean(text: Any) -> str:
    """`clean(text)` for a text whose only whitespace is the space (see RowMaker.row)."""
    if type(text) is not str:
        return clean(text)
    done = text.strip()
    return " ".join(done.split()) if "  " in done else done


def _authors(record: dict) -> list[str]:
    """`kaggle.authors_of(record)`, quickly for the usual [last, first, suffix] lists."""
    parsed = record.get("authors_parsed")
    if type(parsed) is not list or not parsed:
        return kaggle.authors_of(record)
    names = []
    for parts in parsed:
        if type(parts) is not list or len(parts) < 3:
            return kaggle.authors_of(record)
        last, first, suffix = parts[0], parts[1], parts[2]
        if type(last) is not str or type(first) is not str or type(suffix) is not str:
            return kaggle.authors_of(record)
        if first and last:
            names.append(f"{first} {last} {suffix}" if suffix else f"{first} {last}")
        elif first or last or suffix:
            names.append(" ".join(p for p in (first, last, suffix) if p))
    return names


def _printable(title: str, abstract: str, comments: str | None, journal_ref: str | None,
               doi: str | None, authors: list[str], categories: list[str]) -> bool:
    """Whether no text of a record holds a character that is not printable (the others
    are made from its id, which has none)."""
    return (title.isprintable() and abstract.isprintable()
            and (comments is None or comments.isprintable())
            and (journal_ref is None or journal_ref.isprintable())
            and (doi is None or doi.isprintable())
            and "".join(authors).isprintable() and "".join(categories).isprintable())
