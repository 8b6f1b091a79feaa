"""The typed syntax tree of a rule file; every node knows where it was written.

The tree keeps what the marketer wrote (amounts with their currency, day
names, units) so that checks can point at the exact token and the formatter
can print it back; the compiler turns it into the engine's IR.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Pos:
    """1-based line and column of a token; ``end_column`` is one past its end."""

    line: int
    column: int
    end_column: int


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    pos: Pos


@dataclass(frozen=True, slots=True)
class Text:
    """A quoted string, unquoted."""

    value: str
    pos: Pos


@dataclass(frozen=True, slots=True)
class Amount:
    value: Decimal
    written: str  # as written, e.g. "10.00", so the formatter keeps it
    currency: Word | None
    pos: Pos


@dataclass(frozen=True, slots=True)
class Percent:
    value: Decimal
    written: str  # without the % sign
    pos: Pos


@dataclass(frozen=True, slots=True)
class Number:
    value: int
    pos: Pos


# --- audience -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AudienceFlag:
    flag: str  # cardholder | known | anonymous
    pos: Pos


@dataclass(frozen=True, slots=True)
class AudienceTier:
    values: tuple[Text, ...]
    listed: bool  # written `in (...)` rather than `= "x"`
    pos: Pos


@dataclass(frozen=True, slots=True)
class AudienceSegment:
    value: Text
    pos: Pos


@dataclass(frozen=True, slots=True)
class AudienceAttribute:
    name: Text
    values: tuple[Text, ...]
    listed: bool
    pos: Pos


@dataclass(frozen=True, slots=True)
class AudienceAll:
    """``a and b``"""

    args: tuple[AudienceExpr, ...]
    pos: Pos


@dataclass(frozen=True, slots=True)
class AudienceAny:
    """``a or b``"""

    args: tuple[AudienceExpr, ...]
    pos: Pos


@dataclass(frozen=True, slots=True)
class AudienceNot:
    arg: AudienceExpr
    pos: Pos


AudienceExpr = (
    AudienceFlag | AudienceTier | AudienceSegment | AudienceAttribute | AudienceAll
    | AudienceAny | AudienceNot
)


# --- item predicates ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ItemField:
    field: Word  # sku | category | brand
    op: str  # = | != | in
    values: tuple[Text, ...]
    pos: Pos


@dataclass(frozen=True, slots=True)
class ItemAttribute:
    name: Text
    op: str  # = | != | in
    values: tuple[Text, ...]
    pos: Pos


@dataclass(frozen=True, slots=True)
class ItemPrice:
    op: str
    amount: Amount
    pos: Pos


@dataclass(frozen=True, slots=True)
class ItemAll:
    args: tuple[ItemExpr, ...]
    pos: Pos


@dataclass(frozen=True, slots=True)
class ItemAny:
    args: tuple[ItemExpr, ...]
    pos: Pos


@dataclass(frozen=True, slots=True)
class ItemNot:
    arg: ItemExpr
    pos: Pos


ItemExpr = ItemField | ItemAttribute | ItemPrice | ItemAll | ItemAny | ItemNot


# --- windows ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Duration:
    count: Number
    unit: Word  # minute(s) | hour(s) | day(s)


@dataclass(frozen=True, slots=True)
class RelativeWindow:
    """``2026-11-23 14:00 for 30 minutes``"""

    start_date: date
    start_time: time
    duration: Duration
    pos: Pos


@dataclass(frozen=True, slots=True)
class PublishWindow:
    """``for 30 minutes from publish``"""

    duration: Duration
    pos: Pos


@dataclass(frozen=True, slots=True)
class AbsoluteWindow:
    """``from 2026-12-01 00:00 to 2026-12-24 23:59``; a missing time is the day's start
    (``from``) or the next day's start (``to``: the whole day is included)."""

    start_date: date
    start_time: time | None
    end_date: date
    end_time: time | None
    pos: Pos
    end_pos: Pos


@dataclass(frozen=True, slots=True)
class RecurringWindow:
    """``every sat, sun 09:00-20:00 [from DATE to DATE]``"""

    days: tuple[Word, ...]
    start: time
    end: time
    from_date: date | None
    until_date: date | None
    pos: Pos


Window = RelativeWindow | PublishWindow | AbsoluteWindow | RecurringWindow


# --- conditions and effects -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SubtotalCondition:
    op: str
    amount: Amount
    pos: Pos


@dataclass(frozen=True, slots=True)
class QuantityCondition:
    items: ItemExpr | None
    written_of_items: bool  # `quantity of items ...` rather than `quantity`
    op: str
    count: Number
    pos: Pos


Condition = SubtotalCondition | QuantityCondition


@dataclass(frozen=True, slots=True)
class Tier:
    percent: Percent | None
    amount: Amount | None
    threshold: Amount
    pos: Pos


@dataclass(frozen=True, slots=True)
class Effect:
    """One effect statement. ``kind`` says which fields are set:

    percent_items, percent_basket, amount_basket, amount_each, tiered,
    buy_pay, bundle, points, price.
    """

    kind: str
    pos: Pos
    percent: Percent | None = None
    amount: Amount | None = None
    items: ItemExpr | None = None
    tiers: tuple[Tier, ...] = ()
    first: Number | None = None  # buy N / bundle N / N points
    second: Number | None = None  # pay M


# --- statements and blocks ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement of a block. ``keyword`` names it; ``value`` is its typed content:

    audience: AudienceExpr; channels: tuple[Word]; stores: tuple[Text];
    timezone: Word; valid: Window; coupon: tuple[Text]; limit: (Number | None,
    Number | None); when: tuple[Condition]; stacking: Word; priority: Number;
    effect: Effect.
    """

    keyword: str
    value: object
    pos: Pos
    end_line: int


@dataclass(frozen=True, slots=True)
class Block:
    kind: str  # rule | price
    id: Word
    title: Text
    statements: tuple[Statement, ...]
    pos: Pos
    end_line: int
    # The first words of the statements that did not parse (a block with a syntax
    # error, read statement by statement so its other mistakes are reported too).
    # Such a block is only checked, never compiled or formatted.
    lost: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Comment:
    text: str  # with its leading #
    line: int


@dataclass(frozen=True, slots=True)
class File:
    filename: str
    source: str
    currency: Word | None
    timezone: Word | None
    blocks: tuple[Block, ...]
    comments: tuple[Comment, ...] = field(default=())
    header_lines: tuple[int, ...] = field(default=())  # lines of currency/timezone


__all__ = [
    "AbsoluteWindow",
    "Amount",
    "AudienceAll",
    "AudienceAny",
    "AudienceAttribute",
    "AudienceExpr",
    "AudienceFlag",
    "AudienceNot",
    "AudienceSegment",
    "AudienceTier",
    "Block",
    "Comment",
    "Condition",
    "Duration",
    "Effect",
    "File",
    "ItemAll",
    "ItemAny",
    "ItemAttribute",
    "ItemExpr",
    "ItemField",
    "ItemNot",
    "ItemPrice",
    "Number",
    "Percent",
    "Pos",
    "PublishWindow",
    "QuantityCondition",
    "RecurringWindow",
    "RelativeWindow",
    "Statement",
    "SubtotalCondition",
    "Text",
    "Tier",
    "Window",
    "Word",
]
