"""Bundles for the device tests: real rules, real Ed25519 keys, no server."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import dsl
import engine
from rules.bundles import BundleIssuer, SigningKeys
from rules.store import content_hash

ISSUED = datetime(2026, 11, 27, 9, 20, tzinfo=UTC)  # bundles say 09:00, valid 72 h
SOURCE = """currency EUR
timezone Europe/Paris

rule boots "Bottes -10%" {
    discount 10% on items where category = "boots"
}

rule web_only "Web : chaussettes -50%" {
    channels web
    discount 50% on items where category = "socks"
}

rule lyon_only "Lyon : -5 EUR" {
    stores "lyon-01"
    discount 5.00 EUR on basket
}

rule web_coupon "Code WEB5 (web)" {
    channels web
    coupon "WEB5"
    discount 5.00 EUR on basket
}

rule flash "Flash 10:00-12:00" {
    valid 2026-11-27 10:00 for 2 hours
    discount 20% on items where category = "hats"
}
"""


def published(version: int = 3, source: str = SOURCE) -> engine.RuleSet:
    """The rules as the store would hold them for ``version``."""
    ruleset = dsl.compile_source(source, "promo.rules", publish_at=ISSUED)
    return ruleset.model_copy(update={"version": version,
                                      "content_hash": content_hash(ruleset.to_json())})


def issuer(folder: Path) -> BundleIssuer:
    return BundleIssuer(SigningKeys(folder), valid_hours=72)


def bundle_bytes(folder: Path, *, version: int = 3, channel: str = "pos",
                 store: str | None = "paris-01", ruleset: str = "fr",
                 now: datetime = ISSUED) -> bytes:
    return issuer(folder).issue(ruleset, published(version), channel, store, now)


def basket(at: str = "2026-11-27T11:00:00+01:00", **fields: object) -> dict[str, object]:
    """Boots 100.00, socks 10.00, a hat 30.00, at the till in Paris."""
    return {"channel": "pos", "store": "paris-01", "currency": "EUR", "at": at,
            "lines": [
                {"id": "1", "sku": "BOOT", "quantity": 1, "unit_price": "100.00",
                 "category": "boots"},
                {"id": "2", "sku": "SOCK", "quantity": 1, "unit_price": "10.00",
                 "category": "socks"},
                {"id": "3", "sku": "HAT", "quantity": 1, "unit_price": "30.00",
                 "category": "hats"}],
            **fields}
