"""What an operator reads in the log of `remise serve`: remise's own events, each on one
line with its level, as uvicorn writes its own."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.store.processes import free_port

ROOT = Path(__file__).resolve().parents[1]


def _serve_and_stop(data: Path, **settings: str) -> str:
    """Start `remise serve` on a fresh data folder, wait until it is ready, stop it as a
    service manager does (SIGTERM); returns everything it wrote."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("REMISE_")}
    env.update(REMISE_DATA_DIR=str(data), **settings)
    server = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass  # not listening yet
            time.sleep(0.1)
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=15)
    return output


def test_the_log_says_which_version_went_live(tmp_path: Path) -> None:
    # given a fresh data folder, where the server publishes the demo rules
    # when the server starts and stops
    output = _serve_and_stop(tmp_path / "data")

    # then its log says the demo's version went live, at its level as uvicorn's lines
    assert "INFO:     live: default version 1 (28 rules)\n" in output


def test_a_warning_is_written_with_its_level(tmp_path: Path) -> None:
    # given a Redis URL where nothing listens (port 1)
    # when the server starts and stops
    output = _serve_and_stop(tmp_path / "data", REMISE_REDIS_URL="redis://127.0.0.1:1/0",
                             REMISE_REDIS_PREFIX="remise-test-unreachable")

    # then the warning an operator must act on carries its level, on one line
    warned = [line for line in output.splitlines() if "cannot reach Redis" in line]
    assert len(warned) == 1 and warned[0].startswith("WARNING:  cannot reach Redis ("), output
