"""The examples of docs/api.md, run as a client author reads them.

Each test names the text the page shows (an answer, a message, a header) and checks both
that the page still shows it and that the server still answers it, so the page and the
server cannot drift apart silently.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from .conftest import EXAMPLES, Api

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

ROOT = Path(__file__).resolve().parents[2]
API_MD = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
API_WORDS = " ".join(API_MD.split())  # the page's text, whatever its line breaks
JSON = {"Content-Type": "application/json"}


def shown(text: str) -> str:
    """`text` as docs/api.md shows it (line breaks read as spaces); fails when the page
    no longer does."""
    assert " ".join(text.split()) in API_WORDS, f"docs/api.md no longer shows {text!r}"
    return text


def basket(**fields: Any) -> dict[str, Any]:
    """A web basket of one line, 10.00 EUR, with `fields` on top."""
    return {"channel": "web", "currency": "EUR", "at": "2026-11-24T20:05:00+01:00",
            "lines": [{"id": "1", "sku": "HAT-WOOL", "quantity": 1, "unit_price": "10.00"}],
            **fields}


def detail(api: Api, body: bytes, path: str = "/v1/evaluate") -> str:
    response = api.call("channel", "POST", path, content=body, headers=JSON)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return str(response.json()["detail"])


def test_the_problem_shown_under_errors_is_the_one_the_server_answers(demo: Api) -> None:
    # Given the problem docs/api.md shows under "Errors", a price of 1.005 EUR on line 0
    block = re.search(r"## Errors\n\n[^\n]*\n\n```json\n(.*?)```", API_MD, re.DOTALL)
    assert block, "docs/api.md no longer shows a problem under ## Errors"
    example = json.loads(block.group(1))
    body = basket()
    body["lines"][0]["unit_price"] = "1.005"

    # When a till sends such a basket
    response = demo.call("channel", "POST", "/v1/evaluate", json=body)

    # Then the answer is that problem, field for field, as problem+json
    assert response.status_code == example["status"] == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == example


@pytest.mark.parametrize(("basket_file", "reason"), [
    ("pos-rain-flash-cardholder", "applied: 13.49 EUR off"),
    ("kiosk-bordeaux-outlet-welcome", "applied: price set on line 1"),
    ("kiosk-anonymous-tiered-welcome",
     "outside its time window: only sat, sun 09:00-20:00 Europe/Paris, next sat 2026-11-28 09:00"),
])
def test_an_explain_reason_the_page_shows_is_one_the_demo_answers(
    demo: Api, basket_file: str, reason: str
) -> None:
    # Given a demo basket, explained
    body = json.loads((EXAMPLES / "baskets" / f"{basket_file}.json").read_text(encoding="utf-8"))

    # When it is priced
    answer = demo.call("channel", "POST", "/v1/evaluate", json={**body, "explain": True}).json()

    # Then one rule is explained in the words "Reading the answer at a till" shows
    assert shown(f"`{reason}`") and reason in [entry["reason"] for entry in answer["explain"]]


def test_the_coupon_reasons_the_page_shows_are_the_ones_a_till_reads(demo: Api) -> None:
    # Given the demo basket of 42.10 EUR with the WELCOME10 coupon and a made-up code
    body = json.loads((EXAMPLES / "baskets" / "web-welcome-coupon-too-small.json")
                      .read_text(encoding="utf-8"))

    # When it is priced
    coupons = demo.call("channel", "POST", "/v1/evaluate", json=body).json()["coupons"]

    # Then each code is answered with the reason docs/api.md quotes
    assert coupons == [
        {"code": "WELCOME10", "status": "rejected",
         "reason": shown("needs subtotal >= 50.00 EUR, basket is 42.10 EUR")},
        {"code": "BOGUS", "status": "rejected", "reason": shown("unknown coupon")}]


def test_echo_writes_back_what_the_page_says_it_does(demo: Api) -> None:
    # Given the values docs/api.md shows /v1/echo and the client authors' section reading
    typed = json.loads(shown('" welcome10 "'))
    body = basket(at=shown("2026-11-23T13:10:00.123Z"), coupons=[typed])
    body["lines"].append({"id": "2", "sku": "S", "quantity": 1, "unit_price": "1.5"})
    text = json.dumps(body).replace('"10.00"', "1E+2")
    assert shown('(`1E+2` -> `"100.00"`, `"1.5"` -> `"1.50"` EUR)')

    # When they are echoed
    echoed = demo.call("channel", "POST", "/v1/echo", content=text, headers=JSON).json()

    # Then they come back in the forms the page shows
    assert echoed["at"] == shown("2026-11-23T13:10:00.123000+00:00")
    assert echoed["coupons"] == [shown("WELCOME10")]
    assert [line["unit_price"] for line in echoed["lines"]] == ["100.00", "1.50"]


@pytest.mark.parametrize(("body", "expected"), [
    (b'{\n  "channel": "web",\n  }',
     "body: not valid JSON at line 3, column 3: expecting property name enclosed in double quotes"),
    (b'{"lines": [{"id": "' + b"x" * 85 + b'\xed"}]}',
     "body: not valid JSON at line 1, column 105: not UTF-8 text (byte 0xed)"),
    (json.dumps(basket(lines=[{"id": "1", "sku": "S", "quantity": 1, "unit_price": "1.00",
                                "name": "Hat"}])).encode(),
     "lines[0].name: unknown field"),
    (json.dumps(basket(lines=[{"id": "a\nb\x1b[2J", "sku": "S", "quantity": 1, "unit_price": "1"},
                              {"id": "a\nb\x1b[2J", "sku": "T", "quantity": 1, "unit_price": "1"}])
                ).encode(),
     'lines[1].id: line id "a\\nb\\x1b[2J" is used twice'),
], ids=["not JSON", "not UTF-8", "unknown field", "escaped id"])
def test_a_refusal_is_worded_as_the_page_quotes_it(api: Api, body: bytes, expected: str) -> None:
    # Given a basket the page quotes the refusal of; when it is sent, then that is the detail
    quoted = expected.removeprefix("body: ")
    assert shown(f"`{quoted}`") and detail(api, body) == expected


def test_a_near_miss_of_a_field_name_gets_the_suggestion_the_page_shows(api: Api) -> None:
    # Given a line with `brnd` for `brand`; when it is sent
    body = basket(lines=[{"id": "1", "sku": "S", "quantity": 1, "unit_price": "1", "brnd": "X"}])

    # Then the refusal suggests the field, in the page's words
    suggestion = shown('did you mean "brand"?')
    assert detail(api, json.dumps(body).encode()).endswith(f"({suggestion})")


def test_a_plus_that_arrived_as_a_space_is_refused_as_the_page_says(demo: Api) -> None:
    # Given an instant written with its '+' unescaped in a query string, as the page warns
    response = demo.call("finance", "GET", "/v1/rulesets/default/live?at=2026-11-27T10:30:00+01:00")

    # Then the 422 names the parameter and says what to write instead
    problem = response.json()
    assert response.status_code == 422 and problem["errors"][0]["field"] == "query.at"
    assert shown("a '+' in a query string reads as a space: write it %2B (") in problem["detail"]
    written = shown("?at=2026-11-27T10:30:00%2B01:00").removeprefix("?at=")
    assert problem["detail"].endswith(f"({written})")


def test_a_query_parameter_on_evaluate_is_refused_as_the_page_says(api: Api) -> None:
    # Given the page's example of a rule set asked in the URL rather than the body
    path = shown("POST /v1/evaluate?ruleset=fr").removeprefix("POST ")

    # When it is sent
    response = api.call("channel", "POST", path, json=basket())

    # Then it is a 422 naming the parameter, not a basket priced on `default`
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == [shown("query.ruleset")]


@pytest.mark.parametrize(("method", "path", "allow"), [
    ("GET", "/v1/evaluate", "POST"), ("OPTIONS", "/v1/echo", "POST"),
    ("PUT", "/v1/rulesets/fr/versions", "GET, HEAD, POST"),
])
def test_a_405_lists_the_methods_the_page_says(api: Api, method: str, path: str,
                                               allow: str) -> None:
    # Given a method the path does not take; when it is sent
    response = api.call("admin", method, path)

    # Then the 405's Allow header is the list the page shows
    assert shown(f"`{allow}`" if "," in allow else f"`Allow: {allow}`")
    assert response.status_code == 405 and response.headers["allow"] == allow


@pytest.mark.parametrize("parent", [None, "absent"])
def test_a_publish_without_its_parent_is_refused_naming_it_as_the_page_says(
    api: Api, parent: str | None
) -> None:
    # Given a first publish of a new rule set, its parent null or left out
    body: dict[str, Any] = {"source": "currency EUR\n", "message": "first"}
    if parent != "absent":
        body["parent"] = parent
    assert shown("`0` for a new rule set; `null` or none is a 422 naming `body.parent`")

    # When it is sent
    refused = api.call("marketer", "POST", "/v1/rulesets/shop/versions", json=body)
    published = api.call("marketer", "POST", "/v1/rulesets/shop/versions",
                         json={**body, "parent": 0})

    # Then it is refused naming `body.parent`, and the same with parent 0 is version 1
    assert refused.status_code == 422
    assert [error["field"] for error in refused.json()["errors"]] == ["body.parent"]
    assert published.status_code == 201 and published.json()["number"] == 1
