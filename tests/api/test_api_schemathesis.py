"""schemathesis against the app's own OpenAPI schema: whatever it sends, no 5xx, and
every response matches the schema. Bounded: a few examples per operation."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

import rules
from api.app import create_app
from api.schemas import EvaluateIn
from tests.store.scenario import BOOTS_10, HEADER

from .conftest import settings_for

EXAMPLES_PER_OPERATION = 50
# What the issue asks: no 5xx, and every response (status, media type, body) is one
# the schema documents. The API is deliberately more lenient than the schema in
# places (an amount may be a JSON number; the engine decides), so the checks that
# expect every schema-violating request to be refused are not among them.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


def _app(tmp: Path) -> tuple[FastAPI, str]:
    db = rules.create_db_engine(f"sqlite:///{(tmp / 'remise.db').as_posix()}")
    rules.upgrade(db)
    store = rules.RuleStore(db)
    store.publish("default", {"default.rules": HEADER + BOOTS_10}, message="v1", author="t")
    app = create_app(settings_for(store, tmp), store=store)
    key = app.state.services.keys.create("root", "admin", created_by="test")
    return app, key


# Built at import: schemathesis reads the schema when tests are collected.
_FOLDER = tempfile.TemporaryDirectory(prefix="remise-schemathesis-")
APP, KEY = _app(Path(_FOLDER.name))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_no_server_error_and_every_response_matches_the_schema(
    case: schemathesis.Case,
) -> None:
    if case.path == "/v1/keys/{name}" and case.method == "DELETE":
        case.path_parameters = {"name": "nobody"}  # never revoke the key the test uses
    if case.path == "/v1/bundles/{ruleset}" and case.path_parameters == {"ruleset": "keys"}:
        # `keys` is a reserved rule set name: /v1/bundles/keys is the signing keys'
        # own route (answered in JSON), so it is not a bundle request at all.
        case.path_parameters = {"ruleset": "default"}
    case.call_and_validate(headers={"Authorization": f"Bearer {KEY}"}, checks=CHECKS)


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    schema = TestClient(APP).get("/openapi.json").json()
    return [(method.upper(), path, operation) for path, item in schema["paths"].items()
            for method, operation in item.items()]


def test_every_endpoint_that_reads_a_body_documents_its_415() -> None:
    # Given the endpoints the schema says read a JSON body
    with_body = [(method, path, operation) for method, path, operation in _operations()
                 if "requestBody" in operation]

    # Then each documents the 415 it answers to a body not declared JSON, or compressed
    # (a client generated from the schema has a type for it), as a problem
    assert {path for _, path, _ in with_body} >= {"/v1/evaluate", "/v1/rulesets/{name}/validate",
                                                  "/v1/rulesets/{name}/versions", "/v1/keys"}
    for method, path, operation in with_body:
        assert "415" in operation["responses"], f"{method} {path}"
        assert list(operation["responses"]["415"]["content"]) == ["application/problem+json"]


def test_problems_are_documented_in_the_media_type_they_are_served_in() -> None:
    # Given every error response the schema documents as a problem
    for method, path, operation in _operations():
        for status, response in operation["responses"].items():
            content = response.get("content", {})
            # Then it says application/problem+json alone: the server never answers a
            # problem as application/json, which a generated client would be told to expect
            if "application/problem+json" in content:
                assert list(content) == ["application/problem+json"], f"{method} {path} {status}"


def test_the_documented_basket_is_one_the_server_prices_for_a_channel_key() -> None:
    # Given the basket the schema shows for /v1/evaluate (what /docs offers to send)
    client = TestClient(APP)
    operation = client.get("/openapi.json").json()["paths"]["/v1/evaluate"]["post"]
    example = operation["requestBody"]["content"]["application/json"]["example"]
    channel = APP.state.services.keys.create("web-example", "channel", created_by="test")

    # When a channel key sends it as it is
    response = client.post("/v1/evaluate", json=example,
                           headers={"Authorization": f"Bearer {channel}"})

    # Then it is valid by the schema's model and priced, not refused (a made-up rule
    # set, a `version` a channel key may not pin)
    assert EvaluateIn.model_validate(example).ruleset is None
    assert response.status_code == 200, response.text
    assert response.json()["subtotal"] == "89.90"


@pytest.mark.parametrize(("field", "pointer"), [
    ("store", ("EvaluateIn", "store")), ("coupons[0]", ("EvaluateIn", "coupons")),
    ("customer.id", ("CustomerIn", "id")), ("customer.tier", ("CustomerIn", "tier")),
    ("lines[0].id", ("LineIn", "id")), ("lines[0].sku", ("LineIn", "sku")),
    ("lines[0].category", ("LineIn", "category")), ("lines[0].brand", ("LineIn", "brand")),
])
def test_a_text_of_spaces_the_server_refuses_the_schema_refuses_too(
    field: str, pointer: tuple[str, str]
) -> None:
    # Given a basket whose `field` is only spaces, which the server refuses (422)
    basket = {"channel": "web", "currency": "EUR", "store": "paris-01", "coupons": ["C"],
              "customer": {"id": "c-1", "tier": "gold"},
              "lines": [{"id": "1", "sku": "S", "quantity": 1, "unit_price": "1.00",
                         "category": "boots", "brand": "Aigle"}]}
    where, key = field.split(".") if "." in field else ("", field)
    target = basket["lines"][0] if where == "lines[0]" else basket.get(where, basket)
    if key == "coupons[0]":
        basket["coupons"] = ["   "]
    else:
        target[key] = "   "
    channel = APP.state.services.keys.create(f"blank-{pointer[0]}-{pointer[1]}".lower(), "channel",
                                             created_by="test")
    refused = TestClient(APP).post("/v1/evaluate", json=basket,
                                   headers={"Authorization": f"Bearer {channel}"})

    # Then the schema says so: every string it allows there has a character not a space
    schema = TestClient(APP).get("/openapi.json").json()["components"]["schemas"]
    documented = schema[pointer[0]]["properties"][pointer[1]]
    strings = [s for s in documented.get("anyOf", [documented]) if s.get("type") != "null"]
    strings = [s.get("items", s) for s in strings]
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == field
    assert all(s.get("pattern") and not re.search(s["pattern"], "   ") for s in strings)


def test_the_schema_names_a_field_in_errors_as_the_server_does() -> None:
    # Given a basket whose second line's price is not an amount
    channel = APP.state.services.keys.create("field-form", "channel", created_by="test")
    basket = {"channel": "web", "currency": "EUR", "lines": [
        {"id": "1", "sku": "S", "quantity": 1, "unit_price": "1.00"},
        {"id": "2", "sku": "T", "quantity": 1, "unit_price": "x"}]}

    refused = TestClient(APP).post("/v1/evaluate", json=basket,
                                   headers={"Authorization": f"Bearer {channel}"})
    described = TestClient(APP).get("/openapi.json").json()[
        "components"]["schemas"]["FieldError"]["properties"]["field"]["description"]

    # Then the schema's description of `errors[].field` shows the form the server writes
    assert refused.json()["errors"][0]["field"] == "lines[1].unit_price"
    assert "`lines[1].unit_price`" in described


def test_the_version_header_of_an_evaluation_is_documented() -> None:
    # Given a priced basket, which names its version in a header as in its body
    client = TestClient(APP)
    channel = APP.state.services.keys.create("version-header", "channel", created_by="test")
    priced = client.post("/v1/evaluate", headers={"Authorization": f"Bearer {channel}"},
                         json={"channel": "web", "currency": "EUR", "lines": [
                             {"id": "1", "sku": "S", "quantity": 1, "unit_price": "1.00"}]})
    answer = client.get("/openapi.json").json()["paths"]["/v1/evaluate"]["post"][
        "responses"]["200"]

    # Then the schema documents that header, as an integer
    assert priced.headers["x-remise-version"] == str(priced.json()["version"]) == "1"
    assert answer["headers"]["X-Remise-Version"]["schema"] == {"type": "integer"}


MONEY_FIELDS = {"EvaluateOut": ("subtotal", "discount", "total"), "Adjustment": ("amount",),
                "LineOut": ("list_price", "unit_price", "subtotal", "discount", "total")}


def test_the_schema_says_money_is_a_decimal_string_as_the_server_writes_it() -> None:
    # Given a basket priced with a discount (boots -10%: 2 x 59.95 = 119.90, 11.99 off)
    client = TestClient(APP)
    channel = APP.state.services.keys.create("money-form", "channel", created_by="test")
    answer = client.post("/v1/evaluate", headers={"Authorization": f"Bearer {channel}"},
                         json={"channel": "web", "currency": "EUR", "lines": [
                             {"id": "1", "sku": "B", "quantity": 2, "unit_price": "59.95",
                              "category": "boots"}]}).json()
    schemas = client.get("/openapi.json").json()["components"]["schemas"]

    # Then every amount is documented as a decimal string, and is one, with EUR's 2 decimals
    line = answer["lines"][0]
    written = {"EvaluateOut": answer, "LineOut": line, "Adjustment": line["adjustments"][0]}
    assert (line["subtotal"], line["discount"], line["total"]) == ("119.90", "11.99", "107.91")
    for model, fields in MONEY_FIELDS.items():
        for name in fields:
            documented = schemas[model]["properties"][name]
            assert documented["type"] == "string" and "minor unit" in documented["description"]
            assert re.fullmatch(documented["pattern"].strip("^$"), written[model][name])
            assert re.fullmatch(r"[0-9]+\.[0-9]{2}", written[model][name])


def test_the_metrics_are_documented_as_the_text_they_are_served_in() -> None:
    # Given the Prometheus exposition, served as text
    client = TestClient(APP)
    served = client.get("/metrics").headers["content-type"]
    documented = client.get("/openapi.json").json()["paths"]["/metrics"]["get"][
        "responses"]["200"]["content"]

    # Then the schema offers that media type alone: a client generated from it would
    # otherwise be told the answer may be JSON and try to parse the exposition as JSON
    assert served.startswith("text/plain;")
    assert list(documented) == ["text/plain"]


@pytest.mark.parametrize(("status", "header"), [("503", "Retry-After"),
                                                ("415", "Accept-Encoding")])
def test_the_headers_a_client_acts_on_are_documented_with_their_problem(
    status: str, header: str
) -> None:
    # Given every operation that documents this problem status
    documented = [(method, path, operation["responses"][status])
                  for method, path, operation in _operations()
                  if status in operation["responses"]]

    # Then each documents the header that comes with it (when to retry, that a body must
    # be sent uncompressed), so a generated client exposes it
    assert documented
    for method, path, response in documented:
        assert header in response.get("headers", {}), f"{method} {path} {status}"

