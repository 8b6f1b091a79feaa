"""GET /v1/audit's filters: each one value, so a report never silently leaves entries out."""

from __future__ import annotations

from datetime import datetime

import pytest

from .conftest import Api

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def published_and_rolled_back(fr_at_version_2: Api) -> Api:
    """fr: version 1 published, 2 published, 3 a rollback to 1."""
    response = fr_at_version_2.call("marketer", "POST", "/v1/rulesets/fr/rollback",
                                    json={"to": 1, "message": "back"})
    assert response.status_code == 201
    return fr_at_version_2


@pytest.mark.parametrize("accept", ["application/json", "text/csv"])
def test_a_filter_given_twice_is_refused_naming_it(published_and_rolled_back: Api,
                                                   accept: str) -> None:
    # Given two publishes and a rollback in the log
    # When finance asks for publishes and rollbacks by giving `action` twice
    response = published_and_rolled_back.call(
        "finance", "GET", "/v1/audit?action=publish&action=rollback",
        headers={"Accept": accept})

    # Then it is refused naming the filter, rather than answering the rollback alone
    assert response.status_code == 422
    assert response.json()["errors"] == [{
        "field": "query.action",
        "message": "given 2 times: each parameter is read once (ask once per value)"}]


def test_an_empty_filter_is_refused_rather_than_matching_nothing(
        published_and_rolled_back: Api) -> None:
    # When a form sends an empty rule set filter
    response = published_and_rolled_back.call("finance", "GET", "/v1/audit?ruleset=")

    # Then it is refused naming it (no entry has an empty rule set)
    assert response.status_code == 422
    assert response.json()["errors"] == [{
        "field": "query.ruleset",
        "message": "an empty filter matches no entry: leave it out to see every entry"}]


@pytest.mark.parametrize("until", ["2026-11-27T09:00:00Z", "2026-11-27T10:00:00%2B01:00"])
def test_an_until_not_after_since_is_refused_rather_than_matching_nothing(
        published_and_rolled_back: Api, until: str) -> None:
    # When finance swaps the bounds, or gives the same instant twice (09:00 UTC both)
    response = published_and_rolled_back.call(
        "finance", "GET", f"/v1/audit?since=2026-11-27T09:00:00Z&until={until}")

    # Then it is refused naming `until`: since is inclusive, until exclusive, so no entry
    # could match
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["query.until"]
    assert response.json()["errors"][0]["message"].endswith(
        "is not after since '2026-11-27T09:00:00Z': no entry can match")


@pytest.mark.parametrize(("path", "field"), [
    ("/v1/audit?action=publish&rulset=fr", "query.rulset"),
    ("/v1/rulesets/fr/live?att=2026-11-27T09:00:00Z", "query.att"),
    ("/v1/rulesets/fr/diff?from=1&to=3&ruleset=be", "query.ruleset"),
])
def test_a_query_parameter_the_endpoint_does_not_read_is_refused(
        published_and_rolled_back: Api, path: str, field: str) -> None:
    # When finance misspells a filter, or names one the endpoint does not have
    response = published_and_rolled_back.call("finance", "GET", path)

    # Then it is refused naming it, rather than answered as if it were not there (every
    # rule set's publishes; the version live now)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_an_action_the_log_never_holds_is_refused_naming_those_it_does(
        published_and_rolled_back: Api) -> None:
    # When finance misspells the action it filters on
    response = published_and_rolled_back.call("finance", "GET", "/v1/audit?action=publsh")

    # Then it is refused with the actions the log holds, rather than an empty log
    assert response.status_code == 422
    assert response.json()["errors"] == [{
        "field": "query.action",
        "message": "'publsh' is not an action of the audit log: publish, rollback, "
                   "key_create, key_revoke, bundle_key_add, bundle_key_activate, "
                   "bundle_key_retire"}]


def test_every_action_written_is_one_a_filter_accepts(published_and_rolled_back: Api) -> None:
    # Given a key created and revoked besides the publishes and the rollback
    api = published_and_rolled_back
    assert api.call("admin", "POST", "/v1/keys",
                    json={"name": "kiosk", "role": "channel"}).status_code == 201
    assert api.call("admin", "DELETE", "/v1/keys/kiosk").status_code == 204

    # When finance filters on each action the log holds
    actions = {e["action"] for e in api.call("finance", "GET", "/v1/audit").json()["entries"]}

    # Then each is accepted as a filter
    assert actions == {"publish", "rollback", "key_create", "key_revoke"}
    for action in actions:
        assert api.call("finance", "GET", f"/v1/audit?action={action}").status_code == 200


def test_a_rule_set_that_does_not_exist_is_refused_naming_those_that_do(
        published_and_rolled_back: Api) -> None:
    # When finance misspells the rule set it filters on
    response = published_and_rolled_back.call("finance", "GET", "/v1/audit?ruleset=fr-web")

    # Then it is refused with the rule sets there are, rather than an empty log
    assert response.status_code == 422
    assert response.json()["errors"] == [{
        "field": "query.ruleset", "message": "no rule set named 'fr-web'; rule sets: fr"}]


def _version_2_written_finer(api: Api, tenth_of_microsecond: int) -> str:
    """The instant version 2 of fr was published, written with seven digits (as .NET
    writes instants) and the seventh given."""
    entries = api.call("finance", "GET", "/v1/audit?ruleset=fr").json()["entries"]
    at = datetime.fromisoformat(next(e["at"] for e in entries if e["version"] == 2))
    return at.strftime("%Y-%m-%dT%H:%M:%S.%f") + f"{tenth_of_microsecond}Z"


def test_a_since_a_tenth_of_a_microsecond_after_an_entry_leaves_it_out(
        published_and_rolled_back: Api) -> None:
    # Given version 2's publish at T, and finance's since a tenth of a microsecond later
    since = _version_2_written_finer(published_and_rolled_back, 1)

    # When finance asks for what happened since then
    response = published_and_rolled_back.call(
        "finance", "GET", "/v1/audit", params={"ruleset": "fr", "since": since})

    # Then version 2's publish, before that instant, is not in the answer
    assert [e["version"] for e in response.json()["entries"]] == [3]


def test_an_until_a_tenth_of_a_microsecond_after_an_entry_keeps_it(
        published_and_rolled_back: Api) -> None:
    # Given version 2's publish at T, and finance's until a tenth of a microsecond later
    until = _version_2_written_finer(published_and_rolled_back, 1)

    # When finance asks for what happened before then
    response = published_and_rolled_back.call(
        "finance", "GET", "/v1/audit", params={"ruleset": "fr", "until": until})

    # Then version 2's publish, before that instant, is in the answer
    assert [e["version"] for e in response.json()["entries"]] == [1, 2]
