"""``/v1/echo`` sends the basket back as the engine understood it, in EvaluateIn's shape."""

from __future__ import annotations

import json
from typing import Any

import pytest

from api.schemas import EvaluateIn
from tests.store.scenario import BOOTS_10, HEADER, boots_basket

from .conftest import Api

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

CUSTOMER = {"id": "c-42", "cardholder": True, "tier": "gold", "segments": ["students", "staff"],
            "attributes": {"city": "Paris"}}


@pytest.fixture
def published(api: Api) -> Api:
    api.call("admin", "POST", "/v1/rulesets/fr/versions",
             json={"source": HEADER + BOOTS_10, "message": "v1", "parent": 0})
    return api


def _echo(api: Api, text: str, role: str = "channel") -> Any:
    response = api.call(role, "POST", "/v1/echo", content=text.encode(),
                        headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    return response.json()


def test_prices_come_back_as_the_response_writes_money(published: Api) -> None:
    basket = {**boots_basket(), "ruleset": "fr"}
    basket["lines"].append({"id": "3", "sku": "HAT", "quantity": 1, "unit_price": "1.5"})
    # Two as JSON numbers: an exponent, and a zero with one.
    text = json.dumps(basket).replace('"100.00"', "1E+2").replace('"5.00"', "0E-10")

    echoed = _echo(published, text)

    assert [line["unit_price"] for line in echoed["lines"]] == ["100.00", "0.00", "1.50"]


def test_every_field_parsed_comes_back(published: Api) -> None:
    basket = {**boots_basket(), "ruleset": "fr", "customer": CUSTOMER, "version": 1,
              "coupons": ["welcome10"], "explain": True, "store": "paris-01"}

    echoed = _echo(published, json.dumps(basket), "finance")  # a version: finance's

    assert {key: value for key, value in echoed.items() if key != "lines"} == {
        "channel": "web", "store": "paris-01", "currency": "EUR",
        "at": "2026-11-27T12:00:00+01:00",
        "customer": {**CUSTOMER, "segments": ["staff", "students"]},  # a set, sorted
        "coupons": ["WELCOME10"], "ruleset": "fr", "version": 1, "replay": False,
        "explain": True}
    assert echoed["lines"][0] == {"id": "1", "sku": "BOOT-1", "quantity": 1,
                                  "unit_price": "100.00", "category": "boots", "brand": None,
                                  "attributes": {}}


def test_an_anonymous_basket_comes_back_with_no_customer(published: Api) -> None:
    echoed = _echo(published, json.dumps({**boots_basket(), "ruleset": "fr"}))

    assert echoed["customer"] is None and echoed["version"] is None


def test_what_echo_sends_is_an_evaluate_request_it_reads_back_unchanged(published: Api) -> None:
    basket = {**boots_basket(), "ruleset": "fr", "customer": CUSTOMER, "coupons": ["w"]}
    echoed = _echo(published, json.dumps(basket))

    again = _echo(published, json.dumps(echoed))

    EvaluateIn.model_validate(echoed)
    assert again == echoed
