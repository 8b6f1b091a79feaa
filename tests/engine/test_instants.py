"""engine/instants.py: one reading of instants for baskets, the API and the CLI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

import engine


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-23T14:10:00+01:00", datetime(2026, 11, 23, 13, 10, tzinfo=UTC)),
    ("2026-11-23T14:10Z", datetime(2026, 11, 23, 14, 10, tzinfo=UTC)),
    ("2026-11-23 14:10:00-05:00", datetime(2026, 11, 23, 19, 10, tzinfo=UTC)),
    ("2026-11-23T14:10:00.123456789Z", datetime(2026, 11, 23, 14, 10, 0, 123456, tzinfo=UTC)),
    ("1970-01-01T00:00:00Z", datetime(1970, 1, 1, tzinfo=UTC)),
    ("2999-12-31T23:59:59Z", datetime(2999, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ("2026-11-23t14:10:00z", datetime(2026, 11, 23, 14, 10, tzinfo=UTC)),  # RFC 3339 §5.6
])
def test_the_contracts_forms_are_read_as_the_instant_they_write(text: str, expected: datetime
                                                                 ) -> None:
    assert engine.parse_instant(text) == expected


def test_the_offset_is_kept() -> None:
    instant = engine.parse_instant("2026-11-23T14:10:00+01:00")

    assert instant.utcoffset() == timedelta(hours=1)
    assert instant.tzinfo == timezone(timedelta(hours=1))


@pytest.mark.parametrize(("text", "message"), [
    ("yesterday", "'yesterday' is not an ISO-8601 instant, e.g. 2026-11-23T14:10:00+01:00"),
    # other ISO 8601 forms: a week date, the basic format
    ("2026-W48-2T10:00:00Z", "is not an ISO-8601 instant"),
    ("20261123T141000Z", "is not an ISO-8601 instant"),
    # anything after the offset, a NUL included
    ("2026-11-23T14:10:00+01:00\x00", "is not an ISO-8601 instant"),
    # an offset finer than a minute, digits that are not ASCII
    ("2026-11-23T14:10:00+23:59:59.5", "is not an ISO-8601 instant"),
    ("٢٠٢٦-11-23T14:10:00Z", "is not an ISO-8601 instant"),
    ("2026-11-23T14:10:00", "has no UTC offset: add one, e.g. +01:00 or Z"),
    ("2026-13-01T14:10:00Z", "is not a real instant"),
    ("2026-11-23T14:10:00+24:00", "is not a real instant"),
])
def test_other_texts_are_refused_saying_why(text: str, message: str) -> None:
    with pytest.raises(ValueError) as refused:
        engine.parse_instant(text)

    assert message in str(refused.value)


@pytest.mark.parametrize("text", [
    "0001-01-01T00:30:00+01:00",  # before year 1 in UTC: off the calendar
    "1969-12-31T23:59:59Z",
    "3000-01-01T00:00:00Z",
    "2999-12-31T23:30:00-01:00",  # 3000-01-01 00:30 in UTC
    "9999-12-31T23:59:59-01:00",  # after year 9999 in UTC
])
def test_instants_outside_1970_to_2999_are_out_of_range(text: str) -> None:
    with pytest.raises(ValueError) as refused:
        engine.parse_instant(text)

    assert str(refused.value) == (f"{text!r} is out of range: instants run from 1970-01-01 to "
                                  "2999-12-31 (UTC)")
