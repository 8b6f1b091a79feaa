"""``POST /v1/evaluate``: price a basket for any channel; and its bare twin ``/v1/echo``.

Pure: nothing is written. The live version answers unless the request pins
``version`` (a replay on that version) or asks ``replay`` (the version that
was live at the basket's ``at``), which only finance and admin keys may. The
response is the engine's own canonical JSON, byte for byte what `remise
evaluate` prints and a device computes.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

import engine
import rules
from engine.money import minor_formatter

from .auth import PERMISSIONS, Principal
from .deps import forbidden, json_object, require, services
from .jsontext import response_bytes
from .problems import PROBLEM_RESPONSES, Problem, invalid, not_found
from .schemas import EVALUATE_EXAMPLE, NAME_PATTERN, EvaluateIn, EvaluateOut
from .services import Services

router = APIRouter(tags=["evaluate"])

EVALUATE = require("evaluate")
REPLAYERS = PERMISSIONS["replay"]  # who may price on another version than the live one

BODY_DOC = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": {"$ref": "#/components/schemas/EvaluateIn"}, "example": EVALUATE_EXAMPLE}}}}
# EvaluateIn documents the body; the engine reads it (engine.parse_request), so the
# schema's pattern for `ruleset` is checked here, before the name reaches the database.
RULESET_NAME = re.compile(NAME_PATTERN)
# A body declared as something else than JSON (deps.json_object); problems.py lists the
# statuses every endpoint shares, this one is the basket endpoints' own.
RESPONSES: dict[int | str, dict[str, Any]] = {
    **PROBLEM_RESPONSES,
    415: {**PROBLEM_RESPONSES[422],
          "description": "The body is not declared as JSON, or is compressed"},
}


def _limits(data: dict[str, Any]) -> tuple[str, bool]:
    """Checks the engine does not make (HTTP-only fields); returns (ruleset, replay)."""
    replay = data.pop("replay", False)
    if not isinstance(replay, bool):
        raise invalid("replay", "expected true or false")
    ruleset = data.get("ruleset") or "default"
    if not isinstance(ruleset, str):
        raise invalid("ruleset", "expected a rule set name, e.g. \"fr\"")
    if not RULESET_NAME.fullmatch(ruleset):
        raise invalid("ruleset", f"{ruleset!r} is not a rule set name: 1 to 64 lower-case "
                                 "letters, digits, '-' or '_' (e.g. \"fr\")")
    if replay and data.get("version") is not None:
        raise invalid("replay", "ask for either a `version` or a `replay`, not both")
    return ruleset, replay


def _evaluator(found: Services, name: str, basket: engine.BasketRequest, replay: bool
               ) -> engine.Evaluator:
    """Which rules price this basket (may read the database: run in a thread)."""
    if basket.version is not None:
        return found.evaluator_of(name, basket.version)
    if replay:
        version = found.store.live_at(name, basket.at)
        if version is None:
            raise not_found(f"no version of {name!r} was live at {basket.at.isoformat()}")
        return found.evaluator_of(name, version.number)
    try:
        live = found.live.get(name)
    except rules.UnreadableVersion as error:  # this server's failing, not the basket's
        raise Problem(503, "live-version-unreadable", "The live version cannot be served",
                      f"{error}; publish a fix, or roll back to a version that loads") from None
    if live is None:
        raise not_found(f"no rule set named {name!r} is published")
    return live.evaluator


def _no_query(request: Request) -> None:
    """The basket is the whole request: a field put in the URL (`?ruleset=fr`, as GET
    endpoints take theirs) was ignored, and the basket priced on the `default` rule set."""
    if not request.scope.get("query_string"):
        return  # the hot path: no query string to parse
    name = next(iter(request.query_params), None)
    if name is not None:
        raise invalid(f"query.{name}", "not a parameter of this endpoint, which reads none: "
                                       "the basket's fields (`ruleset`, `version`, "
                                       "`explain`...) go in the body")


async def _price(request: Request, caller: Principal
                 ) -> tuple[engine.Evaluator, engine.BasketRequest, str, bool]:
    _no_query(request)
    data = await json_object(request)
    name, replay = _limits(data)
    if (replay or data.get("version") is not None) and caller.role not in REPLAYERS:
        raise forbidden(caller, "replay", "replay" if replay else "version")
    basket = engine.parse_request(data, now=datetime.now(UTC))
    found = services(request)
    live = found.live.peek(name)
    if basket.version is None and not replay and live is not None:
        evaluator = live.evaluator  # the hot path: no thread hop, no database
    else:
        evaluator = await run_in_threadpool(_evaluator, found, name, basket, replay)
    if basket.currency != evaluator.currency:
        raise invalid("currency", f"the rule set {name!r} prices in {evaluator.currency}, "
                                  f"this basket is in {basket.currency}")
    return evaluator, basket, name, replay


@router.post("/v1/evaluate", summary="Price a basket", openapi_extra=BODY_DOC,
             response_model=EvaluateOut,
             responses={**RESPONSES, 200: {"description": "The priced basket", "headers": {
                 "X-Remise-Version": {"description": "The version that priced it, as the "
                                                     "body's `version`",
                                      "schema": {"type": "integer"}}}}})
async def evaluate(request: Request, caller: Principal = EVALUATE) -> Response:
    started = time.perf_counter()
    evaluator, basket, name, _ = await _price(request, caller)
    body = evaluator.evaluate_json(basket, explain=basket.explain).encode("utf-8")
    services(request).metrics.evaluate_seconds.labels(name).observe(
        time.perf_counter() - started)
    return Response(body, media_type="application/json",
                    headers={"X-Remise-Version": str(evaluator.ruleset.version)})


@router.post("/v1/echo", summary="Check a basket without pricing it", openapi_extra=BODY_DOC,
             response_model=EvaluateIn,
             responses={**RESPONSES, 200: {"description": "The basket, as understood"}})
async def echo(request: Request, caller: Principal = EVALUATE) -> Response:
    """Parses and checks a basket exactly as `/v1/evaluate` does (rule set included) and
    sends it back, priced by nothing: a channel can check what it sends, and the HTTP
    benchmark uses it as its baseline."""
    _, basket, _, replay = await _price(request, caller)
    return Response(response_bytes(_understood(basket, replay)), media_type="application/json")


def _understood(basket: engine.BasketRequest, replay: bool) -> dict[str, Any]:
    """The basket as the engine read it, every field of EvaluateIn: amounts as the
    response writes money, to the currency's minor unit ("89.9" and 89.9 EUR are
    "89.90"), coupon codes as matched (upper case), the instant it prices at (now when
    none was sent), the segments sorted (a set: their order means nothing)."""
    money = minor_formatter(basket.currency)
    customer = basket.customer
    return {
        "channel": basket.channel, "store": basket.store, "currency": basket.currency,
        "at": basket.at.isoformat(),
        "customer": None if customer is None else {
            "id": customer.id, "cardholder": customer.cardholder, "tier": customer.tier,
            "segments": sorted(customer.segments), "attributes": dict(customer.attributes)},
        "coupons": list(basket.coupons),
        "lines": [{"id": line.id, "sku": line.sku, "quantity": line.quantity,
                   "unit_price": money.format(line.unit_minor), "category": line.category,
                   "brand": line.brand, "attributes": dict(line.attributes)}
                  for line in basket.lines],
        "ruleset": basket.ruleset or "default", "version": basket.version, "replay": replay,
        "explain": basket.explain,
    }


__all__ = ["router"]
