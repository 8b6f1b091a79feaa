"""Content negotiation by quality values (RFC 9110 §12.4-12.5): which of the forms
the server can send the client prefers, ``q=0`` meaning "not this one".

Looking for a substring was not enough: ``Accept: application/json, text/csv;q=0``
refuses CSV and ``Accept-Encoding: gzip;q=0`` refuses gzip, yet both name them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

# RFC 9110 §12.4.2: 0 to 1 with at most three decimals.
_QVALUE = re.compile(r"0(\.[0-9]{0,3})?|1(\.0{0,3})?")


def _elements(header: str) -> Iterator[tuple[str, float]]:
    """(value, q) of each element of an Accept-like header, values lower-cased; an
    element whose q cannot be read is left out rather than guessed at."""
    for element in header.split(","):
        value, *parameters = element.split(";")
        quality: float | None = 1.0
        for parameter in parameters:
            name, _, text = parameter.partition("=")
            if name.strip().lower() == "q":
                text = text.strip()
                quality = float(text) if _QVALUE.fullmatch(text) else None
        if value.strip() and quality is not None:
            yield value.strip().lower(), quality


def _media_match(media_range: str, media: str) -> int:
    """How specifically ``media_range`` names ``media``: 2 exactly, 1 as type/*, 0 as
    */*; -1 not at all."""
    kind = media.split("/")[0]
    return {media: 2, f"{kind}/*": 1, "*/*": 0}.get(media_range, -1)


def media_quality(accept: str | None, media: str) -> tuple[float, int]:
    """(q, specificity) that an Accept header gives ``media``: the most specific range
    that names it decides (RFC 9110 §12.5.1). No header accepts anything."""
    if accept is None or not accept.strip():
        return 1.0, 0
    best = (0.0, -1)
    for media_range, quality in _elements(accept):
        specificity = _media_match(media_range, media)
        if specificity > best[1]:
            best = (quality, specificity)
    return best


def preferred_media(accept: str | None, offers: Sequence[str]) -> str | None:
    """The offer the client prefers: highest q, then the one it named most specifically,
    then the first offered (the server's default). None when it accepts none of them."""
    ranked = [(media_quality(accept, offer), -index) for index, offer in enumerate(offers)]
    (quality, _), index = max(ranked)
    return offers[-index] if quality > 0 else None


def coding_quality(accept_encoding: str | None, coding: str) -> float:
    """The q an Accept-Encoding header gives ``coding`` (RFC 9110 §12.5.3): its own
    element, else ``*``'s; 0 when neither is there (no header: send it uncompressed)."""
    named = dict(_elements(accept_encoding or ""))
    return named.get(coding, named.get("*", 0.0))


__all__ = ["coding_quality", "media_quality", "preferred_media"]
