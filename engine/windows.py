"""Time windows: is a rule live at an instant, and if not, why (docs/semantics.md §8).

A window is live when ``start <= at < end``. Absolute windows are UTC instants
already; recurring windows are read on the wall clock of their own time zone,
so "every sat 09:00-20:00" follows daylight saving.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from .instants import epoch_of
from .ir import AbsoluteWindow, RecurringWindow, Window

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# (instant, the same instant as UTC epoch seconds): callers compute the epoch once.
LiveCheck = Callable[[datetime, float], bool]


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _absolute_check(window: AbsoluteWindow) -> LiveCheck:
    start, end = window.start.timestamp(), window.end.timestamp()

    def live(at: datetime, epoch: float) -> bool:
        return start <= epoch < end

    return live


def _in_bounds(window: RecurringWindow, day: date) -> bool:
    if window.from_date is not None and day < window.from_date:
        return False
    return window.until_date is None or day <= window.until_date


@lru_cache(maxsize=1024)
def _local_time(at: datetime, tz: str) -> datetime:
    """``at`` on the wall clock of ``tz``; cached since a basket asks many rules.

    ``at`` must not be on the wall clock of a zone with daylight saving: two such
    instants in the hour that the autumn change repeats compare (and hash) equal, so
    the cache would answer the first pass for the second. A basket's ``at`` carries a
    fixed offset (engine/instants.py); ``recurring_live`` reads any other in UTC."""
    return at.astimezone(zone(tz))


def recurring_live(window: RecurringWindow, at: datetime) -> bool:
    """Whether the weekly window is live at ``at``, an aware instant in any zone."""
    return _recurring_live(window, at.astimezone(UTC))


def _recurring_live(window: RecurringWindow, at: datetime) -> bool:
    """``recurring_live`` for an ``at`` with a fixed offset (a basket's), read as is."""
    local = _local_time(at, window.timezone)
    if local.fold:
        return _live_in_repeated_hour(window, local)
    clock, today = local.time().replace(tzinfo=None), local.date()
    if window.start < window.end:
        return (local.isoweekday() in window.days and window.start <= clock < window.end
                and _in_bounds(window, today))
    # The slot crosses midnight: it belongs to the day it starts on.
    if clock >= window.start:
        return local.isoweekday() in window.days and _in_bounds(window, today)
    if clock < window.end:
        yesterday = today - timedelta(days=1)
        return yesterday.isoweekday() in window.days and _in_bounds(window, yesterday)
    return False


def _live_in_repeated_hour(window: RecurringWindow, local: datetime) -> bool:
    """At the second pass of a wall-clock hour that daylight saving repeats (``fold``):
    the wall clock has gone back, so compare instants. A slot's start and end mean
    their first occurrence (docs/language.md), which this pass is already after."""
    tz = zone(window.timezone)
    epoch = epoch_of(local)
    today = local.date()
    for day in (today - timedelta(days=1), today):
        if day.isoweekday() not in window.days or not _in_bounds(window, day):
            continue
        end_day = day if window.start < window.end else day + timedelta(days=1)
        start = datetime.combine(day, window.start, tz).timestamp()  # fold 0: the first
        end = datetime.combine(end_day, window.end, tz).timestamp()
        if start <= epoch < end:
            return True
    return False


def live_check(windows: tuple[Window, ...]) -> LiveCheck | None:
    """A fast check for "live at this instant", or None when the rule is always live."""
    if not windows:
        return None
    checks = [
        _absolute_check(w) if isinstance(w, AbsoluteWindow)
        else (lambda at, epoch, w=w: _recurring_live(w, at))
        for w in windows
    ]
    if len(checks) == 1:
        return checks[0]
    return lambda at, epoch: any(check(at, epoch) for check in checks)


def envelope(windows: tuple[Window, ...]) -> tuple[float, float]:
    """UTC epoch seconds outside which the rule is certainly not live.

    Used to drop, once per hour of time, the rules that cannot be live: the
    evaluator's time index. Recurring windows are bounded by their dates, with
    two days of margin for time zones and slots crossing midnight.
    """
    if not windows:
        return (float("-inf"), float("inf"))
    lows: list[float] = []
    highs: list[float] = []
    for window in windows:
        if isinstance(window, AbsoluteWindow):
            lows.append(window.start.timestamp())
            highs.append(window.end.timestamp())
            continue
        lows.append(_date_epoch(window.from_date, -2) if window.from_date else float("-inf"))
        highs.append(_date_epoch(window.until_date, 3) if window.until_date else float("inf"))
    return (min(lows), max(highs))


def coverage(windows: tuple[Window, ...], start: float, end: float) -> str:
    """How the windows cover the UTC epoch span [start, end): "none", "full" or "partial".

    Absolute windows are compared arithmetically; a recurring window is live
    all through the span or not at all unless one of its slots starts or ends
    inside it. "partial" is the safe answer: the evaluator then checks the
    exact instant of each basket.
    """
    if not windows:
        return "full"
    answers = set()
    for window in windows:
        if isinstance(window, AbsoluteWindow):
            low, high = window.start.timestamp(), window.end.timestamp()
            if high <= start or low >= end:
                answers.add("none")
            elif low <= start and high >= end:
                return "full"
            else:
                answers.add("partial")
            continue
        covered = _recurring_coverage(window, start, end)
        if covered == "full":
            return "full"
        answers.add(covered)
    return "partial" if "partial" in answers else "none"


def _recurring_coverage(window: RecurringWindow, start: float, end: float) -> str:
    """Constant over the span unless a slot starts or ends inside it, or the zone's
    offset changes inside it (then "partial", the safe answer)."""
    tz = zone(window.timezone)
    first = datetime.fromtimestamp(start, UTC).astimezone(tz)
    last = datetime.fromtimestamp(end, UTC).astimezone(tz)
    if first.utcoffset() != last.utcoffset():
        return "partial"
    for day in {first.date(), last.date()}:
        for clock in (window.start, window.end):
            for fold in (0, 1):  # a wall-clock time repeated by DST happens twice
                boundary = datetime.combine(day, clock, tz).replace(fold=fold).timestamp()
                if start < boundary < end:
                    return "partial"
    return "full" if _recurring_live(window, datetime.fromtimestamp(start, UTC)) else "none"


def _date_epoch(day: date, margin_days: int) -> float:
    """Midnight UTC ``margin_days`` from ``day``; past the calendar's end, unbounded
    (the rule language keeps dates to 1970-2999, an IR from elsewhere may not)."""
    try:
        return datetime.combine(day + timedelta(days=margin_days), time(), UTC).timestamp()
    except OverflowError:
        return float("-inf") if margin_days < 0 else float("inf")


def _local(instant: datetime, tz: str) -> str:
    """``instant`` on the wall clock of ``tz``, then the zone; a time that the autumn
    change repeats says which of its two passes it is, with its offset from UTC."""
    local = instant.astimezone(zone(tz))
    # Windows written in the language fall on whole minutes; `from publish` ones at
    # the publish instant, whose seconds count for a basket a few seconds off.
    clock = "%H:%M" if local.second == local.microsecond == 0 else "%H:%M:%S"
    text = f"{local:%Y-%m-%d} {local.strftime(clock)} {tz}"
    if local.replace(fold=1 - local.fold).utcoffset() == local.utcoffset():
        return text
    offset = local.strftime("%z")
    which = "second" if local.fold else "first"
    return f"{text} (the {which} {local:%H:%M}, UTC{offset[:3]}:{offset[3:5]})"


def _describe_recurring(window: RecurringWindow) -> str:
    days = ", ".join(DAY_NAMES[d - 1] for d in sorted(window.days))
    if len(window.days) == 7:
        days = "every day"
    text = f"{days} {window.start:%H:%M}-{window.end:%H:%M} {window.timezone}"
    if window.from_date or window.until_date:
        text += f" from {window.from_date or '...'} to {window.until_date or '...'}"
    return text


def not_live_reason(windows: tuple[Window, ...], at: datetime) -> str:
    """Why none of the windows is live at ``at``, in the marketer's own clock."""
    parts: list[str] = []
    for window in windows:
        if isinstance(window, AbsoluteWindow):
            if at < window.start:
                parts.append(f"starts {_local(window.start, window.timezone)}")
            else:
                parts.append(f"ended {_local(window.end, window.timezone)}")
        else:
            parts.append(f"only {_describe_recurring(window)}, {_next_slot(window, at)}")
    return "outside its time window: " + "; ".join(parts)


def _next_slot(window: RecurringWindow, at: datetime) -> str:
    """When the weekly window opens next after ``at``, on its own wall clock, so a
    cashier can tell the customer ("next sat 2026-11-28 09:00"), or that its dates
    are over. A slot's start is its first occurrence, as ``recurring_live`` reads it."""
    tz = zone(window.timezone)
    after = epoch_of(at)
    day = at.astimezone(tz).date()
    if window.from_date is not None and window.from_date > day:
        day = window.from_date
    for _ in range(15):  # each weekday twice: a slot the spring change skips opens a week on
        if window.until_date is not None and day > window.until_date:
            break
        opening = datetime.combine(day, window.start, tz)
        # recurring_live: a slot that the spring change skips whole does not open
        if day.isoweekday() in window.days and epoch_of(opening) > after \
                and recurring_live(window, opening):
            return f"next {DAY_NAMES[day.isoweekday() - 1]} {day} {window.start:%H:%M}"
        day += timedelta(days=1)
    return f"its last day was {window.until_date}" if window.until_date else "no day to open on"


__all__ = ["coverage", "envelope", "live_check", "not_live_reason", "recurring_live", "zone"]
