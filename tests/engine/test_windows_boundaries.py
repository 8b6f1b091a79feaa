"""engine/windows.py at the edges of a weekly window's dates and of the calendar's zones
(mutation review): a slot's first and last day, a slot crossing midnight on either,
one running through the hour that the autumn change repeats, and zones furthest from
UTC, whose slots fall on another UTC day than their own."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest

import engine
from engine.ir import AbsoluteWindow, PercentOff, RecurringWindow, Rule, RuleSet, Window
from engine.windows import coverage

EVERY_DAY = (1, 2, 3, 4, 5, 6, 7)


def discount(windows: Window | tuple[Window, ...], at: str) -> str:
    """The discount of a 10% rule live in ``windows`` on a 100.00 EUR line at ``at``."""
    ruleset = RuleSet(currency="EUR", timezone="UTC", rules=(
        Rule(id="r", title="T", effect=PercentOff(percent=Decimal(10), target="items"),
             windows=windows if isinstance(windows, tuple) else (windows,)),))
    request = engine.parse_request({
        "channel": "pos", "currency": "EUR", "at": at,
        "lines": [{"id": "1", "sku": "A", "quantity": 1, "unit_price": "100.00"}]})
    return str(engine.Evaluator(ruleset).evaluate(request)["discount"])


DECEMBER = RecurringWindow(days=EVERY_DAY, start=time(9), end=time(20), timezone="Europe/Paris",
                           from_date=date(2026, 12, 1), until_date=date(2026, 12, 24))


@pytest.mark.parametrize(("at", "expected"), [
    ("2026-11-30T19:59:00+01:00", "0.00"),  # the day before the first
    ("2026-12-01T09:00:00+01:00", "10.00"),  # the first day's opening
    ("2026-12-24T19:59:00+01:00", "10.00"),  # the last day's last minute
    ("2026-12-25T09:00:00+01:00", "0.00"),  # the day after the last
])
def test_a_weekly_window_is_live_on_its_first_and_last_days(at: str, expected: str) -> None:
    assert discount(DECEMBER, at) == expected


# Friday nights 22:00-02:00 in Paris; 2026-11-27 is a Friday.
FRIDAY_NIGHTS = RecurringWindow(days=(5,), start=time(22), end=time(2), timezone="Europe/Paris")


def test_a_night_slot_runs_past_midnight_of_its_last_day() -> None:
    # Given friday nights until Friday 2026-11-27, when a basket comes at 01:00 on the
    # Saturday, then it is in the Friday's slot: the last day is the day a slot starts
    window = FRIDAY_NIGHTS.model_copy(update={"until_date": date(2026, 11, 27)})

    assert discount(window, "2026-11-28T01:00:00+01:00") == "10.00"


def test_a_night_slot_of_the_day_before_the_first_day_is_not_live() -> None:
    # Given friday nights from Saturday 2026-11-28, when a basket comes at 01:00 that
    # Saturday, then it is in the slot of Friday the 27th, before the first day
    window = FRIDAY_NIGHTS.model_copy(update={"from_date": date(2026, 11, 28)})

    assert discount(window, "2026-11-28T01:00:00+01:00") == "0.00"


# Saturday nights 22:00-03:30 in Paris. On Sunday 2026-10-25 the clock reads 02:00-03:00
# twice: 00:00-01:00 UTC (UTC+2), then 01:00-02:00 UTC (UTC+1); 03:30 is 02:30 UTC.
SATURDAY_NIGHTS = RecurringWindow(days=(6,), start=time(22), end=time(3, 30),
                                  timezone="Europe/Paris")


@pytest.mark.parametrize(("at", "expected"), [
    ("2026-10-25T01:15:00Z", "10.00"),  # 02:15 the second time: Saturday's slot runs on
    ("2026-10-25T02:29:00Z", "10.00"),  # 03:29 (UTC+1)
    ("2026-10-25T02:30:00Z", "0.00"),  # 03:30: the end
])
def test_a_night_slot_runs_through_the_repeated_hour_to_its_end(at: str,
                                                                expected: str) -> None:
    assert discount(SATURDAY_NIGHTS, at) == expected


def test_a_night_slot_before_its_first_day_is_not_live_in_the_repeated_hour() -> None:
    # Given saturday nights from Sunday 2026-10-25 (the first is Saturday the 31st), when
    # a basket comes at 02:15 the second time that Sunday, then Saturday the 24th's slot
    # would hold it, but that Saturday is before the first day
    window = SATURDAY_NIGHTS.model_copy(update={"from_date": date(2026, 10, 25)})

    assert discount(window, "2026-10-25T01:15:00Z") == "0.00"


def test_a_first_day_in_a_zone_ahead_of_utc_starts_on_the_utc_day_before() -> None:
    # Given every day 00:00-01:00 from 2026-12-01 on Kiritimati (UTC+14), when a basket
    # comes at 00:30 there on the first day, 10:30 UTC on 2026-11-30, then it is live
    window = RecurringWindow(days=EVERY_DAY, start=time(0), end=time(1),
                             timezone="Pacific/Kiritimati", from_date=date(2026, 12, 1))

    assert discount(window, "2026-11-30T10:30:00Z") == "10.00"


def test_a_last_night_in_a_zone_behind_utc_ends_on_the_utc_day_after_next() -> None:
    # Given Tuesday nights 23:00-03:00 at UTC-12 until Tuesday 2026-12-01, when a basket
    # comes at 00:00 there on the Wednesday, 12:00 UTC on 2026-12-02, then it is live
    window = RecurringWindow(days=(2,), start=time(23), end=time(3), timezone="Etc/GMT+12",
                             until_date=date(2026, 12, 1))

    assert discount(window, "2026-12-02T12:00:00Z") == "10.00"


HOUR = datetime(2026, 11, 23, 13, tzinfo=UTC)  # 14:00-15:00 in Paris


@pytest.mark.parametrize(("start", "end"), [
    (HOUR - timedelta(minutes=30), HOUR),  # ends as the hour starts
    (HOUR + timedelta(hours=1), HOUR + timedelta(hours=2)),  # starts as it ends
])
def test_a_window_touching_an_hour_does_not_cover_it(start: datetime, end: datetime) -> None:
    # Given an absolute window that meets the hour at one edge, when the time index asks
    # how it covers that hour, then "none": the end is exclusive, so no instant is shared
    window = AbsoluteWindow(start=start, end=end, timezone="Europe/Paris")

    assert coverage((window,), HOUR.timestamp(), HOUR.timestamp() + 3600) == "none"


def test_a_window_from_the_hours_start_to_its_end_covers_it_fully() -> None:
    window = AbsoluteWindow(start=HOUR, end=HOUR + timedelta(hours=1), timezone="Europe/Paris")

    assert coverage((window,), HOUR.timestamp(), HOUR.timestamp() + 3600) == "full"


# Edges inside the hours asked, so that each basket is checked against its windows
# rather than served by the time index's whole-hour answer.
LUNCH_AND_EVENING = (
    RecurringWindow(days=EVERY_DAY, start=time(12, 15), end=time(14), timezone="Europe/Paris"),
    RecurringWindow(days=EVERY_DAY, start=time(18, 15), end=time(20), timezone="Europe/Paris"),
)


@pytest.mark.parametrize(("at", "expected"), [
    ("2026-11-23T12:30:00+01:00", "10.00"),  # in the first window only
    ("2026-11-23T18:30:00+01:00", "10.00"),  # in the second only
    ("2026-11-23T16:00:00+01:00", "0.00"),  # in neither
])
def test_a_rule_with_several_windows_is_live_in_any_of_them(at: str, expected: str) -> None:
    assert discount(LUNCH_AND_EVENING, at) == expected


BLACK_FRIDAY_AND_CHRISTMAS_EVE = (
    AbsoluteWindow(start=datetime(2026, 11, 27, 8, 30, tzinfo=UTC),
                   end=datetime(2026, 11, 27, 20, tzinfo=UTC), timezone="Europe/Paris"),
    AbsoluteWindow(start=datetime(2026, 12, 24, 8, tzinfo=UTC),
                   end=datetime(2026, 12, 24, 20, tzinfo=UTC), timezone="Europe/Paris"),
)


@pytest.mark.parametrize(("at", "expected"), [
    ("2026-11-27T09:45:00+01:00", "10.00"),  # the first window, in the hour it opens
    ("2026-12-10T12:00:00+01:00", "0.00"),  # between them
    ("2026-12-24T12:00:00+01:00", "10.00"),  # the last window, a month after the first
])
def test_a_rule_live_on_two_days_a_month_apart_is_live_on_both(at: str,
                                                               expected: str) -> None:
    assert discount(BLACK_FRIDAY_AND_CHRISTMAS_EVE, at) == expected


def test_a_slot_opening_after_midnight_in_a_half_hour_zone_opens_within_the_utc_hour() -> None:
    # Given every day 00:15-01:00 in Kolkata (UTC+05:30), whose midnight falls at half
    # past a UTC hour, when a basket comes at 00:20 there (18:50 UTC, the hour that
    # began at 23:30 the day before), then the slot that opened five minutes earlier holds it
    window = RecurringWindow(days=EVERY_DAY, start=time(0, 15), end=time(1),
                             timezone="Asia/Kolkata")

    assert discount(window, "2026-11-23T18:50:00Z") == "10.00"


def reasons(window: RecurringWindow, at: str) -> list[str]:
    """The explain reasons of a 10% rule live in ``window``, for a basket at ``at``."""
    ruleset = RuleSet(currency="EUR", timezone="UTC", rules=(
        Rule(id="r", title="T", effect=PercentOff(percent=Decimal(10), target="items"),
             windows=(window,)),))
    request = engine.parse_request({
        "channel": "pos", "currency": "EUR", "at": at,
        "lines": [{"id": "1", "sku": "A", "quantity": 1, "unit_price": "100.00"}]})
    explained = engine.Evaluator(ruleset).evaluate(request, explain=True)["explain"]
    return [entry["reason"] for entry in explained]


def test_a_weekly_window_whose_dates_start_months_ahead_says_its_first_opening() -> None:
    # Given Monday mornings from 2027-01-04, when a basket comes on 2026-11-23 (six weeks
    # before), then the reason names that first Monday, not "no day to open on"
    window = RecurringWindow(days=(1,), start=time(9), end=time(12), timezone="Europe/Paris",
                             from_date=date(2027, 1, 4))

    assert reasons(window, "2026-11-23T10:00:00+01:00") == [
        "outside its time window: only mon 09:00-12:00 Europe/Paris from 2027-01-04 to ..., "
        "next mon 2027-01-04 09:00"]


def test_a_window_on_all_seven_days_is_told_as_every_day() -> None:
    window = RecurringWindow(days=EVERY_DAY, start=time(9), end=time(12), timezone="Europe/Paris")

    assert reasons(window, "2026-11-23T13:00:00+01:00") == [
        "outside its time window: only every day 09:00-12:00 Europe/Paris, "
        "next tue 2026-11-24 09:00"]
