"""Which rules `explain` speaks of (docs/semantics.md §1): those that concern the basket.

A rule of the basket's channel and store is explained when a line of the basket could
be among its items, or when it names no item (a basket-wide offer); a rule behind a
code the basket presents always is. A rule on other items is left out: a cashier
asking why a T-shirt was not discounted is not read the boots offers.
"""

from __future__ import annotations

from pricing import basket, evaluate, line, reason, rules

TSHIRT = line("1", "T-100", "24.99", category="tshirts")


def explained(response: dict[str, object]) -> list[str]:
    return [entry["rule"] for entry in response["explain"]]  # type: ignore[attr-defined,index]


def test_a_rule_on_other_items_is_left_out() -> None:
    # Given a rule on boots and a rule on T-shirts
    given = rules('rule boots "Bottes" { discount 10% on items where category = "boots" }\n'
                  'rule tees "Tees" { discount 5% on items where category = "tshirts" }')

    # When a basket of one T-shirt asks why
    response = evaluate(given, basket(TSHIRT), explain=True)

    # Then only the T-shirt rule is spoken of
    assert explained(response) == ["tees"]


def test_a_rule_on_the_basket_s_items_outside_its_window_is_explained() -> None:
    # Given a T-shirt offer that ended before the basket's instant
    given = rules('rule tees "Tees" {\n valid from 2026-11-01 00:00 to 2026-11-02 00:00\n'
                  ' discount 5% on items where sku = "T-100"\n}')

    # When a basket of that T-shirt asks why
    response = evaluate(given, basket(TSHIRT), explain=True)

    # Then the cashier is told it is over
    assert reason(response, "tees").startswith("outside its time window")


def test_a_basket_wide_offer_is_explained_whatever_the_items() -> None:
    # Given a basket discount from 50.00 EUR, naming no item
    given = rules('rule spend "Dès 50" {\n when subtotal >= 50.00 EUR\n'
                  ' discount 5.00 EUR on basket\n}')

    # When a basket of one T-shirt asks why
    response = evaluate(given, basket(TSHIRT), explain=True)

    # Then the offer is explained with what the basket lacks
    assert reason(response, "spend") == "needs subtotal >= 50.00 EUR, basket is 24.99 EUR"


def test_a_presented_code_of_a_rule_on_other_items_is_explained() -> None:
    # Given a coupon for boots
    given = rules('rule boots "Bottes" {\n coupon "BOTTES"\n'
                  ' discount 10% on items where category = "boots"\n}')

    # When a basket of one T-shirt presents the code
    response = evaluate(given, basket(TSHIRT, coupons=["BOTTES"]), explain=True)

    # Then the rule is explained, as the coupon report says, with the items it needs
    assert explained(response) == ["boots"]
    assert reason(response, "boots") == response["coupons"][0]["reason"]
