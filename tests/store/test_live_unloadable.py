"""A stored version that cannot be loaded holds back its own rule set only."""

from __future__ import annotations

import logging

import pytest

from rules import LiveCache, RuleStore
from rules.store import _Content, content_hash

from .scenario import BOOTS_10, BOOTS_20, sources


def _store_unloadable_version(store: RuleStore, ruleset: str) -> None:
    """A version whose IR this engine refuses, as an older release could have stored
    (one did: a window dated 9999 compiled, then failed to load). Through the store's
    own append, since versions are append-only and publish only stores what compiles."""
    ir_json = '{"not": "an IR"}'
    store._append(ruleset, _Content({"x.rules": ""}, ir_json, content_hash(ir_json), 0),
                  message="unloadable", author="an older release", parent=None,
                  address=None, rollback_of=None)


def test_refresh_all_goes_past_a_rule_set_whose_new_version_cannot_load(
    store: RuleStore, caplog: pytest.LogCaptureFixture
) -> None:
    # Given two rule sets live in a process, "be" sorting before "fr"
    store.publish("be", sources(BOOTS_10), message="be 1", author="ana")
    store.publish("fr", sources(BOOTS_10), message="fr 1", author="ana")
    cache = LiveCache(store)
    assert cache.refresh_all() == 2

    # When each gets a new version and be's cannot be loaded
    _store_unloadable_version(store, "be")
    store.publish("fr", sources(BOOTS_20), message="fr 2", author="ana")
    with caplog.at_level(logging.ERROR, logger="rules.live"):
        changed = cache.refresh_all()
        cache.refresh_all()  # polled again: retried, not logged again

    # Then fr goes live on its new version, be stays on the one it had, and the
    # failure is logged once
    assert changed == 1
    assert {name: entry.version for name, entry in cache.loaded().items()} == {"be": 1, "fr": 2}
    failures = [r for r in caplog.records if "cannot be loaded" in r.getMessage()]
    assert [r.getMessage() for r in failures] == [
        "live: be version 2 cannot be loaded; still serving the version before it"]
