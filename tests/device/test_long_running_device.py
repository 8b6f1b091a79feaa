"""A device that runs for days (a till's or a kiosk's own process holding one
``engine.DeviceFolder``) sees what other processes change in its folder: a key
untrusted, a state file deleted, a new bundle installed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

import engine

from .helpers import basket, bundle_bytes, till_holding_a_bundle


@pytest.fixture
def running(tmp_path: Path) -> engine.DeviceFolder:
    """A till's process that has priced a basket already (its bundle is loaded)."""
    device = engine.DeviceFolder(till_holding_a_bundle(tmp_path / "till", tmp_path / "keys"))
    assert device.evaluate(basket(), now=datetime.now(UTC))["total"] == "124.00"
    return device


def test_a_key_untrusted_by_another_process_stops_the_running_till(
    running: engine.DeviceFolder,
) -> None:
    # when `remise device untrust` (another process) drops the key that signed its bundle
    engine.DeviceFolder(running.folder).untrust(list(running.trusted_keys()))

    # then the running till refuses the bundle, as a till started now would
    with pytest.raises(engine.BundleRefused, match="which this device does not trust"):
        running.evaluate(basket(), now=datetime.now(UTC))


def test_a_state_file_deleted_under_the_running_till_stops_it(
    running: engine.DeviceFolder,
) -> None:
    # when state.json, which records the bundle installed, is deleted
    (running.folder / "state.json").unlink()

    with pytest.raises(engine.DeviceError, match=r"\(state.json records none\): run"):
        running.evaluate(basket(), now=datetime.now(UTC))


def test_a_bundle_installed_by_another_process_prices_the_next_basket(
    running: engine.DeviceFolder, tmp_path: Path,
) -> None:
    # when `remise device sync` (another process) installs version 4
    now = datetime.now(UTC)
    engine.DeviceFolder(running.folder).install(
        bundle_bytes(tmp_path / "keys", version=4, now=now), now=now, ruleset="fr",
        channel="pos", store="paris-01")

    assert running.evaluate(basket(), now=now)["version"] == 4
