"""Basket conditions (`when subtotal <op> X`, `when quantity ... <op> N`), each comparison.

The compiled condition compares natively (engine/compiled.py); this table,
written by hand, holds every operator the language accepts to its meaning at
one minor unit below, at, and one above the bound.
"""

from __future__ import annotations

import pytest
from comparison_table import COMPARISONS

from dsl import compile_source
from engine.compiled import CompiledCondition, compile_rule

BELOW, AT, ABOVE = 4999, 5000, 5001  # cents around 50.00 EUR


def subtotal_condition(op: str) -> CompiledCondition:
    source = ("currency EUR\ntimezone UTC\n"
              f'rule r "R" {{ when subtotal {op} 50.00 EUR\n discount 5.00 EUR on basket }}\n')
    rule = compile_rule(compile_source(source, "t.rules").rules[0], "EUR")
    (condition,) = rule.conditions
    return condition


@pytest.mark.parametrize(("op", "below", "at", "above"), COMPARISONS)
def test_each_comparison_holds_where_it_says(op: str, below: bool, at: bool, above: bool
                                             ) -> None:
    # given a basket rule with `when subtotal <op> 50.00 EUR`
    condition = subtotal_condition(op)
    # when the subtotal is one cent below, exactly at, and one cent above 50.00
    # then the condition holds as the table says
    assert [condition.holds(v) for v in (BELOW, AT, ABOVE)] == [below, at, above]
