"""An API key changes only together with its audit entry: both commit or neither,
and once: of two revocations at once, one is refused.

The audit entry is made to fail for real: PostgreSQL refuses an address longer than
the audit log's column (200 characters), which nothing else in the change writes.
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

import rules
from api.auth import KeyRevoked, KeyStore, Principal

TOO_LONG = "10.0.0." + "7" * 200  # longer than audit_log.address


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_key_whose_audit_entry_cannot_be_written_is_not_created(
        store: rules.RuleStore) -> None:
    keys = KeyStore(store)

    # when an admin key is created and its audit entry fails
    with pytest.raises(DBAPIError, match="too long"):
        keys.create("intruder", "admin", created_by="root", address=TOO_LONG)

    # then there is no such key, and nothing to account for
    assert keys.list_keys() == []
    assert rules.audit_entries(store.db) == []


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_revocation_whose_audit_entry_cannot_be_written_leaves_the_key_working(
        store: rules.RuleStore) -> None:
    # given a till's key
    keys = KeyStore(store)
    till = keys.create("till-paris", "channel", created_by="root")

    # when it is revoked and the revocation's audit entry fails
    with pytest.raises(DBAPIError, match="too long"):
        keys.revoke("till-paris", revoked_by="root", address=TOO_LONG)

    # then the key is not revoked: it works, and the log shows only its creation
    assert keys.lookup(till) == Principal("till-paris", "channel")
    assert [e.action for e in rules.audit_entries(store.db)] == ["key_create"]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_of_two_revocations_at_once_only_one_succeeds_and_is_audited(
        store: rules.RuleStore) -> None:
    # given a till's key, and another admin's revocation of it under way (row locked,
    # not yet committed)
    keys = KeyStore(store)
    keys.create("till-paris", "channel", created_by="root")
    other = store.db.connect()
    pending = other.begin()
    other.execute(text("UPDATE api_keys SET revoked_at = now() WHERE name = 'till-paris'"))
    other.execute(text(
        "INSERT INTO audit_log (at, actor, action, message, details) VALUES "
        "(now(), 'alice', 'key_revoke', 'revoked channel key ''till-paris''', '{}')"))

    # when this admin revokes it too, while the other one commits
    outcome: list[object] = []
    second = threading.Thread(target=lambda: outcome.append(_revoke(keys, "till-paris")))
    second.start()
    time.sleep(0.5)  # the second revocation is now waiting on the row
    pending.commit()
    other.close()
    second.join(timeout=30)

    # then the second is told the key is revoked already, and the log holds one revocation
    assert outcome == ["the key 'till-paris' is already revoked"]
    revocations = [e for e in rules.audit_entries(store.db) if e.action == "key_revoke"]
    assert [e.actor for e in revocations] == ["alice"]


def _revoke(keys: KeyStore, name: str) -> str:
    try:
        keys.revoke(name, revoked_by="bob")
    except KeyRevoked as refusal:
        return str(refusal)
    return "revoked"
