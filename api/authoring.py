"""Rule sets over HTTP: validate, publish, roll back (marketers); versions, diff,
live-at (marketers and finance)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

import dsl
import rules

from .auth import Principal
from .deps import client_address, require, services
from .problems import PROBLEM_RESPONSES, Problem, invalid
from .schemas import (
    MAX_VERSION,
    NAME_PATTERN,
    DiffOut,
    LiveOut,
    PublishIn,
    RollbackIn,
    RuleSetOut,
    SourceIn,
    ValidateOut,
    VersionDetailOut,
    VersionOut,
)

router = APIRouter(prefix="/v1/rulesets", tags=["rule sets"], responses=PROBLEM_RESPONSES)

RuleSetName = Annotated[str, Path(pattern=NAME_PATTERN, description="Rule set name, e.g. fr.")]
Number = Annotated[int, Path(ge=1, le=MAX_VERSION, description="Version number.")]


def _version_out(version: rules.VersionSummary) -> dict[str, Any]:
    return {"ruleset": version.ruleset, "number": version.number, "parent": version.parent,
            "content_hash": version.content_hash, "rule_count": version.rule_count,
            "author": version.author, "message": version.message,
            "created_at": version.created_at, "live_from": version.live_from,
            "rollback_of": version.rollback_of}


def _detail(store: rules.RuleStore, version: rules.Version) -> dict[str, Any]:
    """A version with its source and every period its content was live."""
    chain = {v.number: v for v in store.versions(version.ruleset)}
    own = [version.number] + [n for n, v in chain.items() if v.rollback_of == version.number]
    periods = [p for p in store.live_periods(version.ruleset) if p.version in own]
    return {**_version_out(version), "sources": version.sources,
            "live_periods": [{"version": p.version, "start": p.start, "end": p.end}
                             for p in periods]}


@router.post("/{name}/validate", response_model=ValidateOut, summary="Check rule source",
             dependencies=[require("author")])
def validate(name: RuleSetName, body: SourceIn) -> dict[str, Any]:
    """Every located error of the source, with hints; nothing is stored."""
    try:
        ruleset = dsl.compile_sources(body.files(name))
    except dsl.DslError as error:
        return {"valid": False, "diagnostics": [d.as_dict() for d in error.diagnostics]}
    return {"valid": True, "rules": len(ruleset.rules), "currency": ruleset.currency,
            "diagnostics": []}


@router.post("/{name}/versions", response_model=VersionDetailOut, status_code=201,
             summary="Publish a new version",
             responses={409: PROBLEM_RESPONSES[422] | {"description": "Stale parent"}})
def publish(name: RuleSetName, body: PublishIn, request: Request,
            caller: Principal = require("author")) -> dict[str, Any]:
    store = services(request).store
    version = store.publish(name, body.files(name), message=body.message, author=caller.name,
                            parent=body.parent, address=client_address(request))
    services(request).live.refresh(name)
    return _detail(store, version)


@router.post("/{name}/rollback", response_model=VersionDetailOut, status_code=201,
             summary="Make an older version's rules live again",
             responses={409: PROBLEM_RESPONSES[422] | {"description": "Stale parent"}})
def rollback(name: RuleSetName, body: RollbackIn, request: Request,
             caller: Principal = require("author")) -> dict[str, Any]:
    store = services(request).store
    version = store.rollback(name, body.to, message=body.message, author=caller.name,
                             parent=body.parent, address=client_address(request))
    services(request).live.refresh(name)
    return _detail(store, version)


@router.get("", response_model=list[RuleSetOut], summary="Rule sets and their live versions",
            dependencies=[require("read")])
def list_rulesets(request: Request) -> list[dict[str, Any]]:
    return [{"name": r.name, "live_version": r.live_version, "live_from": r.live_from,
             "versions": r.versions} for r in services(request).store.rulesets()]


@router.get("/{name}/versions", response_model=list[VersionOut], summary="Version history",
            dependencies=[require("read")])
def list_versions(name: RuleSetName, request: Request) -> list[dict[str, Any]]:
    return [_version_out(v) for v in services(request).store.versions(name)]


@router.get("/{name}/versions/{number}", response_model=VersionDetailOut,
            summary="One version: source, hash, author, message, live periods",
            dependencies=[require("read")])
def get_version(name: RuleSetName, number: Number, request: Request) -> dict[str, Any]:
    store = services(request).store
    return _detail(store, store.version(name, number))


@router.get("/{name}/diff", response_model=DiffOut, summary="Rule-by-rule diff",
            dependencies=[require("read")])
def diff(name: RuleSetName, request: Request,
         from_: Annotated[int, Query(alias="from", ge=1, le=MAX_VERSION)],
         to: Annotated[int, Query(ge=1, le=MAX_VERSION)]) -> dict[str, Any]:
    store = services(request).store
    return rules.diff_versions(store.version(name, from_), store.version(name, to)).as_dict()


@router.get("/{name}/live", response_model=LiveOut, summary="The version live at an instant",
            dependencies=[require("read")])
def live_at(name: RuleSetName, request: Request,
            at: Annotated[datetime | None, Query(description="ISO-8601 with offset; "
                                                             "default now")] = None
            ) -> dict[str, Any]:
    instant = at or datetime.now(UTC)
    if instant.tzinfo is None:
        raise invalid("query.at", "needs a UTC offset, e.g. 2026-11-23T14:10:00+01:00")
    version = services(request).store.live_at(name, instant)
    if version is None:
        raise Problem(404, "not-found", "Not found",
                      f"no version of {name!r} was live at {instant.isoformat()}")
    return {"ruleset": name, "at": instant, "version": _version_out(version)}


__all__ = ["Depends", "router"]
