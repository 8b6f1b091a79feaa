"""The evaluation request (DESIGN.md "The evaluation contract"), parsed and checked.

Every refusal is a ``BasketError`` whose path names the field
(``lines[0].unit_price``) and whose message says what to send instead.
Amounts are checked against the currency's minor unit here, so the evaluator
only ever sees exact amounts.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Final

from .errors import BasketError
from .instants import parse_instant
from .ir import CHANNELS
from .money import MINOR_UNITS

MAX_QUANTITY = 10_000  # a line beyond this is wholesale, not retail
MAX_VERSION = 2_147_483_647  # version numbers are 32-bit in the rule store
# A basket's size limits, checked by parse_request: every door refuses alike.
MAX_LINES = 500
MAX_COUPONS = 20

REQUEST_FIELDS = frozenset(
    {"channel", "store", "currency", "at", "customer", "coupons", "lines",
     "explain", "version", "ruleset"}
)  # fmt: skip
CUSTOMER_FIELDS = frozenset({"id", "cardholder", "tier", "segments", "attributes"})
LINE_FIELDS = frozenset(
    {"id", "sku", "quantity", "unit_price", "category", "brand", "attributes"}
)


# Shared by every line and customer that sends no attributes; read-only.
NO_ATTRIBUTES: Mapping[str, str] = MappingProxyType({})


def _repr(value: object, fields: tuple[str, ...]) -> str:
    shown = ", ".join(f"{name}={getattr(value, name)!r}" for name in fields)
    return f"{type(value).__name__}({shown})"


# The request's parts are plain classes with ``Final`` attributes rather than frozen
# dataclasses: the compiled build (setup.py) gives them a native ``__init__``, where a
# dataclass keeps a generated Python one (a third of parsing a 20-line basket). They
# stay read-only: mypy refuses any assignment after construction, and the compiled
# build raises AttributeError as ``frozen`` did.


class Customer:
    """Who is buying, as the request says (all optional)."""

    FIELDS = ("id", "cardholder", "tier", "segments", "attributes")
    __slots__ = FIELDS

    def __init__(self, id: str | None = None, cardholder: bool = False,
                 tier: str | None = None, segments: frozenset[str] = frozenset(),
                 attributes: Mapping[str, str] = NO_ATTRIBUTES) -> None:
        self.id: Final = id
        self.cardholder: Final = cardholder
        self.tier: Final = tier
        self.segments: Final = segments
        self.attributes: Final = attributes

    def __repr__(self) -> str:
        return _repr(self, self.FIELDS)


class Line:
    """A basket line. ``unit_minor`` is ``unit_price`` in whole minor units of the
    basket's currency (8990 for "89.90" EUR), worked out once here: the parser has
    just checked the price fits the minor unit, and the evaluator prices in minor
    units."""

    FIELDS = ("id", "sku", "quantity", "unit_price", "unit_minor", "category", "brand",
              "attributes")
    __slots__ = FIELDS

    def __init__(self, id: str, sku: str, quantity: int, unit_price: Decimal,
                 unit_minor: int, category: str | None = None, brand: str | None = None,
                 attributes: Mapping[str, str] = NO_ATTRIBUTES) -> None:
        self.id: Final = id
        self.sku: Final = sku
        self.quantity: Final = quantity
        self.unit_price: Final = unit_price
        self.unit_minor: Final = unit_minor
        self.category: Final = category
        self.brand: Final = brand
        self.attributes: Final = attributes

    def __repr__(self) -> str:
        return _repr(self, self.FIELDS)


class BasketRequest:
    """The evaluation request, checked: what ``Evaluator.evaluate`` prices."""

    FIELDS = ("channel", "currency", "at", "lines", "store", "customer", "coupons", "explain",
              "version", "ruleset")
    __slots__ = FIELDS

    def __init__(self, channel: str, currency: str, at: datetime, lines: tuple[Line, ...],
                 store: str | None = None, customer: Customer | None = None,
                 coupons: tuple[str, ...] = (), explain: bool = False,
                 version: int | None = None, ruleset: str | None = None) -> None:
        self.channel: Final = channel
        self.currency: Final = currency
        self.at: Final = at
        self.lines: Final = lines
        self.store: Final = store
        self.customer: Final = customer
        self.coupons: Final = coupons
        self.explain: Final = explain
        self.version: Final = version
        self.ruleset: Final = ruleset

    def __repr__(self) -> str:
        return _repr(self, self.FIELDS)


def _did_you_mean(word: str, choices: frozenset[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=1)
    return f' (did you mean "{close[0]}"?)' if close else ""


def _refuse_unknown_fields(data: Mapping[str, Any], allowed: frozenset[str], path: str) -> None:
    # A loop, not allowed.issuperset(data): that copies the keys into a new set first.
    for key in data:
        if key not in allowed:
            break
    else:
        return
    for name in sorted(set(data) - allowed):
        where = f"{path}.{name}" if path else name
        raise BasketError(where, f"unknown field{_did_you_mean(name, allowed)}")


def _object(value: Any, path: str) -> Mapping[str, Any]:
    if isinstance(value, dict):  # what JSON gives: no need to ask the Mapping ABC
        return value
    if not isinstance(value, Mapping):
        raise BasketError(path, "expected a JSON object")
    return value


def _text(value: Any, path: str, *, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise BasketError(path, "expected a non-empty string")
    return value


def _required_text(value: Any, path: str) -> str:
    text = _text(value, path)
    assert text is not None
    return text


# Text that rules match (SKUs, categories, brands, stores, tiers, segments, attributes,
# coupon codes) is read in Unicode NFC, as the rules' is (predicates.nfc): "é" sent as
# "e" then a combining accent (what some systems write) is the "é" a rule wrote. Most
# text is ASCII, which every normal form leaves as it is: one isascii() each. Ids (a
# line's, the customer's) are the client's names, sent back as they came.


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _matched_text(value: Any, path: str) -> str | None:
    """An optional string a rule matches, in NFC."""
    text = _text(value, path, required=False)
    if text is None or text.isascii():
        return text
    return _nfc(text)


def _text_map(value: Any, path: str) -> Mapping[str, str]:
    if value is None:
        return NO_ATTRIBUTES
    mapping = _object(value, path)
    ascii_only = True
    for key, item in mapping.items():
        if not isinstance(item, str):
            raise BasketError(f"{path}.{key}", 'expected a string value, e.g. "yes"')
        if ascii_only and not (key.isascii() and item.isascii()):
            ascii_only = False
    return dict(mapping) if ascii_only else _nfc_map(mapping, path)


def _nfc_map(mapping: Mapping[str, str], path: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for key, item in mapping.items():
        name = _nfc(key)
        if name in found:  # two spellings of one name: which one counts is anyone's guess
            raise BasketError(f"{path}.{name}", "given twice in one object (once in another "
                                                "Unicode form); each name may appear once")
        found[name] = _nfc(item)
    return found


MAX_AMOUNT_DIGITS = 12  # whole units: an amount of 1e12 or more is refused
MAX_AMOUNT_DECIMALS = 3  # the most any currency has (KWD): "89.900" EUR is taken
TOO_LARGE = f"amount is too large: at most {MAX_AMOUNT_DIGITS} digits before the point"

# The contract's amount (api/schemas.py AMOUNT_PATTERN), with a sign allowed so that a
# negative amount is told it is negative; every other spelling is not an amount.
_AMOUNT_FORM = re.compile(r"(?P<sign>-?)(?P<whole>[0-9]+)(?:\.[0-9]+)?", re.ASCII)


def _plain_minor_units(text: str, digits: int) -> int | None:
    """Whole minor units of an amount written as the contract writes it ("89.90", "5",
    "0.5": ASCII digits, then at most three decimals after a point), or None.

    None for every other spelling, though Decimal reads many of them (signs,
    exponents, spaces, underscores, "5.", ".5", other scripts' digits): the schema
    refuses them, so the engine does too, and ``_not_an_amount`` says why. Most
    baskets send plain prices, and reading them here costs a fraction of Decimal
    arithmetic.
    """
    whole, dot, fraction = text.partition(".")
    if not (whole.isascii() and whole.isdigit()) or len(whole) > MAX_AMOUNT_DIGITS:
        return None
    if dot and not (fraction.isascii() and fraction.isdigit()
                    and len(fraction) <= MAX_AMOUNT_DECIMALS):
        return None
    if len(fraction) > digits:
        if fraction[digits:].strip("0"):
            return None
        fraction = fraction[:digits]
    return int(whole + fraction + "0" * (digits - len(fraction)))


def _not_an_amount(text: str, currency: str) -> str:
    """Why ``_plain_minor_units`` refused ``text``, in the words of the other refusals."""
    form = _AMOUNT_FORM.fullmatch(text)
    if form is not None and form["sign"] and Decimal(text):
        return "expected an amount of zero or more"
    if form is None or form["sign"]:  # "-0" is zero, but not the way an amount is written
        return f'{text!r} is not an amount, e.g. "89.90"'
    if len(form["whole"]) > MAX_AMOUNT_DIGITS:
        return TOO_LARGE
    digits = MINOR_UNITS[currency]
    fraction = text.partition(".")[2]
    if len(fraction) > MAX_AMOUNT_DECIMALS and not fraction[digits:].strip("0"):
        # only zeros past the minor unit ("1.2500" EUR): the form is what is wrong
        return (f"{text} is written with {len(fraction)} decimals; an amount has at most "
                f"{MAX_AMOUNT_DECIMALS} (e.g. \"89.90\")")
    if digits == 0:  # "more than 0 decimals" reads as a riddle at a yen till
        return f"{text} has decimals, and {currency} has none: a whole amount, e.g. \"1500\""
    return f"{text} has more than {digits} decimals, the minor unit of {currency}"


def _money(value: Any, path: str, currency: str) -> tuple[Decimal, int]:
    """The amount and the same in whole minor units of ``currency``."""
    if isinstance(value, str):
        minor = _plain_minor_units(value, MINOR_UNITS[currency])
        if minor is None:
            raise BasketError(path, _not_an_amount(value, currency))
        return Decimal(value), minor
    if isinstance(value, float):
        raise BasketError(path, 'send amounts as strings, e.g. "89.90", never as floats')
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise BasketError(path, 'expected an amount as a string, e.g. "89.90"')
    return _number(value, path, currency)


def _number(value: int | Decimal, path: str, currency: str) -> tuple[Decimal, int]:
    """An amount sent as a JSON number: an integer, or the exact Decimal the JSON reader
    makes of a fraction (never a float)."""
    amount = Decimal(value)
    if not amount.is_finite() or amount < 0:
        raise BasketError(path, "expected an amount of zero or more")
    if amount >= Decimal(10) ** MAX_AMOUNT_DIGITS:
        raise BasketError(path, TOO_LARGE)
    minor = _exact_minor_units(amount, MINOR_UNITS[currency])
    if minor is None:
        raise BasketError(path, f"{value} has more than {MINOR_UNITS[currency]} decimals, "
                                f"the minor unit of {currency}")
    return amount, minor


def _exact_minor_units(amount: Decimal, digits: int) -> int | None:
    """``amount`` (finite, 0 <= amount < 10**12) in whole minor units, or None when it
    has decimals below the minor unit. Read from its digits, not by Decimal arithmetic,
    which rounds to the context's 28 digits: 0.1000000000000000000000000000001 read as
    0.10 there, 1E-999999999999999999 as 0."""
    _, coefficient, exponent = amount.as_tuple()
    assert isinstance(exponent, int)  # finite
    if not any(coefficient):
        return 0  # zero, whatever its exponent (0E+999999999 too)
    shift = exponent + digits  # minor units = coefficient * 10**shift
    if shift < 0:
        if any(coefficient[shift:]):
            return None
        coefficient = coefficient[:shift]
        shift = 0
    # Below 10**12 with nothing under the minor unit: at most 15 digits in all.
    return int("".join(map(str, coefficient)) + "0" * shift)


def _quantity(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BasketError(path, "expected a whole number of units, e.g. 2")
    if not 1 <= value <= MAX_QUANTITY:
        raise BasketError(path, f"expected a quantity from 1 to {MAX_QUANTITY:,}")
    return value


def _instant(value: Any, now: datetime | None) -> datetime:
    if value is None:
        if now is None:
            raise BasketError("at", "required: the instant to price at, e.g. "
                                    "2026-11-23T14:10:00+01:00")
        return now
    if not isinstance(value, str):
        raise BasketError("at", "expected an ISO-8601 instant, e.g. 2026-11-23T14:10:00+01:00")
    try:
        return parse_instant(value)
    except ValueError as error:
        raise BasketError("at", str(error)) from None


def _customer(value: Any) -> Customer | None:
    if value is None:
        return None
    data = _object(value, "customer")
    _refuse_unknown_fields(data, CUSTOMER_FIELDS, "customer")
    cardholder = data.get("cardholder", False)
    if not isinstance(cardholder, bool):
        raise BasketError("customer.cardholder", "expected true or false")
    segments = data.get("segments", [])
    if not isinstance(segments, list) or not all(isinstance(s, str) for s in segments):
        raise BasketError("customer.segments", 'expected a list of strings, e.g. ["students"]')
    return Customer(
        id=_text(data.get("id"), "customer.id", required=False),  # an id, not matched
        cardholder=cardholder,
        tier=_matched_text(data.get("tier"), "customer.tier"),
        segments=frozenset(s if s.isascii() else _nfc(s) for s in segments),
        attributes=_text_map(data.get("attributes"), "customer.attributes"),
    )


REQUIRED_LINE_FIELDS = ("id", "sku", "quantity", "unit_price")


def _line(value: Any, currency: str) -> Line:
    """One line; refusals name the field within the line (``_lines`` adds the line)."""
    data = _object(value, "")
    _refuse_unknown_fields(data, LINE_FIELDS, "")
    for name in REQUIRED_LINE_FIELDS:
        if name not in data:
            raise BasketError(name, "required")
    line_id = _required_text(data["id"], "id")  # the client's own name for the line: as sent
    sku = _required_text(data["sku"], "sku")
    quantity = _quantity(data["quantity"], "quantity")
    unit_price, unit_minor = _money(data["unit_price"], "unit_price", currency)
    category = _text(data.get("category"), "category", required=False)
    brand = _text(data.get("brand"), "brand", required=False)
    # In NFC (_matched_text), inline: three a line, on every line.
    if not sku.isascii():
        sku = _nfc(sku)
    if category is not None and not category.isascii():
        category = _nfc(category)
    if brand is not None and not brand.isascii():
        brand = _nfc(brand)
    return Line(
        id=line_id,
        sku=sku,
        quantity=quantity,
        unit_price=unit_price,
        unit_minor=unit_minor,
        category=category,
        brand=brand,
        attributes=_text_map(data.get("attributes"), "attributes"),
    )


def _lines(value: Any, currency: str) -> tuple[Line, ...]:
    if not isinstance(value, list) or not value:
        raise BasketError("lines", "expected a non-empty list of lines")
    if len(value) > MAX_LINES:
        raise BasketError("lines", f"at most {MAX_LINES} lines per basket, got {len(value)}")
    lines: list[Line] = []
    seen: set[str] = set()
    for index, item in enumerate(value):
        try:
            line = _line(item, currency)
        except BasketError as refused:
            raise refused.within(f"lines[{index}]") from None
        if line.id in seen:
            raise BasketError(f"lines[{index}].id", f'line id "{line.id}" is used twice')
        seen.add(line.id)
        lines.append(line)
    return tuple(lines)


def _coupons(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise BasketError("coupons", 'expected a list of codes, e.g. ["WELCOME10"]')
    if len(value) > MAX_COUPONS:
        raise BasketError("coupons", f"at most {MAX_COUPONS} coupons per basket, "
                                     f"got {len(value)}")
    # As a till's scanner or a customer's paste sends them: case and surrounding spaces
    # are not part of a code (compiled.compile_rule reads a rule's codes the same way).
    codes = tuple(_required_text(code, f"coupons[{i}]").strip().upper()
                  for i, code in enumerate(value))
    return codes if all(code.isascii() for code in codes) else tuple(map(_nfc, codes))


def _channel(value: Any) -> str:
    if value is None:  # absent: say so, as for "at", rather than "a non-empty string"
        raise BasketError("channel", f"required: one of {', '.join(CHANNELS)}")
    channel = _required_text(value, "channel")
    if channel not in CHANNELS:
        hint = _did_you_mean(channel, CHANNELS)
        raise BasketError("channel", f'unknown channel "{channel}"{hint}; '
                                     f"expected one of {', '.join(CHANNELS)}")
    return channel


def _currency(value: Any) -> str:
    if value is None:
        raise BasketError("currency", "required: the ISO 4217 code of the prices, e.g. EUR")
    currency = _required_text(value, "currency")
    if currency not in MINOR_UNITS:
        raise BasketError("currency", f'unknown currency "{currency}": expected an ISO 4217 '
                                      "code such as EUR")
    return currency


def parse_request(data: Mapping[str, Any], *, now: datetime | None = None) -> BasketRequest:
    """Check a request dict (JSON already decoded) and return the basket to price.

    ``now`` is the caller's clock, used when the request has no ``at``: the
    evaluator itself never reads the clock. The size limits (MAX_LINES, MAX_COUPONS)
    are checked here, so the server, the command line and a device refuse alike.
    """
    data = _object(data, "")
    _refuse_unknown_fields(data, REQUEST_FIELDS, "")
    currency = _currency(data.get("currency"))
    explain = data.get("explain", False)
    if not isinstance(explain, bool):
        raise BasketError("explain", "expected true or false")
    version = data.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)
                                or not 1 <= version <= MAX_VERSION):
        raise BasketError("version", "expected a version number, e.g. 12")
    return BasketRequest(
        channel=_channel(data.get("channel")),
        currency=currency,
        at=_instant(data.get("at"), now),
        lines=_lines(data.get("lines"), currency),
        store=_matched_text(data.get("store"), "store"),
        customer=_customer(data.get("customer")),
        coupons=_coupons(data.get("coupons")),
        explain=explain,
        version=version,
        ruleset=_text(data.get("ruleset"), "ruleset", required=False),
    )


__all__ = ["MAX_COUPONS", "MAX_LINES", "BasketRequest", "Customer", "Line", "parse_request"]
