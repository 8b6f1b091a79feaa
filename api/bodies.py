"""JSON bodies of the authoring and key endpoints, read the way ``/v1/evaluate`` reads
its basket.

FastAPI reads and parses a declared body before any dependency runs, so a caller
without a key learnt that their JSON was malformed before being told to authenticate,
a 30 MB body was read whole before its size was refused, and a syntax error came back
as "body.1: JSON decode error". Here the body is a dependency of the caller's key:
the key is checked first, then the body is read up to a limit (413 beyond it), parsed
with the place of any syntax error, and validated by its pydantic model, errors
named ``body.<field>``.
"""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.requests import ClientDisconnect

from .auth import Principal
from .jsontext import JsonRefused, read_object
from .problems import Problem, invalid

M = TypeVar("M", bound=BaseModel)

# A rule source of 1,000,000 characters (schemas.MAX_SOURCE_CHARS) fits even when a
# client writes each one as a \uXXXX escape (6 bytes), with room for the JSON around it.
MAX_SOURCE_BODY_BYTES = 8 * 1024 * 1024
MAX_SMALL_BODY_BYTES = 64 * 1024  # a rollback or a new key is a few hundred bytes

_documented: dict[str, type[BaseModel]] = {}


def too_large(limit: int) -> Problem:
    return Problem(413, "body-too-large", "The request body is too large",
                   f"send at most {limit // 1024} KiB")


def refuse_content_codings(content_encoding: str | None) -> None:
    """Bodies are read as sent: one declared compressed (gzip, br...) is a 415 saying so
    (RFC 9110 §8.4.1, with ``Accept-Encoding: identity``, §12.5.3), where it was read as
    JSON (a 422 on byte 0x8b) or, when the bytes were plain after all, priced as is."""
    codings = [c.strip().lower() for c in (content_encoding or "").split(",")]
    coding = next((c for c in codings if c not in ("", "identity")), None)
    if coding is not None:
        raise Problem(415, "unsupported-content-encoding",
                      "The body's content coding is not supported",
                      f"Content-Encoding {content_encoding!r} is not supported: send the body "
                      "uncompressed", headers={"Accept-Encoding": "identity"})


async def read_bytes(request: Request, limit: int) -> bytes:
    """The body, refused with a 413 as soon as it is known to exceed ``limit``: by its
    Content-Length before reading anything, else once the chunks read pass it; a 415
    when it is declared in a content coding (``refuse_content_codings``)."""
    refuse_content_codings(request.headers.get("content-encoding"))
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise too_large(limit)
    except ClientDisconnect:
        # A till that lost its network mid-request: the client's doing, not a 500 with a
        # traceback in the log (anyone with a key could fill the log with them).
        raise Problem(400, "client-disconnected", "The client went away",
                      "the connection closed before the whole body arrived") from None
    return bytes(body)


def refuse_other_media_types(content_type: str | None) -> None:
    """JSON is application/json or a +json type (RFC 6839), as FastAPI decides for the
    bodies it reads itself; a request that declares no type is read as JSON too."""
    if not content_type:
        return
    media_type = content_type.partition(";")[0].strip().lower()
    if media_type == "application/json" or (
            media_type.startswith("application/") and media_type.endswith("+json")):
        return
    raise Problem(415, "unsupported-media-type", "The body is not declared as JSON",
                  f"Content-Type must be application/json or a +json type, not "
                  f"{media_type!r}")


def parse_object(body: bytes) -> dict[str, Any]:
    """The body's JSON object, read as a basket is (``read_object``: strict UTF-8, each
    name once, a syntax error's line and column); a 422 on ``body`` or ``body.<field>``."""
    try:
        return read_object(body)
    except JsonRefused as refused:
        field = refused.field if refused.field == "body" else f"body.{refused.field}"
        raise invalid(field, refused.message) from None


def validated(model: type[M], data: Any) -> M:
    """``data`` as ``model``; errors located as FastAPI locates a body's (``body.message``)."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        errors = error.errors(include_url=False, include_context=False, include_input=False)
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in errors]) from None


def json_body(model: type[M], caller: Any, limit: int) -> Any:
    """A dependency: the body as ``model``, read only once ``caller`` (a ``require(...)``
    dependency, shared with the endpoint so the key is checked once) let the key in."""

    async def body(request: Request, _: Principal = caller) -> M:
        refuse_other_media_types(request.headers.get("content-type"))
        return validated(model, parse_object(await read_bytes(request, limit)))

    return Depends(body)


def request_body(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` that documents a body read by ``json_body`` (FastAPI cannot see
    it); the app adds ``model`` to the schema's components (``documented_models``)."""
    _documented[model.__name__] = model
    return {"requestBody": {"required": True, "content": {"application/json": {
        "schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}}}


def documented_models() -> list[type[BaseModel]]:
    return list(_documented.values())


__all__ = ["MAX_SMALL_BODY_BYTES", "MAX_SOURCE_BODY_BYTES", "documented_models", "json_body",
           "parse_object", "read_bytes", "refuse_content_codings", "refuse_other_media_types",
           "request_body", "too_large", "validated"]
