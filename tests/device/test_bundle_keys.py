"""`remise bundle-keys`: rotating the key that signs bundles without stopping a till.

Add a standby key (listed, not signing), let devices trust it, activate it, retire
the old one; every step is in the audit log."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import engine
import rules
from rules.bundles import BundleIssuer, SigningKeys, first_key_audited

from .helpers import ISSUED, one_line, published, remise


@pytest.fixture
def keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SigningKeys:
    """The server's key folder (the data folder's bundle-keys), with its first key."""
    monkeypatch.setenv("REMISE_DATA_DIR", str(tmp_path / "server"))
    monkeypatch.setenv("LOGNAME", "ops")  # the login the audit log names
    folder = SigningKeys(tmp_path / "server" / "bundle-keys")
    folder.active()
    return folder


def _add(keys: SigningKeys) -> str:
    code, output = remise("bundle-keys", "add")
    assert code == 0, output
    return output.split()[3]  # "added standby key <id>  sha256:<fingerprint>"


def _signer(keys: SigningKeys) -> str:
    """The id of the key that signs the next bundle a server issues."""
    data = BundleIssuer(keys).issue("default", published(), "pos", None, ISSUED)
    return engine.read_bundle(data, keys.public_keys(), now=ISSUED).key_id


def test_a_standby_key_is_listed_with_its_fingerprint_but_does_not_sign(
        keys: SigningKeys) -> None:
    # given the server's first key
    (first,) = keys.public_keys()

    # when an operator adds a standby key
    added = _add(keys)

    # then both are listed, with their whole SHA-256, and the first one still signs
    public = keys.public_keys()
    code, output = remise("bundle-keys", "list")
    assert code == 0
    assert sorted(output.splitlines()) == sorted([
        f"{first}  active   sha256:{hashlib.sha256(public[first]).hexdigest()}",
        f"{added}  standby  sha256:{hashlib.sha256(public[added]).hexdigest()}"])
    assert _signer(keys) == first


def test_an_activated_key_signs_the_next_bundle(keys: SigningKeys) -> None:
    # given a standby key beside the first one
    (first,) = keys.public_keys()
    added = _add(keys)

    # when the operator activates it
    code, output = remise("bundle-keys", "activate", added)

    # then it signs from the next bundle on
    assert (code, output) == (0, f"active key: {added} (was {first})\n")
    assert _signer(keys) == added


def test_a_retired_key_is_no_longer_listed(keys: SigningKeys) -> None:
    # given the first key replaced by a new active one
    (first,) = keys.public_keys()
    added = _add(keys)
    remise("bundle-keys", "activate", added)

    # when the old one is retired
    code, output = remise("bundle-keys", "retire", first)

    # then only the new key is left
    assert (code, output) == (0, f"retired key {first}\n")
    assert list(keys.public_keys()) == [added]


def test_the_active_key_cannot_be_retired(keys: SigningKeys) -> None:
    # given the only key, which signs
    (first,) = keys.public_keys()

    # when the operator tries to retire it
    code, output = remise("bundle-keys", "retire", first)

    # then it is refused and stays
    assert code == 3
    assert one_line(output) == (f"error: bundle key {first} is the active one: activate "
                                "another before retiring it")
    assert list(keys.public_keys()) == [first]


@pytest.mark.parametrize("key_id", ["0123456789abcdef", "../../etc/passwd", "active"])
def test_a_key_not_in_the_folder_cannot_be_activated(keys: SigningKeys, key_id: str) -> None:
    # given the server's only key
    (first,) = keys.public_keys()

    # when an id that names no key of the folder is activated
    code, output = remise("bundle-keys", "activate", key_id)

    # then it is refused, naming the keys there are, and the active key is unchanged
    assert code == 3
    assert one_line(output).endswith(f"(there are: {first})")
    assert keys.active_id() == first


def test_every_rotation_step_is_in_the_audit_log(keys: SigningKeys, tmp_path: Path) -> None:
    # given a rotation: add, activate, retire the old key
    (first,) = keys.public_keys()
    added = _add(keys)
    remise("bundle-keys", "activate", added)
    remise("bundle-keys", "retire", first)
    remise("bundle-keys", "retire", added)  # refused: written nowhere

    # when finance reads the audit log
    store = rules.open_store(rules.Settings.from_env())
    entries = rules.audit_entries(store.db)
    store.db.dispose()

    # then each step is there once, by the operator, naming the keys
    fingerprint = hashlib.sha256(keys.public_keys()[added]).hexdigest()
    assert [(e.actor, e.action, e.details) for e in entries] == [
        ("ops", "bundle_key_add", {"key_id": added, "sha256": fingerprint}),
        ("ops", "bundle_key_activate", {"key_id": added, "previous": first}),
        ("ops", "bundle_key_retire", {"key_id": first})]


def test_the_key_made_on_first_use_is_in_the_audit_log_once(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    # given a new server, no signing key yet
    monkeypatch.setenv("REMISE_DATA_DIR", str(tmp_path / "server"))
    monkeypatch.setenv("LOGNAME", "ops")

    # when an operator lists the keys (which makes the first, as a first bundle would),
    # twice
    remise("bundle-keys", "list")
    remise("bundle-keys", "list")

    # then the key devices will trust is accounted for, once
    store = rules.open_store(rules.Settings.from_env())
    entries = rules.audit_entries(store.db)
    store.db.dispose()
    (key_id, public_key), = SigningKeys(tmp_path / "server" / "bundle-keys").public_keys().items()
    assert [(e.actor, e.action, e.message, e.details) for e in entries] == [
        ("ops", "bundle_key_add", f"bundle signing key {key_id} made on first use, active",
         {"key_id": key_id, "sha256": hashlib.sha256(public_key).hexdigest()})]


def test_a_servers_first_bundle_key_is_audited_as_the_server(tmp_path: Path) -> None:
    # given a store and a key folder with no key, as a server's services hold them
    store = rules.open_store(rules.Settings.from_env({"REMISE_DATA_DIR": str(tmp_path)}))
    keys = SigningKeys(tmp_path / "bundle-keys", first_key_audited(store, "remise serve"))

    # when the first bundle is signed
    BundleIssuer(keys).issue("default", published(), "pos", None, ISSUED)

    # then the server is named as the one that made the key
    assert [(e.actor, e.action) for e in rules.audit_entries(store.db)] == [
        ("remise serve", "bundle_key_add")]
    store.db.dispose()
