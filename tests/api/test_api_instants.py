"""Instants at the edges: read as a basket's `at` everywhere, and never a 500."""

from __future__ import annotations

from typing import Any

import pytest

from tests.store.scenario import BOOTS_10, HEADER, boots_basket

from .conftest import Api

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

OUT_OF_RANGE = "is out of range: instants run from 1970-01-01 to 2999-12-31 (UTC)"


@pytest.fixture
def published(api: Api) -> Api:
    api.call("admin", "POST", "/v1/rulesets/fr/versions",
             json={"source": HEADER + BOOTS_10, "message": "v1", "parent": 0})
    return api


def _field_and_detail(response: Any) -> tuple[int, str, str]:
    problem = response.json()
    return response.status_code, problem["errors"][0]["field"], problem["detail"]


@pytest.mark.parametrize("at", ["9999-12-31T22:59:59Z", "0001-01-01T00:30:00+01:00"])
def test_a_basket_stamped_at_the_ends_of_the_calendar_is_refused(published: Api,
                                                                 at: str) -> None:
    response = published.call("channel", "POST", "/v1/evaluate",
                              json={**boots_basket(), "ruleset": "fr", "at": at})

    status, field, detail = _field_and_detail(response)
    assert (status, field) == (422, "at") and OUT_OF_RANGE in detail


@pytest.mark.parametrize(("query", "field"), [
    ("/v1/rulesets/fr/live?at=0001-01-01T00:30:00%2B01:00", "query.at"),
    ("/v1/audit?since=0001-01-01T00:30:00%2B01:00", "query.since"),
    ("/v1/audit?until=9999-12-31T23:59:59-01:00", "query.until"),
])
def test_query_instants_out_of_range_are_refused_with_their_field(published: Api, query: str,
                                                                  field: str) -> None:
    response = published.call("finance", "GET", query, headers={"Accept": "text/csv"})

    status, named, detail = _field_and_detail(response)
    assert (status, named) == (422, field) and OUT_OF_RANGE in detail


@pytest.mark.parametrize("at", ["1700000000", "2026-W48-2T10:00:00Z"])
def test_live_at_reads_instants_as_a_basket_does(published: Api, at: str) -> None:
    # A Unix timestamp was read as one, a week date refused; a basket refuses both
    basket = published.call("channel", "POST", "/v1/evaluate",
                            json={**boots_basket(), "ruleset": "fr", "at": at})
    live = published.call("finance", "GET", f"/v1/rulesets/fr/live?at={at}")

    assert _field_and_detail(basket)[:2] == (422, "at")
    assert _field_and_detail(live)[:2] == (422, "query.at")


def test_live_at_an_instant_in_range_answers_the_version(published: Api) -> None:
    response = published.call("finance", "GET",
                              "/v1/rulesets/fr/live?at=2999-12-31T23:00:00Z")

    assert response.status_code == 200
    assert response.json()["version"]["number"] == 1


def test_a_window_dated_9999_is_refused_at_publish_and_nothing_is_stored(published: Api
                                                                         ) -> None:
    # Given a source that once validated, was stored, then failed to load (a 500)
    source = HEADER + ('rule d "D" {\n    valid every day 09:00-21:00 from 9999-12-01 to '
                       '9999-12-31\n    discount 10% on items\n}\n')

    # When a marketer validates it, then publishes it
    validated = published.call("marketer", "POST", "/v1/rulesets/fr/validate",
                               json={"source": source})
    publish = published.call("marketer", "POST", "/v1/rulesets/fr/versions",
                             json={"source": source, "message": "for ever", "parent": 1})

    # Then both say where, and fr stays on version 1
    assert validated.json()["valid"] is False
    assert validated.json()["diagnostics"][0]["message"] == "9999-12-01 is out of range"
    assert publish.status_code == 422
    assert publish.json()["diagnostics"][0]["line"] == HEADER.count("\n") + 2
    versions = published.call("finance", "GET", "/v1/rulesets/fr/versions").json()
    assert [version["number"] for version in versions] == [1]


@pytest.mark.parametrize(("query", "field"), [
    ("/v1/rulesets/fr/live?at=2026-11-27T10:30:00+01:00", "query.at"),
    ("/v1/audit?since=2026-11-27T10:30:00+01:00", "query.since"),
])
def test_a_plus_typed_in_a_query_string_is_explained(published: Api, query: str,
                                                     field: str) -> None:
    # Given an offset typed with its '+' as is: a URL's query reads it as a space
    # When finance sends it
    response = published.call("finance", "GET", query)

    # Then the refusal says why, and how to write it, rather than quoting a space back
    status, named, detail = _field_and_detail(response)
    assert (status, named) == (422, field)
    assert detail.endswith("a '+' in a query string reads as a space: write it %2B "
                           "(2026-11-27T10:30:00%2B01:00)")


@pytest.mark.parametrize("at", ["2026-11-23t13:10:00z", "2026-11-23T13:10:00z",
                                "2026-11-23t14:10:00+01:00"])
def test_an_instant_with_a_lower_case_t_or_z_is_read_as_rfc_3339_allows(
    published: Api, at: str
) -> None:
    # Given a basket whose `at` writes the date-time separator or UTC as RFC 3339 §5.6
    # allows, and the schema's `format: date-time` accepts: in lower case
    basket = {**boots_basket(), "ruleset": "fr", "at": at}

    # When it is priced, as with the upper case a basket usually carries
    response = published.call("channel", "POST", "/v1/evaluate", json=basket)

    # Then it is the same instant, 13:10 UTC, not a 422
    assert response.status_code == 200, response.text
    assert response.json()["at"] in ("2026-11-23T13:10:00+00:00", "2026-11-23T14:10:00+01:00")
