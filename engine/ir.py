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

A reader refuses what the evaluator cannot price as the rule language means it
(the checks in dsl/checks.py, which the compiler's output always passes): a
percentage outside (0, 100], an amount below zero or of 10**12 or more, a group
of units that divides by zero, a weekday that is not one, a time zone the zone
database does not know, an instant without an offset, tiers that do not go up, a
currency that is not one of ISO 4217's.
An IR from elsewhere (a bundle, a hand-made file) is refused when read, with
the place, rather than failing or answering wrongly on every basket.
"""

from __future__ import annotations

import functools
from datetime import date, time
from decimal import Decimal
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from .money import minor_units

IR_SCHEMA = "remise.ir/1"

Channel = Literal["pos", "web", "mobile", "kiosk"]
CHANNELS: tuple[str, ...] = ("pos", "web", "mobile", "kiosk")
Stacking = Literal["exclusive", "best", "stackable"]
Comparison = Literal[">=", ">", "<=", "<", "=", "!="]
ItemField = Literal["sku", "category", "brand"]

# Amounts are below 10**12, as a basket's prices are (engine/basket.py): far beyond
# Decimal's 28 digits they cannot be rounded to a minor unit at all.
Amount = Annotated[Decimal, Field(ge=0, lt=Decimal(10) ** 12)]
Percent = Annotated[Decimal, Field(gt=0, le=100)]
Weekday = Annotated[int, Field(ge=1, le=7)]


@functools.lru_cache(maxsize=256)
def _known_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (KeyError, ValueError, OSError):  # not found, not a key, a folder ("Europe")
        raise ValueError(f"unknown time zone {name!r}: expected an IANA name such as "
                         "Europe/Paris") from None
    return name


TimeZone = Annotated[str, AfterValidator(_known_zone)]


def _known_currency(code: str) -> str:
    minor_units(code)  # UnknownCurrency (a ValueError) says which code, and what is expected
    return code


# Read before any rule: a rule set in a currency remise cannot price would otherwise be
# read, then refuse every basket as if the basket's currency were the unknown one.
Currency = Annotated[str, AfterValidator(_known_currency)]


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
    amount: Amount


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
    start: AwareDatetime
    end: AwareDatetime
    timezone: TimeZone


class RecurringWindow(_Node):
    """``every sat, sun 09:00-20:00`` in ``timezone``, optionally bounded by dates.

    ``days`` are ISO weekdays (1 = Monday .. 7 = Sunday) on which a slot
    *starts*. When ``end <= start`` the slot crosses midnight and ends the next
    day. ``from_date`` / ``until_date`` bound the days on which a slot may
    start (both inclusive, local dates).
    """

    kind: Literal["recurring"] = "recurring"
    days: tuple[Weekday, ...]
    start: time
    end: time
    timezone: TimeZone
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
    amount: Amount


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
    percent: Percent
    target: Literal["items", "basket"]
    items: ItemPredicate | None = None  # None with target "items" = every line


class AmountOffBasket(_Node):
    """``discount 10.00 EUR on basket``."""

    kind: Literal["amount_basket"] = "amount_basket"
    amount: Amount


class AmountOffEach(_Node):
    """``discount 5.00 EUR each on items where ...``: per unit, capped at the unit."""

    kind: Literal["amount_each"] = "amount_each"
    amount: Amount
    items: ItemPredicate | None = None


class PriceOverride(_Node):
    """``price 19.99 EUR on items where ...``: sets the unit price (a ``price`` block)."""

    kind: Literal["price"] = "price"
    amount: Amount
    items: ItemPredicate | None = None


class BuyPay(_Node):
    """``buy 3 pay 2 on items where ...``: in each group of ``buy`` units, the cheapest
    ``buy - pay`` are free."""

    kind: Literal["buy_pay"] = "buy_pay"
    buy: int
    pay: Annotated[int, Field(ge=1)]
    items: ItemPredicate | None = None

    @model_validator(mode="after")
    def _gives_units_away(self) -> BuyPay:
        if self.buy <= self.pay:
            raise ValueError(f"buy {self.buy} pay {self.pay} gives nothing away: "
                             "buy must be more than pay")
        return self


class BundlePrice(_Node):
    """``bundle 2 for 25.00 EUR on items where ...``: each group of ``size`` units
    costs ``amount`` together."""

    kind: Literal["bundle"] = "bundle"
    size: Annotated[int, Field(ge=2)]
    amount: Amount
    items: ItemPredicate | None = None


class Tier(_Node):
    """One step of a tiered basket discount: reached when the subtotal >= threshold.

    Exactly one of ``percent`` and ``amount`` is set.
    """

    threshold: Amount
    percent: Percent | None = None
    amount: Amount | None = None

    @model_validator(mode="after")
    def _one_discount(self) -> Tier:
        if (self.percent is None) == (self.amount is None):
            raise ValueError("a tier has a percent or an amount, not both nor neither")
        return self


class TieredBasket(_Node):
    """``discount on basket 5% when subtotal >= 100 ... 10% when subtotal >= 200``.

    Tiers are sorted by increasing threshold; the highest tier reached applies.
    """

    kind: Literal["tiered"] = "tiered"
    tiers: Annotated[tuple[Tier, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _tiers_go_up(self) -> TieredBasket:
        for lower, higher in zip(self.tiers, self.tiers[1:], strict=False):
            if higher.threshold <= lower.threshold:
                raise ValueError("tiers must go up: each threshold above the one before")
        return self


class Points(_Node):
    """``points 2 per 1.00 EUR on items where ...``: on the net amount of the lines."""

    kind: Literal["points"] = "points"
    points: Annotated[int, Field(ge=1)]
    per: Annotated[Decimal, Field(gt=0, lt=Decimal(10) ** 12)]
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
    currency: Currency
    timezone: TimeZone
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
