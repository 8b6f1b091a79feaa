"""A line's price is read once into whole minor units of the basket's currency.

Plain prices ("89.90") are read without Decimal arithmetic; every other spelling
goes the long way. Either way the answer must be the one Decimal gives.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import engine

DIGITS = {"EUR": 2, "JPY": 0, "KWD": 3}


def basket(unit_price: Any, currency: str = "EUR") -> dict[str, Any]:
    return {"channel": "web", "currency": currency, "at": "2026-11-23T14:10:00+01:00",
            "lines": [{"id": "1", "sku": "A", "quantity": 1, "unit_price": unit_price}]}


def parsed_line(unit_price: Any, currency: str = "EUR") -> engine.Line:
    return engine.parse_request(basket(unit_price, currency)).lines[0]


@pytest.mark.parametrize(("unit_price", "currency", "minor"), [
    ("89.90", "EUR", 8990),
    ("89.9", "EUR", 8990),
    ("89.900", "EUR", 8990),  # zeros past the minor unit say nothing more
    ("0.05", "EUR", 5),
    ("0", "EUR", 0),
    ("1200", "JPY", 1200),
    ("1200.0", "JPY", 1200),
    ("1.250", "KWD", 1250),
    ("999999999999.99", "EUR", 99999999999999),  # the largest amount taken
    ("1e3", "EUR", 100000),  # not plain: read by Decimal
    ("5.", "EUR", 500),
    (".5", "EUR", 50),
    (" 7 ", "EUR", 700),
    ("1_000", "EUR", 100000),
    (12, "EUR", 1200),
    (Decimal("3.10"), "EUR", 310),
])
def test_a_price_is_read_into_minor_units(unit_price: Any, currency: str, minor: int) -> None:
    line = parsed_line(unit_price, currency)
    assert line.unit_minor == minor
    assert line.unit_price == Decimal(str(unit_price).strip())


@pytest.mark.parametrize(("unit_price", "message"), [
    ("89.901", "89.901 has more than 2 decimals, the minor unit of EUR"),
    ("1000000000000", "amount is too large"),
    ("0001000000000000", "amount is too large"),
    ("-0.01", "expected an amount of zero or more"),
    ("1.2.3", "'1.2.3' is not an amount, e.g. \"89.90\""),
])
def test_a_price_the_plain_reading_leaves_is_still_refused(unit_price: str, message: str
                                                           ) -> None:
    with pytest.raises(engine.BasketError) as refused:
        parsed_line(unit_price)
    assert (refused.value.path, refused.value.message) == ("lines[0].unit_price", message)


def by_decimal(text: str, currency: str) -> tuple[Decimal, int] | None:
    """The reference: what Decimal alone accepts, and the minor units it gives."""
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    digits = DIGITS[currency]
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e12"):
        return None
    scaled = amount.scaleb(digits)
    if scaled != scaled.to_integral_value():
        return None
    return amount, int(scaled)


AMOUNT_TEXT = st.text(alphabet="0123456789.eE+-_ ٣", max_size=18)


@given(text=AMOUNT_TEXT | st.decimals(min_value=0, max_value=10**13, places=4).map(str),
       currency=st.sampled_from(sorted(DIGITS)))
@example(text="00.10", currency="EUR")
@example(text="٣.5", currency="EUR")  # a non-ASCII digit: Decimal reads it, so must we
@example(text="1.", currency="JPY")
@example(text="0.0001", currency="KWD")
def test_every_spelling_reads_as_decimal_reads_it(text: str, currency: str) -> None:
    expected = by_decimal(text, currency)
    try:
        line = parsed_line(text, currency)
    except engine.BasketError:
        assert expected is None
        return
    assert expected is not None
    assert (line.unit_price, line.unit_minor) == expected
    assert str(line.unit_price) == str(expected[0])
