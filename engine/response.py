"""The response of the evaluation contract, built in a fixed key order.

The same rule set, basket and instant give byte-identical JSON on a server
and on a device (DESIGN.md §7): keys are written in the contract's order,
lists are in request order or sorted by rule id, and ``dumps`` never sorts or
reformats differently from one run to the next.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .ir import RuleSet
from .money import MinorFormatter, minor_formatter

if TYPE_CHECKING:
    from .evaluator import Evaluation, Item


def _line(item: Item, formatter: MinorFormatter) -> dict[str, Any]:
    list_price = formatter.format(item.list_unit)
    line: dict[str, Any] = {
        "id": item.line.id,
        "sku": item.sku,
        "quantity": item.quantity,
        "list_price": list_price,
        "unit_price": list_price if item.unit == item.list_unit else formatter.format(item.unit),
        "subtotal": formatter.format(item.subtotal),
        "discount": formatter.format(item.discount),
        "total": formatter.format(item.total),
        "adjustments": [
            {"rule": rule.id, "title": rule.title, "amount": formatter.format(amount)}
            for rule, amount in item.adjustments
        ],
    }
    if item.price_rule is not None:
        line["price_rule"] = {"rule": item.price_rule.id, "title": item.price_rule.title}
    return line


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
    return json.dumps(response, ensure_ascii=False, separators=(",", ":"))


__all__ = ["build_response", "dumps"]
