"""The FastAPI application: ``create_app()`` (uvicorn factory) wires everything.

On start it opens the rule store (the embedded SQLite default migrates
itself), loads every rule set's live version, then follows new versions
(Redis pub/sub, or database polling) and builds each next hour's index slices
before the hour turns (rules/ahead.py). ``/readyz`` answers 200 once that first
load is done.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel

import engine
import rules

from . import admin, authoring, bundles, evaluate, problems
from .bodies import documented_models
from .heap import freeze_after_reload, freeze_after_slice_built
from .schemas import EvaluateIn, HealthOut, ReadyOut
from .services import Metrics, Services, build_services

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
                   Awaitable[None]]


# The methods counted by name: a request may carry any token as its method, and each
# label value is a series kept for the life of the process, so anyone without a key could
# grow /metrics without bound. The rest count as "other".
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class CountRequests:
    """Counts requests by route template and status (pure ASGI: no per-request task)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Any]],
                       send: Callable[[Any], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def remember_status(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, remember_status)
        finally:
            route = scope.get("route")
            endpoint = getattr(route, "path", "unmatched")
            method = scope["method"] if scope["method"] in METHODS else "other"
            self.metrics.requests.labels(method, endpoint, str(status)).inc()


class HeadAsGet:
    """HEAD answered as GET without its content (RFC 9110 §9.3.2: a general-purpose server
    supports both), which FastAPI's routes do not do themselves: a load balancer's or a
    monitor's `HEAD /healthz` got a 405. Keys and statuses are GET's; a route without GET
    still answers 405."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Any]],
                       send: Callable[[Any], Awaitable[None]]) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_content(message: Any) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        scope["method"] = "GET"  # in place: CountRequests reads the route this sets
        try:
            await self.app(scope, receive, without_content)
        finally:
            scope["method"] = "HEAD"


def _openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """The schema, with the request bodies FastAPI does not read itself: the evaluation
    request (parsed by the engine) and those read after the key (api/bodies.py)."""

    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, routes=app.routes,
                             description=app.description)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        models: list[type[BaseModel]] = [EvaluateIn, *documented_models()]
        for model in models:
            definitions = model.model_json_schema(ref_template="#/components/schemas/{model}")
            components.update(definitions.pop("$defs", {}))
            components[model.__name__] = definitions
        for item in schema.get("paths", {}).values():
            for operation in item.values():
                _problems_as_served(operation)
        app.openapi_schema = schema
        return schema

    return build


def _problems_as_served(operation: dict[str, Any]) -> None:
    """An operation's problems as the server sends them: FastAPI documents a response
    ``model`` as application/json too, but a problem is only ever application/problem+json;
    and every body is refused with a 415 when not declared JSON, or declared compressed
    (api/bodies.py), though the routers that read theirs after the key cannot say so."""
    responses = operation.setdefault("responses", {})
    if "requestBody" in operation and "415" not in responses:
        responses["415"] = {"description": "The body is not declared as JSON, or is compressed",
                            "content": {problems.MEDIA_TYPE: {
                                "schema": {"$ref": "#/components/schemas/ProblemOut"}}}}
    for response in responses.values():
        content = response.get("content", {})
        if problems.MEDIA_TYPE in content:
            content.pop("application/json", None)
    # The headers a client acts on, so a generated client has them: when to try again,
    # and that a body must be sent uncompressed.
    for status, headers in PROBLEM_HEADERS.items():
        if status in responses:
            responses[status].setdefault("headers", {}).update(headers)


PROBLEM_HEADERS: dict[str, dict[str, Any]] = {
    "503": {"Retry-After": {"description": "Seconds to wait before trying again, when the "
                                           "database does not answer",
                            "schema": {"type": "integer"}}},
    "415": {"Accept-Encoding": {"description": "`identity`, on a body declared compressed: "
                                               "send it uncompressed",
                                "schema": {"type": "string"}}},
}


def create_app(settings: rules.Settings | None = None,
               store: rules.RuleStore | None = None, *, freeze_heap: bool = False) -> FastAPI:
    """The remise HTTP API on the configured (or given) rule store.

    ``freeze_heap``: hide the live rule sets and their index slices from the cyclic
    garbage collector after each reload and slice build (api/heap.py); what `remise
    serve` runs, not tests sharing a process.
    """
    found = build_services(settings or rules.Settings.from_env(), store)
    if freeze_heap:
        found.live.on_reload.append(freeze_after_reload)
        found.live.on_slice_built.append(freeze_after_slice_built)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(found.start)
        found.ready = True
        try:
            yield
        finally:
            found.ready = False
            await run_in_threadpool(found.close)

    app = FastAPI(title="remise", version="0.1.0", lifespan=lifespan, description=(
        "Promotion and pricing rules, exact to the cent, identical on every channel. "
        "Every error is an RFC 9457 problem (application/problem+json)."))
    app.state.services = found
    routers = (evaluate.router, authoring.router, admin.router, bundles.router)
    for router in routers:
        app.include_router(router)
    _health(app, found)
    # Every route by itself, for a 405's Allow header: FastAPI keeps an included router's
    # routes inside a wrapper whose matching is private.
    problems.install(app, routes=[*app.router.routes, *(r for each in routers
                                                        for r in each.routes)])
    app.add_middleware(HeadAsGet)
    app.add_middleware(CountRequests, metrics=found.metrics)  # type: ignore[arg-type]
    app.openapi = _openapi(app)  # type: ignore[method-assign]
    return app


def _health(app: FastAPI, found: Services) -> None:
    @app.get("/healthz", tags=["health"], response_model=HealthOut, summary="Process up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "engine_build": engine.BUILD}

    @app.get("/readyz", tags=["health"], response_model=ReadyOut,
             summary="Live versions loaded",
             responses={503: {"model": ReadyOut, "description": "Still loading"}})
    async def readyz() -> JSONResponse:
        loaded = {name: entry.version for name, entry in sorted(found.live.loaded().items())}
        # Started is not enough: a database down at the start left nothing to serve.
        ready = found.ready and found.live.caught_up
        return JSONResponse({"status": "ready" if ready else "starting",
                             "rulesets": loaded}, status_code=200 if ready else 503)

    # PlainTextResponse only for the schema: without it, FastAPI documents the answer as
    # application/json too, and a generated client would parse the exposition as JSON.
    @app.get("/metrics", tags=["health"], summary="Prometheus metrics",
             response_class=PlainTextResponse,
             responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}})
    async def metrics(request: Request) -> Response:
        return Response(found.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)


def create_server_app() -> FastAPI:
    """The uvicorn factory of `remise serve`: the configured store, heap frozen after
    each reload."""
    return create_app(freeze_heap=True)


__all__ = ["create_app", "create_server_app"]
