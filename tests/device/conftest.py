"""Fixtures of the device tests: the server's key folder, and a till holding a bundle."""

from __future__ import annotations

from pathlib import Path

import pytest

import engine
from rules.bundles import SigningKeys

from .helpers import ISSUED, bundle_bytes


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    """The server's signing key folder (its first key made on first use)."""
    return tmp_path / "keys"


@pytest.fixture
def device(tmp_path: Path, keys: Path) -> engine.DeviceFolder:
    """A till in Paris that trusts the server's key and holds version 3."""
    folder = engine.DeviceFolder(tmp_path / "till")
    folder.trust(SigningKeys(keys).public_keys())
    folder.install(bundle_bytes(keys), now=ISSUED, ruleset="fr", channel="pos",
                   store="paris-01")
    return folder
