"""engine/basket.py at its limits: the last value taken, the first refused (mutation review).

Every refusal names its field and says what to send instead; a value at a limit
is priced as sent.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

import engine
from engine.basket import MAX_COUPONS, MAX_LINES, MAX_QUANTITY, MAX_VERSION


def good(**fields: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "channel": "pos", "currency": "EUR", "at": "2026-11-23T14:10:00+01:00",
        "lines": [{"id": "1", "sku": "A", "quantity": 1, "unit_price": "89.90"}]}
    request.update(fields)
    return request


def lines(count: int, quantity: int = 1) -> list[dict[str, Any]]:
    return [{"id": str(n), "sku": "A", "quantity": quantity, "unit_price": "1.00"}
            for n in range(count)]


def refusal(request: dict[str, Any]) -> tuple[str, str]:
    with pytest.raises(engine.BasketError) as refused:
        engine.parse_request(request)
    return refused.value.path, refused.value.message


def test_the_largest_basket_is_taken_whole() -> None:
    # Given 500 lines of 10,000 units each, 20 coupons and the last version number
    request = good(lines=lines(MAX_LINES, quantity=MAX_QUANTITY),
                   coupons=[f"C{n}" for n in range(MAX_COUPONS)], version=MAX_VERSION)

    # When it is read
    parsed = engine.parse_request(request)

    # Then nothing is cut
    assert (len(parsed.lines), parsed.lines[-1].quantity, len(parsed.coupons),
            parsed.version) == (500, 10_000, 20, 2_147_483_647)


@pytest.mark.parametrize(("request_", "path", "message"), [
    (good(lines=lines(501)), "lines", "at most 500 lines per basket, got 501"),
    (good(lines=lines(1, quantity=10_001)), "lines[0].quantity",
     "expected a quantity from 1 to 10,000"),
    (good(coupons=[f"C{n}" for n in range(21)]), "coupons",
     "at most 20 coupons per basket, got 21"),
    (good(version=2_147_483_648), "version", "expected a version number, e.g. 12"),
    (good(version=0), "version", "expected a version number, e.g. 12"),
    # twelve digits are taken: what is wrong here is the third decimal
    (good(lines=[{"id": "1", "sku": "A", "quantity": 1, "unit_price": "999999999999.999"}]),
     "lines[0].unit_price", "999999999999.999 has more than 2 decimals, the minor unit of EUR"),
])
def test_one_past_a_limit_is_refused_saying_the_limit(request_: dict[str, Any], path: str,
                                                      message: str) -> None:
    assert refusal(request_) == (path, message)


@pytest.mark.parametrize(("request_", "path", "message"), [
    # JSON true is not 1: not a unit, not an amount, not version 1
    (good(lines=[{"id": "1", "sku": "A", "quantity": True, "unit_price": "1.00"}]),
     "lines[0].quantity", "expected a whole number of units, e.g. 2"),
    (good(lines=[{"id": "1", "sku": "A", "quantity": 1, "unit_price": True}]),
     "lines[0].unit_price", 'expected an amount as a string, e.g. "89.90"'),
    (good(version=True), "version", "expected a version number, e.g. 12"),
    (good(explain="yes"), "explain", "expected true or false"),
    (good(at=1_795_000_000), "at", "expected an ISO-8601 instant, e.g. 2026-11-23T14:10:00+01:00"),
    (good(customer={"segments": [1]}), "customer.segments",
     'expected a list of strings, e.g. ["students"]'),
    (good(customer={"id": "c-1", "card": True}), "customer.card", "unknown field"),
    (good(ruleset=""), "ruleset", "expected a non-empty string"),
])
def test_a_value_of_the_wrong_kind_is_refused_by_name(request_: dict[str, Any], path: str,
                                                      message: str) -> None:
    assert refusal(request_) == (path, message)


@pytest.mark.parametrize(("request_", "path"), [
    (good(lines=[{"id": "1", "sku": "   ", "quantity": 1, "unit_price": "1.00"}]),
     "lines[0].sku"),
    (good(coupons=["WELCOME10", " "]), "coupons[1]"),
    (good(store="\t"), "store"),
])
def test_text_of_spaces_only_is_not_a_value(request_: dict[str, Any], path: str) -> None:
    assert refusal(request_) == (path, "expected a non-empty string")


def test_a_price_of_zero_sent_as_a_json_number_is_free_not_refused() -> None:
    # A giveaway line: 0 is an amount of zero or more
    line = engine.parse_request(good(lines=[
        {"id": "1", "sku": "GIFT", "quantity": 1, "unit_price": 0}])).lines[0]

    assert line.unit_minor == 0


def test_a_coupon_is_read_as_a_scanner_sends_it() -> None:
    parsed = engine.parse_request(good(coupons=["  welcome10 ", "Noel"]))

    assert parsed.coupons == ("WELCOME10", "NOEL")


def test_a_customer_who_says_nothing_of_a_card_is_not_a_cardholder() -> None:
    parsed = engine.parse_request(good(customer={"id": "c-1"}))

    assert parsed.customer is not None and parsed.customer.cardholder is False


def test_ids_come_back_as_sent_while_matched_text_is_read_in_nfc() -> None:
    # Given a line id and a customer id written with a combining accent ("e" + U+0301),
    # and the same in the SKU, brand, customer's tier and a coupon, which rules match
    decomposed = "cafe\u0301"
    request = good(customer={"id": decomposed, "tier": decomposed}, coupons=[decomposed],
                   lines=[{"id": decomposed, "sku": decomposed, "brand": decomposed,
                           "quantity": 1, "unit_price": "1.00"}])

    # When it is read
    parsed = engine.parse_request(request)

    # Then the ids are the client's own names, untouched; the matched text is NFC
    assert parsed.customer is not None
    line = parsed.lines[0]
    assert (line.id, parsed.customer.id) == (decomposed, decomposed)
    assert (line.sku, line.brand, parsed.customer.tier) == ("caf\u00e9",) * 3
    assert parsed.coupons == ("CAF\u00c9",)


def test_an_attribute_named_twice_in_two_unicode_forms_is_refused() -> None:
    request = good(lines=[{"id": "1", "sku": "A", "quantity": 1, "unit_price": "1.00",
                           "attributes": {"cafe\u0301": "a", "caf\u00e9": "b"}}])

    assert refusal(request) == (
        "lines[0].attributes.caf\u00e9",
        "given twice in one object (once in another Unicode form); each name may appear once")


def test_a_basket_without_an_instant_is_priced_at_the_callers_clock_to_the_microsecond() -> None:
    now = datetime(2026, 11, 23, 13, 10, 0, 500_000, tzinfo=UTC)
    request = good()
    del request["at"]

    assert engine.parse_request(request, now=now).at == now


@pytest.mark.parametrize(("field", "message"), [
    ("channel", "required: one of pos, web, mobile, kiosk"),
    ("currency", "required: the ISO 4217 code of the prices, e.g. EUR"),
])
def test_a_missing_channel_or_currency_is_said_to_be_missing(field: str, message: str) -> None:
    # It said "expected a non-empty string", as if one had been sent
    request = good()
    del request[field]

    assert refusal(request) == (field, message)
