"""IR rules turned into what the evaluator runs: closures and whole minor units.

Everything that does not depend on the basket is done here, once per rule
set: predicates compiled, amounts converted to integers of minor units,
percentages to exact integer ratios, windows to epoch bounds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from .ir import (
    AmountOffBasket,
    AmountOffEach,
    BundlePrice,
    BuyPay,
    Condition,
    PercentOff,
    Points,
    PriceOverride,
    QuantityCondition,
    Rule,
    TieredBasket,
)
from .money import format_money, to_minor
from .predicates import (
    AudienceMatch,
    ItemMatch,
    ItemView,
    compile_audience,
    compile_items,
    describe_items,
    index_keys,
    keys_decide,
    nfc,
)
from .response import dumps
from .windows import LiveCheck, envelope, live_check

Level = Literal["price", "item", "multi", "basket", "points"]
Ratio = tuple[int, int]


def percent_of(base: int, ratio: Ratio) -> int:
    """``base`` x percent / 100, rounded half-up to a whole minor unit (base >= 0)."""
    numerator, denominator = ratio
    return (2 * base * numerator + 100 * denominator) // (200 * denominator)


def _ratio(value: Decimal) -> Ratio:
    return value.as_integer_ratio()


@dataclass(frozen=True, slots=True)
class CompiledCondition:
    kind: Literal["subtotal", "quantity"]
    op: str
    bound: int
    items: ItemMatch
    text: str  # as the marketer reads it: "subtotal >= 50.00 EUR"

    def value(self, subtotal: int, items: Sequence[ItemView]) -> int:
        """The subtotal (minor units) or the units of the matching lines."""
        if self.kind == "subtotal":
            return subtotal
        return sum(item.quantity for item in items if self.items(item))

    def holds(self, value: int) -> bool:
        # Compared here rather than through COMPARE's operator functions: the
        # compiled build makes these native comparisons, checked per rule and basket.
        op, bound = self.op, self.bound
        if op == ">=":
            return value >= bound
        if op == ">":
            return value > bound
        if op == "<=":
            return value <= bound
        if op == "<":
            return value < bound
        if op == "=":
            return value == bound
        if op == "!=":
            return value != bound
        raise ValueError(f"unknown comparison {op!r}")


@dataclass(frozen=True, slots=True)
class CompiledTier:
    threshold: int
    percent: Ratio | None
    amount: int


@dataclass(eq=False, slots=True)
class CompiledRule:
    rule: Rule
    level: Level
    items: ItemMatch
    audience: AudienceMatch
    live: LiveCheck | None
    stores: frozenset[str] | None
    channels: frozenset[str] | None
    coupons: frozenset[str]
    conditions: tuple[CompiledCondition, ...]
    envelope: tuple[float, float]
    # The index keys a matching line has at least one of (predicates.index_keys): its
    # ("sku" | "category" | "brand", value) pairs, sorted; None: the rule is checked on
    # every basket.
    keys: tuple[tuple[str, str], ...] | None
    # The index keys decide the items: a line found under one of ``keys`` matches.
    exact: bool
    # Nothing but time decides whether the rule is open to a basket: no store list,
    # no audience, no coupon.
    open: bool
    percent: Ratio | None = None
    amount: int = 0
    group: int = 0  # buy N / bundle N
    pay: int = 0
    tiers: tuple[CompiledTier, ...] = ()
    # points per ``per`` minor units: the best points rule has the highest ratio,
    # compared exactly by cross-multiplying (evaluator._rate_order)
    points: int = 0
    per: int = 0
    sort_key: tuple[int, str] = field(default=(0, ""))  # priority desc, then id
    # Copies of the rule's fields as plain attributes: read on the hot path.
    id: str = ""
    title: str = ""
    priority: int = 0
    stacking: str = "best"
    # ``{"rule":"<id>","title":"<title>"``: how every object of a response that names
    # the rule begins, as canonical JSON (response.write_response). Escaped once here.
    named: str = ""

    def item_discount(self, item: ItemView, units: int) -> int:
        """What an item rule takes off ``units`` units of ``item``, before any cap."""
        if self.percent is not None:
            return percent_of(item.unit * units, self.percent)
        return min(self.amount, item.unit) * units


def _condition(condition: Condition, currency: str) -> CompiledCondition:
    if isinstance(condition, QuantityCondition):
        which = f" where {describe_items(condition.items, currency)}" if condition.items else ""
        text = f"quantity of items{which} {condition.op} {condition.count}"
        return CompiledCondition("quantity", condition.op, condition.count,
                                 compile_items(condition.items, currency), text)
    text = f"subtotal {condition.op} {format_money(condition.amount, currency)} {currency}"
    return CompiledCondition("subtotal", condition.op, to_minor(condition.amount, currency),
                             lambda item: True, text)


def _level(rule: Rule) -> Level:
    effect = rule.effect
    if isinstance(effect, PriceOverride):
        return "price"
    if isinstance(effect, BuyPay | BundlePrice):
        return "multi"
    if isinstance(effect, Points):
        return "points"
    if isinstance(effect, AmountOffEach):
        return "item"
    if isinstance(effect, PercentOff) and effect.target == "items":
        return "item"
    return "basket"


def _effect_fields(rule: Rule, currency: str) -> dict[str, object]:
    effect = rule.effect
    if isinstance(effect, PercentOff):
        return {"percent": _ratio(effect.percent)}
    if isinstance(effect, AmountOffEach | AmountOffBasket | PriceOverride):
        return {"amount": to_minor(effect.amount, currency)}
    if isinstance(effect, BuyPay):
        return {"group": effect.buy, "pay": effect.pay}
    if isinstance(effect, BundlePrice):
        return {"group": effect.size, "amount": to_minor(effect.amount, currency)}
    if isinstance(effect, TieredBasket):
        tiers = tuple(
            CompiledTier(
                to_minor(tier.threshold, currency),
                _ratio(tier.percent) if tier.percent is not None else None,
                to_minor(tier.amount, currency) if tier.amount is not None else 0,
            )
            for tier in sorted(effect.tiers, key=lambda t: t.threshold)
        )
        return {"tiers": tiers}
    assert isinstance(effect, Points)
    per = to_minor(effect.per, currency)
    return {"points": effect.points, "per": per}


def named_json(rule_id: str, title: str) -> str:
    """The canonical JSON of ``{"rule": rule_id, "title": title}`` without its closing brace."""
    return dumps({"rule": rule_id, "title": title})[:-1]


def compile_rule(rule: Rule, currency: str) -> CompiledRule:
    items_predicate = getattr(rule.effect, "items", None)
    level = _level(rule)
    pairs = index_keys(items_predicate) if level != "basket" else None
    keys = None if pairs is None else tuple(sorted(pairs))
    return CompiledRule(
        rule=rule,
        level=level,
        items=compile_items(items_predicate, currency),
        audience=compile_audience(rule.audience),
        live=live_check(rule.windows),
        # Text a basket's is matched against, read as a basket's is (basket.py): in NFC,
        # a coupon code without its surrounding spaces and in upper case.
        stores=frozenset(map(nfc, rule.stores)) if rule.stores is not None else None,
        channels=frozenset(rule.channels) if rule.channels is not None else None,
        coupons=frozenset(nfc(code.strip().upper()) for code in rule.coupons),
        conditions=tuple(_condition(c, currency) for c in rule.conditions),
        envelope=envelope(rule.windows),
        keys=keys,
        exact=keys is not None and keys_decide(items_predicate),
        open=rule.stores is None and rule.audience is None and not rule.coupons,
        sort_key=(-rule.priority, rule.id),
        id=rule.id,
        title=rule.title,
        priority=rule.priority,
        stacking=rule.stacking,
        named=named_json(rule.id, rule.title),
        **_effect_fields(rule, currency),  # type: ignore[arg-type]
    )


__all__ = [
    "CompiledCondition", "CompiledRule", "CompiledTier", "compile_rule", "named_json", "percent_of",
]
