"""The channel baskets of the demo (examples/README.md), amounts worked out by hand.

Each test: given one demo basket (examples/baskets/NAME.json, its channel and
instant), when it is priced on the demo rules as published at 13:00 UTC, then
one behaviour, with the amounts computed by hand (the arithmetic in a comment).
"""

from __future__ import annotations

from typing import Any

from test_demo_examples import EXAMPLES, demo_response


def demo(name: str) -> dict[str, Any]:
    return demo_response(EXAMPLES / "baskets" / f"{name}.json")


def discounts(response: dict[str, Any]) -> list[str]:
    return [line["discount"] for line in response["lines"]]


def applied(response: dict[str, Any]) -> dict[str, str]:
    return {item["rule"]: item["amount"] for item in response["applied"]}


def points(response: dict[str, Any]) -> dict[str, int]:
    return {item["rule"]: item["points"] for item in response["points"]["by_rule"]
            if item["points"]}


# --- pos -------------------------------------------------------------------------


def test_pos_rain_flash_is_over_at_1430_and_the_parisian_amount_takes_the_umbrella() -> None:
    # given a Parisian cardholder at the till at 14:30, when both 30-minute flashes end
    response = demo("pos-rain-flash-over-at-1430")
    # then the jacket pays 89.90; the umbrella takes 3.00 each: 114.90 - 3.00 = 111.90
    assert discounts(response) == ["0.00", "3.00"]
    assert applied(response) == {"parisian_umbrellas": "3.00"}
    assert (response["total"], response["points"]["total"]) == ("111.90", 111)  # floor(111.90)


def test_pos_advent_candles_when_the_gift_set_group_is_incomplete() -> None:
    # given one set candle and two fig candles (not in the set) at the till on 8 December
    response = demo("pos-advent-candles-incomplete-set")
    # then the lone CANDLE-01 makes no group of 2, so advent -10% applies to both lines:
    # 18.00 x 10% = 1.80; 2 x 22.00 x 10% = 4.40; 62.00 - 6.20 = 55.80
    assert discounts(response) == ["1.80", "4.40"]
    assert applied(response) == {"advent_candles": "6.20"}
    assert response["total"] == "55.80"


def test_pos_lyon_boots_refused_to_an_employee_who_gets_staff_instead() -> None:
    # given an employee buying 129.00 boots at the Lyon till
    response = demo("pos-lyon-boots-employee")
    # then lyon_boots (not employees) gives nothing; staff 20% of 129.00 = 25.80
    assert applied(response) == {"staff": "25.80"}
    assert (response["total"], response["points"]["total"]) == ("103.20", 103)


def test_pos_xmas15_allocation_gives_the_remainder_cent_to_the_largest_remainder() -> None:
    # given XMAS15 on 29.00 + 35.00 + 19.90 = 83.90 (>= 80.00, under spend_more's 100.00)
    response = demo("pos-xmas15-remainder-cent")
    # then 15% of 83.90 = 12.585 -> 12.59; shares 4.3517 / 5.2521 / 2.9862: floors
    # 4.35 + 5.25 + 2.98 = 12.58, the cent to line 3 (.62 the largest remainder)
    assert discounts(response) == ["4.35", "5.25", "2.99"]
    assert response["coupons"] == [{"code": "XMAS15", "status": "applied"}]
    assert (response["total"], response["points"]["total"]) == ("71.31", 71)  # 83.90 - 12.59


def test_pos_seven_pairs_make_two_groups_and_the_kiosk_sunday_bonus_is_not_at_the_till() -> None:
    # given 3 wool pairs at 12.00 and 4 basic at 4.00 at a till on a Sunday
    response = demo("pos-socks-seven-pairs-sunday")
    # then units 12,12,12 | 4,4,4 | 4: one 12.00 and one 4.00 free, the seventh pays;
    # 52.00 - 16.00 = 36.00 and no sunday_kiosk_socks (kiosk only)
    assert discounts(response) == ["12.00", "4.00"]
    assert applied(response) == {"socks_3for2": "16.00"}
    assert response["total"] == "36.00"


def test_pos_first_snow_is_not_in_lyon_02_but_lyon_boots_is() -> None:
    # given gloves at 29.00 and boots at exactly 40.00 at the lyon-02 till on 26 November
    response = demo("pos-lyon-02-no-first-snow")
    # then no first_snow (paris-01, paris-02, lyon-01 only); boots 40.00 >= 40.00: 5.00
    assert discounts(response) == ["0.00", "5.00"]
    assert (response["total"], response["points"]["total"]) == ("64.00", 64)  # 69.00 - 5.00


# --- web -------------------------------------------------------------------------


def test_web_black_friday_leaves_clearance_to_the_clearance_extra() -> None:
    # given a Patagonia jacket and a clearance Aigle jacket on Black Friday
    response = demo("web-black-friday-clearance-excluded")
    # then 220.00 x 20% = 44.00; the clearance 89.90 takes only 10%: 8.99
    assert applied(response) == {"black_friday": "44.00", "clearance_extra": "8.99"}
    assert response["total"] == "256.91"  # 309.90 - 52.99


def test_web_black_friday_is_over_at_2359() -> None:
    # given a Patagonia fleece at 120.00 on 30 November at 23:59 (the window's end)
    response = demo("web-black-friday-over-at-2359")
    # then no discount (the end is exclusive); 120 points
    assert (response["discount"], response["points"]["total"]) == ("0.00", 120)


def test_web_night_owl_saturday_slot_is_over_at_two_on_sunday() -> None:
    # given 2 sweaters at 39.00 = 78.00 (>= 60.00) on Sunday at 02:00
    response = demo("web-night-owl-over-at-two")
    # then the Saturday 22:00-02:00 slot has ended: nothing off
    assert (response["applied"], response["total"]) == ([], "78.00")


def test_web_welcome10_beats_night_owl_and_its_cent_goes_to_the_t_shirt() -> None:
    # given WELCOME10 on a Saturday night: 45.00 + T-100 at its web price 19.99 = 64.99
    response = demo("web-welcome10-beats-night-owl")
    # then both best basket rules qualify; 10.00 beats 5.00; shares 6.9241 / 3.0759:
    # 6.92 + 3.07 = 9.99, the cent to the T-shirt (.59 > .41)
    assert applied(response) == {"welcome10": "10.00"}
    assert discounts(response) == ["6.92", "3.08"]
    assert (response["total"], response["points"]["total"]) == ("54.99", 54)


def test_web_petit_bateau_fifth_unit_pays() -> None:
    # given 2 pyjamas at 25.00 and 3 bodies at 12.00 on the web
    response = demo("web-petit-bateau-fifth-unit-pays")
    # then units 25,25,12,12 | 12: one 12.00 free, the fifth unit makes no group; 86.00 - 12.00
    assert discounts(response) == ["0.00", "12.00"]
    assert response["total"] == "74.00"


def test_web_students_refused_to_a_platinum_student() -> None:
    # given a platinum student: sweater 35.00 and a T-100 at its web price 19.99
    response = demo("web-platinum-student-no-student-price")
    # then no student -10% (not platinum); 54.99, floor -> 54 points
    assert (response["applied"], response["total"]) == ([], "54.99")
    assert response["points"]["total"] == 54


def test_web_outdoor_midweek_points_triple_the_tent_and_backpack() -> None:
    # given a tent 199.00, a backpack 65.00 and a T-100 (19.99) on Tuesday at 14:00
    response = demo("web-outdoor-midweek-points")
    # then 3 x (199.00 + 65.00) = 792 beats 1 per euro there; the T-shirt floor(19.99) = 19
    assert points(response) == {"base_points": 19, "outdoor_midweek_points": 792}
    assert response["points"]["total"] == 811


# --- mobile ----------------------------------------------------------------------


def test_mobile_black_friday_on_the_app_price_of_the_parka() -> None:
    # given the parka (169.00, app price 149.00) on Black Friday Saturday in the app
    response = demo("mobile-black-friday-on-app-parka")
    # then 149.00 x 20% = 29.80 -> 119.20; points 119 + floor(119.20 / 100) x 50 = 169
    assert (response["lines"][0]["unit_price"], response["discount"]) == ("149.00", "29.80")
    assert points(response) == {"base_points": 119, "app_points_bonus": 50}


def test_mobile_gold_saturday_doubles_aigle_points_and_the_app_bonus_stacks() -> None:
    # given a gold customer's Aigle boots at 159.00 on Saturday 5 December at 11:00
    response = demo("mobile-gold-saturday-aigle-boots")
    # then premium_boots 15.00 -> 144.00 >= 100.00: spend_more 5% = 7.20 -> 136.80;
    # 2 x floor(136.80) = 272 beats 136; the app bonus floor(1.368) x 50 = 50
    assert applied(response) == {"premium_boots": "15.00", "spend_more": "7.20"}
    assert points(response) == {"gold_weekend_points": 272, "app_points_bonus": 50}


def test_mobile_noel15_is_live_from_midnight_on_1_december() -> None:
    # given NOEL15 on 65.00 + 29.00 = 94.00 (>= 80.00, under spend_more's 100.00)
    # at 00:00 on 1 December, the first instant of the Christmas window
    response = demo("mobile-noel15-from-midnight-december-1")
    # then 94.00 x 15% = 14.10, shares 65:29 = 9.75 and 4.35; 79.90 -> 79 points
    assert discounts(response) == ["9.75", "4.35"]
    assert response["coupons"] == [{"code": "NOEL15", "status": "applied"}]
    assert response["points"]["total"] == 79


def test_mobile_students_percent_rounds_half_up_once_per_line() -> None:
    # given a student buying 3 T-100 at the app price 19.99 = 59.97
    response = demo("mobile-students-t100-rounding")
    # then 10% = 5.997 -> 6.00; 53.97 -> 53 points
    assert (response["discount"], response["total"]) == ("6.00", "53.97")
    assert response["points"]["total"] == 53


def test_mobile_petit_bateau_eight_units_make_two_groups() -> None:
    # given 8 bodies at 12.00 on one line in the app
    response = demo("mobile-petit-bateau-two-groups")
    # then two groups of 4, two free: 24.00; 96.00 - 24.00 = 72.00
    assert (response["discount"], response["total"]) == ("24.00", "72.00")


def test_mobile_rain_flash_is_live_in_the_app_too() -> None:
    # given a cardholder (no city) in the app at 14:20 on 23 November
    response = demo("mobile-rain-flash-in-the-app")
    # then 120.00 x 15% = 18.00; umbrella 25.00 x 20% = 5.00; 145.00 - 23.00 = 122.00
    assert applied(response) == {"rain_flash": "18.00", "rain_now": "5.00"}
    assert points(response) == {"base_points": 122, "app_points_bonus": 50}


def test_mobile_night_owl_saturday_slot_still_live_on_sunday_at_0130() -> None:
    # given a sweater at 65.00 (>= 60.00) on Sunday 29 November at 01:30
    response = demo("mobile-night-owl-saturday-slot-on-sunday")
    # then the Saturday 22:00-02:00 slot gives 5.00: 60.00
    assert applied(response) == {"night_owl": "5.00"}
    assert response["total"] == "60.00"


def test_mobile_spend_more_first_tier_and_its_remainder_cent() -> None:
    # given 59.90 + 45.00 + 49.00 = 153.90 on Saturday 12 December
    response = demo("mobile-spend-more-five-percent")
    # then 5% = 7.695 -> 7.70; shares 2.9969 / 2.2515 / 2.4516: 2.99 + 2.25 + 2.45 = 7.69,
    # the cent to line 1 (.69 the largest remainder)
    assert discounts(response) == ["3.00", "2.25", "2.45"]
    assert response["points"]["total"] == 196  # floor(146.20) + 50


def test_mobile_staff_stacks_on_black_friday() -> None:
    # given an employee buying a 220.00 Patagonia jacket on Black Friday
    response = demo("mobile-staff-on-black-friday")
    # then 20% = 44.00, then staff 20% of the 176.00 left = 35.20; 140.80
    assert applied(response) == {"black_friday": "44.00", "staff": "35.20"}
    assert response["total"] == "140.80"


# --- kiosk -----------------------------------------------------------------------


def test_kiosk_welcome_at_exactly_40_splits_a_tied_cent_by_line_id() -> None:
    # given an anonymous basket of 25.00 + 15.00 = 40.00 at the kiosk
    response = demo("kiosk-welcome-exactly-40-tie")
    # then the first tier (>= 40.00): 5.00; shares 3.125 / 1.875, remainders equal,
    # the cent to line "1"
    assert discounts(response) == ["3.13", "1.87"]
    assert response["total"] == "35.00"


def test_kiosk_welcome_threshold_is_read_after_the_three_for_two() -> None:
    # given 4 wool pairs at 12.00 = 48.00, anonymous, at the kiosk
    response = demo("kiosk-welcome-after-3for2")
    # then one pair free: 36.00 < 40.00, so no welcome tier
    assert applied(response) == {"socks_3for2": "12.00"}
    assert response["total"] == "36.00"


def test_kiosk_welcome_is_not_for_known_customers() -> None:
    # given the 99.00 basket of a known customer at the kiosk
    response = demo("kiosk-welcome-not-for-members")
    # then no tier (anonymous only), 99 points instead
    assert (response["discount"], response["points"]["total"]) == ("0.00", 99)


def test_kiosk_christmas_code_a_month_early_is_refused_with_its_start() -> None:
    # given the same member presenting NOEL15 on 24 November
    response = demo("kiosk-welcome-not-for-members")
    # then the coupon is refused, telling when the Christmas window opens
    assert response["coupons"] == [{
        "code": "NOEL15", "status": "rejected",
        "reason": "outside its time window: starts 2026-12-01 00:00 Europe/Paris"}]


def test_kiosk_first_snow_is_over_at_eight_on_the_third_day() -> None:
    # given gloves at 29.00 in paris-01 on 28 November at 08:00 (25th 08:00 + 3 days)
    response = demo("kiosk-first-snow-over-at-eight")
    # then nothing off
    assert (response["applied"], response["total"]) == ([], "29.00")


def test_kiosk_bordeaux_outlet_price_then_the_welcome_tier() -> None:
    # given 2 marinières 2025 (45.00 -> outlet 29.90) and one 2026 at 49.00, anonymous
    response = demo("kiosk-bordeaux-outlet-welcome")
    # then 59.80 + 49.00 = 108.80 >= 80.00: 12.00; shares 6.5956 / 5.4044:
    # 6.59 + 5.40 = 11.99, the cent to line 1 (.56 > .40)
    assert response["lines"][0]["unit_price"] == "29.90"
    assert discounts(response) == ["6.60", "5.40"]
    assert response["total"] == "96.80"


def test_kiosk_sunday_socks_bonus_is_over_at_seven() -> None:
    # given 6 basic pairs at 4.00 at the kiosk on Sunday at 19:00
    response = demo("kiosk-sunday-socks-after-seven")
    # then only the 3 for 2: two free, 8.00; 24.00 - 8.00 = 16.00
    assert applied(response) == {"socks_3for2": "8.00"}
    assert response["total"] == "16.00"


def test_kiosk_rain_flash_live_at_its_last_second() -> None:
    # given a cardholder at the kiosk at 14:29:59
    response = demo("kiosk-rain-flash-last-second")
    # then poncho 45.00 x 15% = 6.75, umbrella 25.00 x 20% = 5.00; 70.00 - 11.75
    assert discounts(response) == ["6.75", "5.00"]
    assert (response["total"], response["points"]["total"]) == ("58.25", 58)


def test_kiosk_employee_sunday_socks_stack_staff_then_the_sunday_amount() -> None:
    # given an employee buying 3 wool pairs at 12.00 at the kiosk on Sunday
    response = demo("kiosk-employee-sunday-socks")
    # then one pair free (12.00); staff (priority 10) 20% of 24.00 = 4.80; then 1.00
    # on each of the 2 paying pairs = 2.00; 36.00 - 18.80 = 17.20
    assert applied(response) == {"socks_3for2": "12.00", "staff": "4.80",
                                 "sunday_kiosk_socks": "2.00"}
    assert response["total"] == "17.20"


def test_kiosk_gift_set_soaps_pair_gets_nothing_and_the_welcome_tier_follows() -> None:
    # given 2 candles at 18.00 and 2 soaps at 12.00, anonymous, at the kiosk
    response = demo("kiosk-gift-set-soaps-pay-full")
    # then groups 18,18 (36.00 -> 25.00: 11.00) and 12,12 (24.00 < 25.00: nothing);
    # 49.00 >= 40.00: 5.00 split 25.00 : 24.00 = 2.5510 / 2.4490 -> 2.55 + 2.45
    assert applied(response) == {"gift_set": "11.00", "kiosk_welcome": "5.00"}
    assert discounts(response) == ["13.55", "2.45"]
    assert response["total"] == "44.00"
