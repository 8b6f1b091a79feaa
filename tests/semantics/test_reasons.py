"""Why a rule gave nothing: the reason a cashier reads must be true (review 2026-11-29)."""

from __future__ import annotations

import pytest
from pricing import basket, evaluate, line, reason, rules


def test_a_coupon_held_back_by_an_exclusive_rule_says_so() -> None:
    # Given an exclusive outlet discount and a stackable coupon on the same line
    given = rules(
        'rule outlet "Outlet" {\n discount 30% on items where category = "outlet"\n'
        ' stacking exclusive\n}\n'
        'rule extra5 "EXTRA5" {\n coupon "EXTRA5"\n discount 5% on items\n stacking stackable\n}')

    # When the coupon comes with an outlet item
    response = evaluate(given, basket(line("1", "JKT", "100.00", category="outlet"),
                                       coupons=["EXTRA5"]))

    # Then the outlet rule applies alone (70.00 left), and the coupon is told why
    assert response["total"] == "70.00"
    assert response["coupons"] == [{"code": "EXTRA5", "status": "rejected", "reason":
                                    "line 1 already has a discount that takes no other: outlet"}]


PRICES = ('price p_hi "A at 10" {\n price 10.00 EUR on items where sku = "A"\n priority 5\n}\n'
          'price p_lo "A at 12" { price 12.00 EUR on items where sku = "A" }\n'
          'price p_dear "Dear at 15" { price 15.00 EUR on items where price >= 20.00 EUR }')


def test_a_price_rule_that_lost_names_the_one_that_set_the_price() -> None:
    response = evaluate(rules(PRICES), basket(line("1", "A", "25.00")), explain=True)

    assert reason(response, "p_lo") == "another price rule set the price of line 1: p_hi"


def test_a_price_rules_items_are_read_at_the_price_sent_when_explaining() -> None:
    # p_dear matched A at 25.00 as sent; the price it lost to is 10.00
    response = evaluate(rules(PRICES), basket(line("1", "A", "25.00")), explain=True)

    assert reason(response, "p_dear") == "another price rule set the price of line 1: p_hi"


def test_a_multi_unit_rule_short_of_units_another_counted_says_so() -> None:
    # Given 3-for-2 (priority 1) and a 2-for-5.00 bundle on 4 units
    given = rules('rule m1 "3 = 2" {\n buy 3 pay 2 on items\n priority 1\n}\n'
                  'rule m2 "2 for 5" { bundle 2 for 5.00 EUR on items }')

    # When the basket is explained
    response = evaluate(given, basket(line("1", "A", "4.00", quantity=4)), explain=True)

    # Then m1 counts 3 units (4.00 off), and m2 is told the 4th is all that is left
    assert response["discount"] == "4.00"
    assert reason(response, "m2") == ("needs 2 units, basket has 1 not already counted by "
                                      "another multi-unit rule")


def test_a_multi_unit_coupon_whose_units_another_counted_all_of_says_so() -> None:
    # Given a 2-for-25.00 bundle (priority 10) and a buy-2-pay-1 coupon on the same items
    given = rules('rule gift "2 for 25" {\n bundle 2 for 25.00 EUR on items\n priority 10\n}\n'
                  'rule candles "2 = 1" {\n coupon "CANDLE2"\n buy 2 pay 1 on items\n}')

    # When 2 candles at 14.00 come with the coupon
    response = evaluate(given, basket(line("1", "CANDLE", "14.00", quantity=2),
                                      coupons=["CANDLE2"]))

    # Then the bundle counts both (3.00 off), and the cashier reads why the coupon did
    # not apply: not "nothing left to discount" on a line with 25.00 left
    assert response["total"] == "25.00"
    assert response["coupons"] == [{"code": "CANDLE2", "status": "rejected", "reason":
                                    "needs 2 units, basket has 0 not already counted by "
                                    "another multi-unit rule"}]


def test_a_code_shared_by_rules_is_rejected_with_the_reason_of_the_one_that_got_furthest(
) -> None:
    # Given SPRING for a web-only rule and for a store rule from 50.00
    given = rules(
        'rule a_spring_web "SPRING web" {\n coupon "SPRING"\n channels web\n'
        ' discount 10% on basket\n}\n'
        'rule b_spring_store "SPRING store" {\n coupon "SPRING"\n channels pos\n'
        ' when subtotal >= 50.00 EUR\n discount 5.00 EUR on basket\n}')

    # When a till sends it with 42.10
    response = evaluate(given, basket(line("1", "A", "42.10"), channel="pos",
                                      coupons=["SPRING"]))

    # Then the till reads what the store rule needs, not that the web rule is for the web
    assert response["coupons"] == [{"code": "SPRING", "status": "rejected", "reason":
                                    "needs subtotal >= 50.00 EUR, basket is 42.10 EUR"}]


def test_a_price_rule_s_quantity_condition_is_explained_at_the_prices_sent() -> None:
    # Given a price rule raising A to 25.00, and one setting B to 18.00 when 2 units
    # are at 20.00 or more (a price rule reads the basket at the prices sent, §4)
    given = rules(
        'price up "A at 25" { price 25.00 EUR on items where sku = "A" }\n'
        'price b18 "B at 18" {\n when quantity of items where price >= 20.00 EUR >= 2\n'
        ' price 18.00 EUR on items where sku = "B"\n}')

    # When A is sent at 15.00 and B at 25.00
    response = evaluate(given, basket(line("1", "A", "15.00"), line("2", "B", "25.00")),
                        explain=True)

    # Then only B was at 20.00 or more as sent: b18 sets nothing (25.00 + 25.00 = 50.00),
    # and says so, not "nothing left to discount" (A is 25.00 only after its price rule)
    assert response["total"] == "50.00"
    assert reason(response, "b18") == (
        "needs quantity of items where price >= 20.00 EUR >= 2, basket has 1")


def test_a_percentage_that_rounds_to_nothing_on_a_line_says_so() -> None:
    # Given 5% off items
    given = rules('rule five "5%" { discount 5% on items }')

    # When a bag at 0.09 comes: 0.09 x 5% = 0.0045 -> 0.00 (half-up)
    response = evaluate(given, basket(line("1", "BAG", "0.09")), explain=True)

    # Then nothing is taken off, and the reason is the rounding, not "nothing left"
    assert response["total"] == "0.09"
    assert reason(response, "five") == "its discount on line 1 rounds to 0.00 EUR"


def test_a_best_rule_is_not_told_a_rule_that_gave_nothing_beat_it() -> None:
    # Given 5% and 4% off items (both best)
    given = rules('rule five "5%" { discount 5% on items }\n'
                  'rule four "4%" { discount 4% on items }')

    # When a bag at 0.09 comes: 0.0045 and 0.0036 both round to 0.00
    response = evaluate(given, basket(line("1", "BAG", "0.09")), explain=True)

    # Then neither applied, and the 4% is not told the 5% (which gave nothing) beat it
    assert response["applied"] == []
    assert reason(response, "four") == "its discount on line 1 rounds to 0.00 EUR"


def test_a_basket_percentage_that_rounds_to_nothing_says_so() -> None:
    # Given 1% off the basket
    given = rules('rule one "1%" { discount 1% on basket }')

    # When the basket is 0.40: 0.40 x 1% = 0.004 -> 0.00
    response = evaluate(given, basket(line("1", "PIN", "0.40")), explain=True)

    # Then the reason is the rounding: 0.40 was left to discount
    assert response["total"] == "0.40"
    assert reason(response, "one") == "its discount on the basket rounds to 0.00 EUR"


def test_a_basket_rule_is_not_told_a_rule_that_gave_nothing_beat_it() -> None:
    # Given 100% off items, then 5.00 and 3.00 off the basket (both best)
    given = rules('rule all "100%" { discount 100% on items }\n'
                  'rule five "5 off" { discount 5.00 EUR on basket }\n'
                  'rule three "3 off" { discount 3.00 EUR on basket }')

    # When a 25.00 item comes: 25.00 off it, nothing left for the basket rules
    response = evaluate(given, basket(line("1", "A", "25.00")), explain=True)

    # Then the 3.00 is told there is nothing left, not that the 5.00 (0.00) beat it
    assert response["total"] == "0.00"
    assert reason(response, "three") == "nothing left to discount"


QUANTITY = ('rule q "Q" {{\n when quantity of items where {} >= 2\n'
            ' discount 5% on basket\n}}')


@pytest.mark.parametrize(("items", "said", "counted"), [
    ('category != "socks"', 'category != "socks"', 0),
    ('not category in ("a", "b")', 'not category in ("a", "b")', 1),
    ('sku in ("A", "B", "C", "D", "E")', 'sku in ("A", "B", "C", and 2 more)', 0),
    ('attribute "size \\"XL\\"" = "yes"', 'attribute "size \\"XL\\"" = "yes"', 0),
    ('(brand = "x" or price < 9.99 EUR) and not (sku = "A" and sku = "B")',
     '(brand = "x" or price < 9.99 EUR) and not (sku = "A" and sku = "B")', 1),
])
def test_a_quantity_condition_names_the_items_it_counts(items: str, said: str,
                                                        counted: int) -> None:
    # Given a rule counting some items, and a basket of one pair of socks at 5.00
    response = evaluate(rules(QUANTITY.format(items)),
                        basket(line("1", "Z", "5.00", category="socks")), explain=True)

    # Then the cashier reads which items count, as the rule writes them
    assert reason(response, "q") == (
        f"needs quantity of items where {said} >= 2, basket has {counted}")
