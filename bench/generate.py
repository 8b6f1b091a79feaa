"""Realistic, seeded rule sets and baskets for the benchmarks.

A catalogue of SKUs, categories and brands with a skewed (Zipf-like)
popularity; rules that mostly target popular things but spread over the long
tail; audiences, channels and stores; and, as in a real retailer's history,
most rules outside their window (expired or not yet started) at the
benchmark's instant. The rule set is produced as DSL source, so the same text
serves to time the compiler and, compiled, the evaluator.
"""

from __future__ import annotations

import bisect
import itertools
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

BENCH_AT = datetime.fromisoformat("2026-11-24T15:00:00+01:00")
CHANNELS = ("pos", "web", "mobile", "kiosk")
TIERS = ("silver", "gold", "platinum")
SEGMENTS = ("students", "employees", "families", "seniors")
BASKET_WIDE = 0.02  # the share of basket-wide offers among the rules (_effect)


@dataclass(frozen=True)
class Catalogue:
    skus: list[str]
    categories: list[str]
    brands: list[str]
    sku_category: list[str]
    sku_brand: list[str]
    sku_price: list[int]  # cents
    weights: list[float]  # cumulative popularity of SKUs

    def popular_sku(self, rng: random.Random) -> int:
        return bisect.bisect(self.weights, rng.random() * self.weights[-1])


def _zipf_pick(rng: random.Random, items: list[str], skew: float = 3.2) -> str:
    """A skewed pick, index 0 the most popular: P(first of n) = (1/n) ** (1/skew).

    skew 3.2 puts ~19% of the picks on the first of 200 (a Zipf-like catalogue);
    skew 1.65 puts ~4% there (how marketers spread rules over categories).
    """
    index = int(len(items) * rng.random() ** skew)
    return items[min(index, len(items) - 1)]


def catalogue(seed: int = 7, skus: int = 50_000, categories: int = 200, brands: int = 300
              ) -> Catalogue:
    rng = random.Random(seed)
    category_names = [f"cat{index:03d}" for index in range(categories)]
    brand_names = [f"brand{index:03d}" for index in range(brands)]
    sku_names = [f"SKU-{index:05d}" for index in range(skus)]
    popularity = [1 / (rank + 1) ** 1.05 for rank in range(skus)]
    return Catalogue(
        skus=sku_names, categories=category_names, brands=brand_names,
        sku_category=[_zipf_pick(rng, category_names) for _ in sku_names],
        sku_brand=[_zipf_pick(rng, brand_names) for _ in sku_names],
        sku_price=[rng.choice((499, 999, 1999, 2499, 3990, 4990, 8990, 12900, 19900))
                   for _ in sku_names],
        weights=list(itertools.accumulate(popularity)),
    )


def _window(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.60:  # expired
        start = BENCH_AT - timedelta(days=rng.randint(2, 400))
    elif roll < 0.85:  # not started yet
        start = BENCH_AT + timedelta(days=rng.randint(1, 120))
    elif roll < 0.95:  # live now
        start = BENCH_AT - timedelta(hours=rng.randint(1, 48))
        return f"    valid {start:%Y-%m-%d %H:00} for {rng.randint(49, 240)} hours\n"
    else:
        return "    valid every sat, sun 09:00-20:00\n"
    return f"    valid {start:%Y-%m-%d %H:00} for {rng.randint(1, 14)} days\n"


def _items(rng: random.Random, cat: Catalogue, skew: float) -> str:
    """What a rule targets. Baskets follow the catalogue's steep popularity;
    marketers spread their rules more evenly (``skew`` sets how evenly)."""
    roll = rng.random()
    if roll < 0.45:
        picks = sorted({_zipf_pick(rng, cat.skus[: len(cat.skus) // 5], skew)
                        for _ in range(rng.randint(1, 3))})
        return "sku in (" + ", ".join(f'"{s}"' for s in picks) + ")"
    if roll < 0.80:
        return f'category = "{_zipf_pick(rng, cat.categories, skew)}"'
    text = f'brand = "{_zipf_pick(rng, cat.brands, skew)}"'
    if rng.random() < 0.3:
        text += " and price >= 20.00 EUR"
    return text


def _effect(rng: random.Random, cat: Catalogue, skew: float, basket_kept: float = 1.0
            ) -> tuple[str, str]:
    """(block kind, effect line). ``basket_kept`` < 1 keeps only that share of the
    basket-wide offers (the others become item rules): a diagnostic, see rules_source."""
    roll = rng.random()
    items = _items(rng, cat, skew)
    if roll < BASKET_WIDE and basket_kept < 1.0 and rng.random() >= basket_kept:
        roll = BASKET_WIDE + (1.0 - BASKET_WIDE) * rng.random()
    # Basket-wide offers are few at any time, and most need a coupon (_scope).
    if roll < 0.015:  # "10 EUR off from 100 EUR": basket amounts come with a threshold
        amount = rng.choice((5, 10, 15))
        return "rule", (f"when subtotal >= {amount * 10}.00 EUR\n"
                        f"    discount {amount}.00 EUR on basket")
    if roll < BASKET_WIDE:
        return "rule", ("discount on basket\n        5% when subtotal >= 100.00 EUR\n"
                        "        10% when subtotal >= 200.00 EUR")
    if roll < 0.11:
        return "price", f"price {rng.choice(('9.99', '19.99', '29.99'))} EUR on items where {items}"
    if roll < 0.13:
        return "rule", f"buy 3 pay 2 on items where {items}"
    if roll < 0.14:
        return "rule", f"bundle 2 for 25.00 EUR on items where {items}"
    if roll < 0.17:
        return "rule", f"points 2 per 1.00 EUR on items where {items}"
    if roll < 0.27:
        return "rule", f"discount 2.00 EUR each on items where {items}"
    return "rule", f"discount {rng.choice((5, 10, 15, 20, 25, 30))}% on items where {items}"


def _scope(rng: random.Random, basket_wide: bool) -> str:
    lines = ""
    if rng.random() < 0.3:
        lines += "    channels " + ", ".join(sorted(rng.sample(CHANNELS, rng.randint(1, 3)))) + "\n"
    if rng.random() < 0.1:
        stores = sorted(rng.sample(range(300), rng.randint(1, 5)))
        lines += "    stores " + ", ".join(f'"store-{s:03d}"' for s in stores) + "\n"
    roll = rng.random()
    if roll < 0.15:
        lines += "    audience cardholder\n"
    elif roll < 0.25:
        lines += f'    audience tier in ("{rng.choice(TIERS)}", "platinum")\n'
    elif roll < 0.30:
        lines += f'    audience segment "{rng.choice(SEGMENTS)}"\n'
    if rng.random() < (0.6 if basket_wide else 0.03):
        lines += f'    coupon "CODE{rng.randint(0, 99):02d}"\n'
    return lines


RULE_SKEW = 1.65  # realistic: the busiest category carries ~4% of category rules
STRESS_SKEW = 3.2  # stress: ~19% of category rules on one category


def rules_source(count: int, seed: int = 11, cat: Catalogue | None = None,
                 skew: float = RULE_SKEW, basket_offers_of: int | None = None) -> str:
    """DSL text of ``count`` rules.

    ``basket_offers_of``: a diagnostic, not a mix. The basket-wide offers are
    BASKET_WIDE of the rules at every size, so 10x the rules puts 10x the live
    basket-wide offers before every basket (and their discounts into its
    answer). Given a rule count, only as many basket-wide offers are kept as a
    rule set of that count has; the others become item rules. The default
    (None) leaves the rules exactly as they always were.
    """
    cat = cat or catalogue()
    rng = random.Random(seed)
    kept = 1.0 if basket_offers_of is None else min(1.0, basket_offers_of / count)
    parts = ["currency EUR\ntimezone Europe/Paris\n"]
    for index in range(count):
        kind, effect = _effect(rng, cat, skew, kept)
        body = _scope(rng, "on basket" in effect) + _window(rng) + f"    {effect}\n"
        roll = rng.random()
        if kind == "rule" and roll < 0.10:
            body += "    stacking stackable\n"
        elif kind == "rule" and roll < 0.13:
            body += "    stacking exclusive\n"
        if rng.random() < 0.2:
            body += f"    priority {rng.randint(1, 5)}\n"
        parts.append(f'{kind} r{index:06d} "Rule {index}" {{\n{body}}}\n')
    return "\n".join(parts)


def basket(rng: random.Random, cat: Catalogue, lines: int = 20) -> dict[str, Any]:
    chosen: dict[int, int] = {}
    while len(chosen) < lines:
        sku = cat.popular_sku(rng)
        chosen[sku] = chosen.get(sku, 0) + 1
    roll = rng.random()
    customer: dict[str, Any] | None = None
    if roll > 0.4:
        customer = {"id": f"c-{rng.randint(1, 10**6)}", "cardholder": rng.random() < 0.5,
                    "tier": rng.choice((None, *TIERS)), "segments": rng.sample(SEGMENTS, 1)}
        customer = {k: v for k, v in customer.items() if v is not None}
    request: dict[str, Any] = {
        "channel": rng.choice(CHANNELS), "store": f"store-{rng.randrange(300):03d}",
        "currency": "EUR", "at": BENCH_AT.isoformat(),
        "lines": [
            {"id": str(n), "sku": cat.skus[sku], "quantity": quantity,
             "unit_price": f"{cat.sku_price[sku] / 100:.2f}",
             "category": cat.sku_category[sku], "brand": cat.sku_brand[sku]}
            for n, (sku, quantity) in enumerate(sorted(chosen.items()))
        ],
    }
    if customer:
        request["customer"] = customer
    if rng.random() < 0.1:
        request["coupons"] = [f"CODE{rng.randint(0, 99):02d}"]
    return request


def baskets(count: int, seed: int = 13, cat: Catalogue | None = None) -> list[dict[str, Any]]:
    cat = cat or catalogue()
    rng = random.Random(seed)
    return [basket(rng, cat) for _ in range(count)]
