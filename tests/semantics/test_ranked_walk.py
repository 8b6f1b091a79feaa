"""The ranked walk: unless a basket asks to explain, the keyed `best` rules and
price rules are priced by walking them in rank order and stopping early.

Every answer must be the one the full comparison gives (explain on takes the
full path), coupon report included: the worked examples below aim
at the places where stopping early could go wrong, and the properties
compare both paths over generated rule sets and the benchmark's generator.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pricing import adjustments, basket, by_id, evaluate, line, rules

import dsl
import engine
from bench.generate import BENCH_AT, RULE_SKEW, baskets, catalogue, rules_source
from engine import ir

PAN = line("1", "PAN-01", "10.00", category="kitchen", brand="Tefal")
CHEAP_PAN = line("1", "PAN-02", "0.50", category="kitchen", brand="Tefal")


def without_explain(response: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in response.items() if key != "explain"}


def both_paths(evaluator: engine.Evaluator, request: dict[str, Any]) -> tuple[str, str]:
    """The response of the walk (no explain) and of the full comparison (explain)."""
    parsed = engine.parse_request(request)
    walked = engine.dumps(evaluator.evaluate(parsed))
    full = engine.dumps(without_explain(evaluator.evaluate(parsed, explain=True)))
    return walked, full


def test_the_larger_percentage_for_another_audience_lets_the_next_one_win() -> None:
    given = rules(
        'rule card "Cardholders" {\n audience cardholder\n'
        ' discount 30% on items where category = "kitchen"\n}\n'
        'rule all "Everyone" { discount 20% on items where category = "kitchen" }\n'
        'rule little "Little" { discount 5% on items where brand = "Tefal" }')
    response = evaluate(given, basket(PAN))
    # 30% is for cardholders only; of the rest, 20% of 10.00 = 2.00 beats 5% = 0.50
    assert adjustments(response, "1") == [("all", "2.00")]


def test_percentages_that_round_to_the_same_amount_go_to_the_higher_priority() -> None:
    given = rules(
        'rule more "10.4%" { discount 10.4% on items where category = "kitchen" }\n'
        'rule less "10%" {\n discount 10% on items where category = "kitchen"\n priority 2\n}')
    response = evaluate(given, basket(CHEAP_PAN))
    # 0.50 x 10.4% = 0.052 -> 0.05 and 0.50 x 10% = 0.05: a tie the larger
    # percentage does not win, the higher priority does
    assert adjustments(response, "1") == [("less", "0.05")]


def test_an_amount_off_each_unit_beats_a_percentage_when_it_gives_more() -> None:
    given = rules(
        'rule pct "20%" { discount 20% on items where category = "kitchen" }\n'
        'rule three "3 off" { discount 3.00 EUR each on items where brand = "Tefal" }')
    cheap = evaluate(given, basket(PAN))
    dear = evaluate(given, basket(line("1", "PAN-03", "20.00", category="kitchen",
                                        brand="Tefal")))
    # 10.00: 3.00 off beats 20% = 2.00; 20.00: 20% = 4.00 beats 3.00 off
    assert adjustments(cheap, "1") == [("three", "3.00")]
    assert adjustments(dear, "1") == [("pct", "4.00")]


def test_a_rule_found_under_two_of_the_line_keys_applies_once() -> None:
    given = rules('rule pan "Pans" {\n discount 10% on items where'
                  ' sku = "PAN-01" or category = "kitchen"\n}')
    response = evaluate(given, basket(PAN))
    assert adjustments(response, "1") == [("pan", "1.00")]
    assert response["discount"] == "1.00"


def test_a_larger_percentage_held_back_by_a_condition_gives_way() -> None:
    given = rules(
        'rule big "Big baskets" {\n discount 25% on items where category = "kitchen"\n'
        ' when subtotal >= 50.00 EUR\n}\n'
        'rule small "Everyone" { discount 10% on items where category = "kitchen" }')
    small = evaluate(given, basket(PAN))
    big = evaluate(given, basket({**PAN, "quantity": 5}))
    # 1 x 10.00 is under 50.00: 10%; 5 x 10.00 = 50.00 reaches it: 25% of 50.00
    assert adjustments(small, "1") == [("small", "1.00")]
    assert adjustments(big, "1") == [("big", "12.50")]


def test_the_first_price_rule_in_rank_that_applies_sets_the_price() -> None:
    given = rules(
        'price staff "Staff" {\n audience segment "employees"\n'
        ' price 6.00 EUR on items where category = "kitchen"\n priority 9\n}\n'
        'price sku "Pan" {\n price 8.00 EUR on items where sku = "PAN-01"\n priority 1\n}\n'
        'price brand "Tefal" { price 7.00 EUR on items where brand = "Tefal" }')
    response = evaluate(given, basket(PAN))
    # staff is not for this customer; then priority 1 (8.00) beats priority 0 (7.00)
    assert by_id(response)["1"]["unit_price"] == "8.00"
    assert by_id(response)["1"]["price_rule"]["rule"] == "sku"


def test_a_price_rule_of_another_key_can_outrank_the_first_one_found() -> None:
    given = rules(
        'price sku "Pan" { price 8.00 EUR on items where sku = "PAN-01" }\n'
        'price brand "Tefal" {\n price 7.00 EUR on items where brand = "Tefal"\n'
        ' priority 3\n}')
    response = evaluate(given, basket(PAN))
    assert by_id(response)["1"]["price_rule"]["rule"] == "brand"
    assert by_id(response)["1"]["unit_price"] == "7.00"


def test_a_coupon_that_loses_to_a_walked_rule_is_told_why() -> None:
    given = rules(
        'rule twenty "20%" { discount 20% on items where category = "kitchen" }\n'
        'rule save "SAVE" {\n coupon "SAVE"\n discount 10% on items where sku = "PAN-01"\n}')
    response = evaluate(given, basket(PAN, coupons=["SAVE"]))
    # 20% (2.00) beats the coupon's 10% (1.00); the cashier reads why
    assert adjustments(response, "1") == [("twenty", "2.00")]
    assert response["coupons"] == [{"code": "SAVE", "status": "rejected",
                                    "reason": "a better discount applied on line 1: twenty"}]


# --- both paths agree -----------------------------------------------------------------

AT = datetime(2026, 11, 23, 13, 10, tzinfo=UTC)
SKUS = ("A", "B", "C")
CATEGORIES = ("socks", "boots")
# Few distinct values, so that ties (equal percentages, amounts that round
# alike, equal priorities) are common.
percents = st.sampled_from([Decimal("10"), Decimal("10.4"), Decimal("15"), Decimal("50")])
amounts = st.sampled_from([Decimal("0.05"), Decimal("1.00"), Decimal("3.00")])
keyed_items = st.one_of(
    st.builds(ir.ItemFieldIn, field=st.sampled_from(["sku", "category"]),
              values=st.sampled_from([("A",), ("B", "C"), ("socks",), ("boots",)])),
    st.builds(ir.ItemOr, args=st.just((ir.ItemFieldIn(field="sku", values=("A",)),
                                       ir.ItemFieldIn(field="category", values=("socks",))))),
    st.builds(ir.ItemAnd, args=st.tuples(
        st.builds(ir.ItemFieldIn, field=st.just("category"), values=st.just(("socks",))),
        st.builds(ir.ItemPriceCompare, op=st.sampled_from([">=", "<"]),
                  amount=st.just(Decimal("5.00"))))),
)
effects = st.one_of(
    st.builds(ir.PercentOff, percent=percents, target=st.just("items"), items=keyed_items),
    st.builds(ir.AmountOffEach, amount=amounts, items=keyed_items),
    st.builds(ir.PriceOverride, amount=amounts, items=keyed_items),
    st.builds(ir.BuyPay, buy=st.just(3), pay=st.just(2), items=keyed_items),
)
audiences = st.one_of(st.none(), st.just(ir.AudienceFlag(flag="cardholder")))
windows = st.sampled_from([(), (ir.AbsoluteWindow(
    start=AT + timedelta(hours=1), end=AT + timedelta(hours=2), timezone="Europe/Paris"),)])
conditions = st.sampled_from([(), (ir.SubtotalCondition(op=">=", amount=Decimal("30")),)])
coupons = st.sampled_from([(), (), ("SAVE",)])


@st.composite
def tie_prone_rulesets(draw: st.DrawFn) -> ir.RuleSet:
    count = draw(st.integers(min_value=1, max_value=10))
    rules_ = tuple(
        ir.Rule(id=f"r{index}", title=f"Rule {index}", effect=draw(effects),
                stacking=draw(st.sampled_from(["best", "best", "best", "exclusive",
                                               "stackable"])),
                priority=draw(st.integers(0, 2)), audience=draw(audiences),
                windows=draw(windows), conditions=draw(conditions),
                revision=draw(st.integers(1, 3)), coupons=draw(coupons))
        for index in range(count))
    return ir.RuleSet(currency="EUR", timezone="Europe/Paris", rules=rules_)


@st.composite
def tie_prone_baskets(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.integers(min_value=1, max_value=5))
    lines = [
        {"id": f"l{index}", "sku": draw(st.sampled_from(SKUS)),
         "quantity": draw(st.integers(1, 4)),
         "unit_price": draw(st.sampled_from(["0.50", "0.49", "4.99", "10.00", "12.34"])),
         "category": draw(st.sampled_from(CATEGORIES))}
        for index in range(count)
    ]
    customer = draw(st.sampled_from([None, {"id": "c1", "cardholder": True}]))
    codes = draw(st.sampled_from([[], ["SAVE"], ["SAVE", "NOPE"]]))
    return {"channel": "pos", "currency": "EUR", "at": AT.isoformat(), "lines": lines,
            "coupons": codes, **({"customer": customer} if customer else {})}


@settings(max_examples=400, deadline=None)
@given(ruleset=tie_prone_rulesets(), request=tie_prone_baskets())
def test_the_walk_and_the_full_comparison_give_the_same_bytes(
        ruleset: ir.RuleSet, request: dict[str, Any]) -> None:
    walked, full = both_paths(engine.Evaluator(ruleset), request)
    assert walked == full


def test_the_walk_agrees_with_the_full_comparison_on_the_benchmark_mix() -> None:
    # Given 1,500 rules of the benchmark's realistic mix (audiences, stores,
    # channels, windows, coupons, every effect) and 150 of its baskets (a
    # tenth bring a coupon code)
    cat = catalogue()
    ruleset = dsl.compile_source(rules_source(1_500, cat=cat, skew=RULE_SKEW), "bench.rules",
                                 publish_at=BENCH_AT)
    evaluator = engine.Evaluator(ruleset)
    for request in baskets(150, cat=cat):
        # When priced without reasons (the walk) and with them (the full comparison)
        walked, full = both_paths(evaluator, request)
        # Then the answers are the same bytes
        assert walked == full
