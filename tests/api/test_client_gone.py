"""A client that goes away while sending its body (a till losing its network mid-request)
is no server error: no 500 counted, no traceback logged."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from .conftest import Api


def _send_half_a_body_then_leave(api: Api, path: str, role: str) -> list[dict[str, Any]]:
    """The app's answer (the messages it sent) to a request that sends the first bytes of
    a body declared 1,000 bytes long, then disconnects."""
    arrived = [{"type": "http.request", "body": b'{"channel": "po', "more_body": True},
               {"type": "http.disconnect"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return arrived.pop(0) if arrived else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    key = api.keys[role].encode()
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "client": ("127.0.0.1", 5000),
             "server": ("testserver", 80),
             "headers": [(b"host", b"testserver"), (b"authorization", b"Bearer " + key),
                         (b"content-type", b"application/json"),
                         (b"content-length", b"1000")]}
    asyncio.run(api.client.app(scope, receive, send))  # type: ignore[arg-type]
    return sent


@pytest.mark.parametrize(("path", "role"), [("/v1/evaluate", "channel"),
                                            ("/v1/rulesets/fr/validate", "marketer")])
def test_a_client_gone_mid_body_is_a_400_and_logs_no_error(
    api: Api, path: str, role: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        sent = _send_half_a_body_then_leave(api, path, role)

    started = next(m for m in sent if m["type"] == "http.response.start")
    assert started["status"] == 400
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
