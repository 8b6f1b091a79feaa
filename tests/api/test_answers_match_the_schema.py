"""Every demo basket's answer, explained, and the problems a till meets, checked against
/openapi.json as a client generated from it reads them.

schemathesis (test_api_schemathesis.py) sends made-up requests to a one-rule rule set:
they rarely reach an explained answer, a price rule, a coupon's reason or a replay. These
are the answers a web shop and a till actually get.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema_rs
import pytest

from .conftest import EXAMPLES, Api

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

BASKETS = sorted((EXAMPLES / "baskets").glob("*.json"))


def _violations(api: Api, method: str, path: str, status: int, answer: Any,
                media_type: str) -> list[str]:
    """What in `answer` the schema of `path`'s `status` answer does not allow."""
    schema = api.client.get("/openapi.json").json()
    documented = schema["paths"][path][method]["responses"][str(status)]["content"]
    validator = jsonschema_rs.Draft202012Validator(
        {**documented[media_type]["schema"], "components": schema["components"]})
    return [f"{list(error.instance_path)}: {error.message}"
            for error in validator.iter_errors(answer)]


def test_every_explained_demo_answer_is_one_the_schema_allows(demo: Api) -> None:
    # Given every demo basket, explained (coupons with reasons, price rules, points)
    for basket in BASKETS:
        body = {**json.loads(basket.read_text(encoding="utf-8")), "explain": True}

        # When a till prices it
        response = demo.call("channel", "POST", "/v1/evaluate", json=body)

        # Then the answer is one the schema documents for a 200
        assert response.status_code == 200, (basket.name, response.text)
        assert _violations(demo, "post", "/v1/evaluate", 200, response.json(),
                           "application/json") == [], basket.name


def test_a_replayed_answer_is_one_the_schema_allows(demo: Api) -> None:
    # Given finance pricing a demo receipt again on the version that priced it
    body = {**json.loads(BASKETS[0].read_text(encoding="utf-8")), "version": 1}

    # When it is priced
    response = demo.call("finance", "POST", "/v1/evaluate", json=body)

    # Then the answer is one the schema documents
    assert response.status_code == 200 and response.json()["version"] == 1
    assert _violations(demo, "post", "/v1/evaluate", 200, response.json(),
                       "application/json") == []


@pytest.mark.parametrize(("role", "change", "status"), [
    (None, {}, 401),
    ("channel", {"version": 1}, 403),
    ("channel", {"ruleset": "nowhere"}, 404),
    ("channel", {"currency": "USD"}, 422),
    ("channel", {"lines": [{"id": "1", "sku": "S", "quantity": 0, "unit_price": "1"}]}, 422),
])
def test_a_problem_a_till_meets_is_one_the_schema_allows(
    demo: Api, role: str | None, change: dict[str, Any], status: int
) -> None:
    # Given a demo basket a till got wrong in one way
    body = {**json.loads(BASKETS[0].read_text(encoding="utf-8")), **change}

    # When it is sent
    response = demo.call(role, "POST", "/v1/evaluate", json=body)

    # Then the problem is one the schema documents for that status, as problem+json
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert _violations(demo, "post", "/v1/evaluate", status, response.json(),
                       "application/problem+json") == []


def test_what_every_answer_holds_is_required_in_the_schema(demo: Api) -> None:
    # Given the fields every demo basket's answer holds (`explain` only when asked)
    answers = [demo.call("channel", "POST", "/v1/evaluate",
                         json=json.loads(basket.read_text(encoding="utf-8"))).json()
               for basket in BASKETS]
    always = set.intersection(*(set(answer) for answer in answers))

    # When a client generator reads the schema of the answer
    documented = demo.client.get("/openapi.json").json()["components"]["schemas"]["EvaluateOut"]

    # Then each is required (a generated client keeps `content_hash`, which names the
    # rules that priced the receipt), and the instant is a date-time it can parse
    assert set(documented["required"]) == always
    assert documented["properties"]["at"]["format"] == "date-time"
    checked = jsonschema_rs.Draft202012Validator(documented["properties"]["at"],
                                                 validate_formats=True)
    assert all(checked.is_valid(answer["at"]) for answer in answers)
