"""An API under test: the real app on a real store, with one key per role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import rules
from api.app import create_app
from tests.store.scenario import BOOTS_10, BOOTS_20, HEADER

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

ROLE_KEYS = {"marketer": "mia", "finance": "fin", "channel": "till", "device": "tab",
             "admin": "root"}


@dataclass
class Api:
    client: TestClient
    store: rules.RuleStore
    keys: dict[str, str] = field(default_factory=dict)  # role -> key

    def as_role(self, role: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"} if role else {}

    def call(self, role: str | None, method: str, path: str, **kwargs: Any) -> Any:
        headers = {**self.as_role(role), **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)


def settings_for(store: rules.RuleStore, data_dir: Path) -> rules.Settings:
    return rules.Settings(database_url=store.db.url.render_as_string(hide_password=False),
                          redis_url=None, redis_prefix="remise", poll_seconds=2.0,
                          data_dir=data_dir, embedded=False)


@pytest.fixture
def api(store: rules.RuleStore, tmp_path: Path) -> Iterator[Api]:
    app = create_app(settings_for(store, tmp_path), store=store)
    with TestClient(app) as client:
        found = Api(client, store)
        keys = app.state.services.keys
        for role, name in ROLE_KEYS.items():
            found.keys[role] = keys.create(name, role, created_by="test")
        yield found


@pytest.fixture
def fr_at_version_2(api: Api) -> Api:
    """Rule set fr at version 2 (boots -20%), version 1 (boots -10%) before it."""
    for parent, source in enumerate((BOOTS_10, BOOTS_20)):
        response = api.call("marketer", "POST", "/v1/rulesets/fr/versions", json={
            "source": HEADER + source, "message": f"v{parent + 1}", "parent": parent})
        assert response.status_code == 201
    return api


@pytest.fixture
def demo(api: Api) -> Api:
    """The demo rules (examples/rules) as rule set `default`, as `remise serve` publishes them."""
    sources = {p.name: p.read_text(encoding="utf-8")
               for p in sorted((EXAMPLES / "rules").glob("*.rules"))}
    response = api.call("marketer", "POST", "/v1/rulesets/default/versions",
                        json={"sources": sources, "message": "demo", "parent": 0})
    assert response.status_code == 201, response.text
    return api
