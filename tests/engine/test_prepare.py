"""Preparing an hour's index slices ahead (Evaluator.prepare).

The evaluator indexes the rules per channel and per hour; the first basket of
an hour builds that hour's slice unless ``prepare`` built it before. Every
instant here is explicit; hours are UTC hours of the epoch, whatever the
instant's offset.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

import dsl
import engine
from bench.generate import BENCH_AT, baskets, catalogue, rules_source
from engine.evaluator import MAX_CACHED_SLICES
from engine.ir import CHANNELS

SOURCE = ('currency EUR\ntimezone UTC\n'
          'rule boots "Boots -10%" { discount 10% on items where category = "boots" }\n')


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


Built = list[tuple[str, datetime, bool]]


def evaluator_telling(built: Built, source: str = SOURCE) -> engine.Evaluator:
    """An evaluator that appends (channel, hour, ahead) to ``built`` for each slice it builds."""
    return engine.Evaluator(dsl.compile_source(source, "t.rules"),
                            on_slice_built=lambda *event: built.append(event))


def basket(channel: str, at: str) -> engine.BasketRequest:
    return engine.parse_request({
        "channel": channel, "currency": "EUR", "at": at,
        "lines": [{"id": "1", "sku": "B-1", "quantity": 1, "unit_price": "80.00",
                   "category": "boots"}]})


def test_prepare_builds_the_next_hour_for_the_channels_baskets_came_from() -> None:
    # given baskets from the till and the web during the 10:00 hour
    evaluator = evaluator_telling([])
    evaluator.evaluate(basket("pos", "2026-11-24T10:15:00+00:00"))
    evaluator.evaluate(basket("web", "2026-11-24T10:40:00+00:00"))
    # when the 11:00 hour is prepared
    built = evaluator.prepare(instant("2026-11-24T11:00:00+00:00"))
    # then it built the 11:00 slice of those two channels, and only those
    assert built == 2
    assert evaluator.cached_slices() == [
        ("pos", instant("2026-11-24T10:00:00+00:00")),
        ("pos", instant("2026-11-24T11:00:00+00:00")),
        ("web", instant("2026-11-24T10:00:00+00:00")),
        ("web", instant("2026-11-24T11:00:00+00:00")),
    ]


def test_a_channel_never_seen_is_not_prepared_by_default() -> None:
    # given baskets from the till only
    evaluator = evaluator_telling([])
    evaluator.evaluate(basket("pos", "2026-11-24T10:15:00+00:00"))
    # when the next hour is prepared without naming channels
    evaluator.prepare(instant("2026-11-24T11:00:00+00:00"))
    # then the web, mobile and kiosk have no slice
    assert {channel for channel, _ in evaluator.cached_slices()} == {"pos"}


def test_an_evaluator_that_priced_nothing_prepares_nothing_by_default() -> None:
    evaluator = evaluator_telling([])
    assert evaluator.prepare(instant("2026-11-24T11:00:00+00:00")) == 0
    assert evaluator.cached_slices() == []


def test_named_channels_are_prepared_even_if_no_basket_came_from_them() -> None:
    evaluator = evaluator_telling([])
    built = evaluator.prepare(instant("2026-11-24T11:00:00+00:00"), ["kiosk", "web", "kiosk"])
    assert built == 2
    assert evaluator.cached_slices() == [("kiosk", instant("2026-11-24T11:00:00+00:00")),
                                         ("web", instant("2026-11-24T11:00:00+00:00"))]


def test_preparing_an_hour_already_cached_builds_nothing() -> None:
    evaluator = evaluator_telling([])
    evaluator.evaluate(basket("pos", "2026-11-24T10:15:00+00:00"))
    evaluator.prepare(instant("2026-11-24T11:00:00+00:00"))
    assert evaluator.prepare(instant("2026-11-24T11:00:00+00:00")) == 0


def test_prepare_takes_the_utc_hour_that_contains_the_instant_whatever_its_offset() -> None:
    # 11:30 in India (UTC+05:30) is 06:00 UTC: the slice of the 06:00 UTC hour
    evaluator = evaluator_telling([])
    evaluator.prepare(instant("2026-11-24T11:30:00+05:30"), ["pos"])
    assert evaluator.cached_slices() == [("pos", instant("2026-11-24T06:00:00+00:00"))]


def test_a_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        evaluator_telling([]).prepare(datetime(2026, 11, 24, 11), ["pos"])


def test_the_first_basket_of_a_prepared_hour_builds_nothing() -> None:
    # given the till's 11:00 slice prepared during the 10:00 hour
    built: Built = []
    evaluator = evaluator_telling(built)
    evaluator.evaluate(basket("pos", "2026-11-24T10:15:00+00:00"))
    evaluator.prepare(instant("2026-11-24T11:00:00+00:00"))
    # when the first basket of 11:00 arrives
    evaluator.evaluate(basket("pos", "2026-11-24T11:00:00+00:00"))
    # then only the 10:00 slice was built on demand, the 11:00 one ahead
    assert built == [("pos", instant("2026-11-24T10:00:00+00:00"), False),
                     ("pos", instant("2026-11-24T11:00:00+00:00"), True)]


def test_preparing_the_next_hour_never_evicts_the_hour_in_progress() -> None:
    # given a full cache whose oldest slice is the 10:00 hour's, the one baskets
    # are using (63 replays of earlier hours came after it)
    evaluator = evaluator_telling([])
    evaluator.evaluate(basket("pos", "2026-11-24T10:15:00+00:00"))
    for hours_back in range(1, MAX_CACHED_SLICES):
        replayed = instant("2026-11-20T10:15:00+00:00") - timedelta(hours=hours_back)
        evaluator.evaluate(basket("pos", replayed.isoformat()))
    assert len(evaluator.cached_slices()) == MAX_CACHED_SLICES
    # when the 11:00 hour is prepared
    evaluator.prepare(instant("2026-11-24T11:00:00+00:00"))
    # then the 10:00 slice stays; the oldest replay made room instead
    cached = evaluator.cached_slices()
    assert len(cached) == MAX_CACHED_SLICES
    assert ("pos", instant("2026-11-24T10:00:00+00:00")) in cached
    assert ("pos", instant("2026-11-24T11:00:00+00:00")) in cached
    assert ("pos", instant("2026-11-20T09:00:00+00:00")) not in cached


def test_prepare_builds_no_more_when_only_the_hour_in_progress_and_the_next_are_cached() -> None:
    # given a cache full of the 10:00 hour's slices (one per channel, as many as fit)
    channels = [f"channel-{n:02d}" for n in range(MAX_CACHED_SLICES)]
    evaluator = evaluator_telling([])
    evaluator.prepare(instant("2026-11-24T10:00:00+00:00"), channels)
    # when the 11:00 hour is prepared for the same channels
    built = evaluator.prepare(instant("2026-11-24T11:00:00+00:00"), channels)
    # then nothing is built: every slice cached is of the hour in progress
    assert built == 0
    assert {hour for _, hour in evaluator.cached_slices()} == {
        instant("2026-11-24T10:00:00+00:00")}


# --- the same answers ------------------------------------------------------------------


def flash_rules() -> str:
    """Rules live during only part of the benchmark's hour (14:00 UTC), so the slice
    checks their windows per basket: the generated ones span whole hours."""
    popular = catalogue().categories[0]
    return (f'rule flash "Flash -40%" {{\n valid 2026-11-24 15:20 for 30 minutes\n'
            f' discount 40% on items where category = "{popular}"\n}}\n'
            f'rule early "Early -3 EUR" {{\n valid 2026-11-24 14:00 for 70 minutes\n'
            f' discount 3.00 EUR on basket\n stacking stackable\n}}\n')


def priced(evaluator: engine.Evaluator, requests: list[dict[str, Any]]) -> list[str]:
    """Each basket's response, without and with explain, as canonical JSON."""
    answers = []
    for request in requests:
        parsed = engine.parse_request(request)
        answers.append(engine.dumps(evaluator.evaluate(parsed)))
        answers.append(engine.dumps(evaluator.evaluate(parsed, explain=True)))
    return answers


def test_answers_after_prepare_are_the_bytes_of_a_fresh_evaluator() -> None:
    # given 2,000 generated rules plus two partly live in the 14:00 UTC hour, and
    # baskets from every channel at its start, middle and last second
    source = rules_source(2_000) + flash_rules()
    ruleset = dsl.compile_source(source, "bench.rules", publish_at=BENCH_AT)
    requests = [{**request, "at": at}
                for request in baskets(40)
                for at in ("2026-11-24T14:00:00+00:00", "2026-11-24T14:35:00+00:00",
                           "2026-11-24T14:59:59+00:00")]
    built: Built = []
    prepared = engine.Evaluator(ruleset, on_slice_built=lambda *event: built.append(event))
    prepared.prepare(instant("2026-11-24T14:00:00+00:00"), CHANNELS)
    # when both price them, one on the prepared slices, the other building its own
    answers = priced(prepared, requests)
    fresh = priced(engine.Evaluator(ruleset), requests)
    # then every answer is the same, byte for byte, and none needed a slice built
    assert answers == fresh
    assert [ahead for _, _, ahead in built] == [True] * len(CHANNELS)
