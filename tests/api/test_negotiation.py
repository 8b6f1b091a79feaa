"""Which form a client prefers, by quality values (RFC 9110 §12.4-12.5)."""

from __future__ import annotations

import pytest

from api.negotiation import coding_quality, preferred_media

OFFERS = ("application/json", "text/csv")


@pytest.mark.parametrize(("accept", "chosen"), [
    (None, "application/json"),  # no header: the server's default
    ("*/*", "application/json"),
    ("text/csv", "text/csv"),
    ("TEXT/CSV", "text/csv"),
    ("text/csv;charset=utf-8", "text/csv"),
    ("application/json, text/csv;q=0", "application/json"),
    ("text/csv;q=0, */*", "application/json"),  # the most specific range decides
    ("text/csv, */*;q=0.1", "text/csv"),
    ("text/csv, application/json", "application/json"),  # a tie: the server's order
    ("text/csv;q=0.8, application/json;q=0.7", "text/csv"),
    ("text/csv;q=2, application/json;q=0.1", "application/json"),  # q=2 is not a q-value
    ("text/html", None),
    ("text/csv;q=0", None),
])
def test_the_preferred_media_type(accept: str | None, chosen: str | None) -> None:
    assert preferred_media(accept, OFFERS) == chosen


@pytest.mark.parametrize(("accept_encoding", "quality"), [
    (None, 0.0),  # no header: sent as is
    ("gzip", 1.0),
    ("GZIP", 1.0),
    ("gzip;q=0", 0.0),
    ("gzip; q=0.5, identity", 0.5),
    ("br, *;q=0.2", 0.2),
    ("*, gzip;q=0", 0.0),  # named, so `*` does not apply to it
    ("identity", 0.0),
    ("gzip;q=0.0001", 0.0),  # four decimals: unreadable, left out
])
def test_the_quality_of_gzip(accept_encoding: str | None, quality: float) -> None:
    assert coding_quality(accept_encoding, "gzip") == quality
