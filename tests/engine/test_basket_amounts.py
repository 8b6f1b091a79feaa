"""A line's price is read once into whole minor units of the basket's currency.

A price sent as a string is taken in the contract's form only (the OpenAPI
schema's AMOUNT_PATTERN: ASCII digits, at most three decimals), read without
Decimal arithmetic; every other spelling Decimal would read (" 7", "1e3", "٣")
is refused. A price sent as a JSON number is read as the exact decimal it spells.
Either way the amount must be the one Decimal gives.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import engine
from api.schemas import AMOUNT_PATTERN

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
    ("000000000001.5", "EUR", 150),  # twelve digits, zeros or not
    (12, "EUR", 1200),  # JSON numbers: an integer
    (Decimal("3.10"), "EUR", 310),  # a fraction, as the JSON reader gives it
    (Decimal("1E+3"), "EUR", 100000),  # an exponent: a JSON number may have one
])
def test_a_price_is_read_into_minor_units(unit_price: Any, currency: str, minor: int) -> None:
    line = parsed_line(unit_price, currency)
    assert line.unit_minor == minor
    assert line.unit_price == Decimal(unit_price)


def test_a_yen_price_with_decimals_is_told_yen_has_none() -> None:
    # Given a yen basket whose till sent a price with decimals
    # When it is read
    with pytest.raises(engine.BasketError) as refused:
        parsed_line("1234.5", "JPY")

    # Then the cashier is told yen are whole, not "more than 0 decimals"
    assert refused.value.message == '1234.5 has decimals, and JPY has none: a whole amount, ' \
        'e.g. "1500"'


@pytest.mark.parametrize(("unit_price", "message"), [
    ("89.901", "89.901 has more than 2 decimals, the minor unit of EUR"),
    # zeros past the minor unit, but more than 3 decimals ("89.900" is taken): the form
    ("89.9000", '89.9000 is written with 4 decimals; an amount has at most 3 (e.g. "89.90")'),
    ("89.9001", "89.9001 has more than 2 decimals, the minor unit of EUR"),
    ("1000000000000", "amount is too large: at most 12 digits before the point"),
    ("0001000000000000", "amount is too large: at most 12 digits before the point"),
    ("-0.01", "expected an amount of zero or more"),
    ("1.2.3", "'1.2.3' is not an amount, e.g. \"89.90\""),
])
def test_a_price_the_plain_reading_leaves_is_still_refused(unit_price: str, message: str
                                                           ) -> None:
    with pytest.raises(engine.BasketError) as refused:
        parsed_line(unit_price)
    assert (refused.value.path, refused.value.message) == ("lines[0].unit_price", message)


@pytest.mark.parametrize("unit_price", [
    " 89.90", "89.90 ", "8_9.90", "١٢", "٣.5", "+5", ".5", "5.", "-0", "-0.00", "1e3", "1E+2",
    "0E-10", "5\n", "NaN", "Infinity", "",
])
def test_a_price_decimal_reads_but_the_contract_does_not_is_refused(unit_price: str) -> None:
    with pytest.raises(engine.BasketError) as refused:
        parsed_line(unit_price)

    assert refused.value.path == "lines[0].unit_price"
    assert refused.value.message == f"{unit_price!r} is not an amount, e.g. \"89.90\""


@pytest.mark.parametrize(("unit_price", "message"), [
    # Beyond the 28 digits of Decimal's context, where rounding read them as 0.10 and 0.
    (Decimal("0.1000000000000000000000000000001"),
     "0.1000000000000000000000000000001 has more than 2 decimals, the minor unit of EUR"),
    (Decimal("1E-999999999999999999"),
     "1E-999999999999999999 has more than 2 decimals, the minor unit of EUR"),
    (Decimal("1E+12"), "amount is too large: at most 12 digits before the point"),
    (-1, "expected an amount of zero or more"),
])
def test_a_json_number_is_read_exactly_or_refused(unit_price: Any, message: str) -> None:
    with pytest.raises(engine.BasketError) as refused:
        parsed_line(unit_price)
    assert (refused.value.path, refused.value.message) == ("lines[0].unit_price", message)


def by_contract(text: str, currency: str) -> tuple[Decimal, int] | None:
    """The reference: what the schema's pattern admits and then fits the currency's minor
    unit, and the minor units Decimal gives it."""
    if re.fullmatch(AMOUNT_PATTERN, text) is None:
        return None
    amount = Decimal(text)
    scaled = amount.scaleb(DIGITS[currency])
    if scaled != scaled.to_integral_value():
        return None
    return amount, int(scaled)


AMOUNT_TEXT = st.text(alphabet="0123456789.eE+-_ \n٣", max_size=18)


@given(text=AMOUNT_TEXT | st.decimals(min_value=0, max_value=10**13, places=4).map(str),
       currency=st.sampled_from(sorted(DIGITS)))
@example(text="00.10", currency="EUR")
@example(text="٣.5", currency="EUR")  # a non-ASCII digit: Decimal reads it, the schema not
@example(text="5\n", currency="EUR")  # the schema's `$` is the end of the text
@example(text="1.", currency="JPY")
@example(text="0.0001", currency="KWD")
@example(text="1.000", currency="JPY")
def test_a_price_is_taken_exactly_when_the_schema_admits_it(text: str, currency: str) -> None:
    expected = by_contract(text, currency)
    try:
        line = parsed_line(text, currency)
    except engine.BasketError:
        assert expected is None
        return
    assert expected is not None
    assert (line.unit_price, line.unit_minor) == expected
    assert str(line.unit_price) == str(expected[0])
