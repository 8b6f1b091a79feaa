"""Rule sources of the store scenarios: a boots promotion that changes over versions."""

from __future__ import annotations

from typing import Any

HEADER = "currency EUR\ntimezone Europe/Paris\n\n"

BOOTS_10 = '''rule boots "Bottes -10%" {
    discount 10% on items where category = "boots"
}
'''
BOOTS_20 = BOOTS_10.replace("-10%", "-20%").replace("10%", "20%")
SOCKS_3_FOR_2 = '''rule socks "Chaussettes 3 pour 2" {
    buy 3 pay 2 on items where category = "socks"
}
'''
FLASH = '''rule flash "Averse -15% pendant 30 minutes" {
    valid for 30 minutes from publish
    discount 15% on items where category = "rainwear"
}
'''
BROKEN = '''rule boots "Bottes" {
    discount 150% on items where category = "boots"
}
'''


def sources(*blocks: str, name: str = "promo.rules") -> dict[str, str]:
    return {name: HEADER + "\n".join(blocks)}


def boots_basket(at: str = "2026-11-27T12:00:00+01:00") -> dict[str, Any]:
    """One pair of boots at 100.00 and three pairs of socks at 5.00 (15.00)."""
    return {"channel": "web", "currency": "EUR", "at": at, "lines": [
        {"id": "1", "sku": "BOOT-1", "quantity": 1, "unit_price": "100.00",
         "category": "boots"},
        {"id": "2", "sku": "SOCK-1", "quantity": 3, "unit_price": "5.00",
         "category": "socks"},
    ]}
