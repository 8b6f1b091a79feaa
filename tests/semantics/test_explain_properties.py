"""What `explain` and the coupon report say is true (hypothesis).

Over generated rule sets (every effect, channels, stores, audiences, coupons,
subtotal and quantity conditions, windows) and baskets: each rule of the
basket's channel and store whose items take a line of the basket, or behind a
code it presents, is explained once, and a rule on other items only is left out;
a rule is explained as applied exactly when the answer shows it (an
adjustment, points, a price it set) and with that amount; a rule explained as
not applied is nowhere in the answer; a subtotal quoted in a reason is the
one the rule is compared against (docs/semantics.md §4), and the condition
indeed fails there; "needs items where ..., basket has none" is true; each coupon's
status follows its rules', its reason is one of theirs, and no reason names a
code. And asking for reasons changes nothing in the priced answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from generated_rules import amounts, basket_lines, cents, item_predicates
from generated_rules import effects as rule_effects
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine import ir
from engine.predicates import compile_items

SKUS = ("A", "B", "C")
CATEGORIES = ("socks", "boots")
CODES = ("SAVE", "STAFF50")
AT = datetime(2026, 11, 23, 13, 10, tzinfo=UTC)

money = amounts(8_000)
items = item_predicates(SKUS, CATEGORIES, money)
effects = rule_effects(
    items, money,
    buy_pay=st.builds(ir.BuyPay, buy=st.just(3), pay=st.sampled_from([1, 2]), items=items),
    tiers=(ir.Tier(threshold=Decimal("40"), amount=Decimal("5.00")),
           ir.Tier(threshold=Decimal("80"), percent=Decimal("10"))))
conditions = st.sampled_from([
    (), (),
    (ir.SubtotalCondition(op=">=", amount=Decimal("30")),),
    (ir.SubtotalCondition(op="<", amount=Decimal("60")),),
    (ir.QuantityCondition(op=">=", count=3,
                          items=ir.ItemFieldIn(field="category", values=("socks",))),),
    (ir.QuantityCondition(op=">=", count=2, items=ir.ItemPriceCompare(op=">=",
                                                                      amount=Decimal("20"))),),
])
windows = st.sampled_from([
    (), (),
    (ir.AbsoluteWindow(start=AT - timedelta(hours=1), end=AT - timedelta(minutes=1),
                       timezone="Europe/Paris"),),
    (ir.RecurringWindow(days=(6, 7), start=datetime(2026, 1, 1, 9).time(),
                        end=datetime(2026, 1, 1, 20).time(), timezone="Europe/Paris"),),
])


@st.composite
def rulesets(draw: st.DrawFn) -> ir.RuleSet:
    count = draw(st.integers(min_value=1, max_value=8))
    rules = tuple(
        ir.Rule(
            id=f"r{index}", title=f"Rule {index}", effect=draw(effects),
            stacking=draw(st.sampled_from(["exclusive", "best", "best", "stackable"])),
            priority=draw(st.integers(0, 2)), windows=draw(windows),
            conditions=draw(conditions),
            channels=draw(st.sampled_from([None, None, ("pos",), ("web",)])),
            stores=draw(st.sampled_from([None, None, ("paris-01",), ("lyon-01",)])),
            audience=draw(st.sampled_from([None, None, ir.AudienceFlag(flag="cardholder"),
                                           ir.AudienceSegment(value="employees")])),
            coupons=draw(st.sampled_from([(), (), (), ("SAVE",), ("STAFF50",)])),
        )
        for index in range(count))
    return ir.RuleSet(currency="EUR", timezone="Europe/Paris", rules=rules)


@st.composite
def baskets(draw: st.DrawFn) -> dict[str, Any]:
    lines = draw(basket_lines(SKUS, CATEGORIES, money, most_lines=5,
                              most_units=4))
    request: dict[str, Any] = {
        "channel": draw(st.sampled_from(["pos", "web"])), "currency": "EUR",
        "store": draw(st.sampled_from(["paris-01", "lyon-01"])),
        "at": AT.isoformat(), "lines": lines,
        "coupons": draw(st.sampled_from([[], ["SAVE"], ["save ", "STAFF50", "NOPE"]])),
    }
    customer = draw(st.sampled_from([None, {"id": "c1", "cardholder": True},
                                     {"id": "c2", "segments": ["employees"]}]))
    if customer is not None:
        request["customer"] = customer
    return request


@dataclass
class Shown:
    """What the answer shows each rule did."""

    amounts: dict[str, int] = field(default_factory=dict)  # applied: rule -> cents
    adjusted: set[str] = field(default_factory=set)  # rules in some line's adjustments
    points: dict[str, int] = field(default_factory=dict)
    priced: dict[str, list[str]] = field(default_factory=dict)  # price rule -> line ids


def shown(response: dict[str, Any]) -> Shown:
    seen = Shown(amounts={a["rule"]: cents(a["amount"]) for a in response["applied"]},
                 points={p["rule"]: p["points"] for p in response["points"]["by_rule"]})
    for item in response["lines"]:
        seen.adjusted.update(a["rule"] for a in item["adjustments"])
        if "price_rule" in item:
            seen.priced.setdefault(item["price_rule"]["rule"], []).append(item["id"])
    return seen


def level(rule: ir.Rule) -> str:
    effect = rule.effect
    if isinstance(effect, ir.PriceOverride):
        return "price"
    if isinstance(effect, ir.AmountOffBasket | ir.TieredBasket) or (
            isinstance(effect, ir.PercentOff) and effect.target == "basket"):
        return "basket"
    return "lines"


def stage_subtotal(rule: ir.Rule, response: dict[str, Any], ruleset: ir.RuleSet) -> int:
    """The subtotal a rule's `when subtotal` reads (docs/semantics.md §4), from the answer."""
    if level(rule) == "price":
        return sum(cents(i["list_price"]) * i["quantity"] for i in response["lines"])
    subtotal = cents(response["subtotal"])
    if level(rule) == "lines":
        return subtotal
    basket_rules = {r.id for r in ruleset.rules if level(r) == "basket"}
    return subtotal - sum(cents(a["amount"]) for item in response["lines"]
                          for a in item["adjustments"] if a["rule"] not in basket_rules)


@dataclass
class _Line:
    sku: str
    category: str | None
    brand: str | None
    attributes: dict[str, str]
    quantity: int
    unit: int


def explained_scope(rule: ir.Rule, request: dict[str, Any]) -> bool:
    presented = {code.strip().upper() for code in request["coupons"]}
    if presented & set(rule.coupons):
        return True
    return ((rule.channels is None or request["channel"] in rule.channels)
            and (rule.stores is None or request["store"] in rule.stores))


def presents_a_code_of(rule: ir.Rule, request: dict[str, Any]) -> bool:
    return bool({code.strip().upper() for code in request["coupons"]} & set(rule.coupons))


def takes_a_line(rule: ir.Rule, request: dict[str, Any], response: dict[str, Any]) -> bool:
    """Whether the rule's items take a line, at the price sent or the price after prices
    (a rule with no items, a basket discount, takes every line)."""
    matches = compile_items(getattr(rule.effect, "items", None), "EUR")
    category_of = {line["id"]: line["category"] for line in request["lines"]}
    return any(matches(_Line(i["sku"], category_of[i["id"]], None, {}, i["quantity"],
                             cents(i[price])))
               for i in response["lines"] for price in ("list_price", "unit_price"))


BEATEN = re.compile(r"(?:a better discount applied on|an equal discount applied on"
                    r"|an exclusive rule applied on|another price rule set the price of)"
                    r" line (?P<line>\S+): (?P<winner>\w+)"
                    r"(?: \(ties go to the higher priority, then the smaller id\))?$"
                    r"|(?:a better basket discount|an equal basket discount"
                    r"|an exclusive basket discount|a better points rule"
                    r"|an equal points rule|an exclusive points rule) applied: "
                    r"(?P<basket_winner>\w+)(?: \(ties go to the higher (?:rate, then the "
                    r"higher )?priority, then the smaller id\))?$")
HELD = re.compile(r"line (?P<line>\S+) already has a discount that takes no other: "
                  r"(?P<holder>\w+)$")
HELD_BY_NOTHING = re.compile(r"an exclusive rule holds line (?P<line>\S+), though it takes "
                             r"nothing off it: (?P<holder>\w+)$")
NO_ITEM = re.compile(r"needs items where .*, basket has none$|no item in the basket matches$")
NEEDS_SUBTOTAL = re.compile(r"needs subtotal (>=|<) (\d+\.\d\d) EUR, basket is (\d+\.\d\d) EUR$")


@settings(max_examples=500, deadline=None)
@given(ruleset=rulesets(), request=baskets())
def test_explain_tells_what_the_answer_shows(ruleset: ir.RuleSet, request: dict[str, Any]
                                             ) -> None:
    evaluator = engine.Evaluator(ruleset)
    parsed = engine.parse_request(request)
    response = evaluator.evaluate(parsed, explain=True)
    plain = evaluator.evaluate(parsed)

    # Asking for reasons changes nothing in the priced answer, coupon report included
    assert engine.dumps({k: v for k, v in response.items() if k != "explain"}) == \
        engine.dumps(plain)

    # Rules of the basket's channel and store, or behind a presented code, once, by id:
    # every one behind a presented code or whose items take a line of the basket, and
    # only a rule on other items left out
    explain = response["explain"]
    listed = [e["rule"] for e in explain]
    assert listed == sorted(set(listed))
    in_scope = {r.id for r in ruleset.rules if explained_scope(r, request)}
    assert set(listed) <= in_scope
    assert set(listed) >= {r.id for r in ruleset.rules if r.id in in_scope and (
        presents_a_code_of(r, request) or takes_a_line(r, request, response))}

    seen = shown(response)
    category_of = {line["id"]: line["category"] for line in request["lines"]}
    adjusted_on = {i["id"]: {a["rule"] for a in i["adjustments"]} for i in response["lines"]}
    rules = {rule.id: rule for rule in ruleset.rules}
    for entry in explain:
        rule_id, reason = entry["rule"], entry["reason"]
        rule = rules[rule_id]
        if entry["status"] == "applied":
            if rule_id in seen.amounts:
                assert rule_id in seen.adjusted
                assert reason == (f"applied: {seen.amounts[rule_id] // 100}."
                                  f"{seen.amounts[rule_id] % 100:02d} EUR off")
            elif rule_id in seen.points:
                assert reason == f"applied: {seen.points[rule_id]} points"
            else:
                assert reason == "applied: price set on line " + ", ".join(
                    sorted(seen.priced[rule_id]))
            continue
        assert entry["status"] == "not_applied"
        assert rule_id not in seen.amounts and rule_id not in seen.adjusted
        assert rule_id not in seen.points and rule_id not in seen.priced
        assert not reason.startswith("applied")
        beaten = BEATEN.match(reason)
        if beaten and beaten["basket_winner"]:
            # the rule a reason says won applied
            assert beaten["basket_winner"] in seen.amounts or \
                beaten["basket_winner"] in seen.points
        elif beaten and reason.startswith("another price rule"):
            assert beaten["line"] in seen.priced.get(beaten["winner"], [])
        elif beaten:  # ... on the line it names
            assert beaten["winner"] in adjusted_on[beaten["line"]]
        held = HELD_BY_NOTHING.match(reason)
        if held:
            assert held["holder"] not in adjusted_on[held["line"]]
        held = HELD.match(reason)
        if held:  # the discount said to hold the line is on it
            assert held["holder"] in adjusted_on[held["line"]]
        found = NEEDS_SUBTOTAL.match(reason)
        if found:
            # the subtotal quoted is the one the rule is compared against, and fails there
            op, bound, quoted = found[1], cents(found[2]), cents(found[3])
            assert quoted == stage_subtotal(rule, response, ruleset)
            assert not (quoted >= bound if op == ">=" else quoted < bound)
        if reason.startswith("nothing left to discount"):
            # every line it could have discounted is at zero (later stages only take more)
            totals = {i["id"]: cents(i["total"]) for i in response["lines"]}
            if level(rule) == "basket":
                assert sum(totals.values()) == 0
            else:
                matches = compile_items(getattr(rule.effect, "items", None), "EUR")
                assert all(totals[i["id"]] == 0 for i in response["lines"]
                           if matches(_Line(i["sku"], category_of[i["id"]], None, {},
                                            i["quantity"], cents(i["unit_price"]))))
        if NO_ITEM.match(reason):
            # a price rule reads the price sent, the others the price after prices
            matches = compile_items(getattr(rule.effect, "items", None), "EUR")
            price = "list_price" if level(rule) == "price" else "unit_price"
            assert not any(matches(_Line(i["sku"], category_of[i["id"]], None, {},
                                         i["quantity"], cents(i[price])))
                           for i in response["lines"])

    # Each coupon: applied when one of its rules applied, else one of their reasons,
    # and no reason anywhere names a code
    by_rule = {e["rule"]: e for e in explain}
    for report in response["coupons"]:
        carriers = [r.id for r in ruleset.rules if report["code"] in r.coupons]
        if not carriers:
            assert report == {"code": report["code"], "status": "rejected",
                              "reason": "unknown coupon"}
            continue
        statuses = {by_rule[r]["status"] for r in carriers}
        if "applied" in statuses:
            assert report["status"] == "applied"
        else:
            assert report["status"] == "rejected"
            assert report["reason"] in {by_rule[r]["reason"] for r in carriers}
    texts = [e["reason"] for e in explain] + [c.get("reason", "") for c in response["coupons"]]
    assert not any(code in text for text in texts for code in CODES)
