"""Rule sets over HTTP: validate, publish, roll back (marketers); versions, diff,
live-at (marketers and finance)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import fields
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import AfterValidator, BeforeValidator
from pydantic_core import PydanticCustomError

import dsl
import rules
from rules.store import RESERVED_NAMES

from .auth import Principal
from .bodies import MAX_SMALL_BODY_BYTES, MAX_SOURCE_BODY_BYTES, json_body, request_body
from .deps import (
    INSTANT_QUERY,
    client_address,
    digits_only,
    only_query,
    query_instant,
    require,
    services,
)
from .problems import PROBLEM_RESPONSES, not_found
from .schemas import (
    MAX_VERSION,
    NAME_PATTERN,
    DiffOut,
    LiveOut,
    PublishIn,
    RollbackIn,
    SourceIn,
    ValidateOut,
    VersionDetail,
)

router = APIRouter(prefix="/v1/rulesets", tags=["rule sets"], responses=PROBLEM_RESPONSES)


def _not_reserved(name: str) -> str:
    """A rule set name that can be published (the store refuses reserved ones, unnamed)."""
    if name in RESERVED_NAMES:
        raise PydanticCustomError("reserved_name", "'{name}' is reserved (/v1/bundles/keys "
                                  "lists the signing keys): choose another name", {"name": name})
    return name


def _a_name(name: Any) -> Any:
    """A name that cannot be a rule set's, refused in words (a ``BeforeValidator``, so
    before the pattern the schema documents): "should match pattern '^[a-z0-9]...'"
    told a marketer nothing that the command line and a basket's ``ruleset`` say."""
    if isinstance(name, str) and not re.fullmatch(NAME_PATTERN, name):
        raise PydanticCustomError(
            "rule_set_name", "a rule set name is 1 to 64 lower-case letters, digits, '-' or "
            "'_', starting with a letter or digit (e.g. fr, be-web)")
    return name


RuleSetName = Annotated[str, Path(pattern=NAME_PATTERN, description="Rule set name, e.g. fr."),
                        BeforeValidator(_a_name)]
# The rule set a change goes to: the store refuses a reserved name, but names no field.
NewRuleSetName = Annotated[str, Path(pattern=NAME_PATTERN, description="Rule set name, e.g. fr."),
                           BeforeValidator(_a_name), AfterValidator(_not_reserved)]
Number = Annotated[int, Path(ge=1, le=MAX_VERSION, description="Version number."),
                   BeforeValidator(digits_only)]

AUTHOR = require("author")  # one dependency, so a body read after it does not check it again
SOURCE_BODY = json_body(SourceIn, AUTHOR, MAX_SOURCE_BODY_BYTES)
PUBLISH_BODY = json_body(PublishIn, AUTHOR, MAX_SOURCE_BODY_BYTES)
ROLLBACK_BODY = json_body(RollbackIn, AUTHOR, MAX_SMALL_BODY_BYTES)


def _detail(store: rules.RuleStore, version: rules.Version) -> VersionDetail:
    """A version with its source and every period its content was live."""
    own = {version.number}
    # A rollback to a rollback of it restores its content too: oldest first, since a
    # rollback always names an older version.
    for later in store.versions(version.ruleset):
        if later.rollback_of in own:
            own.add(later.number)
    summary = {f.name: getattr(version, f.name) for f in fields(rules.VersionSummary)}
    return VersionDetail(**summary, sources=version.sources,
                         live_periods=[p for p in store.live_periods(version.ruleset)
                                       if p.version in own])


def _created(request: Request, change: Callable[[rules.RuleStore], rules.Version]
             ) -> VersionDetail:
    """Publish or roll back, then serve the new version in this process at once."""
    store = services(request).store
    version = change(store)
    services(request).live.refresh(version.ruleset)
    return _detail(store, version)


@router.post("/{name}/validate", response_model=ValidateOut, summary="Check rule source",
             openapi_extra=request_body(SourceIn))
def validate(name: NewRuleSetName, body: SourceIn = SOURCE_BODY) -> dict[str, Any]:
    """Every located error of the source, with hints; nothing is stored."""
    try:
        ruleset = dsl.compile_sources(body.files(name))
    except dsl.DslError as error:
        return {"valid": False, "diagnostics": [d.as_dict() for d in error.diagnostics]}
    return {"valid": True, "rules": len(ruleset.rules), "currency": ruleset.currency,
            "diagnostics": []}


@router.post("/{name}/versions", response_model=VersionDetail, status_code=201,
             summary="Publish a new version",
             responses={409: PROBLEM_RESPONSES[422] | {"description": "Stale parent"}},
             openapi_extra=request_body(PublishIn))
def publish(name: NewRuleSetName, request: Request, body: PublishIn = PUBLISH_BODY,
            caller: Principal = AUTHOR) -> VersionDetail:
    return _created(request, lambda store: store.publish(
        name, body.files(name), message=body.message, author=caller.name, parent=body.parent,
        address=client_address(request)))


@router.post("/{name}/rollback", response_model=VersionDetail, status_code=201,
             summary="Make an older version's rules live again",
             responses={409: PROBLEM_RESPONSES[422] | {"description": "Stale parent"}},
             openapi_extra=request_body(RollbackIn))
def rollback(name: NewRuleSetName, request: Request, body: RollbackIn = ROLLBACK_BODY,
             caller: Principal = AUTHOR) -> VersionDetail:
    return _created(request, lambda store: store.rollback(
        name, body.to, message=body.message, author=caller.name, parent=body.parent,
        address=client_address(request)))


@router.get("", response_model=list[rules.RuleSetInfo], summary="Rule sets and their live versions",
            dependencies=[require("read")])
def list_rulesets(request: Request) -> list[rules.RuleSetInfo]:
    return services(request).store.rulesets()


@router.get("/{name}/versions", response_model=list[rules.VersionSummary],
            summary="Version history",
            dependencies=[require("read")])
def list_versions(name: RuleSetName, request: Request) -> list[rules.VersionSummary]:
    return services(request).store.versions(name)


@router.get("/{name}/versions/{number}", response_model=VersionDetail,
            summary="One version: source, hash, author, message, live periods",
            dependencies=[require("read")])
def get_version(name: RuleSetName, number: Number, request: Request) -> VersionDetail:
    store = services(request).store
    return _detail(store, store.version(name, number))


@router.get("/{name}/diff", response_model=DiffOut,
            summary="What changed: settings, then rule by rule",
            dependencies=[require("read"), only_query("from", "to")])
def diff(name: RuleSetName, request: Request,
         from_: Annotated[int, Query(alias="from", ge=1, le=MAX_VERSION),
                          BeforeValidator(digits_only)],
         to: Annotated[int, Query(ge=1, le=MAX_VERSION), BeforeValidator(digits_only)]
         ) -> dict[str, Any]:
    store = services(request).store
    return rules.diff_versions(store.version(name, from_), store.version(name, to)).as_dict()


@router.get("/{name}/live", response_model=LiveOut, summary="The version live at an instant",
            dependencies=[require("read"), only_query("at")])
def live_at(name: RuleSetName, request: Request,
            at: Annotated[str | None, Query(description="ISO-8601 with offset; default now",
                                            json_schema_extra=INSTANT_QUERY)] = None
            ) -> dict[str, Any]:
    instant = query_instant(at, "query.at") or datetime.now(UTC)
    version = services(request).store.live_at(name, instant)
    if version is None:
        raise not_found(f"no version of {name!r} was live at {instant.isoformat()}")
    return {"ruleset": name, "at": instant, "version": version}


__all__ = ["router"]
