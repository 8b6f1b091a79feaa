"""JSON text as the API and the command line read and write it.

Reading (``read_object``): one strict reader for a basket, whether it comes over
HTTP or from a file, refusing with a ``JsonRefused`` that names the field, or
``body`` with a line and column, never letting a decoder's own error escape:

* The text must be UTF-8 (RFC 8259 §8.1), decoded strictly here: ``json.loads``
  of bytes guesses UTF-16 or UTF-32 and lets encoded surrogates through.
* A name appears once per object (I-JSON, RFC 7493 §2.3): decoders disagree on
  which of ``{"currency": "USD", "currency": "EUR"}`` wins (Python's the last,
  others the first), so a gateway, a log and remise could each read another
  basket from the same text.
* Numbers: a fraction is read as the exact ``Decimal`` it spells; an integer of
  more digits than Python converts (4,300), an exponent beyond ``Decimal``'s
  range and ``NaN``/``Infinity`` (not JSON) are refused at their field.
* Nesting deeper than the interpreter's stack (no basket nests beyond four
  levels) is refused rather than crashing the decoder.
* JSON may escape half of a surrogate pair alone (``"\\ud800"``). That
  decodes to a string that is not Unicode text, which no response, error
  message or log line could encode back; I-JSON (RFC 7493 §2.1) forbids it.

The common basket is read in one pass of the C decoder; only a refused one is
read a second time, to find the field to name.

Writing: a response body is the engine's canonical JSON (``engine.dumps``),
UTF-8 encoded. ``/v1/evaluate`` has the engine write its text itself
(``Evaluator.evaluate_json``). For the other bodies orjson writes those same
bytes several times faster for what a response holds: str keys in insertion
order, strings, integers, booleans, null, lists; both escape exactly ``"``,
``\\`` and the control characters, the same way (tests/api/test_jsontext.py
holds them to it). What orjson refuses (an
integer beyond 64 bits) is written by ``engine.dumps`` itself.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any, NoReturn

import orjson

import engine
from engine.errors import printable, shortened

# A \uD800-\uDFFF escape: only then can the decoded data hold a lone surrogate.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE_ESCAPE_BYTES = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class JsonRefused(Exception):
    """JSON text remise does not read: ``field`` says where (``lines[0].quantity``, or
    ``body`` for the text as a whole) and ``message`` why, as a sentence."""

    def __init__(self, field: str, message: str) -> None:
        # A name given twice is quoted as the field: any text, of any length (what the
        # engine's BasketError does with what it quotes, for the same reason).
        field, message = printable(field), printable(message)
        super().__init__(shortened(message) if field == "body"
                         else f"{shortened(field)}: {shortened(message)}")
        self.field = field
        self.message = message


def read_object(raw: bytes | bytearray) -> dict[str, Any]:
    """The JSON object ``raw`` holds, fractions as ``Decimal``; ``JsonRefused`` otherwise."""
    text = _utf8(raw)
    try:
        data = _decode(text)
        surrogate = lone_surrogate(raw, data)
    except RecursionError:  # the C decoder stops at the interpreter's limit
        raise JsonRefused("body", "arrays and objects are nested too deeply to read") from None
    if not isinstance(data, dict):
        raise JsonRefused("body", "expected a JSON object")
    if surrogate is not None:
        raise JsonRefused(*surrogate)
    return data


def _utf8(raw: bytes | bytearray) -> str:
    try:
        text = raw.decode("utf-8")  # strict: refuses encoded surrogates too
    except UnicodeDecodeError as error:
        raise JsonRefused("body", f"not valid JSON {_place(raw, error.start)}: not UTF-8 "
                                  f"text (byte 0x{raw[error.start]:02x})") from None
    # RFC 8259 §8.1: senders must not add a byte order mark, readers may ignore one.
    # Ignored, as before and as rule files' is: Windows tools write one.
    return text.removeprefix("\ufeff")


def _place(raw: bytes | bytearray, offset: int) -> str:
    """``at line L, column C`` of the byte at ``offset``, counted as the JSON decoder
    counts: lines from 1, columns in characters from 1 (what precedes is valid UTF-8)."""
    line = raw.count(b"\n", 0, offset) + 1
    line_start = raw.rfind(b"\n", 0, offset) + 1
    column = len(raw[line_start:offset].decode("utf-8")) + 1
    return f"at line {line}, column {column}"


class _NameTwice(ValueError):
    """Raised by the fast reading at the first object that repeats a name."""


def _unique_names(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Called by the C decoder for every object: one dict() and two len() are all it
    # adds to a basket that repeats no name (measured in docs/api.md).
    found = dict(pairs)
    if len(found) != len(pairs):
        raise _NameTwice
    return found


def _not_json(constant: str) -> NoReturn:
    raise ValueError(constant)  # NaN, Infinity: located by the second reading


# Shared by every request: a decoder is stateless between calls (what json.loads
# builds anew on each call given any option).
_READER = json.JSONDecoder(parse_float=Decimal, parse_constant=_not_json,
                           object_pairs_hook=_unique_names)


def _decode(text: str) -> Any:
    try:
        return _READER.decode(text)
    except json.JSONDecodeError as error:
        if not text.strip():  # "expecting value at line 1, column 1" did not say why
            raise JsonRefused("body", "empty: expected a JSON object") from None
        raise _syntax(error) from None
    except (ValueError, ArithmeticError):  # a name twice, a number out of reach, NaN
        raise _located(text) from None


def _syntax(error: json.JSONDecodeError) -> JsonRefused:
    reason = error.msg[:1].lower() + error.msg[1:]
    return JsonRefused("body", f"not valid JSON at line {error.lineno}, column "
                               f"{error.colno}: {reason}")


class _Refused:
    """Left by the locating reading where the fast one failed: why, and for a name
    given twice, which name (the field is then that name within the object)."""

    __slots__ = ("message", "name")

    def __init__(self, message: str, name: str | None = None) -> None:
        self.message = message
        self.name = name

    def field(self, path: str) -> str:
        if self.name is None:
            return path or "body"
        return f"{path}.{self.name}" if path else self.name


NAME_TWICE = "given twice in one object; each name may appear once (I-JSON, RFC 7493)"


def _names_once_or_refused(pairs: list[tuple[str, Any]]) -> dict[str, Any] | _Refused:
    found: dict[str, Any] = {}
    for name, value in pairs:
        if name in found:
            return _Refused(NAME_TWICE, name)
        found[name] = value
    return found


def _int_or_refused(digits: str) -> int | _Refused:
    try:
        return int(digits)
    except ValueError:  # beyond sys.get_int_max_str_digits(): quadratic to convert
        return _Refused(f"a number of {len(digits.lstrip('-'))} digits; at most "
                        f"{sys.get_int_max_str_digits():,} are read")


def _decimal_or_refused(text: str) -> Decimal | _Refused:
    try:
        return Decimal(text)
    except ArithmeticError:
        return _Refused("a number whose exponent is beyond what remise reads")


def _constant_refused(constant: str) -> _Refused:
    return _Refused(f"{constant} is not a JSON number (RFC 8259)")


_LOCATOR = json.JSONDecoder(parse_float=_decimal_or_refused, parse_int=_int_or_refused,
                            parse_constant=_constant_refused,
                            object_pairs_hook=_names_once_or_refused)


def _located(text: str) -> JsonRefused:
    """Why the fast reading failed, at its field: the text read again with a marker left
    in place of each refused value, then the first marker found."""
    try:
        data = _LOCATOR.decode(text)
    except json.JSONDecodeError as error:  # a syntax error after the refused value
        return _syntax(error)
    for place, value in _walk(data):
        if isinstance(value, _Refused):
            return JsonRefused(value.field(_field(place)), value.message)
    # Not met: each failure of the fast reading leaves a marker. Still a 422, never a 500.
    return JsonRefused("body", "not JSON that remise can read")


# Where a value sits: (the place of its parent, its name or index); None for the body.
_Place = tuple[Any, str | int] | None


def _walk(value: Any) -> Iterator[tuple[_Place, Any]]:
    """Every value within ``value``, itself first, in the order of the text, with its
    place (``_field`` writes it). Iterative, each place made in constant time: a
    generator per level and a path string per value made a value 900 levels deep cost
    900 times one at the top (2 MiB of nested numbers: half a minute of the event loop)."""
    stack: list[tuple[_Place, Any]] = [(None, value)]
    while stack:
        place, item = stack.pop()
        yield place, item
        if isinstance(item, dict):
            stack.extend(((place, key), child) for key, child in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend(((place, index), item[index])
                         for index in range(len(item) - 1, -1, -1))


def _field(place: _Place) -> str:
    """A place as the basket errors write a field (``lines[0].id``; "" for the body)."""
    steps: list[str | int] = []
    while place is not None:
        place, step = place
        steps.append(step)
    path = ""
    for step in reversed(steps):
        if isinstance(step, int):
            path += f"[{step}]"
        else:
            path = f"{path}.{step}" if path else step
    return path


def lone_surrogate(raw: str | bytes | bytearray, data: Any) -> tuple[str, str] | None:
    """Where ``data`` (decoded from ``raw``) holds a lone surrogate: (field, message).

    The field is written as the basket errors write it (``lines[0].id``); a key
    is named by its parent. Checks nothing unless ``raw`` has such an escape,
    so the common request costs one search of its text.
    """
    escape = (_SURROGATE_ESCAPE_BYTES.search(raw) if isinstance(raw, bytes | bytearray)
              else _SURROGATE_ESCAPE.search(raw))
    if escape is None:
        return None
    for place, value in _walk(data):
        if isinstance(value, str):
            found = _SURROGATE.search(value)
            if found is not None:
                return (_field(place) or "body", _half_pair(found.group()))
        elif isinstance(value, dict):
            for key in value:
                found = _SURROGATE.search(key)
                if found is not None:  # the key itself cannot name the place
                    return (_field(place) or "body", _half_pair(found.group()) + " (in a key)")
    return None


def _half_pair(character: str) -> str:
    return f"\\u{ord(character):04x} is half of a surrogate pair, not a character"


def response_bytes(response: Mapping[str, Any]) -> bytes:
    """``engine.dumps(response)`` as UTF-8 bytes, written by orjson where it can."""
    try:
        return orjson.dumps(response)
    except orjson.JSONEncodeError:  # an integer beyond 64 bits
        return engine.dumps(response).encode("utf-8")


__all__ = ["JsonRefused", "lone_surrogate", "read_object", "response_bytes"]
