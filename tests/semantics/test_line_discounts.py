"""Line discounts: best, stackable, exclusive, caps (DESIGN §2, docs/semantics.md §3)."""

from __future__ import annotations

from pricing import adjustments, basket, by_id, evaluate, line, reason, rules

JACKET = line("1", "RAIN-JKT-01", "89.90", category="rainwear", brand="Aigle")


def test_percent_discount_rounds_half_up_per_line() -> None:
    given = rules('rule r "R" { discount 15% on items where category = "rainwear" }')
    response = evaluate(given, basket(JACKET))
    # 89.90 x 15% = 13.485 -> 13.49 (half-up); 89.90 - 13.49 = 76.41
    assert by_id(response)["1"]["discount"] == "13.49"
    assert by_id(response)["1"]["total"] == "76.41"


def test_the_best_discount_wins_and_the_other_is_explained() -> None:
    given = rules(
        'rule ten "10%" { discount 10% on items }\n'
        'rule fifteen "15%" { discount 15% on items where category = "rainwear" }'
    )
    response = evaluate(given, basket(JACKET), explain=True)
    # 15% (13.49) beats 10% (8.99): only the winner applies
    assert adjustments(response, "1") == [("fifteen", "13.49")]
    assert reason(response, "ten") == "a better discount applied on line 1: fifteen"


def test_equal_best_discounts_go_to_the_higher_priority() -> None:
    given = rules(
        'rule a "A" { discount 10% on items }\n'
        'rule b "B" {\n discount 10% on items\n priority 5\n}'
    )
    assert adjustments(evaluate(given, basket(JACKET)), "1") == [("b", "8.99")]


def test_an_equal_discount_that_lost_the_tie_is_not_told_it_was_beaten() -> None:
    # Given 10% and 8.99 EUR off each unit (10% of 89.90 is 8.99 too), the amount
    # of priority 5
    given = rules(
        'rule pct "10%" { discount 10% on items }\n'
        'rule flat "9 EUR" {\n discount 8.99 EUR each on items\n priority 5\n}'
    )

    # When the jacket is explained
    response = evaluate(given, basket(JACKET), explain=True)

    # Then the percent gave as much and lost the tie, and says so
    assert adjustments(response, "1") == [("flat", "8.99")]
    assert reason(response, "pct") == ("an equal discount applied on line 1: flat (ties go "
                                       "to the higher priority, then the smaller id)")


def test_stackable_applies_on_what_is_left() -> None:
    given = rules(
        'rule rain "Rain" { discount 15% on items where category = "rainwear" }\n'
        'rule staff "Staff" {\n discount 20% on items\n stacking stackable\n}'
    )
    response = evaluate(given, basket(JACKET))
    # 89.90 - 13.49 = 76.41; 20% of 76.41 = 15.282 -> 15.28; 76.41 - 15.28 = 61.13
    assert adjustments(response, "1") == [("rain", "13.49"), ("staff", "15.28")]
    assert by_id(response)["1"]["total"] == "61.13"


def test_stackables_apply_in_priority_order() -> None:
    given = rules(
        'rule low "Low" {\n discount 10.00 EUR each on items\n stacking stackable\n priority 1\n}\n'
        'rule high "High" {\n discount 50% on items\n stacking stackable\n priority 9\n}'
    )
    response = evaluate(given, basket(JACKET))
    # high first: 50% of 89.90 = 44.95; then 10.00 off: total 34.95
    assert adjustments(response, "1") == [("high", "44.95"), ("low", "10.00")]


def test_exclusive_applies_alone_and_blocks_best_and_stackable() -> None:
    given = rules(
        'rule best "Best" { discount 30% on items }\n'
        'rule staff "Staff" {\n discount 20% on items\n stacking stackable\n}\n'
        'rule only "Only" {\n discount 5% on items\n stacking exclusive\n}'
    )
    response = evaluate(given, basket(JACKET), explain=True)
    # 5% of 89.90 = 4.495 -> 4.50, alone, even though 30% would give more
    assert adjustments(response, "1") == [("only", "4.50")]
    assert reason(response, "best") == "line 1 already has a discount that takes no other: only"


def test_the_highest_priority_exclusive_wins() -> None:
    given = rules(
        'rule big "Big" {\n discount 50% on items\n stacking exclusive\n priority 1\n}\n'
        'rule first "First" {\n discount 5% on items\n stacking exclusive\n priority 2\n}'
    )
    assert adjustments(evaluate(given, basket(JACKET)), "1") == [("first", "4.50")]


def test_exclusive_only_locks_the_lines_it_matches() -> None:
    given = rules(
        'rule rain "Rain" {\n discount 5% on items where category = "rainwear"\n'
        ' stacking exclusive\n}\n'
        'rule all "All" { discount 10% on items }'
    )
    boots = line("2", "BOOT-01", "120.00", category="boots")
    response = evaluate(given, basket(JACKET, boots))
    assert adjustments(response, "1") == [("rain", "4.50")]
    assert adjustments(response, "2") == [("all", "12.00")]


def test_amount_each_counts_every_unit() -> None:
    given = rules('rule boots "Boots" { discount 5.00 EUR each on items }')
    response = evaluate(given, basket(line("1", "BOOT-01", "45.00", quantity=2)))
    assert by_id(response)["1"]["discount"] == "10.00"  # 2 x 5.00


def test_a_discount_larger_than_the_line_stops_at_zero() -> None:
    given = rules(
        'rule each "Each" { discount 5.00 EUR each on items }\n'
        'rule more "More" {\n discount 10.00 EUR each on items\n stacking stackable\n}'
    )
    response = evaluate(given, basket(line("1", "PIN-01", "3.00", quantity=2)))
    # 5.00 each is capped at the 3.00 unit price: 6.00 off 6.00; nothing left to stack
    assert by_id(response)["1"]["total"] == "0.00"
    assert adjustments(response, "1") == [("each", "6.00")]


def test_items_predicates_combine_and_or_not_and_price() -> None:
    given = rules(
        'rule r "R" { discount 10% on items where (brand = "Aigle" or brand = "Le Chameau")'
        ' and not attribute "clearance" = "yes" and price >= 40.00 EUR }'
    )
    response = evaluate(given, basket(
        line("1", "A", "50.00", brand="Aigle"),
        line("2", "B", "50.00", brand="Aigle", attributes={"clearance": "yes"}),
        line("3", "C", "39.99", brand="Le Chameau"),
        line("4", "D", "80.00", brand="Le Chameau"),
    ))
    discounts = {k: v["discount"] for k, v in by_id(response).items()}
    assert discounts == {"1": "5.00", "2": "0.00", "3": "0.00", "4": "8.00"}


def test_an_exclusive_rule_that_takes_nothing_off_a_line_is_not_said_to_have_applied() -> None:
    # Given an exclusive 5% and a best 50%
    given = rules('rule five "5%" {\n discount 5% on items\n stacking exclusive\n}\n'
                  'rule half "50%" { discount 50% on items }')

    # When a bag at 0.09 comes: 5% is 0.0045 -> 0.00
    response = evaluate(given, basket(line("1", "BAG", "0.09")), explain=True)

    # Then the exclusive rule holds the line and takes nothing off it; the 50% is told
    # so, not that a discount "applied" which the answer does not show
    assert (response["total"], response["applied"]) == ("0.09", [])
    assert reason(response, "five") == "its discount on line 1 rounds to 0.00 EUR"
    assert reason(response, "half") == (
        "an exclusive rule holds line 1, though it takes nothing off it: five")
