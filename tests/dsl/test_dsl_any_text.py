"""Whatever a marketer (or a fuzzer) sends, the language answers with located
diagnostics, never a crash."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

import dsl

HEADER = "currency EUR\ntimezone Europe/Paris\n\n"
PIECES = ["rule", "price", "x", '"T"', "{", "}", "\n", " ", "discount", "10%", "on", "items",
          "where", "category", "=", '"a"', "valid", "every", "sat", "09:00-20:00", "for",
          "30", "minutes", "from", "publish", "audience", "cardholder", "and", "not", "(",
          ")", "buy", "3", "pay", "2", "EUR", "5.00", "coupon", "#", "\x1e", "\u2028", "\f",
          "\r\n", "\x00", "é",
          # what a marketer writes the way another tool would (dsl/hints.py)
          "\u201c", "\u2013", "\u00a0", "'", "&", "==", ",", "24:00", "9999-12-31", "to",
          "until", "get", "x2", "et", "mon-fri", "EST", "America/New_York", "segment",
          "tier", "price", "each", "basket", "-"]


def _assert_located(source: str) -> None:
    lines = source.split("\n") or [""]
    try:
        dsl.compile_source(source, "any.rules")
    except dsl.DslError as error:
        assert error.diagnostics
        for diagnostic in error.diagnostics:
            assert 1 <= diagnostic.line <= len(lines)
            assert diagnostic.column >= 1
            assert diagnostic.message
            diagnostic.render()


def test_a_record_separator_is_an_invisible_character_on_line_1() -> None:
    try:
        dsl.compile_source("\x1e", "any.rules")
    except dsl.DslError as error:
        assert [(d.line, d.column, d.message) for d in error.diagnostics] == [
            (1, 1, "an invisible character (U+001E)")]
    else:
        raise AssertionError("compiled")


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_gets_located_diagnostics(source: str) -> None:
    _assert_located(source)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40).map(" ".join))
def test_rule_shaped_text_gets_located_diagnostics(body: str) -> None:
    _assert_located(HEADER + body)
