"""Every endpoint x every role x no key: 401 without a key, 403 for a role that may
not, and through for a role that may."""

from __future__ import annotations

from typing import Any

import pytest

from tests.store.scenario import BOOTS_10, HEADER, boots_basket

from .conftest import ROLE_KEYS, Api

ROLES = list(ROLE_KEYS)
EVALUATE = {"channel", "finance", "admin"}
AUTHOR = {"marketer", "admin"}
READ = {"marketer", "finance", "admin"}
AUDIT = {"finance", "admin"}
KEYS = {"admin"}
BUNDLES = {"device", "admin"}
REPLAY = {"finance", "admin"}

# (method, path, body, roles allowed)
ENDPOINTS: list[tuple[str, str, dict[str, Any] | None, set[str]]] = [
    ("POST", "/v1/evaluate", {**boots_basket(), "ruleset": "fr"}, EVALUATE),
    ("POST", "/v1/echo", {**boots_basket(), "ruleset": "fr"}, EVALUATE),
    ("POST", "/v1/evaluate", {**boots_basket(), "ruleset": "fr", "version": 1}, REPLAY),
    ("POST", "/v1/evaluate", {**boots_basket(), "ruleset": "fr", "replay": True}, REPLAY),
    ("POST", "/v1/echo", {**boots_basket(), "ruleset": "fr", "version": 1}, REPLAY),
    ("POST", "/v1/rulesets/fr/validate", {"source": HEADER + BOOTS_10}, AUTHOR),
    ("POST", "/v1/rulesets/fr/versions",
     {"source": HEADER + BOOTS_10, "message": "m", "parent": 1}, AUTHOR),
    ("POST", "/v1/rulesets/fr/rollback", {"to": 1, "message": "m"}, AUTHOR),
    ("GET", "/v1/rulesets", None, READ),
    ("GET", "/v1/rulesets/fr/versions", None, READ),
    ("GET", "/v1/rulesets/fr/versions/1", None, READ),
    ("GET", "/v1/rulesets/fr/diff?from=1&to=1", None, READ),
    ("GET", "/v1/rulesets/fr/live", None, READ),
    ("GET", "/v1/audit", None, AUDIT),
    ("GET", "/v1/keys", None, KEYS),
    ("POST", "/v1/keys", {"name": "new-key", "role": "channel"}, KEYS),
    ("GET", "/v1/bundles/keys", None, BUNDLES),
    ("GET", "/v1/bundles/fr?channel=pos&store=paris-01", None, BUNDLES),
    ("DELETE", "/v1/keys/tab", None, KEYS),
]
IDS = [f"{method} {path.split('?')[0]}" + "".join(f" {field}" for field in ("version", "replay")
                                                 if body and field in body)
       for method, path, body, _ in ENDPOINTS]


@pytest.fixture
def published(api: Api) -> Api:
    response = api.call("admin", "POST", "/v1/rulesets/fr/versions",
                        json={"source": HEADER + BOOTS_10, "message": "v1", "parent": 0})
    assert response.status_code == 201
    return api


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("method", "path", "body", "allowed"), ENDPOINTS, ids=IDS)
@pytest.mark.parametrize("role", [*ROLES, None], ids=[*ROLES, "no key"])
def test_role_matrix(published: Api, method: str, path: str, body: dict[str, Any] | None,
                     allowed: set[str], role: str | None) -> None:
    response = published.call(role, method, path, json=body)

    if role is None:
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
    elif role in allowed:
        assert response.status_code not in (401, 403), response.text
        assert response.status_code < 500
    else:
        assert response.status_code == 403
        assert response.json()["detail"].startswith(f"the {role} role may not ")
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("header", ["Bearer rk_not-a-real-key", "Basic dXNlcjpwYXNz", "Bearer"])
def test_unknown_or_malformed_keys_are_401(published: Api, header: str) -> None:
    response = published.client.get("/v1/rulesets", headers={"Authorization": header})

    assert response.status_code == 401
    assert response.json()["status"] == 401
