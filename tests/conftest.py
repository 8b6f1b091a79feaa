"""Shared test configuration.

Tests marked ``services`` talk to the real PostgreSQL and Redis. Without them a
newcomer sees those tests skipped with the reason; with
``REMISE_REQUIRE_SERVICES=1`` (set by ``.ci/run``) they fail instead, so CI
can never go green by silently skipping them.

``REMISE_EXPECT_BUILD=compiled`` (CI's run against the mypyc build) makes the
session refuse to start unless the imported engine really is the compiled
one, so that run can never test pure Python by mistake.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

# Run as `.venv/bin/pytest`, pytest puts tests/ first on the path, where the folders
# tests/dsl and tests/engine would pass for the packages (the editable install is
# consulted after the path). The project's root, last, lets the real ones win, and
# keeps any build given on PYTHONPATH (the compiled one) ahead of the sources.
if str(Path(__file__).resolve().parents[1]) not in sys.path:
    sys.path.append(str(Path(__file__).resolve().parents[1]))

import pytest
from sqlalchemy import create_engine, text

import engine
from rules import RuleStore, create_db_engine, upgrade

SERVICES = {
    "postgresql": ("127.0.0.1", 5432),
    "redis": ("127.0.0.1", 6379),
}


def pytest_configure(config: pytest.Config) -> None:
    expected = os.environ.get("REMISE_EXPECT_BUILD")
    if expected and expected != engine.BUILD:
        raise pytest.UsageError(
            f"REMISE_EXPECT_BUILD={expected}, but the engine imported from "
            f"{Path(engine.__file__).parent} is the {engine.BUILD} build")


def service_reachable(name: str) -> bool:
    host, port = SERVICES[name]
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _missing(reason: str) -> None:
    if os.environ.get("REMISE_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason}, and REMISE_REQUIRE_SERVICES=1 requires it")
    pytest.skip(f"{reason}; start it to run this test")


def require_service(name: str) -> None:
    """Skip (or, in CI, fail) the calling test when the service is down."""
    if not service_reachable(name):
        host, port = SERVICES[name]
        _missing(f"{name} is not reachable on {host}:{port}")


def require_program(name: str) -> str:
    """The path of a server program a test starts itself (e.g. a private redis-server)."""
    path = shutil.which(name)
    if path is None:
        _missing(f"{name} is not installed")
    assert path is not None
    return path


# --- databases for the rule store -----------------------------------------------------

POSTGRES_URL = os.environ.get(
    "REMISE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("REMISE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The same store tests on the embedded SQLite file and on the real PostgreSQL.

    Each PostgreSQL test gets a private schema (dropped afterwards), so tests
    never see each other's versions and the append-only triggers stay on.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{(tmp_path / 'remise.db').as_posix()}"
        return
    require_service("postgresql")
    schema = f"remise_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def store(database_url: str) -> Iterator[RuleStore]:
    """A migrated, empty rule store."""
    db = create_db_engine(database_url)
    upgrade(db)
    yield RuleStore(db)
    db.dispose()


@pytest.fixture
def redis_url() -> str:
    require_service("redis")
    return REDIS_URL


@pytest.fixture
def redis_prefix(redis_url: str) -> str:
    """A key and channel prefix of its own, so tests sharing the server never cross."""
    return f"remise-test-{uuid.uuid4().hex[:12]}"
