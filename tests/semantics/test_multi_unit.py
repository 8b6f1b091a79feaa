"""Multi-unit rules: buy N pay M and bundles (docs/semantics.md §3, step 2)."""

from __future__ import annotations

from pricing import adjustments, basket, by_id, evaluate, line, reason, rules

THREE_FOR_TWO = 'rule socks "3 = 2" { buy 3 pay 2 on items where category = "socks" }'


def test_three_for_two_on_one_line_of_six_gives_two_units() -> None:
    response = evaluate(rules(THREE_FOR_TWO),
                        basket(line("1", "SOCK-01", "4.00", quantity=6, category="socks")))
    # two groups of three, one free unit each: 2 x 4.00 = 8.00; 24.00 - 8.00 = 16.00
    assert by_id(response)["1"]["discount"] == "8.00"
    assert by_id(response)["1"]["total"] == "16.00"


def test_three_for_two_across_lines_makes_the_cheapest_free() -> None:
    response = evaluate(rules(THREE_FOR_TWO), basket(
        line("1", "SOCK-WOOL", "12.00", category="socks"),
        line("2", "SOCK-COTTON", "6.00", category="socks"),
        line("3", "SOCK-BASIC", "4.00", category="socks"),
    ))
    assert [by_id(response)[i]["discount"] for i in "123"] == ["0.00", "0.00", "4.00"]


def test_an_incomplete_group_gets_nothing() -> None:
    response = evaluate(rules(THREE_FOR_TWO), basket(
        line("1", "SOCK-01", "4.00", quantity=5, category="socks")), explain=True)
    # 5 units = one group of 3 (one free) + 2 left over: 4.00 off
    assert by_id(response)["1"]["discount"] == "4.00"


def test_groups_take_the_most_expensive_units_first() -> None:
    response = evaluate(rules(THREE_FOR_TWO), basket(
        line("1", "SOCK-WOOL", "10.00", quantity=2, category="socks"),
        line("2", "SOCK-BASIC", "4.00", quantity=4, category="socks"),
    ))
    # sorted: 10, 10, 4 | 4, 4, 4 -> the third unit of each group is free: 4.00 + 4.00
    assert by_id(response)["1"]["discount"] == "0.00"
    assert by_id(response)["2"]["discount"] == "8.00"


def test_too_few_units_is_explained() -> None:
    response = evaluate(rules(THREE_FOR_TWO),
                        basket(line("1", "S", "4.00", quantity=2, category="socks")), explain=True)
    assert reason(response, "socks") == (
        'needs 3 units of items where category = "socks", basket has 2')


def test_a_free_unit_takes_no_best_discount_but_paying_units_do() -> None:
    given = rules(THREE_FOR_TWO + '\nrule ten "10%" { discount 10% on items }')
    response = evaluate(given, basket(line("1", "S", "4.00", quantity=3, category="socks")))
    # 1 unit free (4.00); 10% on the 2 paying units: 10% of 8.00 = 0.80
    assert adjustments(response, "1") == [("socks", "4.00"), ("ten", "0.80")]
    assert by_id(response)["1"]["total"] == "7.20"


def test_a_bundle_prices_each_group_and_splits_the_saving() -> None:
    given = rules('rule gift "2 pour 25" {\n'
                  ' bundle 2 for 25.00 EUR on items where sku in ("CANDLE-01", "SOAP-01")\n}')
    response = evaluate(given, basket(
        line("1", "CANDLE-01", "18.00"), line("2", "SOAP-01", "12.00")))
    # 18.00 + 12.00 = 30.00 -> 25.00: saving 5.00 split 18:12 -> 3.00 and 2.00
    assert [by_id(response)[i]["discount"] for i in "12"] == ["3.00", "2.00"]
    assert response["total"] == "25.00"


def test_a_bundle_split_that_is_not_exact_uses_largest_remainder() -> None:
    given = rules('rule gift "3 pour 10" { bundle 3 for 10.00 EUR on items }')
    response = evaluate(given, basket(
        line("1", "A", "5.00"), line("2", "B", "4.00"), line("3", "C", "2.00")))
    # 11.00 -> 10.00: saving 1.00 = 100 cents over 500:400:200 ->
    # 45.45 / 36.36 / 18.18 cents: floors 45 + 36 + 18 = 99, the spare cent to line 1 (.45)
    assert [by_id(response)[i]["discount"] for i in "123"] == ["0.46", "0.36", "0.18"]


def test_a_bundle_splits_equal_remainders_by_line_id_not_by_sku() -> None:
    # Given three tees at 5.00 whose SKUs sort the other way round from their line ids
    given = rules('rule tees "3 pour 10" { bundle 3 for 10.00 EUR on items }')
    sent = basket(line("z", "TEE-A", "5.00"), line("m", "TEE-B", "5.00"),
                  line("a", "TEE-C", "5.00"))

    # When the bundle is priced
    response = evaluate(given, sent)

    # Then 15.00 -> 10.00: saving 500 cents in three equal shares of 166.67: floors
    # 166 x 3 = 498, and the 2 cents left (remainders equal) go to ids a and m (§5)
    assert [by_id(response)[i]["discount"] for i in "amz"] == ["1.67", "1.67", "1.66"]


def test_a_bundle_dearer_than_the_items_gives_nothing() -> None:
    given = rules('rule gift "2 pour 25" { bundle 2 for 25.00 EUR on items }')
    response = evaluate(given, basket(line("1", "A", "10.00"), line("2", "B", "10.00")))
    assert response["discount"] == "0.00"


def test_an_exclusive_line_is_not_counted_in_a_multi_unit_group() -> None:
    given = rules(THREE_FOR_TWO + '\nrule wool "Laine" {\n'
                  ' discount 5% on items where sku = "SOCK-WOOL"\n stacking exclusive\n}')
    response = evaluate(given, basket(
        line("1", "SOCK-WOOL", "12.00", category="socks"),
        line("2", "SOCK-COTTON", "6.00", quantity=3, category="socks"),
    ))
    # line 1 is locked by "wool" (0.60); the 3 cotton units form the group: 6.00 free
    assert adjustments(response, "1") == [("wool", "0.60")]
    assert adjustments(response, "2") == [("socks", "6.00")]


def test_a_multi_unit_rule_kept_off_a_line_names_the_exclusive_rule_holding_it() -> None:
    given = rules(THREE_FOR_TWO + '\nrule wool "Laine" {\n'
                  ' discount 5% on items where sku = "SOCK-WOOL"\n stacking exclusive\n}')

    response = evaluate(given, basket(line("1", "SOCK-WOOL", "12.00", quantity=3,
                                           category="socks")), explain=True)

    assert reason(response, "socks") == "an exclusive rule applied on line 1: wool"


def test_an_exclusive_multi_unit_rule_of_higher_priority_beats_an_exclusive_percent() -> None:
    # Given an exclusive 3-for-2 (priority 100) and an exclusive 5% (priority 1) on socks
    given = rules('rule socks3 "3 pour 2" {\n buy 3 pay 2 on items where category = "socks"\n'
                  ' stacking exclusive\n priority 100\n}\n'
                  'rule socks5 "-5%" {\n discount 5% on items where category = "socks"\n'
                  ' stacking exclusive\n priority 1\n}')

    # When 3 socks at 4.00 are priced
    response = evaluate(given, basket(line("1", "SOCK", "4.00", quantity=3, category="socks")),
                        explain=True)

    # Then the higher priority applies alone: one sock free, 8.00 (the 5% gave 0.60)
    assert adjustments(response, "1") == [("socks3", "4.00")]
    assert response["total"] == "8.00"
    assert reason(response, "socks5") == "an exclusive rule applied on line 1: socks3"


def test_an_exclusive_bundle_beats_a_best_multi_unit_rule_of_higher_priority() -> None:
    # Given an exclusive 2-for-25.00 gift bundle and a best 2-for-1 of priority 10
    given = rules('rule gift "Coffret" {\n bundle 2 for 25.00 EUR on items\n'
                  ' stacking exclusive\n}\n'
                  'rule candles "2 = 1" {\n buy 2 pay 1 on items\n priority 10\n}')

    # When 2 candles at 20.00 are priced
    response = evaluate(given, basket(line("1", "CANDLE", "20.00", quantity=2)))

    # Then the only exclusive rule applies alone: 40.00 - 25.00 = 15.00 off
    assert adjustments(response, "1") == [("gift", "15.00")]
    assert response["total"] == "25.00"


def test_an_exclusive_percent_of_higher_priority_still_beats_an_exclusive_multi_unit() -> None:
    given = rules('rule socks3 "3 pour 2" {\n buy 3 pay 2 on items\n stacking exclusive\n}\n'
                  'rule socks5 "-5%" {\n discount 5% on items\n stacking exclusive\n'
                  ' priority 1\n}')

    response = evaluate(given, basket(line("1", "SOCK", "4.00", quantity=3)))

    # 5% of 12.00 = 0.60: the higher priority wins even though it gives less
    assert adjustments(response, "1") == [("socks5", "0.60")]


def test_a_bundle_unit_whose_share_rounds_to_nothing_may_take_a_best_discount() -> None:
    # Given a 2-for-1000.00 bundle and a 50% on the cloth
    given = rules('rule duo "Duo" { bundle 2 for 1000.00 EUR on items }\n'
                  'rule half "-50%" { discount 50% on items where sku = "CLOTH" }')

    # When a watch at 1000.00 and a cloth at 0.04 make the bundle (saving 0.04)
    response = evaluate(given, basket(line("1", "WATCH", "1000.00"),
                                      line("2", "CLOTH", "0.04")))

    # Then the saving's shares are 0.04 and 0.00 (1000.00 : 0.04), so the cloth was not
    # discounted by the bundle and takes the 50%: 0.02
    assert adjustments(response, "1") == [("duo", "0.04")]
    assert adjustments(response, "2") == [("half", "0.02")]


def test_with_an_exclusive_multi_unit_rule_present_a_line_held_by_a_zero_discount_is_told_so(
) -> None:
    # Given an exclusive 1% (priority 5), an exclusive 10% (priority 1), and an exclusive
    # 2-for-1 on other items (found by the property tests: the 1% gives 0.00 on 0.40)
    given = rules('rule one "1%" {\n discount 1% on items where sku = "PIN"\n'
                  ' stacking exclusive\n priority 5\n}\n'
                  'rule ten "10%" {\n discount 10% on items where sku = "PIN"\n'
                  ' stacking exclusive\n priority 1\n}\n'
                  'rule duo "2 = 1" {\n buy 2 pay 1 on items where sku = "MUG"\n'
                  ' stacking exclusive\n}')

    # When a pin at 0.40 and one mug are explained
    response = evaluate(given, basket(line("1", "PIN", "0.40"), line("2", "MUG", "5.00")),
                        explain=True)

    # Then the 1% holds the pin's line (0.00, rounded) and the 10% is told which rule does,
    # and that it took nothing off (the 1% did not "apply": it is in no adjustment)
    assert adjustments(response, "1") == []
    assert reason(response, "ten") == (
        "an exclusive rule holds line 1, though it takes nothing off it: one")


def test_a_bundle_price_no_lower_than_the_units_is_explained_by_its_price() -> None:
    # Given 2 candles for 25.00
    given = rules('rule gift "2 for 25" { bundle 2 for 25.00 EUR on items }')

    # When 2 candles at 10.00 come (20.00 the pair)
    response = evaluate(given, basket(line("1", "CANDLE", "10.00", quantity=2)), explain=True)

    # Then the bundle saves nothing, and says why: not "nothing left to discount" on a
    # line with 20.00 left
    assert response["total"] == "20.00"
    assert reason(response, "gift") == (
        "a group of 2 matching units costs no more than the bundle price, 25.00 EUR")


BUNDLED = 'rule gift "2 for 15" { bundle 2 for 15.00 EUR on items }\n'


def test_a_best_rule_on_units_a_bundle_discounted_names_the_bundle() -> None:
    # Given 2 candles for 15.00 and a best 10%
    given = rules(BUNDLED + 'rule ten "10%" { discount 10% on items }')

    # When 2 candles at 10.00 come
    response = evaluate(given, basket(line("1", "CANDLE", "10.00", quantity=2)), explain=True)

    # Then the bundle takes 5.00 off both units, which take no best discount (DESIGN §2);
    # the 10% is told so, not that the line "takes no other" (a stackable one still would)
    assert response["total"] == "15.00"
    assert reason(response, "ten") == (
        "the units of line 1 are all discounted by a multi-unit rule: gift")


def test_a_stackable_amount_each_on_units_a_bundle_discounted_names_the_bundle() -> None:
    # Given 2 candles for 15.00 and a stackable 1.00 off each unit
    given = rules(BUNDLED + 'rule each "1 each" {\n discount 1.00 EUR each on items\n'
                            ' stacking stackable\n}')

    # When 2 candles at 10.00 come
    response = evaluate(given, basket(line("1", "CANDLE", "10.00", quantity=2)), explain=True)

    # Then both units were discounted by the bundle (5.00), so 1.00 each applies to none,
    # and the reason says so: not "nothing left to discount" on a line with 15.00 left
    assert response["total"] == "15.00"
    assert reason(response, "each") == (
        "the units of line 1 are all discounted by a multi-unit rule: gift")


THREE_CANDLES = ('rule set3 "3 for 29.99" { bundle 3 for 29.99 EUR on items }\n'
                 'rule advent "Advent -10%" { discount 10% on items }')


def test_units_of_one_line_that_get_nothing_of_a_bundle_saving_may_take_a_best_discount(
        ) -> None:
    # Given 3 candles for 29.99 and a best 10%
    given = rules(THREE_CANDLES)

    # When one line of 3 candles at 10.00 comes: the group costs 30.00, its saving is
    # 0.01, which one unit carries; the two others get nothing of it
    response = evaluate(given, basket(line("1", "CANDLE", "10.00", quantity=3)))

    # Then those two take the 10%: 10% of 20.00 = 2.00; total 30.00 - 0.01 - 2.00 = 27.99,
    # as three lines of one candle each pay
    assert adjustments(response, "1") == [("set3", "0.01"), ("advent", "2.00")]
    assert response["total"] == "27.99"


def test_a_buy_pay_rule_whose_free_unit_is_a_free_gift_says_so() -> None:
    # Given 2 for the price of 1
    given = rules('rule two_for_one "2 = 1" { buy 2 pay 1 on items }')

    # When a scarf at 10.00 comes with a gift at 0.00: the gift is the group's free unit
    response = evaluate(given, basket(line("1", "SCARF", "10.00"), line("2", "GIFT", "0.00")),
                        explain=True)

    # Then nothing is taken off, and the reason says why (the scarf still costs 10.00,
    # so "nothing left to discount" would not be true)
    assert response["total"] == "10.00"
    assert reason(response, "two_for_one") == "the units it makes free cost 0.00 EUR"
