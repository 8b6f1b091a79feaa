"""engine/predicates.py: who is anonymous, how prices compare, text written decomposed
in a rule, and the words a reason uses (mutation review)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from comparison_table import COMPARISONS

from engine.basket import Customer
from engine.ir import (
    Audience,
    AudienceAttributeIn,
    AudienceFlag,
    AudienceSegment,
    AudienceTierIn,
    Comparison,
    ItemAnd,
    ItemAttributeIn,
    ItemFieldIn,
    ItemNot,
    ItemPriceCompare,
)
from engine.predicates import (
    compile_audience,
    compile_items,
    describe_audience_miss,
    describe_items,
)

NO_ID = Customer(id=None, cardholder=True, tier="gold")  # a card scanned, no account


def test_a_customer_without_an_id_is_anonymous() -> None:
    assert compile_audience(AudienceFlag(flag="anonymous"))(NO_ID) is True


def test_a_customer_without_an_id_is_not_known() -> None:
    assert compile_audience(AudienceFlag(flag="known"))(NO_ID) is False


@pytest.mark.parametrize(("amount", "currency", "text"), [
    (Decimal("40"), "EUR", "price >= 40.00 EUR"),
    (Decimal("1.5"), "KWD", "price >= 1.500 KWD"),
    (Decimal("1500"), "JPY", "price >= 1500 JPY"),
])
def test_a_price_in_a_reason_is_written_in_the_currencys_minor_unit(
        amount: Decimal, currency: str, text: str) -> None:
    assert describe_items(ItemPriceCompare(op=">=", amount=amount), currency) == text


@pytest.mark.parametrize(("customer", "text"), [
    (Customer(id=None, tier="silver"), 'tier must be gold, the anonymous customer has "silver"'),
    (Customer(id="c-42", tier="silver"), 'tier must be gold, the customer has "silver"'),
])
def test_a_tier_miss_says_whose_tier_it_read(customer: Customer, text: str) -> None:
    assert describe_audience_miss(AudienceTierIn(values=("gold",)), customer) == text


@dataclass(frozen=True)
class Item:
    """A basket line as a predicate reads it: prices in minor units."""

    sku: str = "T-100"
    category: str | None = None
    brand: str | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)
    quantity: int = 1
    unit: int = 0


@pytest.mark.parametrize(("op", "below", "at", "above"), COMPARISONS)
def test_each_price_comparison_holds_where_it_says(op: Comparison, below: bool, at: bool,
                                                   above: bool) -> None:
    # Given "price <op> 40.00 EUR", when lines cost 39.99, 40.00 and 40.01
    matches = compile_items(ItemPriceCompare(op=op, amount=Decimal("40.00")), "EUR")

    # Then each matches as the comparison reads
    assert [matches(Item(unit=unit)) for unit in (3999, 4000, 4001)] == [below, at, above]


# A rule's text written decomposed ("e" + U+0301, as some editors save it) matches the
# precomposed text a basket is read in (engine/basket.py reads every matched text in NFC).
DECOMPOSED, COMPOSED = "cafe\u0301", "caf\u00e9"


def test_a_decomposed_attribute_name_and_value_match_a_basket_line() -> None:
    matches = compile_items(ItemAttributeIn(name=DECOMPOSED, values=(DECOMPOSED,)), "EUR")

    assert matches(Item(attributes={COMPOSED: COMPOSED}))


def test_a_decomposed_category_matches_where_the_index_does_not_decide() -> None:
    # "category = café and not brand = ..." is run line by line, not decided by keys
    predicate = ItemAnd(args=(ItemFieldIn(field="category", values=(DECOMPOSED,)),
                              ItemNot(arg=ItemFieldIn(field="brand", values=("Aigle",)))))

    assert compile_items(predicate, "EUR")(Item(category=COMPOSED, brand="Rains"))


@pytest.mark.parametrize("audience", [
    AudienceTierIn(values=(DECOMPOSED,)),
    AudienceSegment(value=DECOMPOSED),
    AudienceAttributeIn(name=DECOMPOSED, values=("yes",)),
])
def test_a_decomposed_audience_matches_the_customer_read_in_nfc(audience: Audience) -> None:
    customer = Customer(id="c-42", tier=COMPOSED, segments=frozenset({COMPOSED}),
                        attributes={COMPOSED: "yes"})

    assert compile_audience(audience)(customer)
