"""JSON in and out of the API: response bytes exactly engine.dumps; baskets read strictly
(UTF-8, each name once, numbers in reach, lone surrogates refused), refusals located."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from api.jsontext import JsonRefused, lone_surrogate, read_object, response_bytes
from tests.calls import python_calls
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


def refusal(raw: bytes) -> tuple[str, str]:
    with pytest.raises(JsonRefused) as refused:
        read_object(raw)
    return refused.value.field, refused.value.message


@settings(max_examples=200)
@given(st.dictionaries(st.text(), JSON_VALUES, max_size=5))
def test_an_object_is_read_as_json_loads_reads_it(value: dict[str, Any]) -> None:
    raw = json.dumps(value).encode("utf-8")
    assert read_object(raw) == json.loads(raw, parse_float=Decimal)


def test_a_fraction_is_read_as_the_exact_decimal_it_spells() -> None:
    data = read_object(b'{"unit_price": 0.1000000000000000000000000000001}')
    assert data["unit_price"] == Decimal("0.1000000000000000000000000000001")


@pytest.mark.parametrize(("raw", "field"), [
    (b'{"currency": "USD", "currency": "EUR"}', "currency"),
    (b'{"lines": [{"id": "1"}, {"id": "2", "sku": "A", "sku": "B"}]}', "lines[1].sku"),
    (b'{"customer": {"attributes": {"city": "Paris", "city": "Lyon"}}}',
     "customer.attributes.city"),
])
def test_a_name_given_twice_is_refused_at_its_field(raw: bytes, field: str) -> None:
    assert refusal(raw) == (
        field, "given twice in one object; each name may appear once (I-JSON, RFC 7493)")


def test_a_number_too_long_to_convert_is_refused_at_its_field() -> None:
    raw = b'{"lines": [{"quantity": ' + b"9" * 5000 + b"}]}"
    assert refusal(raw) == ("lines[0].quantity", "a number of 5000 digits; at most 4,300 are read")


def test_an_exponent_beyond_decimal_is_refused_at_its_field() -> None:
    field, message = refusal(b'{"version": 1e9999999999999999999999999}')
    assert (field, message) == ("version", "a number whose exponent is beyond what remise reads")


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json_numbers(constant: str) -> None:
    raw = b'{"lines": [{"unit_price": ' + constant.encode() + b"}]}"
    assert refusal(raw) == ("lines[0].unit_price", f"{constant} is not a JSON number (RFC 8259)")


@pytest.mark.parametrize("raw", [b"[" * 50_000 + b"]" * 50_000,
                                 b'{"a": ' * 50_000 + b"1" + b"}" * 50_000])
def test_nesting_deeper_than_the_stack_is_refused(raw: bytes) -> None:
    assert refusal(raw) == ("body", "arrays and objects are nested too deeply to read")


def _refused_or_read(read: Callable[[], object]) -> Callable[[], None]:
    def work() -> None:
        with contextlib.suppress(JsonRefused):
            read()
    return work


@pytest.mark.parametrize("last", [b'"\\ud83d\\ude00"',  # an escaped 😀: every string is looked at
                                  b'"\\ud800"',  # half a pair, at the very end
                                  b"NaN"])  # refused: the text is read again to locate it
def test_the_work_of_locating_a_value_does_not_grow_with_its_depth(last: bytes) -> None:
    # Given 2,000 numbers nested 900 deep (a channel key may send 2 MiB of them)
    depth = 900
    raw = b'{"a": ' + b"[" * depth + b"0," * 2000 + last + b"]" * depth + b"}"

    # When the body is read, then each value costs a few calls, not one per level it is
    # nested in (a generator per level made such a body of 2 MiB cost half a minute of
    # the event loop: every request of the worker waited)
    assert python_calls(_refused_or_read(lambda: read_object(raw))) < 20_000


def test_a_value_nested_deep_is_still_named_by_its_whole_field() -> None:
    raw = b'{"a": [[{"b": [1, "\\udfff"]}]]}'
    assert refusal(raw) == ("a[0][0].b[1]", "\\udfff is half of a surrogate pair, not a character")


def test_a_syntax_error_says_where_and_what() -> None:
    assert refusal(b'{"channel": "pos",\n "lines": [}') == (
        "body", "not valid JSON at line 2, column 12: expecting value")


def test_a_syntax_error_after_a_refused_number_is_what_is_said() -> None:
    raw = b'{"quantity": ' + b"9" * 5000 + b', "sku": }'
    assert refusal(raw) == ("body", "not valid JSON at line 1, column 5023: expecting value")


@pytest.mark.parametrize(("raw", "place"), [
    # An encoded surrogate (CESU-8), which json.loads(bytes) let through as "\ud800".
    (b'{"lines": [{"sku": "A\xed\xa0\x80"}]}', "line 1, column 22"),
    (b'{"brand":\n "Caf\xc3\xa9 A\xefgle"}', "line 2, column 9"),  # characters, not bytes
])
def test_bytes_that_are_not_utf8_are_refused_with_their_place(raw: bytes, place: str) -> None:
    field, message = refusal(raw)
    assert field == "body"
    assert message.startswith(f"not valid JSON at {place}: not UTF-8 text (byte 0x")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32"])
def test_utf16_and_utf32_are_refused(encoding: str) -> None:
    raw = '{"sku": "A\ud800"}'.encode(encoding, "surrogatepass")
    assert refusal(raw)[0] == "body"


def test_a_byte_order_mark_is_ignored() -> None:
    assert read_object(b'\xef\xbb\xbf{"channel": "pos"}') == {"channel": "pos"}


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
