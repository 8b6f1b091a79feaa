"""Weekly slots as a marketer writes them: given a `valid every ...` line, when it is
compiled, then it is live exactly when the marketer means, or refused where written."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

import dsl
from engine import ir
from engine.windows import recurring_live

PARIS = ZoneInfo("Europe/Paris")
SOURCE = ('currency EUR\ntimezone Europe/Paris\n'
          'rule r "R" {{\n    valid {}\n    discount 5% on items\n}}\n')


def slot(window: str) -> ir.RecurringWindow:
    [compiled] = dsl.compile_source(SOURCE.format(window), "x.rules").rules[0].windows
    assert isinstance(compiled, ir.RecurringWindow)
    return compiled


def test_a_slot_from_midnight_to_midnight_is_the_whole_day() -> None:
    whole_saturday = slot("every sat 00:00-00:00")  # 2026-11-28 is a Saturday
    assert recurring_live(whole_saturday, datetime(2026, 11, 28, 0, 0, tzinfo=PARIS))
    assert recurring_live(whole_saturday, datetime(2026, 11, 28, 23, 59, tzinfo=PARIS))
    assert not recurring_live(whole_saturday, datetime(2026, 11, 29, 0, 0, tzinfo=PARIS))
    assert not recurring_live(whole_saturday, datetime(2026, 11, 27, 23, 59, tzinfo=PARIS))


def test_a_slot_starting_and_ending_at_the_same_hour_is_refused_not_read_as_24_hours() -> None:
    # Given `17:00-17:00`, a typo for 17:00-19:00 far likelier than a day from 17:00,
    # which would have been live until Saturday 17:00
    with pytest.raises(dsl.DslError) as caught:
        slot("every fri 17:00-17:00")
    assert [(d.line, d.column, d.message) for d in caught.value.diagnostics] == [
        (4, 11, "the slot starts and ends at 17:00")]
