"""Pricing a basket, or building an hour's index slice, leaves no reference cycle behind.

Whatever a basket allocates must be freed by reference counting when its answer
is written: a cycle per basket would keep the basket alive until the cyclic
collector came by, and make that collector run longer and more often on a busy
server. The compiled build once made one in every basket, and one per ranked
key in every slice (a closure and its environment referring to each other),
which the pure-Python build did not: CI runs these tests against both builds.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

import dsl
import engine
from bench.generate import BENCH_AT, baskets, catalogue, rules_source


@pytest.fixture
def generated() -> tuple[engine.Evaluator, list[engine.BasketRequest]]:
    cat = catalogue()
    evaluator = engine.Evaluator(dsl.compile_source(rules_source(1000, cat=cat), "gen.rules",
                                                    publish_at=BENCH_AT))
    return evaluator, [engine.parse_request(data) for data in baskets(40, cat=cat)]


@pytest.fixture
def collector_paused() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def test_pricing_baskets_leaves_no_reference_cycle(
        generated: tuple[engine.Evaluator, list[engine.BasketRequest]],
        collector_paused: None) -> None:
    # Given a generated rule set and baskets with coupons, audiences and every effect
    evaluator, requests = generated
    for request in requests:  # each channel's index slice for the hour: built once, kept
        evaluator.evaluate(request)
    gc.collect()
    # When they are priced every way, as data, as text and explained
    for request in requests:
        evaluator.evaluate(request)
        evaluator.evaluate_json(request)
        evaluator.evaluate(request, explain=True)
    # Then the cyclic collector finds nothing to free
    assert gc.collect() == 0


def test_building_index_slices_leaves_no_reference_cycle(
        generated: tuple[engine.Evaluator, list[engine.BasketRequest]],
        collector_paused: None) -> None:
    # Given a generated rule set (percent rules ranked under shared keys among them)
    evaluator, requests = generated
    # When the slices of every channel its baskets come from are built for their hour
    built = evaluator.prepare(requests[0].at, {request.channel for request in requests})
    # Then they were built and the cyclic collector finds nothing to free
    assert built == 4
    assert gc.collect() == 0
