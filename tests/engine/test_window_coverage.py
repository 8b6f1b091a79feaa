"""The time index's shortcut: a window said to cover an hour "fully" or "not at all"
must agree with the exact check at every minute of that hour (DST days included); and
the whole evaluator, index slices and all, must agree with a reference written from the
definition of a window, to the microsecond, in zones with every kind of change."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine.ir import (
    AbsoluteWindow,
    AudienceFlag,
    ItemFieldIn,
    PercentOff,
    RecurringWindow,
    Rule,
    RuleSet,
    Window,
)
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


# --- the whole evaluator against a reference written from the definition ----------------
#
# The evaluator serves a basket from its hour's index slice, where a rule said to cover
# the whole hour is never checked again; the reference below knows nothing of slices,
# envelopes or wall-clock shortcuts. A slot of day D is the span [S, E) where S is the
# first instant the zone's wall clock reads D start or later (its first pass when the
# autumn repeats it, the jump when the spring skips it), E likewise for the end (on D+1
# when the end is not after the start).

# Each change of 2026 that the zones below make (UTC), with an ordinary day.
CHANGES = (
    datetime(2026, 3, 8, 7, tzinfo=UTC), datetime(2026, 11, 1, 6, tzinfo=UTC),  # New York
    datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 10, 25, 1, tzinfo=UTC),  # Europe
    datetime(2026, 4, 4, 15, tzinfo=UTC), datetime(2026, 10, 3, 15, 30, tzinfo=UTC),  # Lord Howe
    datetime(2026, 4, 5, 3, tzinfo=UTC), datetime(2026, 9, 6, 4, tzinfo=UTC),  # Santiago
    datetime(2026, 4, 4, 14, tzinfo=UTC), datetime(2026, 9, 26, 14, tzinfo=UTC),  # Chatham
    datetime(2026, 3, 8, 5, 30, tzinfo=UTC), datetime(2026, 11, 1, 4, 30, tzinfo=UTC),  # St John's
    datetime(2026, 11, 24, 0, tzinfo=UTC))
EVERY_ZONE = (*ZONES, "Pacific/Chatham", "America/Santiago", "America/St_Johns",
              "Europe/Dublin", "Pacific/Kiritimati", "Etc/GMT+12", "UTC")
MICROSECOND = timedelta(microseconds=1)


def first_reading(day: date, clock: time, tz: str) -> datetime:
    """The first instant the wall clock of ``tz`` reads ``day clock`` or later."""
    zone = ZoneInfo(tz)
    wall = datetime.combine(day, clock)
    early, late = (datetime.combine(day, clock, zone).replace(fold=fold).astimezone(UTC)
                   for fold in (1, 0))
    candidate = min(early, late)
    if candidate.astimezone(zone).replace(tzinfo=None) == wall:
        return candidate  # it exists; when twice, this is the first
    low, high = int(candidate.timestamp()), int(max(early, late).timestamp())
    while high - low > 1:  # skipped: search the jump, between the two readings
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def reference_live(window: RecurringWindow | AbsoluteWindow, at: datetime) -> bool:
    if isinstance(window, AbsoluteWindow):
        return window.start <= at < window.end
    today = at.astimezone(ZoneInfo(window.timezone)).date()
    for day in (today + timedelta(days=n) for n in (-2, -1, 0, 1)):
        if day.isoweekday() not in window.days:
            continue
        if (window.from_date and day < window.from_date) or (
                window.until_date and day > window.until_date):
            continue
        end_day = day if window.start < window.end else day + timedelta(days=1)
        if first_reading(day, window.start, window.timezone) <= at < first_reading(
                end_day, window.end, window.timezone):
            return True
    return False


@st.composite
def windows_near(draw: st.DrawFn, change: datetime) -> RecurringWindow | AbsoluteWindow:
    tz = draw(st.sampled_from(EVERY_ZONE))
    if draw(st.booleans()):  # absolute, to the microsecond, around the change
        start = change + timedelta(seconds=draw(st.integers(-7200, 7200)),
                                   microseconds=draw(st.sampled_from([0, 1, 999_999])))
        end = start + timedelta(seconds=draw(st.integers(1, 10_800)))
        return AbsoluteWindow(start=start, end=end, timezone=tz)
    window = draw(recurring.map(lambda w: w.model_copy(update={"timezone": tz})))
    if draw(st.booleans()):  # its start and end in the hour the change skips or repeats
        wall = change.astimezone(ZoneInfo(tz)).replace(tzinfo=None)
        start, end = (wall + timedelta(minutes=15 * draw(st.integers(-6, 6))) for _ in "se")
        window = window.model_copy(update={"start": start.time(), "end": end.time(),
                                           "days": (start.isoweekday(),)})
    if draw(st.booleans()):  # dates bounding it, around the change's local day
        first = change.astimezone(ZoneInfo(tz)).date() + timedelta(days=draw(st.integers(-2, 1)))
        window = window.model_copy(update={
            "from_date": first, "until_date": first + timedelta(days=draw(st.integers(0, 2)))})
    return window


@st.composite
def rules_and_instants(draw: st.DrawFn) -> tuple[tuple[Window, ...], list[datetime]]:
    change = draw(st.sampled_from(CHANGES))
    rule_windows = tuple(draw(st.lists(windows_near(change), min_size=1, max_size=8)))
    # Instants on quarter hours around the change (every slot edge is on one in every
    # zone here), a microsecond before, and at the edges of the absolute windows.
    quarters = st.integers(-4 * 30, 4 * 30).map(lambda q: change + timedelta(minutes=15 * q))
    edges = [edge for w in rule_windows if isinstance(w, AbsoluteWindow)
             for edge in (w.start, w.end)]
    near = st.one_of(quarters, *([st.sampled_from(edges)] if edges else []))
    instants = draw(st.lists(st.tuples(near, st.sampled_from([0, -1, 1])).map(
        lambda pair: pair[0] + pair[1] * MICROSECOND), min_size=1, max_size=12))
    return rule_windows, instants


KINDS: tuple[dict[str, Any], ...] = (  # found by key, or for every basket; checked or not
    {"effect": PercentOff(percent=Decimal(1), target="items",
                          items=ItemFieldIn(field="category", values=("c",)))},
    {"effect": PercentOff(percent=Decimal(1), target="basket")},
    {"effect": PercentOff(percent=Decimal(1), target="items"),
     "audience": AudienceFlag(flag="anonymous")},
)


@settings(max_examples=150, deadline=None)
@given(case=rules_and_instants(), explain=st.booleans())
def test_the_indexed_evaluator_agrees_with_the_definition_of_a_window(
        case: tuple[tuple[Window, ...], list[datetime]], explain: bool) -> None:
    # Given rules each live in one window, in zones with and without daylight saving,
    # all of them stackable so that every live rule gives something
    rule_windows, instants = case
    ruleset = RuleSet(currency="EUR", timezone="UTC", rules=tuple(
        Rule(id=f"r{n}", title="T", stacking="stackable", windows=(window,),
             **KINDS[n % len(KINDS)]) for n, window in enumerate(rule_windows)))
    evaluator = engine.Evaluator(ruleset)
    for at in instants:
        # When one evaluator prices a basket at each instant, in an offset of its own
        request = engine.parse_request({
            "channel": "pos", "currency": "EUR", "at": at.astimezone(
                timezone(timedelta(hours=5, minutes=30))).isoformat(),
            "lines": [{"id": "1", "sku": "S", "quantity": 1, "unit_price": "100.00",
                       "category": "c"}]})
        applied = {a["rule"] for a in evaluator.evaluate(request, explain=explain)["applied"]}
        # Then the rules that applied are exactly those live by the definition
        assert applied == {f"r{n}" for n, window in enumerate(rule_windows)
                           if reference_live(window, at)}, at.isoformat()
