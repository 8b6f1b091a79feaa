"""Basket discounts, allocation, tiers and loyalty points (docs/semantics.md §5, §6)."""

from __future__ import annotations

import pytest
from pricing import adjustments, basket, by_id, evaluate, line, reason, rules


def three_lines_of_ten() -> dict:
    return basket(line("A", "X-1", "10.00"), line("B", "X-2", "10.00"), line("C", "X-3", "10.00"))


def test_basket_amount_is_allocated_by_largest_remainder() -> None:
    given = rules('rule ten "10 EUR" { discount 10.00 EUR on basket }')
    response = evaluate(given, three_lines_of_ten())
    # 10.00 / 3 = 3.333..: floors 3.33 x 3 = 9.99; the spare cent goes to line A (first id)
    assert [by_id(response)[i]["discount"] for i in "ABC"] == ["3.34", "3.33", "3.33"]
    assert response["discount"] == "10.00"


def test_allocation_does_not_depend_on_line_order() -> None:
    given = rules('rule ten "10 EUR" { discount 10.00 EUR on basket }')
    request = three_lines_of_ten()
    request["lines"].reverse()
    response = evaluate(given, request)
    assert by_id(response)["A"]["discount"] == "3.34"
    assert [item["id"] for item in response["lines"]] == ["C", "B", "A"]  # request order kept


def test_basket_discount_is_computed_after_line_discounts() -> None:
    given = rules(
        'rule half "50%" { discount 50% on items where sku = "X-1" }\n'
        'rule basket10 "10%" { discount 10% on basket }'
    )
    response = evaluate(given, three_lines_of_ten())
    # lines after line discounts: 5.00 + 10.00 + 10.00 = 25.00; 10% = 2.50,
    # allocated 5:10:10 -> 0.50, 1.00, 1.00
    assert adjustments(response, "A") == [("half", "5.00"), ("basket10", "0.50")]
    assert by_id(response)["B"]["discount"] == "1.00"
    assert response["total"] == "22.50"


def test_basket_threshold_reads_the_subtotal_after_line_discounts() -> None:
    given = rules(
        'rule half "50%" { discount 50% on items where sku = "X-1" }\n'
        'rule welcome "Bienvenue" {\n coupon "WELCOME10"\n when subtotal >= 30.00 EUR\n'
        ' discount 10.00 EUR on basket\n}'
    )
    response = evaluate(given, {**three_lines_of_ten(), "coupons": ["WELCOME10"]})
    # 30.00 before discounts, but 25.00 after the 50% line discount: the coupon fails
    assert response["coupons"] == [{
        "code": "WELCOME10", "status": "rejected",
        "reason": "needs subtotal >= 30.00 EUR, basket is 25.00 EUR"}]


def test_tiered_basket_applies_the_highest_tier_reached() -> None:
    given = rules('rule more "Plus" {\n discount on basket\n'
                  '  5% when subtotal >= 100.00 EUR\n  10% when subtotal >= 200.00 EUR\n}')
    small = evaluate(given, basket(line("1", "A", "99.99")))
    middle = evaluate(given, basket(line("1", "A", "150.00")))
    large = evaluate(given, basket(line("1", "A", "250.00")))
    # 150.00 x 5% = 7.50; 250.00 x 10% = 25.00
    assert (small["discount"], middle["discount"], large["discount"]) == ("0.00", "7.50", "25.00")


def test_an_exclusive_basket_rule_applies_alone() -> None:
    given = rules(
        'rule more "Plus" {\n discount on basket\n  5% when subtotal >= 100.00 EUR\n'
        ' stacking exclusive\n priority 50\n}\n'
        'rule gift "Cadeau" { discount 20.00 EUR on basket }'
    )
    response = evaluate(given, basket(line("1", "A", "200.00")), explain=True)
    assert [a["rule"] for a in response["applied"]] == ["more"]  # 10.00, not 20.00
    assert reason(response, "gift") == "an exclusive basket discount applied: more"


def test_an_exclusive_tiered_rule_reaching_no_tier_leaves_the_coupon_to_apply() -> None:
    # Given the sketch's exclusive tiers (from 100.00) and its welcome coupon (from 50.00)
    given = rules(
        'rule spend_more "Plus" {\n discount on basket\n  5% when subtotal >= 100.00 EUR\n'
        ' stacking exclusive\n priority 10\n}\n'
        'rule welcome10 "Bienvenue" {\n coupon "WELCOME10"\n when subtotal >= 50.00 EUR\n'
        ' discount 10.00 EUR on basket\n}')

    # When a 60.00 basket presents the coupon
    response = evaluate(given, {**basket(line("1", "PULL", "60.00")),
                                "coupons": ["WELCOME10"]}, explain=True)

    # Then the tiers give nothing and take nothing: 10.00 off, the coupon applied
    assert (response["discount"], response["total"]) == ("10.00", "50.00")
    assert response["coupons"] == [{"code": "WELCOME10", "status": "applied"}]
    assert reason(response, "spend_more") == "needs subtotal >= 100.00 EUR, basket is 60.00 EUR"


def test_a_tiered_rule_reaching_no_tier_says_how_much_its_first_tier_needs() -> None:
    # Given the kiosk's welcome tiers (5.00 from 40.00, 12.00 from 80.00) and 2.00 off
    given = rules(
        'rule kiosk "Tiers" {\n discount on basket\n  5.00 EUR when subtotal >= 40.00 EUR\n'
        '  12.00 EUR when subtotal >= 80.00 EUR\n priority 5\n}\n'
        'rule two "2 off" { discount 2.00 EUR on basket }')

    # When a 30.00 basket comes
    response = evaluate(given, basket(line("1", "A", "30.00")), explain=True)

    # Then 2.00 off applies; the tiers reach nothing, which is why they gave nothing
    # (they would not have applied alone): not "a better basket discount applied: two"
    assert response["total"] == "28.00"
    assert reason(response, "kiosk") == "needs subtotal >= 40.00 EUR, basket is 30.00 EUR"


def test_basket_amount_never_exceeds_the_basket() -> None:
    given = rules('rule big "50 EUR" { discount 50.00 EUR on basket }')
    response = evaluate(given, basket(line("1", "A", "12.00"), line("2", "B", "8.00")))
    assert (response["discount"], response["total"]) == ("20.00", "0.00")


def test_points_are_earned_on_the_net_amount_rounded_down() -> None:
    given = rules(
        'rule rain "Rain" { discount 15% on items }\n'
        'rule pts "Points" { points 2 per 1.00 EUR on items where brand = "Aigle" }'
    )
    response = evaluate(given, basket(line("1", "J", "89.90", brand="Aigle")))
    # net 89.90 - 13.49 = 76.41 -> floor(76.41 / 1.00) x 2 = 152
    assert response["points"] == {"total": 152,
                                  "by_rule": [{"rule": "pts", "title": "Points", "points": 152}]}


def test_points_sum_the_lines_before_rounding_down() -> None:
    given = rules('rule pts "Points" { points 1 per 10.00 EUR on items }')
    response = evaluate(given, basket(line("1", "A", "6.00"), line("2", "B", "6.00")))
    # 6.00 + 6.00 = 12.00 -> floor(1.2) = 1 point (per line it would be 0 + 0)
    assert response["points"]["total"] == 1


def test_the_best_points_rule_wins_per_line_and_stackables_add() -> None:
    given = rules(
        'rule base "Base" { points 1 per 1.00 EUR on items }\n'
        'rule gold "Gold" { points 2 per 1.00 EUR on items where brand = "Aigle" }\n'
        'rule bonus "Bonus" {\n points 10 per 100.00 EUR on items\n stacking stackable\n}'
    )
    response = evaluate(given, basket(line("1", "J", "100.00", brand="Aigle"),
                                      line("2", "T", "50.00")))
    # line 1: gold (2/EUR) beats base: 200; line 2: base 50; bonus on 150.00: 10
    points = {p["rule"]: p["points"] for p in response["points"]["by_rule"]}
    assert points == {"gold": 200, "base": 50, "bonus": 10}
    assert response["points"]["total"] == 260


# Two points rules on one 30.00 EUR line. "2 per 3.00" and "1 per 1.50" earn at exactly
# the same rate (one point per 1.50), 20 points each; "3 per 3.00" earns more, 30 points.
@pytest.mark.parametrize(("a", "b", "winner", "points"), [
    # best: the higher rate wins, whatever the priority
    ("points 3 per 3.00 EUR on items", "points 1 per 1.50 EUR on items\n priority 5", "a", 30),
    # best, equal rates: the higher priority, then the smaller id
    ("points 2 per 3.00 EUR on items", "points 1 per 1.50 EUR on items\n priority 2", "b", 20),
    ("points 2 per 3.00 EUR on items", "points 1 per 1.50 EUR on items", "a", 20),
    ("points 1 per 1.50 EUR on items", "points 2 per 3.00 EUR on items", "a", 20),
    # exclusive: the higher priority first, then the higher rate
    ("points 3 per 3.00 EUR on items\n stacking exclusive",
     "points 1 per 1.50 EUR on items\n stacking exclusive\n priority 5", "b", 20),
    ("points 1 per 1.50 EUR on items\n stacking exclusive",
     "points 3 per 3.00 EUR on items\n stacking exclusive", "b", 30),
    ("points 2 per 3.00 EUR on items\n stacking exclusive",
     "points 1 per 1.50 EUR on items\n stacking exclusive", "a", 20),
])
def test_which_points_rule_earns_when_two_compete(a: str, b: str, winner: str,
                                                   points: int) -> None:
    given = rules(f'rule a "A" {{\n {a}\n}}\nrule b "B" {{\n {b}\n}}')
    response = evaluate(given, basket(line("1", "J", "30.00")))
    assert [(p["rule"], p["points"]) for p in response["points"]["by_rule"]] == [
        (winner, points)]


# On a 9.00 EUR line "15 per 10.00" has the higher rate but earns nothing (below one
# step); "1 per 1.00" earns 9. The winner is the rule that earns the most on the line.
@pytest.mark.parametrize(("a", "b", "winner", "points"), [
    ("points 1 per 1.00 EUR on items", "points 15 per 10.00 EUR on items", "a", 9),
    ("points 15 per 10.00 EUR on items", "points 1 per 1.00 EUR on items", "b", 9),
    # exclusive, equal priority: the most points too
    ("points 1 per 1.00 EUR on items\n stacking exclusive",
     "points 15 per 10.00 EUR on items\n stacking exclusive", "a", 9),
    # equal points on 9.00 (3 x 2 = 2 x 3 = 6): the higher rate, 3 per 4.00
    ("points 2 per 3.00 EUR on items", "points 3 per 4.00 EUR on items", "b", 6),
])
def test_the_rule_earning_the_most_on_the_line_wins_not_the_best_rate(
        a: str, b: str, winner: str, points: int) -> None:
    given = rules(f'rule a "A" {{\n {a}\n}}\nrule b "B" {{\n {b}\n}}')
    response = evaluate(given, basket(line("1", "M", "9.00")))
    assert [(p["rule"], p["points"]) for p in response["points"]["by_rule"]] == [
        (winner, points)]


def test_best_basket_rules_giving_as_much_go_to_the_higher_priority() -> None:
    # given two best basket rules that both take 3.00 off a 30.00 basket
    given = rules(
        'rule a_ten "10%" { discount 10% on basket }\n'
        'rule b_three "3 EUR" {\n discount 3.00 EUR on basket\n priority 2\n}'
    )
    # when the basket is priced
    response = evaluate(given, three_lines_of_ten())
    # then the higher priority wins the tie, though its id sorts later
    assert [item["rule"] for item in response["applied"]] == ["b_three"]
    assert response["discount"] == "3.00"


def test_best_basket_rules_giving_as_much_at_one_priority_go_to_the_smaller_id() -> None:
    # given two best basket rules of the same priority that both take 3.00 off 30.00
    given = rules(
        'rule b_three "3 EUR" { discount 3.00 EUR on basket }\n'
        'rule a_ten "10%" { discount 10% on basket }'
    )
    # when the basket is priced
    response = evaluate(given, three_lines_of_ten())
    # then the rule whose id sorts first wins
    assert [item["rule"] for item in response["applied"]] == ["a_ten"]


def test_a_basket_rule_giving_as_much_that_lost_the_tie_says_it_was_equal() -> None:
    # given two best basket rules that both take 3.00 off a 30.00 basket
    given = rules(
        'rule a_ten "10%" { discount 10% on basket }\n'
        'rule b_three "3 EUR" {\n discount 3.00 EUR on basket\n priority 2\n}'
    )
    # when the basket is explained
    response = evaluate(given, three_lines_of_ten(), explain=True)
    # then the loser is told it gave as much, not that a better discount beat it
    assert reason(response, "a_ten") == ("an equal basket discount applied: b_three (ties go "
                                         "to the higher priority, then the smaller id)")


def test_a_points_rule_is_not_told_a_rule_that_earned_nothing_beat_it() -> None:
    # Given 1 point per 1.00 and 15 points per 10.00 (both best)
    given = rules('rule per_euro "1/1.00" { points 1 per 1.00 EUR on items }\n'
                  'rule per_ten "15/10.00" { points 15 per 10.00 EUR on items }')

    # When a pin at 0.50 comes: both earn 0 on it; 15 per 10.00 (the higher rate) wins it
    response = evaluate(given, basket(line("1", "PIN", "0.50")), explain=True)

    # Then no points, and 1 per 1.00 is told what holds for both, not "a better points
    # rule applied: per_ten", which the answer does not show
    assert response["points"] == {"total": 0, "by_rule": []}
    assert reason(response, "per_euro") == "earns 1 point per 1.00 EUR paid, line 1 pays 0.50 EUR"


def test_a_points_rule_short_of_its_step_says_what_its_lines_pay_after_discounts() -> None:
    # Given 10 points per 10.00 EUR on books, and 50% off books
    given = rules('rule book_points "10/10.00" {\n points 10 per 10.00 EUR on items where '
                  'category = "books"\n}\n'
                  'rule half "50%" { discount 50% on items where category = "books" }')

    # When a book at 15.00 comes: it pays 7.50, below the 10.00 a step needs
    response = evaluate(given, basket(line("1", "BOOK", "15.00", category="books")),
                        explain=True)

    # Then the cashier reads what a step needs and what the lines pay (2.50 more earns 10)
    assert response["points"] == {"total": 0, "by_rule": []}
    assert reason(response, "book_points") == (
        "earns 10 points per 10.00 EUR paid, its lines pay 7.50 EUR")


def test_a_points_rule_short_of_its_step_writes_amounts_as_its_currency_does() -> None:
    # Given 1 point per 100 JPY
    given = rules('rule yen_points "1/100" { points 1 per 100 JPY on items }', currency="JPY")

    # When two 45 JPY sweets come, one line each (90 JPY in all)
    request = basket(line("1", "AME", "45"), line("2", "AME", "45"), currency="JPY")
    response = evaluate(given, request, explain=True)

    # Then the amounts have no decimals, as yen are written
    assert reason(response, "yen_points") == "earns 1 point per 100 JPY paid, its lines pay 90 JPY"


def test_a_points_rule_that_earned_as_much_and_lost_the_tie_says_it_was_equal() -> None:
    # Given two best rules of 1 point per 1.00 EUR
    given = rules('rule a_card "1/1.00" { points 1 per 1.00 EUR on items }\n'
                  'rule b_app "1/1.00 too" { points 1 per 1.00 EUR on items }')

    # When a scarf at 10.00 comes: both earn 10 on it, the smaller id takes it
    response = evaluate(given, basket(line("1", "SCARF", "10.00")), explain=True)

    # Then the loser is told it was a tie, not that a better points rule beat it
    assert response["points"]["by_rule"] == [{"rule": "a_card", "title": "1/1.00", "points": 10}]
    assert reason(response, "b_app") == (
        "an equal points rule applied: a_card (ties go to the higher rate, then the higher "
        "priority, then the smaller id)")


def test_a_points_rule_that_earned_as_much_at_a_lower_rate_says_it_was_equal() -> None:
    # Given 1 point per 1.00 EUR and 3 points per 2.00 EUR (the higher rate)
    given = rules('rule a_one "1/1.00" { points 1 per 1.00 EUR on items }\n'
                  'rule b_three "3/2.00" { points 3 per 2.00 EUR on items }')

    # When a mug at 3.00 comes: 3 points either way; the higher rate takes the line
    response = evaluate(given, basket(line("1", "MUG", "3.00")), explain=True)

    # Then the other earned as much: a tie the rate broke
    assert response["points"]["total"] == 3
    assert reason(response, "a_one") == (
        "an equal points rule applied: b_three (ties go to the higher rate, then the higher "
        "priority, then the smaller id)")


def test_a_points_rule_that_earned_less_is_told_a_better_one_applied() -> None:
    # Given 1 point per 1.00 EUR and 2 points per 1.00 EUR
    given = rules('rule a_one "1/1.00" { points 1 per 1.00 EUR on items }\n'
                  'rule b_two "2/1.00" { points 2 per 1.00 EUR on items }')

    # When a mug at 3.00 comes: 3 points against 6
    response = evaluate(given, basket(line("1", "MUG", "3.00")), explain=True)

    # Then the loser is told the other was better
    assert reason(response, "a_one") == "a better points rule applied: b_two"


def test_an_exclusive_points_rule_that_earns_nothing_is_not_said_to_have_applied() -> None:
    # Given 1 point per 100.00 (exclusive, priority 5) and 1 point per 1.00 (exclusive)
    given = rules('rule slow "1/100.00" {\n points 1 per 100.00 EUR on items\n'
                  ' stacking exclusive\n priority 5\n}\n'
                  'rule fast "1/1.00" {\n points 1 per 1.00 EUR on items\n'
                  ' stacking exclusive\n}')

    # When a mug at 9.00 comes: the higher priority holds the line and earns 0 on 9.00
    response = evaluate(given, basket(line("1", "MUG", "9.00")), explain=True)

    # Then no points (the 9 the other would earn are not given), and it says why
    assert response["points"] == {"total": 0, "by_rule": []}
    assert reason(response, "fast") == (
        "an exclusive points rule holds line 1, though it earns nothing: slow")


BAKERY_POINTS = ('rule base "1/1.00" { points 1 per 1.00 EUR on items }\n'
                 'rule bonus "50/20.00" { points 50 per 20.00 EUR on items }')


def croissants(count: int) -> dict:
    """``count`` croissants at 0.90, scanned one line each (as a till lists them)."""
    return basket(*(line(f"c{index:02d}", "CROISSANT", "0.90") for index in range(count)))


def test_a_points_rule_that_earns_nothing_once_summed_does_not_win_the_tied_lines() -> None:
    # Given 1 point per 1.00 and 50 points per 20.00 (both best)
    given = rules(BAKERY_POINTS)

    # When 20 croissants at 0.90 come, one line each: on each line both earn 0 (a tie);
    # summed over the 20 lines (18.00) 1 per 1.00 earns 18, 50 per 20.00 earns 0
    response = evaluate(given, croissants(20))

    # Then the lines go to the rule that earns once summed: 18 points, as one line of 20
    # croissants earns (not 0 for the higher rate, which never reaches its step)
    assert response["points"] == {
        "total": 18, "by_rule": [{"rule": "base", "title": "1/1.00", "points": 18}]}


def test_tied_lines_go_to_the_points_rule_that_earns_more_once_summed() -> None:
    # Given the same two rules
    given = rules(BAKERY_POINTS)

    # When 25 croissants come, one line each: 0 and 0 on each line; summed (22.50),
    # 1 per 1.00 earns 22 and 50 per 20.00 earns 50
    response = evaluate(given, croissants(25))

    # Then the 50 per 20.00 takes the lines: 50 points
    assert response["points"] == {
        "total": 50, "by_rule": [{"rule": "bonus", "title": "50/20.00", "points": 50}]}


def test_the_spare_cent_goes_to_the_id_first_as_text_not_as_a_number() -> None:
    # Given 10.00 EUR off the basket
    given = rules('rule ten "10 EUR" { discount 10.00 EUR on basket }')

    # When three lines of 10.00 have ids "9", "10" and "11": shares 3.333.. each, floors
    # 3.33 (9.99), one cent left, remainders equal
    response = evaluate(given, basket(line("9", "X-1", "10.00"), line("10", "X-2", "10.00"),
                                      line("11", "X-3", "10.00")))

    # Then the cent goes to "10", the first id as text ("10" < "11" < "9")
    assert [by_id(response)[i]["discount"] for i in ("9", "10", "11")] == [
        "3.33", "3.34", "3.33"]


def test_a_line_an_exclusive_points_rule_holds_does_not_count_in_the_tie_break() -> None:
    # Given the bakery's two rules and an exclusive 1 per 1.00 on the TV
    given = rules(BAKERY_POINTS + '\nrule tv "TV" {\n points 1 per 1.00 EUR on items '
                                  'where sku = "TV"\n stacking exclusive\n}')

    # When a TV at 100.00 comes with 20 croissants at 0.90, one line each: the TV's
    # rule holds its line (100 points); on the croissants, 0 and 0 each, a tie; summed
    # over the croissants (18.00; the TV is not theirs to earn on) 1 per 1.00 earns 18
    # and 50 per 20.00 earns 0
    request = croissants(20)
    request["lines"].append(line("tv", "TV", "100.00"))
    response = evaluate(given, request)

    # Then 1 per 1.00 takes the croissants: 100 + 18 points
    assert response["points"] == {"total": 118, "by_rule": [
        {"rule": "base", "title": "1/1.00", "points": 18},
        {"rule": "tv", "title": "TV", "points": 100}]}
