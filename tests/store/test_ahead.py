"""Preparing the next hour before it turns (rules/ahead.py): when, which hour, on
which rule sets, and a thread that survives its errors. Every instant is explicit."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

import pytest

import engine
from rules import InvalidRequest, LiveCache, RuleStore, Settings
from rules.ahead import (
    HourPreparer,
    next_hour_to_prepare,
    prepare_live,
    seconds_until_preparation,
)

from .scenario import BOOTS_10, BOOTS_20, boots_basket, sources


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


# --- when, and which hour ------------------------------------------------------------


@pytest.mark.parametrize(("now", "prepared", "hour"), [
    # exactly on the hour: that hour has begun, the next one is the one to prepare
    ("2026-11-24T10:00:00+00:00", None, "2026-11-24T11:00:00+00:00"),
    ("2026-11-24T10:58:59+00:00", None, "2026-11-24T11:00:00+00:00"),
    ("2026-11-24T10:59:30+00:00", None, "2026-11-24T11:00:00+00:00"),
    # just prepared: the hour after
    ("2026-11-24T10:59:00+00:00", "2026-11-24T11:00:00+00:00", "2026-11-24T12:00:00+00:00"),
    # the clock set back a minute after preparing: 11:00 is not prepared twice
    ("2026-11-24T10:58:00+00:00", "2026-11-24T11:00:00+00:00", "2026-11-24T12:00:00+00:00"),
    # the clock set back hours after preparing 11:00 (it ran ahead and was corrected):
    # 09:00 comes first and is prepared, not left cold while waiting for 12:00
    ("2026-11-24T08:30:00+00:00", "2026-11-24T11:00:00+00:00", "2026-11-24T09:00:00+00:00"),
    # woken after the host slept through two hours: the next one, none of those missed
    ("2026-11-24T13:20:00+00:00", "2026-11-24T11:00:00+00:00", "2026-11-24T14:00:00+00:00"),
    # 10:20 in India (+05:30) is 04:50 UTC: slices are UTC hours, so 05:00 UTC (10:30 there)
    ("2026-11-24T10:20:00+05:30", None, "2026-11-24T05:00:00+00:00"),
], ids=["on the hour", "a minute before", "half a minute before", "just prepared",
        "clock set back", "clock set back hours", "host slept", "half-hour offset"])
def test_the_hour_to_prepare_next(now: str, prepared: str | None, hour: str) -> None:
    found = next_hour_to_prepare(instant(now), instant(prepared) if prepared else None)
    assert found == instant(hour)


@pytest.mark.parametrize(("now", "wait"), [
    ("2026-11-24T10:00:00+00:00", 3540.0),  # exactly on the hour: until 10:59:00
    ("2026-11-24T10:58:59+00:00", 1.0),  # one second before the lead
    ("2026-11-24T10:58:59.750000+00:00", 0.25),
    ("2026-11-24T10:59:00+00:00", 0.0),  # the lead has come
    ("2026-11-24T10:59:30+00:00", 0.0),  # inside the lead: at once
    ("2026-11-24T11:00:05+00:00", 0.0),  # late: at once
], ids=["on the hour", "a second before the lead", "a quarter second before the lead",
        "at the lead", "inside the lead", "late"])
def test_seconds_until_the_preparation_of_11_00_with_a_60_s_lead(now: str, wait: float) -> None:
    hour = instant("2026-11-24T11:00:00+00:00")
    assert seconds_until_preparation(instant(now), hour, 60) == wait


# --- the setting ------------------------------------------------------------------------


def test_the_lead_is_60_seconds_unless_set() -> None:
    assert Settings.from_env({}).prepare_ahead_seconds == 60.0


def test_a_lead_of_0_turns_preparing_off() -> None:
    settings = Settings.from_env({"REMISE_PREPARE_AHEAD_SECONDS": "0"})
    assert settings.prepare_ahead_seconds == 0.0


@pytest.mark.parametrize("text", ["soon", "-1", "3600", "nan"])
def test_a_lead_that_is_not_below_an_hour_is_refused(text: str) -> None:
    with pytest.raises(InvalidRequest, match="REMISE_PREPARE_AHEAD_SECONDS"):
        Settings.from_env({"REMISE_PREPARE_AHEAD_SECONDS": text})


# --- on the live cache ------------------------------------------------------------------


def live_with_web_baskets(store: RuleStore, *names: str) -> LiveCache:
    """A live cache of rule sets ``names``, each having priced a web basket at 10:15 UTC."""
    for index, name in enumerate(names):
        store.publish(name, sources(BOOTS_10 if index % 2 == 0 else BOOTS_20),
                      message=name, author="ana")
    live = LiveCache(store)
    live.refresh_all()
    for entry in live.loaded().values():
        entry.evaluator.evaluate(engine.parse_request(boots_basket("2026-11-24T10:15:00+00:00")))
    return live


def hours_cached(live: LiveCache) -> dict[str, list[tuple[str, datetime]]]:
    return {name: entry.evaluator.cached_slices() for name, entry in live.loaded().items()}


def test_prepare_live_prepares_the_hour_in_every_loaded_rule_set(store: RuleStore) -> None:
    # given two rule sets live, each with a web basket priced during the 10:00 hour
    live = live_with_web_baskets(store, "fr", "be")
    # when 11:00 is prepared
    built = prepare_live(live, instant("2026-11-24T11:00:00+00:00"))
    # then each has its web slice of 11:00
    assert built == 2
    slices = [("web", instant("2026-11-24T10:00:00+00:00")),
              ("web", instant("2026-11-24T11:00:00+00:00"))]
    assert hours_cached(live) == {"fr": slices, "be": slices}


def test_slices_built_are_reported_per_rule_set_ahead_or_on_demand(store: RuleStore) -> None:
    # given a live cache whose evaluators report what they build
    store.publish("fr", sources(BOOTS_10), message="fr", author="ana")
    live = LiveCache(store)
    reported: list[tuple[str, bool]] = []
    live.on_slice_built.append(lambda name, ahead: reported.append((name, ahead)))
    entry = live.get("fr")
    assert entry is not None
    # when a basket is priced at 10:15, then 11:00 is prepared
    entry.evaluator.evaluate(engine.parse_request(boots_basket("2026-11-24T10:15:00+00:00")))
    prepare_live(live, instant("2026-11-24T11:00:00+00:00"))
    # then one slice was built on demand, one ahead
    assert reported == [("fr", False), ("fr", True)]


def wait_until(condition: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_the_thread_prepares_the_next_hour_once_inside_the_lead(store: RuleStore) -> None:
    # given a rule set whose web baskets came during the 10:00 hour, and a clock at 10:59:30
    live = live_with_web_baskets(store, "fr")
    entry = live.peek("fr")
    assert entry is not None
    preparer = HourPreparer(live, 60, clock=lambda: instant("2026-11-24T10:59:30+00:00"))
    # when the thread runs
    preparer.start()
    try:
        # then the 11:00 slice is built without any basket
        wait_until(lambda: ("web", instant("2026-11-24T11:00:00+00:00"))
                   in entry.evaluator.cached_slices())
        assert preparer.running
    finally:
        preparer.stop()
    assert not preparer.running


def test_an_error_in_the_thread_is_logged_and_the_thread_goes_on(
    store: RuleStore, caplog: pytest.LogCaptureFixture,
) -> None:
    # given a clock that fails once, then reads 10:59:30
    live = live_with_web_baskets(store, "fr")
    entry = live.peek("fr")
    assert entry is not None
    failures = [RuntimeError("the clock is unavailable")]

    def clock() -> datetime:
        if failures:
            raise failures.pop()
        return instant("2026-11-24T10:59:30+00:00")

    preparer = HourPreparer(live, 60, clock=clock, retry_seconds=0.01)
    # when the thread runs
    with caplog.at_level(logging.ERROR, logger="remise.ahead"):
        preparer.start()
        try:
            # then it logs the error and still prepares 11:00
            wait_until(lambda: ("web", instant("2026-11-24T11:00:00+00:00"))
                       in entry.evaluator.cached_slices())
        finally:
            preparer.stop()
    assert "the clock is unavailable" in caplog.text
