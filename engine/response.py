"""The response of the evaluation contract, built in a fixed key order.

The same rule set, basket and instant give byte-identical JSON on a server
and on a device (DESIGN.md §7): keys are written in the contract's order,
lists are in request order or sorted by rule id, and ``dumps`` never sorts or
reformats differently from one run to the next.

Two writers give that JSON. ``build_response`` makes the response as data
(``Evaluator.evaluate``); ``dumps`` of it is the reference text.
``write_response`` writes the same text straight from the evaluation
(``Evaluator.evaluate_json``, what a server sends): building ~170 dicts and
then encoding them cost more than pricing the basket's line discounts. It is
a template, not a JSON encoder: every fixed piece is the reference encoder's
own output, computed once (a rule's ``{"rule":..,"title":..`` when it is
compiled, a rule set's opening when its evaluator is built); amounts are
digits, sign and point; integers are written as ``json`` writes them; and a
string from the basket goes through ``json.dumps`` unless it plainly needs no
escaping. tests/semantics/test_response_text.py holds the two writers to the
same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from json.encoder import encode_basestring
from typing import TYPE_CHECKING, Any

from .ir import RuleSet
from .money import MinorFormatter, minor_formatter

if TYPE_CHECKING:
    from .compiled import CompiledRule
    from .evaluator import Evaluation, Item


def _line(item: Item, formatter: MinorFormatter) -> dict[str, Any]:
    list_price = formatter.format(item.list_unit)
    unit = list_price if item.unit == item.list_unit else formatter.format(item.unit)
    subtotal, discount, total = _line_amounts(item, unit, formatter)
    line: dict[str, Any] = {
        "id": item.line.id,
        "sku": item.sku,
        "quantity": item.quantity,
        "list_price": list_price,
        "unit_price": unit,
        "subtotal": subtotal,
        "discount": discount,
        "total": total,
        "adjustments": [
            {"rule": rule.id, "title": rule.title, "amount": formatter.format(amount)}
            for rule, amount in item.adjustments
        ],
    }
    if item.price_rule is not None:
        line["price_rule"] = {"rule": item.price_rule.id, "title": item.price_rule.title}
    return line


def _line_amounts(item: Item, unit: str, formatter: MinorFormatter) -> tuple[str, str, str]:
    """The line's subtotal, discount and total as text (``unit``: its unit price's text).

    Most lines hold one unit and no discount: their unit price, subtotal and total
    are one amount, formatted once.
    """
    subtotal = unit if item.quantity == 1 else formatter.format(item.subtotal)
    if item.discount == 0:
        return subtotal, formatter.zero, subtotal
    return subtotal, formatter.format(item.discount), formatter.format(item.total)


def build_response(
    ruleset: RuleSet,
    titles: Mapping[str, str],
    evaluation: Evaluation,
    coupons: list[dict[str, str]],
    explained: list[dict[str, str]] | None,
) -> dict[str, Any]:
    currency = ruleset.currency
    formatter = minor_formatter(currency)
    items = evaluation.items
    subtotal = sum(item.subtotal for item in items)
    discount = sum(item.discount for item in items)
    response: dict[str, Any] = {
        "version": ruleset.version,
        **({"content_hash": ruleset.content_hash} if ruleset.content_hash else {}),
        "currency": currency,
        "at": evaluation.request.at.isoformat(),
        "lines": [_line(item, formatter) for item in items],
        "subtotal": formatter.format(subtotal),
        "discount": formatter.format(discount),
        "total": formatter.format(subtotal - discount),
        "points": {
            "total": sum(evaluation.points.values()),
            "by_rule": [
                {"rule": rule_id, "title": titles[rule_id], "points": points}
                for rule_id, points in sorted(evaluation.points.items())
            ],
        },
        "applied": [
            {"rule": rule_id, "title": titles[rule_id], "amount": formatter.format(amount)}
            for rule_id, amount in sorted(evaluation.given.items())
        ],
        "coupons": coupons,
    }
    if explained is not None:
        response["explain"] = explained
    return response


def dumps(response: Mapping[str, Any]) -> str:
    """Canonical JSON of a response: UTF-8 text, no spaces, keys in contract order."""
    return _canonical(response)


def _canonical(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def response_opening(ruleset: RuleSet) -> str:
    """``{"version":..,["content_hash":..,]"currency":..,``: what every response of
    ``ruleset`` begins with, as ``dumps`` writes it."""
    head: dict[str, Any] = {"version": ruleset.version}
    if ruleset.content_hash:
        head["content_hash"] = ruleset.content_hash
    head["currency"] = ruleset.currency
    return dumps(head)[:-1] + ","


def json_string(text: str) -> str:
    """``text`` as ``dumps`` writes a string: the very function the ``json`` encoder
    calls for a string when ``ensure_ascii`` is off (one C call; checking first
    whether the text needs escaping cost the compiled build nearly twice as much)."""
    return encode_basestring(text)


class QuotedStrings:
    """``json_string`` remembered, for the basket strings every response repeats.

    A basket's line ids ("1", "2", ...) and its SKUs (the popular ones) come back
    basket after basket, their hashes already known (the duplicate-id check, the index
    lookup): a hit is one dict lookup where escaping makes a new string to copy and
    free. Emptied when full rather than kept in recency order, as MinorFormatter's
    cache; two threads quoting the same string store equal texts.
    """

    SIZE = 16_384

    def __init__(self) -> None:
        self.known: dict[str, str] = {}

    def quote(self, text: str) -> str:
        quoted = self.known.get(text)
        if quoted is None:
            if len(self.known) >= self.SIZE:
                self.known.clear()
            quoted = self.known[text] = json_string(text)
        return quoted


_quoted = QuotedStrings()


def _line_text(item: Item, formatter: MinorFormatter) -> str:
    """``dumps(_line(item, formatter))``, written directly (amounts need no escaping)."""
    list_price = formatter.format(item.list_unit)
    unit = list_price if item.unit == item.list_unit else formatter.format(item.unit)
    subtotal, discount, total = _line_amounts(item, unit, formatter)
    adjustments = ",".join([f'{rule.named},"amount":"{formatter.format(amount)}"}}'
                            for rule, amount in item.adjustments])
    price_rule = item.price_rule
    # The closing piece goes into the one string built, not concatenated after it
    # (a second copy of the whole line).
    closing = "}" if price_rule is None else f',"price_rule":{price_rule.named}}}}}'
    # _quoted.quote, its hit inlined: a Python call costs the pure-Python build more
    # than the escaping it saves (a quoted string is never empty: never false)
    known = _quoted.known
    line_id = known.get(item.line.id) or _quoted.quote(item.line.id)
    sku = known.get(item.sku) or _quoted.quote(item.sku)
    return (f'{{"id":{line_id},"sku":{sku},'
            f'"quantity":{item.quantity},"list_price":"{list_price}","unit_price":"{unit}",'
            f'"subtotal":"{subtotal}","discount":"{discount}","total":"{total}",'
            f'"adjustments":[{adjustments}]{closing}')


def write_response(
    opening: str,
    rules: Mapping[str, CompiledRule],
    evaluation: Evaluation,
    coupons: list[dict[str, str]],
) -> str:
    """``dumps(build_response(...))`` without ``explain``, written directly.

    ``opening`` is ``response_opening`` of the rule set, ``rules`` its rules by id.
    """
    formatter = minor_formatter(evaluation.request.currency)
    items = evaluation.items
    subtotal = 0
    discount = 0
    for item in items:
        subtotal += item.subtotal
        discount += item.discount
    lines = ",".join([_line_text(item, formatter) for item in items])
    points = evaluation.points
    by_rule = ",".join([f'{rules[rule_id].named},"points":{points[rule_id]}}}'
                        for rule_id in sorted(points)])
    given = evaluation.given
    applied = ",".join([f'{rules[rule_id].named},"amount":"{formatter.format(given[rule_id])}"}}'
                        for rule_id in sorted(given)])
    return (f'{opening}"at":{json_string(evaluation.request.at.isoformat())},'
            f'"lines":[{lines}],"subtotal":"{formatter.format(subtotal)}",'
            f'"discount":"{formatter.format(discount)}",'
            f'"total":"{formatter.format(subtotal - discount)}",'
            f'"points":{{"total":{sum(points.values())},"by_rule":[{by_rule}]}},'
            f'"applied":[{applied}],"coupons":{_canonical(coupons) if coupons else "[]"}}}')


__all__ = ["build_response", "dumps", "json_string", "response_opening", "write_response"]
