"""RFC 9457 problem details: every error of the HTTP API, one shape.

``{"type", "title", "status", "detail", "instance"}`` plus ``errors`` (each
naming the offending ``field`` and saying what is wrong) for invalid input,
and ``diagnostics`` (line, column, message, hint) for rules that do not
compile. Served as ``application/problem+json``; never a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match

import engine
import rules
from engine.errors import shortened as _shortened

from .schemas import DiagnosticOut

log = logging.getLogger("remise.api")

PROBLEM_BASE = "https://remise.dev/problems/"
MEDIA_TYPE = "application/problem+json"


class FieldError(BaseModel):
    field: str = Field(description=(
        "Where: a basket's field as `lines[1].unit_price`, another body's as `body.message`, "
        "a query's or a path's as `query.at`, `path.name`; `body` for the body as a whole."))
    message: str


class ProblemOut(BaseModel):
    """An RFC 9457 problem."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] | None = None
    diagnostics: list[DiagnosticOut] | None = None
    head: int | None = Field(default=None, description="On a conflict: the latest version.")


class Problem(Exception):
    def __init__(self, status: int, slug: str, title: str, detail: str, *,
                 errors: list[dict[str, str]] | None = None,
                 diagnostics: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.slug, self.title, self.detail = status, slug, title, detail
        self.errors, self.diagnostics = errors, diagnostics
        self.headers, self.extra = headers, extra


def invalid(field: str, message: str, status: int = 422) -> Problem:
    # Messages quote the value they refuse, which can be as long as the body allows
    # (2 MiB): cut as the engine cuts what the command line and devices print.
    field, message = _shortened(field), _shortened(message)
    return Problem(status, "invalid-request", "The request is not valid",
                   f"{field}: {message}", errors=[{"field": field, "message": message}])


def not_found(detail: str) -> Problem:
    return Problem(404, "not-found", "Not found", detail)


def problem_response(problem: Problem, instance: str | None) -> JSONResponse:
    body: dict[str, Any] = {"type": PROBLEM_BASE + problem.slug, "title": problem.title,
                            "status": problem.status, "detail": problem.detail,
                            "instance": instance}
    if problem.errors is not None:
        body["errors"] = problem.errors
    if problem.diagnostics is not None:
        body["diagnostics"] = problem.diagnostics
    body.update(problem.extra)
    return JSONResponse(body, status_code=problem.status, media_type=MEDIA_TYPE,
                        headers=problem.headers)


# Where each argument of a store operation comes from in a request: the rule set is
# the path's {name}; a rollback's target, a parent and a message are the body's.
STORE_ARGUMENTS = {"ruleset": "path.name", "to": "body.to", "parent": "body.parent",
                   "message": "body.message"}


def from_store_error(error: rules.StoreError) -> Problem:
    if isinstance(error, rules.SourceRejected):
        return Problem(422, "rules-do-not-compile", "The rules do not compile", str(error),
                       diagnostics=[d.as_dict() for d in error.diagnostics])
    if isinstance(error, rules.Conflict):
        return Problem(409, "stale-parent", "Another version was published since",
                       str(error), head=error.head)
    if isinstance(error, rules.NotFound):
        return not_found(str(error))
    if isinstance(error, rules.UnreadableVersion):
        return Problem(422, "version-unreadable", "This version cannot be read", str(error))
    if isinstance(error, rules.SchemaNotReady):
        return Problem(503, "store-unavailable", "The rule store is not available", str(error))
    argument = error.argument if isinstance(error, rules.InvalidRequest) else None
    if argument in STORE_ARGUMENTS:
        return invalid(STORE_ARGUMENTS[argument], str(error))
    return Problem(422, "invalid-request", "The request is not valid", str(error))


def _allowed_methods(request: Request, routes: Sequence[BaseRoute]) -> str:
    """Every method the path answers (RFC 9110 §15.5.6), HEAD wherever GET is (HeadAsGet).
    Starlette names only the methods of the first route on the path: a DELETE on
    /v1/rulesets/{name}/versions said `Allow: POST`, though GET answers there too."""
    methods: set[str] = set()
    for route in routes:
        match, _ = route.matches(request.scope)
        if match != Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods))


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    return ".".join(parts) if parts else "body"


def install(app: FastAPI, routes: Sequence[BaseRoute]) -> None:
    """Route every error through problem details; `routes`, every route of the app by
    itself, name the methods a path takes when it answers 405."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, problem: Problem) -> JSONResponse:
        return problem_response(problem, request.url.path)

    @app.exception_handler(rules.StoreError)
    async def _store(request: Request, error: rules.StoreError) -> JSONResponse:
        return problem_response(from_store_error(error), request.url.path)

    @app.exception_handler(engine.BasketError)
    async def _basket(request: Request, error: engine.BasketError) -> JSONResponse:
        return problem_response(invalid(error.path or "body", error.message), request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = [{"field": _field(e["loc"]), "message": e["msg"]} for e in error.errors()]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:3])
        return problem_response(Problem(422, "invalid-request", "The request is not valid",
                                        detail, errors=errors), request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == 400:  # FastAPI could not decode the body (not UTF-8 JSON)
            return problem_response(invalid("body", "not valid JSON (UTF-8 expected)"),
                                    request.url.path)
        slug = {404: "not-found", 405: "method-not-allowed"}.get(error.status_code, "http-error")
        headers = error.headers
        if error.status_code == 405:
            headers = {**(headers or {}), "Allow": _allowed_methods(request, routes)}
        return problem_response(Problem(error.status_code, slug, str(error.detail),
                                        str(error.detail), headers=headers),
                                request.url.path)

    @app.exception_handler(OperationalError)
    async def _database(request: Request, error: OperationalError) -> JSONResponse:
        # one line: libpq adds a second, indented, to its reason ("Is the server running")
        reason = "; ".join(line.strip() for line in str(error.orig).splitlines() if line.strip())
        log.warning("database unavailable on %s: %s", request.url.path, reason)
        return problem_response(Problem(
            503, "store-unavailable", "The rule store is not available",
            "the database cannot be reached; evaluation on live versions goes on, "
            "try this again shortly", headers={"Retry-After": "5"}), request.url.path)

    @app.exception_handler(DataError)
    async def _refused_value(request: Request, error: DataError) -> JSONResponse:
        # A net: each endpoint checks its input first and names the field. A value that
        # slips through (a NUL, a number past a column's range) is still the request's
        # fault, not the server's, and the database's reason says which.
        reason = (str(error.orig).strip().splitlines() or ["a value is out of range"])[0]
        log.warning("the database refused a value on %s: %s", request.url.path, reason)
        return problem_response(Problem(
            422, "invalid-request", "The request is not valid",
            _shortened(f"the database cannot hold a value of this request: {reason}")),
            request.url.path)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path)
        return problem_response(Problem(500, "internal-error", "Internal error",
                                        "remise could not answer this request; it is logged"),
                                request.url.path)


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ProblemOut, "description": text,
             "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemOut"}}}}
    for status, text in ((401, "No or unknown API key"), (403, "The key's role may not do this"),
                         (404, "No such rule set or version"), (413, "Body too large"),
                         (422, "Invalid request"), (503, "The rule store is not reachable"))
}

__all__ = ["PROBLEM_RESPONSES", "Problem", "ProblemOut", "install", "invalid", "not_found"]
