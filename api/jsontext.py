"""JSON text as the API and the command line read and write it.

Reading: JSON may escape half of a surrogate pair alone (``"\\ud800"``). That
decodes to a string that is not Unicode text, which no response, error message
or log line could encode back; I-JSON (RFC 7493 §2.1) forbids it. Such input is
refused with the place of the offending string, before anything else reads it.

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

import re
from collections.abc import Mapping
from typing import Any

import orjson

import engine

# A \uD800-\uDFFF escape: only then can the decoded data hold a lone surrogate.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE_ESCAPE_BYTES = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def lone_surrogate(raw: str | bytes | bytearray, data: Any) -> tuple[str, str] | None:
    """Where ``data`` (decoded from ``raw``) holds a lone surrogate: (field, message).

    The field is written as the basket errors write it (``lines[0].id``); a key
    is named by its parent. Checks nothing unless ``raw`` has such an escape,
    so the common request costs one search of its text.
    """
    escape = (_SURROGATE_ESCAPE_BYTES.search(raw) if isinstance(raw, bytes | bytearray)
              else _SURROGATE_ESCAPE.search(raw))
    return None if escape is None else _find(data, "")


def _find(value: Any, path: str) -> tuple[str, str] | None:
    if isinstance(value, str):
        found = _SURROGATE.search(value)
        return None if found is None else (path or "body", _half_pair(found.group()))
    if isinstance(value, dict):
        for key, item in value.items():
            found = _SURROGATE.search(key)
            if found is not None:  # the key itself cannot name the place
                return (path or "body", _half_pair(found.group()) + " (in a key)")
            deeper = _find(item, f"{path}.{key}" if path else key)
            if deeper is not None:
                return deeper
    if isinstance(value, list):
        for index, item in enumerate(value):
            deeper = _find(item, f"{path}[{index}]")
            if deeper is not None:
                return deeper
    return None


def _half_pair(character: str) -> str:
    return f"\\u{ord(character):04x} is half of a surrogate pair, not a character"


def response_bytes(response: Mapping[str, Any]) -> bytes:
    """``engine.dumps(response)`` as UTF-8 bytes, written by orjson where it can."""
    try:
        return orjson.dumps(response)
    except orjson.JSONEncodeError:  # an integer beyond 64 bits
        return engine.dumps(response).encode("utf-8")


__all__ = ["lone_surrogate", "response_bytes"]
