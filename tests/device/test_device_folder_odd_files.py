"""Odd files put in a device folder in place of its own (a named pipe, a link to a
device, a file of gigabytes): the till refuses them in one sentence at once and a sync
replaces the bundle, where it waited for ever on a pipe or read /dev/zero until its
memory ran out."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

import engine
import engine.device

from .helpers import ISSUED, basket, bundle_bytes


def _within_seconds(path: Path, work: Callable[[], object]) -> Exception | None:
    """What ``work`` raised (None: nothing); fails if it was still reading ``path`` (a
    named pipe) after 5 seconds, after releasing it (a writer that closes at once)."""
    raised: list[Exception] = []

    def run() -> None:
        try:
            work()
        except Exception as error:
            raised.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(5)
    if thread.is_alive():
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))  # the reader gets its EOF
        thread.join(5)
        pytest.fail(f"still reading {path} after 5 s: a pipe is waited on for ever")
    return raised[0] if raised else None


def _pipe_in_place_of(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def test_a_pipe_in_place_of_the_bundle_is_refused_at_once(device: engine.DeviceFolder) -> None:
    # Given the bundle file replaced by a named pipe nobody writes to
    path = device.folder / "bundle.rbundle"
    _pipe_in_place_of(path)

    # When a basket is priced, then the bundle is refused saying what it is
    refused = _within_seconds(
        path, lambda: engine.DeviceFolder(device.folder).evaluate(basket(), now=ISSUED))
    assert isinstance(refused, engine.BundleRefused) and refused.reason == "malformed"
    assert str(refused) == (f"{path} is not a bundle (not a regular file): run `remise "
                            "device sync` to replace it")


def test_a_sync_replaces_a_pipe_in_place_of_the_bundle(device: engine.DeviceFolder,
                                                       keys: Path) -> None:
    # Given the bundle file replaced by a named pipe
    path = device.folder / "bundle.rbundle"
    _pipe_in_place_of(path)

    # When the server's bundle is installed, then the till prices again
    assert _within_seconds(path, lambda: device.install(
        bundle_bytes(keys, version=4), now=ISSUED, ruleset="fr", channel="pos",
        store="paris-01")) is None
    assert engine.DeviceFolder(device.folder).evaluate(basket(), now=ISSUED)["version"] == 4


def test_a_pipe_in_place_of_the_trusted_keys_is_refused_at_once(
        device: engine.DeviceFolder) -> None:
    path = device.folder / "trusted-keys.json"
    _pipe_in_place_of(path)

    refused = _within_seconds(path, device.trusted_keys)
    assert isinstance(refused, engine.DeviceError)
    assert str(refused).startswith(f"{path} is not a valid trusted-keys file (not a "
                                   "regular file): restore it")


def test_a_bundle_file_past_the_size_a_device_reads_is_refused_unread(
        device: engine.DeviceFolder, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a device that reads bundles of at most 1 KiB, and a 2 KiB file in place of
    # its bundle (a file of gigabytes was read whole)
    monkeypatch.setattr(engine.device, "MAX_BUNDLE_BYTES", 1024)
    path = device.folder / "bundle.rbundle"
    path.write_bytes(b"x" * 2048)

    with pytest.raises(engine.BundleRefused, match=r"is not a bundle \(larger than 1 KiB\)"):
        engine.DeviceFolder(device.folder).evaluate(basket(), now=ISSUED)
