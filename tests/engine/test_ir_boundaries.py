"""engine/ir.py: an IR the evaluator cannot price as the rule language means it is
refused when read, with its place (mutation review).

Before, such a rule set was read, and then every basket failed (ZeroDivisionError for a
bundle of 0 units, ZoneInfoNotFoundError for a zone the device does not know,
InvalidOperation for an amount of 10**30) or was priced wrongly (a price of -5.00 EUR
made a line total -5.00; 150% took more than the line; an instant without an offset was
read in the machine's own zone, so server and device disagreed).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import engine


def ruleset(effect: dict[str, Any] | None = None, **rule: Any) -> dict[str, Any]:
    return {"schema": "remise.ir/1", "currency": "EUR", "timezone": "Europe/Paris",
            "rules": [{"id": "r", "title": "R",
                       "effect": effect or {"kind": "percent", "percent": "10",
                                            "target": "items"}, **rule}]}


def refusal(data: dict[str, Any]) -> str:
    with pytest.raises(engine.IRError) as refused:
        engine.load_ruleset(json.dumps(data))
    return str(refused.value)


def weekly(**fields: Any) -> dict[str, Any]:
    return {"kind": "recurring", "days": [6], "start": "09:00:00", "end": "20:00:00",
            "timezone": "Europe/Paris", **fields}


PREFIX = "not a valid remise.ir/1 rule set: "


@pytest.mark.parametrize(("data", "where", "why"), [
    (ruleset({"kind": "percent", "percent": "150", "target": "items"}),
     "rules.0.effect.percent.percent", "less than or equal to 100"),
    (ruleset({"kind": "percent", "percent": "0", "target": "items"}),
     "rules.0.effect.percent.percent", "greater than 0"),
    (ruleset({"kind": "price", "amount": "-5.00"}),
     "rules.0.effect.price.amount", "greater than or equal to 0"),
    (ruleset({"kind": "amount_basket", "amount": "1E+30"}),
     "rules.0.effect.amount_basket.amount", "less than 1000000000000"),
    (ruleset({"kind": "bundle", "size": 0, "amount": "5.00"}),
     "rules.0.effect.bundle.size", "greater than or equal to 2"),
    (ruleset({"kind": "buy_pay", "buy": 0, "pay": 0}),
     "rules.0.effect.buy_pay.pay", "greater than or equal to 1"),
    (ruleset({"kind": "buy_pay", "buy": 2, "pay": 3}),
     "rules.0.effect.buy_pay", "buy 2 pay 3 gives nothing away: buy must be more than pay"),
    (ruleset({"kind": "points", "points": 1, "per": "0"}),
     "rules.0.effect.points.per", "greater than 0"),
    (ruleset({"kind": "tiered", "tiers": [{"threshold": "50", "percent": "5"},
                                          {"threshold": "10", "percent": "10"}]}),
     "rules.0.effect.tiered", "tiers must go up: each threshold above the one before"),
    (ruleset({"kind": "tiered", "tiers": [{"threshold": "50"}]}),
     "rules.0.effect.tiered.tiers.0", "a tier has a percent or an amount, not both nor neither"),
    (ruleset(windows=[weekly(days=[0])]),
     "rules.0.windows.0.recurring.days.0", "greater than or equal to 1"),
    (ruleset(windows=[weekly(timezone="Mars/Olympus")]),
     "rules.0.windows.0.recurring.timezone",
     "unknown time zone 'Mars/Olympus': expected an IANA name such as Europe/Paris"),
    (ruleset(windows=[{"kind": "absolute", "start": "2026-11-23T14:00:00",
                       "end": "2026-11-23T15:00:00+01:00", "timezone": "Europe/Paris"}]),
     "rules.0.windows.0.absolute.start", "timezone info"),
    ({**ruleset(), "timezone": "Europe"}, "timezone", "unknown time zone 'Europe'"),
    ({**ruleset(), "currency": "ZZZ"}, "currency",
     "unknown currency 'ZZZ': expected an ISO 4217 code such as EUR"),
])
def test_a_rule_the_engine_cannot_price_is_refused_with_its_place(
        data: dict[str, Any], where: str, why: str) -> None:
    message = refusal(data)

    assert message.startswith(f"{PREFIX}{where}: ")
    assert why in message


def test_the_edges_the_rule_language_allows_are_read() -> None:
    # Given 100%, a price of 0.00 in a condition, buy 2 pay 1, a bundle of 2, one point
    # per 0.01 and every weekday: each the furthest the rule language goes
    data = ruleset({"kind": "percent", "percent": "100", "target": "items"},
                   windows=[weekly(days=[1, 2, 3, 4, 5, 6, 7])],
                   conditions=[{"kind": "subtotal", "op": ">=", "amount": "0"}])
    others = [{"kind": "buy_pay", "buy": 2, "pay": 1}, {"kind": "bundle", "size": 2,
              "amount": "999999999999.99"}, {"kind": "points", "points": 1, "per": "0.01"}]
    data["rules"] += [{"id": f"o{n}", "title": "O", "effect": effect}
                      for n, effect in enumerate(others)]

    # When it is read, then every rule is there
    assert [rule.id for rule in engine.load_ruleset(json.dumps(data)).rules] == [
        "r", "o0", "o1", "o2"]



@pytest.mark.parametrize(("data", "where"), [
    (ruleset(stacknig="exclusive"), "rules.0.stacknig"),  # a misspelt field is not ignored
    ({**ruleset(), "curency": "EUR"}, "curency"),
    (ruleset(channels=["kiosque"]), "rules.0.channels.0"),
    (ruleset({"kind": "percent", "percent": "10", "target": "items",
              "items": {"kind": "field_in", "field": "id", "values": ["1"]}}),
     "rules.0.effect.percent.items.field_in.field"),
    (ruleset(conditions=[{"kind": "subtotal", "op": "==", "amount": "50"}]),
     "rules.0.conditions.0.subtotal.op"),
])
def test_a_field_or_word_the_ir_does_not_have_is_refused_with_its_place(
        data: dict[str, Any], where: str) -> None:
    assert refusal(data).startswith(f"{PREFIX}{where}: ")


def test_a_rule_that_says_nothing_of_stacking_competes_as_best() -> None:
    rule = engine.load_ruleset(json.dumps(ruleset())).rules[0]

    assert rule.stacking == "best"


def test_rules_read_cannot_be_changed_afterwards() -> None:
    rule = engine.load_ruleset(json.dumps(ruleset())).rules[0]

    with pytest.raises(ValueError, match="frozen"):
        rule.priority = 5  # type: ignore[misc]
