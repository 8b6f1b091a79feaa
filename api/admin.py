"""The audit log (finance) and API keys (admin) over HTTP."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import AfterValidator, BeforeValidator
from pydantic_core import PydanticCustomError
from sqlalchemy import Engine

import rules
from rules.store import MAX_AUTHOR

from .auth import KeyExists, KeyInfo, KeyRevoked, Principal
from .bodies import MAX_SMALL_BODY_BYTES, json_body, request_body
from .deps import (
    INSTANT_QUERY,
    client_address,
    digits_only,
    only_query,
    query_instant,
    require,
    services,
)
from .negotiation import preferred_media
from .problems import PROBLEM_RESPONSES, Problem, invalid
from .schemas import NAME_PATTERN, AuditPageOut, KeyCreatedOut, KeyIn, control_character

router = APIRouter(responses=PROBLEM_RESPONSES)

KEYS = require("keys")  # one dependency, so a body read after it does not check it again
KEY_BODY = json_body(KeyIn, KEYS, MAX_SMALL_BODY_BYTES)
# The audit log's ids are 32-bit integers (rules/models.py): PostgreSQL refuses to
# compare its column with a larger number, and no entry has one.
MAX_AUDIT_ID = 2**31 - 1


def _filter_text(text: str | None) -> str | None:
    """A filter as text the log can hold: no stored actor, action or rule set has a
    control character, and PostgreSQL refuses a NUL even to compare with. Nor is one
    empty: a form's blank field would answer an empty log that looked like the truth."""
    if text == "":
        raise PydanticCustomError("empty", "an empty filter matches no entry: leave it out "
                                           "to see every entry")
    problem = None if text is None else control_character(text)
    if problem is not None:
        raise PydanticCustomError("control_character", problem)
    return text


TextFilter = Annotated[str | None, AfterValidator(_filter_text)]


def _an_action(action: str | None) -> str | None:
    """An action the log holds: a misspelt one matched no entry, an empty log that looked
    like the truth."""
    if action is not None and action not in rules.audit.ACTIONS:
        raise PydanticCustomError("unknown_action", "{action} is not an action of the audit "
                                  "log: {actions}", {"action": repr(action),
                                                     "actions": ", ".join(rules.audit.ACTIONS)})
    return action


@router.get("/v1/audit", tags=["audit"], response_model=AuditPageOut,
            summary="The audit log, filtered and paged (CSV with Accept: text/csv)",
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
            dependencies=[require("audit"), only_query("ruleset", "action", "actor", "since",
                                                   "until", "after", "limit")])
def audit(
    request: Request,
    response: Response,
    ruleset: Annotated[TextFilter, Query(max_length=64)] = None,
    action: Annotated[TextFilter, Query(max_length=32), AfterValidator(_an_action)] = None,
    actor: Annotated[TextFilter, Query(max_length=MAX_AUTHOR)] = None,
    since: Annotated[str | None, Query(description="Inclusive.",
                                       json_schema_extra=INSTANT_QUERY)] = None,
    until: Annotated[str | None, Query(description="Exclusive.",
                                       json_schema_extra=INSTANT_QUERY)] = None,
    after: Annotated[int, Query(ge=0, le=MAX_AUDIT_ID, description="Entries after this id."),
                     BeforeValidator(digits_only)] = 0,
    limit: Annotated[int, Query(ge=1, le=rules.audit.MAX_PAGE),
                     BeforeValidator(digits_only)] = 100,
) -> Any:
    db = services(request).store.db
    query = _checked(db, rules.AuditQuery(
        ruleset=ruleset, action=action, actor=actor, since=_bound(since, "query.since"),
        until=_bound(until, "query.until"), after_id=after, limit=limit), since, until)
    # One address, two forms chosen by Accept: a cache must not answer one for the other.
    vary = {"Vary": "Accept"}
    if preferred_media(request.headers.get("accept"), ("application/json", "text/csv")) == (
            "text/csv"):
        return StreamingResponse(_csv_rows(db, query), media_type="text/csv; charset=utf-8",
                                 headers={**vary, "Content-Disposition":
                                          'attachment; filename="remise-audit.csv"'})
    response.headers.update(vary)
    entries = rules.audit_entries(db, query)
    return {"entries": entries,
            "next_after": entries[-1].id if len(entries) == limit else None}


def _bound(text: str | None, field: str) -> datetime | None:
    """A ``since`` or ``until`` as the log compares it (``rules.audit.bound_instant``)."""
    instant = query_instant(text, field)
    if text is None or instant is None:
        return None
    return rules.audit.bound_instant(text, instant)


def _checked(db: Engine, query: rules.AuditQuery, since: str | None,
             until: str | None) -> rules.AuditQuery:
    """``query`` (its bounds as given: ``since``, ``until``), refused when it could only
    answer an empty log that looked like the truth: its bounds swapped, or a rule set
    that does not exist."""
    if query.since is not None and query.until is not None and query.until <= query.since:
        raise invalid("query.until", f"{until!r} is not after since {since!r}: no entry can "
                                     "match")
    unknown = None if query.ruleset is None else rules.audit.unknown_ruleset(db, query.ruleset)
    if unknown is not None:
        raise invalid("query.ruleset", unknown)
    return query


def _csv_rows(db: Engine, query: rules.AuditQuery) -> Iterator[str]:
    """The CSV, its first page read now: once the response streams, its status (200) is
    sent, and a database that refuses the query would end it empty instead of
    answering a problem."""
    entries = rules.all_audit_entries(db, query)
    first = list(itertools.islice(entries, 1))  # runs the first page's query
    return rules.audit_csv(itertools.chain(first, entries))


@router.post("/v1/keys", tags=["keys"], response_model=KeyCreatedOut, status_code=201,
             summary="Create an API key (shown once)",
             responses={409: PROBLEM_RESPONSES[422] | {"description": "The name is taken"}},
             openapi_extra=request_body(KeyIn))
def create_key(request: Request, body: KeyIn = KEY_BODY,
               caller: Principal = KEYS) -> dict[str, str]:
    try:
        key = services(request).keys.create(body.name, body.role, created_by=caller.name,
                                            address=client_address(request))
    except KeyExists as error:
        raise Problem(409, "key-exists", "A key with this name exists", str(error),
                      errors=[{"field": "body.name", "message": str(error)}]) from None
    return {"name": body.name, "role": body.role, "key": key}


@router.get("/v1/keys", tags=["keys"], response_model=list[KeyInfo], summary="API keys",
            dependencies=[require("keys")])
def list_keys(request: Request) -> list[KeyInfo]:
    return services(request).keys.list_keys()


@router.delete("/v1/keys/{name}", tags=["keys"], status_code=204, summary="Revoke an API key",
               response_class=Response,
               responses={409: PROBLEM_RESPONSES[422] | {"description": "Revoked already"}})
def revoke_key(name: Annotated[str, Path(pattern=NAME_PATTERN)], request: Request,
               caller: Principal = require("keys")) -> Response:
    try:
        services(request).keys.revoke(name, revoked_by=caller.name,
                                      address=client_address(request))
    except KeyRevoked as error:  # a conflict with the key's state, as a taken name is
        raise Problem(409, "key-revoked", "The key is revoked already", str(error),
                      errors=[{"field": "path.name", "message": str(error)}]) from None
    return Response(status_code=204)


__all__ = ["router"]
