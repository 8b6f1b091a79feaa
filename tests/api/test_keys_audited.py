"""An API key changes only together with its audit entry: both commit or neither.

The audit entry is made to fail for real: PostgreSQL refuses an address longer than
the audit log's column (200 characters), which nothing else in the change writes.
"""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError

import rules
from api.auth import KeyStore, Principal

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
