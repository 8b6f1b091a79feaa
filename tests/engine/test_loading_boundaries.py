"""engine/loading.py: what reading rules leaves behind, and how a refusal reads
(mutation review)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from decimal import Decimal

import pytest

import engine
from engine.ir import PercentOff, Rule, RuleSet


def version(*ids: str) -> str:
    return RuleSet(currency="EUR", timezone="Europe/Paris", rules=tuple(
        Rule(id=rule_id, title="T", effect=PercentOff(percent=Decimal(10), target="items"))
        for rule_id in ids)).to_json()


@pytest.fixture
def gc_disabled() -> Iterator[None]:
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def test_reading_rules_leaves_the_garbage_collector_on() -> None:
    # Given the collector on, as it is in a server, when rules are read both ways
    engine.load_ruleset(version("a"))
    engine.RuleSetReader().read(version("a"))

    # Then it is still on: a server left without it would grow on every cycle it makes
    assert gc.isenabled()


@pytest.mark.usefixtures("gc_disabled")
def test_reading_rules_leaves_the_garbage_collector_as_the_caller_had_it() -> None:
    engine.load_ruleset(version("a"))

    assert not gc.isenabled()


def test_a_later_version_with_a_bad_header_is_refused_as_a_first_one_is() -> None:
    # Given a reader that has read version 1, when version 2 has the same rules but a
    # schema it does not know, then it is refused, not read as version 1's kind
    reader = engine.RuleSetReader()
    reader.read(version("a", "b"))
    later = version("a", "b").replace('"remise.ir/1"', '"remise.ir/2"')

    with pytest.raises(engine.IRError) as refused:
        reader.read(later)

    assert str(refused.value) == ("not a valid remise.ir/1 rule set: schema: "
                                  "Input should be 'remise.ir/1'")


def test_text_that_is_not_a_json_object_is_refused_at_the_top_level() -> None:
    with pytest.raises(engine.IRError) as refused:
        engine.load_ruleset("[]")

    assert str(refused.value) == ("not a valid remise.ir/1 rule set: (top level): "
                                  "Input should be an object")


def test_one_mistake_is_told_without_counting_others() -> None:
    with pytest.raises(engine.IRError) as refused:
        engine.load_ruleset(version("a").replace('"title":"T"', '"title":7'))

    assert str(refused.value) == ("not a valid remise.ir/1 rule set: rules.0.title: "
                                  "Input should be a valid string")

