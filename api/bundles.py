"""Bundles for store devices: ``GET /v1/bundles/{ruleset}`` and the signing keys."""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response

import engine
import rules
from engine.bundle import MEDIA_TYPE, fingerprint_of
from rules.bundles import SigningKeyUnusable

from .deps import require, services
from .negotiation import coding_quality
from .problems import PROBLEM_RESPONSES, Problem, not_found
from .schemas import NAME_PATTERN, SigningKeysOut

router = APIRouter(prefix="/v1/bundles", tags=["bundles"], responses=PROBLEM_RESPONSES)

# An entity tag in If-None-Match, weak (W/"...") or strong, its opaque part kept.
_ENTITY_TAG = re.compile(r'(?:W/)?("[^"]*")')


def _headers(digest: str, version: int) -> dict[str, str]:
    # Vary on the 304 too: it carries what the 200 would (RFC 9110 §15.4.5), so a cache
    # keeps the gzip and plain answers apart either way.
    return {"ETag": f'"{digest}"', "Cache-Control": "no-cache",
            "X-Remise-Version": str(version), "Vary": "Accept-Encoding"}


log = logging.getLogger("remise.bundles")


@contextmanager
def _signing_keys() -> Iterator[None]:
    """A damaged key folder is the server's to mend, said in a 503 to the device (which
    keeps its last bundle) and, with the file and the reason, in the log: not a 500."""
    try:
        yield
    except SigningKeyUnusable as error:
        log.error("cannot sign device bundles: %s", error)
        raise Problem(503, "bundle-keys-unusable", "Bundles cannot be signed",
                      "this server cannot use its bundle signing keys; its operator must "
                      "mend the keys' folder (REMISE_BUNDLE_KEYS_DIR): the reason is in its "
                      "log") from None


def _unchanged(if_none_match: str, etag: str) -> bool:
    """Whether If-None-Match names ``etag``. RFC 9110 §13.1.2 compares weakly: a
    client or proxy that marked the tag weak (W/"...") still means these bytes."""
    if if_none_match.strip() == "*":
        return True
    return etag in _ENTITY_TAG.findall(if_none_match)


@router.get("/keys", response_model=SigningKeysOut, summary="Public keys that sign bundles",
            dependencies=[require("bundles")])
def signing_keys(request: Request) -> dict[str, Any]:
    """Every key that signs or will sign bundles: a device trusts them by id."""
    keys = services(request).bundles.keys
    with _signing_keys():
        active, _ = keys.active()
        listed = keys.public_keys()
    return {"keys": [{"key_id": key_id, "algorithm": "Ed25519", "active": key_id == active,
                      "public_key": base64.b64encode(raw).decode("ascii"),
                      "sha256": fingerprint_of(raw)}
                     for key_id, raw in listed.items()]}


@router.get("/{ruleset}", summary="The live version's signed bundle for a channel and store",
            response_class=Response,
            responses={200: {"description": f"The bundle ({engine.BUNDLE_FORMAT}); its ETag "
                                            "is the SHA-256 of its bytes",
                             "content": {MEDIA_TYPE: {"schema": {"type": "string"}}}},
                       304: {"description": "Unchanged since the ETag sent"}},
            dependencies=[require("bundles")])
def bundle(
    request: Request,
    ruleset: Annotated[str, Path(pattern=NAME_PATTERN)],
    channel: Annotated[Literal["pos", "web", "mobile", "kiosk"], Query()],
    store: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
) -> Response:
    found = services(request)
    try:
        live = found.live.get(ruleset)
    except rules.UnreadableVersion as error:  # the server's failing, as for a basket
        raise Problem(503, "live-version-unreadable", "The live version cannot be served",
                      f"{error}; publish a fix, or roll back to a version that loads") from None
    if live is None:
        raise not_found(f"no rule set named {ruleset!r} is published")
    now, if_none_match = found.clock(), request.headers.get("if-none-match", "")
    with _signing_keys():
        known = found.bundles.known_digest(ruleset, live.ruleset, channel, store, now)
        if known is not None and _unchanged(if_none_match, f'"{known}"'):
            # the usual sync: answered without building the bundle again
            return Response(status_code=304, headers=_headers(known, live.version))
        data, digest = found.bundles.issue_tagged(ruleset, live.ruleset, channel, store, now)
    headers = _headers(digest, live.version)
    if _unchanged(if_none_match, headers["ETag"]):
        return Response(status_code=304, headers=headers)
    if coding_quality(request.headers.get("accept-encoding"), "gzip") > 0:
        # A shop's line is slow: 10,000 rules are 3.2 MiB raw, 0.2 MiB compressed.
        headers["Content-Encoding"] = "gzip"
        return Response(found.bundles.compressed(data), media_type=MEDIA_TYPE,
                        headers=headers)
    return Response(data, media_type=MEDIA_TYPE, headers=headers)


__all__ = ["router"]
