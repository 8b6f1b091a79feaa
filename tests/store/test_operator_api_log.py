"""The line a server logs for a request its database could not answer: one line, as
every other event of the log."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import rules
from api.app import create_app


def test_a_request_the_database_cannot_answer_is_logged_in_one_line(
    store: rules.RuleStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # given a server whose finance key it knows, then a PostgreSQL where nothing listens
    settings = rules.Settings(database_url="sqlite://", redis_url=None, redis_prefix="remise",
                              poll_seconds=2.0, data_dir=tmp_path, embedded=False)
    app = create_app(settings, store=store)
    with TestClient(app) as client:
        key = app.state.services.keys.create("fin", "finance", created_by="test")
        headers = {"Authorization": f"Bearer {key}"}
        assert client.get("/v1/rulesets", headers=headers).status_code == 200
        store.db = rules.create_db_engine("postgresql+psycopg://postgres@127.0.0.1:1/x")
        caplog.set_level(logging.WARNING, logger="remise.api")

        # when a request needs the database
        response = client.get("/v1/rulesets", headers=headers)

    # then the caller gets a 503 and the log one line, libpq's hint on it
    assert response.status_code == 503
    said = [r.getMessage() for r in caplog.records if r.name == "remise.api"]
    assert said == ['database unavailable on /v1/rulesets: connection failed: connection to '
                    'server at "127.0.0.1", port 1 failed: Connection refused; Is the server '
                    'running on that host and accepting TCP/IP connections?']
