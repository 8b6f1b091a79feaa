"""Demo baskets with their amounts worked out by hand (examples/README.md tells the story)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_demo_examples import EXAMPLES, demo_response


def demo(name: str) -> dict[str, Any]:
    return demo_response(EXAMPLES / "baskets" / f"{name}.json")


def lines(response: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in response["lines"]}


def test_rain_flash_and_umbrella_reflex_for_a_parisian_cardholder() -> None:
    response = demo("pos-rain-flash-cardholder")
    # jacket 89.90 x 15% = 13.485 -> 13.49; umbrella: 20% (5.00) beats 3.00 each
    assert [lines(response)[i]["discount"] for i in "12"] == ["13.49", "5.00"]
    # 114.90 - 18.49 = 96.41; 1 point per euro on 96.41 -> 96
    assert (response["total"], response["points"]["total"]) == ("96.41", 96)


def test_socks_three_for_two_frees_the_cheapest_in_each_group() -> None:
    response = demo("pos-socks-3for2-anonymous")
    # units 12, 12, 4 | 4, 4, 4: one 4.00 free per group -> 8.00, all on the basic socks
    assert [lines(response)[i]["discount"] for i in "12"] == ["0.00", "8.00"]


def test_staff_stacks_but_not_on_clearance() -> None:
    response = demo("pos-staff-and-clearance")
    # sweater 40.00 on clearance: no staff, clearance extra 10% = 4.00
    # T-shirts 2 x 24.99 = 49.98: staff 20% = 9.996 -> 10.00
    assert [lines(response)[i]["discount"] for i in "12"] == ["4.00", "10.00"]


def test_gift_set_splits_the_bundle_saving_by_price() -> None:
    response = demo("pos-advent-gift-set")
    # 18.00 + 16.00 = 34.00 -> 25.00: 9.00 split 18:16 = 4.7647 / 4.2353;
    # floors 4.76 + 4.23, the spare cent to the larger remainder (.53): 4.24.
    # The candles' units are discounted by the bundle, so the advent -10% does not add.
    assert [lines(response)[i]["discount"] for i in "123"] == ["4.76", "4.24", "0.00"]


def test_welcome_coupon_counts_after_line_discounts() -> None:
    response = demo("web-welcome-coupon-applied")
    # student -10% on the sweater: 3.50; 64.00 - 3.50 = 60.50 >= 50.00 -> 10.00 off,
    # allocated 29.00 : 31.50 -> 4.7934 / 5.2066 -> 4.79 + 5.20 = 9.99, spare cent to
    # the sweater (.66 > .34): 4.79 and 5.21
    items = lines(response)
    assert [a["amount"] for a in items["1"]["adjustments"]] == ["4.79"]
    assert [a["amount"] for a in items["2"]["adjustments"]] == ["3.50", "5.21"]
    assert response["total"] == "50.50"


def test_welcome_coupon_too_small_says_why() -> None:
    response = demo("web-welcome-coupon-too-small")
    assert response["coupons"] == [
        {"code": "WELCOME10", "status": "rejected",
         "reason": "needs subtotal >= 50.00 EUR, basket is 42.10 EUR"},
        {"code": "BOGUS", "status": "rejected", "reason": "unknown coupon"},
    ]


def test_black_friday_saturday_with_gold_weekend_points() -> None:
    response = demo("web-black-friday-gold-saturday")
    # 20% of 220.00 = 44.00; boots 20% of 159.00 = 31.80 beats 15.00 premium
    assert [lines(response)[i]["discount"] for i in "12"] == ["44.00", "31.80"]
    # points: jacket net 176.00 at 1/EUR = 176; boots net 127.20 at 2/EUR (Aigle,
    # gold, saturday 10:00) = 127 x 2 = 254
    assert {p["rule"]: p["points"] for p in response["points"]["by_rule"]} == {
        "base_points": 176, "gold_weekend_points": 254}


def test_night_owl_reads_the_subtotal_after_line_discounts() -> None:
    response = demo("web-night-owl-friday")
    # 75.00 - 10% clearance = 67.50 >= 60.00 -> 5.00 off the basket: 62.50
    assert response["total"] == "62.50"


def test_platinum_exclusive_beats_the_premium_boots_amount() -> None:
    response = demo("mobile-platinum-chameau")
    # 189.00 x 25% = 47.25 alone; 4 bodies at 12.00, 4 for 3: 12.00 free
    assert [lines(response)[i]["discount"] for i in "12"] == ["47.25", "12.00"]


def test_spend_more_is_exclusive_so_the_christmas_coupon_is_refused() -> None:
    response = demo("mobile-spend-more-with-christmas-coupon")
    # 264.00 >= 200.00 -> 10% = 26.40
    assert response["discount"] == "26.40"
    assert response["coupons"] == [{"code": "NOEL15", "status": "rejected",
                                    "reason": "an exclusive basket discount applied: spend_more"}]


def test_app_price_and_app_points_bonus() -> None:
    response = demo("mobile-parka-app-price")
    # parka 169.00 -> app price 149.00; T-100 24.99 -> 19.99; subtotal 168.99
    assert response["subtotal"] == "168.99"
    # base floor(168.99) = 168, app bonus floor(168.99 / 100.00) x 50 = 50
    assert response["points"]["total"] == 218


def test_sunday_kiosk_socks_each_counts_only_paying_units() -> None:
    response = demo("kiosk-sunday-socks")
    # 3 x 4.00: one free (4.00) + 1.00 on each of the 2 paying pairs = 6.00
    assert response["total"] == "6.00"


def test_kiosk_tiered_welcome_gives_the_highest_tier() -> None:
    assert demo("kiosk-anonymous-tiered-welcome")["discount"] == "12.00"  # 99.00 >= 80.00


def test_expected_files_exist_for_every_basket() -> None:
    names = {p.name for p in (EXAMPLES / "baskets").glob("*.json")}
    assert names == {p.name for p in (EXAMPLES / "expected").glob("*.json")}
    assert Path(EXAMPLES / "README.md").exists()
