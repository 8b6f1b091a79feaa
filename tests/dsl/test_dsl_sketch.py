"""Every rule of the marketer's sketch compiles to the IR it means."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path

import pytest

import dsl
from engine import ir

SKETCH = Path(__file__).parent / "data" / "sketch.rules"
PUBLISHED = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def sketch() -> dict[str, ir.Rule]:
    ruleset = dsl.compile_paths([SKETCH], publish_at=PUBLISHED)
    assert (ruleset.currency, ruleset.timezone) == ("EUR", "Europe/Paris")
    return {rule.id: rule for rule in ruleset.rules}


def test_the_sketch_has_its_ten_rules(sketch: dict[str, ir.Rule]) -> None:
    assert sorted(sketch) == ["gift_set", "gold_weekend_points", "lyon_boots", "rain_flash",
                              "rain_now", "socks_3for2", "spend_more", "staff", "web_t100",
                              "welcome10"]


def test_rain_flash(sketch: dict[str, ir.Rule]) -> None:
    rule = sketch["rain_flash"]
    assert rule.audience == ir.AudienceFlag(flag="cardholder")
    # 14:00 Paris (UTC+1) = 13:00 UTC, for 30 minutes
    assert rule.windows == (ir.AbsoluteWindow(
        start=datetime(2026, 11, 23, 13, 0, tzinfo=UTC),
        end=datetime(2026, 11, 23, 13, 30, tzinfo=UTC), timezone="Europe/Paris"),)
    assert rule.effect == ir.PercentOff(
        percent=Decimal(15), target="items",
        items=ir.ItemFieldIn(field="category", values=("rainwear",)))


def test_rain_now_starts_at_publish(sketch: dict[str, ir.Rule]) -> None:
    [window] = sketch["rain_now"].windows
    assert isinstance(window, ir.AbsoluteWindow)
    assert (window.start, window.end) == (PUBLISHED, datetime(2026, 11, 23, 15, 30, tzinfo=UTC))


def test_welcome10(sketch: dict[str, ir.Rule]) -> None:
    rule = sketch["welcome10"]
    assert rule.coupons == ("WELCOME10",)
    assert rule.limits == ir.UsageLimits(per_customer=1, total=5000)
    assert rule.conditions == (ir.SubtotalCondition(op=">=", amount=Decimal("50.00")),)
    assert rule.effect == ir.AmountOffBasket(amount=Decimal("10.00"))


def test_socks_3for2(sketch: dict[str, ir.Rule]) -> None:
    rule = sketch["socks_3for2"]
    assert rule.channels == ("kiosk", "pos")
    assert rule.effect == ir.BuyPay(buy=3, pay=2,
                                    items=ir.ItemFieldIn(field="category", values=("socks",)))


def test_web_t100_is_a_price_rule(sketch: dict[str, ir.Rule]) -> None:
    rule = sketch["web_t100"]
    assert rule.channels == ("mobile", "web")
    assert rule.effect == ir.PriceOverride(amount=Decimal("19.99"),
                                           items=ir.ItemFieldIn(field="sku", values=("T-100",)))


def test_gold_weekend_points(sketch: dict[str, ir.Rule]) -> None:
    rule = sketch["gold_weekend_points"]
    assert rule.audience == ir.AudienceTierIn(values=("gold", "platinum"))
    assert rule.windows == (ir.RecurringWindow(days=(6, 7), start=time(9), end=time(20),
                                               timezone="Europe/Paris"),)
    assert rule.effect == ir.Points(points=2, per=Decimal("1.00"),
                                    items=ir.ItemFieldIn(field="brand", values=("Aigle",)))


def test_spend_more(sketch: dict[str, ir.Rule]) -> None:
    rule = sketch["spend_more"]
    assert (rule.stacking, rule.priority) == ("exclusive", 50)
    assert rule.effect == ir.TieredBasket(tiers=(
        ir.Tier(threshold=Decimal("100.00"), percent=Decimal(5)),
        ir.Tier(threshold=Decimal("200.00"), percent=Decimal(10))))
    # 2026-12-01 00:00 and 2026-12-24 23:59 in Paris (UTC+1)
    assert rule.windows == (ir.AbsoluteWindow(
        start=datetime(2026, 11, 30, 23, 0, tzinfo=UTC),
        end=datetime(2026, 12, 24, 22, 59, tzinfo=UTC), timezone="Europe/Paris"),)


def test_staff(sketch: dict[str, ir.Rule]) -> None:
    rule = sketch["staff"]
    assert (rule.stacking, rule.priority) == ("stackable", 10)
    assert rule.audience == ir.AudienceSegment(value="employees")
    assert rule.effect == ir.PercentOff(percent=Decimal(20), target="items", items=ir.ItemNot(
        arg=ir.ItemAttributeIn(name="clearance", values=("yes",))))


def test_lyon_boots(sketch: dict[str, ir.Rule]) -> None:
    rule = sketch["lyon_boots"]
    boots = ir.ItemFieldIn(field="category", values=("boots",))
    assert rule.stores == ("lyon-01", "lyon-02")
    assert rule.audience == ir.AudienceAnd(args=(
        ir.AudienceFlag(flag="known"), ir.AudienceNot(arg=ir.AudienceSegment(value="employees"))))
    assert rule.conditions == (ir.QuantityCondition(items=boots, op=">=", count=1),)
    assert rule.effect == ir.AmountOffEach(amount=Decimal("5.00"), items=ir.ItemAnd(args=(
        boots, ir.ItemPriceCompare(op=">=", amount=Decimal("40.00")))))


def test_gift_set(sketch: dict[str, ir.Rule]) -> None:
    assert sketch["gift_set"].effect == ir.BundlePrice(size=2, amount=Decimal("25.00"), items=(
        ir.ItemFieldIn(field="sku", values=("CANDLE-01", "CANDLE-02", "SOAP-01"))))


def test_recurring_windows_with_date_bounds_and_every_day() -> None:
    ruleset = dsl.compile_source(
        'currency EUR\ntimezone Europe/Paris\nrule a "A" {\n'
        ' valid every day 22:00-02:00 from 2026-12-01 to 2026-12-31\n discount 5% on items\n}')
    assert ruleset.rules[0].windows == (ir.RecurringWindow(
        days=(1, 2, 3, 4, 5, 6, 7), start=time(22), end=time(2), timezone="Europe/Paris",
        from_date=date(2026, 12, 1), until_date=date(2026, 12, 31)),)


def test_a_rule_timezone_overrides_the_file_default() -> None:
    ruleset = dsl.compile_source(
        'currency EUR\ntimezone Europe/Paris\nrule a "A" {\n timezone America/New_York\n'
        ' valid 2026-11-23 09:00 for 2 hours\n discount 5% on items\n}')
    [window] = ruleset.rules[0].windows
    assert isinstance(window, ir.AbsoluteWindow)
    assert window.start == datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # 09:00 EST = 14:00 UTC
