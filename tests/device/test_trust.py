"""`remise device trust`: a device trusts only the keys whose ids its operator read on the
server; whatever a server lists (a rogue one, a man in the middle) adds nothing else."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

import engine
from rules.bundles import SigningKeys

from .helpers import (
    FakeServer,
    basket,
    bundle_bytes,
    fake_server,
    key_list,
    one_line,
    remise,
)

Server = tuple[str, type[FakeServer]]


@pytest.fixture
def real(tmp_path: Path) -> dict[str, bytes]:
    """The real server's signing key, by id."""
    return SigningKeys(tmp_path / "keys").public_keys()


@pytest.fixture
def rogue(tmp_path: Path) -> dict[str, bytes]:
    """An attacker's signing key, by id."""
    return SigningKeys(tmp_path / "rogue").public_keys()


@pytest.fixture
def server(real: dict[str, bytes]) -> Iterator[Server]:
    with fake_server(real) as answering:
        yield answering


def _trust(url: str, folder: Path, *key_ids: str, insecure: bool = False
           ) -> tuple[int, str]:
    return remise("device", "trust", "--server", url, "--key", "k", "--dir", str(folder),
                  *[arg for key_id in key_ids for arg in ("--key-id", key_id)],
                  *(["--insecure"] if insecure else []))


def test_only_the_listed_keys_whose_ids_are_given_are_trusted(
    server: Server, real: dict[str, bytes], rogue: dict[str, bytes], tmp_path: Path
) -> None:
    # given a server listing its key and another one
    url, handler = server
    handler.keys = key_list({**real, **rogue})
    (real_id,) = real

    # when the device is told to trust the real key's id
    code, output = _trust(url, tmp_path / "till", real_id)

    # then it trusts that key alone
    assert (code, output) == (0, f"trusting {real_id}; new: {real_id}\n")
    assert engine.DeviceFolder(tmp_path / "till").trusted_keys() == real


def test_a_key_listed_under_an_id_that_is_not_its_own_is_refused(
    server: Server, real: dict[str, bytes], rogue: dict[str, bytes], tmp_path: Path
) -> None:
    # given a man in the middle listing its own key under the real key's id
    url, handler = server
    (real_id,), (rogue_key,) = real, rogue.values()
    handler.keys = key_list({real_id: rogue_key})

    code, output = _trust(url, tmp_path / "till", real_id)

    # then nothing is trusted
    assert code == 3 and "does not match its public key" in one_line(output)
    assert engine.DeviceFolder(tmp_path / "till").trusted_keys() == {}


def test_an_id_the_server_does_not_list_trusts_no_key_at_all(
    server: Server, real: dict[str, bytes], rogue: dict[str, bytes], tmp_path: Path
) -> None:
    # given a server listing the real key only; when told to trust it and another id
    url, _ = server
    (real_id,), (rogue_id,) = real, rogue

    code, output = _trust(url, tmp_path / "till", real_id, rogue_id)

    # then it says which id is missing, and trusts neither
    assert code == 3 and f"the server does not list key {rogue_id}" in one_line(output)
    assert engine.DeviceFolder(tmp_path / "till").trusted_keys() == {}


@pytest.mark.parametrize("written", ["{}", "sha256:{}", "SHA256:{}"])
def test_a_key_is_trusted_by_its_whole_fingerprint(
    server: Server, real: dict[str, bytes], rogue: dict[str, bytes], tmp_path: Path,
    written: str,
) -> None:
    # given a server listing its key and another one
    url, handler = server
    handler.keys = key_list({**real, **rogue})
    (real_id, real_key), = real.items()

    # when the device is given the real key's whole SHA-256, as `bundle-keys list` prints
    fingerprint = hashlib.sha256(real_key).hexdigest()
    code, output = _trust(url, tmp_path / "till", written.format(fingerprint))

    # then it trusts that key alone, named by its id
    assert (code, output) == (0, f"trusting {real_id}; new: {real_id}\n")
    assert engine.DeviceFolder(tmp_path / "till").trusted_keys() == real


def test_a_key_whose_id_matches_but_fingerprint_does_not_is_refused(
    server: Server, real: dict[str, bytes], tmp_path: Path
) -> None:
    # given the fingerprint of a forged key that shares the real key's 64-bit id
    url, _ = server
    (real_id, real_key), = real.items()
    actual = hashlib.sha256(real_key).hexdigest()
    forged = real_id + ("0" if actual[16] != "0" else "1") + actual[17:]

    # when the device is told to trust the forged fingerprint
    code, output = _trust(url, tmp_path / "till", forged)

    # then the key the server lists is not the one meant: nothing is trusted
    assert code == 3
    assert one_line(output) == (
        f"error: the key the server lists as {real_id} has the fingerprint sha256:{actual}, "
        f"not sha256:{forged}: nothing trusted; check the fingerprint, and that this is "
        "your server")
    assert engine.DeviceFolder(tmp_path / "till").trusted_keys() == {}


def test_a_key_list_larger_than_any_server_s_is_refused_unread(
    server: Server, real: dict[str, bytes], tmp_path: Path
) -> None:
    # given whoever answers in the server's place sending a 2 MiB "key list"
    url, handler = server
    handler.keys = (200, {"Content-Type": "application/json"},
                    b'{"keys": [' + b"0," * 2**20 + b"0]}")
    (real_id,) = real

    # when the device is told to trust the real key's id
    code, output = _trust(url, tmp_path / "till", real_id)

    # then it stops reading at 1 MiB, says so in one line, and trusts nothing
    assert code == 2
    assert one_line(output) == f"error: {url} sent more than 1 MiB: refused"
    assert engine.DeviceFolder(tmp_path / "till").trusted_keys() == {}


@pytest.mark.parametrize(("key_ids", "said"), [
    ((), "give --key-id"),
    (("paris-01",), "'paris-01' is not a key id"),
    (("4753a336",), "'4753a336' is not a key id"),
])
def test_trust_needs_well_formed_key_ids(server: Server, tmp_path: Path,
                                         key_ids: tuple[str, ...], said: str) -> None:
    code, output = _trust(server[0], tmp_path / "till", *key_ids)

    assert code == 2 and said in one_line(output)
    assert engine.DeviceFolder(tmp_path / "till").trusted_keys() == {}


def test_sync_on_a_device_trusting_no_key_trusts_and_installs_nothing(
    server: Server, rogue: dict[str, bytes], tmp_path: Path
) -> None:
    # given a rogue server listing its own key and serving its "version 999" bundle
    url, handler = server
    handler.keys = key_list(rogue)
    now = datetime.now(UTC)
    handler.bundle = (200, {}, bundle_bytes(tmp_path / "rogue", version=999, now=now))

    # when a new device syncs before trusting any key
    code, output = remise("device", "sync", "--server", url, "--key", "k", "--dir",
                          str(tmp_path / "till"), "--ruleset", "fr", "--store", "paris-01")

    # then it says how to trust the real key, and neither trusts nor installs anything
    assert code == 3 and "run `remise device trust --key-id ID` first" in one_line(output)
    device = engine.DeviceFolder(tmp_path / "till")
    assert device.trusted_keys() == {} and device.current(now) is None


# --- plain http --------------------------------------------------------------------------


def _this_machine_on_the_network() -> str:
    """An address of this machine other than loopback (its default route's), or a skip."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # UDP: picks a route, sends nothing
        except OSError:
            pytest.skip("this machine has no network address but loopback")
        address = str(probe.getsockname()[0])
    if ipaddress.ip_address(address).is_loopback:
        pytest.skip("this machine has no network address but loopback")
    return address


@pytest.fixture
def lan_server(real: dict[str, bytes]) -> Iterator[Server]:
    """The real server's keys, answered over plain http at a network address."""
    with fake_server(real, host=_this_machine_on_the_network()) as answering:
        yield answering


def test_trust_refuses_plain_http_to_another_machine(
    lan_server: Server, real: dict[str, bytes], tmp_path: Path
) -> None:
    code, output = _trust(lan_server[0], tmp_path / "till", *real)

    assert code == 2 and "refusing plain http" in one_line(output)
    assert engine.DeviceFolder(tmp_path / "till").trusted_keys() == {}


def test_sync_refuses_plain_http_to_another_machine(
    lan_server: Server, real: dict[str, bytes], tmp_path: Path
) -> None:
    # given a till holding version 3; when a newer version is offered over plain http
    url, handler = lan_server
    device = engine.DeviceFolder(tmp_path / "till")
    device.trust(real)
    now = datetime.now(UTC)
    device.install(bundle_bytes(tmp_path / "keys", now=now), now=now, ruleset="fr",
                   channel="pos", store="paris-01")
    handler.bundle = (200, {}, bundle_bytes(tmp_path / "keys", version=4, now=now))

    code, output = remise("device", "sync", "--server", url, "--key", "k", "--dir",
                          str(device.folder), "--ruleset", "fr", "--store", "paris-01")

    # then it refuses before sending its key, and keeps version 3
    assert code == 2 and "refusing plain http" in one_line(output)
    assert device.current(now).header.version == 3  # type: ignore[union-attr]


def test_insecure_allows_plain_http_to_another_machine(
    lan_server: Server, real: dict[str, bytes], tmp_path: Path
) -> None:
    code, _ = _trust(lan_server[0], tmp_path / "till", *real, insecure=True)

    assert code == 0 and engine.DeviceFolder(tmp_path / "till").trusted_keys() == real


@pytest.mark.parametrize("address", ["remise.example", "ftp://remise.example", "https://"])
def test_a_server_address_that_is_not_http_is_refused(tmp_path: Path, address: str,
                                                      real: dict[str, bytes]) -> None:
    code, output = _trust(address, tmp_path / "till", *real)

    assert code == 2 and "is not an https:// address" in one_line(output)


# --- untrust -----------------------------------------------------------------------------


@pytest.fixture
def till(tmp_path: Path, real: dict[str, bytes], rogue: dict[str, bytes]) -> Path:
    """A till trusting the real key and another, holding a bundle the real key signed."""
    device = engine.DeviceFolder(tmp_path / "till")
    device.trust({**real, **rogue})
    now = datetime.now(UTC)
    device.install(bundle_bytes(tmp_path / "keys", now=now), now=now, ruleset="fr",
                   channel="pos", store="paris-01")
    return device.folder


def test_a_key_untrusted_no_longer_verifies_its_bundles(
    till: Path, real: dict[str, bytes], rogue: dict[str, bytes], tmp_path: Path
) -> None:
    # given the real key leaked; when the till stops trusting it
    (real_id,), (other_id,) = real, rogue
    code, output = remise("device", "untrust", "--dir", str(till), "--key-id", real_id)

    # then the bundle it signed is refused, and the other key is still trusted
    assert (code, output.splitlines()[0]) == (
        0, f"no longer trusting {real_id}; trusted keys: {other_id}")
    (tmp_path / "basket.json").write_text(json.dumps(basket()))
    code, output = remise("device", "evaluate", "--dir", str(till), "--basket",
                          str(tmp_path / "basket.json"))
    assert code == 3 and "which this device does not trust" in one_line(output)


def test_untrusting_a_key_not_trusted_is_one_line_and_removes_nothing(
    till: Path, real: dict[str, bytes], rogue: dict[str, bytes]
) -> None:
    code, output = remise("device", "untrust", "--dir", str(till), "--key-id",
                          "0123456789abcdef", "--key-id", next(iter(real)))

    assert code == 3 and "does not trust key 0123456789abcdef" in one_line(output)
    assert engine.DeviceFolder(till).trusted_keys() == {**real, **rogue}


def test_untrusting_the_key_of_the_installed_bundle_warns_that_the_till_stops_pricing(
    till: Path, real: dict[str, bytes], rogue: dict[str, bytes]
) -> None:
    (real_id,), (other_id,) = real, rogue

    code, output = remise("device", "untrust", "--dir", str(till), "--key-id", real_id)

    assert (code, output.splitlines()) == (0, [
        f"no longer trusting {real_id}; trusted keys: {other_id}",
        f"warning: the installed bundle was signed by {real_id}: this device refuses to price "
        "until `remise device sync` installs one signed by a key it trusts"])


def test_untrusting_another_key_leaves_the_till_pricing_without_a_warning(
    till: Path, real: dict[str, bytes], rogue: dict[str, bytes]
) -> None:
    (real_id,), (other_id,) = real, rogue

    code, output = remise("device", "untrust", "--dir", str(till), "--key-id", other_id)

    assert (code, output) == (0, f"no longer trusting {other_id}; trusted keys: {real_id}\n")
