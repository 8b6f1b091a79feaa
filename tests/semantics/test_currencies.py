"""Currencies with 0 and 3 decimals (docs/semantics.md §7)."""

from __future__ import annotations

from pricing import basket, by_id, evaluate, line, rules


def test_yen_discounts_round_to_whole_yen() -> None:
    given = rules('rule r "R" { discount 15% on items }', currency="JPY", timezone="Asia/Tokyo")
    response = evaluate(given, basket(line("1", "A", "999"), currency="JPY"))
    # 999 x 15% = 149.85 -> 150; 999 - 150 = 849
    assert (by_id(response)["1"]["discount"], response["total"]) == ("150", "849")


def test_dinar_discounts_round_to_the_fils() -> None:
    given = rules('rule r "R" { discount 15% on items }', currency="KWD", timezone="Asia/Kuwait")
    response = evaluate(given, basket(line("1", "A", "1.235"), currency="KWD"))
    # 1.235 x 15% = 0.18525 -> 0.185; 1.235 - 0.185 = 1.050
    assert (by_id(response)["1"]["discount"], response["total"]) == ("0.185", "1.050")


def test_yen_basket_allocation_is_in_whole_yen() -> None:
    given = rules('rule r "R" { discount 100 JPY on basket }', currency="JPY",
                  timezone="Asia/Tokyo")
    response = evaluate(given, basket(line("a", "A", "300"), line("b", "B", "300"),
                                      line("c", "C", "300"), currency="JPY"))
    # 100 / 3 = 33.3: 33 + 33 + 33 = 99, the spare yen to line a
    assert [by_id(response)[i]["discount"] for i in "abc"] == ["34", "33", "33"]


def test_a_yen_reason_writes_whole_yen() -> None:
    # Given 500 JPY off a basket of 3000 JPY or more
    given = rules('rule r "R" {\n when subtotal >= 3000 JPY\n discount 500 JPY on basket\n}',
                  currency="JPY", timezone="Asia/Tokyo")

    # When a basket of 2091 JPY is explained
    response = evaluate(given, basket(line("1", "A", "2091"), currency="JPY"), explain=True)

    # Then the amounts read as yen are written: no decimals
    assert response["explain"][0]["reason"] == "needs subtotal >= 3000 JPY, basket is 2091 JPY"


def test_a_dinar_reason_writes_the_fils() -> None:
    # Given 10% off snacks in dinars
    given = rules('rule r "R" { discount 10% on items }', currency="KWD", timezone="Asia/Kuwait")

    # When 3 snacks at 2.125 are explained: 6.375 x 10% = 0.6375 -> 0.638 (half-up)
    response = evaluate(given, basket(line("1", "A", "2.125", quantity=3), currency="KWD"),
                        explain=True)

    # Then the reason writes three decimals, as the answer does
    assert by_id(response)["1"]["total"] == "5.737"
    assert response["explain"][0]["reason"] == "applied: 0.638 KWD off"
