"""A day of remise over HTTP: a marketer publishes, a till prices, the marketer
changes the rules, finance diffs, rolls back and replays an old basket to the cent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import engine
from tests.store.scenario import BOOTS_10, BOOTS_20, HEADER, SOCKS_3_FOR_2, boots_basket

from .conftest import Api


def _publish(api: Api, source: str, parent: int, message: str) -> dict[str, Any]:
    response = api.call("marketer", "POST", "/v1/rulesets/fr/versions",
                        json={"source": HEADER + source, "message": message, "parent": parent})
    assert response.status_code == 201, response.text
    return dict(response.json())


def _price(api: Api, role: str = "channel", **fields: Any) -> dict[str, Any]:
    response = api.call(role, "POST", "/v1/evaluate",
                        json={**boots_basket(), "ruleset": "fr", **fields})
    assert response.status_code == 200, response.text
    return dict(response.json())


def _midpoint(a: str, b: str) -> str:
    start, end = datetime.fromisoformat(a), datetime.fromisoformat(b)
    return (start + (end - start) / 2).isoformat()


def test_publish_price_change_diff_rollback_and_replay(api: Api) -> None:
    # given the marketer's first version: boots -10%
    first = _publish(api, BOOTS_10, parent=0, message="boots")
    assert (first["number"], first["author"], first["rule_count"]) == (1, "mia", 1)
    # when a till prices 100.00 of boots and 3 x 5.00 of socks
    priced = _price(api)
    assert (priced["version"], priced["discount"], priced["total"]) == (1, "10.00", "105.00")

    # the marketer changes the rules: boots -20% and socks 3 for 2
    second = _publish(api, BOOTS_20 + "\n" + SOCKS_3_FOR_2, parent=1, message="more")
    priced = _price(api)
    assert (priced["version"], priced["discount"], priced["total"]) == (2, "25.00", "90.00")

    # a colleague still on version 1 is told, not overwritten
    stale = api.call("marketer", "POST", "/v1/rulesets/fr/versions",
                     json={"source": HEADER + BOOTS_10, "message": "late", "parent": 1})
    assert stale.status_code == 409
    assert stale.headers["content-type"] == "application/problem+json"
    assert (stale.json()["head"], stale.json()["type"]) == (
        2, "https://remise.dev/problems/stale-parent")

    # finance reads the difference
    diff = api.call("finance", "GET", "/v1/rulesets/fr/diff", params={"from": 1, "to": 2})
    assert diff.status_code == 200
    assert [c["rule"] for c in diff.json()["added"]] == ["socks"]
    assert [(c["rule"], c["fields"]) for c in diff.json()["changed"]] == [
        ("boots", ["effect", "title"])]

    # and it is rolled back
    rolled = api.call("marketer", "POST", "/v1/rulesets/fr/rollback",
                      json={"to": 1, "message": "socks were a mistake"})
    assert rolled.status_code == 201
    third = rolled.json()
    assert (third["number"], third["rollback_of"], third["content_hash"]) == (
        3, 1, first["content_hash"])
    assert _price(api)["discount"] == "10.00"

    # finance replays a basket made while version 2 was live: the old answer, to the cent
    at = _midpoint(second["live_from"], third["live_from"])
    replayed = _price(api, "finance", at=at, replay=True)
    assert (replayed["version"], replayed["discount"], replayed["total"]) == (2, "25.00", "90.00")
    pinned = _price(api, "finance", version=2)
    assert pinned["lines"] == replayed["lines"]

    # version 1's content was live twice: on its own, and again as version 3
    detail = api.call("finance", "GET", "/v1/rulesets/fr/versions/1").json()
    assert [p["version"] for p in detail["live_periods"]] == [1, 3]
    assert detail["sources"] == {"fr.rules": HEADER + BOOTS_10}

    live = api.call("finance", "GET", "/v1/rulesets/fr/live", params={"at": at}).json()
    assert live["version"]["number"] == 2

    # every change is in the audit log with the key's name and the caller's address
    audit = api.call("finance", "GET", "/v1/audit", params={"ruleset": "fr"}).json()
    assert [(e["actor"], e["action"], e["version"]) for e in audit["entries"]] == [
        ("mia", "publish", 1), ("mia", "publish", 2), ("mia", "rollback", 3)]
    assert {e["address"] for e in audit["entries"]} == {"testclient"}


def test_the_audit_log_exports_as_csv(api: Api) -> None:
    _publish(api, BOOTS_10, parent=0, message="boots")

    response = api.call("finance", "GET", "/v1/audit", params={"action": "publish"},
                        headers={"Accept": "text/csv"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    lines = response.text.splitlines()
    assert lines[0] == "id,at,actor,action,ruleset,version,message,address,details"
    assert lines[1].split(",")[2:8] == ["mia", "publish", "fr", "1", "boots", "testclient"]


def test_audit_pages_chain_with_next_after(api: Api) -> None:
    for parent in range(3):
        _publish(api, BOOTS_10 if parent % 2 else BOOTS_20, parent=parent, message=f"v{parent}")

    first = api.call("finance", "GET", "/v1/audit",
                     params={"action": "publish", "limit": 2}).json()
    second = api.call("finance", "GET", "/v1/audit", params={
        "action": "publish", "limit": 2, "after": first["next_after"]}).json()

    assert [e["version"] for e in first["entries"] + second["entries"]] == [1, 2, 3]
    assert second["next_after"] is None


def test_validate_reports_located_errors_and_stores_nothing(api: Api) -> None:
    response = api.call("marketer", "POST", "/v1/rulesets/fr/validate", json={
        "source": HEADER + 'rule boots "Bottes" {\n    discount 150% on items\n}\n'})

    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is False
    assert [(d["file"], d["line"], d["column"]) for d in body["diagnostics"]] == [
        ("fr.rules", 5, 14)]
    assert api.call("marketer", "GET", "/v1/rulesets").json() == []


def test_keys_are_created_listed_and_revoked_by_an_admin(api: Api) -> None:
    created = api.call("admin", "POST", "/v1/keys", json={"name": "kiosk-lyon",
                                                          "role": "channel"})
    assert created.status_code == 201
    key = created.json()["key"]
    _publish(api, BOOTS_10, parent=0, message="boots")
    basket = {**boots_basket(), "ruleset": "fr"}
    as_kiosk = {"Authorization": f"Bearer {key}"}
    assert api.client.post("/v1/evaluate", json=basket, headers=as_kiosk).status_code == 200

    listed = api.call("admin", "GET", "/v1/keys").json()
    assert ("kiosk-lyon", "channel", key[:8]) in [(k["name"], k["role"], k["prefix"])
                                                   for k in listed]
    assert api.call("admin", "DELETE", "/v1/keys/kiosk-lyon").status_code == 204

    refused = api.client.post("/v1/evaluate", json=basket, headers=as_kiosk)
    assert refused.status_code == 401
    assert refused.json()["detail"] == "this API key is unknown or revoked"
    actions = [e["action"] for e in api.call("admin", "GET", "/v1/audit").json()["entries"]]
    assert actions.count("key_create") == 6 and actions[-1] == "key_revoke"


def test_health_readiness_and_metrics(api: Api) -> None:
    _publish(api, BOOTS_10, parent=0, message="boots")
    _price(api)

    assert api.client.get("/healthz").json() == {"status": "ok", "engine_build": engine.BUILD}
    assert api.client.get("/readyz").json() == {"status": "ready", "rulesets": {"fr": 1}}
    metrics = api.client.get("/metrics").text
    assert 'remise_evaluate_seconds_count{ruleset="fr"} 1.0' in metrics
    assert ('remise_http_requests_total{endpoint="/v1/evaluate",method="POST",status="200"} 1.0'
            in metrics)
    assert 'remise_live_version{ruleset="fr"} 1.0' in metrics
    assert 'remise_live_reloads_total{ruleset="fr"} 1.0' in metrics


def test_the_diff_names_a_new_currency(api: Api) -> None:
    # Given the same rule published in EUR, then in USD
    _publish(api, BOOTS_10, parent=0, message="eur")
    response = api.call("marketer", "POST", "/v1/rulesets/fr/versions", json={
        "source": HEADER.replace("EUR", "USD") + BOOTS_10, "message": "usd", "parent": 1})
    assert response.status_code == 201

    # When finance reads the difference
    diff = api.call("finance", "GET", "/v1/rulesets/fr/diff", params={"from": 1, "to": 2})

    # Then the currency is listed as a setting that changed
    assert diff.json()["settings"] == [{"setting": "currency", "from": "EUR", "to": "USD"}]


def _roll_back(api: Api, to: int, message: str) -> None:
    response = api.call("marketer", "POST", "/v1/rulesets/fr/rollback",
                        json={"to": to, "message": message})
    assert response.status_code == 201, response.text


def test_a_version_lists_the_period_of_a_rollback_to_a_rollback_of_it(api: Api) -> None:
    # Given version 1 (boots -10%), 2 (-20%), 3 rolling back to 1, 4 (-20%) and 5 rolling
    # back to 3: version 5 puts version 1's rules live once more
    _publish(api, BOOTS_10, parent=0, message="boots")
    _publish(api, BOOTS_20, parent=1, message="more")
    _roll_back(api, 1, "back")
    _publish(api, BOOTS_20, parent=3, message="more again")
    _roll_back(api, 3, "back again")

    # When finance asks when version 1's rules were live
    detail = api.call("finance", "GET", "/v1/rulesets/fr/versions/1").json()

    # Then the answer holds version 5's period too, as the same content hash says
    assert [p["version"] for p in detail["live_periods"]] == [1, 3, 5]
    version_5 = api.call("finance", "GET", "/v1/rulesets/fr/versions/5").json()
    assert version_5["content_hash"] == detail["content_hash"]
