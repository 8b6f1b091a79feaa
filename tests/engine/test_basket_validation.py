"""A bad basket is refused with the field's path and a plain reason; nothing is priced."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

import engine
from engine import ir


def good() -> dict[str, Any]:
    return {"channel": "pos", "store": "paris-01", "currency": "EUR",
            "at": "2026-11-23T14:10:00+01:00",
            "customer": {"id": "c-1", "cardholder": True, "segments": ["students"]},
            "coupons": ["WELCOME10"],
            "lines": [{"id": "1", "sku": "A", "quantity": 1, "unit_price": "89.90"}]}


def refused(request: dict[str, Any]) -> engine.BasketError:
    with pytest.raises(engine.BasketError) as caught:
        engine.parse_request(request)
    return caught.value


def test_a_good_basket_parses() -> None:
    parsed = engine.parse_request(good())
    assert parsed.lines[0].unit_price == Decimal("89.90")
    assert parsed.customer is not None and parsed.customer.segments == frozenset({"students"})


@pytest.mark.parametrize(("change", "path", "message"), [
    (lambda r: r.update(channel="webb"), "channel",
     'unknown channel "webb" (did you mean "web"?); expected one of pos, web, mobile, kiosk'),
    (lambda r: r.update(currency="EURO"), "currency",
     'unknown currency "EURO": expected an ISO 4217 code such as EUR'),
    (lambda r: r.update(at="2026-11-23T14:10:00"), "at",
     "'2026-11-23T14:10:00' has no UTC offset: add one, e.g. +01:00 or Z"),
    (lambda r: r.update(at="yesterday"), "at",
     "'yesterday' is not an ISO-8601 instant, e.g. 2026-11-23T14:10:00+01:00"),
    (lambda r: r.update(at="9999-12-31T23:59:59-01:00"), "at",
     "'9999-12-31T23:59:59-01:00' is out of range: instants run from 1970-01-01 to "
     "2999-12-31 (UTC)"),
    (lambda r: r.update(lines=[]), "lines", "expected a non-empty list of lines"),
    (lambda r: r["lines"][0].update(quantity=0), "lines[0].quantity",
     "expected a quantity from 1 to 10,000"),
    (lambda r: r["lines"][0].update(quantity=1.5), "lines[0].quantity",
     "expected a whole number of units, e.g. 2"),
    (lambda r: r["lines"][0].update(unit_price=89.9), "lines[0].unit_price",
     'send amounts as strings, e.g. "89.90", never as floats'),
    (lambda r: r["lines"][0].update(unit_price="89.999"), "lines[0].unit_price",
     "89.999 has more than 2 decimals, the minor unit of EUR"),
    (lambda r: r["lines"][0].update(unit_price="-1.00"), "lines[0].unit_price",
     "expected an amount of zero or more"),
    (lambda r: r["lines"][0].update(unit_price="cheap"), "lines[0].unit_price",
     "'cheap' is not an amount, e.g. \"89.90\""),
    (lambda r: r["lines"][0].pop("sku"), "lines[0].sku", "required"),
    (lambda r: r["lines"].append("A"), "lines[1]", "expected a JSON object"),
    (lambda r: r["lines"].append({**r["lines"][0], "id": "2", "quantity": -1}),
     "lines[1].quantity", "expected a quantity from 1 to 10,000"),
    (lambda r: r["lines"][0].update(attributes={"size": 42}), "lines[0].attributes.size",
     'expected a string value, e.g. "yes"'),
    (lambda r: r["customer"].update(attributes={"vip": True}), "customer.attributes.vip",
     'expected a string value, e.g. "yes"'),
    (lambda r: r["lines"][0].update(colour="red"), "lines[0].colour", "unknown field"),
    (lambda r: r["lines"].append(dict(r["lines"][0])), "lines[1].id", 'line id "1" is used twice'),
    (lambda r: r["customer"].update(cardholder="yes"), "customer.cardholder",
     "expected true or false"),
    (lambda r: r.update(coupons="WELCOME10"), "coupons",
     'expected a list of codes, e.g. ["WELCOME10"]'),
    (lambda r: r.update(chanel="pos"), "chanel", 'unknown field (did you mean "channel"?)'),
])
def test_each_bad_field_is_named(change: Any, path: str, message: str) -> None:
    request = json.loads(json.dumps(good()))
    change(request)
    error = refused(request)
    assert (error.path, error.message) == (path, message)


def test_a_basket_in_another_currency_than_the_rules_is_refused() -> None:
    rules = ir.RuleSet(currency="CHF", timezone="Europe/Zurich", rules=())
    with pytest.raises(engine.BasketError) as caught:
        engine.Evaluator(rules).evaluate(engine.parse_request(good()))
    assert (caught.value.path, caught.value.message) == (
        "currency", "the rules price in CHF, the basket is in EUR")


def test_a_line_without_attributes_shares_one_read_only_empty_mapping() -> None:
    first, second = engine.parse_request(
        {**good(), "lines": [{"id": "1", "sku": "A", "quantity": 1, "unit_price": "1.00"},
                             {"id": "2", "sku": "B", "quantity": 1, "unit_price": "2.00"}]}
    ).lines

    assert dict(first.attributes) == {}
    assert first.attributes is second.attributes
    with pytest.raises(TypeError):
        first.attributes["size"] = "M"  # type: ignore[index]


def test_a_missing_instant_without_a_clock_is_refused() -> None:
    request = good()
    del request["at"]
    assert refused(request).path == "at"


def test_invalid_ir_json_is_refused_with_its_location() -> None:
    with pytest.raises(engine.IRError, match=r"rules\.0\.effect"):
        engine.load_ruleset('{"schema": "remise.ir/1", "currency": "EUR", "timezone": "UTC",'
                            ' "rules": [{"id": "a", "title": "A", "effect": {"kind": "magic"}}]}')
    with pytest.raises(engine.IRError, match="schema"):
        engine.load_ruleset('{"schema": "remise.ir/9", "currency": "EUR", "timezone": "UTC",'
                            ' "rules": []}')


def test_the_engine_exports_what_it_documents() -> None:
    assert sorted(engine.__all__) == sorted(
        name for name in engine.__all__ if hasattr(engine, name))
    assert {"Evaluator", "parse_request", "dumps", "load_ruleset", "BasketError"} <= set(
        engine.__all__)
