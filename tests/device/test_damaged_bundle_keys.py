"""A signing keys' folder damaged by hand (a file cut short, renamed, a stray file beside
the keys) is named, file and reason, by `remise bundle-keys` (tests/api/test_api_bundles.py:
a device asking the server gets a 503, not a 500)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rules.bundles import SigningKeys, SigningKeyUnusable

from .helpers import one_line, remise


@pytest.fixture
def keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SigningKeys:
    """The server's key folder (the data folder's bundle-keys), with its first key."""
    monkeypatch.setenv("REMISE_DATA_DIR", str(tmp_path / "server"))
    folder = SigningKeys(tmp_path / "server" / "bundle-keys")
    folder.active()
    return folder


def _standby(keys: SigningKeys) -> Path:
    """A standby key's file."""
    return keys.folder / f"{keys.generate(activate=False)}.pem"


def test_a_key_file_cut_short_is_named_by_bundle_keys_list(keys: SigningKeys) -> None:
    damaged = _standby(keys)
    damaged.write_bytes(damaged.read_bytes()[:40])

    code, output = remise("bundle-keys", "list")

    assert code == 3
    assert one_line(output) == (f"error: {damaged} is not an unencrypted private key in PEM: "
                                "restore it from the secret store")


def test_a_damaged_key_is_not_activated(keys: SigningKeys) -> None:
    active = keys.active_id()
    damaged = _standby(keys)
    damaged.write_text("garbage")

    code, output = remise("bundle-keys", "activate", damaged.stem)

    assert code == 3 and f"error: {damaged} is not an unencrypted" in one_line(output)
    assert keys.active_id() == active


def test_a_key_file_renamed_is_refused_naming_the_key_it_holds(keys: SigningKeys) -> None:
    # given a standby key's file renamed to another id: a bundle it signed would name
    # that id, and no device could verify it
    held = _standby(keys)
    renamed = held.rename(keys.folder / "0123456789abcdef.pem")

    with pytest.raises(SigningKeyUnusable) as refused:
        keys.public_keys()
    assert str(refused.value) == (f"{renamed} holds key {held.stem}, not 0123456789abcdef: "
                                  "a key file renamed or copied over another")


def test_a_file_that_is_not_a_key_s_is_not_listed(keys: SigningKeys) -> None:
    # given the server's TLS certificate put in the keys' folder
    (keys.folder / "server.pem").write_text("-----BEGIN CERTIFICATE-----\n")

    assert list(keys.public_keys()) == [keys.active_id()]


def test_an_active_file_naming_no_key_is_refused_naming_it(keys: SigningKeys) -> None:
    (keys.folder / "active").write_text("../../etc/key\n")

    with pytest.raises(SigningKeyUnusable, match=r"active does not name a key \('../../etc/key'\)"):
        keys.active()
