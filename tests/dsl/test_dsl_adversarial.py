"""Defects an adversarial review of the rule language found: given a source, when it
is checked, compiled or formatted, then the marketer gets what the text says, or
every located error at once. (Messages are pinned by the golden cases.)"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dsl
from engine import ir

PUBLISHED = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
RULE = 'currency EUR\ntimezone Europe/Paris\n\nrule a "T" {{\n    {}\n}}\n'


def compiled(source: str) -> list[ir.Rule]:
    ruleset = dsl.compile_source(source, "x.rules", publish_at=PUBLISHED)
    return [rule.model_copy(update={"source": None}) for rule in ruleset.rules]


def diagnostics_of(source: str) -> list[tuple[int, int, str]]:
    with pytest.raises(dsl.DslError) as caught:
        dsl.compile_source(source, "x.rules")
    return [(d.line, d.column, d.message) for d in caught.value.diagnostics]


# Parentheses the formatter drops must not change the IR.


@pytest.mark.parametrize(("written", "canonical"), [
    ('discount 10% on items where category = "a" and (brand = "b" and sku = "c")',
     'discount 10% on items where category = "a" and brand = "b" and sku = "c"'),
    ('discount 10% on items where (sku = "a" or sku = "b") or (sku = "c" or sku = "d")',
     'discount 10% on items where sku = "a" or sku = "b" or sku = "c" or sku = "d"'),
    ('audience cardholder or (known or (segment "s" or tier = "g"))',
     'audience cardholder or known or segment "s" or tier = "g"'),
])
def test_formatting_away_redundant_parentheses_keeps_the_compiled_rule(
        written: str, canonical: str) -> None:
    source = RULE.format(written + "\n    discount 1% on basket"
                         if written.startswith("audience") else written)

    formatted = dsl.format_source(source)

    assert canonical in formatted
    assert compiled(formatted) == compiled(source)


ITEM_ATOMS = st.sampled_from(['sku = "a"', 'category != "b"', 'brand in ("x", "y")',
                              'attribute "q" != "1"', "price >= 5.00 EUR", "price < 3"])
AUDIENCE_ATOMS = st.sampled_from(["cardholder", "known", 'tier in ("a", "b")',
                                  'segment "s"', 'attribute "c" = "P"'])


def conditions(atoms: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.recursive(atoms, lambda inner: st.one_of(
        inner.map(lambda c: f"not {c}"), inner.map(lambda c: f"({c})"),
        st.lists(inner, min_size=2, max_size=3).map(" and ".join),
        st.lists(inner, min_size=2, max_size=3).map(" or ".join)), max_leaves=8)


@settings(max_examples=200, deadline=None)
@given(conditions(AUDIENCE_ATOMS), conditions(ITEM_ATOMS))
def test_any_nesting_of_conditions_formats_stably_to_the_same_rule(audience: str,
                                                                   items: str) -> None:
    source = RULE.format(f"audience {audience}\n    discount 5% on items where {items}")
    try:
        expected = compiled(source)
    except dsl.DslError:
        return  # nested too deeply: refused, which other tests pin

    formatted = dsl.format_source(source)

    assert dsl.format_source(formatted) == formatted
    assert compiled(formatted) == expected
