"""Request plumbing shared by the routers: who is calling, and the JSON body."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic_core import PydanticCustomError

import engine

from .auth import PERMISSIONS, Principal
from .bodies import read_bytes, refuse_other_media_types
from .jsontext import JsonRefused, read_object
from .problems import Problem, invalid
from .services import Services

MAX_BODY_BYTES = 2 * 1024 * 1024  # a 500-line basket is ~100 KiB; a big rule file ~1 MiB

bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer rk_...`")

ACTIONS = {
    "evaluate": "price baskets", "author": "change rule sets", "read": "read rule sets",
    "audit": "read the audit log", "keys": "manage API keys", "bundles": "download bundles",
    "replay": "price on another version than the live one (`version`, `replay`)",
}


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


# The audit log's address column holds 200 characters (rules/models.py); an IP address
# needs 45. Behind a proxy the address is what X-Forwarded-For said, any length: cut,
# or PostgreSQL refuses the whole change it would record.
MAX_ADDRESS = 200


def client_address(request: Request) -> str | None:
    return request.client.host[:MAX_ADDRESS] if request.client else None


def _unauthorized(detail: str) -> Problem:
    return Problem(401, "unauthorized", "An API key is required", detail,
                   headers={"WWW-Authenticate": "Bearer"})


def require(permission: str) -> Any:
    """A dependency: the caller's key, which must have a role allowed to ``permission``."""
    allowed = PERMISSIONS[permission]

    async def caller(request: Request,
                     credentials: HTTPAuthorizationCredentials | None = Depends(bearer)
                     ) -> Principal:
        if credentials is None:
            raise _unauthorized("send your API key as `Authorization: Bearer <key>`")
        keys = services(request).keys
        known, principal = keys.cached(credentials.credentials)
        if not known:
            principal = await run_in_threadpool(keys.lookup, credentials.credentials)
        if principal is None:
            raise _unauthorized("this API key is unknown or revoked")
        if principal.role not in allowed:
            raise forbidden(principal, permission)
        return principal

    return Depends(caller)


def forbidden(principal: Principal, permission: str, field: str | None = None) -> Problem:
    """The 403 for a key whose role may not ``permission`` (naming ``field`` when a part
    of the request, not the endpoint, needs the permission)."""
    allowed = PERMISSIONS[permission]
    detail = (f"the {principal.role} role may not {ACTIONS[permission]}; roles that may: "
              f"{', '.join(sorted(allowed))}")
    return Problem(403, "forbidden", "This key's role may not do this", detail,
                   errors=[{"field": field, "message": detail}] if field else None)


async def json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object, read strictly (``read_object``), decimals kept exact;
    415 unless it is declared JSON, 413 beyond ``MAX_BODY_BYTES``, 422 naming the field."""
    refuse_other_media_types(request.headers.get("content-type"))
    body = await read_bytes(request, MAX_BODY_BYTES)
    try:
        return read_object(body)
    except JsonRefused as refused:
        raise invalid(refused.field, refused.message) from None


def query_instant(value: str | None, field: str) -> datetime | None:
    """An instant given in the query string, read as a basket's ``at`` is (RFC 3339,
    1970-2999); a 422 naming ``field`` otherwise."""
    if value is None:
        return None
    try:
        return engine.parse_instant(value)
    except ValueError as error:
        raise invalid(field, _plus_read_as_space(value) or str(error)) from None


def _plus_read_as_space(value: str) -> str | None:
    """Why ``value`` is refused when it is an instant whose offset's '+' was typed as is
    in a URL: a query string reads a '+' as a space, and quoting back a space the caller
    never wrote would not tell them what to change."""
    head, space, offset = value.rpartition(" ")
    try:
        engine.parse_instant(f"{head}+{offset}" if space else "")
    except ValueError:
        return None
    return (f"{value!r} is not an instant: a '+' in a query string reads as a space: "
            f"write it %2B ({head}%2B{offset})")


def only_query(*names: str) -> Any:
    """A dependency refusing a query parameter other than ``names``, or one given twice.

    FastAPI ignores the others and keeps the last of a repeated one, so a misspelt
    `?rulset=fr` answered the whole audit log, `live?att=...` the version live now, and
    `action=publish&action=rollback` the rollbacks alone: answers that looked right.
    """
    known = frozenset(names)

    def check(request: Request) -> None:
        given = Counter(name for name, _ in request.query_params.multi_items())
        for name, count in given.items():
            if name not in known:
                raise invalid(f"query.{name}", f"not a parameter of this endpoint, which "
                                               f"reads {', '.join(names)}")
            if count > 1:
                raise invalid(f"query.{name}", f"given {count} times: each parameter is "
                                               "read once (ask once per value)")

    return Depends(check)


def digits_only(value: Any) -> Any:
    """A whole number in a path or query as digits only (a ``BeforeValidator``): pydantic
    alone also read "1.0", "+1", " 1" and "1_0" as numbers, so one version or page had
    many addresses."""
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise PydanticCustomError("int_parsing", "expected a whole number, e.g. 3")
    return value


# How an instant query parameter is documented: a string the server reads itself
# (pydantic's datetime also took Unix timestamps and refused forms a basket accepts).
INSTANT_QUERY = {"format": "date-time", "examples": ["2026-11-23T14:10:00+01:00"]}


__all__ = ["INSTANT_QUERY", "client_address", "digits_only", "forbidden", "json_object",
           "only_query", "query_instant", "require", "services"]
