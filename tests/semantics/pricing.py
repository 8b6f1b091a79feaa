"""Given rules (source text) and a basket, price it: the helpers of the semantics tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import dsl
import engine

PUBLISHED = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)


def rules(body: str, currency: str = "EUR", timezone: str = "Europe/Paris") -> engine.RuleSet:
    """Compile a rule file body under the usual header."""
    source = f"currency {currency}\ntimezone {timezone}\n\n{body}"
    return dsl.compile_source(source, "test.rules", publish_at=PUBLISHED)


def line(
    line_id: str, sku: str, price: str, quantity: int = 1, **fields: Any
) -> dict[str, Any]:
    return {"id": line_id, "sku": sku, "quantity": quantity, "unit_price": price, **fields}


def basket(*lines: dict[str, Any], **fields: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "channel": "pos", "store": "paris-01", "currency": "EUR",
        "at": "2026-11-23T14:10:00+01:00", "lines": list(lines),
    }
    request.update(fields)
    return request


def evaluate(ruleset: engine.RuleSet, request: dict[str, Any], explain: bool = False
             ) -> dict[str, Any]:
    return engine.Evaluator(ruleset).evaluate(engine.parse_request(request), explain=explain)


def by_id(response: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in response["lines"]}


def adjustments(response: dict[str, Any], line_id: str) -> list[tuple[str, str]]:
    return [(a["rule"], a["amount"]) for a in by_id(response)[line_id]["adjustments"]]


def reason(response: dict[str, Any], rule_id: str) -> str:
    return next(e["reason"] for e in response["explain"] if e["rule"] == rule_id)
