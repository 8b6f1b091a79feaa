"""`remise device sync` against a live server, and against downloads that go wrong."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

import engine
from api.cli import app as cli
from rules.bundles import SigningKeys
from tests.store.processes import free_port

from .helpers import ISSUED, bundle_bytes

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def _remise(*args: str) -> tuple[int, str]:
    result = runner.invoke(cli, list(args))
    return result.exit_code, result.stdout + result.stderr


# --- against a real `remise serve` ----------------------------------------------------


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """`remise serve` with the demo rules, polling its database every 0.2 s."""
    monkeypatch.setenv("REMISE_DATA_DIR", str(tmp_path / "server"))
    monkeypatch.setenv("REMISE_POLL_SECONDS", "0.2")
    for name in ("REMISE_DATABASE_URL", "REMISE_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
                               cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: _ready(url) == {"default": 1})
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)


def _ready(url: str) -> dict[str, int] | None:
    try:
        response = httpx.get(f"{url}/readyz")
    except httpx.TransportError:
        return None
    return dict(response.json()["rulesets"]) if response.status_code == 200 else None


def _wait(condition: object, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _not_at_the_turn_of_an_hour() -> None:
    """The server issues bundles per hour: a new hour between two syncs is a new bundle."""
    now = datetime.now(UTC)
    if now.minute == 59 and now.second >= 30:
        time.sleep(61 - now.second)


def test_sync_downloads_then_304_then_the_new_version(server: str, tmp_path: Path) -> None:
    _not_at_the_turn_of_an_hour()
    code, key = _remise("keys", "create", "--role", "device", "--name", "till-paris")
    assert code == 0
    # the operator reads the signing key's id on the server, as docs/devices.md says
    key_id = (tmp_path / "server" / "bundle-keys" / "active").read_text().strip()
    trusted = _remise("device", "trust", "--server", server, "--key", key.strip(), "--dir",
                      str(tmp_path / "till"), "--key-id", key_id)
    assert trusted == (0, f"trusting {key_id}; new: {key_id}\n")
    sync = ("device", "sync", "--server", server, "--key", key.strip(), "--dir",
            str(tmp_path / "till"), "--channel", "pos", "--store", "paris-01")

    first, second = _remise(*sync), _remise(*sync)
    assert first[0] == 0 and "installed: default version 1 for pos paris-01" in first[1]
    assert second[0] == 0 and second[1].startswith("unchanged: default version 1")

    published = _remise("rules", "publish", str(ROOT / "examples/rules"), "-m", "again")
    assert published[0] == 0
    _wait(lambda: _ready(server) == {"default": 2})
    third = _remise(*sync)

    assert third[0] == 0 and "installed: default version 2" in third[1]
    assert engine.DeviceFolder(tmp_path / "till").current(ISSUED) is not None


# --- downloads that go wrong ----------------------------------------------------------


class _Fake(BaseHTTPRequestHandler):
    """Serves one prepared answer for the bundle, possibly cut or stalled halfway."""

    body = b""
    cut = False  # close the connection after half the body
    stall: threading.Event | None = None  # after half the body, wait for this
    halfway: threading.Event  # set once half the body is sent

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.remise.bundle")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        half = len(self.body) // 2
        self.wfile.write(self.body[:half])
        self.wfile.flush()
        self.halfway.set()
        if self.stall is not None:
            self.stall.wait(30)
        if not self.cut and self.stall is None:
            self.wfile.write(self.body[half:])

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[tuple[str, type[_Fake]]]:
    handler = type("Handler", (_Fake,), {"halfway": threading.Event()})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", handler
    finally:
        if handler.stall is not None:
            handler.stall.set()
        httpd.shutdown()


@pytest.fixture
def till(tmp_path: Path) -> engine.DeviceFolder:
    """A device holding a good version 3 of rule set fr, issued now (so still valid)."""
    keys = tmp_path / "keys"
    device = engine.DeviceFolder(tmp_path / "till")
    device.trust(SigningKeys(keys).public_keys())
    now = datetime.now(UTC)
    device.install(bundle_bytes(keys, now=now), now=now, ruleset="fr", channel="pos",
                   store="paris-01")
    return device


def _sync_args(url: str, till: engine.DeviceFolder) -> list[str]:
    return ["device", "sync", "--server", url, "--key", "k", "--dir", str(till.folder),
            "--ruleset", "fr", "--channel", "pos", "--store", "paris-01"]


def test_a_download_cut_halfway_leaves_the_old_bundle(
    fake: tuple[str, type[_Fake]], till: engine.DeviceFolder, tmp_path: Path
) -> None:
    url, handler = fake
    handler.body, handler.cut = bundle_bytes(tmp_path / "keys", version=4), True
    good = (till.folder / "bundle.rbundle").read_bytes()

    code, output = _remise(*_sync_args(url, till))

    assert code == 2
    assert output.startswith(f"error: the exchange with {url} broke off: peer closed "
                             "connection without sending complete message body")
    assert (till.folder / "bundle.rbundle").read_bytes() == good


def test_a_corrupt_download_is_refused_and_the_old_bundle_kept(
    fake: tuple[str, type[_Fake]], till: engine.DeviceFolder, tmp_path: Path
) -> None:
    url, handler = fake
    handler.body = bundle_bytes(tmp_path / "keys", version=4).replace(b'"10"', b'"90"')
    good = (till.folder / "bundle.rbundle").read_bytes()

    code, output = _remise(*_sync_args(url, till))

    assert code == 3
    assert "bundle refused (bad_signature)" in output and "keeping the last good" in output
    assert (till.folder / "bundle.rbundle").read_bytes() == good


def test_a_sync_killed_during_the_download_leaves_the_old_bundle(
    fake: tuple[str, type[_Fake]], till: engine.DeviceFolder, tmp_path: Path
) -> None:
    url, handler = fake
    handler.body, handler.stall = bundle_bytes(tmp_path / "keys", version=4), threading.Event()
    good = (till.folder / "bundle.rbundle").read_bytes()
    process = subprocess.Popen([sys.executable, "-m", "api.cli", *_sync_args(url, till)],
                               cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert handler.halfway.wait(30)  # the client has the headers and half the body
    time.sleep(0.2)

    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)

    assert (till.folder / "bundle.rbundle").read_bytes() == good
    assert sorted(p.name for p in till.folder.iterdir()) == [
        "bundle.rbundle", "state.json", "trusted-keys.json", "write.lock"]
