"""Time windows: exclusive ends, time zones, recurring slots, daylight saving (§8)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from freezegun import freeze_time
from pricing import PUBLISHED, basket, evaluate, line, reason, rules

import dsl
import engine

ITEM = line("1", "RAIN-JKT-01", "100.00", category="rainwear")
FLASH = 'rule flash "Flash" {\n valid 2026-11-23 14:00 for 30 minutes\n discount 15% on items\n}'


def discount_at(source: str, at: str) -> str:
    return evaluate(rules(source), basket(ITEM, at=at))["discount"]


@pytest.mark.parametrize(("at", "expected"), [
    ("2026-11-23T13:59:59+01:00", "0.00"),  # one second early
    ("2026-11-23T14:00:00+01:00", "15.00"),  # start is inclusive
    ("2026-11-23T14:29:59+01:00", "15.00"),
    ("2026-11-23T14:30:00+01:00", "0.00"),  # end is exclusive
])
def test_a_window_starts_inclusive_and_ends_exclusive(at: str, expected: str) -> None:
    assert discount_at(FLASH, at) == expected


KEYED_EFFECTS = {  # one of each way the index serves a keyed rule (docs/semantics.md §9)
    "eager": ("rule", 'discount 15% on items where category = "rainwear"\n stacking stackable'),
    "walked": ("rule", 'discount 15% on items where category = "rainwear"'),
    "price": ("price", 'price 85.00 EUR on items where category = "rainwear"'),
}


@pytest.mark.parametrize("kind", sorted(KEYED_EFFECTS))
@pytest.mark.parametrize(("at", "expected"), [
    ("2026-11-23T14:10:00+01:00", "100.00"),  # same hour, before the window
    ("2026-11-23T14:20:00+01:00", "85.00"),
    ("2026-11-23T14:45:00+01:00", "100.00"),  # same hour, window ended
])
def test_a_keyed_rule_live_for_part_of_an_hour_is_checked_to_the_minute(
        kind: str, at: str, expected: str) -> None:
    block, effect = KEYED_EFFECTS[kind]
    source = f'{block} k "K" {{\n valid 2026-11-23 14:15 for 30 minutes\n {effect}\n}}'
    assert evaluate(rules(source), basket(ITEM, at=at))["total"] == expected


def test_a_rule_in_paris_time_matches_a_basket_stamped_in_utc() -> None:
    # 14:10 in Paris (UTC+1 in November) is 13:10 UTC
    assert discount_at(FLASH, "2026-11-23T13:10:00Z") == "15.00"
    assert discount_at(FLASH, "2026-11-23T14:10:00Z") == "0.00"  # 15:10 in Paris


def test_an_ended_window_is_explained_in_the_rules_clock() -> None:
    response = evaluate(rules(FLASH), basket(ITEM, at="2026-11-23T13:31:00Z"), explain=True)
    assert reason(response, "flash") == (
        "outside its time window: ended 2026-11-23 14:30 Europe/Paris")


def test_from_publish_starts_when_the_version_is_published() -> None:
    source = 'rule now "Now" {\n valid for 30 minutes from publish\n discount 15% on items\n}'
    # published 13:00 UTC (tests' PUBLISHED): live until 13:30 UTC
    assert datetime(2026, 11, 23, 13, tzinfo=UTC) == PUBLISHED
    assert discount_at(source, "2026-11-23T13:29:00Z") == "15.00"
    assert discount_at(source, "2026-11-23T13:30:00Z") == "0.00"


def test_a_from_publish_window_is_explained_to_the_second_of_its_publish() -> None:
    # given a 30-minute window published at 13:00:37.5 UTC (14:00:37 in Paris)
    source = ('currency EUR\ntimezone Europe/Paris\n\n'
              'rule now "Now" {\n valid for 30 minutes from publish\n discount 15% on items\n}')
    published = datetime(2026, 11, 23, 13, 0, 37, 500000, tzinfo=UTC)
    ruleset = dsl.compile_source(source, "test.rules", publish_at=published)

    # when a basket comes at 14:30:40, then its end is told with its seconds: "14:30"
    # would say the rule was over at 14:30:20, when it was live
    response = evaluate(ruleset, basket(ITEM, at="2026-11-23T13:30:40Z"), explain=True)
    assert reason(response, "now") == (
        "outside its time window: ended 2026-11-23 14:30:37 Europe/Paris")


def test_a_date_only_end_includes_the_whole_day() -> None:
    source = 'rule d "D" {\n valid from 2026-12-01 to 2026-12-24\n discount 10% on items\n}'
    assert discount_at(source, "2026-12-24T23:59:00+01:00") == "10.00"
    assert discount_at(source, "2026-12-25T00:00:00+01:00") == "0.00"


WEEKEND = 'rule w "W" {\n valid every sat, sun 09:00-20:00\n discount 10% on items\n}'


@pytest.mark.parametrize(("at", "expected"), [
    ("2026-11-28T10:00:00+01:00", "10.00"),  # saturday morning
    ("2026-11-28T20:00:00+01:00", "0.00"),  # saturday 20:00: end exclusive
    ("2026-11-29T08:59:00+01:00", "0.00"),  # sunday before opening
    ("2026-11-27T10:00:00+01:00", "0.00"),  # friday
])
def test_a_recurring_window_is_read_on_the_local_wall_clock(at: str, expected: str) -> None:
    assert discount_at(WEEKEND, at) == expected


@pytest.mark.parametrize(("at", "next_slot"), [
    ("2026-11-23T10:00:00+01:00", "next sat 2026-11-28 09:00"),  # a monday
    ("2026-11-28T08:00:00+01:00", "next sat 2026-11-28 09:00"),  # saturday, not yet open
    ("2026-11-28T20:00:00+01:00", "next sun 2026-11-29 09:00"),  # saturday's slot just ended
    ("2026-11-29T19:30:00Z", "next sat 2026-12-05 09:00"),  # sunday 20:30 in Paris
])
def test_a_weekly_window_that_is_closed_says_when_it_opens_next(at: str,
                                                                 next_slot: str) -> None:
    response = evaluate(rules(WEEKEND), basket(ITEM, at=at), explain=True)
    assert reason(response, "w") == (
        f"outside its time window: only sat, sun 09:00-20:00 Europe/Paris, {next_slot}")


@pytest.mark.parametrize(("at", "ending"), [
    ("2026-11-23T10:00:00+01:00", "next mon 2026-12-07 09:00"),  # before its dates
    ("2026-12-20T20:00:00+01:00", "next mon 2026-12-21 09:00"),
    ("2026-12-21T20:00:00+01:00", "its last day was 2026-12-21"),  # its last slot ended
    ("2027-01-04T10:00:00+01:00", "its last day was 2026-12-21"),
])
def test_a_weekly_window_between_dates_opens_next_within_them(at: str, ending: str) -> None:
    source = ('rule m "M" {\n valid every mon 09:00-20:00 from 2026-12-02 to 2026-12-21\n'
              ' discount 10% on items\n}')
    response = evaluate(rules(source), basket(ITEM, at=at), explain=True)
    assert reason(response, "m") == ("outside its time window: only mon 09:00-20:00 "
                                     f"Europe/Paris from 2026-12-02 to 2026-12-21, {ending}")


def test_a_slot_the_spring_change_skips_whole_is_not_named_as_the_next_opening() -> None:
    # 2026-03-29 in Paris the clock jumps from 02:00 to 03:00: no 02:00-02:45 that sunday
    source = 'rule s "S" {\n valid every sun 02:00-02:45\n discount 10% on items\n}'
    response = evaluate(rules(source), basket(ITEM, at="2026-03-28T12:00:00+01:00"),
                        explain=True)
    assert reason(response, "s") == ("outside its time window: only sun 02:00-02:45 "
                                     "Europe/Paris, next sun 2026-04-05 02:00")


def test_a_slot_starting_in_the_repeated_hour_opens_next_at_its_first_pass() -> None:
    # 02:29 on the first pass (UTC+2): the slot opens at 02:30 of that pass, 00:30 UTC
    response = evaluate(rules(STARTS_IN_THE_REPEATED_HOUR),
                        basket(ITEM, at="2026-10-25T00:29:00Z"), explain=True)
    assert reason(response, "early") == ("outside its time window: only sun 02:30-03:30 "
                                         "Europe/Paris, next sun 2026-10-25 02:30")


def test_a_recurring_window_follows_the_wall_clock_across_the_october_change() -> None:
    # Sunday 2026-10-25: Paris goes from UTC+2 to UTC+1 at 03:00 local.
    # 09:00 local that day is 08:00 UTC (already UTC+1); 07:30 UTC is 08:30 local.
    assert discount_at(WEEKEND, "2026-10-25T08:00:00Z") == "10.00"
    assert discount_at(WEEKEND, "2026-10-25T07:30:00Z") == "0.00"
    # the saturday before is still UTC+2: 09:00 local = 07:00 UTC
    assert discount_at(WEEKEND, "2026-10-24T07:00:00Z") == "10.00"


def test_an_absolute_window_across_the_march_change_converts_each_end() -> None:
    # 2026-03-29: Paris jumps from 02:00 (UTC+1) to 03:00 (UTC+2).
    source = ('rule m "M" {\n valid from 2026-03-29 01:00 to 2026-03-29 04:00\n'
              ' discount 10% on items\n}')
    ir_window = rules(source).rules[0].windows[0]
    assert isinstance(ir_window, engine.ir.AbsoluteWindow)
    # 01:00 at UTC+1 = 00:00 UTC; 04:00 at UTC+2 = 02:00 UTC: two real hours
    assert ir_window.start == datetime(2026, 3, 29, 0, tzinfo=UTC)
    assert ir_window.end == datetime(2026, 3, 29, 2, tzinfo=UTC)


# Sunday 2026-10-25 in Paris: 02:00-03:00 local happens twice, 00:00-01:00 UTC (UTC+2)
# then 01:00-02:00 UTC (UTC+1). A slot's 02:30 means the first: 00:30 UTC.
ENDS_IN_THE_REPEATED_HOUR = ('rule late "Nuit" {\n valid every sat 22:00-02:30\n'
                             ' discount 10% on items\n}')
STARTS_IN_THE_REPEATED_HOUR = ('rule early "Petit matin" {\n valid every sun 02:30-03:30\n'
                               ' discount 20% on items\n}')


@pytest.mark.parametrize(("at", "expected"), [
    ("2026-10-25T00:29:00Z", "10.00"),  # 02:29, first pass: before the end
    ("2026-10-25T00:30:00Z", "0.00"),  # 02:30, first pass: the end
    ("2026-10-25T01:15:00Z", "0.00"),  # 02:15 again: the wall clock went back, not time
])
def test_a_slot_ending_in_the_repeated_hour_ends_at_its_first_pass(at: str,
                                                                   expected: str) -> None:
    assert discount_at(ENDS_IN_THE_REPEATED_HOUR, at) == expected


@pytest.mark.parametrize(("at", "expected"), [
    ("2026-10-25T00:29:00Z", "0.00"),  # 02:29, first pass
    ("2026-10-25T00:30:00Z", "20.00"),  # 02:30, first pass: the start
    ("2026-10-25T01:15:00Z", "20.00"),  # 02:15 again: still live, with no gap
    ("2026-10-25T02:29:00Z", "20.00"),  # 03:29 (UTC+1)
    ("2026-10-25T02:30:00Z", "0.00"),  # 03:30: the end
])
def test_a_slot_starting_in_the_repeated_hour_runs_on_through_its_second_pass(
        at: str, expected: str) -> None:
    assert discount_at(STARTS_IN_THE_REPEATED_HOUR, at) == expected


def test_a_slot_crossing_midnight_belongs_to_the_day_it_starts() -> None:
    source = 'rule late "Nuit" {\n valid every fri 22:00-02:00\n discount 10% on items\n}'
    assert discount_at(source, "2026-11-27T23:00:00+01:00") == "10.00"  # friday night
    assert discount_at(source, "2026-11-28T01:59:00+01:00") == "10.00"  # early saturday
    assert discount_at(source, "2026-11-28T02:00:00+01:00") == "0.00"
    assert discount_at(source, "2026-11-28T23:00:00+01:00") == "0.00"  # saturday night


def test_recurring_date_bounds_are_inclusive() -> None:
    source = ('rule b "B" {\n valid every day 09:00-20:00 from 2026-12-01 to 2026-12-24\n'
              ' discount 10% on items\n}')
    assert discount_at(source, "2026-11-30T10:00:00+01:00") == "0.00"
    assert discount_at(source, "2026-12-24T19:59:00+01:00") == "10.00"
    assert discount_at(source, "2026-12-25T10:00:00+01:00") == "0.00"


@freeze_time("2026-11-23 13:10:00")
def test_a_basket_without_at_is_priced_at_the_callers_now() -> None:
    request = basket(ITEM)
    del request["at"]
    parsed = engine.parse_request(request, now=datetime.now(UTC))
    response = engine.Evaluator(rules(FLASH)).evaluate(parsed)
    assert response["at"] == "2026-11-23T13:10:00+00:00"
    assert response["discount"] == "15.00"


# America/Santiago on 2026-09-06: the clocks go from 23:59:59 on Saturday (UTC-4)
# straight to 01:00 on Sunday (UTC-3), at 04:00 UTC; Sunday has no midnight.
WHOLE_SUNDAY_IN_SANTIAGO = ('rule dia "Domingo" {\n timezone America/Santiago\n'
                            ' valid from 2026-09-06 to 2026-09-06\n discount 10% on items\n}')
WHOLE_SATURDAY_IN_SANTIAGO = ('rule sabado "Sabado" {\n timezone America/Santiago\n'
                              ' valid from 2026-09-05 to 2026-09-05\n discount 10% on items\n}')


@pytest.mark.parametrize(("at", "expected"), [
    ("2026-09-06T03:59:59Z", "0.00"),  # 23:59:59 on Saturday (UTC-4)
    ("2026-09-06T04:00:00Z", "10.00"),  # 01:00 on Sunday (UTC-3): Sunday's first instant
])
def test_a_day_whose_midnight_is_skipped_starts_when_its_clock_does(at: str,
                                                                     expected: str) -> None:
    # Given a rule for the whole of Sunday in Santiago, when a basket comes just before
    # and at the jump, then it is live from the jump (it failed to compile: no 00:00)
    assert discount_at(WHOLE_SUNDAY_IN_SANTIAGO, at) == expected


@pytest.mark.parametrize(("at", "expected"), [
    ("2026-09-06T03:59:59Z", "10.00"),  # 23:59:59 on Saturday (UTC-4)
    ("2026-09-06T04:00:00Z", "0.00"),  # 01:00 on Sunday: Saturday is over
])
def test_a_whole_day_before_a_skipped_midnight_ends_when_the_next_day_starts(
        at: str, expected: str) -> None:
    # Given a rule for the whole of the Saturday before, when a basket comes at its last
    # second and at the jump, then Saturday ends when Sunday starts
    assert discount_at(WHOLE_SATURDAY_IN_SANTIAGO, at) == expected


def test_an_end_in_the_repeated_hour_is_told_as_its_first_pass() -> None:
    # Given a New York window 01:30-01:45 on 2026-11-01, when 01:00-02:00 comes twice
    # (EDT, then EST): it means the first, 05:30-05:45 UTC
    source = ('rule nuit "Nuit" {\n timezone America/New_York\n'
              ' valid from 2026-11-01 01:30 to 2026-11-01 01:45\n discount 10% on items\n}')
    # When a basket comes at 01:40 the second time (06:40 UTC)
    response = evaluate(rules(source), basket(ITEM, at="2026-11-01T01:40:00-05:00"),
                        explain=True)
    # Then the reason says which 01:45 it ended at: "ended 01:45" alone reads as later
    assert reason(response, "nuit") == ("outside its time window: ended 2026-11-01 01:45 "
                                        "America/New_York (the first 01:45, UTC-04:00)")


def test_an_end_at_the_second_pass_of_the_repeated_hour_is_told_as_such() -> None:
    # Given a Paris window from 02:00 for 90 minutes on 2026-10-25: 00:00 to 01:30 UTC,
    # so it ends at 02:30 the second time (UTC+1)
    source = ('rule nuit "Nuit" {\n valid 2026-10-25 02:00 for 90 minutes\n'
              ' discount 10% on items\n}')
    # When a basket comes at 02:45, the second time (01:45 UTC)
    response = evaluate(rules(source), basket(ITEM, at="2026-10-25T01:45:00Z"), explain=True)
    # Then the reason names the second 02:30
    assert reason(response, "nuit") == ("outside its time window: ended 2026-10-25 02:30 "
                                        "Europe/Paris (the second 02:30, UTC+01:00)")


# Paris on 2026-03-29: 02:00 (UTC+1) jumps to 03:00 (UTC+2) at 01:00 UTC.
@pytest.mark.parametrize(("duration", "at", "expected"), [
    ("1 day", "2026-03-29T10:59:00+02:00", "10.00"),
    ("1 day", "2026-03-29T11:00:00+02:00", "0.00"),  # 24 hours after 10:00 UTC+1
    ("24 hours", "2026-03-29T11:00:00+02:00", "0.00"),
])
def test_a_day_is_24_hours_even_across_the_march_change(duration: str, at: str,
                                                        expected: str) -> None:
    # Given a window from Saturday 10:00 for a day, when the clocks go forward that night,
    # then it lasts 24 hours of elapsed time and ends at 11:00 on Sunday's clock
    source = f'rule d "D" {{\n valid 2026-03-28 10:00 for {duration}\n discount 10% on items\n}}'
    assert discount_at(source, at) == expected


@pytest.mark.parametrize(("at", "expected"), [
    ("2026-03-29T00:29:00Z", "0.00"),  # 01:29 (UTC+1)
    ("2026-03-29T00:30:00Z", "10.00"),  # 01:30 (UTC+1): the start
    ("2026-03-29T00:59:59Z", "10.00"),  # 01:59:59, then the clock reads 03:00
    ("2026-03-29T01:29:59Z", "10.00"),  # 03:29:59 (UTC+2)
    ("2026-03-29T01:30:00Z", "0.00"),  # 03:30: the end, an hour after the start
])
def test_a_slot_across_the_skipped_hour_follows_the_wall_clock(at: str, expected: str) -> None:
    # Given a Sunday slot 01:30-03:30 in Paris, when 02:00-03:00 does not exist that
    # Sunday, then the slot runs from 01:30 to 03:30 on the clock: one hour, not two
    source = 'rule s "S" {\n valid every sun 01:30-03:30\n discount 10% on items\n}'
    assert discount_at(source, at) == expected


@pytest.mark.parametrize(("at", "expected"), [
    ("2026-03-08T06:59:59Z", "0.00"),  # 01:59:59 (UTC-5), then the clock reads 03:00
    ("2026-03-08T07:00:00Z", "10.00"),  # 03:00 (UTC-4): the clock is past 02:30
    ("2026-03-08T07:59:59Z", "10.00"),
    ("2026-03-08T08:00:00Z", "0.00"),  # 04:00
])
def test_a_slot_starting_in_the_skipped_hour_starts_when_the_clock_jumps(
        at: str, expected: str) -> None:
    # Given a Sunday slot 02:30-04:00 in New York, when 2026-03-08 02:30 does not exist,
    # then the slot starts at the jump, when the clock first reads after 02:30
    source = ('rule s "S" {\n timezone America/New_York\n valid every sun 02:30-04:00\n'
              ' discount 10% on items\n}')
    assert discount_at(source, at) == expected


def test_a_slot_inside_the_skipped_hour_is_not_live_that_day() -> None:
    # Given a Sunday slot 02:00-02:45 in Paris, when that hour is skipped (2026-03-29),
    # then the slot has no instant that day, and is live a week later as usual
    source = 'rule s "S" {\n valid every sun 02:00-02:45\n discount 10% on items\n}'
    assert discount_at(source, "2026-03-29T00:59:59Z") == "0.00"  # 01:59:59 (UTC+1)
    assert discount_at(source, "2026-03-29T01:00:00Z") == "0.00"  # 03:00 (UTC+2)
    assert discount_at(source, "2026-04-05T02:15:00+02:00") == "10.00"


@pytest.mark.parametrize(("at", "expected"), [
    ("2026-11-01T01:45:00-04:00", "10.00"),  # 01:45 the first time (EDT, 05:45 UTC)
    ("2026-11-01T01:45:00-05:00", "0.00"),  # 01:45 again (EST, 06:45 UTC): over
])
def test_an_absolute_start_in_the_repeated_hour_means_its_first_pass(at: str,
                                                                     expected: str) -> None:
    # Given a New York window from 01:30 for 30 minutes on 2026-11-01, when 01:00-02:00
    # happens twice that night, then it runs once, from the first 01:30 (05:30-06:00 UTC)
    source = ('rule nuit "Nuit" {\n timezone America/New_York\n'
              ' valid 2026-11-01 01:30 for 30 minutes\n discount 10% on items\n}')
    assert discount_at(source, at) == expected


FAR_WINDOWS = {
    "absolute": "valid from 2999-06-01 10:00 to 2999-06-01 12:00",
    "weekly": "valid every sat 10:00-12:00",  # 2999-06-01 is a Saturday
}


@pytest.mark.parametrize("window", sorted(FAR_WINDOWS))
@pytest.mark.parametrize(("at", "expected"), [
    ("2999-06-01T10:00:00+02:00", "15.00"),
    ("2999-06-01T11:59:59.999999+02:00", "15.00"),  # the nearest float is 12:00:00
    ("2999-06-01T12:00:00+02:00", "0.00"),
])
def test_a_window_ends_to_the_microsecond_even_in_2999(window: str, at: str,
                                                       expected: str) -> None:
    # given a rule live 10:00-12:00 (Paris) on the first of June 2999
    source = f'rule far "Far" {{\n {FAR_WINDOWS[window]}\n discount 15% on items\n}}'

    # then a basket a microsecond before 12:00 is in it, one at 12:00 is not
    assert discount_at(source, at) == expected
