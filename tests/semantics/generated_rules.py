"""Hypothesis strategies for rules, shared by the property tests (test_properties.py,
test_explain_properties.py): each test picks its catalogue, amounts and tiers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from engine import ir


def amounts(most_cents: int) -> st.SearchStrategy[Decimal]:
    """Amounts from 0.01 to ``most_cents`` / 100."""
    return st.integers(min_value=1, max_value=most_cents).map(lambda c: Decimal(c) / 100)


def item_predicates(skus: tuple[str, ...], categories: tuple[str, ...],
                    money: st.SearchStrategy[Decimal]) -> st.SearchStrategy[Any]:
    """No predicate (every item), a category or SKU list, or a price comparison."""
    return st.one_of(
        st.none(),
        st.builds(ir.ItemFieldIn, field=st.just("category"),
                  values=st.lists(st.sampled_from(categories), min_size=1, max_size=2)
                  .map(tuple)),
        st.builds(ir.ItemFieldIn, field=st.just("sku"),
                  values=st.lists(st.sampled_from(skus), min_size=1, max_size=2).map(tuple)),
        st.builds(ir.ItemPriceCompare, op=st.sampled_from([">=", "<"]), amount=money),
    )


def effects(items: st.SearchStrategy[Any], money: st.SearchStrategy[Decimal], *,
            buy_pay: st.SearchStrategy[ir.BuyPay], tiers: tuple[ir.Tier, ...]
            ) -> st.SearchStrategy[Any]:
    """Every effect of the language, on ``items``; ``buy_pay`` and ``tiers`` are the
    test's own."""
    percents = st.integers(min_value=1, max_value=100).map(Decimal)
    return st.one_of(
        st.builds(ir.PercentOff, percent=percents, target=st.just("items"), items=items),
        st.builds(ir.PercentOff, percent=percents, target=st.just("basket")),
        st.builds(ir.AmountOffBasket, amount=money),
        st.builds(ir.AmountOffEach, amount=money, items=items),
        st.builds(ir.PriceOverride, amount=money, items=items),
        buy_pay,
        st.builds(ir.BundlePrice, size=st.integers(2, 3), amount=money, items=items),
        st.builds(ir.TieredBasket, tiers=st.just(tiers)),
        st.builds(ir.Points, points=st.integers(1, 5), per=money, items=items),
    )


@st.composite
def basket_lines(draw: st.DrawFn, skus: tuple[str, ...], categories: tuple[str, ...],
                 money: st.SearchStrategy[Decimal], *, most_lines: int,
                 most_units: int) -> list[dict[str, Any]]:
    """A basket's lines, ids l0, l1, ..., each with a SKU, a category and a price."""
    return [
        {"id": f"l{index}", "sku": draw(st.sampled_from(skus)),
         "quantity": draw(st.integers(1, most_units)), "unit_price": str(draw(money)),
         "category": draw(st.sampled_from(categories))}
        for index in range(draw(st.integers(min_value=1, max_value=most_lines)))
    ]


def cents(amount: str) -> int:
    """An answer's amount ("12.34") in cents."""
    return int(Decimal(amount) * 100)
