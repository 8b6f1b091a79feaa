"""Which index keys a rule is found under, and when those keys alone decide its items.

The evaluator looks rules up by the SKU, category and brand of each line; a
rule whose keys decide its items is applied to the lines it was found under
without running its predicate (engine/predicates.py).
"""

from __future__ import annotations

import pytest

from dsl import compile_source
from engine import Evaluator, parse_request
from engine.compiled import compile_rule
from engine.ir import ItemPredicate, PercentOff
from engine.predicates import index_keys, keys_decide


def predicate(where: str) -> ItemPredicate:
    source = f'currency EUR\ntimezone UTC\nrule r "R" {{ discount 10% on items where {where} }}\n'
    effect = compile_source(source, "t.rules").rules[0].effect
    assert isinstance(effect, PercentOff) and effect.items is not None
    return effect.items


@pytest.mark.parametrize(("where", "keys", "decide"), [
    ('sku in ("A", "B")', {("sku", "A"), ("sku", "B")}, True),
    ('brand = "Aigle" or category = "boots"', {("brand", "Aigle"), ("category", "boots")}, True),
    ('brand = "Aigle" and price >= 20.00 EUR', {("brand", "Aigle")}, False),
    ('category = "boots" and not brand = "Aigle"', {("category", "boots")}, False),
    ('brand = "Aigle" or (category = "boots" and price < 50.00 EUR)',
     {("brand", "Aigle"), ("category", "boots")}, False),
    ('attribute "clearance" = "yes"', None, False),
    ('price >= 20.00 EUR or sku = "A"', None, False),
])
def test_keys_and_whether_they_decide_the_items(
        where: str, keys: set[tuple[str, str]] | None, decide: bool) -> None:
    given = predicate(where)
    assert index_keys(given) == (frozenset(keys) if keys is not None else None)
    assert keys_decide(given) is decide


def test_an_unkeyed_rule_is_never_decided_by_keys() -> None:
    source = 'currency EUR\ntimezone UTC\nrule r "R" { discount 10% on items }\n'
    rule = compile_rule(compile_source(source, "t.rules").rules[0], "EUR")
    assert rule.keys is None and rule.exact is False


def test_open_rules_have_no_store_audience_or_coupon() -> None:
    source = ('currency EUR\ntimezone UTC\n'
              'rule a "A" { discount 10% on items where sku = "A" }\n'
              'rule b "B" {\n audience cardholder\n discount 10% on items where sku = "A"\n}\n'
              'rule c "C" {\n stores "s1"\n discount 10% on items where sku = "A"\n}\n'
              'rule d "D" {\n coupon "X"\n discount 10% on items where sku = "A"\n}\n')
    compiled = {r.id: compile_rule(r, "EUR") for r in compile_source(source, "t.rules").rules}
    assert {rule_id: rule.open for rule_id, rule in compiled.items()} == {
        "a": True, "b": False, "c": False, "d": False}


def test_a_line_is_found_only_under_the_fields_it_has() -> None:
    # given rules on a category and a brand literally named "None", and one on SKU "A"
    source = ('currency EUR\ntimezone UTC\n'
              'rule cat "Cat" { discount 10% on items where category = "None" }\n'
              'rule brand "Brand" { discount 20% on items where brand = "None" }\n'
              'rule sku "Sku" {\n discount 1.00 EUR each on items where sku = "A"\n'
              ' stacking stackable\n}\n')
    evaluator = Evaluator(compile_source(source, "t.rules"))
    # when one line has neither category nor brand and another has both named "None"
    response = evaluator.evaluate(parse_request({
        "channel": "web", "currency": "EUR", "at": "2026-11-24T10:00:00+00:00",
        "lines": [{"id": "1", "sku": "A", "quantity": 1, "unit_price": "10.00"},
                  {"id": "2", "sku": "B", "quantity": 1, "unit_price": "10.00",
                   "category": "None", "brand": "None"}]}))
    # then the first is found under its SKU only, the second under its category and brand
    adjustments = {line["id"]: [(a["rule"], a["amount"]) for a in line["adjustments"]]
                   for line in response["lines"]}
    assert adjustments == {"1": [("sku", "1.00")], "2": [("brand", "2.00")]}


@pytest.mark.parametrize(("effect", "expected"), [
    ('discount 10% on items where sku = "A" or category = "boots"\n stacking stackable',
     "2.00"),  # 10% of 20.00, once
    ('buy 2 pay 1 on items where sku = "A" or category = "boots"', "10.00"),  # one unit free
])
def test_a_rule_found_under_two_keys_of_a_line_applies_once(effect: str, expected: str
                                                            ) -> None:
    # given a rule indexed under a SKU and a category, both of the same line
    source = f'currency EUR\ntimezone UTC\nrule both "Both" {{\n {effect}\n}}\n'
    evaluator = Evaluator(compile_source(source, "t.rules"))
    # when that line, two units of 10.00, is priced
    response = evaluator.evaluate(parse_request({
        "channel": "web", "currency": "EUR", "at": "2026-11-24T10:00:00+00:00",
        "lines": [{"id": "1", "sku": "A", "quantity": 2, "unit_price": "10.00",
                   "category": "boots"}]}))
    # then the rule gives its discount once
    assert [(a["rule"], a["amount"]) for a in response["lines"][0]["adjustments"]] == [
        ("both", expected)]
