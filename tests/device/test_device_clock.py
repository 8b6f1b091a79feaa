"""A device whose clock is wrong is told so when it installs a bundle."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

import engine
from rules.bundles import SigningKeys

from .helpers import ISSUED, bundle_bytes


def test_a_bundle_expired_on_download_names_the_device_s_clock(tmp_path: Path) -> None:
    # given a bundle the server issued at 09:00 (valid 72 h), and a till whose clock is
    # four days ahead
    device = engine.DeviceFolder(tmp_path / "till")
    device.trust(SigningKeys(tmp_path / "keys").public_keys())
    clock_ahead = ISSUED + timedelta(days=4)

    # when it installs the bundle just downloaded, it is refused, saying what to check
    with pytest.raises(engine.BundleRefused) as refused:
        device.install(bundle_bytes(tmp_path / "keys"), now=clock_ahead, ruleset="fr",
                       channel="pos", store="paris-01")
    assert refused.value.reason == "expired"
    assert str(refused.value) == (
        "this bundle was valid offline until 2026-11-30T09:00:00+00:00, and this device's "
        "clock reads 2026-12-01T09:20:00+00:00: if the server issued it just now, set the "
        "device's clock")
