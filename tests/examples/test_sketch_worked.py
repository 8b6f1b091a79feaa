"""Every rule of the marketer's sketch, evaluated end to end with amounts by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import dsl
import engine

SKETCH = Path(__file__).parents[1] / "dsl" / "data" / "sketch.rules"
PUBLISHED = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)  # 14:00 in Paris


@pytest.fixture(scope="module")
def evaluator() -> engine.Evaluator:
    return engine.Evaluator(dsl.compile_paths([SKETCH], publish_at=PUBLISHED))


def price(evaluator: engine.Evaluator, *lines: dict[str, Any], at: str,
          channel: str = "pos", **fields: Any) -> dict[str, Any]:
    request = {"channel": channel, "store": "paris-01", "currency": "EUR", "at": at,
               "lines": list(lines), **fields}
    return evaluator.evaluate(engine.parse_request(request))


def line(line_id: str, sku: str, unit_price: str, quantity: int = 1, **fields: Any
         ) -> dict[str, Any]:
    return {"id": line_id, "sku": sku, "quantity": quantity, "unit_price": unit_price, **fields}


def applied(response: dict[str, Any]) -> dict[str, str]:
    return {item["rule"]: item["amount"] for item in response["applied"]}


CARDHOLDER = {"id": "c-42", "cardholder": True}
JACKET = line("1", "RAIN-JKT-01", "89.90", category="rainwear", brand="Aigle")


def test_rain_flash_and_rain_now_during_the_shower(evaluator: engine.Evaluator) -> None:
    response = price(evaluator, JACKET, at="2026-11-23T14:10:00+01:00", customer=CARDHOLDER)
    # both give 15% = 13.485 -> 13.49; same priority, so the smaller id wins: rain_flash
    assert applied(response) == {"rain_flash": "13.49"}
    assert response["total"] == "76.41"


def test_rain_flash_one_minute_after_the_shower(evaluator: engine.Evaluator) -> None:
    response = price(evaluator, JACKET, at="2026-11-23T14:31:00+01:00", customer=CARDHOLDER)
    assert applied(response) == {}


def test_rain_now_follows_the_publish_instant() -> None:
    later = engine.Evaluator(dsl.compile_paths(
        [SKETCH], publish_at=datetime(2026, 11, 23, 16, 0, tzinfo=UTC)))
    response = price(later, JACKET, at="2026-11-23T17:10:00+01:00", customer=CARDHOLDER)
    assert applied(response) == {"rain_now": "13.49"}  # 16:00 UTC + 10 minutes


def test_welcome10_from_fifty_euros(evaluator: engine.Evaluator) -> None:
    response = price(evaluator, line("1", "HAT", "50.00"), at="2026-11-24T10:00:00+01:00",
                     coupons=["WELCOME10"])
    assert (response["total"], response["coupons"][0]["status"]) == ("40.00", "applied")


def test_welcome10_refused_under_fifty(evaluator: engine.Evaluator) -> None:
    response = price(evaluator, line("1", "HAT", "42.10"), at="2026-11-24T10:00:00+01:00",
                     coupons=["WELCOME10"])
    assert response["coupons"] == [{"code": "WELCOME10", "status": "rejected",
                                    "reason": "needs subtotal >= 50.00 EUR, basket is 42.10 EUR"}]


def test_socks_3for2_at_the_till_and_not_on_the_web(evaluator: engine.Evaluator) -> None:
    socks = line("1", "SOCK-01", "4.00", quantity=6, category="socks")
    till = price(evaluator, socks, at="2026-11-24T10:00:00+01:00")
    web = price(evaluator, socks, at="2026-11-24T10:00:00+01:00", channel="web")
    assert (till["discount"], web["discount"]) == ("8.00", "0.00")  # 2 free units x 4.00


def test_web_t100_price_on_the_web_only(evaluator: engine.Evaluator) -> None:
    shirt = line("1", "T-100", "24.99")
    web = price(evaluator, shirt, at="2026-11-24T10:00:00+01:00", channel="web")
    till = price(evaluator, shirt, at="2026-11-24T10:00:00+01:00")
    assert (web["total"], till["total"]) == ("19.99", "24.99")


def test_gold_weekend_points_end_at_twenty_exactly(evaluator: engine.Evaluator) -> None:
    boots = line("1", "BOOT", "100.00", brand="Aigle")
    gold = {"id": "c-1", "tier": "gold"}
    saturday = price(evaluator, boots, at="2026-11-28T10:00:00+01:00", customer=gold)
    closing = price(evaluator, boots, at="2026-11-28T20:00:00+01:00", customer=gold)
    # 100.00 x 2 per 1.00 = 200 points; at 20:00 the window has ended
    assert (saturday["points"]["total"], closing["points"]["total"]) == (200, 0)


@pytest.mark.parametrize(("unit_price", "discount"), [
    ("99.00", "0.00"),  # below the first tier
    ("150.00", "7.50"),  # 5% from 100.00
    ("250.00", "25.00"),  # 10% from 200.00
])
def test_spend_more_tiers(evaluator: engine.Evaluator, unit_price: str, discount: str) -> None:
    response = price(evaluator, line("1", "TENT", unit_price), at="2026-12-10T12:00:00+01:00")
    assert response["discount"] == discount


def test_staff_stacks_on_what_is_left_but_not_on_clearance(evaluator: engine.Evaluator) -> None:
    employee = {"id": "e-1", "cardholder": True, "segments": ["employees"]}
    response = price(evaluator, JACKET,
                     line("2", "SALE", "20.00", attributes={"clearance": "yes"}),
                     at="2026-11-23T14:10:00+01:00", customer=employee)
    # jacket: rain 13.49, then staff 20% of 76.41 = 15.282 -> 15.28; clearance line: nothing
    assert [a["amount"] for a in response["lines"][0]["adjustments"]] == ["13.49", "15.28"]
    assert response["lines"][1]["discount"] == "0.00"


def test_lyon_boots_for_known_customers_in_lyon(evaluator: engine.Evaluator) -> None:
    boots = line("1", "BOOT", "45.00", quantity=2, category="boots")
    cheap = line("2", "KIDS", "35.00", category="boots")
    known = {"id": "c-7"}
    lyon = price(evaluator, boots, cheap, at="2026-11-24T10:00:00+01:00", store="lyon-01",
                 customer=known)
    paris = price(evaluator, boots, cheap, at="2026-11-24T10:00:00+01:00", customer=known)
    staff = price(evaluator, boots, cheap, at="2026-11-24T10:00:00+01:00", store="lyon-01",
                  customer={"id": "e-1", "segments": ["employees"]})
    # 2 pairs x 5.00 = 10.00; the 35.00 pair is under the 40.00 floor
    assert [r["discount"] for r in (lyon, paris)] == ["10.00", "0.00"]
    assert "lyon_boots" not in applied(staff)  # employees get their staff discount instead


def test_gift_set_two_for_twenty_five(evaluator: engine.Evaluator) -> None:
    response = price(evaluator, line("1", "CANDLE-01", "15.00"), line("2", "SOAP-01", "15.00"),
                     at="2026-11-24T10:00:00+01:00")
    # 30.00 -> 25.00: 5.00 split evenly: 2.50 each
    assert [item["discount"] for item in response["lines"]] == ["2.50", "2.50"]
