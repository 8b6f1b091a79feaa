"""The time index's shortcut: a window said to cover an hour "fully" or "not at all"
must agree with the exact check at every minute of that hour (DST days included)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.ir import AbsoluteWindow, RecurringWindow
from engine.windows import coverage, envelope, live_check, recurring_live

ZONES = ("Europe/Paris", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe")
clock = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))
recurring = st.builds(
    RecurringWindow, days=st.sets(st.integers(1, 7), min_size=1).map(lambda d: tuple(sorted(d))),
    start=clock, end=clock, timezone=st.sampled_from(ZONES))
# Hours around the 2026 daylight-saving changes and ordinary days.
hours = st.sampled_from([
    datetime(2026, 3, 29, 0, tzinfo=UTC), datetime(2026, 10, 25, 0, tzinfo=UTC),
    datetime(2026, 3, 8, 6, tzinfo=UTC), datetime(2026, 11, 1, 5, tzinfo=UTC),
    datetime(2026, 11, 24, 0, tzinfo=UTC)]).flatmap(
    lambda day: st.integers(0, 23).map(lambda h: day + timedelta(hours=h)))


def exact_minutes(window: RecurringWindow | AbsoluteWindow, hour: datetime) -> list[bool]:
    check = live_check((window,))
    assert check is not None
    instants = [hour + timedelta(minutes=m) for m in range(60)]
    return [check(at, at.timestamp()) for at in instants]


@settings(max_examples=400, deadline=None)
@given(window=recurring, hour=hours)
def test_recurring_coverage_agrees_with_every_minute(window: RecurringWindow,
                                                     hour: datetime) -> None:
    answer = coverage((window,), hour.timestamp(), hour.timestamp() + 3600)
    live = exact_minutes(window, hour)
    if answer == "full":
        assert all(live)
    elif answer == "none":
        assert not any(live)


@settings(max_examples=200, deadline=None)
@given(start=st.integers(-120, 120), length=st.integers(1, 240), hour=hours)
def test_absolute_coverage_agrees_with_every_minute(start: int, length: int,
                                                    hour: datetime) -> None:
    window = AbsoluteWindow(start=hour + timedelta(minutes=start),
                            end=hour + timedelta(minutes=start + length), timezone="UTC")
    answer = coverage((window,), hour.timestamp(), hour.timestamp() + 3600)
    live = exact_minutes(window, hour)
    assert answer == ("full" if all(live) else "none" if not any(live) else "partial")


def test_dates_at_the_ends_of_the_calendar_leave_the_envelope_unbounded() -> None:
    # Given a weekly window bounded by the calendar's first and last days (an IR may
    # hold them; the rule language keeps dates to 1970-2999)
    window = RecurringWindow(days=(6,), start=time(9), end=time(20), timezone="Europe/Paris",
                             from_date=date(1, 1, 1), until_date=date(9999, 12, 31))

    # When the time index asks for its envelope (the dates with days of margin)
    low, high = envelope((window,))

    # Then the margins that fall off the calendar read as unbounded, not as an error
    assert (low, high) == (float("-inf"), float("inf"))


def test_the_second_pass_of_a_repeated_hour_is_not_taken_for_the_first() -> None:
    # Given a slot sun 02:00-02:30 in Paris; on 2026-10-25 02:00 comes twice: at 00:00 UTC
    # (UTC+2, the slot's start) and at 01:00 UTC (UTC+1, after the slot ended at 00:30)
    window = RecurringWindow(days=(7,), start=time(2), end=time(2, 30), timezone="Europe/Paris")
    paris = ZoneInfo("Europe/Paris")
    first = datetime(2026, 10, 25, 0, tzinfo=UTC).astimezone(paris)
    second = datetime(2026, 10, 25, 1, tzinfo=UTC).astimezone(paris)
    assert (first.fold, second.fold) == (0, 1)  # Paris-zoned, equal as wall-clock times

    # When both are asked, the first pass first
    answers = recurring_live(window, first), recurring_live(window, second)

    # Then the second pass is read as itself (a cache keyed by the instant took it for
    # the first, which compares equal to it in the same zone): live, then not
    assert answers == (True, False)
