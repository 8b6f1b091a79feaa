"""`/readyz` says ready only once the live versions are loaded: a server that starts
while its database cannot be read is not sent baskets it cannot price."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

import rules
from api.app import create_app
from tests.conftest import POSTGRES_URL, require_service
from tests.store.scenario import BOOTS_10, sources


@pytest.fixture
def schema_name() -> Iterator[str]:
    """A PostgreSQL schema name nobody uses; whatever holds it is dropped afterwards."""
    require_service("postgresql")
    name = f"remise_test_{uuid.uuid4().hex[:12]}"
    yield name
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        for schema in (name, f"{name}_prep"):
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    admin.dispose()


@pytest.mark.services
@pytest.mark.parametrize("follow", ["polling", "redis"])
def test_a_server_started_while_its_database_cannot_be_read_is_ready_once_it_loaded_it(
    tmp_path: Path, schema_name: str, follow: str, request: pytest.FixtureRequest,
) -> None:
    # given a server whose database has no rule store yet when it starts (a database
    # being restored, say), polling it every 0.1 s, or following Redis with the safety
    # net's 30 s
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema_name}"
    redis_url = request.getfixturevalue("redis_url") if follow == "redis" else None
    prefix = request.getfixturevalue("redis_prefix") if redis_url else "remise"
    settings = rules.Settings(database_url=url, redis_url=redis_url, redis_prefix=prefix,
                              poll_seconds=30 if redis_url else 0.1, data_dir=tmp_path,
                              embedded=False, prepare_ahead_seconds=0)
    app = create_app(settings, store=rules.RuleStore(rules.create_db_engine(url)))
    with TestClient(app) as client:
        # when it has started, it has loaded nothing: it is not ready
        starting = client.get("/readyz")

        # and once the restored store, with fr at version 1, is there at once, it loads it
        prepared = f"{schema_name}_prep"
        admin = create_engine(POSTGRES_URL)
        with admin.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {prepared}"))
        db = rules.create_db_engine(f"{POSTGRES_URL}?options=-csearch_path%3D{prepared}")
        rules.upgrade(db)
        rules.RuleStore(db).publish("fr", sources(BOOTS_10), message="v1", author="ana")
        db.dispose()
        with admin.begin() as connection:
            connection.execute(text(f"ALTER SCHEMA {prepared} RENAME TO {schema_name}"))
        admin.dispose()
        deadline = time.monotonic() + 10
        while (ready := client.get("/readyz")).status_code != 200:
            assert time.monotonic() < deadline, "never ready"
            time.sleep(0.05)

    # then
    assert (starting.status_code, starting.json()) == (
        503, {"status": "starting", "rulesets": {}})
    assert ready.json() == {"status": "ready", "rulesets": {"fr": 1}}
