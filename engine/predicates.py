"""Item predicates and audiences compiled to plain closures, once per rule set.

The evaluator calls these on every candidate line, so they are built here
from the IR tree into nested Python closures: no tree walking, no Decimal
work at evaluation time (prices are compared in whole minor units).
"""

from __future__ import annotations

import operator
import unicodedata
from collections.abc import Callable, Mapping
from typing import Protocol

from .basket import Customer
from .ir import (
    Audience,
    AudienceAnd,
    AudienceAttributeIn,
    AudienceFlag,
    AudienceNot,
    AudienceOr,
    AudienceSegment,
    AudienceTierIn,
    ItemAnd,
    ItemAttributeIn,
    ItemFieldIn,
    ItemNot,
    ItemOr,
    ItemPredicate,
    ItemPriceCompare,
)
from .money import format_money, to_minor

COMPARE: dict[str, Callable[[int, int], bool]] = {
    ">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt,
    "=": operator.eq, "!=": operator.ne,
}  # fmt: skip


class ItemView(Protocol):
    """What a predicate reads of a basket line (prices in minor units)."""

    sku: str
    category: str | None
    brand: str | None
    attributes: Mapping[str, str]
    quantity: int
    unit: int


ItemMatch = Callable[[ItemView], bool]
AudienceMatch = Callable[[Customer | None], bool]


def nfc(text: str) -> str:
    """``text`` in Unicode NFC, the form a basket's text is read in (basket.py): a rule
    written with a decomposed "é" (some editors save one) matches the precomposed one a
    till sends, and the other way round. Once per rule set, never per basket."""
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def compile_items(predicate: ItemPredicate | None, currency: str) -> ItemMatch:
    if predicate is None:
        return lambda item: True
    if isinstance(predicate, ItemFieldIn):
        values, name = frozenset(map(nfc, predicate.values)), predicate.field
        return lambda item: getattr(item, name) in values
    if isinstance(predicate, ItemAttributeIn):
        values, key = frozenset(map(nfc, predicate.values)), nfc(predicate.name)
        return lambda item: item.attributes.get(key) in values
    if isinstance(predicate, ItemPriceCompare):
        compare, bound = COMPARE[predicate.op], to_minor(predicate.amount, currency)
        return lambda item: compare(item.unit, bound)
    if isinstance(predicate, ItemNot):
        inner = compile_items(predicate.arg, currency)
        return lambda item: not inner(item)
    parts = [compile_items(arg, currency) for arg in predicate.args]
    if isinstance(predicate, ItemAnd):
        return lambda item: all(part(item) for part in parts)
    return lambda item: any(part(item) for part in parts)


def index_keys(predicate: ItemPredicate | None) -> frozenset[tuple[str, str]] | None:
    """(field, value) pairs of which a matching line must have at least one.

    None when no such set exists (the rule must be checked on every basket).
    """
    if isinstance(predicate, ItemFieldIn):
        return frozenset((predicate.field, nfc(value)) for value in predicate.values)
    if isinstance(predicate, ItemAnd):
        keyed = [keys for keys in map(index_keys, predicate.args) if keys is not None]
        return min(keyed, key=len) if keyed else None
    if isinstance(predicate, ItemOr):
        alternatives = [index_keys(arg) for arg in predicate.args]
        if any(keys is None for keys in alternatives):
            return None
        return frozenset().union(*(keys for keys in alternatives if keys is not None))
    return None


def keys_decide(predicate: ItemPredicate | None) -> bool:
    """Whether a line found under one of ``index_keys(predicate)`` always matches.

    True for SKU, category and brand lists and for alternatives of them: the
    evaluator then need not run the predicate on the lines its index found.
    """
    if isinstance(predicate, ItemFieldIn):
        return True
    if isinstance(predicate, ItemOr):
        return all(keys_decide(arg) for arg in predicate.args)
    return False


def compile_audience(audience: Audience | None) -> AudienceMatch:
    if audience is None:
        return lambda customer: True
    if isinstance(audience, AudienceFlag):
        return _flag(audience.flag)
    if isinstance(audience, AudienceTierIn):
        tiers = frozenset(map(nfc, audience.values))
        return lambda customer: customer is not None and customer.tier in tiers
    if isinstance(audience, AudienceSegment):
        segment = nfc(audience.value)
        return lambda customer: customer is not None and segment in customer.segments
    if isinstance(audience, AudienceAttributeIn):
        values, key = frozenset(map(nfc, audience.values)), nfc(audience.name)
        return lambda customer: customer is not None and customer.attributes.get(key) in values
    if isinstance(audience, AudienceNot):
        inner = compile_audience(audience.arg)
        return lambda customer: not inner(customer)
    parts = [compile_audience(arg) for arg in audience.args]
    if isinstance(audience, AudienceAnd):
        return lambda customer: all(part(customer) for part in parts)
    assert isinstance(audience, AudienceOr)
    return lambda customer: any(part(customer) for part in parts)


def _flag(flag: str) -> AudienceMatch:
    if flag == "cardholder":
        return lambda customer: customer is not None and customer.cardholder
    if flag == "known":
        return lambda customer: customer is not None and customer.id is not None
    return lambda customer: customer is None or customer.id is None


# A list longer than this is cut in a reason: a cashier reads a line, not a catalogue.
LISTED_VALUES = 3


def describe_items(predicate: ItemPredicate, currency: str) -> str:
    """The items a predicate matches, in the words of the rule language, for reasons
    such as "needs quantity of items where category = "boots" >= 2"."""
    if isinstance(predicate, ItemFieldIn | ItemAttributeIn):
        return _field_in(predicate)
    if isinstance(predicate, ItemPriceCompare):
        return f"price {predicate.op} {format_money(predicate.amount, currency)} {currency}"
    if isinstance(predicate, ItemAnd):
        return " and ".join(_grouped(arg, currency) for arg in predicate.args)
    if isinstance(predicate, ItemOr):
        return " or ".join(describe_items(arg, currency) for arg in predicate.args)
    assert isinstance(predicate, ItemNot)
    negated = predicate.arg
    if isinstance(negated, ItemFieldIn | ItemAttributeIn) and len(negated.values) == 1:
        return _field_in(negated, equal="!=")  # as the marketer wrote it
    return f"not {_grouped(negated, currency)}"


def _field_in(predicate: ItemFieldIn | ItemAttributeIn, equal: str = "=") -> str:
    what = (predicate.field if isinstance(predicate, ItemFieldIn)
            else f"attribute {_quoted(predicate.name)}")
    values = predicate.values
    if len(values) == 1:
        return f"{what} {equal} {_quoted(values[0])}"
    shown = ", ".join(_quoted(value) for value in values[:LISTED_VALUES])
    more = len(values) - LISTED_VALUES
    return f"{what} in ({shown}, and {more} more)" if more > 0 else f"{what} in ({shown})"


def _grouped(predicate: ItemPredicate, currency: str) -> str:
    """Parenthesised where `and` or `not` would otherwise bind it differently."""
    text = describe_items(predicate, currency)
    return f"({text})" if isinstance(predicate, ItemOr | ItemAnd) else text


def _quoted(text: str) -> str:
    """A text as the rule language writes it (a quote and a backslash escaped)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def describe_audience_miss(audience: Audience, customer: Customer | None) -> str:
    """A cashier-readable reason why ``customer`` is outside ``audience``."""
    who = "the anonymous customer" if customer is None or customer.id is None else \
        "the customer"
    if isinstance(audience, AudienceFlag):
        return {
            "cardholder": "customer is not a cardholder",
            "known": "customer is anonymous",
            "anonymous": "customer is identified, the rule is for anonymous customers",
        }[audience.flag]
    if isinstance(audience, AudienceTierIn):
        tier = customer.tier if customer is not None else None
        return f"tier must be {' or '.join(audience.values)}, {who} has " + (
            f'"{tier}"' if tier else "no tier")
    if isinstance(audience, AudienceSegment):
        return f"customer is not in segment {_quoted(audience.value)}"
    if isinstance(audience, AudienceAttributeIn):
        # what the customer's profile holds: "paris" against "Paris" is a miss a cashier
        # can see (texts compare case included), and "none" says the channel sent nothing
        values = " or ".join(map(_quoted, audience.values))
        given = customer.attributes.get(audience.name) if customer is not None else None
        return f"customer attribute {_quoted(audience.name)} must be {values}, " + (
            f"{who} has none" if given is None else f"{who}'s is {_quoted(given)}")
    if isinstance(audience, AudienceAnd):  # the first part that fails says it all
        failing = next(arg for arg in audience.args if not compile_audience(arg)(customer))
        return describe_audience_miss(failing, customer)
    if isinstance(audience, AudienceOr):
        return "; ".join(describe_audience_miss(arg, customer) for arg in audience.args)
    assert isinstance(audience, AudienceNot)
    return f"the rule excludes customers with {_describe(audience.arg)}"


def _describe(audience: Audience) -> str:
    """The audience in the words of the rule language (for "excludes" reasons)."""
    if isinstance(audience, AudienceFlag):
        return {"cardholder": "a card", "known": "an id", "anonymous": "no id"}[audience.flag]
    if isinstance(audience, AudienceTierIn):
        return "tier " + " or ".join(audience.values)
    if isinstance(audience, AudienceSegment):
        return f"segment {_quoted(audience.value)}"
    if isinstance(audience, AudienceAttributeIn):
        return f'attribute {_quoted(audience.name)} = {" or ".join(map(_quoted, audience.values))}'
    if isinstance(audience, AudienceNot):
        return f"without {_describe_part(audience.arg)}"
    joined = " and " if isinstance(audience, AudienceAnd) else " or "
    assert isinstance(audience, AudienceAnd | AudienceOr)
    return joined.join(_describe_part(arg) for arg in audience.args)


def _describe_part(audience: Audience) -> str:
    """A part of a compound audience, parenthesised so that it reads as the rule does."""
    text = _describe(audience)
    return f"({text})" if isinstance(audience, AudienceAnd | AudienceOr) else text


__all__ = [
    "COMPARE",
    "AudienceMatch",
    "ItemMatch",
    "ItemView",
    "compile_audience",
    "compile_items",
    "describe_audience_miss",
    "describe_items",
    "index_keys",
    "keys_decide",
    "nfc",
]
