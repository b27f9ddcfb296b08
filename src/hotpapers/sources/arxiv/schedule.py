"""Map arXiv submission times to the dates of the listings that announce them, and back.

Pure functions over datetimes (no I/O); every datetime returned is timezone-aware in UTC.

arXiv's schedule, in US Eastern time (America/New_York, so EST or EDT as the date requires):

* Submissions close at a *cutoff* at 14:00 on every weekday, Monday to Friday. A submission made
  strictly before a cutoff belongs to it; one made at 14:00:00 exactly belongs to the next one.
* The cutoffs of Monday to Thursday are announced at 20:00 the same day; Friday's cutoff is
  announced on Sunday at 20:00. There is no cutoff on Saturday or Sunday.
* A listing is dated the day after its announcement, so listings are dated Monday to Friday:
  Friday's cutoff gives Monday's listing, Monday's cutoff Tuesday's, ..., Thursday's Friday's.
* Holidays are the dates (ET) on which arXiv makes no announcement. A cutoff is *working* when it
  is on a weekday and neither its own date nor its announcement date is a holiday. A cutoff that
  is not working closes nothing: its submissions roll forward to the next working cutoff, and the
  listing it would have produced does not exist.

Example: the listing dated Monday 2021-01-18 was announced on Sunday 2021-01-17 at 20:00 EST
(2021-01-18 01:00 UTC) and holds the papers submitted from Thursday 2021-01-14 14:00 EST up to,
but not including, Friday 2021-01-15 14:00 EST.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = [
    "ANNOUNCEMENT",
    "ARXIV_TZ",
    "CUTOFF",
    "FIRST_LISTING",
    "LAST_DAY",
    "announcement_time",
    "is_listing_date",
    "latest_listing_date",
    "listing_date",
    "listing_dates",
    "submission_window",
]

ARXIV_TZ = ZoneInfo("America/New_York")
CUTOFF = time(14, 0)
ANNOUNCEMENT = time(20, 0)
FIRST_LISTING = date(1991, 8, 14)  # arXiv's first day: no listing, window or post before it
LAST_DAY = date(9999, 11, 30)  # the last day whose schedule's arithmetic stays in range

# Searches for a working cutoff or an announcement give up after this many days, so that a
# holiday list blocking weeks in a row raises instead of looping.
_MAX_SEARCH_DAYS = 30
_ONE_DAY = timedelta(days=1)
_THURSDAY, _FRIDAY, _SUNDAY = 3, 4, 6


def _aware(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value!r}")
    return value


def _day(value: date, name: str) -> date:
    # A datetime is a date too, but would never match the dates in a holiday collection.
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{name} must be a date (not a datetime), got {value!r}")
    return value


def _at(day: date, clock: time) -> datetime:
    """The instant `clock` ET on `day`, in UTC."""
    return datetime.combine(day, clock, tzinfo=ARXIV_TZ).astimezone(UTC)


def _announcement_day(cutoff_day: date) -> date:
    """The date (ET) on which the cutoff of weekday `cutoff_day` is announced."""
    return cutoff_day + 2 * _ONE_DAY if cutoff_day.weekday() == _FRIDAY else cutoff_day


def _is_working(cutoff_day: date, holidays: Collection[date]) -> bool:
    return (
        cutoff_day.weekday() <= _FRIDAY
        and cutoff_day not in holidays
        and _announcement_day(cutoff_day) not in holidays
    )


def _working_cutoff(start: date, step: int, holidays: Collection[date]) -> date:
    """The first working cutoff day from `start` (included), walking `step` days at a time."""
    day = start
    for _ in range(_MAX_SEARCH_DAYS + 1):
        if _is_working(day, holidays):
            return day
        day += step * _ONE_DAY
    raise ValueError(f"no working arXiv cutoff within {_MAX_SEARCH_DAYS} days of {start}")


def _cutoff_of_listing(day: date, holidays: Collection[date]) -> date | None:
    """The working cutoff whose listing is dated `day`, or None when there is none."""
    announced = day - _ONE_DAY
    if announced.weekday() == _SUNDAY:
        cutoff_day = announced - 2 * _ONE_DAY
    elif announced.weekday() <= _THURSDAY:
        cutoff_day = announced
    else:
        return None
    return cutoff_day if _is_working(cutoff_day, holidays) else None


def listing_date(submitted: datetime, holidays: Collection[date] = ()) -> date:
    """Listing date of a paper whose first version was submitted at `submitted`."""
    _aware(submitted, "submitted")
    holidays = frozenset(holidays)
    first = submitted.astimezone(ARXIV_TZ).date()
    if submitted >= _at(first, CUTOFF):
        first += _ONE_DAY
    return _announcement_day(_working_cutoff(first, 1, holidays)) + _ONE_DAY


def is_listing_date(day: date, holidays: Collection[date] = ()) -> bool:
    """Whether some listing is dated `day`."""
    return _cutoff_of_listing(_day(day, "day"), frozenset(holidays)) is not None


def announcement_time(day: date, holidays: Collection[date] = ()) -> datetime | None:
    """When the listing dated `day` was announced (UTC), or None when there is no such listing."""
    if not is_listing_date(day, holidays):
        return None
    return _at(day - _ONE_DAY, ANNOUNCEMENT)


def submission_window(
    day: date, holidays: Collection[date] = ()
) -> tuple[datetime, datetime] | None:
    """[start, end) in UTC of the submissions announced in the listing dated `day`.

    None when no listing has that date.
    """
    holidays = frozenset(holidays)
    cutoff_day = _cutoff_of_listing(_day(day, "day"), holidays)
    if cutoff_day is None:
        return None
    previous = _working_cutoff(cutoff_day - _ONE_DAY, -1, holidays)
    return _at(previous, CUTOFF), _at(cutoff_day, CUTOFF)


def latest_listing_date(now: datetime, holidays: Collection[date] = ()) -> date:
    """The listing date of the most recent announcement at or before `now`."""
    _aware(now, "now")
    holidays = frozenset(holidays)
    announced = now.astimezone(ARXIV_TZ).date()
    for _ in range(_MAX_SEARCH_DAYS + 1):
        listing = announced + _ONE_DAY
        if _at(announced, ANNOUNCEMENT) <= now and is_listing_date(listing, holidays):
            return listing
        announced -= _ONE_DAY
    raise ValueError(f"no arXiv announcement within {_MAX_SEARCH_DAYS} days before {now}")


def listing_dates(start: date, end: date, holidays: Collection[date] = ()) -> list[date]:
    """Every listing date in [start, end], in order."""
    _day(start, "start")
    _day(end, "end")
    holidays = frozenset(holidays)
    days = (start + n * _ONE_DAY for n in range((end - start).days + 1))
    return [day for day in days if _cutoff_of_listing(day, holidays) is not None]
