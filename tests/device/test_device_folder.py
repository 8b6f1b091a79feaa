"""The device folder: install only what verifies, keep the last good bundle, price
offline, and follow the expiry policy."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

import engine
from rules.bundles import SigningKeys

from .helpers import ISSUED, basket, bundle_bytes, issuer, published


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    return tmp_path / "keys"


@pytest.fixture
def device(tmp_path: Path, keys: Path) -> engine.DeviceFolder:
    """A till in Paris that trusts the server's key and holds version 3."""
    folder = engine.DeviceFolder(tmp_path / "till")
    folder.trust(SigningKeys(keys).public_keys())
    folder.install(bundle_bytes(keys), now=ISSUED, ruleset="fr", channel="pos",
                   store="paris-01")
    return folder


def _install(device: engine.DeviceFolder, data: bytes) -> None:
    device.install(data, now=ISSUED, ruleset="fr", channel="pos", store="paris-01")


def test_offline_prices_are_the_engine_s_own(device: engine.DeviceFolder) -> None:
    response = device.evaluate(basket(), now=ISSUED)

    # boots 10% of 100.00; the hat 20% of 30.00 inside the flash (11:00 Paris)
    assert (response["version"], response["discount"], response["total"]) == (3, "16.00",
                                                                              "124.00")
    expected = engine.Evaluator(published()).evaluate(engine.parse_request(basket()))
    assert engine.dumps(response) == engine.dumps(expected)


def test_a_coupon_for_another_channel_gets_the_server_s_reason(
    device: engine.DeviceFolder,
) -> None:
    response = device.evaluate(basket(coupons=["WEB5"]), now=ISSUED)

    assert response["coupons"] == [{"code": "WEB5", "status": "rejected",
                                    "reason": "channel: only web"}]


def test_a_newer_version_replaces_the_bundle(device: engine.DeviceFolder,
                                             keys: Path) -> None:
    _install(device, bundle_bytes(keys, version=4))

    assert device.evaluate(basket(), now=ISSUED)["version"] == 4


@pytest.mark.parametrize("bad", ["flipped byte", "unknown key", "expired", "older version",
                                 "another store", "not a bundle"])
def test_a_refused_bundle_leaves_the_last_good_one_in_use(
    device: engine.DeviceFolder, keys: Path, tmp_path: Path, bad: str
) -> None:
    good = (device.folder / "bundle.rbundle").read_bytes()
    data = {
        "flipped byte": good.replace(b'"percent":"10"', b'"percent":"90"'),
        "unknown key": bundle_bytes(tmp_path / "rogue", version=9),
        "expired": issuer(keys).issue("fr", published(9), "pos", "paris-01",
                                      ISSUED - timedelta(hours=80)),
        "older version": bundle_bytes(keys, version=2),
        "another store": bundle_bytes(keys, version=9, store="lyon-01"),
        "not a bundle": b"<html>proxy error</html>",
    }[bad]

    with pytest.raises(engine.BundleRefused):
        _install(device, data)

    assert (device.folder / "bundle.rbundle").read_bytes() == good
    assert device.evaluate(basket(), now=ISSUED)["version"] == 3


def test_an_older_version_stays_refused_after_the_bundle_file_is_lost(
    device: engine.DeviceFolder, keys: Path
) -> None:
    (device.folder / "bundle.rbundle").unlink()

    with pytest.raises(engine.BundleRefused, match="older than version 3"):
        _install(device, bundle_bytes(keys, version=2))


def test_a_crash_while_writing_keeps_the_last_good_bundle(
    device: engine.DeviceFolder, keys: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = (device.folder / "bundle.rbundle").read_bytes()

    def power_cut(_descriptor: int) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(os, "fsync", power_cut)
    with pytest.raises(OSError, match="power cut"):
        _install(device, bundle_bytes(keys, version=4))
    monkeypatch.undo()

    assert (device.folder / "bundle.rbundle").read_bytes() == good
    assert sorted(p.name for p in device.folder.iterdir()) == [
        "bundle.rbundle", "state.json", "trusted-keys.json"]


def test_a_device_without_trusted_keys_refuses_to_install(tmp_path: Path,
                                                          keys: Path) -> None:
    with pytest.raises(engine.DeviceError, match="trusts no signing key"):
        engine.DeviceFolder(tmp_path / "new").install(
            bundle_bytes(keys), now=ISSUED, ruleset="fr", channel="pos", store="paris-01")


def test_a_basket_from_another_channel_is_refused(device: engine.DeviceFolder) -> None:
    with pytest.raises(engine.DeviceError, match="prices channel 'pos' in store 'paris-01'"):
        device.evaluate(basket(channel="web", store=None), now=ISSUED)


# --- once the bundle has expired ------------------------------------------------------

AFTER_EXPIRY = ISSUED + timedelta(hours=73)


def test_expired_mark_stale_prices_and_says_so(device: engine.DeviceFolder) -> None:
    response = device.evaluate(basket(), now=AFTER_EXPIRY)

    assert (response["discount"], response["stale"]) == ("16.00", True)
    assert response["stale_since"] == "2026-11-30T09:00:00+00:00"


def test_expired_base_prices_applies_no_rule(device: engine.DeviceFolder) -> None:
    response = device.evaluate(basket(), now=AFTER_EXPIRY,
                               when_expired=engine.WhenExpired.BASE_PRICES)

    assert (response["discount"], response["total"], response["stale"]) == (
        "0.00", "140.00", True)
    assert response["applied"] == []


def test_expired_refuse_refuses(device: engine.DeviceFolder) -> None:
    with pytest.raises(engine.DeviceError, match="refuses to price until it syncs"):
        device.evaluate(basket(), now=AFTER_EXPIRY, when_expired=engine.WhenExpired.REFUSE)
