"""Papers as plain rows for bulk loads: tuples of the values the database driver takes
(strings, numbers, dates; picklable, no SQLAlchemy object), made by the columns' own bind
processing so that they equal what a stored row reads back as. `import arxiv-snapshot`
makes them in its parser process; store/bulk.py writes them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import lru_cache
from operator import attrgetter
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

from hotpapers.models import Paper, Version
from hotpapers.store.columns import SCALARS
from hotpapers.store.schema import paper_versions, papers

__all__ = ["PAPER_COLUMNS", "PaperRecord", "RowCodec", "codec"]

# A paper's row in `papers` without stored_at (the writer adds it), in this order.
PAPER_COLUMNS = ("id", *SCALARS, "primary_category")

# (papers row, authors, categories, versions as (number, submitted_at, size)), every value
# as the driver takes it and gives it back.
PaperRecord = tuple[tuple, tuple[str, ...], tuple[str, ...], tuple[tuple, ...]]

_Convert = Callable[[Any], Any]


def _dialect(name: str) -> Dialect:
    if name == "sqlite":
        return sqlite.dialect()
    if name == "postgresql":
        return postgresql.psycopg.dialect()
    raise NotImplementedError(f"no bulk rows for {name}")


class RowCodec:
    """Papers to records and back, for one dialect. Times and dates are converted by fast
    functions equal to the columns' bind processing (tests/test_bulk_load.py checks it);
    the other values by the columns' own processors. `time`, `day` and `flag` convert a
    time, the announcement date and the withdrawn flag, `at_clock` a time of day on a date
    (for records made without a Paper: sources/arxiv/kaggle_rows.py)."""

    def __init__(self, dialect_name: str) -> None:
        self.dialect = dialect = _dialect(dialect_name)
        self.name = dialect_name
        sqlite_ = dialect_name == "sqlite"

        def processors(column, bind: bool) -> _Convert | None:
            impl = column.type.dialect_impl(dialect)
            return impl.bind_processor(dialect) if bind else impl.result_processor(dialect, None)

        self.time: _Convert = _sqlite_time if sqlite_ else _utc
        # the time `HH:MM:SS` (two digits each) on a day, UTC, as `time` converts it
        self.at_clock: Callable[[date, str], Any] = _sqlite_clock if sqlite_ else _utc_clock
        self.day: _Convert = date.isoformat if sqlite_ else _same  # announced_on
        self.flag: _Convert = processors(papers.c.withdrawn, True) or _same
        fast = {"submitted_at": self.time, "updated_at": self.time,
                "announced_on": date.isoformat if sqlite_ else None}
        bind = [fast[name] if name in fast else processors(papers.c[name], True)
                for name in SCALARS]
        self._values = attrgetter("id", *SCALARS)
        self._convert = [(i, p) for i, p in enumerate(bind, start=1) if p is not None]
        self._result = [processors(papers.c[name], False) for name in SCALARS]
        self._time_result = processors(paper_versions.c.submitted_at, False)

    def record(self, paper: Paper) -> PaperRecord:
        """The record of `paper` (its texts already as they are to be stored)."""
        time = self.time
        times: dict[datetime, Any] = {}  # a paper's first and last versions' times come back
        versions = []
        for version in paper.versions:
            at = version.submitted_at
            if at is not None:
                times[at] = time(at)
            versions.append((version.number, times.get(at), version.size))
        row = list(self._values(paper))
        for i, convert in self._convert:
            value = row[i]
            if value is not None:
                done = times.get(value) if convert is time else None
                row[i] = convert(value) if done is None else done
        row.append(paper.categories[0] if paper.categories else None)
        return tuple(row), tuple(paper.authors), tuple(paper.categories), tuple(versions)

    def paper(self, record: PaperRecord) -> Paper:
        """The paper a record was made from."""
        row, authors, categories, versions = record
        values = {name: v if p is None or v is None else p(v)
                  for name, p, v in zip(SCALARS, self._result, row[1:-1], strict=True)}
        time = self._time_result
        return Paper(id=row[0], authors=list(authors), categories=list(categories),
                     versions=[Version(n, None if at is None else time(at), size)
                               for n, at, size in versions], **values)


def _same(value: Any) -> Any:
    return value


def _utc(value: datetime) -> datetime:
    """An aware time in UTC (as UtcDateTime binds it); ValueError for a naive one."""
    if value.tzinfo is UTC:
        return value
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: store times in UTC with a zone")
    return value.astimezone(UTC)


def _sqlite_time(value: datetime) -> str:
    """The text SQLite keeps for an aware time (UtcDateTime, then SQLAlchemy's DATETIME)."""
    return _utc(value).isoformat(" ", "microseconds")[:26]


def _sqlite_clock(on: date, clock: str) -> str:
    """_sqlite_time of `clock` (`HH:MM:SS`) on `on`, without making the datetime."""
    return f"{on.isoformat()} {clock}.000000"


def _utc_clock(on: date, clock: str) -> datetime:
    return datetime(on.year, on.month, on.day, int(clock[:2]), int(clock[3:5]),
                    int(clock[6:]), tzinfo=UTC)


@lru_cache(maxsize=4)
def codec(dialect_name: str) -> RowCodec:
    return RowCodec(dialect_name)
