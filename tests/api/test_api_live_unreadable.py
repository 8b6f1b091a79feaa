"""A server that cannot load a rule set's live version (an older release stored it: a
window dated 9999 compiled, then failed to load) says so when a till asks for it, in a
sentence naming the version: a 503 (the till may price offline), never a 500."""

from __future__ import annotations

import pytest

from rules.store import _Content, content_hash
from tests.store.scenario import BOOTS_10, HEADER, boots_basket

from .conftest import Api

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_a_live_version_this_server_cannot_load_is_a_503_naming_it(api: Api) -> None:
    # given rule set fr whose live version 1 this remise cannot read, and that this
    # server (just started, say) never served another version of
    ir_json = '{"not": "an IR"}'
    api.store._append("fr", _Content({"x.rules": ""}, ir_json, content_hash(ir_json), 0),
                      message="unreadable", author="an older release", parent=None,
                      address=None, rollback_of=None)

    # when a till prices a basket on it
    response = api.call("channel", "POST", "/v1/evaluate",
                        json={**boots_basket(), "ruleset": "fr"})

    # then it is told which version cannot be served, and that it is the server's doing
    assert response.status_code == 503
    assert response.json()["type"] == "https://remise.dev/problems/live-version-unreadable"
    assert response.json()["detail"].startswith(
        "version 1 of 'fr' cannot be read by this remise: not a valid remise.ir/1 rule set")


def test_a_rollback_to_a_version_this_remise_cannot_read_is_refused_and_writes_nothing(
        api: Api) -> None:
    # given fr's version 1, which this remise cannot read, fixed by version 2
    ir_json = '{"not": "an IR"}'
    api.store._append("fr", _Content({"x.rules": ""}, ir_json, content_hash(ir_json), 0),
                      message="unreadable", author="an older release", parent=None,
                      address=None, rollback_of=None)
    assert api.call("marketer", "POST", "/v1/rulesets/fr/versions", json={
        "source": HEADER + BOOTS_10, "message": "fix", "parent": 1}).status_code == 201

    # when a marketer rolls back to version 1
    response = api.call("marketer", "POST", "/v1/rulesets/fr/rollback",
                        json={"to": 1, "message": "back", "parent": 2})

    # then it is refused naming version 1, and version 2 stays live everywhere
    assert response.status_code == 422
    assert response.json()["detail"].startswith(
        "version 1 of 'fr' cannot be read by this remise: not a valid remise.ir/1 rule set")
    assert [v.number for v in api.store.versions("fr")] == [1, 2]
