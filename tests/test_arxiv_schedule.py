"""Tests for hotpapers.sources.arxiv.schedule: hand-worked tables plus Hypothesis properties.

Every expected value below was worked out by hand from the rules in the module docstring
(cutoff 14:00 ET on weekdays, announcement 20:00 ET the same day or Sunday for Friday, listing
dated the day after the announcement, no announcement on a holiday).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotpapers.sources.arxiv.schedule import (
    ANNOUNCEMENT,
    ARXIV_TZ,
    CUTOFF,
    announcement_time,
    is_listing_date,
    latest_listing_date,
    listing_date,
    listing_dates,
    submission_window,
)

ET = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")
PACIFIC_FIXED = timezone(timedelta(hours=-7))  # PDT as a fixed offset
US = timedelta(microseconds=1)

THANKSGIVING = frozenset({date(2024, 11, 28)})  # Thursday
CHRISTMAS = frozenset({date(2024, 12, 24), date(2024, 12, 25)})  # Tuesday, Wednesday


def et(*args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=ET, fold=fold)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def tokyo(*args: int) -> datetime:
    return datetime(*args, tzinfo=TOKYO)


# --------------------------------------------------------------------------- constants


def test_constants():
    assert ARXIV_TZ.key == "America/New_York"
    assert (CUTOFF.hour, CUTOFF.minute, ANNOUNCEMENT.hour, ANNOUNCEMENT.minute) == (14, 0, 20, 0)


# --------------------------------------------------------------------------- listing_date table

# (submitted, holidays, expected listing date); June 2024 is EDT: 14:00 ET = 18:00 UTC.
LISTING_CASES = [
    # ordinary weekdays
    (et(2024, 6, 11, 10, 0), (), date(2024, 6, 12)),  # Tue morning -> Wed
    (et(2024, 6, 12, 9, 0), (), date(2024, 6, 13)),  # Wed -> Thu
    (et(2024, 6, 13, 11, 0), (), date(2024, 6, 14)),  # Thu -> Fri
    (et(2024, 6, 17, 8, 0), (), date(2024, 6, 18)),  # Mon -> Tue
    (et(2024, 6, 11, 23, 59, 59), (), date(2024, 6, 13)),  # Tue night -> Wed cutoff -> Thu
    # around the cutoff
    (et(2024, 6, 11, 13, 59, 59), (), date(2024, 6, 12)),
    (et(2024, 6, 11, 13, 59, 59, 999999), (), date(2024, 6, 12)),
    (et(2024, 6, 11, 14, 0, 0), (), date(2024, 6, 13)),
    (et(2024, 6, 11, 14, 0, 1), (), date(2024, 6, 13)),
    (et(2024, 6, 13, 13, 59, 59), (), date(2024, 6, 14)),  # Thu -> Fri
    (et(2024, 6, 13, 14, 0, 0), (), date(2024, 6, 17)),  # Thu late -> Fri cutoff -> Mon
    # Friday afternoon and the weekend
    (et(2024, 6, 14, 13, 59, 59), (), date(2024, 6, 17)),  # Fri cutoff -> Sun ann. -> Mon
    (et(2024, 6, 14, 14, 0, 0), (), date(2024, 6, 18)),  # -> Mon cutoff -> Tue
    (et(2024, 6, 14, 16, 30), (), date(2024, 6, 18)),
    (et(2024, 6, 15, 12, 0), (), date(2024, 6, 18)),  # Saturday
    (et(2024, 6, 16, 10, 0), (), date(2024, 6, 18)),  # Sunday
    (et(2024, 6, 16, 20, 30), (), date(2024, 6, 18)),  # Sunday after the announcement
    (et(2024, 6, 17, 0, 0), (), date(2024, 6, 18)),  # Monday midnight
    (et(2024, 6, 17, 13, 59, 59), (), date(2024, 6, 18)),
    (et(2024, 6, 17, 14, 0, 0), (), date(2024, 6, 19)),
    # the DESIGN worked example: listing Mon 2021-01-18 = [Thu 14:00 EST, Fri 14:00 EST)
    (et(2021, 1, 14, 14, 0), (), date(2021, 1, 18)),
    (et(2021, 1, 15, 13, 59, 59, 999999), (), date(2021, 1, 18)),
    (utc(2021, 1, 14, 19, 0), (), date(2021, 1, 18)),
    (utc(2021, 1, 14, 18, 59, 59), (), date(2021, 1, 15)),  # Thu 13:59:59 EST -> Fri
    (utc(2021, 1, 15, 19, 0), (), date(2021, 1, 19)),  # Fri 14:00 EST -> Tue
    # DST starts Sunday 2024-03-10: Friday is EST (cutoff 19:00 UTC), Monday EDT (18:00 UTC)
    (et(2024, 3, 8, 13, 0), (), date(2024, 3, 11)),
    (utc(2024, 3, 8, 18, 30), (), date(2024, 3, 11)),  # 13:30 EST
    (utc(2024, 3, 8, 19, 0), (), date(2024, 3, 12)),  # 14:00 EST
    (et(2024, 3, 10, 3, 30), (), date(2024, 3, 12)),  # just after the switch
    (et(2024, 3, 11, 13, 59), (), date(2024, 3, 12)),  # 13:59 EDT
    (utc(2024, 3, 11, 17, 59, 59), (), date(2024, 3, 12)),  # 13:59:59 EDT
    (utc(2024, 3, 11, 18, 0), (), date(2024, 3, 13)),  # 14:00 EDT
    (utc(2024, 3, 11, 18, 30), (), date(2024, 3, 13)),  # 14:30 EDT (13:30 if it were EST)
    # DST ends Sunday 2024-11-03: Friday is EDT (18:00 UTC), Monday EST (19:00 UTC)
    (utc(2024, 11, 1, 17, 59), (), date(2024, 11, 4)),  # 13:59 EDT
    (utc(2024, 11, 1, 18, 0), (), date(2024, 11, 5)),  # 14:00 EDT
    (et(2024, 11, 3, 1, 30, fold=0), (), date(2024, 11, 5)),  # the repeated hour, EDT
    (et(2024, 11, 3, 1, 30, fold=1), (), date(2024, 11, 5)),  # the repeated hour, EST
    (utc(2024, 11, 4, 18, 30), (), date(2024, 11, 5)),  # 13:30 EST (14:30 if it were EDT)
    (utc(2024, 11, 4, 19, 0), (), date(2024, 11, 6)),  # 14:00 EST
    # other zones, on another calendar day than in ET
    (utc(2024, 6, 12, 2, 0), (), date(2024, 6, 13)),  # Wed UTC = Tue 22:00 EDT
    (utc(2024, 6, 15, 1, 0), (), date(2024, 6, 18)),  # Sat UTC = Fri 21:00 EDT
    (tokyo(2024, 6, 15, 2, 0), (), date(2024, 6, 17)),  # Sat JST = Fri 13:00 EDT
    (tokyo(2024, 6, 15, 3, 30), (), date(2024, 6, 18)),  # Sat JST = Fri 14:30 EDT
    (tokyo(2024, 6, 18, 2, 59, 59), (), date(2024, 6, 18)),  # Tue JST = Mon 13:59:59 EDT
    (tokyo(2024, 1, 16, 4, 0), (), date(2024, 1, 17)),  # Tue JST = Mon 14:00 EST
    (datetime(2024, 6, 14, 10, 59, tzinfo=PACIFIC_FIXED), (), date(2024, 6, 17)),
    (datetime(2024, 6, 14, 11, 0, tzinfo=PACIFIC_FIXED), (), date(2024, 6, 18)),
    # Thanksgiving (Thu 2024-11-28): the Thursday cutoff is skipped, listing 11-29 is gone
    (et(2024, 11, 27, 13, 0), THANKSGIVING, date(2024, 11, 28)),  # Wed cutoff still works
    (et(2024, 11, 27, 15, 0), THANKSGIVING, date(2024, 12, 2)),
    (et(2024, 11, 28, 10, 0), THANKSGIVING, date(2024, 12, 2)),
    (et(2024, 11, 29, 13, 59), THANKSGIVING, date(2024, 12, 2)),
    (et(2024, 11, 29, 14, 0), THANKSGIVING, date(2024, 12, 3)),
    (et(2024, 11, 28, 10, 0), (), date(2024, 11, 29)),  # the same without the holiday
    # Christmas (Tue 12-24 and Wed 12-25): the Tue and Wed cutoffs are skipped
    (et(2024, 12, 23, 13, 59), CHRISTMAS, date(2024, 12, 24)),  # announced Mon 12-23
    (et(2024, 12, 23, 14, 0), CHRISTMAS, date(2024, 12, 27)),
    (et(2024, 12, 25, 12, 0), CHRISTMAS, date(2024, 12, 27)),
    (et(2024, 12, 26, 13, 59, 59), CHRISTMAS, date(2024, 12, 27)),
    (et(2024, 12, 26, 14, 0), CHRISTMAS, date(2024, 12, 30)),
    # a Sunday holiday cancels Friday's announcement, so Friday's cutoff rolls to Monday's
    (et(2024, 12, 27, 10, 0), [date(2024, 12, 29)], date(2024, 12, 31)),
    # New Year's Day (Wed): Tue 14:00 rolls past Wednesday's cutoff to Thursday's
    (et(2024, 12, 31, 14, 0), {date(2025, 1, 1)}, date(2025, 1, 3)),
    # a Saturday holiday changes nothing
    (et(2024, 6, 14, 10, 0), (date(2024, 6, 15),), date(2024, 6, 17)),
]


@pytest.mark.parametrize(("submitted", "holidays", "expected"), LISTING_CASES)
def test_listing_date(submitted, holidays, expected):
    assert listing_date(submitted, holidays) == expected


# --------------------------------------------------------------------------- submission_window


WINDOW_CASES = [
    (date(2021, 1, 18), (), (utc(2021, 1, 14, 19), utc(2021, 1, 15, 19))),  # worked example
    (date(2024, 6, 18), (), (utc(2024, 6, 14, 18), utc(2024, 6, 17, 18))),  # Tue: Fri to Mon
    (date(2024, 6, 19), (), (utc(2024, 6, 17, 18), utc(2024, 6, 18, 18))),  # Wed: Mon to Tue
    (date(2024, 3, 11), (), (utc(2024, 3, 7, 19), utc(2024, 3, 8, 19))),  # Mon before DST
    (date(2024, 3, 12), (), (utc(2024, 3, 8, 19), utc(2024, 3, 11, 18))),  # 71 hours
    (date(2024, 11, 5), (), (utc(2024, 11, 1, 18), utc(2024, 11, 4, 19))),  # 73 hours
    (date(2024, 12, 2), THANKSGIVING, (utc(2024, 11, 27, 19), utc(2024, 11, 29, 19))),
    (date(2024, 12, 24), CHRISTMAS, (utc(2024, 12, 20, 19), utc(2024, 12, 23, 19))),
    (date(2024, 12, 27), CHRISTMAS, (utc(2024, 12, 23, 19), utc(2024, 12, 26, 19))),
    (date(2024, 6, 15), (), None),  # Saturday
    (date(2024, 6, 16), (), None),  # Sunday
    (date(2024, 11, 29), THANKSGIVING, None),  # announcement day is a holiday
    (date(2024, 12, 25), CHRISTMAS, None),
    (date(2024, 12, 26), CHRISTMAS, None),
]


@pytest.mark.parametrize(("day", "holidays", "expected"), WINDOW_CASES)
def test_submission_window(day, holidays, expected):
    assert submission_window(day, holidays) == expected


# --------------------------------------------------------------------------- announcement_time


ANNOUNCEMENT_CASES = [
    (date(2021, 1, 18), (), utc(2021, 1, 18, 1)),  # Sun 20:00 EST
    (date(2024, 6, 18), (), utc(2024, 6, 18, 0)),  # Mon 20:00 EDT
    (date(2024, 3, 11), (), utc(2024, 3, 11, 0)),  # Sun 2024-03-10 20:00 EDT (new DST)
    (date(2024, 11, 4), (), utc(2024, 11, 4, 1)),  # Sun 2024-11-03 20:00 EST (DST ended)
    (date(2024, 11, 28), THANKSGIVING, utc(2024, 11, 28, 1)),  # Wed 20:00 EST
    (date(2024, 12, 24), CHRISTMAS, utc(2024, 12, 24, 1)),  # Mon 20:00 EST
    (date(2024, 11, 29), THANKSGIVING, None),
    (date(2024, 6, 15), (), None),
    (date(2024, 6, 16), (), None),
]


@pytest.mark.parametrize(("day", "holidays", "expected"), ANNOUNCEMENT_CASES)
def test_announcement_time(day, holidays, expected):
    result = announcement_time(day, holidays)
    assert result == expected
    if result is not None:
        assert result.tzinfo is UTC


# --------------------------------------------------------------------------- latest_listing_date


LATEST_CASES = [
    (utc(2024, 6, 17, 23, 59, 59), (), date(2024, 6, 17)),  # Mon 19:59:59 EDT
    (utc(2024, 6, 18, 0, 0), (), date(2024, 6, 18)),  # Mon 20:00:00 EDT, inclusive
    (utc(2024, 6, 18, 0, 0, 1), (), date(2024, 6, 18)),
    (utc(2024, 6, 15, 16, 0), (), date(2024, 6, 14)),  # Saturday noon
    (utc(2024, 6, 16, 23, 0), (), date(2024, 6, 14)),  # Sunday 19:00 EDT
    (utc(2024, 6, 17, 0, 0), (), date(2024, 6, 17)),  # Sunday 20:00 EDT
    (et(2024, 6, 14, 21, 0), (), date(2024, 6, 14)),  # Friday night: nothing announced
    (tokyo(2021, 1, 18, 10, 0), (), date(2021, 1, 18)),  # Mon JST = Sun 20:00 EST
    (utc(2024, 11, 29, 2, 0), (), date(2024, 11, 29)),  # Thu 21:00 EST, no holiday
    (utc(2024, 11, 29, 2, 0), THANKSGIVING, date(2024, 11, 28)),  # Thanksgiving night
    (et(2024, 11, 29, 12, 0), THANKSGIVING, date(2024, 11, 28)),
    (et(2024, 12, 1, 20, 0), THANKSGIVING, date(2024, 12, 2)),
    (et(2024, 12, 26, 12, 0), CHRISTMAS, date(2024, 12, 24)),
    (et(2024, 12, 26, 20, 0), CHRISTMAS, date(2024, 12, 27)),
]


@pytest.mark.parametrize(("now", "holidays", "expected"), LATEST_CASES)
def test_latest_listing_date(now, holidays, expected):
    assert latest_listing_date(now, holidays) == expected


# --------------------------------------------------------------------------- listing_dates

NOVEMBER_2024 = [  # weekdays: Fri 1; 4-8; 11-15; 18-22; 25-29
    date(2024, 11, d) for d in (1, 4, 5, 6, 7, 8, 11, 12, 13, 14, 15, 18, 19, 20, 21, 22, 25, 26,
                                27, 28, 29)
]


def test_listing_dates_november():
    assert len(NOVEMBER_2024) == 21
    assert listing_dates(date(2024, 11, 1), date(2024, 11, 30)) == NOVEMBER_2024


def test_listing_dates_thanksgiving():
    expected = [d for d in NOVEMBER_2024 if d != date(2024, 11, 29)]
    assert len(expected) == 20
    assert listing_dates(date(2024, 11, 1), date(2024, 11, 30), THANKSGIVING) == expected


def test_listing_dates_christmas():
    # 22 weekdays in December 2024; listings 25 and 26 (announced on the holidays) are gone
    got = listing_dates(date(2024, 12, 1), date(2024, 12, 31), CHRISTMAS)
    assert len(got) == 20
    assert got[-6:] == [date(2024, 12, d) for d in (20, 23, 24, 27, 30, 31)]
    assert len(listing_dates(date(2024, 12, 1), date(2024, 12, 31))) == 22


def test_listing_dates_edges():
    assert listing_dates(date(2024, 6, 18), date(2024, 6, 18)) == [date(2024, 6, 18)]
    assert listing_dates(date(2024, 6, 15), date(2024, 6, 16)) == []
    assert listing_dates(date(2024, 6, 20), date(2024, 6, 10)) == []


def test_is_listing_date():
    assert is_listing_date(date(2024, 6, 17))
    assert not is_listing_date(date(2024, 6, 15))
    assert not is_listing_date(date(2024, 11, 29), THANKSGIVING)
    assert is_listing_date(date(2024, 11, 29))
    assert not is_listing_date(date(2024, 12, 30), [date(2024, 12, 29)])  # Sunday holiday


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("func", [listing_date, latest_listing_date])
def test_naive_datetime_raises(func):
    with pytest.raises(ValueError, match=r"2024, 6, 11, 10, 0"):
        func(datetime(2024, 6, 11, 10, 0))


@given(st.datetimes(min_value=datetime(2007, 1, 1), max_value=datetime(2030, 12, 31)))
def test_naive_datetime_always_raises(naive):
    with pytest.raises(ValueError, match="timezone-aware"):
        listing_date(naive)


def test_datetime_where_a_date_is_expected_raises():
    with pytest.raises(TypeError):
        is_listing_date(datetime(2024, 6, 18, tzinfo=UTC))


def test_holidays_blocking_weeks_raise_instead_of_looping():
    blocked = {date(2024, 6, 1) + timedelta(days=n) for n in range(60)}
    with pytest.raises(ValueError):
        listing_date(et(2024, 6, 11, 10, 0), blocked)
    with pytest.raises(ValueError):
        latest_listing_date(et(2024, 7, 15, 10, 0), blocked)
    early = {date(2024, 5, 1) + timedelta(days=n) for n in range(45)}
    with pytest.raises(ValueError):  # the listing exists, its window start cannot be found
        submission_window(date(2024, 6, 18), early)


# --------------------------------------------------------------------------- properties

instants = st.datetimes(
    min_value=datetime(2007, 1, 1), max_value=datetime(2030, 12, 31, 23, 59, 59),
    timezones=st.just(UTC),
)


@st.composite
def instant_and_holidays(draw):
    """An instant and up to six holidays near it (most random holidays would be irrelevant)."""
    t = draw(instants)
    offsets = draw(st.sets(st.integers(-15, 25), max_size=6))
    return t, frozenset(t.date() + timedelta(days=k) for k in offsets)


def check_consistent(t, holidays):
    day = listing_date(t, holidays)
    assert day.weekday() < 5
    assert day - timedelta(days=1) not in holidays
    assert is_listing_date(day, holidays)
    start, end = submission_window(day, holidays)
    assert start <= t < end
    assert listing_date(start, holidays) == day
    assert listing_date(end - US, holidays) == day
    following = listing_dates(day + timedelta(days=1), day + timedelta(days=45), holidays)[0]
    assert listing_date(end, holidays) == following
    assert submission_window(following, holidays)[0] == end  # windows tile time
    announced = announcement_time(day, holidays)
    assert announced > end > t
    assert latest_listing_date(announced, holidays) == day
    assert latest_listing_date(announced - US, holidays) < day


@given(instants)
def test_property_consistency_without_holidays(t):
    check_consistent(t, ())


@given(instant_and_holidays())
def test_property_consistency_with_holidays(case):
    check_consistent(*case)


@given(instants, instants, st.sampled_from([(), THANKSGIVING, CHRISTMAS]))
def test_property_monotonic(t1, t2, holidays):
    t1, t2 = sorted((t1, t2))
    assert listing_date(t1, holidays) <= listing_date(t2, holidays)


@given(instant_and_holidays())
def test_property_monotonic_with_nearby_holidays(case):
    t, holidays = case
    later = t + timedelta(hours=7)
    assert listing_date(t, holidays) <= listing_date(later, holidays)


@given(instants)
def test_property_zone_of_the_input_does_not_matter(t):
    expected = listing_date(t)
    assert listing_date(t.astimezone(TOKYO)) == expected
    assert listing_date(t.astimezone(ET)) == expected


@given(instant_and_holidays(), st.integers(0, 40))
def test_property_listing_dates(case, span):
    t, holidays = case
    start = t.date()
    days = listing_dates(start, start + timedelta(days=span), holidays)
    assert days == sorted(set(days))
    for day in days:
        assert day.weekday() < 5
        assert day - timedelta(days=1) not in holidays
        assert submission_window(day, holidays) is not None
    for earlier, later in pairwise(days):
        assert submission_window(earlier, holidays)[1] == submission_window(later, holidays)[0]


@given(instant_and_holidays())
def test_property_latest_listing_date(case):
    now, holidays = case
    day = latest_listing_date(now, holidays)
    assert announcement_time(day, holidays) <= now
    assert listing_date(now, holidays) > day
