"""REMISE_BUNDLE_VALID_HOURS: a bundle's validity counts from the start of the hour it
is issued in, so a server never hands out a bundle that has already expired."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

import engine
from rules.bundles import BundleIssuer, SigningKeys
from rules.config import Settings
from rules.errors import InvalidRequest

from .helpers import published


@pytest.mark.parametrize("hours", ["0.5", "0.99"])
def test_a_validity_under_an_hour_is_refused_naming_the_setting(hours: str) -> None:
    # under an hour, a bundle issued at 12:00 and downloaded at 12:40 would have expired
    with pytest.raises(InvalidRequest, match=rf"REMISE_BUNDLE_VALID_HOURS='{hours}' must be "
                                             r"at least 1 \(bundles are issued per hour"):
        Settings.from_env({"REMISE_BUNDLE_VALID_HOURS": hours})


def test_an_hour_s_validity_gives_a_bundle_usable_to_the_end_of_its_hour(
    tmp_path: Path,
) -> None:
    # given the shortest validity allowed, and a device downloading at 12:59
    hours = Settings.from_env({"REMISE_BUNDLE_VALID_HOURS": "1"}).bundle_valid_hours
    keys = SigningKeys(tmp_path / "keys")
    at = datetime(2026, 11, 27, 12, 59, tzinfo=UTC)

    data = BundleIssuer(keys, valid_hours=hours).issue("fr", published(), "pos", "paris-01", at)

    # then the bundle installs, valid until 13:00
    bundle = engine.read_bundle(data, keys.public_keys(), now=at)
    assert bundle.header.offline_valid_until == datetime(2026, 11, 27, 13, 0, tzinfo=UTC)
