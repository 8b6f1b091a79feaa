"""The caller's address recorded in the audit log, whatever a proxy said it was."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import rules
from api.app import create_app
from tests.store.scenario import BOOTS_10, HEADER

from .conftest import settings_for

FORWARDED = "10.0.0.1," * 33 + "x"  # 298 characters, as an X-Forwarded-For can be


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_an_address_longer_than_the_audit_holds_is_cut_not_a_refused_publish(
    store: rules.RuleStore, tmp_path: Path
) -> None:
    # Given a marketer whose address, as a proxy gave it, is longer than the column
    app = create_app(settings_for(store, tmp_path), store=store)
    key = app.state.services.keys.create("mia", "marketer", created_by="test")
    with TestClient(app, client=(FORWARDED, 50000)) as client:
        # When it publishes
        response = client.post("/v1/rulesets/fr/versions", json={
            "source": HEADER + BOOTS_10, "message": "v1", "parent": 0},
            headers={"Authorization": f"Bearer {key}"})

    # Then the version is published, its audit entry keeping the first 200 characters
    assert response.status_code == 201, response.text
    [entry] = rules.audit_entries(store.db, rules.AuditQuery(ruleset="fr"))
    assert entry.address == FORWARDED[:200]
