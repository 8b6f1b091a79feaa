"""Instants as the evaluation contract writes them, within the range remise prices.

One reading for every place an instant comes in (a basket's ``at``, the API's
``live?at=`` and audit bounds, the command line), so that what one accepts the
others accept too: RFC 3339's profile of ISO 8601, ``2026-11-23T14:10:00+01:00``
(seconds and a fraction optional, ``Z`` for UTC, a space allowed for the ``T``;
``t`` and ``z`` in lower case too, as RFC 3339 §5.6 allows and JSON Schema's
``date-time`` format, which the API's schema gives ``at``, accepts).
Other ISO 8601 forms (week dates, the basic format without separators) and
offsets finer than a minute are refused rather than guessed at.

Instants run from 1970-01-01 to the end of 2999 (UTC), as rule windows do
(dsl/checks.py): far beyond any basket, and far enough inside the calendar's
ends that every time zone conversion and the evaluator's hour arithmetic stay
representable (an instant in year 9999 or year 1 overflowed them).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from fractions import Fraction

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)  # excluded

_FORM = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?P<offset>[Zz]|[+-]\d{2}:\d{2})?",
    re.ASCII)
EXAMPLE = "2026-11-23T14:10:00+01:00"


def parse_instant(text: str) -> datetime:
    """The instant ``text`` writes, with its offset; ValueError says what is wrong, in
    a sentence that names the text (the caller adds which field it was)."""
    form = _FORM.fullmatch(text)
    if form is None:
        raise ValueError(f"{text!r} is not an ISO-8601 instant, e.g. {EXAMPLE}")
    if form.group("offset") is None:
        raise ValueError(f"{text!r} has no UTC offset: add one, e.g. +01:00 or Z")
    try:
        instant = datetime.fromisoformat(text.upper())  # fromisoformat reads T and Z only
    except ValueError:  # the form is right, a field is not (month 13, 25:00, +24:00)
        raise ValueError(f"{text!r} is not a real instant, e.g. {EXAMPLE}") from None
    if not _in_range(instant):
        raise ValueError(f"{text!r} is out of range: instants run from 1970-01-01 to "
                         "2999-12-31 (UTC)")
    return instant


# Up to here a float holds POSIX seconds to within half a microsecond (2**32 s: the
# year 2106), so the nearest float is on the instant's side of every window edge; past
# it, the nearest float can round an instant up onto an edge.
_NEAREST_IS_EXACT_ENOUGH = 2.0**32


def epoch_of(instant: datetime) -> float:
    """``instant`` (with a zone) as POSIX seconds, never above it: windows compare
    ``start <= epoch < end`` and slices take ``epoch // 3600``, so an instant a
    microsecond before an edge must not read as the edge (from 2106 on, the nearest
    float can be a microsecond or more above the instant). Edges are whole minutes,
    which floats hold exactly."""
    epoch = instant.timestamp()
    if epoch < _NEAREST_IS_EXACT_ENOUGH:
        return epoch
    exact = Fraction((instant - EARLIEST) // timedelta(microseconds=1), 1_000_000)
    while Fraction(epoch) > exact:
        epoch = math.nextafter(epoch, -math.inf)
    return epoch


def _in_range(instant: datetime) -> bool:
    # The year first: comparing an instant of year 1 or 9999 with another zone's
    # converts it to UTC, which can fall off the calendar.
    if not EARLIEST.year - 1 <= instant.year <= LATEST.year:
        return False
    return EARLIEST <= instant < LATEST


__all__ = ["EARLIEST", "LATEST", "epoch_of", "parse_instant"]
