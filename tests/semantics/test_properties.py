"""Invariants over generated rule sets and baskets (hypothesis).

Whatever the rules: totals are never negative, line adjustments add up to
the line discount and the line discounts to the basket discount, subtotal -
discount = total, each basket discount is shared in proportion to the line
totals (largest remainder), the order of lines changes nothing, nor does listing each
unit on its own line for rules that count whole units, evaluating twice gives the same
bytes, and the IR survives a JSON round trip unchanged in effect.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from generated_rules import amounts, basket_lines, cents, item_predicates
from generated_rules import effects as rule_effects
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine import ir

SKUS = ("A", "B", "C", "D")
CATEGORIES = ("socks", "boots", "rainwear")
AT = datetime(2026, 11, 23, 13, 10, tzinfo=UTC)

money = amounts(20_000)
items = item_predicates(SKUS, CATEGORIES, money)
effects = rule_effects(
    items, money,
    buy_pay=st.integers(2, 4).flatmap(lambda n: st.builds(
        ir.BuyPay, buy=st.just(n), pay=st.integers(1, n - 1), items=items)),
    tiers=(ir.Tier(threshold=Decimal("50"), percent=Decimal("5")),
           ir.Tier(threshold=Decimal("100"), amount=Decimal("20.00"))))
windows = st.one_of(st.just(()), st.just((ir.AbsoluteWindow(
    start=AT - timedelta(hours=1), end=AT + timedelta(hours=1), timezone="Europe/Paris"),)),
    st.just((ir.AbsoluteWindow(start=AT + timedelta(hours=1), end=AT + timedelta(hours=2),
                               timezone="Europe/Paris"),)))


@st.composite
def rulesets(draw: st.DrawFn) -> ir.RuleSet:
    count = draw(st.integers(min_value=1, max_value=8))
    rules = [
        ir.Rule(
            id=f"r{index}", title=f"Rule {index}", effect=draw(effects),
            stacking=draw(st.sampled_from(["exclusive", "best", "best", "stackable"])),
            priority=draw(st.integers(0, 3)), windows=draw(windows),
            conditions=draw(st.one_of(st.just(()), st.just((ir.SubtotalCondition(
                op=">=", amount=Decimal("30")),)))),
        )
        for index in range(count)
    ]
    return ir.RuleSet(currency="EUR", timezone="Europe/Paris", rules=tuple(rules))


@st.composite
def baskets(draw: st.DrawFn) -> dict[str, Any]:
    lines = draw(basket_lines(SKUS, CATEGORIES, money, most_lines=6,
                              most_units=7))
    return {"channel": "pos", "currency": "EUR", "at": AT.isoformat(), "lines": lines}


def price(ruleset: ir.RuleSet, request: dict[str, Any]) -> dict[str, Any]:
    return engine.Evaluator(ruleset).evaluate(engine.parse_request(request))


@settings(max_examples=200, deadline=None)
@given(ruleset=rulesets(), request=baskets())
def test_amounts_add_up_and_never_go_negative(ruleset: ir.RuleSet, request: dict[str, Any]
                                              ) -> None:
    response = price(ruleset, request)
    for item in response["lines"]:
        assert cents(item["subtotal"]) == cents(item["unit_price"]) * item["quantity"]
        assert cents(item["total"]) >= 0
        assert 0 <= cents(item["discount"]) <= cents(item["subtotal"])
        assert sum(cents(a["amount"]) for a in item["adjustments"]) == cents(item["discount"])
        assert cents(item["subtotal"]) - cents(item["discount"]) == cents(item["total"])
    assert sum(cents(i["subtotal"]) for i in response["lines"]) == cents(response["subtotal"])
    assert sum(cents(i["discount"]) for i in response["lines"]) == cents(response["discount"])
    assert sum(cents(a["amount"]) for a in response["applied"]) == cents(response["discount"])
    assert cents(response["subtotal"]) - cents(response["discount"]) == cents(response["total"])
    assert response["points"]["total"] == sum(p["points"] for p in response["points"]["by_rule"])
    assert all(p["points"] > 0 for p in response["points"]["by_rule"])


@settings(max_examples=200, deadline=None)
@given(ruleset=rulesets(), request=baskets(), seed=st.integers(0, 2**16))
def test_the_order_of_lines_changes_nothing(ruleset: ir.RuleSet, request: dict[str, Any],
                                            seed: int) -> None:
    shuffled = json.loads(json.dumps(request))
    random.Random(seed).shuffle(shuffled["lines"])
    evaluator = engine.Evaluator(ruleset)
    first, second = (evaluator.evaluate(engine.parse_request(r), explain=True)
                     for r in (request, shuffled))
    for response in (first, second):
        response["lines"].sort(key=lambda item: item["id"])
    assert engine.dumps(first) == engine.dumps(second)


@settings(max_examples=100, deadline=None)
@given(ruleset=rulesets(), request=baskets())
def test_evaluating_twice_gives_the_same_bytes(ruleset: ir.RuleSet, request: dict[str, Any]
                                               ) -> None:
    evaluator = engine.Evaluator(ruleset)
    parsed = engine.parse_request(request)
    first = engine.dumps(evaluator.evaluate(parsed, explain=True))
    assert engine.dumps(evaluator.evaluate(parsed, explain=True)) == first


@settings(max_examples=100, deadline=None)
@given(ruleset=rulesets(), request=baskets())
def test_the_ir_json_round_trip_gives_the_same_answer(ruleset: ir.RuleSet,
                                                      request: dict[str, Any]) -> None:
    reloaded = engine.load_ruleset(ruleset.to_json())
    assert reloaded.to_json() == ruleset.to_json()
    assert engine.dumps(price(reloaded, request)) == engine.dumps(price(ruleset, request))


def _is_basket_rule(rule: ir.Rule) -> bool:
    effect = rule.effect
    return isinstance(effect, ir.AmountOffBasket | ir.TieredBasket) or (
        isinstance(effect, ir.PercentOff) and effect.target == "basket")


@settings(max_examples=200, deadline=None)
@given(ruleset=rulesets(), request=baskets())
def test_each_basket_discount_is_shared_in_proportion_to_the_line_totals(
        ruleset: ir.RuleSet, request: dict[str, Any]) -> None:
    # Largest remainder (§5): a line's share of a basket discount is its exact share of
    # the amount, by its total at that point, rounded down or up by less than a cent.
    response = price(ruleset, request)
    basket_rules = {rule.id for rule in ruleset.rules if _is_basket_rule(rule)}
    lines = response["lines"]
    # each line's total before the basket discounts: its subtotal less its line discounts
    totals = [cents(item["subtotal"]) - sum(cents(a["amount"]) for a in item["adjustments"]
                                            if a["rule"] not in basket_rules)
              for item in lines]
    # the basket rules in the order they were applied (as each line lists them)
    applied = list(dict.fromkeys(a["rule"] for item in lines for a in item["adjustments"]
                                 if a["rule"] in basket_rules))
    for rule_id in applied:
        shares = [sum(cents(a["amount"]) for a in item["adjustments"] if a["rule"] == rule_id)
                  for item in lines]
        amount, weight = sum(shares), sum(totals)
        for share, total in zip(shares, totals, strict=True):
            # |share - amount x total / weight| < 1, in whole cents
            assert abs(share * weight - amount * total) < weight
        totals = [total - share for total, share in zip(totals, shares, strict=True)]


# Rules whose discounts count whole units (no percentage to round per line, no bundle
# share, no exclusive multi-unit rule holding a line): the same goods must cost the same
# whether a till lists each unit on its own line or the web sends one line of N.
unit_effects = st.one_of(
    st.tuples(st.integers(2, 4).flatmap(lambda n: st.builds(
        ir.BuyPay, buy=st.just(n), pay=st.integers(1, n - 1), items=items)),
        st.sampled_from(["best", "stackable"])),
    st.tuples(st.builds(ir.AmountOffEach, amount=money, items=items),
              st.sampled_from(["exclusive", "best", "stackable"])),
    st.tuples(st.builds(ir.AmountOffBasket, amount=money),
              st.sampled_from(["exclusive", "best", "stackable"])))


@st.composite
def unit_rulesets(draw: st.DrawFn) -> ir.RuleSet:
    drawn = draw(st.lists(unit_effects, min_size=1, max_size=5))
    return ir.RuleSet(currency="EUR", timezone="Europe/Paris", rules=tuple(
        ir.Rule(id=f"r{index}", title=f"Rule {index}", effect=effect, stacking=stacking,
                priority=draw(st.integers(0, 2)))
        for index, (effect, stacking) in enumerate(drawn)))


@settings(max_examples=200, deadline=None)
@given(ruleset=unit_rulesets(), request=baskets())
def test_listing_each_unit_on_its_own_line_changes_no_amount_of_unit_rules(
        ruleset: ir.RuleSet, request: dict[str, Any]) -> None:
    one_per_unit = {**request, "lines": [
        {**item, "id": f"{item['id']}-{unit}", "quantity": 1}
        for item in request["lines"] for unit in range(item["quantity"])]}
    whole, split = price(ruleset, request), price(ruleset, one_per_unit)
    assert (split["subtotal"], split["discount"]) == (whole["subtotal"], whole["discount"])
    assert split["applied"] == whole["applied"]
