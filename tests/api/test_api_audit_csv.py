"""GET /v1/audit as CSV: only when the client prefers it, and safe to open in a
spreadsheet."""

from __future__ import annotations

import csv
import io

import pytest

from tests.store.scenario import BOOTS_10, HEADER

from .conftest import Api

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
FORMULA = '=HYPERLINK("https://evil.example/refund", "Click for details")'


def _publish(api: Api, message: str) -> None:
    response = api.call("marketer", "POST", "/v1/rulesets/fr/versions", json={
        "source": HEADER + BOOTS_10, "message": message, "parent": 0})
    assert response.status_code == 201


def test_a_formula_in_a_publish_message_is_exported_as_text(api: Api) -> None:
    _publish(api, FORMULA)

    response = api.call("finance", "GET", "/v1/audit", params={"action": "publish"},
                        headers={"Accept": "text/csv"})

    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[1][rows[0].index("message")] == "'" + FORMULA


def test_the_json_audit_log_keeps_the_message_as_written(api: Api) -> None:
    _publish(api, FORMULA)

    response = api.call("finance", "GET", "/v1/audit", params={"action": "publish"})

    assert response.json()["entries"][0]["message"] == FORMULA


@pytest.mark.parametrize("accept", [
    "application/json, text/csv;q=0", "text/csv;q=0", "text/csv; q=0.000, */*",
    "application/json;q=0.9, text/csv;q=0.5",
])
def test_csv_refused_or_less_wanted_gets_json(api: Api, accept: str) -> None:
    _publish(api, "boots")

    response = api.call("finance", "GET", "/v1/audit", headers={"Accept": accept})

    assert response.headers["content-type"] == "application/json"
    assert response.json()["entries"]


@pytest.mark.parametrize("accept", [
    "text/csv", "text/csv;q=0.5", "application/json;q=0.4, text/csv;q=0.5",
    "text/csv, */*;q=0.1", "text/*",
])
def test_csv_preferred_gets_csv(api: Api, accept: str) -> None:
    _publish(api, "boots")

    response = api.call("finance", "GET", "/v1/audit", headers={"Accept": accept})

    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.text.startswith("id,at,actor,action")


@pytest.mark.parametrize("accept", ["application/json", "text/csv"])
def test_both_forms_say_they_depend_on_accept(api: Api, accept: str) -> None:
    # Given one address answering JSON or CSV by the Accept header
    _publish(api, "boots")

    # When finance asks for either
    response = api.call("finance", "GET", "/v1/audit", headers={"Accept": accept})

    # Then the answer says it was chosen by Accept (RFC 9110 §12.5.5), so a cache between
    # finance and the server never serves the CSV to a client that asked for JSON
    assert response.headers["vary"] == "Accept"
