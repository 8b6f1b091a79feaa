"""Bad requests get a located RFC 9457 problem, change nothing, and never a 500."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
from sqlalchemy import create_engine

from api.auth import Principal
from api.deps import MAX_BODY_BYTES
from tests.store.scenario import BOOTS_10, HEADER, boots_basket

from .conftest import Api

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def published(api: Api) -> Api:
    api.call("admin", "POST", "/v1/rulesets/fr/versions",
             json={"source": HEADER + BOOTS_10, "message": "v1", "parent": 0})
    return api


def _basket(**changes: Any) -> dict[str, Any]:
    return {**boots_basket(), "ruleset": "fr", **changes}


def _line(n: int) -> dict[str, Any]:
    return {"id": str(n), "sku": f"S{n}", "quantity": 1, "unit_price": "1.00"}


@pytest.mark.parametrize(("body", "status", "field", "words"), [
    (_basket(lines=[_line(n) for n in range(501)]), 422, "lines", "at most 500 lines"),
    (_basket(coupons=[f"C{n}" for n in range(21)]), 422, "coupons", "at most 20 coupons"),
    (_basket(currency="USD"), 422, "currency", "prices in EUR, this basket is in USD"),
    (_basket(lines=[{**_line(1), "quantity": 0}]), 422, "lines[0].quantity", "from 1 to"),
    (_basket(lines=[{**_line(1), "unit_price": "1.005"}]), 422, "lines[0].unit_price",
     "more than 2 decimals"),
    (_basket(lines=[{**_line(1), "unit_price": "1000000000000"}]), 422, "lines[0].unit_price",
     "too large"),
    (_basket(at="2026-11-27T10:00:00"), 422, "at", "no UTC offset"),
    (_basket(chanel="pos"), 422, "chanel", 'did you mean "channel"'),
    (_basket(replay="yes"), 422, "replay", "true or false"),
    (_basket(replay=True, version=1), 422, "replay", "not both"),
    (_basket(ruleset="be"), 404, None, "no rule set named 'be'"),
])
def test_bad_baskets_are_refused_with_the_field(
    published: Api, body: dict[str, Any], status: int, field: str | None, words: str
) -> None:
    response = published.call("channel", "POST", "/v1/evaluate", json=body)

    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status and problem["instance"] == "/v1/evaluate"
    assert words in problem["detail"]
    if field is not None:
        assert problem["errors"][0]["field"] == field


def test_a_version_that_does_not_exist_is_404(published: Api) -> None:
    response = published.call("finance", "POST", "/v1/evaluate", json=_basket(version=9))

    assert response.status_code == 404
    assert "has no version 9" in response.json()["detail"]


def test_a_body_that_is_not_json_is_located(published: Api) -> None:
    response = published.call("channel", "POST", "/v1/evaluate", content=b'{"channel": ',
                              headers={"Content-Type": "application/json"})

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "body", "message": "not valid JSON at line 1, column 13: expecting value"}]


def _text(**changes: Any) -> str:
    return json.dumps(_basket(**changes))


BIG_QUANTITY = _text().replace('"quantity": 1', '"quantity": ' + "9" * 5000, 1)
SURROGATE_BYTES = _text().encode().replace(b'"BOOT-1"', b'"A\xed\xa0\x80"')


@pytest.mark.parametrize(("body", "field", "words"), [
    (BIG_QUANTITY.encode(), "lines[0].quantity", "a number of 5000 digits"),
    (_text().replace('"quantity": 1', '"quantity": 1e9999999999999999999999999', 1).encode(),
     "lines[0].quantity", "exponent"),
    (b"[" * 50_000 + b"]" * 50_000, "body", "nested too deeply"),
    (SURROGATE_BYTES, "body", "not UTF-8 text (byte 0xed)"),
    (_text().replace("BOOT-1", "A\ud800").encode("utf-16", "surrogatepass"), "body",
     "not valid JSON at line 1, column 1: not UTF-8 text"),
])
@pytest.mark.parametrize("path", ["/v1/evaluate", "/v1/echo"])
def test_a_body_the_decoder_cannot_read_is_422_at_its_place_not_500(
    published: Api, path: str, body: bytes, field: str, words: str
) -> None:
    response = published.call("channel", "POST", path, content=body,
                              headers={"Content-Type": "application/json"})

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "https://remise.dev/problems/invalid-request"
    [error] = response.json()["errors"]
    assert error["field"] == field and words in error["message"]


def test_a_name_given_twice_is_422_naming_it(published: Api) -> None:
    text = _text().replace('"currency": "EUR"', '"currency": "USD", "currency": "EUR"')

    response = published.call("channel", "POST", "/v1/evaluate", content=text.encode(),
                              headers={"Content-Type": "application/json"})

    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "currency", "message": (
        "given twice in one object; each name may appear once (I-JSON, RFC 7493)")}]


@pytest.mark.parametrize("price", [" 89.90", "8_9.90", "١٢", "+5", ".5", "5.", "-0"])
def test_a_price_the_schema_refuses_is_422(published: Api, price: str) -> None:
    body = _basket(lines=[{**_line(1), "unit_price": price}])

    response = published.call("channel", "POST", "/v1/evaluate", json=body)

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "lines[0].unit_price", "message": f'{price!r} is not an amount, e.g. "89.90"'}]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "application/jsonp", "text/json"])
@pytest.mark.parametrize("path", ["/v1/evaluate", "/v1/echo"])
def test_a_body_declared_as_another_media_type_is_415(
    published: Api, path: str, content_type: str
) -> None:
    response = published.call("channel", "POST", path, content=_text().encode(),
                              headers={"Content-Type": content_type})

    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "https://remise.dev/problems/unsupported-media-type"
    assert problem["detail"] == (
        f"Content-Type must be application/json or a +json type, not {content_type!r}")


@pytest.mark.parametrize("content_type", [None, "application/json; charset=utf-8",
                                          "Application/JSON", "application/vnd.remise+json"])
def test_a_body_declared_as_json_or_not_declared_is_read(
    published: Api, content_type: str | None
) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}

    response = published.call("channel", "POST", "/v1/evaluate", content=_text().encode(),
                              headers=headers)

    assert response.status_code == 200
    assert response.json()["total"] == "105.00"


@pytest.mark.parametrize(("coding", "body"), [
    ("gzip", gzip.compress(_text().encode())),
    ("br", _text().encode()),  # not compressed at all, yet declared so: not priced as is
    ("identity, gzip", gzip.compress(_text().encode())),
])
@pytest.mark.parametrize("path", ["/v1/evaluate", "/v1/echo"])
def test_a_body_in_a_content_coding_the_server_does_not_read_is_415(
    published: Api, path: str, coding: str, body: bytes
) -> None:
    # Given a body declared compressed (a checkout's HTTP client gzipping requests)
    headers = {"Content-Type": "application/json", "Content-Encoding": coding}

    # When it is sent
    response = published.call("channel", "POST", path, content=body, headers=headers)

    # Then it is refused for its coding, saying what to send (RFC 9110 §8.4.1, §12.5.3),
    # not read as JSON ("not UTF-8 text (byte 0x8b)") nor priced as if it were plain
    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["accept-encoding"] == "identity"
    problem = response.json()
    assert problem["type"] == "https://remise.dev/problems/unsupported-content-encoding"
    assert problem["detail"] == (
        f"Content-Encoding {coding!r} is not supported: send the body uncompressed")


def test_a_rule_source_in_a_content_coding_the_server_does_not_read_is_415(
    published: Api
) -> None:
    body = gzip.compress(json.dumps({"source": HEADER + BOOTS_10}).encode())

    response = published.call("marketer", "POST", "/v1/rulesets/fr/validate", content=body,
                              headers={"Content-Type": "application/json",
                                       "Content-Encoding": "gzip"})

    assert response.status_code == 415
    assert response.json()["type"] == "https://remise.dev/problems/unsupported-content-encoding"


@pytest.mark.parametrize("coding", ["identity", "Identity", ""])
def test_a_body_declared_in_the_identity_coding_is_read(published: Api, coding: str) -> None:
    response = published.call("channel", "POST", "/v1/evaluate", content=_text().encode(),
                              headers={"Content-Type": "application/json",
                                       "Content-Encoding": coding})

    assert response.status_code == 200
    assert response.json()["total"] == "105.00"


@pytest.mark.parametrize("path", ["/v1/evaluate", "/v1/echo"])
def test_a_query_parameter_on_a_basket_endpoint_is_refused_naming_it(
    published: Api, path: str
) -> None:
    # Given a client that names the rule set in the URL, as GET endpoints take theirs
    basket = {k: v for k, v in _basket().items() if k != "ruleset"}

    # When it sends the basket there
    response = published.call("channel", "POST", f"{path}?ruleset=fr", json=basket)

    # Then it is told where the field goes, not priced on the `default` rule set
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "query.ruleset", "message": (
        "not a parameter of this endpoint, which reads none: the basket's fields "
        "(`ruleset`, `version`, `explain`...) go in the body")}]


def test_a_body_over_the_limit_is_413(published: Api) -> None:
    response = published.call("channel", "POST", "/v1/evaluate",
                              content=b" " * (MAX_BODY_BYTES + 1),
                              headers={"Content-Type": "application/json"})

    assert response.status_code == 413
    assert response.json()["type"] == "https://remise.dev/problems/body-too-large"


def test_a_rule_source_that_does_not_compile_is_422_with_diagnostics(published: Api) -> None:
    response = published.call("marketer", "POST", "/v1/rulesets/fr/versions", json={
        "source": HEADER + "rule x {\n", "message": "broken", "parent": 1})

    assert response.status_code == 422
    diagnostics = response.json()["diagnostics"]
    assert diagnostics[0]["file"] == "fr.rules" and diagnostics[0]["line"] == 4
    assert published.call("marketer", "GET", "/v1/rulesets/fr/versions").json()[-1][
        "number"] == 1


def test_a_priority_of_thousands_of_digits_is_a_422_naming_its_line_not_a_500(
        published: Api) -> None:
    # Given a marketer's source whose priority has 5,000 digits (int() refuses them)
    source = (HEADER + 'rule x "X" {\n    priority ' + "9" * 5_000
              + "\n    discount 1% on basket\n}\n")

    # When it is validated and published, then both name the line; nothing is stored
    validated = published.call("marketer", "POST", "/v1/rulesets/fr/validate",
                               json={"source": source})
    publish = published.call("marketer", "POST", "/v1/rulesets/fr/versions", json={
        "source": source, "message": "huge priority", "parent": 1})

    line = HEADER.count("\n") + 2
    for response, status in ((validated, 200), (publish, 422)):
        assert response.status_code == status
        assert [(d["line"], d["message"]) for d in response.json()["diagnostics"]] == [
            (line, "a number of 5,000 digits is too large")]
    assert published.call("marketer", "GET", "/v1/rulesets/fr/versions").json()[-1][
        "number"] == 1


@pytest.mark.parametrize(("method", "path", "body", "field"), [
    ("POST", "/v1/rulesets/fr/versions", {"source": "x", "parent": 1}, "body.message"),
    ("POST", "/v1/rulesets/fr/versions", {"message": "m", "parent": 1}, "body"),
    ("POST", "/v1/rulesets/Bad%20Name/validate", {"source": "x"}, "path.name"),
    ("GET", "/v1/rulesets/fr/diff?to=1", None, "query.from"),
    ("GET", "/v1/rulesets/fr/live?at=tomorrow", None, "query.at"),
    ("POST", "/v1/keys", {"name": "k", "role": "boss"}, "body.role"),
    ("GET", "/v1/audit?after=1.0", None, "query.after"),  # one page, one address
    ("GET", "/v1/audit?limit=%2B5", None, "query.limit"),
    ("GET", "/v1/audit?after=1_0", None, "query.after"),
])
def test_invalid_requests_name_the_field(published: Api, method: str, path: str,
                                         body: dict[str, Any] | None, field: str) -> None:
    response = published.call("admin", method, path, json=body)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [error["field"] for error in response.json()["errors"]]


def test_unknown_paths_and_methods_are_problems_too(published: Api) -> None:
    missing = published.call("admin", "GET", "/v1/nothing-here")
    wrong_method = published.call("admin", "PUT", "/v1/evaluate")

    assert (missing.status_code, missing.json()["type"]) == (
        404, "https://remise.dev/problems/not-found")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(("role", "path"), [(None, "/healthz"), (None, "/readyz"),
                                           ("finance", "/v1/rulesets")])
def test_head_answers_as_get_does_without_the_body(
    published: Api, role: str | None, path: str
) -> None:
    # Given an endpoint a load balancer or a monitor checks with HEAD (RFC 9110 §9.3.2:
    # a general-purpose server supports GET and HEAD)
    got = published.call(role, "GET", path)

    # When it is asked with HEAD
    head = published.call(role, "HEAD", path)

    # Then it answers GET's status and headers, and no content
    assert (head.status_code, got.status_code) == (200, 200)
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["content-length"] == got.headers["content-length"]
    assert head.content == b""


def test_head_needs_a_key_where_get_does_and_is_405_where_get_is(published: Api) -> None:
    without_key = published.call(None, "HEAD", "/v1/rulesets")
    on_evaluate = published.call("channel", "HEAD", "/v1/evaluate")

    assert without_key.status_code == 401
    assert (on_evaluate.status_code, on_evaluate.headers["allow"]) == (405, "POST")


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("DELETE", "/v1/rulesets/fr/versions", "GET, HEAD, POST"),
    ("PUT", "/v1/rulesets/fr/versions/1", "GET, HEAD"),
    ("POST", "/healthz", "GET, HEAD"),
    ("GET", "/v1/evaluate", "POST"),
])
def test_a_405_names_every_method_the_path_answers(
    published: Api, method: str, path: str, allowed: str
) -> None:
    # Given a path that several routes answer, each with its own method
    # When a client uses a method none of them takes
    response = published.call("admin", method, path)

    # Then the Allow header lists what the path does take (RFC 9110 §15.5.6), so a client
    # author reading it learns how to call it
    assert (response.status_code, response.headers["allow"]) == (405, allowed)


def test_a_database_outage_is_a_503_and_live_evaluation_goes_on(published: Api) -> None:
    services = published.client.app.state.services  # type: ignore[attr-defined]
    published.call("channel", "POST", "/v1/evaluate", json=_basket())  # fr is live here
    published.call("finance", "GET", "/v1/rulesets")  # both keys known to this process
    services.store.db = create_engine("sqlite:////nonexistent/folder/remise.db")  # gone

    history = published.call("finance", "GET", "/v1/rulesets/fr/versions")
    priced = published.call("channel", "POST", "/v1/evaluate", json=_basket())

    assert history.status_code == 503
    assert history.headers["retry-after"] == "5"
    assert history.json()["type"] == "https://remise.dev/problems/store-unavailable"
    assert priced.status_code == 200


def test_a_known_key_is_refused_once_the_outage_outlasts_its_grace(
    published: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a till whose key this process knew, and an outage longer than the grace
    # (a key revoked just before the outage must not work for all of it)
    monkeypatch.setattr("api.auth.CACHE_SECONDS", 0.0)
    monkeypatch.setattr("api.auth.OUTAGE_SECONDS", 0.0)
    services = published.client.app.state.services  # type: ignore[attr-defined]
    assert published.call("channel", "POST", "/v1/evaluate", json=_basket()).status_code == 200
    services.store.db = create_engine("sqlite:////nonexistent/folder/remise.db")

    # When it prices again, its verdict past the grace
    priced = published.call("channel", "POST", "/v1/evaluate", json=_basket())

    # Then its key cannot be checked: come back later
    assert priced.status_code == 503


def test_a_flood_of_made_up_keys_does_not_push_out_the_known_ones(
    published: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a till this process knows, and a cache of at most 3 verdicts
    monkeypatch.setattr("api.auth.MAX_CACHED", 3)
    keys = published.client.app.state.services.keys  # type: ignore[attr-defined]
    assert published.call("channel", "POST", "/v1/evaluate", json=_basket()).status_code == 200

    # When 10 made-up keys are tried
    for n in range(10):
        stranger = published.call(None, "POST", "/v1/evaluate", json=_basket(),
                                  headers={"Authorization": f"Bearer rk_made_up_{n}"})
        assert stranger.status_code == 401

    # Then the till's verdict is still cached, the strangers' were let go
    assert keys.cached(published.keys["channel"]) == (True, Principal("till", "channel"))
    assert len(keys._cache) <= 4


def test_a_huge_value_is_quoted_shortened_in_its_problem(published: Api) -> None:
    # Given a price of 100,000 characters (within the body limit)
    price = "9" * 100_000 + "x"
    body = _basket(lines=[{**_line(1), "unit_price": price}])

    # When the basket is sent
    response = published.call("channel", "POST", "/v1/evaluate", json=body)

    # Then the problem names the field and says why, without sending the value back whole
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["field"] == "lines[0].unit_price"
    assert error["message"].startswith("'999")
    assert error["message"].endswith('is not an amount, e.g. "89.90"')
    assert "characters ...]" in error["message"] and len(error["message"]) < 500
    assert len(response.content) < 2_000


def test_a_known_key_keeps_pricing_past_its_cache_while_the_database_is_down(
    published: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a till whose key this process knows, and verdicts that expire at once
    # (the 5 seconds of api/auth.py, passed)
    monkeypatch.setattr("api.auth.CACHE_SECONDS", 0.0)
    services = published.client.app.state.services  # type: ignore[attr-defined]
    assert published.call("channel", "POST", "/v1/evaluate", json=_basket()).status_code == 200

    # When the database goes away
    services.store.db = create_engine("sqlite:////nonexistent/folder/remise.db")
    priced = published.call("channel", "POST", "/v1/evaluate", json=_basket())
    stranger = published.call(None, "POST", "/v1/evaluate", json=_basket(),
                              headers={"Authorization": "Bearer rk_" + "x" * 43})

    # Then the till goes on pricing on the live version; a key never seen cannot be
    # checked, and is told to come back
    assert priced.status_code == 200
    assert stranger.status_code == 503
