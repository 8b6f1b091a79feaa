"""The IR: the compiled rule format, the one contract between authoring and execution.

Everything the evaluator needs is here, and nothing else: a device receives a
rule set as this JSON and must give the server's exact answer. The schema is
versioned (``IR_SCHEMA``); a reader refuses a schema it does not know.

Conventions that keep the IR portable and deterministic:

* Money is a ``Decimal`` and travels as a string ("19.99"), in the rule set's
  currency, already checked against the currency's minor unit.
* Absolute windows are UTC instants (resolved by the compiler from the rule's
  time zone), so a device needs no time-zone database for them. Recurring
  windows keep wall-clock times plus their IANA time zone, because "every
  saturday 09:00-20:00" moves with daylight saving.
* Percentages are ``Decimal`` in (0, 100].
* Tagged unions use a ``kind`` field.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

IR_SCHEMA = "remise.ir/1"

Channel = Literal["pos", "web", "mobile", "kiosk"]
CHANNELS: tuple[str, ...] = ("pos", "web", "mobile", "kiosk")
Stacking = Literal["exclusive", "best", "stackable"]
Comparison = Literal[">=", ">", "<=", "<", "=", "!="]
ItemField = Literal["sku", "category", "brand"]


class _Node(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- item predicates (which basket lines a rule looks at) -------------------


class ItemFieldIn(_Node):
    """``sku = "T-100"`` or ``category in ("socks", "boots")``."""

    kind: Literal["field_in"] = "field_in"
    field: ItemField
    values: tuple[str, ...]


class ItemAttributeIn(_Node):
    """``attribute "color" = "yellow"``: the line's attribute is one of ``values``.

    A line without the attribute does not match.
    """

    kind: Literal["attribute_in"] = "attribute_in"
    name: str
    values: tuple[str, ...]


class ItemPriceCompare(_Node):
    """``price >= 40.00 EUR``: compares the unit price after price rules."""

    kind: Literal["price"] = "price"
    op: Comparison
    amount: Decimal


class ItemAnd(_Node):
    kind: Literal["and"] = "and"
    args: tuple[ItemPredicate, ...]


class ItemOr(_Node):
    kind: Literal["or"] = "or"
    args: tuple[ItemPredicate, ...]


class ItemNot(_Node):
    kind: Literal["not"] = "not"
    arg: ItemPredicate


ItemPredicate = Annotated[
    ItemFieldIn | ItemAttributeIn | ItemPriceCompare | ItemAnd | ItemOr | ItemNot,
    Field(discriminator="kind"),
]


# --- audience (who the customer is) -----------------------------------------


class AudienceFlag(_Node):
    """``cardholder``, ``known`` (the customer has an id) or ``anonymous``."""

    kind: Literal["flag"] = "flag"
    flag: Literal["cardholder", "known", "anonymous"]


class AudienceTierIn(_Node):
    kind: Literal["tier_in"] = "tier_in"
    values: tuple[str, ...]


class AudienceSegment(_Node):
    """The customer belongs to the segment (``segments`` in the request)."""

    kind: Literal["segment"] = "segment"
    value: str


class AudienceAttributeIn(_Node):
    """A customer attribute (``attributes`` in the request) is one of ``values``."""

    kind: Literal["attribute_in"] = "attribute_in"
    name: str
    values: tuple[str, ...]


class AudienceAnd(_Node):
    kind: Literal["and"] = "and"
    args: tuple[Audience, ...]


class AudienceOr(_Node):
    kind: Literal["or"] = "or"
    args: tuple[Audience, ...]


class AudienceNot(_Node):
    kind: Literal["not"] = "not"
    arg: Audience


Audience = Annotated[
    AudienceFlag
    | AudienceTierIn
    | AudienceSegment
    | AudienceAttributeIn
    | AudienceAnd
    | AudienceOr
    | AudienceNot,
    Field(discriminator="kind"),
]


# --- time windows -------------------------------------------------------------


class AbsoluteWindow(_Node):
    """Live when ``start <= at < end``; both are aware UTC instants.

    ``timezone`` is the zone the marketer wrote it in, kept only to explain
    ("ended 14:30") in the marketer's own clock.
    """

    kind: Literal["absolute"] = "absolute"
    start: datetime
    end: datetime
    timezone: str


class RecurringWindow(_Node):
    """``every sat, sun 09:00-20:00`` in ``timezone``, optionally bounded by dates.

    ``days`` are ISO weekdays (1 = Monday .. 7 = Sunday) on which a slot
    *starts*. When ``end <= start`` the slot crosses midnight and ends the next
    day. ``from_date`` / ``until_date`` bound the days on which a slot may
    start (both inclusive, local dates).
    """

    kind: Literal["recurring"] = "recurring"
    days: tuple[int, ...]
    start: time
    end: time
    timezone: str
    from_date: date | None = None
    until_date: date | None = None


Window = Annotated[AbsoluteWindow | RecurringWindow, Field(discriminator="kind")]


# --- basket conditions ----------------------------------------------------------


class SubtotalCondition(_Node):
    """``when subtotal >= 50.00 EUR``.

    The subtotal is read where the rule applies: for an item rule, the basket
    subtotal after price rules and before any discount; for a basket rule,
    after line discounts (the amount the basket discount is computed on).
    """

    kind: Literal["subtotal"] = "subtotal"
    op: Comparison
    amount: Decimal


class QuantityCondition(_Node):
    """``when quantity of items where category = "boots" >= 1`` (units, summed)."""

    kind: Literal["quantity"] = "quantity"
    items: ItemPredicate | None = None
    op: Comparison
    count: int


Condition = Annotated[SubtotalCondition | QuantityCondition, Field(discriminator="kind")]


# --- effects ----------------------------------------------------------------------


class PercentOff(_Node):
    """``discount 15% on items where ...`` or ``discount 5% on basket``."""

    kind: Literal["percent"] = "percent"
    percent: Decimal
    target: Literal["items", "basket"]
    items: ItemPredicate | None = None  # None with target "items" = every line


class AmountOffBasket(_Node):
    """``discount 10.00 EUR on basket``."""

    kind: Literal["amount_basket"] = "amount_basket"
    amount: Decimal


class AmountOffEach(_Node):
    """``discount 5.00 EUR each on items where ...``: per unit, capped at the unit."""

    kind: Literal["amount_each"] = "amount_each"
    amount: Decimal
    items: ItemPredicate | None = None


class PriceOverride(_Node):
    """``price 19.99 EUR on items where ...``: sets the unit price (a ``price`` block)."""

    kind: Literal["price"] = "price"
    amount: Decimal
    items: ItemPredicate | None = None


class BuyPay(_Node):
    """``buy 3 pay 2 on items where ...``: in each group of ``buy`` units, the cheapest
    ``buy - pay`` are free."""

    kind: Literal["buy_pay"] = "buy_pay"
    buy: int
    pay: int
    items: ItemPredicate | None = None


class BundlePrice(_Node):
    """``bundle 2 for 25.00 EUR on items where ...``: each group of ``size`` units
    costs ``amount`` together."""

    kind: Literal["bundle"] = "bundle"
    size: int
    amount: Decimal
    items: ItemPredicate | None = None


class Tier(_Node):
    """One step of a tiered basket discount: reached when the subtotal >= threshold.

    Exactly one of ``percent`` and ``amount`` is set.
    """

    threshold: Decimal
    percent: Decimal | None = None
    amount: Decimal | None = None


class TieredBasket(_Node):
    """``discount on basket 5% when subtotal >= 100 ... 10% when subtotal >= 200``.

    Tiers are sorted by increasing threshold; the highest tier reached applies.
    """

    kind: Literal["tiered"] = "tiered"
    tiers: tuple[Tier, ...]


class Points(_Node):
    """``points 2 per 1.00 EUR on items where ...``: on the net amount of the lines."""

    kind: Literal["points"] = "points"
    points: int
    per: Decimal
    items: ItemPredicate | None = None


Effect = Annotated[
    PercentOff
    | AmountOffBasket
    | AmountOffEach
    | PriceOverride
    | BuyPay
    | BundlePrice
    | TieredBasket
    | Points,
    Field(discriminator="kind"),
]


# --- rules and rule sets -------------------------------------------------------------


class UsageLimits(_Node):
    """``limit 1 per customer, 5000 total``; kept for the redemption ledger."""

    per_customer: int | None = None
    total: int | None = None


class SourceRef(_Node):
    """Where the rule was written, for messages that point a marketer at it."""

    file: str
    line: int


class Rule(_Node):
    id: str
    title: str
    effect: Effect
    stacking: Stacking = "best"
    priority: int = 0
    # The rule set version in which this rule's source last changed. The store
    # fills it in; price rules of equal priority are decided by it (most recent
    # wins). Zero when compiled from files.
    revision: int = 0
    channels: tuple[Channel, ...] | None = None  # None = every channel
    stores: tuple[str, ...] | None = None  # None = every store
    audience: Audience | None = None  # None = everyone, anonymous included
    windows: tuple[Window, ...] = ()  # empty = always live; several = any of them
    coupons: tuple[str, ...] = ()  # upper-cased; empty = no coupon needed
    conditions: tuple[Condition, ...] = ()  # all must hold
    limits: UsageLimits | None = None
    source: SourceRef | None = None


class RuleSet(_Node):
    schema_: Literal["remise.ir/1"] = Field(default="remise.ir/1", alias="schema")
    currency: str
    timezone: str
    version: int | None = None  # the store's version number; None from files
    # SHA-256 of the version's IR (as the store computed it); None from files.
    # Responses carry it so a receipt names exactly which rules priced it.
    content_hash: str | None = None
    rules: tuple[Rule, ...]

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    def to_json(self) -> str:
        """Canonical JSON: the same rule set always gives the same bytes."""
        return self.model_dump_json(by_alias=True, exclude_none=True)

    @classmethod
    def from_json(cls, data: str | bytes) -> RuleSet:
        return cls.model_validate_json(data)


__all__ = [
    "CHANNELS",
    "IR_SCHEMA",
    "AbsoluteWindow",
    "AmountOffBasket",
    "AmountOffEach",
    "Audience",
    "AudienceAnd",
    "AudienceAttributeIn",
    "AudienceFlag",
    "AudienceNot",
    "AudienceOr",
    "AudienceSegment",
    "AudienceTierIn",
    "BundlePrice",
    "BuyPay",
    "Channel",
    "Comparison",
    "Condition",
    "Effect",
    "ItemAnd",
    "ItemAttributeIn",
    "ItemFieldIn",
    "ItemNot",
    "ItemOr",
    "ItemPredicate",
    "ItemPriceCompare",
    "PercentOff",
    "Points",
    "PriceOverride",
    "QuantityCondition",
    "RecurringWindow",
    "Rule",
    "RuleSet",
    "SourceRef",
    "Stacking",
    "SubtotalCondition",
    "Tier",
    "TieredBasket",
    "UsageLimits",
    "Window",
]
