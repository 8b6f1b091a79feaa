"""A stored version this remise cannot read (an older release stored one: a window
dated 9999 compiled, then failed to load) is refused in a sentence, never a 500."""

from __future__ import annotations

import pytest

from rules.store import _Content, content_hash
from tests.store.scenario import BOOTS_10, HEADER, boots_basket

from .conftest import Api

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
UNREADABLE = ("version 2 of 'fr' cannot be read by this remise: not a valid remise.ir/1 "
              "rule set")


@pytest.fixture
def unreadable_2(api: Api) -> Api:
    """fr: version 1 (boots -10%), then version 2 whose IR this engine refuses, stored
    through the store's own append (publish only stores what compiles)."""
    response = api.call("marketer", "POST", "/v1/rulesets/fr/versions",
                        json={"source": HEADER + BOOTS_10, "message": "v1", "parent": 0})
    assert response.status_code == 201
    ir_json = '{"not": "an IR"}'
    api.store._append("fr", _Content({"x.rules": ""}, ir_json, content_hash(ir_json), 0),
                      message="unreadable", author="an older release", parent=None,
                      address=None, rollback_of=None)
    return api


def test_a_diff_with_an_unreadable_version_says_which_one(unreadable_2: Api) -> None:
    # When finance compares version 1 with the unreadable version 2
    response = unreadable_2.call("finance", "GET", "/v1/rulesets/fr/diff",
                                 params={"from": 1, "to": 2})

    # Then the answer names the version that cannot be read
    assert response.status_code == 422
    assert response.json()["type"] == "https://remise.dev/problems/version-unreadable"
    assert response.json()["detail"].startswith(UNREADABLE)


def test_a_replay_on_an_unreadable_version_says_which_one(unreadable_2: Api) -> None:
    # When finance replays a basket on version 2
    response = unreadable_2.call("finance", "POST", "/v1/evaluate",
                                 json={**boots_basket(), "ruleset": "fr", "version": 2})

    # Then the answer names the version that cannot be read
    assert response.status_code == 422
    assert response.json()["type"] == "https://remise.dev/problems/version-unreadable"
    assert response.json()["detail"].startswith(UNREADABLE)
