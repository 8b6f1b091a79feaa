"""Money: ``Decimal`` amounts in a currency's minor unit, never floats.

Rounding choices (docs/semantics.md, "Money"):

* Every computed amount is rounded to the currency's minor unit, half-up
  (0.005 EUR -> 0.01 EUR), unless a caller asks for another mode.
* Amounts given by people (rule sources, baskets) must already fit the minor
  unit; ``has_valid_precision`` lets parsers refuse "19.999 EUR".
* Splitting an amount over several lines is done in whole minor units by
  largest remainder (``allocate``), so the parts always sum to the whole.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

# ISO 4217 active codes and their minor units (exponent). Codes with no minor
# unit in the standard ("N.A.", e.g. XAU) are left out: they are not money a
# shop sells in.
MINOR_UNITS: dict[str, int] = {
    "AED": 2, "AFN": 2, "ALL": 2, "AMD": 2, "ANG": 2, "AOA": 2, "ARS": 2, "AUD": 2,
    "AWG": 2, "AZN": 2, "BAM": 2, "BBD": 2, "BDT": 2, "BGN": 2, "BHD": 3, "BIF": 0,
    "BMD": 2, "BND": 2, "BOB": 2, "BRL": 2, "BSD": 2, "BTN": 2, "BWP": 2, "BYN": 2,
    "BZD": 2, "CAD": 2, "CDF": 2, "CHF": 2, "CLP": 0, "CNY": 2, "COP": 2, "CRC": 2,
    "CUP": 2, "CVE": 2, "CZK": 2, "DJF": 0, "DKK": 2, "DOP": 2, "DZD": 2, "EGP": 2,
    "ERN": 2, "ETB": 2, "EUR": 2, "FJD": 2, "FKP": 2, "GBP": 2, "GEL": 2, "GHS": 2,
    "GIP": 2, "GMD": 2, "GNF": 0, "GTQ": 2, "GYD": 2, "HKD": 2, "HNL": 2, "HTG": 2,
    "HUF": 2, "IDR": 2, "ILS": 2, "INR": 2, "IQD": 3, "IRR": 2, "ISK": 0, "JMD": 2,
    "JOD": 3, "JPY": 0, "KES": 2, "KGS": 2, "KHR": 2, "KMF": 0, "KPW": 2, "KRW": 0,
    "KWD": 3, "KYD": 2, "KZT": 2, "LAK": 2, "LBP": 2, "LKR": 2, "LRD": 2, "LSL": 2,
    "LYD": 3, "MAD": 2, "MDL": 2, "MGA": 2, "MKD": 2, "MMK": 2, "MNT": 2, "MOP": 2,
    "MRU": 2, "MUR": 2, "MVR": 2, "MWK": 2, "MXN": 2, "MYR": 2, "MZN": 2, "NAD": 2,
    "NGN": 2, "NIO": 2, "NOK": 2, "NPR": 2, "NZD": 2, "OMR": 3, "PAB": 2, "PEN": 2,
    "PGK": 2, "PHP": 2, "PKR": 2, "PLN": 2, "PYG": 0, "QAR": 2, "RON": 2, "RSD": 2,
    "RUB": 2, "RWF": 0, "SAR": 2, "SBD": 2, "SCR": 2, "SDG": 2, "SEK": 2, "SGD": 2,
    "SHP": 2, "SLE": 2, "SOS": 2, "SRD": 2, "SSP": 2, "STN": 2, "SVC": 2, "SYP": 2,
    "SZL": 2, "THB": 2, "TJS": 2, "TMT": 2, "TND": 3, "TOP": 2, "TRY": 2, "TTD": 2,
    "TWD": 2, "TZS": 2, "UAH": 2, "UGX": 0, "USD": 2, "UYU": 2, "UZS": 2, "VED": 2,
    "VES": 2, "VND": 0, "VUV": 0, "WST": 2, "XAF": 0, "XCD": 2, "XCG": 2, "XOF": 0,
    "XPF": 0, "YER": 2, "ZAR": 2, "ZMW": 2, "ZWG": 2,
}  # fmt: skip

ZERO = Decimal(0)


class UnknownCurrency(ValueError):
    """The code is not an ISO 4217 currency remise can price in."""

    def __init__(self, code: str) -> None:
        super().__init__(f"unknown currency {code!r}: expected an ISO 4217 code such as EUR")
        self.code = code


def minor_units(currency: str) -> int:
    """Digits after the decimal point for ``currency`` (EUR 2, JPY 0, KWD 3)."""
    try:
        return MINOR_UNITS[currency]
    except KeyError:
        raise UnknownCurrency(currency) from None


def quantum(currency: str) -> Decimal:
    """The smallest amount of ``currency``: Decimal("0.01") for EUR, Decimal("1") for JPY."""
    return Decimal(1).scaleb(-minor_units(currency))


def round_money(amount: Decimal, currency: str, rounding: str = ROUND_HALF_UP) -> Decimal:
    """Round to the currency's minor unit (half-up unless told otherwise)."""
    return amount.quantize(quantum(currency), rounding=rounding)


def has_valid_precision(amount: Decimal, currency: str) -> bool:
    """True when ``amount`` needs no more decimals than the currency has.

    Read from its digits: ``normalize()`` rounds to the context's 28 digits, which
    made 0.1000000000000000000000000000001 EUR read as 0.1.
    """
    _, digits, exponent = amount.as_tuple()
    assert isinstance(exponent, int)  # finite amounts only
    zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    if zeros == len(digits):
        return True  # zero, however written
    return -(exponent + zeros) <= minor_units(currency)


def format_money(amount: Decimal, currency: str) -> str:
    """The contract's string form: exactly the minor-unit digits ("89.90", "1200", "1.250")."""
    return str(round_money(amount, currency))


def to_minor(amount: Decimal, currency: str) -> int:
    """An amount already at the minor unit as a whole number of minor units."""
    return int(round_money(amount, currency).scaleb(minor_units(currency)))


def format_minor(units: int, currency: str) -> str:
    """Whole minor units as the contract's string ("8990" EUR -> "89.90"), without Decimal.

    Written with plain string operations: the compiled build turns them into
    native code, where a format specification (``{x:02d}``) goes through
    ``str.format`` at many times the cost, once per amount a response has not
    seen before.
    """
    digits = minor_units(currency)
    if digits == 0:
        return str(units)
    text = str(-units if units < 0 else units)
    if len(text) <= digits:  # below one major unit: "5" -> "0.05"
        text = "0" * (digits + 1 - len(text)) + text
    text = text[:-digits] + "." + text[-digits:]
    return "-" + text if units < 0 else text


class MinorFormatter:
    """A fast ``format_minor`` for one currency, for the response hot path.

    A class, so that the compiled build (setup.py) calls ``format`` directly
    from the response code; a closure or functools.lru_cache costs a Python
    call per amount there.
    """

    # A response formats ~170 amounts, most of them seen before (prices, zero, the
    # same discounts): a hit costs a fraction of formatting. Amounts below DIRECT minor
    # units (655.36 EUR) are kept in a list indexed by the amount itself: no int object
    # to make for a dict key, no hash, and a third of the memory a dict entry reads
    # (the compiled build: ~60 instructions a hit against ~380). Larger ones go to a
    # dict, emptied when full rather than kept in recency order. Either way a text is
    # made once and only read after; two threads making the same one make equal texts.
    DIRECT = 65_536
    CACHE_SIZE = 65_536

    def __init__(self, currency: str) -> None:
        self.currency = currency
        self.texts: list[str | None] = [None] * self.DIRECT
        self.cache: dict[int, str] = {}
        self.zero = self.format(0)  # "0.00": most lines' discount

    def format(self, units: int) -> str:
        if 0 <= units < self.DIRECT:
            known = self.texts[units]
            if known is None:
                known = self.texts[units] = format_minor(units, self.currency)
            return known
        text = self.cache.get(units)
        if text is None:
            if len(self.cache) >= self.CACHE_SIZE:
                self.cache.clear()
            text = self.cache[units] = format_minor(units, self.currency)
        return text


@functools.cache
def minor_formatter(currency: str) -> MinorFormatter:
    """The shared formatter of ``currency`` (its cache serves every response)."""
    return MinorFormatter(currency)


def from_minor(units: int, currency: str) -> Decimal:
    return Decimal(units).scaleb(-minor_units(currency)).quantize(quantum(currency))


def allocate_units(total: int, weights: list[int]) -> list[int]:
    """Split ``total`` whole minor units in proportion to ``weights``, exactly.

    Largest remainder: each part gets the floor of its exact share; the units
    left over go one each to the parts with the largest remainders, ties to
    the earlier part (callers pass weights in a canonical order so that
    "earlier" never depends on the order of basket lines). All-zero weights
    get nothing: the caller must not allocate a positive total over nothing.
    """
    # Plain loops rather than sum() and sorted(): the compiled build runs them
    # as native integer arithmetic (a basket discount is allocated per basket).
    weight_sum = 0
    for weight in weights:
        weight_sum += weight
    if weight_sum == 0:
        if total:
            raise ValueError("cannot allocate a non-zero amount over zero weights")
        return [0 for _ in weights]
    count = len(weights)
    shares: list[int] = []
    # One integer per part orders the parts: its remainder, then (remainders equal)
    # the earlier part first. Plain integers sort without a key function.
    ranked: list[int] = []
    left = total
    for index, weight in enumerate(weights):
        product = total * weight
        share = product // weight_sum
        shares.append(share)
        left -= share
        ranked.append((product - share * weight_sum) * count + (count - 1 - index))
    if left:
        ranked.sort()  # ascending: the parts owed a unit are the last ``left``
        for key in ranked[count - left:]:
            shares[count - 1 - key % count] += 1
    return shares


def allocate(total: Decimal, weights: Sequence[Decimal], currency: str) -> list[Decimal]:
    """``allocate_units`` for Decimal amounts of ``currency``."""
    units = allocate_units(to_minor(total, currency), [to_minor(w, currency) for w in weights])
    return [from_minor(part, currency) for part in units]


__all__ = [
    "MINOR_UNITS",
    "ZERO",
    "MinorFormatter",
    "UnknownCurrency",
    "allocate",
    "allocate_units",
    "format_minor",
    "format_money",
    "from_minor",
    "has_valid_precision",
    "minor_formatter",
    "minor_units",
    "quantum",
    "round_money",
    "to_minor",
]
