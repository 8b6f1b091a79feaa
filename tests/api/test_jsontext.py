"""JSON in and out of the API: response bytes exactly engine.dumps; lone surrogates refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from api.jsontext import lone_surrogate, response_bytes
from tests.store.scenario import BOOTS_10, HEADER, boots_basket

from .conftest import Api

# What a response can hold: str keys, text (control characters and every plane
# included; hypothesis leaves out surrogates, which the API refuses on input),
# integers of any size (beyond 64 bits orjson refuses and engine.dumps writes),
# booleans, null, lists.
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


@settings(max_examples=400)
@given(JSON_VALUES)
def test_response_bytes_are_engine_dumps_byte_for_byte(value: Any) -> None:
    response = {"value": value}
    assert response_bytes(response) == engine.dumps(response).encode("utf-8")


@pytest.mark.parametrize("text", ["\x00\x1f\x7f", '"quoted" \\ back', "\u2028\u2029\ufeff",
                                  "Averse : -15% sur les vêtements", "雨 ☔ 😀"])
def test_response_bytes_escape_what_engine_dumps_escapes(text: str) -> None:
    response = {"rule": text, "title": text}
    assert response_bytes(response) == engine.dumps(response).encode("utf-8")


def test_integers_beyond_64_bits_are_written_by_engine_dumps() -> None:
    response = {"points": {"total": 2**70}}
    assert response_bytes(response) == b'{"points":{"total":1180591620717411303424}}'


@pytest.mark.parametrize(("text", "where"), [
    ('{"lines": [{"id": "1"}, {"id": "\\ud800x"}]}', ("lines[1].id", "\\ud800 is half")),
    ('{"customer": {"segments": ["a", "\\udfff"]}}', ("customer.segments[1]", "\\udfff is")),
    ('{"customer": {"attributes": {"\\udbff": "x"}}}',
     ("customer.attributes", "(in a key)")),
    ('{"source": "\\ud800"}', ("source", "half of a surrogate pair")),
])
def test_a_lone_surrogate_is_found_with_its_field(text: str, where: tuple[str, str]) -> None:
    found = lone_surrogate(text, json.loads(text))
    assert found is not None
    assert found[0] == where[0] and where[1] in found[1]


@pytest.mark.parametrize("text", [
    '{"title": "\\ud83d\\ude00"}',  # a whole pair is a character (😀)
    '{"title": "\\\\ud800"}',  # an escaped backslash, then the letters "ud800"
    '{"title": "plain"}',
])
def test_whole_characters_are_not_refused(text: str) -> None:
    assert lone_surrogate(text, json.loads(text)) is None
    assert lone_surrogate(text.encode(), json.loads(text)) is None


SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _post(api: Api, role: str, path: str, text: str) -> Any:
    return api.call(role, "POST", path, content=text.encode("utf-8"),
                    headers={"Content-Type": "application/json"})


@SQLITE
@pytest.mark.parametrize("path", ["/v1/evaluate", "/v1/echo"])
def test_a_basket_with_half_a_surrogate_pair_is_422_not_500(api: Api, path: str) -> None:
    api.call("admin", "POST", "/v1/rulesets/fr/versions",
             json={"source": HEADER + BOOTS_10, "message": "v1", "parent": 0})
    text = json.dumps({**boots_basket(), "ruleset": "fr"}).replace(
        '"sku": "SOCK', '"sku": "\\ud800SOCK')

    response = _post(api, "channel", path, text)

    assert response.status_code == 422
    assert response.json()["errors"] == [{
        "field": "lines[1].sku", "message": "\\ud800 is half of a surrogate pair, not a character"}]


@SQLITE
def test_rules_with_half_a_surrogate_pair_are_422_and_publish_nothing(api: Api) -> None:
    # Bodies with a schema are read by pydantic, which refuses them itself.
    text = json.dumps({"source": HEADER + BOOTS_10, "message": "v1", "parent": 0}).replace(
        "Bottes", "\\udc00Bottes", 1)
    assert "\\udc00" in text

    response = _post(api, "marketer", "/v1/rulesets/fr/versions", text)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.source"
    assert api.call("marketer", "GET", "/v1/rulesets").json() == []
