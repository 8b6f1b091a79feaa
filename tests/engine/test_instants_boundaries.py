"""engine/instants.py at the edges of its range and of the calendar (mutation review).

The range is checked in UTC: a local date outside 1970-2999 can still be an
instant inside it, and such an instant is taken with its own offset.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import engine


@pytest.mark.parametrize(("text", "in_utc"), [
    # 23:00 on New Year's Eve 1969 at UTC-02:00 is 01:00 UTC on 1970-01-01
    ("1969-12-31T23:00:00-02:00", datetime(1970, 1, 1, 1, tzinfo=UTC)),
    # 00:30 on New Year's Day 3000 in Paris is 23:30 UTC on 2999-12-31
    ("3000-01-01T00:30:00+01:00", datetime(2999, 12, 31, 23, 30, tzinfo=UTC)),
])
def test_a_local_date_outside_the_range_is_taken_when_its_instant_is_inside(
        text: str, in_utc: datetime) -> None:
    assert engine.parse_instant(text) == in_utc


def test_the_29th_of_february_of_a_leap_year_is_an_instant() -> None:
    instant = engine.parse_instant("2028-02-29T23:59:59+01:00")

    assert instant == datetime(2028, 2, 29, 22, 59, 59, tzinfo=UTC)


def test_the_29th_of_february_of_another_year_is_not() -> None:
    with pytest.raises(ValueError) as refused:
        engine.parse_instant("2026-02-29T12:00:00+01:00")

    assert str(refused.value) == ("'2026-02-29T12:00:00+01:00' is not a real instant, "
                                  "e.g. 2026-11-23T14:10:00+01:00")


@pytest.mark.parametrize(("text", "offset"), [
    ("2026-11-23T14:10:00+14:00", timedelta(hours=14)),  # Kiribati, the earliest clock
    ("2026-11-23T14:10:00-12:00", timedelta(hours=-12)),
    ("2026-11-23T14:10:00+05:45", timedelta(hours=5, minutes=45)),  # Nepal
])
def test_the_offsets_furthest_from_utc_are_kept(text: str, offset: timedelta) -> None:
    assert engine.parse_instant(text).utcoffset() == offset
