"""Money: minor units, half-up rounding and exact allocation (docs/semantics.md §5, §7)."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import engine
from engine.money import (
    MINOR_UNITS,
    MinorFormatter,
    UnknownCurrency,
    allocate,
    allocate_units,
    format_minor,
    format_money,
    has_valid_precision,
    minor_formatter,
    minor_units,
    round_money,
    to_minor,
)


def test_minor_units_follow_iso_4217() -> None:
    assert (minor_units("EUR"), minor_units("JPY"), minor_units("KWD")) == (2, 0, 3)


def test_an_unknown_currency_is_refused_by_name() -> None:
    with pytest.raises(UnknownCurrency, match="unknown currency 'EUX'"):
        minor_units("EUX")


def test_half_a_cent_rounds_up() -> None:
    # 89.90 x 15% = 13.485 -> 13.49
    assert round_money(Decimal("13.485"), "EUR") == Decimal("13.49")


def test_yen_rounds_to_whole_yen() -> None:
    # 999 x 15% = 149.85 -> 150
    assert round_money(Decimal("149.85"), "JPY") == Decimal("150")


def test_dinar_rounds_to_the_fils() -> None:
    # 1.235 x 15% = 0.18525 -> 0.185
    assert round_money(Decimal("0.18525"), "KWD") == Decimal("0.185")


def test_amounts_print_with_exactly_the_minor_unit_digits() -> None:
    assert format_money(Decimal("89.9"), "EUR") == "89.90"
    assert format_money(Decimal("1200"), "JPY") == "1200"
    assert format_money(Decimal("1.25"), "KWD") == "1.250"


def test_precision_check_refuses_sub_cent_amounts() -> None:
    assert has_valid_precision(Decimal("19.99"), "EUR")
    assert has_valid_precision(Decimal("20.00"), "JPY")  # trailing zeros are harmless
    assert not has_valid_precision(Decimal("19.999"), "EUR")
    assert not has_valid_precision(Decimal("10.5"), "JPY")


def test_precision_is_read_from_every_digit_not_rounded_to_28() -> None:
    # 31 significant digits: normalize() rounded this to 0.1 and called it valid EUR
    assert not has_valid_precision(Decimal("0.1000000000000000000000000000001"), "EUR")
    assert has_valid_precision(Decimal("0.10000000000000000000000000000000"), "EUR")
    assert has_valid_precision(Decimal("1.2E+3"), "JPY")
    assert has_valid_precision(Decimal("0E-10"), "JPY")
    assert not has_valid_precision(Decimal("1.2345E+2"), "JPY")


def test_ten_euros_over_three_equal_lines_gives_the_spare_cent_to_the_first() -> None:
    # 10.00 / 3 = 3.333...: floors 3.33 x 3 = 9.99, one cent left, equal remainders.
    shares = allocate(Decimal("10.00"), [Decimal("10.00")] * 3, "EUR")
    assert shares == [Decimal("3.34"), Decimal("3.33"), Decimal("3.33")]


def test_largest_remainder_wins_the_spare_cent() -> None:
    # 1.00 over 20.00 / 10.00 / 10.00 -> exact 0.50 / 0.25 / 0.25, no spare cent.
    assert allocate(Decimal("1.00"), [Decimal(20), Decimal(10), Decimal(10)], "EUR") == [
        Decimal("0.50"), Decimal("0.25"), Decimal("0.25"),
    ]
    # 5 cents over 1.00 / 2.00 / 3.00: exact 0.833 / 1.667 / 2.5 cents;
    # floors 0 / 1 / 2 (3 cents), two cents left for the largest remainders,
    # 0.833 (line 1) and 0.667 (line 2): 1 / 2 / 2 cents.
    assert allocate(Decimal("0.05"), [Decimal(1), Decimal(2), Decimal(3)], "EUR") == [
        Decimal("0.01"), Decimal("0.02"), Decimal("0.02"),
    ]


def test_nothing_to_allocate_over_nothing() -> None:
    assert allocate(Decimal("0.00"), [Decimal(0), Decimal(0)], "EUR") == [Decimal("0.00")] * 2


amounts = st.integers(min_value=0, max_value=10**7).map(lambda cents: Decimal(cents) / 100)


@given(
    weights=st.lists(amounts, min_size=1, max_size=30).filter(lambda w: sum(w) > 0),
    fraction=st.fractions(min_value=0, max_value=1),
)
def test_allocation_sums_exactly_and_never_exceeds_a_weight(weights, fraction) -> None:  # type: ignore[no-untyped-def]
    total = round_money(sum(weights) * Decimal(fraction.numerator) / fraction.denominator, "EUR")
    shares = allocate(total, weights, "EUR")
    assert sum(shares) == total
    assert all(Decimal(0) <= share <= weight for share, weight in zip(shares, weights, strict=True))
    assert all(to_minor(share, "EUR") == share * 100 for share in shares)


@given(units=st.integers(min_value=-(10**9), max_value=10**9),
       currency=st.sampled_from(["EUR", "JPY", "KWD"]))
# Around zero and one major unit, where the digits are padded and the point placed.
@example(units=0, currency="EUR")
@example(units=5, currency="EUR")
@example(units=-5, currency="EUR")
@example(units=-99, currency="EUR")
@example(units=100, currency="EUR")
@example(units=-1, currency="KWD")
@example(units=1000, currency="KWD")
@example(units=-3, currency="JPY")
def test_formatting_minor_units_matches_decimal(units: int, currency: str) -> None:
    from engine.money import format_minor, from_minor

    assert format_minor(units, currency) == str(from_minor(units, currency))


@given(units=st.integers(min_value=-(10**9), max_value=10**9),
       currency=st.sampled_from(["EUR", "JPY", "KWD"]))
def test_the_fast_formatter_matches_decimal(units: int, currency: str) -> None:
    from engine.money import from_minor, minor_formatter

    assert minor_formatter(currency).format(units) == str(from_minor(units, currency))


@given(st.integers(min_value=-10**15, max_value=10**15),
       st.sampled_from(["EUR", "JPY", "KWD", "USD"]))
def test_the_cached_response_formatter_writes_what_format_minor_writes(
    units: int, currency: str
) -> None:
    formatter = minor_formatter(currency)

    assert formatter.format(units) == formatter.format(units) == format_minor(units, currency)


def _largest_remainder_by_hand(total: int, weights: list[int]) -> list[int]:
    """The rule as docs/semantics.md states it, written the slow, obvious way."""
    exact = [Fraction(total * weight, sum(weights)) for weight in weights]
    shares = [math.floor(share) for share in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), i))
    for index in by_remainder[: total - sum(shares)]:
        shares[index] += 1
    return shares


@given(
    weights=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=30)
    .filter(lambda w: sum(w) > 0),
    total=st.integers(min_value=0, max_value=10**8),
)
def test_allocation_follows_largest_remainder_with_ties_to_the_earlier_part(
    weights: list[int], total: int
) -> None:
    total = min(total, sum(weights))  # never more than the lines hold
    assert allocate_units(total, weights) == _largest_remainder_by_hand(total, weights)


@given(st.lists(st.sampled_from([1, 2, 3]), min_size=1, max_size=12), st.integers(0, 40))
def test_equal_weights_share_spare_units_from_the_first(weights: list[int], total: int) -> None:
    # few distinct weights: many equal remainders, so the tie-break decides
    total = min(total, sum(weights))
    assert allocate_units(total, weights) == _largest_remainder_by_hand(total, weights)


def test_the_formatter_cache_is_emptied_when_full_and_still_formats_right() -> None:
    formatter = MinorFormatter("EUR")
    beyond = MinorFormatter.DIRECT  # the amounts the dict keeps
    for units in range(beyond, beyond + MinorFormatter.CACHE_SIZE + 10):
        assert formatter.format(units) == format_minor(units, "EUR")
    assert len(formatter.cache) == 10  # emptied once, at the limit
    assert formatter.format(-5) == "-0.05" and formatter.format(123456) == "1234.56"


@given(st.integers(min_value=-3, max_value=MinorFormatter.DIRECT + 3),
       st.sampled_from(["EUR", "JPY", "KWD"]))
def test_amounts_around_the_direct_range_format_as_format_minor_does(
    units: int, currency: str
) -> None:
    formatter = minor_formatter(currency)

    assert formatter.format(units) == formatter.format(units) == format_minor(units, currency)


def test_small_amounts_are_kept_by_position_not_in_the_dict() -> None:
    formatter = MinorFormatter("EUR")

    texts = [formatter.format(units) for units in (0, 8990, MinorFormatter.DIRECT - 1)]

    assert texts == ["0.00", "89.90", "655.35"]
    assert formatter.cache == {}
    assert formatter.texts[8990] == "89.90"


# --- Boundaries a finance controller checks (mutation review) ------------------------

# ISO 4217: every currency remise prices in has 2 decimals but these.
NO_DECIMALS = ("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX",
               "VND", "VUV", "XAF", "XOF", "XPF")
THREE_DECIMALS = ("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND")


@pytest.mark.parametrize("currency", NO_DECIMALS)
def test_currencies_without_a_minor_unit_price_in_whole_units(currency: str) -> None:
    assert minor_units(currency) == 0
    assert format_money(Decimal("1500"), currency) == "1500"


@pytest.mark.parametrize("currency", THREE_DECIMALS)
def test_the_dinars_and_rial_price_to_the_thousandth(currency: str) -> None:
    assert minor_units(currency) == 3
    assert format_money(Decimal("1.5"), currency) == "1.500"


def test_every_other_currency_prices_to_the_hundredth() -> None:
    others = set(MINOR_UNITS) - set(NO_DECIMALS) - set(THREE_DECIMALS)

    assert {code: minor_units(code) for code in others} == dict.fromkeys(others, 2)


@pytest.mark.parametrize(("amount", "currency", "expected"), [
    ("0.005", "EUR", "0.01"),  # exactly half a cent goes up
    ("0.0049999", "EUR", "0.00"),  # just under half stays down
    ("2.5", "JPY", "3"),  # half a yen up, not to the even 2
    ("3.5", "CLP", "4"),
    ("0.0005", "BHD", "0.001"),  # half a fils up
    ("0.0025", "KWD", "0.003"),  # not to the even 0.002
    ("-0.005", "EUR", "-0.01"),  # a correction: half a cent away from zero, as its opposite
])
def test_exactly_half_the_minor_unit_rounds_away_from_zero(amount: str, currency: str,
                                                           expected: str) -> None:
    assert format_money(Decimal(amount), currency) == expected


def test_a_negative_amount_does_not_take_the_place_of_a_positive_one() -> None:
    # Given a formatter that has written -0.01 EUR
    formatter = MinorFormatter("EUR")
    assert formatter.format(-1) == "-0.01"

    # When it writes 655.35 EUR, the last amount it keeps by position
    text = formatter.format(MinorFormatter.DIRECT - 1)

    # Then it writes that amount, not the negative one
    assert text == "655.35"


def test_a_discount_cannot_be_shared_over_lines_that_weigh_nothing() -> None:
    # 0.05 EUR over two lines of 0.00: no share would be in proportion, and giving
    # none would lose the five cents between the basket discount and its lines.
    with pytest.raises(ValueError, match="cannot allocate a non-zero amount over zero weights"):
        allocate_units(5, [0, 0])


@pytest.mark.parametrize("currency", ["XCG", "VED"])
def test_the_currencies_iso_4217_added_lately_are_priced_in_cents(currency: str) -> None:
    # XCG, the Caribbean guilder, replaced ANG in Curaçao and Sint Maarten on 2025-03-31
    # (ISO 4217 amendment 176); VED, the digital bolívar, is listed beside VES.
    request = {"channel": "pos", "currency": currency, "at": "2026-11-23T14:10:00-04:00",
               "lines": [{"id": "1", "sku": "A", "quantity": 1, "unit_price": "12.50"}]}

    line = engine.parse_request(request).lines[0]

    assert (minor_units(currency), line.unit_minor) == (2, 1250)
