"""A bundle rule over many units of one line: the price of each group is worked out once
per line, not once per group (a channel key may send 500 lines of 10,000 units)."""

from __future__ import annotations

from pricing import basket, by_id, evaluate, line, rules

from tests.calls import python_calls

CANDLES = rules('rule candles "2 pour 15" {\n'
                ' bundle 2 for 15.00 EUR on items where category = "candles"\n}')
MANY = basket(line("A", "CANDLE-A", "10.00", quantity=10_000, category="candles"),
              line("B", "CANDLE-B", "15.00", quantity=3, category="candles"))


def test_a_bundle_over_10_000_units_of_a_line_gives_each_group_its_saving() -> None:
    response = evaluate(CANDLES, MANY)
    # Most expensive first: B B (30.00 -> 15.00 off), B A (25.00 -> 10.00 off, split 15:10
    # = 6.00 to B, 4.00 to A), then 4,999 pairs of A (20.00 -> 5.00 off each: 24,995.00);
    # the 10,003rd unit is in no group.
    assert by_id(response)["B"]["discount"] == "21.00"
    assert by_id(response)["A"]["discount"] == "24999.00"
    assert response["discount"] == "25020.00"


def test_the_work_of_a_bundle_does_not_grow_with_the_units_of_a_line() -> None:
    few = python_calls(lambda: evaluate(CANDLES, basket(
        line("A", "CANDLE-A", "10.00", quantity=10, category="candles"),
        line("B", "CANDLE-B", "15.00", quantity=3, category="candles"))))

    many = python_calls(lambda: evaluate(CANDLES, MANY))

    # 500 such lines made one basket take five seconds of a server's event loop
    assert many < few + 100
