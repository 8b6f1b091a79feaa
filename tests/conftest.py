"""Shared test configuration.

Tests marked ``services`` talk to the real PostgreSQL and Redis. Without them a
newcomer sees those tests skipped with the reason; with
``REMISE_REQUIRE_SERVICES=1`` (set by ``.ci/run``) they fail instead, so CI
can never go green by silently skipping them.
"""

from __future__ import annotations

import os
import socket

import pytest

SERVICES = {
    "postgresql": ("127.0.0.1", 5432),
    "redis": ("127.0.0.1", 6379),
}


def service_reachable(name: str) -> bool:
    host, port = SERVICES[name]
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def require_service(name: str) -> None:
    """Skip (or, in CI, fail) the calling test when the service is down."""
    if service_reachable(name):
        return
    host, port = SERVICES[name]
    reason = f"{name} is not reachable on {host}:{port}"
    if os.environ.get("REMISE_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason}, and REMISE_REQUIRE_SERVICES=1 requires it")
    pytest.skip(f"{reason}; start it to run this test")
