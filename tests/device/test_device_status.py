"""`remise device status` says of the bundle what `remise device evaluate` will do with it."""

from __future__ import annotations

from pathlib import Path

import pytest
from freezegun import freeze_time

import engine
from rules.bundles import SigningKeys

from .helpers import ISSUED, bundle_bytes, remise


@pytest.fixture
def till(tmp_path: Path) -> Path:
    """A till holding fr version 3, issued 2026-11-27 09:00 UTC, valid until 11-30 09:00."""
    device = engine.DeviceFolder(tmp_path / "till")
    device.trust(SigningKeys(tmp_path / "keys").public_keys())
    device.install(bundle_bytes(tmp_path / "keys"), now=ISSUED, ruleset="fr", channel="pos",
                   store="paris-01")
    return device.folder


def _bundle_line(till: Path) -> str:
    code, output = remise("device", "status", "--dir", str(till))
    assert code == 0, output
    return output.splitlines()[1]


@freeze_time("2026-11-28T12:00:00Z")
def test_a_bundle_within_its_validity_is_valid(till: Path) -> None:
    assert "valid offline until 2026-11-30T09:00:00+00:00 (valid);" in _bundle_line(till)


@freeze_time("2026-11-30T09:00:00Z")
def test_a_bundle_past_its_validity_is_expired(till: Path) -> None:
    assert "(EXPIRED);" in _bundle_line(till)


@freeze_time("2026-11-27T07:30:00Z")
def test_a_clock_set_back_before_the_bundle_s_issue_is_named(till: Path) -> None:
    # given the clock set back to 07:30 after the bundle of 09:00 was installed: evaluate
    # prices as if it had expired (or refuses), so status must not call it valid
    assert ("(CLOCK BEHIND: this device's clock (2026-11-27T07:30:00+00:00) reads before "
            "the bundle was issued (2026-11-27T09:00:00+00:00), so it is priced as "
            "expired: set the clock);") in _bundle_line(till)


@freeze_time("2026-11-27T08:30:00Z")
def test_a_clock_less_than_an_hour_behind_the_issue_is_valid(till: Path) -> None:
    # the server issues at the start of its hour; a till's clock may drift by minutes
    assert "(valid);" in _bundle_line(till)
