"""The public arXiv metadata snapshot (JSON lines, one paper a line, as published on
Kaggle): records into papers, line by line, with the reason a bad line is skipped. Pure."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TypeVar

import orjson

from hotpapers import arxiv_ids
from hotpapers.models import Paper, Version
from hotpapers.sources.arxiv.common import abs_url, clean, pdf_url
from hotpapers.sources.arxiv.schedule import listing_date

__all__ = ["BAD_RECORD", "MAX_VERSION", "SnapshotLine", "authors_of", "bad_reason", "created_at",
           "parse_record", "parsed_lines", "read_lines", "version_number"]

T = TypeVar("T")

# What a bad record raises (a date out of range too: OverflowError): the line is skipped.
BAD_RECORD = (ValueError, KeyError, TypeError, AttributeError, IndexError, OverflowError)

MAX_VERSION = 2**31 - 1  # the largest version number the store's integer columns hold

_AND = re.compile(r",\s*(?:and\s+)?|\s+and\s+")
_MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    start=1)}


@dataclass
class SnapshotLine:
    """One line of the snapshot: its paper, or the reason it was skipped."""

    number: int
    paper: Paper | None = None
    error: str | None = None


def created_at(text: str) -> datetime:
    """`Mon, 2 Apr 2007 19:18:42 GMT` (the snapshot's only form), quickly."""
    try:
        _, day, month, year, clock, zone = text.split()
        number = _MONTHS[month]
    except (ValueError, KeyError):
        raise ValueError(f"not a version date: {text!r}") from None
    if zone != "GMT":
        raise ValueError(f"unexpected time zone in {text!r}")
    hour, minute, second = clock.split(":")
    return datetime(int(year), number, int(day), int(hour), int(minute), int(second),
                    tzinfo=UTC)


def version_number(text: str) -> int:
    """The number of a version (`v2`); ValueError when it does not fit the store's integer
    columns (PostgreSQL's `integer`, the smaller of the two databases')."""
    number = int(text.lstrip("v"))
    if not -MAX_VERSION - 1 <= number <= MAX_VERSION:
        raise ValueError(f"version number out of range: {text!r}")
    return number


def authors_of(record: dict) -> list[str]:
    """A record's author names: from `authors_parsed` ([last, first, suffix] each), else
    split from `authors`."""
    parsed = record.get("authors_parsed")
    if parsed:
        names = (" ".join(p for p in (first, last, suffix) if p)
                 for last, first, suffix, *_ in ([*a, "", "", ""] for a in parsed))
        return [name for name in names if name]
    return [a for a in _AND.split(clean(record.get("authors"))) if a]


def parse_record(record: dict, holidays: Collection[date] = ()) -> Paper:
    """The paper of one snapshot record; ValueError (or KeyError) names what is wrong."""
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    found = arxiv_ids.parse(str(record.get("id") or ""))
    if found is None:
        raise ValueError(f"no valid arXiv id in 'id' ({record.get('id')!r})")
    title = clean(record.get("title"))
    if not title:
        raise ValueError("empty 'title'")
    versions = sorted((Version(version_number(v["version"]), created_at(v["created"]))
                       for v in record.get("versions") or []), key=lambda v: v.number)
    first = versions[0].submitted_at if versions else None
    comments = clean(record.get("comments")) or None
    return Paper(
        id=found.id, title=title, authors=authors_of(record),
        categories=(record.get("categories") or "").split(),
        abstract=clean(record.get("abstract")), abs_url=abs_url(found.id),
        pdf_url=pdf_url(found.id), comments=comments,
        journal_ref=clean(record.get("journal-ref")) or None,
        doi=clean(record.get("doi")) or None,
        latest_version=versions[-1].number if versions else None, submitted_at=first,
        updated_at=versions[-1].submitted_at if versions else None,
        announced_on=listing_date(first, holidays) if first else None,
        withdrawn=bool(comments and "withdrawn" in comments.lower()), versions=versions,
    )


def parsed_lines(lines: Iterable[bytes], parse: Callable[..., T], with_line: bool = False
                 ) -> Iterator[tuple[int, T | None, str | None]]:
    """Each non-blank line (numbered from 1, a UTF-8 byte order mark on the first one
    left out) as (number, `parse` of its JSON (and of the line, `with_line`), None), or
    (number, None, the reason it is skipped); never stops at a bad line."""
    loads = orjson.loads
    for number, line in enumerate(lines, start=1):
        if number == 1:
            line = line.removeprefix(b"\xef\xbb\xbf")
        if not line.strip():
            continue
        try:
            yield number, parse(loads(line), line) if with_line else parse(loads(line)), None
        except orjson.JSONDecodeError as exc:
            yield number, None, f"not JSON ({exc})"
        except BAD_RECORD as exc:
            yield number, None, bad_reason(exc)


def read_lines(lines: Iterable[bytes], holidays: Collection[date] = ()
               ) -> Iterator[SnapshotLine]:
    """Each non-blank line as a paper or an error; never stops at a bad line."""
    for number, paper, error in parsed_lines(lines, lambda r: parse_record(r, holidays)):
        yield SnapshotLine(number, paper=paper, error=error)


def bad_reason(exc: Exception) -> str:
    """The reason a record that raised `exc` (one of BAD_RECORD) is skipped."""
    reason = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
    return reason or type(exc).__name__
