"""explain names the items a quantity condition counts in the rule language
(engine.predicates.describe_items): written back into a rule, the words compile to
the very predicate they describe."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import dsl
from engine import ir
from engine.predicates import LISTED_VALUES, describe_items

# Quotes and backslashes must come back escaped; "é" and inner spaces as they are (a
# rule refuses a value with a space around it, which no basket's value would match).
texts = st.text(alphabet='abcXYZ09 -"\\é', min_size=1, max_size=6).filter(
    lambda text: text.strip() == text)
value_lists = st.lists(texts, min_size=1, max_size=LISTED_VALUES, unique=True).map(tuple)
leaves = st.one_of(
    st.builds(ir.ItemFieldIn, field=st.sampled_from(["sku", "category", "brand"]),
              values=value_lists),
    st.builds(ir.ItemAttributeIn, name=texts, values=value_lists),
    st.builds(ir.ItemPriceCompare, op=st.sampled_from([">=", ">", "<=", "<", "=", "!="]),
              amount=st.integers(1, 99_999).map(lambda cents: Decimal(cents) / 100)),
)
predicates = st.recursive(leaves, lambda inner: st.one_of(
    st.builds(ir.ItemAnd, args=st.lists(inner, min_size=2, max_size=3).map(tuple)),
    st.builds(ir.ItemOr, args=st.lists(inner, min_size=2, max_size=3).map(tuple)),
    st.builds(ir.ItemNot, arg=inner)), max_leaves=6)


def flattened(predicate: Any) -> Any:
    """``a and (b and c)`` is ``a and b and c``: the language keeps no such nesting."""
    if isinstance(predicate, ir.ItemAnd | ir.ItemOr):
        kind = type(predicate)
        args: list[Any] = []
        for arg in map(flattened, predicate.args):
            args.extend(arg.args if isinstance(arg, kind) else (arg,))
        return kind(args=tuple(args))
    if isinstance(predicate, ir.ItemNot):
        return ir.ItemNot(arg=flattened(predicate.arg))
    return predicate


@settings(max_examples=300, deadline=None)
@given(predicates)
def test_the_items_described_compile_back_to_the_same_predicate(predicate: Any) -> None:
    # given the words explain uses for a predicate
    words = describe_items(predicate, "EUR")

    # when a marketer writes them into a rule
    source = ('currency EUR\nrule q "Q" {\n'
              f'    when quantity of items where {words} >= 1\n'
              '    discount 5% on basket\n}\n')
    rule = dsl.compile_source(source, "q.rules").rules[0]

    # then the rule counts exactly those items
    condition = rule.conditions[0]
    assert isinstance(condition, ir.QuantityCondition)
    assert condition.items == flattened(predicate)
