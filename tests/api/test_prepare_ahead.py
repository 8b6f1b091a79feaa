"""The server prepares each next hour ahead: the thread lives with the app, the
setting turns it off, and /metrics counts slices built ahead and on demand."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path

from fastapi.testclient import TestClient

import rules
from api.app import create_app
from rules.ahead import prepare_live
from tests.store.scenario import BOOTS_10, boots_basket, sources

from .conftest import settings_for


def test_the_preparing_thread_runs_while_the_app_does(store: rules.RuleStore,
                                                      tmp_path: Path) -> None:
    app = create_app(settings_for(store, tmp_path), store=store)
    preparer = app.state.services.preparer
    with TestClient(app):
        assert preparer.running
    assert not preparer.running


def test_a_lead_of_0_starts_no_preparing_thread(store: rules.RuleStore, tmp_path: Path) -> None:
    settings = dataclasses.replace(settings_for(store, tmp_path), prepare_ahead_seconds=0)
    assert create_app(settings, store=store).state.services.preparer is None


def test_metrics_count_the_slices_built_ahead_and_on_demand(store: rules.RuleStore,
                                                           tmp_path: Path) -> None:
    # given a server without its own thread (so that the wall clock cannot add a
    # preparation), whose till priced a basket during the 10:00 hour
    store.publish("fr", sources(BOOTS_10), message="boots", author="ana")
    settings = dataclasses.replace(settings_for(store, tmp_path), prepare_ahead_seconds=0)
    app = create_app(settings, store=store)
    with TestClient(app) as client:
        key = app.state.services.keys.create("till", "channel", created_by="test")
        headers = {"Authorization": f"Bearer {key}"}

        def price(at: str) -> None:
            response = client.post("/v1/evaluate", headers=headers,
                                   json={**boots_basket(at), "ruleset": "fr"})
            assert response.status_code == 200, response.text

        price("2026-11-24T10:15:00+00:00")
        # when 11:00 is prepared and its first basket priced
        prepare_live(app.state.services.live, datetime.fromisoformat("2026-11-24T11:00:00+00:00"))
        price("2026-11-24T11:00:00+00:00")
        metrics = client.get("/metrics").text
    # then one slice was built on demand (10:00), one ahead (11:00)
    assert 'remise_index_slices_built_total{ruleset="fr",when="on_demand"} 1.0' in metrics
    assert 'remise_index_slices_built_total{ruleset="fr",when="ahead"} 1.0' in metrics
