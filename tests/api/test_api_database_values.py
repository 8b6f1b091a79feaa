"""Values the database cannot hold or compare are refused before they reach it, as a
located 422, never a 500; a value that slips through is a 422 all the same.

On PostgreSQL, whose text refuses NUL and whose audit ids are 32-bit integers: the
embedded SQLite took both silently.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import create_engine

from tests.store.scenario import BOOTS_10, HEADER, boots_basket

from .conftest import Api

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.fixture
def published(fr_at_version_2: Api) -> Api:
    return fr_at_version_2


def _field(response: Any) -> str:
    assert response.headers["content-type"] == "application/problem+json"
    field: str = response.json()["errors"][0]["field"]
    return field


@pytest.mark.parametrize(("path", "body"), [
    ("/v1/rulesets/fr/versions", {"source": HEADER + BOOTS_10, "parent": 2}),
    ("/v1/rulesets/fr/rollback", {"to": 1, "parent": 2}),
])
@pytest.mark.parametrize("message", ["fix\u0000", "fix \u001b[31mred", "fix\u0085"])
def test_a_message_with_a_control_character_is_refused_naming_it(
    published: Api, path: str, body: dict[str, Any], message: str
) -> None:
    # Given rule set fr at version 2
    # When a change is sent with a NUL, an ESC sequence or a C1 control in its message
    response = published.call("marketer", "POST", path, json={**body, "message": message})

    # Then it is a 422 on body.message and nothing is published
    assert response.status_code == 422
    assert _field(response) == "body.message"
    assert "control characters other than tabs and line breaks" in response.json()["detail"]
    assert len(published.call("marketer", "GET", "/v1/rulesets/fr/versions").json()) == 2


def test_a_message_keeps_its_tabs_and_line_breaks(published: Api) -> None:
    # Given a message written on several lines, indented with a tab
    message = "boots -20%\r\n\t- asked by the Paris stores\n"

    # When it is published
    response = published.call("marketer", "POST", "/v1/rulesets/fr/versions", json={
        "source": HEADER + BOOTS_10, "message": message, "parent": 2})

    # Then it is kept as written
    assert response.status_code == 201
    assert response.json()["message"] == message.strip()


def test_a_file_name_with_a_control_character_is_refused(published: Api) -> None:
    response = published.call("marketer", "POST", "/v1/rulesets/fr/versions", json={
        "sources": {"promo\u0000.rules": HEADER + BOOTS_10}, "message": "m", "parent": 2})

    assert response.status_code == 422
    assert _field(response) == "body.sources"
    assert "file name 'promo\\x00.rules'" in response.json()["detail"]


@pytest.mark.parametrize("name", ["ruleset", "actor", "action"])
def test_an_audit_filter_with_a_nul_is_refused_naming_it(published: Api, name: str) -> None:
    # When finance filters the audit log on a text holding a NUL
    response = published.call("finance", "GET", "/v1/audit", params={name: "fr\u0000"})

    # Then the filter is named, not an internal error
    assert response.status_code == 422
    assert _field(response) == f"query.{name}"


def test_an_audit_page_after_the_largest_id_is_refused(published: Api) -> None:
    # When finance pages after an id past the 32-bit ids of the log
    response = published.call("finance", "GET", "/v1/audit", params={"after": 2**31})

    # Then `after` is named with its bound
    assert response.status_code == 422
    assert _field(response) == "query.after"
    assert "2147483647" in response.json()["detail"]


def test_a_basket_for_a_rule_set_name_with_a_nul_is_refused(published: Api) -> None:
    response = published.call("channel", "POST", "/v1/evaluate",
                              json={**boots_basket(), "ruleset": "\u0000"})

    assert response.status_code == 422
    assert _field(response) == "ruleset"
    assert "is not a rule set name" in response.json()["detail"]


def test_the_csv_audit_log_answers_a_problem_when_the_database_fails(published: Api) -> None:
    # Given finance's key known to this process, then the database gone
    assert published.call("finance", "GET", "/v1/audit").status_code == 200
    services = published.client.app.state.services  # type: ignore[attr-defined]
    services.store.db = create_engine("sqlite:////nonexistent/folder/remise.db")

    # When the log is asked as CSV
    response = published.call("finance", "GET", "/v1/audit", headers={"Accept": "text/csv"})

    # Then the failure is a problem, not a 200 with an empty body
    assert response.status_code == 503
    assert response.json()["type"] == "https://remise.dev/problems/store-unavailable"


def test_a_value_the_database_refuses_is_a_422_not_a_500(published: Api) -> None:
    # Given an endpoint that hands a NUL to PostgreSQL unchecked (every real one checks
    # first: this is the net under them)
    store = published.store
    published.client.app.add_api_route(  # type: ignore[attr-defined]
        "/v1/unchecked", lambda: store.latest("fr\u0000"), methods=["GET"])

    # When it is called
    response = published.call(None, "GET", "/v1/unchecked")

    # Then the database's refusal is the request's fault, with its reason
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "the database cannot hold a value of this request: PostgreSQL text fields cannot "
        "contain NUL (0x00) bytes")
